# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""caseops.desk.unit21_webhook: an ansible-rulebook event source for signed Unit21 webhooks."""

import asyncio
import collections
import datetime
import hashlib
import hmac
import json
import logging
import os
import re
import ssl
import time

from aiohttp import web

DOCUMENTATION = r"""
---
short_description: Receive signed Unit21 webhooks (case created, closed, reopened, action triggered)
description:
  - An HTTP(S) server for C(ansible-rulebook) that receives Unit21 webhooks, checks their
    C(unit21-signature) header and puts each valid delivery on the event queue once.
  - "The signature is HMAC-SHA256, keyed with the webhook secret, over C(<t>.<raw body>), sent as
    C(unit21-signature: t=<unix time>,s0=<hex>). Every C(key=value) pair of the header is read and a
    match on any C(s*) entry is accepted, so a second signature Unit21 may add later does not break it.
    The comparison is constant-time and uses the request bytes exactly as received."
  - A delivery is refused with HTTP 401 when the header is missing or malformed, when C(t) is more
    than O(tolerance) seconds away from the server's clock (in the past or the future), or when no
    signature matches. A body larger than O(max_body_size) gets 413 (the server stops reading at the
    limit), a body that is not a JSON object, or that nests arrays and objects more than
    O(max_json_depth) levels deep, gets 400. Refusals are logged at warning level with the reason; the
    secret and the signature values are never logged.
  - A valid delivery is answered 200 at once and handed to the rule engine in the background, so a
    slow rule engine never makes Unit21 time out and retry. Only when O(max_pending_events) deliveries are
    already waiting does a new one wait, at most 1 second, for room before it gets 503.
  - "Unit21 retries a delivery (up to 3 attempts, 1 s and 2 s apart) when it does not get a 2xx answer in
    time. Retries of a delivery already accepted are answered 200 but not put on the queue again. A retry is
    recognised by the SHA-256 digest of its body, which Unit21 signs: a retry repeats the body whatever its
    signature and timestamp, while two distinct deliveries differ in some field (for example two
    C(ACTION_TRIGGERED) deliveries for one case within the same second, for two actions, are two events).
    Two deliveries with byte-identical bodies within O(dedup_window) seconds are one delivery."
  - "Deduplication memory is bounded: the digests of accepted bodies (kept O(dedup_window) seconds) and the
    accepted signatures (kept O(tolerance) seconds), each at most O(dedup_max_entries) entries, the oldest
    forgotten first (about 200 bytes an entry: 2 MB each with the default). Each delivery costs the same
    whatever their size (a dictionary in insertion order, expired from the front). Since Unit21 retries within
    seconds, the default is ample up to thousands of deliveries a second."
  - A replayed request (the very same signature seen again within O(tolerance) seconds) is also answered
    200 and dropped, with a warning. This is harmless to the sender, and Unit21 itself may resend the same
    signed request when our first answer was lost.
  - "Each event is C({\"unit21\": <the payload, unchanged>, \"meta\": {...}}). C(meta) holds C(change) (the
    payload's C(change); C(OPEN) is reported as C(REOPENED), unknown values pass through unchanged),
    C(object_type), C(unit21_id) (null when the payload has none), C(change_time) and C(received_at)
    (ISO 8601 UTC). ansible-rulebook adds C(meta.source) and C(meta.uuid). Headers are not copied into the
    event, so the signature never reaches a playbook."
  - "Connections: at most O(max_connections) are open at once, counted from acceptance (for HTTPS, from
    before the TLS handshake). Over plain HTTP, a connection beyond the cap is answered C(503) with
    C(Connection: close) and closed; over HTTPS it is closed at once, without a handshake. Unit21 retries
    either like any failed attempt, and the server keeps serving the other connections. A connection must send
    each complete request (headers and body) within O(read_timeout) seconds of opening or of its previous
    answer, and an idle keep-alive connection is closed after the same time, so a client sending slowly
    (slowloris) is cut off after O(read_timeout) seconds. For HTTPS the TLS handshake has the same limit."
  - "C(GET) on O(health_path) answers C({\"status\": \"ok\"}) without authentication, for load balancers and
    readiness probes."
version_added: 1.0.0
author:
  - caseops.desk maintainers (@caseops)
options:
  host:
    description:
      - Address to listen on.
      - The default listens on every interface, because Unit21 delivers from the Internet and an EDA
        activation runs in a container whose port is published to the outside; every delivery is
        authenticated by its signature. Use C(127.0.0.1) behind a local reverse proxy.
    type: str
    default: 0.0.0.0
  port:
    description:
      - TCP port to listen on.
    type: int
    default: 5000
  path:
    description:
      - URL path that accepts the webhook C(POST)s (the path of the URL configured in Unit21).
      - Other methods on this path get 405, other paths get 404.
    type: str
    default: /unit21/webhook
  health_path:
    description:
      - URL path of the unauthenticated health route (C(GET)).
    type: str
    default: /health
  secret:
    description:
      - The webhook's signing secret, as shown in Unit21's webhook settings.
      - When not set (or empty), the environment variable E(UNIT21_WEBHOOK_SECRET) is used.
      - The source refuses to start without a secret.
    type: str
  tolerance:
    description:
      - Largest accepted difference, in seconds, between the signature's C(t) and the server's clock, in
        either direction. It is also how long a signature is remembered to detect replays.
    type: int
    default: 300
  max_body_size:
    description:
      - Largest accepted request body, in bytes. A larger body gets 413 and is not read further.
    type: int
    default: 1048576
  dedup_window:
    description:
      - Seconds during which a delivery already accepted is recognised when Unit21 retries it.
    type: int
    default: 3600
  dedup_max_entries:
    description:
      - Most deliveries (and, separately, signatures) remembered for deduplication and replay detection;
        the oldest are forgotten first. Bounds the memory used.
    type: int
    default: 10000
  max_pending_events:
    description:
      - Most accepted deliveries waiting for the rule engine. When that many are waiting, a new delivery
        waits up to 1 second for room (the rule engine takes one event at a time, so a burst of concurrent
        deliveries is absorbed instead of refused), then gets 503 so that Unit21 retries it later.
    type: int
    default: 1000
  max_json_depth:
    description:
      - Deepest nesting of arrays and objects accepted in a body. A deeper body gets 400 before it is parsed.
      - Unit21's case payloads nest 3 levels (an entity inside the C(entities) list) plus what C(custom_data)
        holds. At most 500.
    type: int
    default: 32
  read_timeout:
    description:
      - Seconds a connection has to send one complete request (headers and body), counted from when it opens
        or from its previous answer. A slower client is disconnected; an idle keep-alive connection is closed
        after the same time. For HTTPS it also bounds the TLS handshake.
    type: int
    default: 10
  max_connections:
    description:
      - Most connections open at once. A connection beyond the cap is answered 503 and closed (over HTTPS,
        closed without an answer).
      - Unit21 retries a failed attempt twice (1 s, then 2 s later), so a short burst beyond the cap is
        delivered later rather than lost.
    type: int
    default: 100
  certfile:
    description:
      - Path to a PEM certificate (chain) to serve HTTPS. Without it the server speaks plain HTTP.
    type: path
  keyfile:
    description:
      - Path to the PEM private key of O(certfile), when it is not in O(certfile) itself.
    type: path
  cafile:
    description:
      - Path to PEM CA certificates. When set (with O(certfile)), every client must present a certificate
        signed by one of them (mutual TLS); connections without one are refused.
    type: path
notes:
  - Unit21 documents neither a timestamp tolerance nor whether retries carry a fresh signature; both
    cases are handled. It does not document that a retry repeats the body byte for byte either; a retry
    whose body differs in any byte would be queued again.
  - Events waiting for the rule engine are lost when the source stops.
"""

EXAMPLES = r"""
- name: Unit21 cases
  hosts: all
  sources:
    - caseops.desk.unit21_webhook:
        port: 5000
        path: /unit21/webhook
        # The secret comes from the UNIT21_WEBHOOK_SECRET environment variable.
  rules:
    - name: A case was closed as a true positive
      condition: >-
        event.meta.change == "CLOSED" and event.unit21.object_type == "CASE"
        and event.unit21.disposition == "TRUE_POSITIVE"
      action:
        run_playbook:
          name: caseops.desk.unit21_record_disposition

- name: Unit21 over HTTPS with client certificates
  hosts: all
  sources:
    - caseops.desk.unit21_webhook:
        host: 0.0.0.0
        port: 8443
        secret: "{{ unit21_webhook_secret }}"
        certfile: /etc/eda/tls/server.pem
        keyfile: /etc/eda/tls/server.key
        cafile: /etc/eda/tls/clients-ca.pem
        tolerance: 120
  rules:
    - name: Show reopened cases
      condition: event.meta.change == "REOPENED"
      action:
        debug:
          msg: "Case {{ event.unit21.unit21_id }} was reopened"

- name: Unit21 on a busy tenant, limits set explicitly
  hosts: all
  sources:
    - caseops.desk.unit21_webhook:
        port: 5000
        max_connections: 200    # a connection beyond 200 is answered 503, and Unit21 retries it
        read_timeout: 5         # cut clients that take longer than 5 s to send a request
        max_json_depth: 16      # refuse bodies nested deeper with 400
        dedup_max_entries: 50000
        dedup_window: 600
  rules:
    - name: Record every action run on a case
      condition: event.meta.change == "ACTION_TRIGGERED"
      action:
        debug:
          msg: "Action {{ event.unit21.action_trigger_external_id }} on case {{ event.unit21.unit21_id }}"
"""

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "unit21-signature"
SECRET_ENV_VAR = "UNIT21_WEBHOOK_SECRET"
CHANGE_ALIASES = {"OPEN": "REOPENED"}
READ_CHUNK = 65536
BACKLOG_WAIT = 1.0  # seconds a delivery may wait for room in a full backlog before it gets 503

DEFAULTS = {
    "host": "0.0.0.0",
    "port": 5000,
    "path": "/unit21/webhook",
    "health_path": "/health",
    "secret": None,
    "tolerance": 300,
    "max_body_size": 1048576,
    "dedup_window": 3600,
    "dedup_max_entries": 10000,
    "max_pending_events": 1000,
    "max_json_depth": 32,
    "read_timeout": 10,
    "max_connections": 100,
    "certfile": None,
    "keyfile": None,
    "cafile": None,
}
INT_ARGS = ("port", "tolerance", "max_body_size", "dedup_window", "dedup_max_entries", "max_pending_events",
            "max_json_depth", "read_timeout", "max_connections")
MAX_JSON_DEPTH_CEILING = 500  # well under Python's recursion limit, which json.loads would hit first
STR_ARGS = ("host", "path", "health_path", "secret", "certfile", "keyfile", "cafile")


# -- signature -------------------------------------------------------------------------------------
def sign(secret, timestamp, raw_body):
    """Lower-case hex HMAC-SHA256 of ``b"<timestamp>." + raw_body`` keyed with the UTF-8 secret."""
    message = str(timestamp).encode("ascii") + b"." + raw_body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def parse_signature_header(value):
    """``(t, [signatures])`` from ``t=<ts>,s0=<hex>[,s1=...]``; t is None unless given exactly once."""
    timestamps = []
    signatures = []
    for part in value.split(","):
        key, sep, item = part.partition("=")
        if not sep:
            continue
        key = key.strip().lower()
        if key == "t":
            timestamps.append(item.strip())
        elif key.startswith("s"):
            signatures.append(item.strip())
    return (timestamps[0] if len(timestamps) == 1 else None), signatures


def verify_signature(secret, header, raw_body, now, tolerance):
    """``(matched signature, None)`` when valid, else ``(None, reason)``; the reason never quotes the header."""
    timestamp, signatures = parse_signature_header(header)
    if timestamp is None or not timestamp.isdigit() or not timestamp.isascii():
        return None, "the signature header has no single integer t"
    if not signatures:
        return None, "the signature header has no s* signature"
    skew = int(timestamp) - now
    if abs(skew) > tolerance:
        return None, "t is %d s %s the server's clock (tolerance %d s)" % (
            abs(skew), "ahead of" if skew > 0 else "behind", tolerance)
    expected = sign(secret, timestamp, raw_body).encode("ascii")
    for candidate in signatures:
        if hmac.compare_digest(expected, candidate.lower().encode("utf-8", "replace")):
            return candidate.lower(), None
    return None, "no signature matches"


# -- bounded memory ----------------------------------------------------------------------------------
class ExpiringSet(object):
    """Keys remembered until their expiry time, at most ``max_entries`` of them; O(1) per add or lookup.

    The keys sit in insertion order. One set always adds with the same lifetime, so its oldest entry is also
    the first to expire: expired entries are dropped from the front, and when the set is full the oldest one
    goes. No operation ever walks the whole set (it did before, and throughput fell fourfold once full).
    """

    def __init__(self, max_entries):
        self.max_entries = max_entries
        self._items = collections.OrderedDict()  # key -> expiry, oldest first

    def _expire(self, now):
        items = self._items
        while items:
            key, expiry = next(iter(items.items()))
            if expiry > now:
                return
            del items[key]

    def seen(self, key, now):
        expiry = self._items.get(key)
        if expiry is None:
            return False
        if expiry <= now:
            del self._items[key]
            return False
        return True

    def add(self, key, expiry, now):
        items = self._items
        self._expire(now)
        items.pop(key, None)  # a key added again moves to the back
        items[key] = expiry
        if len(items) > self.max_entries:
            items.popitem(last=False)

    def __len__(self):
        return len(self._items)


def dedup_key(raw_body):
    """What a retry of a delivery shares with it, and two distinct deliveries never do: the signed body.

    The SHA-256 of the body bytes: a retry that repeats the body matches whatever its signature and timestamp,
    while two deliveries that differ in any field (two ACTION_TRIGGERED for one case within one second, for two
    actions) stay apart. Cheap, and known before the body is parsed (FIDELITY.md, Unit21 W2).
    """
    return hashlib.sha256(raw_body).digest()


# A JSON string, as an unrolled loop (no nested repetition, so no catastrophic backtracking).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_OPENING = frozenset(b"[{")


def json_nesting_exceeds(raw_body, limit):
    """True when the JSON text opens more than ``limit`` arrays/objects inside one another.

    Counted on the bytes, before parsing, outside strings; it stops at the first bracket past the limit, so a
    hostile body costs no more than ``limit`` steps plus one scan of the body in C. A body with no more
    brackets than the limit (any usual payload) is passed after two counts.
    """
    if raw_body.count(b"[") + raw_body.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _JSON_STRING.sub(b"", raw_body).translate(None, _NOT_A_BRACKET):
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def build_event(payload, received_at):
    change = payload.get("change")
    return {
        "unit21": payload,
        "meta": {
            "change": CHANGE_ALIASES.get(change, change) if isinstance(change, str) else change,
            "object_type": payload.get("object_type"),
            "unit21_id": payload.get("unit21_id"),
            "change_time": payload.get("change_time"),
            "received_at": received_at,
        },
    }


def _received_at():
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


# -- configuration -------------------------------------------------------------------------------------
def load_config(args, environ=None):
    """The effective settings, or ValueError with a message that names the argument (never its value)."""
    environ = os.environ if environ is None else environ
    args = dict(args or {})
    unknown = sorted(set(args) - set(DEFAULTS))
    if unknown:
        raise ValueError("caseops.desk.unit21_webhook: unknown argument(s) %s; known: %s"
                         % (", ".join(unknown), ", ".join(sorted(DEFAULTS))))
    config = dict(DEFAULTS)
    for name, value in args.items():
        if value is None or value == "":
            continue
        if name in INT_ARGS:
            if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
                raise ValueError("caseops.desk.unit21_webhook: %s must be an integer" % name)
            value = int(value)
        elif not isinstance(value, str):
            raise ValueError("caseops.desk.unit21_webhook: %s must be a string" % name)
        config[name] = value
    if not config["secret"]:
        config["secret"] = environ.get(SECRET_ENV_VAR) or None
    if not config["secret"]:
        raise ValueError("caseops.desk.unit21_webhook: no webhook secret; set the 'secret' argument or the %s "
                         "environment variable to the secret shown in Unit21's webhook settings" % SECRET_ENV_VAR)
    if not 1 <= config["port"] <= 65535:
        raise ValueError("caseops.desk.unit21_webhook: port must be between 1 and 65535")
    for name in ("tolerance", "max_body_size", "dedup_window", "dedup_max_entries", "max_pending_events",
                 "max_json_depth", "read_timeout", "max_connections"):
        if config[name] < 1:
            raise ValueError("caseops.desk.unit21_webhook: %s must be at least 1" % name)
    if config["max_json_depth"] > MAX_JSON_DEPTH_CEILING:
        raise ValueError("caseops.desk.unit21_webhook: max_json_depth must be at most %d" % MAX_JSON_DEPTH_CEILING)
    for name in ("path", "health_path"):
        if not config[name].startswith("/"):
            raise ValueError("caseops.desk.unit21_webhook: %s must start with /" % name)
    if config["path"] == config["health_path"]:
        raise ValueError("caseops.desk.unit21_webhook: path and health_path must differ")
    if (config["keyfile"] or config["cafile"]) and not config["certfile"]:
        raise ValueError("caseops.desk.unit21_webhook: keyfile and cafile need certfile")
    return config


def ssl_context(config):
    if not config["certfile"]:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config["certfile"], config["keyfile"])
    if config["cafile"]:
        context.load_verify_locations(cafile=config["cafile"])
        context.verify_mode = ssl.CERT_REQUIRED
    return context


# -- connections -------------------------------------------------------------------------------------------
REFUSAL_BODY = b'{"status": "refused", "reason": "too many open connections"}'
REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
           b"Retry-After: 1\r\nConnection: close\r\n\r\n%s" % (len(REFUSAL_BODY), REFUSAL_BODY))
REFUSAL_LINGER = 1.0  # seconds a refused client gets to read the 503 before its socket is dropped
REFUSAL_LOG_INTERVAL = 10.0


class ConnectionGuard(object):
    """Caps open connections and closes those that take too long to send a request.

    It sits between asyncio and aiohttp's request handler: a connection accepted over the cap is refused; every
    other one is wrapped in a GuardedConnection. Connections are counted when accepted, and for HTTPS the TLS
    layer is added by the GuardedConnection itself, so a handshake that fails or stalls is counted, bounded by
    read_timeout and released like any other connection.
    """

    def __init__(self, max_connections, read_timeout, ssl_context=None):
        self.max_connections = max_connections
        self.read_timeout = read_timeout
        self.ssl_context = ssl_context
        self.open = 0
        self.refused = 0
        self._next_refusal_log = 0.0

    def protocol_factory(self, make_handler):
        def accept():
            if self.open >= self.max_connections:
                self._log_refusal()
                return RefusedConnection(answer=self.ssl_context is None)
            self.open += 1
            return GuardedConnection(self, make_handler())
        return accept

    def release(self, connection):
        if connection.counted:
            connection.counted = False
            self.open -= 1

    def _log_refusal(self):
        self.refused += 1
        now = time.monotonic()
        if now >= self._next_refusal_log:
            # At most one line every REFUSAL_LOG_INTERVAL seconds, however hard the flood.
            logger.warning("unit21_webhook: refused %d connection(s): %d connections are open (max_connections)",
                           self.refused, self.max_connections)
            self.refused = 0
            self._next_refusal_log = now + REFUSAL_LOG_INTERVAL

    @staticmethod
    def _connection(request):
        transport = request.transport
        connection = transport.get_protocol() if transport is not None else None
        return connection if isinstance(connection, GuardedConnection) else None

    def request_received(self, request):
        """The whole request is in: the clock stops while we answer (which may wait for backlog room)."""
        connection = self._connection(request)
        if connection is not None:
            connection.deadline = float("inf")

    async def on_response_prepare(self, request, response):
        """An answer is on its way: the connection's clock restarts for the next request."""
        connection = self._connection(request)
        if connection is not None:
            connection.restart_clock()


class GuardedConnection(asyncio.Protocol):
    """aiohttp's protocol for one connection, plus a deadline: each request, from the connection's start or
    the previous answer to the last byte of its body, must arrive within ``read_timeout`` seconds (for HTTPS
    the first one includes the TLS handshake)."""

    def __init__(self, guard, handler):
        self.guard = guard
        self.handler = handler
        self.counted = True
        self.transport = None
        self.deadline = None
        self.receiving = False
        self._timer = None
        self._handshake = None

    def connection_made(self, transport):
        loop = asyncio.get_running_loop()
        self.transport = transport
        self.restart_clock()
        self._timer = loop.call_at(self.deadline, self._check_deadline)
        if self.guard.ssl_context is None:
            self.handler.connection_made(transport)
        else:
            transport.pause_reading()  # nothing reaches the HTTP parser before the handshake is done
            self._handshake = loop.create_task(self._start_tls(transport))

    async def _start_tls(self, transport):
        try:
            tls_transport = await asyncio.get_running_loop().start_tls(
                transport, self, self.guard.ssl_context, server_side=True,
                ssl_handshake_timeout=self.guard.read_timeout)
        except Exception as exc:  # pylint: disable=broad-except  # any failure ends this connection alone
            failure = type(exc).__name__
        else:
            # start_tls also returns when the connection was cut mid-handshake (our deadline, or the client).
            failure = "the connection closed" if transport.is_closing() else None
        if failure:
            peer = transport.get_extra_info("peername")
            logger.info("unit21_webhook: TLS handshake with %s failed: %s", peer[0] if peer else "a client", failure)
            transport.abort()
            self._ended()
            return
        self.transport = tls_transport
        self.handler.connection_made(tls_transport)

    def restart_clock(self):
        # Only a float is stored per request; the one timer re-arms itself when it fires early.
        self.deadline = asyncio.get_running_loop().time() + self.guard.read_timeout
        self.receiving = False

    def _check_deadline(self):
        self._timer = None
        if self.transport is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        if now < self.deadline:
            # Never later than read_timeout from now: while an answer is prepared the deadline is infinite,
            # and the next one (restart_clock) is at least read_timeout away.
            self._timer = loop.call_at(min(self.deadline, now + self.guard.read_timeout), self._check_deadline)
            return
        if self.receiving:
            peer = self.transport.get_extra_info("peername")
            logger.warning("unit21_webhook: closed a connection from %s: no complete request within %d s "
                           "(read_timeout)", peer[0] if peer else "an unknown address", self.guard.read_timeout)
        self.transport.abort()

    def data_received(self, data):
        self.receiving = True
        self.handler.data_received(data)

    def eof_received(self):
        return self.handler.eof_received()

    def pause_writing(self):
        self.handler.pause_writing()

    def resume_writing(self):
        self.handler.resume_writing()

    def _ended(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.transport = None
        self.guard.release(self)

    def connection_lost(self, exc):
        self._ended()
        self.handler.connection_lost(exc)


class RefusedConnection(asyncio.Protocol):
    """A connection over the cap. Over plain HTTP it is answered 503 at once and closed within REFUSAL_LINGER;
    over HTTPS it is closed at once (a handshake only to refuse would cost more than the cap saves). Unit21
    retries either (FIDELITY.md, Unit21 W1)."""

    def __init__(self, answer):
        self.answer = answer
        self._timer = None

    def connection_made(self, transport):
        if self.answer and transport.can_write_eof():
            transport.write(REFUSAL)
            # Half-close and keep reading briefly, so the client reads the 503 instead of a reset.
            transport.write_eof()
            self._timer = asyncio.get_running_loop().call_later(REFUSAL_LINGER, transport.abort)
        else:
            transport.abort()

    def data_received(self, data):
        pass

    def connection_lost(self, exc):
        if self._timer is not None:
            self._timer.cancel()


# -- the server ------------------------------------------------------------------------------------------
class Unit21WebhookSource(object):
    def __init__(self, queue, config, clock=time.time):
        self.queue = queue
        self.config = config
        self.clock = clock
        self.pending = asyncio.Queue(maxsize=config["max_pending_events"])
        self.signatures = ExpiringSet(config["dedup_max_entries"])
        self.deliveries = ExpiringSet(config["dedup_max_entries"])
        self.guard = ConnectionGuard(config["max_connections"], config["read_timeout"], ssl_context(config))

    def application(self):
        app = web.Application()
        app.on_response_prepare.append(self.guard.on_response_prepare)
        app.router.add_post(self.config["path"], self.webhook)
        app.router.add_get(self.config["health_path"], self.health)
        return app

    @staticmethod
    async def health(request):
        return web.json_response({"status": "ok"})

    def _refuse(self, request, status, reason):
        logger.warning("unit21_webhook: refused a request from %s with HTTP %d: %s", request.remote, status, reason)
        response = web.json_response({"status": "refused", "reason": reason}, status=status)
        if status == 413:
            # Do not drain an oversize body: close the connection instead.
            response.force_close()
        return response

    async def _read_body(self, request):
        """The raw body, or None as soon as it grows past the cap (only the cap is ever held)."""
        limit = self.config["max_body_size"]
        if request.content_length is not None and request.content_length > limit:
            return None
        chunks = []
        size = 0
        while True:
            chunk = await request.content.read(READ_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)

    async def webhook(self, request):
        raw_body = await self._read_body(request)
        self.guard.request_received(request)
        if raw_body is None:
            return self._refuse(request, 413, "the body is over the %d-byte limit" % self.config["max_body_size"])
        header = request.headers.get(SIGNATURE_HEADER)
        if not header:
            return self._refuse(request, 401, "no %s header" % SIGNATURE_HEADER)
        now = self.clock()
        signature, reason = verify_signature(self.config["secret"], header, raw_body, int(now), self.config["tolerance"])
        if signature is None:
            return self._refuse(request, 401, reason)
        if self.signatures.seen(signature, now):
            logger.warning("unit21_webhook: dropped a replayed request from %s (its signature was already accepted)",
                           request.remote)
            return web.json_response({"status": "duplicate"})
        key = dedup_key(raw_body)
        if self.deliveries.seen(key, now):
            self.signatures.add(signature, now + self.config["tolerance"] + 1, now)
            logger.info("unit21_webhook: dropped a retried delivery from %s (the same body was accepted less than "
                        "%d s ago)", request.remote, self.config["dedup_window"])
            return web.json_response({"status": "duplicate"})
        if json_nesting_exceeds(raw_body, self.config["max_json_depth"]):
            return self._refuse(request, 400, "the body nests arrays/objects more than %d levels deep "
                                "(max_json_depth)" % self.config["max_json_depth"])
        try:
            payload = json.loads(raw_body.decode("utf-8"))
        except (ValueError, RecursionError):
            return self._refuse(request, 400, "the body is not valid JSON")
        if not isinstance(payload, dict):
            return self._refuse(request, 400, "the body is JSON but not an object")
        event = build_event(payload, _received_at())
        try:
            self.pending.put_nowait(event)
        except asyncio.QueueFull:
            # ansible-rulebook's queue holds one event, so the rule engine drains the backlog one event per
            # turn of the event loop while many deliveries can arrive in one turn: wait briefly for room.
            try:
                await asyncio.wait_for(self.pending.put(event), BACKLOG_WAIT)
            except asyncio.TimeoutError:
                return self._refuse(request, 503, "%d events are waiting for the rule engine"
                                    % self.pending.maxsize)
            now = self.clock()  # keeps each memory in expiry order after the wait
        # Remembered only once accepted, so a delivery refused above can still be retried.
        self.signatures.add(signature, now + self.config["tolerance"] + 1, now)
        self.deliveries.add(key, now + self.config["dedup_window"], now)
        return web.json_response({"status": "accepted"})

    async def forward(self):
        """Hand accepted deliveries to ansible-rulebook's (bounded) queue, in arrival order."""
        while True:
            event = await self.pending.get()
            await self.queue.put(event)
            await asyncio.sleep(0)

    async def run(self):
        # aiohttp's own idle timer (keepalive_timeout) keeps its default: read_timeout is shorter and wins.
        runner = web.AppRunner(self.application(), access_log=None)
        await runner.setup()
        forwarder = None
        server = None
        try:
            # The listening socket is made here rather than by a web.TCPSite, so that every connection passes
            # the guard (cap and deadline); the guard adds TLS itself.
            server = await asyncio.get_running_loop().create_server(
                self.guard.protocol_factory(runner.server), self.config["host"], self.config["port"],
                reuse_address=True)
            logger.info("unit21_webhook: listening on %s://%s:%d%s", "https" if self.config["certfile"] else "http",
                        self.config["host"], self.config["port"], self.config["path"])
            forwarder = asyncio.ensure_future(self.forward())
            await forwarder
        finally:
            if forwarder is not None:
                forwarder.cancel()
            if server is not None:
                server.close()
            await runner.cleanup()


async def main(queue, args):
    """ansible-rulebook entry point: serve until cancelled."""
    await Unit21WebhookSource(queue, load_config(args)).run()
