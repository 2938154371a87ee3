# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each vendor's transport hooks (rate-limit header, error body, trace id), through a real transport and local server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import cloudforce_one, errors, falcon, unit21
from ansible_collections.caseops.desk.plugins.module_utils.transport import RetryPolicy, Transport
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

NOW = 1800000000.0
VENDORS = {"falcon": falcon, "cloudforce_one": cloudforce_one, "unit21": unit21}


class Clock:
    def __init__(self):
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(round(seconds, 3))


def make_transport(server, vendor, clock):
    retry = RetryPolicy(max_attempts=3, max_total_seconds=120.0, sleep=clock.sleep, clock=lambda: 0.0,
                        wall_clock=lambda: NOW, jitter=lambda: 0.0)
    return Transport(server.url, vendor, retry=retry, hooks=VENDORS[vendor].API_HOOKS)


@pytest.mark.parametrize("vendor, headers, expected_wait", [
    ("falcon", {"X-RateLimit-RetryAfter": str(int(NOW) + 9)}, 9.0),         # epoch seconds
    ("falcon", {"X-RateLimit-RetryAfter": str(int(NOW + 4) * 1000)}, 4.0),  # the spec's milliseconds reading
    ("unit21", {"X-RateLimit-Reset": str(int(NOW) + 3)}, 3.0),               # epoch of the window reset
    ("cloudforce_one", {"Ratelimit": '"default";r=0;t=11'}, 11.0),           # seconds until the window resets
    # Retry-After is HTTP's own and wins for everyone.
    ("falcon", {"Retry-After": "2", "X-RateLimit-RetryAfter": str(int(NOW) + 9)}, 2.0),
    ("unit21", {"Retry-After": "2", "X-RateLimit-Reset": str(int(NOW) + 3)}, 2.0),
    ("cloudforce_one", {"Retry-After": "2", "Ratelimit": '"default";r=0;t=11'}, 2.0),
])
def test_each_vendor_429_waits_as_its_header_asks(server, vendor, headers, expected_wait):
    clock = Clock()
    server.script = [Answer(429, {}, headers), Answer(200, {"ok": True})]
    assert make_transport(server, vendor, clock).request("GET", "/limited").json() == {"ok": True}
    assert clock.slept == [pytest.approx(expected_wait, abs=0.01)]


@pytest.mark.parametrize("vendor, foreign", [
    ("falcon", {"X-RateLimit-Reset": str(int(NOW) + 30)}),
    ("falcon", {"Ratelimit": '"default";r=0;t=30'}),
    ("unit21", {"X-RateLimit-RetryAfter": str(int(NOW) + 30)}),
    ("unit21", {"Ratelimit": '"default";r=0;t=30'}),
    ("cloudforce_one", {"X-RateLimit-RetryAfter": str(int(NOW) + 30)}),
    ("cloudforce_one", {"X-RateLimit-Reset": str(int(NOW) + 30)}),
])
def test_another_vendors_header_is_not_read(server, vendor, foreign):
    clock = Clock()
    server.script = [Answer(429, {}, foreign), Answer(200, {"ok": True})]
    make_transport(server, vendor, clock).request("GET", "/limited")
    assert clock.slept == [0.25]  # the first backoff step, not the 30 s the foreign header says


@pytest.mark.parametrize("vendor, header", [
    ("falcon", {"X-RateLimit-RetryAfter": str(int(NOW) + 9)}),
    ("unit21", {"X-RateLimit-Reset": str(int(NOW) + 3)}),
    ("cloudforce_one", {"Ratelimit": '"default";r=0;t=11'}),
])
def test_vendor_rate_headers_count_only_on_429(server, vendor, header):
    clock = Clock()
    server.script = [Answer(503, {}, header), Answer(200, {"ok": True})]
    make_transport(server, vendor, clock).request("GET", "/busy")
    assert clock.slept == [0.25]


@pytest.mark.parametrize("vendor, status, body, headers, expected, trace", [
    ("falcon", 403, {"meta": {"trace_id": "f-1"}, "errors": [{"code": 403, "message": "access denied"}]}, {},
     "[403] access denied", "f-1"),
    ("falcon", 400, {"meta": {"trace_id": "in-body"}, "errors": [{"code": 400, "message": "bad filter"}]},
     {"X-Cs-Traceid": "in-header"}, "[400] bad filter", "in-header"),
    ("cloudforce_one", 400, {"success": False, "errors": [{"code": 6003, "message": "Invalid request headers",
                                                          "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}]}],
                             "messages": [], "result": None}, {"Cf-Ray": "8f2c-SJC"},
     "[6003] Invalid request headers ([6111] Invalid format for Authorization header)", "8f2c-SJC"),
    ("unit21", 409, {"error_code": "conflict", "message": "Case already exists"}, {}, "[conflict] Case already exists", None),
    ("unit21", 400, {"message": "Unexpected field"}, {"X-Request-Id": "req-7"}, "HTTP 400: Unexpected field", "req-7"),
])
def test_each_vendor_error_shape_is_described(server, vendor, status, body, headers, expected, trace):
    server.script = [Answer(status, body, headers)]
    with pytest.raises(errors.ApiError) as caught:
        make_transport(server, vendor, Clock()).request("GET", "/x")
    assert expected in caught.value.msg
    assert caught.value.trace_id == trace
    assert caught.value.status == status
    assert caught.value.errors and "body" not in caught.value.details  # parsed, so the raw body is not repeated


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_a_body_no_vendor_shape_matches_is_shown_redacted(server, vendor):
    secret = "EchoedSecret0123456789"
    server.script = [Answer(400, raw=b"<html>proxy says " + secret.encode() + b"</html>", headers={"Content-Type": "text/html"})]
    transport = make_transport(server, vendor, Clock())
    transport.add_secret(secret)
    with pytest.raises(errors.ApiError) as caught:
        transport.request("GET", "/x")
    assert "Bad Request" in caught.value.msg
    assert caught.value.details["body"] == "<html>proxy says %s</html>" % errors.REDACTED


def test_the_transport_module_names_no_vendor():
    """The rules live with the clients: no vendor, header or body shape of theirs is spelled in transport.py."""
    from ansible_collections.caseops.desk.plugins.module_utils import transport
    with open(transport.__file__) as handle:
        source = handle.read().lower()
    for word in ("falcon", "crowdstrike", "cloudflare", "cloudforce", "unit21", "x-ratelimit", "ratelimit:", "cf-ray",
                 "x-cs-traceid", "x-request-id", "error_code", "error_chain", '"meta"', "u21-key"):
        assert word not in source, word


@pytest.mark.parametrize("vendor, params", [
    ("falcon", dict(falcon_client_id="id", falcon_client_secret="secret-value", falcon_base_url="https://f.example")),
    ("cloudforce_one", dict(cloudflare_account_id="023e105f4ecef8ad9ca31a8372d0c353", cloudflare_api_token="token-value",
                            cloudflare_base_url="https://c.example")),
    ("unit21", dict(unit21_api_key="key-value", unit21_base_url="https://u.example")),
])
def test_each_client_builds_its_transport_with_its_hooks_and_shares_its_redactor(vendor, params):
    client = VENDORS[vendor].client_from_params(params)
    assert client.transport.hooks is VENDORS[vendor].API_HOOKS
    assert client.redact is client.transport.redact
    secret = [value for name, value in params.items() if name.endswith(("secret", "token", "key"))][0]
    assert client.redact("x %s y" % secret) == "x %s y" % errors.REDACTED


def test_falcon_client_says_which_base_url_it_uses():
    client = falcon.client_from_params(dict(falcon_client_id="id", falcon_client_secret="s", falcon_cloud="eu-1"))
    assert client.base_url == "https://api.eu-1.crowdstrike.com"
    client.transport.base_url = "https://api.us-2.crowdstrike.com"  # as autodiscovery moves it
    assert client.base_url == "https://api.us-2.crowdstrike.com"
