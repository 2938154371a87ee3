"""Unit21 emulator: the cases API under /v1 and test-only webhook controls.

Follows ``shared/api/unit21.md`` and ``unit21.openapi.json``.  Every fact or
choice is a row of FIDELITY.md ("Unit21", U1..); README.md ("Unit21") lists the
details.
"""

import asyncio
import base64
import binascii
import email.parser
import email.policy
import hashlib
import json
import mimetypes
import os
import re

from aiohttp import web

from context import VendorAPI, declare_variant  # pylint: disable=import-error
from webhooks import WebhookSender, build_case_payload  # pylint: disable=import-error

API_ROOT = "/v1"
CONTROL_ROOT = "/_sandbox/unit21"

API_AGENT = "api@sandbox.unit21.example"
INTERNAL_AGENT = "agent@sandbox.unit21.example"
UNIT21_ID_BASE = 100000
STATUSES = ("OPEN", "CLOSED")
SOURCES = ("INTERNAL", "EXTERNAL")
EVENT_TYPES = ("transaction", "action")
MERGE_STRATEGIES = ("union", "replace", "difference")
SUBSCRIPTION_CHANGES = ("CREATED", "CLOSED", "REOPENED")
MEDIA_EXTENSIONS = ("txt", "pdf", "mp4", "mov", "wmv", "avi", "mkv", "png", "jpg", "jpeg", "tiff", "gif", "raw", "eps")
MAX_MEDIA_BYTES = 5 * 1024 * 1024
MAX_BATCH = 1000
MAX_CUSTOM_DATA_DEPTH = 3
LIST_LIMIT_MAX = 50
LIST_LIMIT_DEFAULT = 10
# "POST body must be smaller than 1MB" (FIDELITY.md, Unit21 U3); MB read as 10**6 bytes, the stricter reading.
BODY_LIMIT = 1000000

# FIDELITY.md, Unit21 U1/U2: GET /cases/{id} answers the documented getCaseResponse (15 fields), or, with
# "full", the union of that and the 2021-2022 example (tags, custom_data, dates, linked objects...).
GET_CASE_SHAPE = declare_variant("SANDBOX_UNIT21_GET_CASE_SHAPE", "documented", ("documented", "full"))
# FIDELITY.md, Unit21 U4: whether the 1 MB body limit also covers multipart link-media bodies.
BODY_LIMIT_SCOPE = declare_variant("SANDBOX_UNIT21_BODY_LIMIT", "json", ("json", "all"))
# The fields of getCaseResponse and caseList in unit21.openapi.json.
GET_CASE_FIELDS = ("unit21_id", "actions", "case_id", "checklist", "created_at", "created_by", "descendant_sar_filing",
                   "description", "disposition", "disposition_at", "dispositioned_by", "rules", "source", "status",
                   "title")
LIST_CASE_FIELDS = ("unit21_id", "assigned_to", "case_id", "created_at", "created_by", "custom_data", "description",
                    "disposition", "disposition_at", "dispositioned_by", "source", "status", "tags", "title")

ERROR_CODES = {
    400: ("invalid_input", "Bad request"),
    401: ("unauthorized", "Invalid or missing API key"),
    403: ("forbidden", "Forbidden. You do not have the permissions to access this resource."),
    404: ("resource_not_found", "Resource not found"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("invalid_input", "Request body is too large"),
    423: ("locked", "Object updates in progress. Please try again later."),
    429: ("rate_limit_exceeded", "Rate limit reached. Please slow down."),
    500: ("internal_server_error", "Internal server error"),
    502: ("bad_gateway", "Bad gateway"),
    503: ("service_unavailable", "Service unavailable: the API is under maintenance"),
    504: ("gateway_timeout", "Gateway timeout"),
}

CREATE_FIELDS = ("case_id", "title", "start_date", "end_date", "created_at", "description", "status", "disposition",
                 "disposition_notes", "tags", "queue_id", "alerts", "alert_ids", "events", "event_ids", "entities",
                 "entity_ids", "custom_data", "options")
LIST_FIELDS = ("limit", "offset", "created_after", "created_before", "dispositions", "dispositioned_after",
               "dispositioned_before", "dispositioned_by", "rules", "associated_entities", "associated_events",
               "associated_alerts", "sources", "statuses", "tag_filters", "options")
# Extra fields the control route accepts for INTERNAL cases (things only Unit21 itself sets).
INTERNAL_FIELDS = ("source", "created_by", "assigned_to", "rules", "checklist", "actions", "descendant_sar_filing",
                   "instruments", "watchers")


class U21Error(Exception):
    """An error answer: ``{"error_code", "message"}`` with an HTTP status."""

    def __init__(self, status, message, error_code=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code or ERROR_CODES.get(status, ("error", ""))[0]


def _invalid(message):
    return U21Error(400, message)


def _not_found(unit21_id):
    return U21Error(404, "Case with unit21_id %s not found" % unit21_id)


class SecondWindowLimiter(object):
    """Fixed one-second windows aligned to the epoch second, one per client address."""

    def __init__(self, limit, clock):
        self.limit = limit
        self.clock = clock
        self.windows = {}

    def _window(self, key):
        second = int(self.clock())
        window = self.windows.get(key)
        if window is None or window[0] != second:
            window = [second, 0]
            self.windows[key] = window
        return window

    def hit(self, key):
        window = self._window(key)
        window[1] += 1
        return window[1] <= self.limit

    def headers(self, key):
        window = self._window(key)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - window[1])),
            "X-RateLimit-Reset": str(window[0] + 1),
        }


# -- field validation ---------------------------------------------------------------

def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _string(body, field, max_length=None, required=False, nullable=True):
    value = body.get(field)
    if value is None:
        if required or (field in body and not nullable):
            raise _invalid("%s is required and must be a string" % field)
        return None
    if not isinstance(value, str):
        raise _invalid("%s must be a string" % field)
    if required and not value:
        raise _invalid("%s must not be empty" % field)
    if max_length is not None and len(value) > max_length:
        raise _invalid("%s must be at most %d characters (got %d)" % (field, max_length, len(value)))
    return value


def _epoch(body, field, required=False):
    value = body.get(field)
    if value is None:
        if required:
            raise _invalid("%s is required and must be an integer epoch timestamp in seconds" % field)
        return None
    if not _is_int(value) or value < 0:
        raise _invalid("%s must be an integer epoch timestamp in seconds (got %s)" % (field, json.dumps(value)))
    return value


def _int_list(body, field):
    value = body.get(field)
    if not isinstance(value, list) or not all(_is_int(v) for v in value):
        raise _invalid("%s must be a list of integers" % field)
    return list(value)


def _string_list(body, field):
    value = body.get(field)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid("%s must be a list of strings" % field)
    return list(value)


def _tags(body, field="tags"):
    tags = _string_list(body, field)
    for tag in tags:
        key, sep, value = tag.partition(":")
        if not (key and sep and value):
            raise _invalid("%s entries must have the form key:value (got %s)" % (field, json.dumps(tag)))
    return tags


def custom_data_depth(value):
    """Object nesting depth; lists do not add a level (the spec's own example holds one)."""
    if isinstance(value, dict):
        return 1 + max([custom_data_depth(v) for v in value.values()] or [0])
    if isinstance(value, list):
        return max([custom_data_depth(v) for v in value] or [0])
    return 0


def _custom_data(body, field="custom_data"):
    value = body.get(field)
    if not isinstance(value, dict):
        raise _invalid("%s must be a JSON object" % field)
    if custom_data_depth(value) > MAX_CUSTOM_DATA_DEPTH:
        raise _invalid("%s may be at most %d levels deep" % (field, MAX_CUSTOM_DATA_DEPTH))
    return value


def _entity(item, field):
    """One entity in any historic shape (notes 2.1) -> {entity_id, entity_type[, unit21_id]}."""
    if isinstance(item, str):
        return {"entity_id": item, "entity_type": None}
    if _is_int(item):
        return {"entity_id": None, "entity_type": None, "unit21_id": item}
    if isinstance(item, dict) and isinstance(item.get("entity_id"), str):
        entity_type = item.get("entity_type")
        if entity_type is not None and not isinstance(entity_type, str):
            raise _invalid("%s[].entity_type must be a string" % field)
        return {"entity_id": item["entity_id"], "entity_type": entity_type}
    raise _invalid("%s entries must be entity_id strings, unit21_id integers or "
                   "{entity_id, entity_type} objects" % field)


def _event(item, field):
    """One event in any historic shape -> {event_id, event_type[, unit21_id]}."""
    if isinstance(item, str):
        return {"event_id": item, "event_type": None}
    if _is_int(item):
        return {"event_id": None, "event_type": None, "unit21_id": item}
    if isinstance(item, dict) and isinstance(item.get("event_id"), str):
        event_type = item.get("event_type")
        if event_type is not None and event_type not in EVENT_TYPES:
            raise _invalid("%s[].event_type must be one of %s (got %s)"
                           % (field, ", ".join(EVENT_TYPES), json.dumps(event_type)))
        return {"event_id": item["event_id"], "event_type": event_type}
    raise _invalid("%s entries must be {event_id, event_type} objects or unit21_id integers" % field)


def _linked(body, fields, convert):
    """Concatenate the historic spellings of one linked-object list (e.g. entities + entity_ids)."""
    result = None
    for field in fields:
        if body.get(field) is None:
            continue
        if not isinstance(body[field], list):
            raise _invalid("%s must be a list" % field)
        result = (result or []) + [convert(item, field) for item in body[field]]
    return result


def _options(body):
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise _invalid("options must be a JSON object")
    strategy = options.get("list_merge_strategy", "union")
    if strategy not in MERGE_STRATEGIES:
        raise _invalid("options.list_merge_strategy must be one of %s (got %s)"
                       % (", ".join(MERGE_STRATEGIES), json.dumps(strategy)))
    merge = options.get("merge_custom_data", False)
    if not isinstance(merge, bool):
        raise _invalid("options.merge_custom_data must be a boolean")
    return strategy, merge


def validate_case_fields(body, creating, allowed=CREATE_FIELDS):
    """Checked case fields from a create/update body, linked objects normalised."""
    if not isinstance(body, dict):
        raise _invalid("request body must be a JSON object")
    for field in body:
        if field not in allowed:
            raise _invalid("Unexpected field %s" % json.dumps(field))
    fields = {}
    if creating or "case_id" in body:
        fields["case_id"] = _string(body, "case_id", 128, required=creating)
    if creating or "title" in body:
        fields["title"] = _string(body, "title", 256, required=creating, nullable=False)
    if creating or "start_date" in body:
        fields["start_date"] = _epoch(body, "start_date", required=creating)
    for field in ("end_date", "created_at"):
        if field in body:
            fields[field] = _epoch(body, field)
    for field, limit in (("description", 1024), ("disposition", 128), ("disposition_notes", None)):
        if field in body:
            fields[field] = _string(body, field, limit)
    if "status" in body:
        if body["status"] not in STATUSES:
            raise _invalid("status must be one of OPEN, CLOSED (got %s)" % json.dumps(body["status"]))
        fields["status"] = body["status"]
    if body.get("queue_id") is not None:
        if not _is_int(body["queue_id"]):
            raise _invalid("queue_id must be an integer")
        fields["queue_id"] = body["queue_id"]
    if body.get("tags") is not None:
        fields["tags"] = _tags(body)
    if body.get("custom_data") is not None:
        fields["custom_data"] = _custom_data(body)
    alerts = [_int_list(body, f) for f in ("alerts", "alert_ids") if body.get(f) is not None]
    if alerts:
        fields["alerts"] = [a for group in alerts for a in group]
    for name, spellings, convert in (("entities", ("entities", "entity_ids"), _entity),
                                     ("events", ("events", "event_ids"), _event)):
        linked = _linked(body, spellings, convert)
        if linked is not None:
            fields[name] = linked
    _options(body)
    return fields


# -- list merging ------------------------------------------------------------------

def _item_key(item):
    """Identity of a list entry for union/difference: the external id, else the unit21_id."""
    if isinstance(item, dict):
        external = item.get("entity_id", item.get("event_id"))
        return ("id", external) if external else ("u21", item.get("unit21_id"))
    return item


def merge_list(current, given, strategy):
    if strategy == "replace":
        return list(given)
    keys = [_item_key(i) for i in given]
    if strategy == "difference":
        return [i for i in current if _item_key(i) not in keys]
    merged = list(current)
    seen = [_item_key(i) for i in merged]
    for item, key in zip(given, keys):
        if key not in seen:
            merged.append(item)
            seen.append(key)
    return merged


def deep_merge(current, given):
    merged = dict(current)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# -- views ---------------------------------------------------------------------------

def _linked_view(items):
    return [dict(item) for item in items]


def case_view(case, associations=True, actions=True, checklist=True):
    """The union of the current getCaseResponse and the 2021-2022 example (notes 2.3)."""
    view = {
        "unit21_id": case["unit21_id"],
        "case_id": case["case_id"],
        "title": case["title"],
        "description": case["description"],
        "status": case["status"],
        "disposition": case["disposition"],
        "disposition_notes": case["disposition_notes"],
        "disposition_at": case["disposition_at"],
        "dispositioned_at": case["disposition_at"],
        "dispositioned_by": case["dispositioned_by"],
        "created_at": case["created_at"],
        "created_by": case["created_by"],
        "start_date": case["start_date"],
        "end_date": case["end_date"],
        "source": list(case["source"]),
        "assigned_to": case["assigned_to"],
        "queue_id": case["queue_id"],
        "tags": list(case["tags"]),
        "custom_data": case["custom_data"],
    }
    if associations:
        view["entities"] = _linked_view(case["entities"])
        view["events"] = _linked_view(case["events"])
        view["alerts"] = list(case["alerts"])
        view["rules"] = list(case["rules"])
        view["descendant_sar_filing"] = list(case["descendant_sar_filing"])
    if actions:
        view["actions"] = list(case["actions"])
    if checklist:
        view["checklist"] = list(case["checklist"])
    return view


def documented_case_view(case):
    """GET /cases/{unit21_id} as getCaseResponse documents it (FIDELITY.md, Unit21 U1)."""
    full = case_view(case)
    return dict((field, full[field]) for field in GET_CASE_FIELDS)


def documented_list_item(case, associations=False, actions=False, checklist=False):
    """One /cases/list item as caseList documents it (FIDELITY.md, Unit21 U2): the top-level fields with tags and
    custom_data; rules and descendant_sar_filing with include_associations, actions and checklist when asked."""
    full = case_view(case)
    item = dict((field, full[field]) for field in LIST_CASE_FIELDS)
    if associations:
        item["rules"], item["descendant_sar_filing"] = full["rules"], full["descendant_sar_filing"]
    if actions:
        item["actions"] = full["actions"]
    if checklist:
        item["checklist"] = full["checklist"]
    return item


def media_view(media):
    return {k: v for k, v in media.items() if k != "base64"}


# -- multipart ----------------------------------------------------------------------

def parse_multipart(content_type, raw):
    """Form parts as ``[{name, filename, content_type, data}]``, with the standard library's MIME parser."""
    head = b"MIME-Version: 1.0\r\nContent-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise _invalid("multipart/form-data body could not be parsed")
    parts = []
    for part in message.iter_parts():
        parts.append({
            "name": part.get_param("name", header="content-disposition"),
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "data": part.get_payload(decode=True) or b"",
        })
    return parts


def _extension_ok(name):
    extension = os.path.splitext(name)[1].lower().lstrip(".")
    if not extension:
        raise _invalid("name must include a file extension, e.g. File.pdf (got %s)" % json.dumps(name))
    if extension not in MEDIA_EXTENSIONS:
        raise _invalid("file type .%s is not supported; allowed: %s" % (extension, ", ".join(MEDIA_EXTENSIONS)))


def _size_ok(name, data):
    if len(data) > MAX_MEDIA_BYTES:
        raise _invalid("media %s is %d bytes; the limit is 5 MB (%d bytes) per file"
                       % (json.dumps(name), len(data), MAX_MEDIA_BYTES))


def media_from_json(items):
    """Checked media from the base64 JSON form: ``[{media, name, media_type?, custom_data?}]``."""
    if not isinstance(items, list) or not items:
        raise _invalid("body must be a non-empty JSON array of {media, name, media_type, custom_data} objects")
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _invalid("media[%d] must be an object" % index)
        name = _string(item, "name", required=True)
        if not isinstance(item.get("media"), str):
            raise _invalid("media[%d].media is required and must be a base64 string" % index)
        try:
            data = base64.b64decode(item["media"], validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("media[%d].media is not valid base64" % index) from None
        _extension_ok(name)
        _size_ok(name, data)
        custom = _custom_data(item) if item.get("custom_data") is not None else {}
        result.append({"name": name, "media_type": _string(item, "media_type"), "custom_data": custom,
                       "data": data, "content_type": mimetypes.guess_type(name)[0], "form": "json"})
    return result


def media_from_form(parts):
    """Checked media from multipart: a file part plus an optional same-named JSON text part."""
    files, metadata = [], {}
    for part in parts:
        name = part.get("name") or ""
        if not re.match(r"^[A-Za-z0-9_-]+$", name):
            raise _invalid("form field names must be alphanumeric (got %s)" % json.dumps(name))
        if part.get("filename"):
            files.append(part)
            continue
        try:
            value = json.loads(part["data"].decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError):
            raise _invalid("form field %s must hold stringified JSON metadata" % name) from None
        if not isinstance(value, dict):
            raise _invalid("form field %s must hold a JSON object" % name)
        metadata[name] = value
    if not files:
        raise _invalid("multipart body holds no file part")
    orphans = sorted(set(metadata) - set(p["name"] for p in files))
    if orphans:
        raise _invalid("form field %s has metadata but no file" % orphans[0])
    result = []
    for part in files:
        _extension_ok(part["filename"])
        _size_ok(part["filename"], part["data"])
        meta = dict(metadata.get(part["name"], {}))
        media_type = meta.pop("media_type", None)
        result.append({"name": part["filename"], "media_type": media_type, "custom_data": meta, "data": part["data"],
                       "content_type": part.get("content_type"), "form": "multipart", "field": part["name"]})
    return result


class Unit21API(VendorAPI):
    """The Unit21 cases API, plus control routes for INTERNAL cases and webhooks."""

    name = "unit21"
    prefixes = ("/v1/",)
    redact_headers = ("u21-key",)
    redact_form_fields = ("secret",)

    def __init__(self, ctx, webhook_retry_delays=None, webhook_timeout=10.0):
        super().__init__(ctx)
        self.limiter = SecondWindowLimiter(ctx.config["SANDBOX_UNIT21_RATE_LIMIT"], ctx.now)
        self.retry_delays = tuple(webhook_retry_delays) if webhook_retry_delays is not None else (1.0, 2.0)
        self.webhook_timeout = webhook_timeout
        self._tasks = set()

    def empty_state(self):
        return {"cases": {}, "subscriptions": [], "deliveries": []}

    @property
    def state(self):
        return self.ctx.section(self.name)

    # -- registration ---------------------------------------------------------------
    def register(self, app):
        routes = [
            ("POST", "/cases/create", self.create_case, "create_case"),
            ("POST", "/cases/list", self.list_cases, "list_cases"),
            ("GET", "/cases/{unit21_id}", self.get_case, "get_case_by_unit21_id"),
            ("PUT", "/cases/{unit21_id}/update", self.update_case, "update_case"),
            ("PUT", "/cases/{unit21_id}/link-media", self.link_media, "link_media_to_case"),
        ]
        for method, path, handler, name in routes:
            app.router.add_route(method, API_ROOT + path, self._guard(handler), name=name)
        app.on_response_prepare.append(self._add_rate_headers)
        app.on_cleanup.append(self._stop_deliveries)

    def register_control(self, app):
        routes = [
            ("POST", "/webhooks/send", self.control_send, "sandbox.unit21.webhook_send"),
            ("POST", "/webhooks/subscriptions", self.control_subscribe, "sandbox.unit21.subscription_add"),
            ("GET", "/webhooks/subscriptions", self.control_subscriptions, "sandbox.unit21.subscription_list"),
            ("DELETE", "/webhooks/subscriptions", self.control_unsubscribe, "sandbox.unit21.subscription_delete"),
            ("GET", "/webhooks/deliveries", self.control_deliveries, "sandbox.unit21.deliveries"),
            ("POST", "/cases", self.control_create_case, "sandbox.unit21.internal_case"),
            ("POST", "/cases/bulk", self.control_bulk_cases, "sandbox.unit21.bulk_cases"),
            ("GET", "/cases/{unit21_id}/media", self.control_media, "sandbox.unit21.case_media"),
        ]
        for method, path, handler, name in routes:
            app.router.add_route(method, CONTROL_ROOT + path, self._control(handler), name=name)

    def _guard(self, handler):
        async def guarded(request):
            try:
                if not self.limiter.hit(self._limit_key(request)):
                    raise U21Error(429, "Rate limit of %d requests per second exceeded" % self.limiter.limit)
                self._authenticate(request)
                await self._check_body_size(request)
                return await handler(request)
            except U21Error as exc:
                return self._error(exc)
        return guarded

    def _control(self, handler):
        async def guarded(request):
            try:
                return await handler(request)
            except U21Error as exc:
                return self._error(exc)
        return guarded

    # -- errors, auth, headers ----------------------------------------------------------
    def error_response(self, status, message=None, headers=None):
        headers = dict(headers or {})
        code, default = ERROR_CODES.get(status, ("error", "Error"))
        if status == 429 and "X-RateLimit-Reset" not in headers:
            headers.update({"X-RateLimit-Limit": str(self.limiter.limit), "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": str(int(self.ctx.now()) + 1)})
        return web.json_response({"error_code": code, "message": message or default}, status=status, headers=headers)

    @staticmethod
    def _error(exc):
        return web.json_response({"error_code": exc.error_code, "message": exc.message}, status=exc.status)

    @staticmethod
    def _limit_key(request):
        return request.remote or "local"

    def _authenticate(self, request):
        key = request.headers.get("u21-key")
        if not key:
            raise U21Error(401, "Missing API key: send it in the u21-key header")
        if key != self.ctx.config["SANDBOX_UNIT21_API_KEY"]:
            raise U21Error(401, "Invalid API key")

    async def _check_body_size(self, request):
        """413 for a write body of 1 MB or more (FIDELITY.md, Unit21 U3); multipart only with the "all" variant (U4)."""
        if request.method not in ("POST", "PUT"):
            return
        size = len(await request.read())
        multipart = request.headers.get("Content-Type", "").startswith("multipart/form-data")
        if size >= BODY_LIMIT and (not multipart or self.ctx.config.variant(BODY_LIMIT_SCOPE) == "all"):
            raise U21Error(413, "Request body is %d bytes; a request body must be smaller than 1MB (%d bytes)"
                           % (size, BODY_LIMIT))

    async def _add_rate_headers(self, request, response):
        if not self.owns(request.path):
            return
        for name, value in self.limiter.headers(self._limit_key(request)).items():
            response.headers.setdefault(name, value)

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    async def _json(request, empty=None):
        raw = await request.read()
        if not raw.strip():
            return empty
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise _invalid("Request body is not valid JSON") from None

    def _case(self, request):
        raw = request.match_info["unit21_id"]
        if not re.match(r"^\d+$", raw):
            raise _invalid("unit21_id must be an integer (got %s)" % json.dumps(raw))
        case = self.state["cases"].get(str(int(raw)))
        if case is None:
            raise _not_found(raw)
        return case

    def _now(self):
        return int(self.ctx.now())

    def _case_id_taken(self, case_id):
        return case_id is not None and any(c["case_id"] == case_id for c in self.state["cases"].values())

    def _new_case(self, fields, created_by=API_AGENT):
        now = self._now()
        case = {
            "unit21_id": UNIT21_ID_BASE + self.ctx.next_id("unit21.case"),
            "case_id": None, "title": None, "description": None, "status": "OPEN",
            "disposition": None, "disposition_notes": None, "disposition_at": None, "dispositioned_by": None,
            "created_at": now, "created_by": created_by, "start_date": now, "end_date": None,
            "source": ["EXTERNAL"], "assigned_to": None, "queue_id": None, "tags": [], "custom_data": {},
            "entities": [], "events": [], "alerts": [], "rules": [], "descendant_sar_filing": [],
            "actions": [], "checklist": [], "instruments": [], "watchers": [], "media": [],
        }
        for field in ("created_at", "start_date"):
            if fields.get(field) is None:
                fields.pop(field, None)
        case.update(fields)
        if case["disposition"]:
            case["disposition_at"], case["dispositioned_by"] = now, created_by
        self.state["cases"][str(case["unit21_id"])] = case
        self.ctx.changed()
        self._notify(case, "CREATED", created_by)
        return case

    # -- create ---------------------------------------------------------------------------
    async def create_case(self, request):
        body = await self._json(request, empty={})
        if isinstance(body, dict) and isinstance(body.get("cases"), list) and len(body) == 1:
            return web.json_response({"cases": self._create_batch(body["cases"])})
        return web.json_response(self._create_one(body))

    def _create_one(self, body):
        fields = validate_case_fields(body, creating=True)
        if self._case_id_taken(fields["case_id"]):
            raise U21Error(409, "A case with case_id %s already exists; use /cases/{unit21_id}/update to change it"
                           % json.dumps(fields["case_id"]))
        case = self._new_case(fields)
        return {"case_id": case["case_id"], "unit21_id": case["unit21_id"], "previously_existed": False}

    def _create_batch(self, items):
        """Each case is created or rejected on its own; errors take the place of that case's result."""
        if len(items) > MAX_BATCH:
            raise _invalid("cases may hold at most %d objects per request" % MAX_BATCH)
        results = []
        for item in items:
            try:
                results.append(self._create_one(item))
            except U21Error as exc:
                case_id = item.get("case_id") if isinstance(item, dict) else None
                results.append({"case_id": case_id, "error_code": exc.error_code, "message": exc.message})
        return results

    # -- update ---------------------------------------------------------------------------
    async def update_case(self, request):
        case = self._case(request)
        if "EXTERNAL" not in case["source"]:
            raise _invalid("Only EXTERNAL cases can be updated; case %d is INTERNAL" % case["unit21_id"])
        body = await self._json(request, empty={})
        fields = validate_case_fields(body, creating=False)
        strategy, merge_custom = _options(body)
        if "case_id" in fields and fields.pop("case_id") != case["case_id"]:
            raise _invalid("case_id cannot be changed (it is %s)" % json.dumps(case["case_id"]))
        self._apply_update(case, fields, strategy, merge_custom, API_AGENT)
        return web.json_response({"unit21_id": case["unit21_id"], "case_id": case["case_id"]})

    def _apply_update(self, case, fields, strategy, merge_custom, agent):
        old_status, old_disposition = case["status"], case["disposition"]
        for name in ("tags", "alerts", "entities", "events"):
            if name in fields:
                case[name] = merge_list(case[name], fields.pop(name), strategy)
        if "custom_data" in fields:
            given = fields.pop("custom_data")
            case["custom_data"] = deep_merge(case["custom_data"], given) if merge_custom else given
        case.update(fields)
        if case["status"] != old_status or case["disposition"] != old_disposition:
            self._record_action(case, agent, case["status"] != old_status)
        self.ctx.changed()
        if old_status == "OPEN" and case["status"] == "CLOSED":
            self._notify(case, "CLOSED", agent)
        elif old_status == "CLOSED" and case["status"] == "OPEN":
            self._notify(case, "REOPENED", agent)

    def _record_action(self, case, agent, status_changed):
        now = self._now()
        case["disposition_at"], case["dispositioned_by"] = now, agent
        case["actions"].append({
            "action_time": now,
            "author": agent,
            "disposition": case["disposition"],
            "disposition_notes": case["disposition_notes"],
            "reassigned_to": None,
            "status_changed_to": case["status"] if status_changed else None,
            "subdispositions": [],
            "work_started_on": None,
        })

    # -- get and list ---------------------------------------------------------------------
    def _documented(self):
        return self.ctx.config.variant(GET_CASE_SHAPE) == "documented"

    async def get_case(self, request):
        case = self._case(request)
        return web.json_response(documented_case_view(case) if self._documented() else case_view(case))

    async def list_cases(self, request):
        body = await self._json(request, empty={})
        if not isinstance(body, dict):
            raise _invalid("request body must be a JSON object")
        for field in body:
            if field not in LIST_FIELDS:
                raise _invalid("Unexpected field %s" % json.dumps(field))
        limit, page = _paging(body)
        matcher = CaseFilter(body)
        options = _list_options(body)
        matches = sorted((c for c in self.state["cases"].values() if matcher.matches(c)), key=lambda c: c["unit21_id"])
        window = matches[(page - 1) * limit:page * limit]
        view = documented_list_item if self._documented() else case_view
        cases = [view(c, **options) for c in window]
        return web.json_response({"cases": cases, "response_count": len(cases), "total_count": len(matches)})

    # -- link media ------------------------------------------------------------------------
    async def link_media(self, request):
        case = self._case(request)
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            if request.get("multipart_error"):
                raise _invalid("multipart/form-data body could not be parsed: %s" % request["multipart_error"])
            parts = request.get("multipart")
            if parts is None:
                parts = parse_multipart(content_type, await request.read())
            media = media_from_form(parts)
        elif content_type.startswith("application/json") or not content_type:
            media = media_from_json(await self._json(request))
        else:
            raise _invalid("Content-Type must be application/json or multipart/form-data")
        for item in media:
            case["media"].append(self._stored_media(item))
        self.ctx.changed()
        return web.json_response({})

    def _stored_media(self, item):
        data = item.pop("data")
        item.update({
            "id": self.ctx.next_id("unit21.media"),
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "linked_at": self._now(),
            "base64": base64.b64encode(data).decode("ascii"),
        })
        return item

    # -- webhooks -----------------------------------------------------------------------------
    def _notify(self, case, change, agent):
        """Queue a signed delivery to every subscription that wants ``change``."""
        for subscription in self.state["subscriptions"]:
            if change not in subscription["changes"]:
                continue
            payload = build_case_payload(case, change, self._now(), changed_by=agent)
            delays = subscription.get("retry_delays")
            coroutine = self._deliver(subscription["url"], payload, subscription.get("secret"), None,
                                      subscription.get("max_attempts", 3), delays,
                                      {"subscription_id": subscription["id"]})
            task = asyncio.ensure_future(coroutine)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url, payload, secret, timestamp, max_attempts, retry_delays, extra=None):
        """Send one payload and keep the delivery, attempt by attempt, in state."""
        record = {"id": self.ctx.next_id("unit21.delivery"), "url": url, "change": payload.get("change"),
                  "unit21_id": payload.get("unit21_id"), "payload": payload, "attempts": [], "delivered": None}
        record.update(extra or {})
        self.state["deliveries"].append(record)
        self.ctx.changed()

        def on_attempt(attempt):
            record["attempts"].append(attempt)
            self.ctx.changed()

        delays = self.retry_delays if retry_delays is None else retry_delays
        sender = WebhookSender(delays, self.webhook_timeout, self.ctx.now)
        secret = secret or self.ctx.config["SANDBOX_UNIT21_WEBHOOK_SECRET"]
        result = await sender.deliver(url, payload, secret, timestamp, max_attempts, on_attempt)
        record["delivered"] = result["delivered"]
        self.ctx.changed()
        return result

    def on_reset(self):
        """Forget rate-limit windows and abandon deliveries that belong to the old state."""
        self.limiter.windows.clear()
        for task in list(self._tasks):
            task.cancel()

    async def _stop_deliveries(self, app):
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait_for_deliveries(self):
        """Wait until every background delivery has finished (for tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- control routes ------------------------------------------------------------------------
    async def control_send(self, request):
        body = await self._json(request, empty={})
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            raise _invalid("url is required")
        payload = self._control_payload(body)
        timestamp = body.get("timestamp")
        if timestamp is not None and not _is_int(timestamp):
            raise _invalid("timestamp must be an integer")
        max_attempts = body.get("max_attempts", 3)
        if not _is_int(max_attempts) or max_attempts < 1:
            raise _invalid("max_attempts must be a positive integer")
        result = await self._deliver(body["url"], payload, body.get("secret"), timestamp, max_attempts,
                                     _delays(body), {"source": "send"})
        return web.json_response({"delivered": result["delivered"], "attempts": result["attempts"],
                                  "payload": payload})

    def _control_payload(self, body):
        extra = body.get("extra") or {}
        if not isinstance(extra, dict):
            raise _invalid("extra must be an object")
        if isinstance(body.get("payload"), dict):
            payload = dict(body["payload"])
            payload.update(extra)
            return payload
        if body.get("unit21_id") is None:
            raise _invalid("give either payload (an object) or unit21_id and change")
        case = self.state["cases"].get(str(body["unit21_id"]))
        if case is None:
            raise _not_found(body["unit21_id"])
        change = body.get("change", "CREATED")
        return build_case_payload(case, change, self._now(), changed_by=body.get("changed_by"), extra=extra)

    async def control_subscribe(self, request):
        body = await self._json(request, empty={})
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            raise _invalid("url is required")
        changes = body.get("changes") or list(SUBSCRIPTION_CHANGES)
        if not isinstance(changes, list) or not all(isinstance(c, str) for c in changes):
            raise _invalid("changes must be a list of strings")
        subscription = {"id": self.ctx.next_id("unit21.subscription"), "url": body["url"], "changes": changes,
                        "secret": body.get("secret"), "retry_delays": _delays(body),
                        "max_attempts": body.get("max_attempts", 3)}
        self.state["subscriptions"].append(subscription)
        self.ctx.changed()
        return web.json_response(_public_subscription(subscription))

    async def control_subscriptions(self, request):
        return web.json_response({"subscriptions": [_public_subscription(s) for s in self.state["subscriptions"]]})

    async def control_unsubscribe(self, request):
        """Remove every subscription, or only those for ``url`` / ``id`` when given."""
        body = await self._json(request, empty={})
        if not isinstance(body, dict):
            raise _invalid("request body must be a JSON object")

        def selected(subscription):
            return all(body.get(k) in (None, subscription[k]) for k in ("url", "id"))

        kept = [s for s in self.state["subscriptions"] if not selected(s)]
        removed = len(self.state["subscriptions"]) - len(kept)
        self.state["subscriptions"][:] = kept
        self.ctx.changed()
        return web.json_response({"removed": removed})

    async def control_deliveries(self, request):
        return web.json_response({"deliveries": self.state["deliveries"]})

    async def control_create_case(self, request):
        """An INTERNAL case, as Unit21's rules or agents would make it; case_id may be null."""
        body = await self._json(request, empty={})
        if not isinstance(body, dict):
            raise _invalid("request body must be a JSON object")
        internal = {k: body.pop(k) for k in INTERNAL_FIELDS if k in body}
        body.setdefault("title", "Internal case")
        body.setdefault("start_date", self._now())
        fields = validate_case_fields(body, creating=False)
        if self._case_id_taken(fields.get("case_id")):
            raise U21Error(409, "A case with case_id %s already exists" % json.dumps(fields["case_id"]))
        source = internal.pop("source", ["INTERNAL"])
        source = [source] if isinstance(source, str) else source
        if not isinstance(source, list) or not source or any(s not in SOURCES for s in source):
            raise _invalid("source must be INTERNAL, EXTERNAL or a list of them")
        created_by = internal.pop("created_by", INTERNAL_AGENT)
        fields.update(internal)
        fields["source"] = source
        case = self._new_case(fields, created_by)
        return web.json_response(case_view(case))

    async def control_bulk_cases(self, request):
        """Many API (EXTERNAL) cases in one call, for paging tests: {"count": N, "template": {...}}.

        ``{n}`` in any string of the template (also inside lists and objects) becomes 1..N.  Every
        case is checked like a create before any is stored, so a bad template or a taken case_id
        stores nothing.
        """
        body = await self._json(request, empty={})
        if not isinstance(body, dict) or set(body) - {"count", "template"}:
            raise _invalid("a bulk create takes only count and a template object")
        count, template = body.get("count"), body.get("template") or {}
        if not _is_int(count) or not 1 <= count <= 10000:
            raise _invalid("count must be an integer from 1 to 10000")
        if not isinstance(template, dict) or "{n}" not in str(template.get("case_id", "")):
            raise _invalid("template must be an object whose case_id contains {n}")
        template = dict({"title": "Bulk case {n}", "start_date": self._now()}, **template)
        checked = [validate_case_fields(_numbered(template, n), creating=True) for n in range(1, count + 1)]
        taken = [f["case_id"] for f in checked if self._case_id_taken(f["case_id"])]
        if taken:
            raise U21Error(409, "A case with case_id %s already exists" % json.dumps(taken[0]))
        created = [self._new_case(fields) for fields in checked]
        return web.json_response({"cases": [{"case_id": c["case_id"], "unit21_id": c["unit21_id"]} for c in created]},
                                 status=201)

    async def control_media(self, request):
        case = self._case(request)
        return web.json_response({"media": [media_view(m) for m in case["media"]]})


def _numbered(value, number):
    """``value`` with every "{n}" in its strings replaced by ``number``."""
    if isinstance(value, str):
        return value.replace("{n}", str(number))
    if isinstance(value, list):
        return [_numbered(v, number) for v in value]
    if isinstance(value, dict):
        return dict((k, _numbered(v, number)) for k, v in value.items())
    return value


def _delays(body):
    delays = body.get("retry_delays")
    if delays is None:
        return None
    if not isinstance(delays, list) or not all(isinstance(d, (int, float)) and d >= 0 for d in delays):
        raise _invalid("retry_delays must be a list of non-negative numbers")
    return delays


def _public_subscription(subscription):
    return {k: v for k, v in subscription.items() if k != "secret"}


def _paging(body):
    limit = body.get("limit", LIST_LIMIT_DEFAULT)
    if not _is_int(limit) or not 1 <= limit <= LIST_LIMIT_MAX:
        raise _invalid("limit must be an integer from 1 to %d (got %s)" % (LIST_LIMIT_MAX, json.dumps(limit)))
    page = body.get("offset", 1)
    if not _is_int(page) or page < 1:
        raise _invalid("offset is a 1-based page number and must be an integer >= 1 (got %s)" % json.dumps(page))
    return limit, page


def _list_options(body):
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise _invalid("options must be a JSON object")
    result = {}
    for option, key in (("include_associations", "associations"), ("include_actions", "actions"),
                        ("include_checklist", "checklist")):
        value = options.get(option, False)
        if not isinstance(value, bool):
            raise _invalid("options.%s must be a boolean" % option)
        result[key] = value
    return result


class CaseFilter(object):
    """The list filters of notes 2.4; every list is an OR, every filter given must hold."""

    def __init__(self, body):
        self.bounds = {}
        for field in ("created_after", "created_before", "dispositioned_after", "dispositioned_before"):
            if body.get(field) is not None:
                self.bounds[field] = _epoch(body, field)
        self.lists = {}
        for field in ("dispositions", "dispositioned_by", "tag_filters"):
            if body.get(field) is not None:
                self.lists[field] = _string_list(body, field)
        for field in ("rules", "associated_alerts"):
            if body.get(field) is not None:
                self.lists[field] = _int_list(body, field)
        for field in ("associated_entities", "associated_events"):
            if body.get(field) is not None:
                value = body[field]
                if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
                    raise _invalid("%s must be a list of ids" % field)
                self.lists[field] = value
        for field, allowed in (("statuses", STATUSES), ("sources", SOURCES)):
            if body.get(field) is not None:
                values = _string_list(body, field)
                bad = [v for v in values if v not in allowed]
                if bad:
                    raise _invalid("%s entries must be one of %s (got %s)" % (field, ", ".join(allowed), json.dumps(bad[0])))
                self.lists[field] = values

    def matches(self, case):
        return self._in_time(case) and all(getattr(self, "_" + name)(case, values) for name, values in self.lists.items())

    def _in_time(self, case):
        """``*_after`` is inclusive ("on or after"), ``*_before`` exclusive."""
        for prefix, value in (("created", case["created_at"]), ("dispositioned", case["disposition_at"])):
            after, before = self.bounds.get(prefix + "_after"), self.bounds.get(prefix + "_before")
            if (after is not None or before is not None) and value is None:
                return False
            if (after is not None and value < after) or (before is not None and value >= before):
                return False
        return True

    @staticmethod
    def _dispositions(case, values):
        return case["disposition"] in values

    @staticmethod
    def _dispositioned_by(case, values):
        return case["dispositioned_by"] in values

    @staticmethod
    def _statuses(case, values):
        return case["status"] in values

    @staticmethod
    def _sources(case, values):
        return any(s in values for s in case["source"])

    @staticmethod
    def _rules(case, values):
        return any(rule.get("unit21_id") in values for rule in case["rules"] if isinstance(rule, dict))

    @staticmethod
    def _associated_alerts(case, values):
        return any(a in values for a in case["alerts"])

    @staticmethod
    def _associated_entities(case, values):
        return any(e.get("entity_id") in values or e.get("unit21_id") in values for e in case["entities"])

    @staticmethod
    def _associated_events(case, values):
        return any(e.get("event_id") in values or e.get("unit21_id") in values for e in case["events"])

    @staticmethod
    def _tag_filters(case, values):
        """``key:value`` matches that tag; a bare ``key`` matches any tag with that key."""
        for wanted in values:
            for tag in case["tags"]:
                if tag == wanted or (":" not in wanted and tag.partition(":")[0] == wanted):
                    return True
        return False
