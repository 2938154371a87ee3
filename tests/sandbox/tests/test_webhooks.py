"""Unit21 webhooks: signature, payloads, delivery retries, the send route and subscriptions."""

import hashlib
import hmac
import json
import os
import sys
import time

import pytest
import requests
from aiohttp import web

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from context import SandboxConfig  # noqa: E402  pylint: disable=import-error,wrong-import-position
from sandbox_helpers import BackgroundLoop, InProcessVendor  # noqa: E402  pylint: disable=import-error,wrong-import-position
from unit21 import Unit21API  # noqa: E402  pylint: disable=import-error,wrong-import-position
from webhooks import WebhookSender, build_case_payload, sign, signature_header  # noqa: E402  pylint: disable=import-error,wrong-import-position

SECRET = SandboxConfig({})["SANDBOX_UNIT21_WEBHOOK_SECRET"]
AUTH = {"u21-key": SandboxConfig({})["SANDBOX_UNIT21_API_KEY"]}


def verify(raw_body, header, secret):
    """An independent check of the documented scheme: HMAC-SHA256 over "<t>." + body."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["s0"]), int(parts["t"])


class Receiver(object):
    """A webhook endpoint that answers with scripted statuses and records what it got."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.received = []

    async def handle(self, request):
        raw = await request.read()
        self.received.append({"headers": dict(request.headers), "body": raw, "at": time.monotonic()})
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return web.Response(status=status, text="ok")


class Loop(BackgroundLoop):
    """The background loop, able to serve webhook receivers too."""

    def receiver(self, statuses=(200,)):
        receiver = Receiver(statuses)
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        receiver.url = self.serve(app) + "/hook"
        return receiver


class InProcess(InProcessVendor):
    """Unit21 served in-process next to the receivers, on the real clock, with fast retries."""

    def __init__(self, loop):
        super(InProcess, self).__init__(lambda ctx: Unit21API(ctx, webhook_retry_delays=(0.01, 0.02)), clock=time.time, loop=loop)

    def call(self, method, path, body=None):
        return self.http.request(method, self.url + "/v1" + path, json=body, headers=AUTH, timeout=30)

    def settle(self):
        self.run(self.api.wait_for_deliveries())


@pytest.fixture()
def loop():
    background = Loop()
    yield background
    background.close()


@pytest.fixture()
def box(loop):
    served = InProcess(loop)
    yield served
    served.close()


# -- signing and payloads -----------------------------------------------------------------

def test_signature_matches_the_test_vector():
    body = b'{"unit21_id":11532914,"object_type":"CASE","change":"CREATED"}'
    expected = "815f34cca30fb80c8f978306492814eddcb5f9d4f735f958028bb18a95ecde9a"
    assert sign("abcdefghij0123456789", 1661958418, body) == expected
    assert signature_header("abcdefghij0123456789", 1661958418, body) == "t=1661958418,s0=" + expected


CASE = {
    "unit21_id": 11532914, "case_id": None, "status": "CLOSED", "disposition": "Report Filed",
    "disposition_notes": "filed", "title": "Bulk resolution case", "description": "d", "start_date": 1661958402,
    "end_date": None, "created_by": "agent@example.com", "tags": [], "custom_data": {},
    "entities": [{"entity_id": None, "entity_type": None, "unit21_id": 618865781}],
    "events": [{"event_id": "txn-100002891", "event_type": "transaction"}],
}


def test_case_payload_shape():
    payload = build_case_payload(CASE, "CLOSED", 1661958477, changed_by="closer@example.com")
    assert set(payload) == {"unit21_id", "case_id", "status", "disposition", "object_type", "change", "change_time",
                            "changed_by", "title", "description", "start_date", "end_date", "entities", "events",
                            "tags", "instruments", "created_by", "watchers", "custom_data"}
    assert payload["object_type"] == "CASE" and payload["change"] == "CLOSED" and payload["change_time"] == 1661958477
    assert payload["changed_by"] == "closer@example.com"
    assert payload["entities"] == [{"entity_id": "", "entity_type": None, "unit21_id": 618865781, "resolution": None}]
    assert payload["events"] == [{"event_id": "txn-100002891", "event_type": "transaction", "resolution": None}]


def test_action_triggered_payload_adds_three_fields():
    payload = build_case_payload(CASE, "ACTION_TRIGGERED", 1, extra={"subdisposition": [{"id": "28"}]})
    assert payload["action_trigger_external_id"] == "CLOSED"
    assert payload["subdisposition"] == [{"id": "28"}] and payload["disposition_notes"] == "filed"
    assert "action_trigger_external_id" not in build_case_payload(CASE, "CREATED", 1)


# -- the sender -----------------------------------------------------------------------------

def test_sender_retries_after_failures_with_fresh_signatures(loop):
    receiver = loop.receiver([500, 503, 200])
    sender = WebhookSender(retry_delays=(0.1, 0.2))
    result = loop.run(sender.deliver(receiver.url, {"change": "CREATED"}, SECRET))
    assert result["delivered"] is True
    assert [a["status"] for a in result["attempts"]] == [500, 503, 200]
    assert [a["attempt"] for a in result["attempts"]] == [1, 2, 3]
    gaps = [later["at"] - earlier["at"] for earlier, later in zip(receiver.received, receiver.received[1:])]
    assert 0.1 <= gaps[0] < 0.6 and 0.2 <= gaps[1] < 0.7
    for got, attempt in zip(receiver.received, result["attempts"]):
        assert got["headers"]["Content-Type"] == "application/json"
        valid, t = verify(got["body"], got["headers"]["unit21-signature"], SECRET)
        assert valid and t == attempt["t"]
        assert json.loads(got["body"]) == {"change": "CREATED"}


def test_sender_default_delays_are_one_then_two_seconds():
    sender = WebhookSender()
    assert [sender._delay_before(n) for n in (2, 3, 4)] == [1.0, 2.0, 2.0]  # pylint: disable=protected-access


def test_sender_gives_up_after_three_attempts_and_retries_4xx(loop):
    receiver = loop.receiver([400])
    result = loop.run(WebhookSender(retry_delays=(0, 0)).deliver(receiver.url, {}, SECRET))
    assert result["delivered"] is False and [a["status"] for a in result["attempts"]] == [400, 400, 400]


def test_sender_reports_transport_errors(loop):
    receiver = loop.receiver()
    dead_url = receiver.url
    loop.run(loop.runners.pop().cleanup())
    result = loop.run(WebhookSender(retry_delays=(0, 0)).deliver(dead_url, {}, SECRET, max_attempts=2))
    assert result["delivered"] is False and len(result["attempts"]) == 2
    assert all(a["status"] is None and a["error"] for a in result["attempts"])


def test_sender_uses_a_fresh_t_per_attempt_unless_pinned(loop):
    ticks = iter(range(1000, 2000, 7))
    receiver = loop.receiver([500, 200])
    result = loop.run(WebhookSender(retry_delays=(0,), clock=lambda: next(ticks)).deliver(receiver.url, {}, SECRET))
    assert [a["t"] for a in result["attempts"]] == [1000, 1007]
    receiver = loop.receiver([500, 200])
    result = loop.run(WebhookSender(retry_delays=(0,)).deliver(receiver.url, {}, SECRET, timestamp=42))
    assert [a["t"] for a in result["attempts"]] == [42, 42]
    assert receiver.received[1]["headers"]["unit21-signature"].startswith("t=42,s0=")


# -- the send control route --------------------------------------------------------------------

def test_send_route_builds_the_payload_from_a_case(box, loop):
    receiver = loop.receiver([502, 200])
    unit21_id = box.call("POST", "/cases/create", {"case_id": "wh-1", "title": "T", "start_date": 5}).json()["unit21_id"]
    box.settle()
    answer = box.control("POST", "/webhooks/send", {"url": receiver.url, "unit21_id": unit21_id,
                                                    "change": "ACTION_TRIGGERED",
                                                    "extra": {"action_trigger_external_id": "ESCALATE"}}).json()
    assert answer["delivered"] is True and [a["status"] for a in answer["attempts"]] == [502, 200]
    assert answer["payload"]["case_id"] == "wh-1" and answer["payload"]["change"] == "ACTION_TRIGGERED"
    assert answer["payload"]["action_trigger_external_id"] == "ESCALATE"
    assert json.loads(receiver.received[-1]["body"]) == answer["payload"]
    assert verify(receiver.received[-1]["body"], receiver.received[-1]["headers"]["unit21-signature"], SECRET)[0]
    deliveries = box.control("GET", "/webhooks/deliveries").json()["deliveries"]
    assert deliveries[-1]["delivered"] is True and len(deliveries[-1]["attempts"]) == 2


def test_send_route_with_raw_payload_secret_timestamp_and_attempts(box, loop):
    receiver = loop.receiver([500])
    answer = box.control("POST", "/webhooks/send", {
        "url": receiver.url, "payload": {"object_type": "CASE", "change": "ODD"}, "extra": {"x": 1},
        "secret": "other-secret-0123456", "timestamp": 1000, "max_attempts": 2, "retry_delays": [0]}).json()
    assert answer["delivered"] is False and [a["t"] for a in answer["attempts"]] == [1000, 1000]
    assert answer["payload"] == {"object_type": "CASE", "change": "ODD", "x": 1}
    valid, t = verify(receiver.received[0]["body"], receiver.received[0]["headers"]["unit21-signature"],
                      "other-secret-0123456")
    assert valid and t == 1000


def test_send_route_validation(box):
    assert box.control("POST", "/webhooks/send", {}).status_code == 400
    assert box.control("POST", "/webhooks/send", {"url": "http://x"}).status_code == 400
    assert box.control("POST", "/webhooks/send", {"url": "http://x", "unit21_id": 5}).status_code == 404
    response = box.control("POST", "/webhooks/send", {"url": "http://x", "payload": {}, "max_attempts": 0})
    assert response.status_code == 400 and response.json()["error_code"] == "invalid_input"


# -- subscriptions ---------------------------------------------------------------------------

def test_subscription_fires_on_create_close_and_reopen(box, loop):
    receiver = loop.receiver([200])
    subscription = box.control("POST", "/webhooks/subscriptions", {"url": receiver.url}).json()
    assert subscription["changes"] == ["CREATED", "CLOSED", "REOPENED"] and "secret" not in subscription
    unit21_id = box.call("POST", "/cases/create", {"case_id": "s-1", "title": "T", "start_date": 5}).json()["unit21_id"]
    box.settle()
    box.call("PUT", "/cases/%d/update" % unit21_id, {"status": "CLOSED", "disposition": "TRUE_POSITIVE"})
    box.settle()
    box.call("PUT", "/cases/%d/update" % unit21_id, {"title": "no webhook for this"})
    box.call("PUT", "/cases/%d/update" % unit21_id, {"status": "OPEN"})
    box.settle()
    bodies = [json.loads(r["body"]) for r in receiver.received]
    assert [b["change"] for b in bodies] == ["CREATED", "CLOSED", "REOPENED"]
    assert all(b["unit21_id"] == unit21_id and b["case_id"] == "s-1" for b in bodies)
    assert bodies[1]["status"] == "CLOSED" and bodies[1]["disposition"] == "TRUE_POSITIVE"
    assert bodies[1]["changed_by"] == "api@sandbox.unit21.example"
    assert all(verify(r["body"], r["headers"]["unit21-signature"], SECRET)[0] for r in receiver.received)
    deliveries = box.control("GET", "/webhooks/deliveries").json()["deliveries"]
    assert [d["change"] for d in deliveries] == ["CREATED", "CLOSED", "REOPENED"]
    assert all(d["delivered"] and d["subscription_id"] == subscription["id"] for d in deliveries)


def test_subscription_change_filter_secret_retries_and_removal(box, loop):
    receiver = loop.receiver([500, 200])
    box.control("POST", "/webhooks/subscriptions", {"url": receiver.url, "changes": ["CLOSED"],
                                                    "secret": "sub-secret-0123456789"})
    internal = box.control("POST", "/cases", {"title": "rule case", "status": "OPEN"}).json()
    box.settle()
    assert receiver.received == []
    unit21_id = box.call("POST", "/cases/create", {"case_id": "s-2", "title": "T", "start_date": 5,
                                                   "status": "CLOSED"}).json()["unit21_id"]
    box.settle()
    assert receiver.received == [] and internal["unit21_id"] != unit21_id
    box.call("PUT", "/cases/%d/update" % unit21_id, {"status": "OPEN"})
    box.call("PUT", "/cases/%d/update" % unit21_id, {"status": "CLOSED"})
    box.settle()
    assert len(receiver.received) == 2  # one failed attempt, then the retry
    assert verify(receiver.received[1]["body"], receiver.received[1]["headers"]["unit21-signature"],
                  "sub-secret-0123456789")[0]
    delivery = box.control("GET", "/webhooks/deliveries").json()["deliveries"][-1]
    assert [a["status"] for a in delivery["attempts"]] == [500, 200] and delivery["delivered"] is True
    listed = box.control("GET", "/webhooks/subscriptions").json()["subscriptions"]
    assert len(listed) == 1 and "secret" not in listed[0]
    assert box.control("DELETE", "/webhooks/subscriptions", {"url": "http://elsewhere"}).json() == {"removed": 0}
    assert box.control("DELETE", "/webhooks/subscriptions").json() == {"removed": 1}
    assert box.control("GET", "/webhooks/subscriptions").json() == {"subscriptions": []}


def test_subscription_fires_for_internal_cases_too(box, loop):
    receiver = loop.receiver()
    box.control("POST", "/webhooks/subscriptions", {"url": receiver.url, "changes": ["CREATED"]})
    box.control("POST", "/cases", {"title": "rule case"})
    box.settle()
    body = json.loads(receiver.received[0]["body"])
    assert body["change"] == "CREATED" and body["case_id"] is None
    assert body["changed_by"] == "agent@sandbox.unit21.example"


# -- through the real sandbox process (core + CLI) ------------------------------------------

def _control(base_url, method, path, body=None):
    return requests.request(method, base_url + path, json=body, timeout=30).json()


def _wait_for_delivery(base_url, timeout=10.0):
    deadline = time.monotonic() + timeout
    deliveries = []
    while time.monotonic() < deadline:
        deliveries = _control(base_url, "GET", "/_sandbox/unit21/webhooks/deliveries")["deliveries"]
        if deliveries and deliveries[0]["delivered"] is not None:
            break
        time.sleep(0.05)
    return deliveries


def test_cli_subscription_and_send_route(loop, sandbox):
    """``sandbox`` is the session-wide CLI process from conftest.py, already reset."""
    receiver = loop.receiver([503, 200])
    _control(sandbox.url, "POST", "/_sandbox/unit21/webhooks/subscriptions",
             {"url": receiver.url, "changes": ["CREATED"], "retry_delays": [0.05]})
    created = requests.post(sandbox.url + "/v1/cases/create", json={"case_id": "cli-wh", "title": "T", "start_date": 1},
                            headers=AUTH, timeout=10).json()
    deliveries = _wait_for_delivery(sandbox.url)
    assert deliveries[0]["delivered"] is True and [a["status"] for a in deliveries[0]["attempts"]] == [503, 200]
    body = receiver.received[-1]["body"]
    assert json.loads(body)["unit21_id"] == created["unit21_id"]
    assert verify(body, receiver.received[-1]["headers"]["unit21-signature"], SECRET)[0]
    answer = _control(sandbox.url, "POST", "/_sandbox/unit21/webhooks/send",
                      {"url": receiver.url, "unit21_id": created["unit21_id"], "change": "CLOSED"})
    assert answer["delivered"] is True and answer["payload"]["change"] == "CLOSED"
    log = _control(sandbox.url, "GET", "/_sandbox/requests?vendor=control")["requests"]
    assert all(SECRET not in json.dumps(entry) for entry in log)
