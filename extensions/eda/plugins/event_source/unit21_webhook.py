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
    limit), a body that is not a JSON object gets 400. Refusals are logged at warning level with the
    reason; the secret and the signature values are never logged.
  - A valid delivery is answered 200 at once and handed to the rule engine in the background, so a
    slow rule engine never makes Unit21 time out and retry.
  - Unit21 retries a delivery (up to 3 attempts) when it does not get a 2xx answer in time. Retries of a
    delivery already accepted are answered 200 but not put on the queue again. A retry is recognised by
    the payload's C(object_type), C(unit21_id), C(change) and C(change_time) (or, when one of those is
    missing, by the SHA-256 of the body), remembered for O(dedup_window) seconds.
  - A replayed request (the very same signature seen again within O(tolerance) seconds) is also answered
    200 and dropped, with a warning. This is harmless to the sender, and Unit21 itself may resend the same
    signed request when our first answer was lost.
  - "Each event is C({\"unit21\": <the payload, unchanged>, \"meta\": {...}}). C(meta) holds C(change) (the
    payload's C(change); C(OPEN) is reported as C(REOPENED), unknown values pass through unchanged),
    C(object_type), C(unit21_id) (null when the payload has none), C(change_time) and C(received_at)
    (ISO 8601 UTC). ansible-rulebook adds C(meta.source) and C(meta.uuid). Headers are not copied into the
    event, so the signature never reaches a playbook."
  - "C(GET) on O(health_path) answers C({\"status\": \"ok\"}) without authentication, for load balancers and
    readiness probes."
version_added: 0.1.0
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
      - Most accepted deliveries waiting for the rule engine. When that many are waiting, new deliveries
        get 503 so that Unit21 retries them later.
    type: int
    default: 1000
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
    cases are handled.
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
"""

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "unit21-signature"
SECRET_ENV_VAR = "UNIT21_WEBHOOK_SECRET"
CHANGE_ALIASES = {"OPEN": "REOPENED"}
READ_CHUNK = 65536

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
    "certfile": None,
    "keyfile": None,
    "cafile": None,
}
INT_ARGS = ("port", "tolerance", "max_body_size", "dedup_window", "dedup_max_entries", "max_pending_events")
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
    """Keys with an expiry time; at most ``max_entries`` of them (the oldest go first)."""

    def __init__(self, max_entries):
        self.max_entries = max_entries
        self._items = collections.OrderedDict()

    def _purge(self, now):
        expired = [key for key, expiry in self._items.items() if expiry <= now]
        for key in expired:
            del self._items[key]

    def seen(self, key, now):
        expiry = self._items.get(key)
        return expiry is not None and expiry > now

    def add(self, key, expiry, now):
        if len(self._items) >= self.max_entries:
            self._purge(now)
        self._items.pop(key, None)
        self._items[key] = expiry
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    def __len__(self):
        return len(self._items)


def dedup_key(payload, raw_body):
    """What a retry of the same delivery shares, whatever its signature."""
    fields = [payload.get(name) for name in ("unit21_id", "change", "change_time")]
    if all(field is not None for field in fields):
        return json.dumps([payload.get("object_type")] + fields, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


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
    for name in ("tolerance", "max_body_size", "dedup_window", "dedup_max_entries", "max_pending_events"):
        if config[name] < 1:
            raise ValueError("caseops.desk.unit21_webhook: %s must be at least 1" % name)
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


# -- the server ------------------------------------------------------------------------------------------
class Unit21WebhookSource(object):
    def __init__(self, queue, config, clock=time.time):
        self.queue = queue
        self.config = config
        self.clock = clock
        self.pending = asyncio.Queue(maxsize=config["max_pending_events"])
        self.signatures = ExpiringSet(config["dedup_max_entries"])
        self.deliveries = ExpiringSet(config["dedup_max_entries"])

    def application(self):
        app = web.Application()
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
        try:
            payload = json.loads(raw_body.decode("utf-8"))
        except ValueError:
            return self._refuse(request, 400, "the body is not valid JSON")
        if not isinstance(payload, dict):
            return self._refuse(request, 400, "the body is JSON but not an object")

        key = dedup_key(payload, raw_body)
        if self.deliveries.seen(key, now):
            self.signatures.add(signature, now + self.config["tolerance"] + 1, now)
            logger.info("unit21_webhook: dropped a retried delivery (unit21_id %s, change %s, change_time %s)",
                        payload.get("unit21_id"), payload.get("change"), payload.get("change_time"))
            return web.json_response({"status": "duplicate"})
        try:
            self.pending.put_nowait(build_event(payload, _received_at()))
        except asyncio.QueueFull:
            return self._refuse(request, 503, "%d events are waiting for the rule engine" % self.pending.maxsize)
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
        runner = web.AppRunner(self.application(), access_log=None)
        await runner.setup()
        forwarder = None
        try:
            site = web.TCPSite(runner, self.config["host"], self.config["port"], ssl_context=ssl_context(self.config))
            await site.start()
            logger.info("unit21_webhook: listening on %s://%s:%d%s", "https" if self.config["certfile"] else "http",
                        self.config["host"], self.config["port"], self.config["path"])
            forwarder = asyncio.ensure_future(self.forward())
            await forwarder
        finally:
            if forwarder is not None:
                forwarder.cancel()
            await runner.cleanup()


async def main(queue, args):
    """ansible-rulebook entry point: serve until cancelled."""
    await Unit21WebhookSource(queue, load_config(args)).run()
