# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transport against a real local HTTP server: retries, hints, create safety, redaction.

The transport knows no vendor; these tests hand it a neutral ``ApiHooks``
(errors as ``{"errors": [{"code", "message"}]}``).  Each vendor's own hooks are
tested in test_vendor_hooks.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import http.server
import os
import socket
import ssl
import subprocess
import threading

import pytest
import yaml

from ansible_collections.caseops.desk.plugins.module_utils import errors
from ansible_collections.caseops.desk.plugins.module_utils.transport import (
    COLLECTION_VERSION,
    ApiHooks,
    RetryPolicy,
    Transport,
)
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

NOW = 1800000000.0  # a fixed wall clock: 2027-01-15


class Clock:
    """Monotonic and wall clock that only move when the transport 'sleeps'."""

    def __init__(self):
        self.slept = []
        self.mono = 0.0

    def sleep(self, seconds):
        self.slept.append(round(seconds, 3))
        self.mono += seconds

    def monotonic(self):
        return self.mono

    def wall(self):
        return NOW + self.mono


def parse_error_list(response):
    try:
        body = response.json()
    except ValueError:
        return None, []
    entries = [e for e in (body.get("errors") or []) if isinstance(e, dict)] if isinstance(body, dict) else []
    return errors.describe_errors(entries) or None, entries


TEST_HOOKS = ApiHooks(parse_error=parse_error_list)


def make_transport(server, clock, attempts=5, budget=120.0, **kwargs):
    retry = RetryPolicy(max_attempts=attempts, max_total_seconds=budget, sleep=clock.sleep, clock=clock.monotonic,
                        wall_clock=clock.wall, jitter=lambda: 0.0)
    kwargs.setdefault("hooks", TEST_HOOKS)
    return Transport(server.url, "Test", retry=retry, **kwargs)


@pytest.fixture
def clock():
    return Clock()


def test_success_returns_body_and_sends_user_agent(server, clock):
    server.script = [Answer(200, {"ok": True})]
    reply = make_transport(server, clock).request("GET", "/things")
    assert reply.json() == {"ok": True}
    agent = server.requests[0]["headers"]["User-Agent"]
    assert agent.startswith("caseops.desk/%s " % COLLECTION_VERSION)
    assert clock.slept == []


def test_user_agent_version_matches_galaxy_yml():
    here = os.path.dirname(__file__)
    with open(os.path.join(here, "..", "..", "..", "..", "galaxy.yml")) as handle:
        assert yaml.safe_load(handle)["version"] == COLLECTION_VERSION


@pytest.mark.parametrize("headers, expected_wait", [
    ({"Retry-After": "7"}, 7.0),
    ({"Retry-After": email.utils.formatdate(NOW + 12, usegmt=True)}, 12.0),
])
def test_429_waits_as_long_as_the_server_asks(server, clock, headers, expected_wait):
    server.script = [Answer(429, {"errors": []}, headers), Answer(200, {"ok": True})]
    reply = make_transport(server, clock).request("GET", "/limited")
    assert reply.json() == {"ok": True}
    assert len(server.requests) == 2
    assert clock.slept == [pytest.approx(expected_wait, abs=0.01)]


@pytest.mark.parametrize("status", [423, 502, 503, 504])
def test_retryable_statuses_back_off_exponentially(server, clock, status):
    server.script = [Answer(status), Answer(status), Answer(status), Answer(200, {"ok": 1})]
    make_transport(server, clock).request("GET", "/busy")
    # jitter 0 -> half the ceiling: 0.5*2^(n-1)/2
    assert clock.slept == [0.25, 0.5, 1.0]
    assert len(server.requests) == 4


def test_gives_up_after_max_attempts(server, clock):
    server.script = [Answer(429, {"errors": [{"code": 429, "message": "slow down"}]}, {"Retry-After": "1"})]
    with pytest.raises(errors.RateLimitError) as caught:
        make_transport(server, clock, attempts=3).request("GET", "/limited")
    assert len(server.requests) == 3
    assert "Gave up after 3 attempts" in caught.value.msg
    assert "slow down" in caught.value.msg
    assert caught.value.status == 429


def test_a_wait_longer_than_the_budget_fails_at_once(server, clock):
    server.script = [Answer(429, {}, {"Retry-After": "300"})]
    with pytest.raises(errors.RateLimitError) as caught:
        make_transport(server, clock, budget=60).request("GET", "/limited")
    assert len(server.requests) == 1
    assert clock.slept == []
    assert "asked to wait 300.0 s" in caught.value.msg


def test_client_errors_are_not_retried(server, clock):
    server.script = [Answer(400, {"errors": [{"code": 400, "message": "bad filter"}]})]
    with pytest.raises(errors.ApiError) as caught:
        make_transport(server, clock).request("GET", "/q")
    assert len(server.requests) == 1
    assert caught.value.status == 400


@pytest.mark.parametrize("vendor_message, expected", [
    ("bad filter", "returned HTTP 400: [400] bad filter."),
    ("You do not have access to this resource.", "returned HTTP 400: [400] You do not have access to this resource. "),
])
def test_an_error_message_ends_one_sentence_once(server, clock, vendor_message, expected):
    server.script = [Answer(400, {"errors": [{"code": 400, "message": vendor_message}]})]
    with pytest.raises(errors.ApiError) as caught:
        make_transport(server, clock).request("GET", "/q")
    assert expected.strip() in caught.value.msg
    assert ".." not in caught.value.msg


def test_create_is_not_replayed_after_a_dropped_connection(server, clock):
    server.script = [Answer(drop=True), Answer(200, {"id": "second"})]
    with pytest.raises(errors.AmbiguousWriteError) as caught:
        make_transport(server, clock).request("POST", "/things/new", json_body={"title": "x"})
    assert len(server.requests) == 1
    assert "not sent again" in caught.value.msg


def test_create_recovers_the_object_instead_of_sending_again(server, clock):
    server.script = [Answer(drop=True), Answer(200, {"id": "duplicate"})]
    lookups = []

    def recover():
        lookups.append(1)
        return {"id": "first"}

    reply = make_transport(server, clock).request("POST", "/things/new", json_body={"title": "x"}, recover=recover)
    assert reply.is_recovered and reply.recovered == {"id": "first"}
    assert len(server.requests) == 1
    assert lookups == [1]


def test_create_is_sent_again_when_the_lookup_finds_nothing(server, clock):
    server.script = [Answer(drop=True), Answer(200, {"id": "created"})]
    reply = make_transport(server, clock).request("POST", "/things/new", json_body={"title": "x"}, recover=lambda: None)
    assert reply.json() == {"id": "created"}
    assert len(server.requests) == 2


def test_create_after_gateway_error_looks_up_first(server, clock):
    server.script = [Answer(502), Answer(200, {"id": "dup"})]
    reply = make_transport(server, clock).request("POST", "/things/new", json_body={}, recover=lambda: {"id": "found"})
    assert reply.recovered == {"id": "found"}
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [423, 429, 503])
def test_create_is_retried_when_the_server_says_it_did_not_act(server, clock, status):
    server.script = [Answer(status, {}, {"Retry-After": "1"}), Answer(200, {"id": "new"})]

    def recover():
        raise AssertionError("no lookup is needed: the server said it did not act")

    reply = make_transport(server, clock).request("POST", "/things/new", json_body={}, recover=recover)
    assert reply.json() == {"id": "new"}
    assert len(server.requests) == 2


def test_replay_safe_post_is_sent_again_after_a_drop(server, clock):
    server.script = [Answer(drop=True), Answer(200, {"resources": []})]
    reply = make_transport(server, clock).request("POST", "/entities/GET", json_body={"ids": ["a"]}, replay_safe=True)
    assert reply.json() == {"resources": []}
    assert len(server.requests) == 2


def test_read_timeout_on_a_create_is_ambiguous(server, clock):
    server.script = [Answer(200, {"id": "late"}, delay=1.5)]
    transport = make_transport(server, clock, timeout=0.5)
    with pytest.raises(errors.AmbiguousWriteError) as caught:
        transport.request("POST", "/things/new", json_body={})
    assert "timed out" in caught.value.msg
    assert len(server.requests) == 1


def test_refused_connection_is_retried_then_reported(clock):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now

    class Closed:
        url = "http://127.0.0.1:%d" % port

    with pytest.raises(errors.TransportError) as caught:
        make_transport(Closed, clock, attempts=3).request("POST", "/things/new", json_body={})
    assert "connection failed" in caught.value.msg
    assert "Gave up after 3 attempts" in caught.value.msg
    assert len(clock.slept) == 2


def test_unresolvable_host_fails_without_retry(clock):
    class Nowhere:
        url = "http://caseops-desk-test.invalid"

    with pytest.raises(errors.TransportError) as caught:
        make_transport(Nowhere, clock).request("GET", "/x")
    assert not isinstance(caught.value, errors.AmbiguousWriteError)
    assert clock.slept == []


def test_secrets_never_appear_in_errors(server, clock):
    secret = "s3cr3t-Token-Value-42"
    server.script = [Answer(400, {"errors": [{"code": 400, "message": "bad token %s" % secret}]},
                            {"X-Echo": secret})]
    transport = make_transport(server, clock, secrets=[secret])
    with pytest.raises(errors.ApiError) as caught:
        transport.request("GET", "/x", headers={"Authorization": "Bearer " + secret})
    assert server.requests[0]["headers"]["Authorization"] == "Bearer " + secret  # it was sent...
    failure = caught.value.to_fail_kwargs()
    assert secret not in repr(failure)  # ...but is nowhere in what the user sees
    assert errors.REDACTED in failure["msg"]


def test_unparsed_error_body_is_redacted_too(server, clock):
    secret = "another-secret-value"
    server.script = [Answer(500, raw=("upstream said " + secret).encode(), headers={"Content-Type": "text/plain"})]
    transport = make_transport(server, clock, attempts=1, secrets=[secret])
    with pytest.raises(errors.ServerError) as caught:
        transport.request("GET", "/x")
    assert secret not in repr(caught.value.to_fail_kwargs())


def test_tls_settings_reach_the_session(server, clock):
    assert make_transport(server, clock).session.verify is True
    assert make_transport(server, clock, validate_certs=False).session.verify is False
    assert make_transport(server, clock, ca_path="/etc/corp-ca.pem").session.verify == "/etc/corp-ca.pem"


def test_replayed_flag_marks_answers_to_replays(server, clock):
    server.script = [Answer(drop=True), Answer(404, {"errors": [{"code": 404, "message": "gone"}]})]
    with pytest.raises(errors.NotFoundError) as caught:
        make_transport(server, clock).request("DELETE", "/things/1")
    assert caught.value.replayed is True


def test_proxy_comes_from_the_environment(server, clock, monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    server.script = [Answer(200, {"via": "proxy"})]

    class Remote:
        url = "http://api.caseops-desk-test.invalid"

    assert make_transport(Remote, clock).request("GET", "/things").json() == {"via": "proxy"}
    # A proxy receives the absolute URL in the request line.
    assert server.requests[0]["path"] == "http://api.caseops-desk-test.invalid/things"


def test_a_404_after_a_gateway_error_on_delete_is_marked_replayed(server, clock):
    server.script = [Answer(504), Answer(404, {"errors": [{"code": 404, "message": "gone"}]})]
    with pytest.raises(errors.NotFoundError) as caught:
        make_transport(server, clock).request("DELETE", "/things/1")
    assert caught.value.replayed is True


def test_a_404_after_a_rate_limit_is_not_a_replay(server, clock):
    server.script = [Answer(429, {}, {"Retry-After": "0"}), Answer(404, {"errors": [{"code": 404, "message": "gone"}]})]
    with pytest.raises(errors.NotFoundError) as caught:
        make_transport(server, clock).request("DELETE", "/things/1")
    assert caught.value.replayed is False


def test_the_retry_hint_hook_is_asked_only_without_retry_after(server, clock):
    asked = []

    def retry_hint(response, now):
        asked.append((response.status_code, response.headers.get("X-Wait"), now))
        return float(response.headers.get("X-Wait") or 0) or None

    hooks = ApiHooks(retry_hint=retry_hint)
    server.script = [Answer(429, {}, {"X-Wait": "6"}), Answer(429, {}, {"Retry-After": "2", "X-Wait": "9"}), Answer(200, {})]
    make_transport(server, clock, hooks=hooks).request("GET", "/limited")
    assert clock.slept == [6.0, 2.0]
    assert asked == [(429, "6", NOW)]


def test_without_hooks_the_reason_and_the_body_are_shown(server, clock):
    server.script = [Answer(400, {"errors": [{"code": 1, "message": "not parsed"}]})]
    with pytest.raises(errors.ApiError) as caught:
        make_transport(server, clock, hooks=None).request("GET", "/q")
    assert "returned HTTP 400: Bad Request." in caught.value.msg
    assert "not parsed" in caught.value.details["body"]
    assert caught.value.trace_id is None


@pytest.mark.parametrize("offset", [990, 995, 999])
def test_an_error_body_is_redacted_before_it_is_cut(server, clock, offset):
    secret = "StraddlingSecret0123456789"
    server.script = [Answer(500, raw=("x" * offset + secret + "y" * 3000).encode(), headers={"Content-Type": "text/plain"})]
    with pytest.raises(errors.ServerError) as caught:
        make_transport(server, clock, attempts=1, secrets=[secret]).request("GET", "/x")
    body = caught.value.details["body"]
    assert len(body) == 1000
    assert secret[:4] not in body and body.startswith("x" * offset + errors.REDACTED[:1000 - offset])


def test_a_success_body_that_is_not_json_is_redacted_before_it_is_cut(server, clock):
    secret = "StraddlingSecret0123456789"
    server.script = [Answer(200, raw=("x" * 495 + secret + "y" * 600).encode(), headers={"Content-Type": "text/html"})]
    reply = make_transport(server, clock, secrets=[secret]).request("GET", "/x")
    with pytest.raises(errors.TransportError) as caught:
        reply.json()
    assert secret[:5] not in caught.value.details["body"]
    assert len(caught.value.details["body"]) == 500


@pytest.mark.parametrize("secret", ["Unit21Key0123456789\n", "Cloudflare\rToken0123", "  Falcon\tSecret0123"])
def test_a_header_value_requests_refuses_is_not_echoed(server, clock, secret):
    """The original leak: requests quotes a refused header value as its repr ('key\\n'), which no plain match finds."""
    with pytest.raises(errors.TransportError) as caught:
        make_transport(server, clock, secrets=[secret]).request("GET", "/x", headers={"u21-key": secret})
    failure = repr(caught.value.to_fail_kwargs())
    assert "header value" in caught.value.msg
    assert secret.strip()[:8] not in failure
    assert server.requests == []


def test_https_to_a_plain_http_port_says_so(server, clock):

    class PlainHttp:
        url = server.url.replace("http://", "https://")

    for validate in (True, False):
        with pytest.raises(errors.TransportError) as caught:
            make_transport(PlainHttp, clock, validate_certs=validate).request("GET", "/x")
        assert "answered in plain HTTP" in caught.value.msg
        assert "use an http:// base URL" in caught.value.msg
        assert PlainHttp.url in caught.value.msg
        assert "verification" not in caught.value.msg and "ca_path" not in caught.value.msg
        assert not isinstance(caught.value, errors.AmbiguousWriteError)


def test_https_to_a_port_that_speaks_neither_blames_the_handshake_not_the_certificate(clock):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _address = listener.accept()
            except OSError:
                return
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n" * 20)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    class NotTls:
        url = "https://127.0.0.1:%d" % listener.getsockname()[1]

    try:
        with pytest.raises(errors.TransportError) as caught:
            make_transport(NotTls, clock, validate_certs=False).request("GET", "/x")
    finally:
        stop.set()
        listener.close()
    assert "TLS handshake" in caught.value.msg
    assert "plain HTTP" not in caught.value.msg and "verification" not in caught.value.msg


def test_an_untrusted_certificate_is_blamed_on_verification(clock, tmp_path):
    key, cert = str(tmp_path / "key.pem"), str(tmp_path / "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.handle_request, daemon=True)
    thread.start()

    class SelfSigned:
        url = "https://127.0.0.1:%d" % httpd.server_address[1]

    try:
        with pytest.raises(errors.TransportError) as caught:
            make_transport(SelfSigned, clock).request("GET", "/x")
    finally:
        httpd.server_close()
    assert "TLS verification failed" in caught.value.msg
    assert "plain HTTP" not in caught.value.msg
