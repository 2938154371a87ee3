"""Unit21 case webhooks: signing, payloads and delivery with Unit21's retry rule.

Signature (notes 3.4): ``unit21-signature: t=<unix time>,s0=<hex>`` where the
hex is HMAC-SHA256, keyed with the webhook secret, over ``b"<t>." + body``.
Delivery (notes 3.5): POST the JSON body; at most 3 attempts, retrying on a
status from 400 to 599 or a transport error, 1 s before the 2nd attempt and
2 s before the 3rd.  Each attempt is signed afresh with its own ``t``.
"""

import asyncio
import hashlib
import hmac
import json
import time

import aiohttp

SIGNATURE_HEADER = "unit21-signature"
DEFAULT_RETRY_DELAYS = (1.0, 2.0)
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_TIMEOUT = 10.0
ACTION_TRIGGERED = "ACTION_TRIGGERED"


def sign(secret, timestamp, raw_body):
    """Lower-case hex HMAC-SHA256 of ``b"<timestamp>." + raw_body``, keyed with the UTF-8 secret."""
    message = str(int(timestamp)).encode("ascii") + b"." + raw_body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret, timestamp, raw_body):
    return "t=%d,s0=%s" % (int(timestamp), sign(secret, timestamp, raw_body))


def encode_body(payload):
    """The exact bytes that are signed and sent."""
    return json.dumps(payload).encode("utf-8")


def _linked_object(item, id_field, type_field):
    entry = {id_field: item.get(id_field) or "", type_field: item.get(type_field)}
    if item.get("unit21_id") is not None:
        entry["unit21_id"] = item["unit21_id"]
    entry["resolution"] = item.get("resolution")
    return entry


def build_case_payload(case, change, change_time, changed_by=None, extra=None):
    """A case webhook body in the shape of Unit21's case webhook reference.

    ``case`` is the sandbox's stored case.  ACTION_TRIGGERED adds
    ``action_trigger_external_id``, ``subdisposition`` and ``disposition_notes``;
    ``extra`` is merged last so tests can override or add any field.
    """
    payload = {
        "unit21_id": case["unit21_id"],
        "case_id": case.get("case_id"),
        "status": case.get("status"),
        "disposition": case.get("disposition") or "",
        "object_type": "CASE",
        "change": change,
        "change_time": int(change_time),
        "changed_by": changed_by if changed_by is not None else case.get("created_by"),
        "title": case.get("title"),
        "description": case.get("description"),
        "start_date": case.get("start_date"),
        "end_date": case.get("end_date"),
        "entities": [_linked_object(e, "entity_id", "entity_type") for e in case.get("entities", [])],
        "events": [_linked_object(e, "event_id", "event_type") for e in case.get("events", [])],
        "tags": list(case.get("tags", [])),
        "instruments": list(case.get("instruments", [])),
        "created_by": case.get("created_by"),
        "watchers": list(case.get("watchers", [])),
        "custom_data": dict(case.get("custom_data") or {}),
    }
    if change == ACTION_TRIGGERED:
        payload["action_trigger_external_id"] = case.get("status")
        payload["subdisposition"] = []
        payload["disposition_notes"] = case.get("disposition_notes")
    payload.update(extra or {})
    return payload


class WebhookSender(object):
    """Delivers one payload with Unit21's retry rule; delays and clock are injectable for tests."""

    def __init__(self, retry_delays=DEFAULT_RETRY_DELAYS, timeout=DEFAULT_TIMEOUT, clock=time.time):
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.clock = clock

    def _delay_before(self, attempt):
        """Seconds to wait before attempt number ``attempt`` (2, 3, ...)."""
        if not self.retry_delays:
            return 0
        index = min(attempt - 2, len(self.retry_delays) - 1)
        return self.retry_delays[index]

    async def deliver(self, url, payload, secret, timestamp=None, max_attempts=DEFAULT_MAX_ATTEMPTS, on_attempt=None):
        """POST ``payload`` until a status below 400 or ``max_attempts`` tries.

        ``timestamp`` pins ``t`` for every attempt (to test stale-signature
        handling); otherwise each attempt uses the current time.  Returns
        ``{"delivered": bool, "attempts": [{"attempt", "t", "status", "error"}]}``.
        """
        body = encode_body(payload)
        attempts = []
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for number in range(1, max(1, max_attempts) + 1):
                if number > 1:
                    await asyncio.sleep(self._delay_before(number))
                record = await self._attempt(session, url, body, secret, timestamp, number)
                attempts.append(record)
                if on_attempt is not None:
                    on_attempt(record)
                if record["status"] is not None and record["status"] < 400:
                    return {"delivered": True, "attempts": attempts}
        return {"delivered": False, "attempts": attempts}

    async def _attempt(self, session, url, body, secret, timestamp, number):
        t = int(timestamp if timestamp is not None else self.clock())
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature_header(secret, t, body)}
        record = {"attempt": number, "t": t, "status": None, "error": None}
        try:
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()
                record["status"] = response.status
        except asyncio.TimeoutError:
            record["error"] = "timed out after %.1f s" % self.timeout
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            record["error"] = "%s: %s" % (type(exc).__name__, exc)
        return record
