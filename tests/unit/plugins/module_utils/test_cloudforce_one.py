# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudforceOneClient: both auth styles, the envelope, errors, configuration checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import cloudforce_one, errors
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "UnitTestCloudflareToken0000000000000000"
KEY = "0123456789abcdef0123456789abcdef01234"


def client(server, **params):
    base = dict(cloudflare_base_url=server.url, cloudflare_account_id=ACCOUNT, max_retries=0)
    base.update(params)
    return cloudforce_one.client_from_params(base)


def ok(result):
    return Answer(200, {"success": True, "errors": [], "messages": [], "result": result})


def test_token_auth_and_account_path(server):
    server.script = [ok({"quota": 120, "remaining": 64})]
    assert client(server, cloudflare_api_token=TOKEN).quota() == {"quota": 120, "remaining": 64}
    sent = server.requests[0]
    assert sent["path"] == "/client/v4/accounts/%s/cloudforce-one/requests/quota" % ACCOUNT
    assert sent["headers"]["Authorization"] == "Bearer " + TOKEN
    assert "X-Auth-Key" not in sent["headers"]


def test_global_key_auth(server):
    server.script = [ok(["Victomology"])]
    assert client(server, cloudflare_email="analyst@example.com", cloudflare_api_key=KEY).request_types() == ["Victomology"]
    headers = server.requests[0]["headers"]
    assert headers["X-Auth-Email"] == "analyst@example.com" and headers["X-Auth-Key"] == KEY
    assert "Authorization" not in headers


@pytest.mark.parametrize("given, expected", [
    (None, "https://api.cloudflare.com/client/v4"),
    ("https://api.cloudflare.com", "https://api.cloudflare.com/client/v4"),
    ("https://gw.example.com/client/v4/", "https://gw.example.com/client/v4"),
])
def test_base_url_is_normalized(given, expected):
    assert cloudforce_one.normalize_base_url(given) == expected


@pytest.mark.parametrize("params, message", [
    (dict(cloudflare_account_id=None, cloudflare_api_token=TOKEN), "cloudflare_account_id is required"),
    (dict(cloudflare_account_id="acct-1", cloudflare_api_token=TOKEN), "32 hexadecimal characters"),
    (dict(cloudflare_account_id=ACCOUNT), "Cloudflare credentials are missing"),
    (dict(cloudflare_account_id=ACCOUNT, cloudflare_email="a@example.com"), "go together"),
    (dict(cloudflare_account_id=ACCOUNT, cloudflare_api_token=""), "Cloudflare credentials are missing"),
])
def test_configuration_is_checked_before_any_request(server, params, message):
    with pytest.raises(errors.CaseopsError) as caught:
        cloudforce_one.client_from_params(dict(params, cloudflare_base_url=server.url))
    assert message in caught.value.msg
    assert server.requests == []


def test_permission_error_says_which_permission(server):
    server.script = [Answer(403, {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}],
                                  "messages": [], "result": None}, {"Cf-Ray": "8f00aa-SJC"})]
    with pytest.raises(errors.AccessDeniedError) as caught:
        client(server, cloudflare_api_token=TOKEN).quota()
    assert "[10000] Authentication error" in caught.value.msg
    assert "Cloudforce One Write" in caught.value.msg
    assert caught.value.trace_id == "8f00aa-SJC"
    assert TOKEN not in repr(caught.value.to_fail_kwargs())


def test_success_false_with_http_200_is_an_error(server):
    server.script = [Answer(200, {"success": False, "errors": [{"code": 1000, "message": "odd"}], "messages": [], "result": None})]
    with pytest.raises(errors.ApiError) as caught:
        client(server, cloudflare_api_token=TOKEN).constants()
    assert "[1000] odd" in caught.value.msg


def test_rate_limit_is_retried_with_retry_after(server):
    server.script = [Answer(429, {"success": False, "errors": [{"code": 971, "message": "Please wait"}]}, {"Retry-After": "0"}),
                     ok({"quota": 1})]
    assert client(server, cloudflare_api_token=TOKEN, max_retries=1).quota() == {"quota": 1}
    assert len(server.requests) == 2
