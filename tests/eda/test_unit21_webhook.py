# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Unit21 webhook event source, driven over real sockets (run by tools/run_tests.py eda)."""

import asyncio
import functools
import json
import logging
import os
import re
import ssl
import subprocess
import time

import aiohttp
import pytest

from eda_helpers import free_port, plugin

SECRET = "abcdefghij0123456789"
# notes unit21.md 3.4 (self-computed, not from Unit21)
VECTOR_T = 1661958418
VECTOR_BODY = b'{"unit21_id":11532914,"object_type":"CASE","change":"CREATED"}'
VECTOR_SIG = "815f34cca30fb80c8f978306492814eddcb5f9d4f735f958028bb18a95ecde9a"


def case_payload(**overrides):
    payload = {
        "unit21_id": 11532914, "case_id": None, "status": "OPEN", "disposition": "", "object_type": "CASE",
        "change": "CREATED", "changed_by": "agent@example.com", "title": "Bulk resolution case",
        "description": "Case created to bulk resolve 2 alerts", "change_time": 1661958418,
        "start_date": 1661958402, "end_date": None,
        "entities": [{"entity_id": "", "entity_type": "user", "unit21_id": 618865781, "resolution": None}],
        "events": [{"event_id": "txn-100002891", "event_type": "transaction", "unit21_id": 2151796066,
                    "resolution": None}],
        "tags": [], "instruments": [], "created_by": "agent@example.com", "watchers": [], "custom_data": {},
    }
    payload.update(overrides)
    return payload


def signed(payload, secret=SECRET, t=None, extra=""):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    t = int(time.time()) if t is None else t
    return body, {"Content-Type": "application/json",
                  "unit21-signature": "t=%d,s0=%s%s" % (t, plugin.sign(secret, t, body), extra)}


def asynctest(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return asyncio.run(asyncio.wait_for(function(*args, **kwargs), 60))
    return wrapper


class Source(object):
    """The plugin's main() on a free port, with its queue; ``async with Source(args) as s``."""

    def __init__(self, args=None, queue_size=1, scheme="http", client_ssl=None):
        self.args = dict({"host": "127.0.0.1", "port": free_port(), "secret": SECRET}, **(args or {}))
        self.queue = asyncio.Queue(maxsize=queue_size)  # ansible-rulebook's queue holds one event
        self.base = "%s://127.0.0.1:%d" % (scheme, self.args["port"])
        self.url = self.base + self.args.get("path", "/unit21/webhook")
        self.client_ssl = client_ssl
        self.task = None
        self.session = None

    async def __aenter__(self):
        self.task = asyncio.ensure_future(plugin.main(self.queue, self.args))
        self.session = aiohttp.ClientSession()
        deadline = time.monotonic() + 10
        while True:
            if self.task.done():
                self.task.result()
            try:
                async with self.session.get(self.base + self.args.get("health_path", "/health"),
                                            ssl=self.client_ssl) as response:
                    if response.status == 200:
                        return self
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the source did not start")
            await asyncio.sleep(0.05)

    async def __aexit__(self, *exc_info):
        await self.session.close()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def post(self, body, headers, url=None):
        async with self.session.post(url or self.url, data=body, headers=headers, ssl=self.client_ssl) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text.startswith("{") else text)

    async def send(self, payload, **kwargs):
        return await self.post(*signed(payload, **kwargs))

    async def events(self, wait=0.3):
        """Every event queued so far (waits ``wait`` s for stragglers)."""
        found = []
        while True:
            try:
                found.append(await asyncio.wait_for(self.queue.get(), wait))
            except asyncio.TimeoutError:
                return found


# -- pure functions ------------------------------------------------------------------------------------
def test_signature_matches_the_test_vector_of_the_notes():
    assert plugin.sign(SECRET, VECTOR_T, VECTOR_BODY) == VECTOR_SIG
    header = "t=%d,s0=%s" % (VECTOR_T, VECTOR_SIG)
    assert plugin.verify_signature(SECRET, header, VECTOR_BODY, VECTOR_T, 300) == (VECTOR_SIG, None)
    assert plugin.verify_signature(SECRET, header, VECTOR_BODY + b" ", VECTOR_T, 300)[0] is None
    assert plugin.verify_signature("other", header, VECTOR_BODY, VECTOR_T, 300)[0] is None


@pytest.mark.parametrize("header, ok", [
    ("t=%d,s0=%s" % (VECTOR_T, VECTOR_SIG), True),
    ("T=%d, S0=%s" % (VECTOR_T, VECTOR_SIG.upper()), True),
    ("t=%d,s0=%s,s1=%s" % (VECTOR_T, "0" * 64, VECTOR_SIG), True),
    ("t=%d,s1=%s,v=9" % (VECTOR_T, VECTOR_SIG), True),
    ("s0=%s,t=%d" % (VECTOR_SIG, VECTOR_T), True),
    ("t=%d" % VECTOR_T, False),
    ("s0=%s" % VECTOR_SIG, False),
    ("t=%d,t=%d,s0=%s" % (VECTOR_T, VECTOR_T, VECTOR_SIG), False),
    ("t=1.5e9,s0=%s" % VECTOR_SIG, False),
    ("t=%d,s0=%s" % (VECTOR_T, "é" * 64), False),
    ("garbage", False),
])
def test_signature_header_parsing(header, ok):
    assert (plugin.verify_signature(SECRET, header, VECTOR_BODY, VECTOR_T, 300)[0] is not None) is ok


def test_timestamp_tolerance_both_ways():
    header = "t=%d,s0=%s" % (VECTOR_T, VECTOR_SIG)
    assert plugin.verify_signature(SECRET, header, VECTOR_BODY, VECTOR_T + 300, 300)[0] == VECTOR_SIG
    assert plugin.verify_signature(SECRET, header, VECTOR_BODY, VECTOR_T - 300, 300)[0] == VECTOR_SIG
    assert "behind" in plugin.verify_signature(SECRET, header, VECTOR_BODY, VECTOR_T + 301, 300)[1]
    assert "ahead" in plugin.verify_signature(SECRET, header, VECTOR_BODY, VECTOR_T - 301, 300)[1]


def test_expiring_set_is_bounded_and_forgets():
    seen = plugin.ExpiringSet(3)
    for number in range(10):
        seen.add(number, 100, 0)
    assert len(seen) == 3 and seen.seen(9, 0) and not seen.seen(0, 0)
    assert not seen.seen(9, 100)
    seen.add("late", 200, 150)  # full: expired entries are purged first
    assert len(seen) == 1


@pytest.mark.parametrize("args, message", [
    ({"secret": ""}, "no webhook secret"),
    ({"secret": "s", "port": "http"}, "port must be an integer"),
    ({"secret": "s", "port": True}, "port must be an integer"),
    ({"secret": "s", "port": 70000}, "port must be between"),
    ({"secret": "s", "tolerance": 0}, "tolerance must be at least 1"),
    ({"secret": "s", "keyfile": "k.pem"}, "need certfile"),
    ({"secret": "s", "path": "hook"}, "path must start with /"),
    ({"secret": "s", "path": "/health"}, "must differ"),
    ({"secret": "s", "secert": "x"}, "unknown argument(s) secert"),
])
def test_bad_arguments_are_refused_with_a_clear_message(args, message):
    with pytest.raises(ValueError) as info:
        plugin.load_config(args, environ={})
    assert message in str(info.value)
    assert "abcdefghij" not in str(info.value)


def test_secret_from_the_environment_and_string_numbers():
    config = plugin.load_config({"port": "8080"}, environ={"UNIT21_WEBHOOK_SECRET": SECRET})
    assert config["secret"] == SECRET and config["port"] == 8080 and config["host"] == "0.0.0.0"
    assert plugin.load_config({"secret": "arg"}, environ={"UNIT21_WEBHOOK_SECRET": SECRET})["secret"] == "arg"


@asynctest
async def test_refuses_to_start_without_a_secret(monkeypatch):
    monkeypatch.delenv("UNIT21_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValueError, match="UNIT21_WEBHOOK_SECRET"):
        await plugin.main(asyncio.Queue(), {"port": free_port()})


# -- the server ----------------------------------------------------------------------------------------
@asynctest
async def test_a_valid_delivery_is_queued_as_documented():
    payload = case_payload()
    async with Source() as source:
        status, answer = await source.send(payload)
        assert (status, answer) == (200, {"status": "accepted"})
        events = await source.events()
    assert len(events) == 1
    received_at = events[0]["meta"].pop("received_at")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$", received_at)
    assert events[0] == {"unit21": payload, "meta": {"change": "CREATED", "object_type": "CASE",
                                                     "unit21_id": 11532914, "change_time": 1661958418}}


@asynctest
async def test_bad_deliveries_are_refused_and_the_server_keeps_serving():
    payload = case_payload()
    async with Source({"max_body_size": 2000}) as source:
        body, headers = signed(payload)
        bad_signature = dict(headers, **{"unit21-signature": headers["unit21-signature"][:-4] + "0000"})
        assert (await source.post(body, bad_signature))[0] == 401
        assert (await source.post(body, {"Content-Type": "application/json"}))[0] == 401
        assert (await source.send(payload, t=int(time.time()) - 301))[0] == 401
        assert (await source.send(payload, t=int(time.time()) + 301))[0] == 401
        assert (await source.send(payload, secret="another-secret"))[0] == 401
        assert (await source.post(*signed(b"{not json")))[0] == 400
        assert (await source.post(*signed(b"\xff\xfe")))[0] == 400
        assert (await source.post(*signed(b"[1, 2]")))[0] == 400
        assert (await source.post(*signed(b'"CASE"')))[0] == 400
        big = case_payload(description="x" * 3000)
        assert (await source.send(big))[0] == 413
        assert await source.events(wait=0.2) == []

        status, answer = await source.send(payload)
        assert (status, answer) == (200, {"status": "accepted"})
        events = await source.events()
    assert [e["unit21"] for e in events] == [payload]


@asynctest
async def test_an_oversize_chunked_body_is_cut_off_at_the_limit():
    async def chunks():
        for dummy in range(8):
            yield b"x" * 500

    async with Source({"max_body_size": 1000}) as source:
        headers = {"unit21-signature": "t=1,s0=00"}
        async with source.session.post(source.url, data=chunks(), headers=headers) as response:
            assert response.status == 413
        assert (await source.send(case_payload()))[0] == 200
        assert len(await source.events()) == 1


@asynctest
async def test_other_methods_and_paths():
    async with Source({"path": "/hooks/u21"}) as source:
        async with source.session.get(source.url) as response:
            assert response.status == 405
        status, dummy = await source.post(*signed(case_payload()), url=source.base + "/unit21/webhook")
        assert status == 404
        async with source.session.get(source.base + "/health") as response:
            assert response.status == 200 and await response.json() == {"status": "ok"}
        assert (await source.send(case_payload()))[0] == 200
        assert len(await source.events()) == 1


@asynctest
async def test_a_replayed_request_is_answered_but_not_queued_again(caplog):
    caplog.set_level(logging.INFO)
    async with Source() as source:
        body, headers = signed(case_payload())
        assert await source.post(body, headers) == (200, {"status": "accepted"})
        assert await source.post(body, headers) == (200, {"status": "duplicate"})
        assert len(await source.events()) == 1
    assert "replayed" in caplog.text


@asynctest
async def test_a_retry_with_a_fresh_signature_is_answered_but_queued_once():
    payload = case_payload(change="CLOSED", status="CLOSED", disposition="TRUE_POSITIVE", change_time=1661958477)
    async with Source() as source:
        assert (await source.send(payload, t=int(time.time()) - 2))[1] == {"status": "accepted"}
        assert await source.send(payload) == (200, {"status": "duplicate"})
        # Same case, another change: a new event.
        assert (await source.send(dict(payload, change="REOPENED", change_time=1661958500)))[1]["status"] == "accepted"
        events = await source.events()
    assert [e["meta"]["change"] for e in events] == ["CLOSED", "REOPENED"]


@asynctest
async def test_payloads_without_ids_are_deduplicated_by_body():
    payload = {"object_type": "CASE", "change": "CREATED", "title": "no ids"}
    async with Source() as source:
        assert (await source.send(payload, t=int(time.time()) - 1))[1]["status"] == "accepted"
        assert (await source.send(payload))[1]["status"] == "duplicate"
        events = await source.events()
    assert len(events) == 1 and events[0]["meta"]["unit21_id"] is None


@asynctest
async def test_an_extra_s1_signature_is_accepted():
    payload = case_payload()
    body = json.dumps(payload).encode()
    t = int(time.time())
    good = plugin.sign(SECRET, t, body)
    async with Source() as source:
        headers = {"unit21-signature": "t=%d,s0=%s,s1=%s" % (t, "a" * 64, good)}
        assert (await source.post(body, headers))[0] == 200
        other = json.dumps(case_payload(change_time=7)).encode()
        headers = {"unit21-signature": "t=%d,s1=%s" % (t + 1, plugin.sign(SECRET, t + 1, other))}
        assert (await source.post(other, headers)) == (200, {"status": "accepted"})
        assert len(await source.events()) == 2


@asynctest
async def test_open_is_reported_as_reopened_and_unknown_changes_pass_through():
    opened = case_payload(change="OPEN", change_time=1)
    unknown = case_payload(change="ESCALATED_TO_MOON", change_time=2)
    # entity and event unit21_id are optional (deprecated by Unit21 in 2023)
    bare = case_payload(change="ACTION_TRIGGERED", change_time=3,
                        entities=[{"entity_id": "u-1", "entity_type": "user", "resolution": "UNRESOLVED"}],
                        events=[{"event_id": "txn-1", "event_type": "transaction", "resolution": None}],
                        action_trigger_external_id="CLOSED", subdisposition=[], disposition_notes=None)
    async with Source({"max_pending_events": 5}) as source:
        for payload in (opened, unknown, bare):
            assert (await source.send(payload))[0] == 200
        events = await source.events()
    assert [e["meta"]["change"] for e in events] == ["REOPENED", "ESCALATED_TO_MOON", "ACTION_TRIGGERED"]
    assert [e["unit21"] for e in events] == [opened, unknown, bare]  # the payload is untouched


@asynctest
async def test_answers_at_once_while_the_rule_engine_is_busy_and_503_when_the_backlog_is_full():
    async with Source({"max_pending_events": 1}) as source:
        started = time.monotonic()
        statuses = [(await source.send(case_payload(change_time=n)))[0] for n in range(4)]
        assert time.monotonic() - started < 5
        # Nobody reads the queue: one event sits in it (size 1), one is held by the forwarder,
        # one is pending (max_pending_events), and the fourth is refused so that Unit21 retries it.
        assert statuses == [200, 200, 200, 503]
        assert len(await source.events()) == 3
        assert (await source.send(case_payload(change_time=3)))[0] == 200  # the refused one, retried
        assert len(await source.events()) == 1


@asynctest
async def test_secret_from_the_environment_variable(monkeypatch):
    monkeypatch.setenv("UNIT21_WEBHOOK_SECRET", "from-the-environment")
    async with Source({"secret": None}) as source:
        assert (await source.send(case_payload(), secret="from-the-environment"))[0] == 200
        assert (await source.send(case_payload(change_time=5)))[0] == 401
        assert len(await source.events()) == 1


@asynctest
async def test_neither_secret_nor_signature_is_logged(caplog):
    caplog.set_level(logging.DEBUG)
    payload = case_payload()
    body, headers = signed(payload)
    signature = headers["unit21-signature"].split("s0=")[1]
    async with Source() as source:
        await source.post(body, headers)
        await source.post(body, headers)
        await source.post(body + b" ", headers)
        await source.send(payload, t=1)
        await source.post(b"x", {"unit21-signature": "t=1,s0=" + signature})
        await source.events()
    assert any(r.levelno == logging.WARNING and "no signature matches" in r.getMessage() for r in caplog.records)
    assert SECRET not in caplog.text and signature not in caplog.text


# -- TLS -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with the openssl CLI."""
    folder = tmp_path_factory.mktemp("pki")

    def openssl(*args):
        subprocess.run(("openssl",) + args, cwd=str(folder), check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=caseops test CA")
    for name, extension in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + name)
        with open(str(folder / (name + ".ext")), "w") as handle:
            handle.write(extension + "\n")
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
    return {name: str(folder / name) for name in os.listdir(str(folder))}


def client_context(pki, with_certificate):
    context = ssl.create_default_context(cafile=pki["ca.pem"])
    if with_certificate:
        context.load_cert_chain(pki["client.pem"], pki["client.key"])
    return context


@asynctest
async def test_https(pki):
    args = {"certfile": pki["server.pem"], "keyfile": pki["server.key"]}
    async with Source(args, scheme="https", client_ssl=client_context(pki, False)) as source:
        assert (await source.send(case_payload()))[0] == 200
        assert len(await source.events()) == 1


@asynctest
async def test_mutual_tls_refuses_a_client_without_a_certificate(pki):
    args = {"certfile": pki["server.pem"], "keyfile": pki["server.key"], "cafile": pki["ca.pem"]}
    async with Source(args, scheme="https", client_ssl=client_context(pki, True)) as source:
        assert (await source.send(case_payload()))[0] == 200
        with pytest.raises((aiohttp.ClientError, ssl.SSLError, ConnectionError)):
            async with aiohttp.ClientSession() as anonymous:
                body, headers = signed(case_payload(change_time=9))
                async with anonymous.post(source.url, data=body, headers=headers,
                                          ssl=client_context(pki, False)) as response:
                    await response.read()
        assert len(await source.events()) == 1
