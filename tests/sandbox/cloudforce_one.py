"""Cloudflare Cloudforce One emulator: intelligence requests (RFIs) and their messages.

Follows ``shared/api/cloudforce_one.md``.  Where the notes say the live
behaviour is unknown, the choice made here is listed in README.md
("Cloudforce One").
"""

import datetime
import functools
import json
import math
import re
import secrets
import uuid

from aiohttp import web

from context import VendorAPI, declare_variant  # pylint: disable=import-error

API_ROOT = "/client/v4/accounts/{account_id}/cloudforce-one"
CONTROL_ROOT = "/_sandbox/cloudforce_one"

PRIORITIES = ("routine", "high", "urgent")
STATUSES = ("open", "accepted", "reported", "approved", "completed", "declined")
TLPS = ("clear", "green", "amber", "amber-strict", "red")
# The dashboard's request types (notes 1.2) plus the two the spec uses as examples.
REQUEST_TYPES = (
    "Binary Analysis - IOCs",
    "Binary Analysis - Report",
    "DDoS Attack",
    "Indicator Analysis - IOCs",
    "Indicator Analysis - Report",
    "Passive DNS Resolution",
    "Strategic Threat Research",
    "Threat Detection Signature - IOCs",
    "Threat Detection Signature - Report",
    "Traffic Analysis - IOCs",
    "Traffic Analysis - Report",
    "Vulnerability",
    "Indicators of Compromise",
    "Victomology",
)
SORT_FIELDS = ("created", "updated")
SORT_ORDERS = ("asc", "desc")

REQUEST_DEFAULTS = {
    "summary": "",
    "content": "",
    "request_type": "Indicators of Compromise",
    "priority": "routine",
    "tlp": "clear",
}
QUOTA_TOKENS = 120
TOKENS_PER_REQUEST = 1
MAX_PER_PAGE = 100
# FIDELITY.md, Cloudforce One: what a per_page above MAX_PER_PAGE gets (unknown upstream).
PER_PAGE_OVER_CAP = declare_variant("SANDBOX_CLOUDFLARE_PER_PAGE_OVER_CAP", "refuse", ("refuse", "clamp"))
RATE_WINDOW = 300
DEFAULT_ANALYST = "analyst@cloudforce-one.example"

# Error codes.  6003/61xx, 7000/7003, 971, 9109 and 10000 are Cloudflare's own;
# the 1043x family is ours (only 10433 "request error" appears in the spec).
CODE_BAD_HEADERS = 6003
CODE_MALFORMED_JSON = 6007
CODE_NO_ROUTE = 7003
CODE_NO_ROUTE_URI = 7000
CODE_RATE_LIMITED = 971
CODE_BAD_TOKEN = 9109
CODE_AUTH = 10000
CODE_SERVER = 10001
CODE_METHOD = 10405
CODE_INVALID = 10430
CODE_NOT_FOUND = 10433
CODE_NOT_DELETABLE = 10434
CODE_QUOTA = 10435

READ = "read"
WRITE = "write"

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


# -- time helpers ----------------------------------------------------------

def format_time(epoch):
    """RFC 3339 in UTC with microseconds and a Z, the format every timestamp uses."""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text):
    """Epoch seconds from an RFC 3339 date-time; ValueError if it is not one.

    Written out by hand because ``fromisoformat`` only learnt ``Z`` in 3.11.
    """
    match = _RFC3339.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = float(match.group(7) or 0)
    zone = match.group(8)
    offset = datetime.timedelta(0)
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    moment = datetime.datetime(year, month, day, hour, minute, second,
                               tzinfo=datetime.timezone(offset))
    return moment.timestamp() + fraction


def _next_quarter_start(epoch):
    now = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    month = ((now.month - 1) // 3 + 1) * 3 + 1
    year = now.year + (1 if month > 12 else 0)
    month = month - 12 if month > 12 else month
    return datetime.datetime(year, month, 1, tzinfo=datetime.timezone.utc).timestamp()


def _next_year_start(epoch):
    now = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return datetime.datetime(now.year + 1, 1, 1, tzinfo=datetime.timezone.utc).timestamp()


# -- small value types ---------------------------------------------------------

class ApiError(Exception):
    """An error answer: HTTP status plus Cloudflare error entries."""

    def __init__(self, status, code, message, chain=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.chain = chain


class RateLimited(ApiError):
    """429 with the Cloudflare wording; carries the seconds until the window resets."""

    def __init__(self, reset):
        super().__init__(429, CODE_RATE_LIMITED, "Please wait and consider throttling your request speed")
        self.reset = reset


class Principal(object):
    """Who is calling: the permission they hold and the email messages are signed with."""

    def __init__(self, permission, email):
        self.permission = permission
        self.email = email


class FixedWindowLimiter(object):
    """Per-credential fixed window: ``limit`` calls, then 429 until the window ends."""

    def __init__(self, limit, window, clock):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.buckets = {}

    def hit(self, key):
        """Count one call; True when it is within the limit."""
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None or now >= bucket[0] + self.window:
            bucket = [now, 0]
            self.buckets[key] = bucket
        bucket[1] += 1
        return bucket[1] <= self.limit

    def peek(self, key):
        """(remaining, seconds until reset) without counting a call."""
        bucket = self.buckets.get(key)
        now = self.clock()
        if bucket is None or now >= bucket[0] + self.window:
            return self.limit, self.window
        reset = max(1, int(math.ceil(bucket[0] + self.window - now)))
        return max(0, self.limit - bucket[1]), reset


def _envelope(result=None, with_result=True):
    body = {"success": True, "errors": [], "messages": []}
    if with_result:
        body["result"] = result
    return body


def _error_entry(code, message, chain=None):
    entry = {"code": code, "message": message}
    if chain:
        entry["error_chain"] = [{"code": c, "message": m} for c, m in chain]
    return entry


def _failure(status, errors, headers=None):
    body = {"success": False, "errors": errors, "messages": [], "result": None}
    return web.json_response(body, status=status, headers=headers)


def _no_route_errors(path=None):
    where = path or "the requested URI"
    return [
        _error_entry(CODE_NO_ROUTE, "Could not route to %s, perhaps your object identifier is invalid?" % where),
        _error_entry(CODE_NO_ROUTE_URI, "No route for that URI"),
    ]


def _ray_id():
    return secrets.token_hex(8) + "-SJC"


# -- validation ------------------------------------------------------------------

def _invalid(message):
    return ApiError(400, CODE_INVALID, message)


def _check_choice(body, field, allowed):
    value = body[field]
    if value not in allowed:
        raise _invalid("%s: must be one of %s (got %s)" % (field, ", ".join(allowed), json.dumps(value)))
    return value


def _check_string(body, field):
    value = body[field]
    if not isinstance(value, str):
        raise _invalid("%s: must be a string" % field)
    return value


def _check_int(body, field, minimum=None, maximum=None):
    value = body.get(field)
    if value is None:
        raise _invalid("%s: is required and must be an integer" % field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid("%s: must be an integer (got %s)" % (field, json.dumps(value)))
    if maximum is not None and not minimum <= value <= maximum:
        raise _invalid("%s: must be between %d and %d (got %d)" % (field, minimum, maximum, value))
    if minimum is not None and value < minimum:
        raise _invalid("%s: must be at least %d (got %d)" % (field, minimum, value))
    return value


def _check_time(body, field):
    """Epoch seconds of an optional RFC 3339 field, or None."""
    value = body.get(field)
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise _invalid("%s: must be an RFC 3339 date-time such as 2024-01-01T00:00:00Z (got %s)"
                       % (field, json.dumps(value))) from None


def validate_request_edit(body):
    """The request-edit fields present in ``body``, checked, as stored field names."""
    fields = {}
    for name in ("summary", "content"):
        if name in body:
            fields[name] = _check_string(body, name)
    if "request_type" in body:
        fields["request"] = _check_choice(body, "request_type", REQUEST_TYPES)
    if "priority" in body:
        fields["priority"] = _check_choice(body, "priority", PRIORITIES)
    if "tlp" in body:
        fields["tlp"] = _check_choice(body, "tlp", TLPS)
    return fields


def _paging(body, over_cap="refuse"):
    """(offset, per_page) from the required page/per_page; page 0 and 1 are both the first page.

    The real cap and what the service does above it are unknown (FIDELITY.md, Cloudforce One C1):
    ``over_cap`` "refuse" answers 400, "clamp" silently serves MAX_PER_PAGE items a page.
    """
    page = _check_int(body, "page", 0)
    if over_cap == "clamp":
        per_page = min(_check_int(body, "per_page", 1), MAX_PER_PAGE)
    else:
        per_page = _check_int(body, "per_page", 1, MAX_PER_PAGE)
    return (max(page, 1) - 1) * per_page, per_page


def _sorting(body):
    sort_by = body.get("sort_by", "created")
    if sort_by not in SORT_FIELDS:
        raise _invalid("sort_by: must be one of %s (got %s)" % (", ".join(SORT_FIELDS), json.dumps(sort_by)))
    order = body.get("sort_order", "asc")
    if order not in SORT_ORDERS:
        raise _invalid("sort_order: must be one of %s (got %s)" % (", ".join(SORT_ORDERS), json.dumps(order)))
    return sort_by, order == "desc"


# Stored timestamps, parsed once: every listing page sorts and filters the whole list again, and parsing each item on
# each page made a long thread cost O(N^2) parses (20,000 messages: 4 million), time the sandbox, not the listing, spent.
_stored_time = functools.lru_cache(maxsize=1 << 17)(parse_time)


def _within(moment, after, before):
    """Both bounds exclusive, so ``after=<last seen>`` never repeats an item."""
    if after is None and before is None:
        return True
    if moment is None:
        return False
    stamp = _stored_time(moment)
    return (after is None or stamp > after) and (before is None or stamp < before)


def _sort_and_page(items, body, tiebreak, over_cap="refuse"):
    sort_by, reverse = _sorting(body)
    offset, per_page = _paging(body, over_cap)
    ordered = sorted(items, key=lambda item: (_stored_time(item[sort_by]), item[tiebreak]), reverse=reverse)
    return ordered[offset:offset + per_page]


# -- views --------------------------------------------------------------------------

LIST_ITEM_FIELDS = ("id", "readable_id", "summary", "request", "priority", "tlp", "status",
                    "created", "updated", "completed", "tokens", "message_tokens")
MESSAGE_FIELDS = ("id", "author", "content", "is_follow_on_request", "created", "updated")


def request_list_item(record):
    return {name: record[name] for name in LIST_ITEM_FIELDS}


def request_item(record):
    item = request_list_item(record)
    item["content"] = record["content"]
    return item


def message_item(record):
    return {name: record[name] for name in MESSAGE_FIELDS}


class CloudforceOneAPI(VendorAPI):
    """The RFI and message endpoints of Cloudforce One, plus test-only control routes."""

    name = "cloudforce_one"
    prefixes = ("/client/v4/",)
    redact_headers = ("authorization", "x-auth-key")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.limiter = FixedWindowLimiter(ctx.config["SANDBOX_CLOUDFLARE_RATE_LIMIT"], RATE_WINDOW, ctx.now)

    def empty_state(self):
        return {"requests": {}, "tokens_used": 0}

    @property
    def state(self):
        return self.ctx.section(self.name)

    def on_reset(self):
        self.limiter.buckets.clear()

    # -- registration ---------------------------------------------------------
    def register(self, app):
        """Literal segments (new, constants, quota, types, priority) are added before
        ``{request_id}``: aiohttp tries routes that share a prefix in the order they were added."""
        routes = [
            ("POST", "/requests", self.list_requests, "cloudforce-one-request-list", WRITE),
            ("POST", "/requests/new", self.new_request, "cloudforce-one-request-new", WRITE),
            ("GET", "/requests/constants", self.constants, "cloudforce-one-request-constants", READ),
            ("GET", "/requests/quota", self.quota, "cloudforce-one-request-quota", READ),
            ("GET", "/requests/types", self.types, "cloudforce-one-request-types", READ),
        ]
        for method, path, handler, name, permission in routes:
            self._add(app, method, path, handler, name, permission)
        self._add_unimplemented(app)
        routes = [
            ("GET", "/requests/{request_id}", self.get_request, "cloudforce-one-request-get", READ),
            ("PUT", "/requests/{request_id}", self.update_request, "cloudforce-one-request-update", WRITE),
            ("DELETE", "/requests/{request_id}", self.delete_request, "cloudforce-one-request-delete", WRITE),
            ("POST", "/requests/{request_id}/message", self.list_messages, "cloudforce-one-request-message-list", WRITE),
            ("POST", "/requests/{request_id}/message/new", self.new_message, "cloudforce-one-request-message-new", WRITE),
            ("PUT", "/requests/{request_id}/message/{message_id}", self.update_message,
             "cloudforce-one-request-message-update", WRITE),
            ("DELETE", "/requests/{request_id}/message/{message_id}", self.delete_message,
             "cloudforce-one-request-message-delete", WRITE),
        ]
        for method, path, handler, name, permission in routes:
            self._add(app, method, path, handler, name, permission)
        app.on_response_prepare.append(self._add_common_headers)

    def _add(self, app, method, path, handler, name, permission):
        async def guarded(request):
            try:
                principal = self._authorize(request, permission)
                return await handler(request, principal)
            except ApiError as exc:
                return self._api_error(exc)
        app.router.add_route(method, API_ROOT + path, guarded, name=name)

    def _add_unimplemented(self, app):
        """Asset and priority (PIR) operations exist upstream but are not emulated."""
        routes = [
            ("POST", "/requests/priority", "cloudforce-one-priority-list"),
            ("POST", "/requests/priority/new", "cloudforce-one-priority-new"),
            ("GET", "/requests/priority/quota", "cloudforce-one-priority-quota"),
            ("GET", "/requests/priority/{priority_id}", "cloudforce-one-priority-get"),
            ("PUT", "/requests/priority/{priority_id}", "cloudforce-one-priority-update"),
            ("DELETE", "/requests/priority/{priority_id}", "cloudforce-one-priority-delete"),
            ("POST", "/requests/{request_id}/asset", "cloudforce-one-request-asset-list"),
            ("POST", "/requests/{request_id}/asset/new", "cloudforce-one-request-asset-new"),
            ("GET", "/requests/{request_id}/asset/{asset_id}", "cloudforce-one-request-asset-get"),
            ("PUT", "/requests/{request_id}/asset/{asset_id}", "cloudforce-one-request-asset-update"),
            ("DELETE", "/requests/{request_id}/asset/{asset_id}", "cloudforce-one-request-asset-delete"),
        ]
        for method, path, name in routes:
            app.router.add_route(method, API_ROOT + path, self._no_route, name=name)

    def register_control(self, app):
        app.router.add_route("GET", CONTROL_ROOT + "/requests", self.control_list,
                             name="sandbox.cloudforce_one.requests")
        app.router.add_route("PATCH", CONTROL_ROOT + "/requests/{request_id}", self.control_patch,
                             name="sandbox.cloudforce_one.request_patch")
        app.router.add_route("POST", CONTROL_ROOT + "/requests/{request_id}/messages", self.control_reply,
                             name="sandbox.cloudforce_one.analyst_reply")

    # -- errors and headers ---------------------------------------------------
    def error_response(self, status, message=None, headers=None):
        """The Cloudflare failure envelope for injected faults and unknown routes."""
        headers = dict(headers or {})
        headers.setdefault("cf-ray", _ray_id())
        if status == 404:
            errors = _no_route_errors()
            if message:
                errors[0]["message"] = message
            return _failure(404, errors, headers)
        if status == 429:
            headers.setdefault("Retry-After", "1")
            headers.setdefault("Ratelimit", '"default";r=0;t=1')
            headers.setdefault("Ratelimit-Policy", self._policy_header())
        code, default = {
            400: (CODE_INVALID, "Bad request"),
            401: (CODE_AUTH, "Authentication error"),
            403: (CODE_AUTH, "Authentication error"),
            405: (CODE_METHOD, "Method not allowed"),
            413: (CODE_INVALID, "Request body is too large"),
            429: (CODE_RATE_LIMITED, "Please wait and consider throttling your request speed"),
        }.get(status, (CODE_SERVER, "Internal server error" if status == 500 else "Service error"))
        return _failure(status, [_error_entry(code, message or default)], headers)

    @staticmethod
    def _api_error(exc):
        headers = {"Retry-After": str(exc.reset)} if isinstance(exc, RateLimited) else None
        return _failure(exc.status, [_error_entry(exc.code, exc.message, exc.chain)], headers)

    async def _no_route(self, request):
        return _failure(404, _no_route_errors(request.path))

    def _policy_header(self):
        return '"default";q=%d;w=%d' % (self.limiter.limit, RATE_WINDOW)

    async def _add_common_headers(self, request, response):
        """Every response under /client/v4/ carries a ray id and the rate-limit headers."""
        if not self.owns(request.path):
            return
        response.headers.setdefault("cf-ray", _ray_id())
        remaining, reset = self.limiter.peek(self._limit_key(request))
        response.headers.setdefault("Ratelimit", '"default";r=%d;t=%d' % (remaining, reset))
        response.headers.setdefault("Ratelimit-Policy", self._policy_header())

    # -- auth and rate limiting -------------------------------------------------------
    @staticmethod
    def _limit_key(request):
        """One bucket per credential presented; callers with none share one per address."""
        auth = request.headers.get("Authorization")
        if auth:
            return "token:" + auth
        if request.headers.get("X-Auth-Key"):
            return "key:%s/%s" % (request.headers.get("X-Auth-Email", ""), request.headers["X-Auth-Key"])
        return "remote:%s" % request.remote

    def _check_rate(self, request):
        if not self.limiter.hit(self._limit_key(request)):
            _remaining, reset = self.limiter.peek(self._limit_key(request))
            raise RateLimited(reset)

    def _principal(self, request):
        """Who is calling, or ApiError for missing, malformed or unknown credentials."""
        config = self.ctx.config
        auth = request.headers.get("Authorization")
        if auth is not None:
            match = re.match(r"^Bearer\s+(\S+)\s*$", auth)
            if not match:
                raise ApiError(400, CODE_BAD_HEADERS, "Invalid request headers",
                               [(6111, "Invalid format for Authorization header")])
            token = match.group(1)
            if token == config["SANDBOX_CLOUDFLARE_API_TOKEN"]:
                return Principal(WRITE, config["SANDBOX_CLOUDFLARE_EMAIL"])
            if token == config["SANDBOX_CLOUDFLARE_READONLY_API_TOKEN"]:
                return Principal(READ, config["SANDBOX_CLOUDFLARE_EMAIL"])
            raise ApiError(403, CODE_BAD_TOKEN, "Invalid access token")
        return self._key_principal(request)

    def _key_principal(self, request):
        config = self.ctx.config
        email = request.headers.get("X-Auth-Email")
        key = request.headers.get("X-Auth-Key")
        chain = []
        if not email:
            chain.append((6100, "Missing X-Auth-Email header"))
        elif "@" not in email:
            chain.append((6102, "Invalid format for X-Auth-Email header"))
        if not key:
            chain.append((6101, "Missing X-Auth-Key header"))
        elif not re.match(r"^[A-Za-z0-9]+$", key):
            chain.append((6103, "Invalid format for X-Auth-Key header"))
        if chain:
            raise ApiError(400, CODE_BAD_HEADERS, "Invalid request headers", chain)
        if email.lower() != config["SANDBOX_CLOUDFLARE_EMAIL"].lower() or key != config["SANDBOX_CLOUDFLARE_API_KEY"]:
            raise ApiError(403, CODE_AUTH, "Authentication error")
        return Principal(WRITE, email)

    def _authorize(self, request, permission):
        self._check_rate(request)
        principal = self._principal(request)
        if request.match_info.get("account_id") != self.ctx.config["SANDBOX_CLOUDFLARE_ACCOUNT_ID"]:
            raise ApiError(403, CODE_AUTH, "Authentication error")
        if permission == WRITE and principal.permission != WRITE:
            raise ApiError(403, CODE_AUTH, "Authentication error")
        return principal

    # -- body helpers -------------------------------------------------------------------
    @staticmethod
    async def _body(request):
        """The JSON object in the body; an empty body counts as ``{}``."""
        raw = await request.read()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, CODE_MALFORMED_JSON, "Malformed JSON in request body") from None
        if not isinstance(body, dict):
            raise _invalid("request body: must be a JSON object")
        return body

    def _find_request(self, request_id):
        record = self.state["requests"].get(request_id)
        if record is None:
            raise ApiError(404, CODE_NOT_FOUND, "request not found")
        return record

    @staticmethod
    def _find_message(record, message_id):
        for message in record["messages"]:
            if str(message["id"]) == message_id:
                return message
        raise ApiError(404, CODE_NOT_FOUND, "message not found")

    def _now(self):
        return format_time(self.ctx.now())

    # -- requests ---------------------------------------------------------------------------
    async def list_requests(self, request, principal):
        body = await self._body(request)
        if "status" in body:
            _check_choice(body, "status", STATUSES)
        created = (_check_time(body, "created_after"), _check_time(body, "created_before"))
        completed = (_check_time(body, "completed_after"), _check_time(body, "completed_before"))
        matches = [
            record for record in self.state["requests"].values()
            if body.get("status") in (None, record["status"])
            and body.get("request_type") in (None, record["request"])
            and _within(record["created"], *created)
            and _within(record["completed"], *completed)
        ]
        page = _sort_and_page(matches, body, "seq", self.ctx.config.variant(PER_PAGE_OVER_CAP))
        return web.json_response(_envelope([request_list_item(r) for r in page]))

    async def new_request(self, request, principal):
        fields = validate_request_edit(await self._body(request))
        if self.quota_remaining() < TOKENS_PER_REQUEST:
            raise ApiError(400, CODE_QUOTA, "quota exceeded: no request tokens remain this quarter")
        record = self._create_request(fields)
        return web.json_response(_envelope(request_item(record)))

    def _create_request(self, fields):
        seq = self.ctx.next_id("cloudforce_one.request")
        now = self.ctx.now()
        stamp = format_time(now)
        record = {
            "id": str(uuid.uuid4()),
            "readable_id": "RFI-%d-%06d" % (datetime.datetime.fromtimestamp(now, datetime.timezone.utc).year, seq),
            "summary": REQUEST_DEFAULTS["summary"],
            "content": REQUEST_DEFAULTS["content"],
            "request": REQUEST_DEFAULTS["request_type"],
            "priority": REQUEST_DEFAULTS["priority"],
            "tlp": REQUEST_DEFAULTS["tlp"],
            "status": "open",
            "created": stamp,
            "updated": stamp,
            "completed": None,
            "tokens": TOKENS_PER_REQUEST,
            "message_tokens": 0,
            "seq": seq,
            "messages": [],
        }
        record.update(fields)
        self.state["requests"][record["id"]] = record
        self.state["tokens_used"] = self.state.get("tokens_used", 0) + record["tokens"]
        self.ctx.changed()
        return record

    async def get_request(self, request, principal):
        record = self._find_request(request.match_info["request_id"])
        return web.json_response(_envelope(request_item(record)))

    async def update_request(self, request, principal):
        record = self._find_request(request.match_info["request_id"])
        fields = validate_request_edit(await self._body(request))
        record.update(fields)
        record["updated"] = self._now()
        self.ctx.changed()
        return web.json_response(_envelope(request_item(record)))

    async def delete_request(self, request, principal):
        record = self._find_request(request.match_info["request_id"])
        if record["status"] != "open":
            raise ApiError(400, CODE_NOT_DELETABLE,
                           "request can only be deleted while its status is open (status is %s)" % record["status"])
        del self.state["requests"][record["id"]]
        # Cloudflare has not started work on an open request, so its tokens are given back.
        self.state["tokens_used"] = max(0, self.state.get("tokens_used", 0) - record["tokens"])
        self.ctx.changed()
        return web.json_response(_envelope(with_result=False))

    async def constants(self, request, principal):
        return web.json_response(_envelope({"priority": list(PRIORITIES), "status": list(STATUSES), "tlp": list(TLPS)}))

    async def types(self, request, principal):
        return web.json_response(_envelope(list(REQUEST_TYPES)))

    def quota_remaining(self):
        return max(0, QUOTA_TOKENS - self.state.get("tokens_used", 0))

    async def quota(self, request, principal):
        now = self.ctx.now()
        return web.json_response(_envelope({
            "anniversary_date": format_time(_next_year_start(now)),
            "quarter_anniversary_date": format_time(_next_quarter_start(now)),
            "quota": QUOTA_TOKENS,
            "remaining": self.quota_remaining(),
        }))

    # -- messages -----------------------------------------------------------------------------
    async def list_messages(self, request, principal):
        record = self._find_request(request.match_info["request_id"])
        body = await self._body(request)
        bounds = (_check_time(body, "after"), _check_time(body, "before"))
        matches = [m for m in record["messages"] if _within(m["created"], *bounds)]
        page = _sort_and_page(matches, body, "id", self.ctx.config.variant(PER_PAGE_OVER_CAP))
        return web.json_response(_envelope([message_item(m) for m in page]))

    @staticmethod
    def _content(body):
        content = body.get("content")
        if not isinstance(content, str) or not content.strip():
            raise _invalid("content: is required and must be a non-empty string")
        return content

    def _add_message(self, record, content, author, follow_on=False, created=None):
        stamp = created or self._now()
        message = {
            "id": self.ctx.next_id("cloudforce_one.message"),
            "author": author,
            "content": content,
            "is_follow_on_request": follow_on,
            "created": stamp,
            "updated": stamp,
        }
        record["messages"].append(message)
        self.ctx.changed()
        return message

    async def new_message(self, request, principal):
        record = self._find_request(request.match_info["request_id"])
        content = self._content(await self._body(request))
        message = self._add_message(record, content, principal.email)
        record["message_tokens"] += 1
        self.ctx.changed()
        return web.json_response(_envelope(message_item(message)))

    async def update_message(self, request, principal):
        record = self._find_request(request.match_info["request_id"])
        message = self._find_message(record, request.match_info["message_id"])
        message["content"] = self._content(await self._body(request))
        message["updated"] = self._now()
        self.ctx.changed()
        return web.json_response(_envelope(message_item(message)))

    async def delete_message(self, request, principal):
        record = self._find_request(request.match_info["request_id"])
        message = self._find_message(record, request.match_info["message_id"])
        record["messages"].remove(message)
        self.ctx.changed()
        return web.json_response(_envelope(with_result=False))

    # -- control routes (plain JSON, no envelope) ----------------------------------------
    async def control_list(self, request):
        return web.json_response({"requests": list(self.state["requests"].values())})

    async def control_patch(self, request):
        """Play the Cloudforce One team: move a request along, e.g. to ``accepted``."""
        try:
            record = self._find_request(request.match_info["request_id"])
            body = await self._body(request)
            changes = self._control_changes(body)
        except ApiError as exc:
            return web.json_response({"error": exc.message}, status=exc.status)
        if changes.get("status") == "completed" and "completed" not in changes and not record["completed"]:
            changes["completed"] = self._now()
        changes.setdefault("updated", self._now())
        record.update(changes)
        self.ctx.changed()
        return web.json_response(request_item(record))

    @staticmethod
    def _control_changes(body):
        changes = validate_request_edit(body)
        if "status" in body:
            changes["status"] = _check_choice(body, "status", STATUSES)
        for field in ("created", "updated", "completed"):
            if field in body:
                changes[field] = None if body[field] is None else format_time(_check_time(body, field))
        for field in ("tokens", "message_tokens"):
            if field in body:
                changes[field] = _check_int(body, field, 0, None)
        return changes

    async def control_reply(self, request):
        """An analyst's answer in the thread (authored by Cloudflare, not the caller)."""
        try:
            record = self._find_request(request.match_info["request_id"])
            body = await self._body(request)
            content = self._content(body)
            created = body.get("created")
            created = format_time(_check_time(body, "created")) if created is not None else None
        except ApiError as exc:
            return web.json_response({"error": exc.message}, status=exc.status)
        message = self._add_message(record, content, body.get("author") or DEFAULT_ANALYST,
                                    bool(body.get("is_follow_on_request", False)), created)
        return web.json_response(message_item(message))
