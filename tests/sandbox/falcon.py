"""CrowdStrike Falcon: OAuth2 tokens and the nine Message Center operations.

Behaviour follows shared/api/falcon_message_center.md; every fact and every
choice made where the notes say "unknown" is a row of FIDELITY.md (Falcon
F1..), and the unknowns a module could notice are variants.  State (tokens, cases, activities, attachment bytes) lives in the
``falcon`` section of the sandbox state; the rate-limit window is runtime only.
"""

import base64
import binascii
import collections
import datetime
import hmac
import http
import math
import re
import secrets
import uuid

from aiohttp import web

import falcon_aggregations
import fql
from context import VendorAPI, declare_variant

# Fidelity variants (FIDELITY.md, Falcon section and variants table).
FQL_MATCH = declare_variant("SANDBOX_FALCON_FQL_MATCH", "partial", fql.COLON_MODES)          # F1
TITLE_PREFIX = declare_variant("SANDBOX_FALCON_TITLE_PREFIX", "")                            # F2: any text
CREATE_REQUIRED = declare_variant("SANDBOX_FALCON_CREATE_REQUIRED", "sdk", ("sdk", "spec"))  # F3
# The body keys messagecenter.CaseCreationRequestV2 marks required (FIDELITY.md, Falcon F3).
SPEC_REQUIRED_CASE_KEYS = ("body", "detections", "incidents", "malware_submission_id", "recon_rule_type", "title",
                           "type")

READ = "message-center:read"
WRITE = "message-center:write"
GATEWAY = "crowdstrike-api-gateway"     # powered_by of gateway answers (401, 403, 429, unknown routes)
TOKEN_SERVICE = "csam"                  # powered_by of /oauth2/* answers (seen in a real token error)
SERVICE = "message-center"              # powered_by of Message Center answers: unknown, our choice
ACCESS_DENIED = "access denied, authorization failed"
RATE_WINDOW = 60.0
SANDBOX_CID = "5a1d0b7c3e9f4a2b8c6d0e1f2a3b4c5d"   # the one customer this sandbox emulates

UUID_PATTERN = re.compile(r"^[a-fA-F0-9]{8}-([a-fA-F0-9]{4}-){3}[a-fA-F0-9]{12}$")
CASE_TYPE_PATTERN = re.compile(r"^fc:[a-z0-9-]+$")
MEMBER_CID_PATTERN = re.compile(r"^([a-fA-F0-9]{32})(-\w{2})?$")

CASE_SORTS = ["%s.%s" % (f, d) for f in ("case.created_time", "case.last_modified_time", "case.status", "case.type", "case.id")
              for d in ("asc", "desc")]
ACTIVITY_SORTS = ["%s.%s" % (f, d) for f in ("activity.created_time", "activity.type") for d in ("asc", "desc")]
CASE_FILTER_FIELDS = (
    "_all", "activity.body", "case.aids", "case.assigner.display_name", "case.assigner.first_name",
    "case.assigner.last_name", "case.assigner.uid", "case.assigner.uuid", "case.body", "case.created_time",
    "case.detections.id", "case.hosts", "case.id", "case.incidents.id", "case.ip_addresses", "case.key",
    "case.last_modified_time", "case.status", "case.title", "case.type",
)
CASE_TIMESTAMPS = ("case.created_time", "case.last_modified_time")
ACTIVITY_FILTER_FIELDS = ("activity.created_time", "activity.type")
ACTIVITY_TIMESTAMPS = ("activity.created_time",)
# Aggregations work on case fields; the free-text and activity fields are filter-only.
AGGREGATION_FIELDS = tuple(f for f in CASE_FILTER_FIELDS if f.startswith("case."))

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024
MAX_ATTACHMENT_NAME = 255
ATTACHMENT_FIRST_CHAR = re.compile(r"^[A-Za-z0-9_-]")
# The spec's [a-zA-Z0-9-_.\s] with \s as the (Go) API reads it: space, tab, form feed, CR, LF; the whole name.
ATTACHMENT_NAME_CHARS = re.compile(r"[A-Za-z0-9_. \t\f\r\n-]+\Z")
# Served types stay inside the download operation's "produces" list, which has no text/csv.
ATTACHMENT_TYPES = {
    "png": "image/png", "bmp": "image/bmp", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "pdf": "application/pdf", "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "txt": "text/plain", "csv": "text/plain",
}
STATUS_MESSAGES = {401: ACCESS_DENIED, 403: ACCESS_DENIED, 404: "Not Found", 429: "API rate limit exceeded."}
CASE_FIELDS = ("id", "cid", "key", "title", "body", "type", "status", "created_time", "last_modified_time", "assigner",
               "attachments", "detections", "incidents", "hosts", "aids", "ip_addresses", "malware_submission_id",
               "malware_submission_url", "recon_rule_type", "rfi_id", "case_type")
AUTHOR_FIELDS = ("display_name", "first_name", "last_name", "uid", "uuid", "email_address")


class FalconError(Exception):
    """An error answer: status, message, the service that gives it, extra headers."""

    def __init__(self, status, message, powered_by=SERVICE, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.powered_by = powered_by
        self.headers = headers or {}


def rfc3339(epoch):
    """``2026-01-02T03:04:05.123456Z``: UTC with microseconds (the real format is unknown)."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def empty_author():
    return dict((name, "") for name in AUTHOR_FIELDS)


def api_author(user_uuid):
    """A plausible Author for a user known only by its UUID."""
    short = user_uuid.split("-")[0].lower()
    email = "user-%s@example.com" % short
    return {"display_name": "User %s" % short, "first_name": "User", "last_name": short, "uid": email,
            "uuid": user_uuid, "email_address": email}


def decode_basic_auth(header):
    """(user, password) from ``Authorization: Basic <base64>``, or None."""
    scheme, encoded = _split_scheme(header)
    if scheme != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in decoded:
        return None
    user, password = decoded.split(":", 1)
    return user, password


def _split_scheme(header):
    """(lower-case scheme, credentials) of an Authorization header."""
    words = (header or "").strip().split(None, 1)
    if len(words) != 2:
        return (words[0].lower() if words else ""), ""
    return words[0].lower(), words[1].strip()


def same_secret(given, expected):
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def field_values(record, dotted):
    """Every scalar at a dotted path of a record; lists along the way are flattened."""
    current = [record]
    for part in dotted.split("."):
        found = []
        for item in current:
            value = item.get(part) if isinstance(item, dict) else None
            if isinstance(value, list):
                found.extend(value)
            elif value is not None:
                found.append(value)
        current = found
    return [v for v in current if not isinstance(v, (dict, list))]


def all_text(value):
    """Every string and number anywhere in a record, for ``_all`` and ``q``."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in all_text(v)]
    if isinstance(value, list):
        return [t for v in value for t in all_text(v)]
    if value is None or isinstance(value, bool):
        return []
    return [str(value)]


class FalconAPI(VendorAPI):
    name = "falcon"
    prefixes = ("/oauth2/", "/message-center/")
    redact_form_fields = ("client_secret", "token")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.window = collections.deque()   # times of counted requests in the sliding minute

    def empty_state(self):
        return {"tokens": {}, "cases": {}, "case_ids": [], "activities": {}, "activity_ids": [], "blobs": {}}

    @property
    def state(self):
        section = self.ctx.section(self.name)
        for key, empty in self.empty_state().items():
            section.setdefault(key, empty)   # a state file from an older sandbox may lack a key
        return section

    def on_reset(self):
        self.window.clear()

    # -- routes ---------------------------------------------------------------------------------
    def register(self, app):
        operations = (
            ("POST", "/message-center/aggregates/cases/GET/v1", "AggregateCases", READ, self.aggregate_cases),
            ("POST", "/message-center/entities/case-activities/GET/v1", "GetCaseActivityByIds", READ, self.get_activities),
            ("POST", "/message-center/entities/case-activity/v1", "CaseAddActivity", WRITE, self.add_activity),
            ("GET", "/message-center/entities/case-attachment/v1", "CaseDownloadAttachment", READ, self.download_attachment),
            ("POST", "/message-center/entities/case-attachment/v1", "CaseAddAttachment", WRITE, self.add_attachment),
            ("POST", "/message-center/entities/case/v2", "CreateCaseV2", WRITE, self.create_case),
            ("POST", "/message-center/entities/cases/GET/v1", "GetCaseEntitiesByIDs", READ, self.get_cases),
            ("GET", "/message-center/queries/case-activities/v1", "QueryActivityByCaseID", READ, self.query_activities),
            ("GET", "/message-center/queries/cases/v1", "QueryCasesIdsByFilter", READ, self.query_cases),
        )
        for method, path, operation_id, scope, handler in operations:
            app.router.add_route(method, path, self._guarded(scope, handler), name=operation_id)
        app.router.add_route("POST", "/oauth2/token", self._public(self.issue_token), name="oauth2AccessToken")
        app.router.add_route("POST", "/oauth2/revoke", self._public(self.revoke_token), name="oauth2RevokeToken")
        # Another method on a served path: 405 from the gateway (FIDELITY.md, Falcon F4), after the real routes.
        served = collections.OrderedDict()
        for method, path in [(o[0], o[1]) for o in operations] + [("POST", "/oauth2/token"), ("POST", "/oauth2/revoke")]:
            served.setdefault(path, []).append(method)
        for path, methods in served.items():
            app.router.add_route("*", path, self._method_not_allowed(methods))

    def register_control(self, app):
        app.router.add_route("GET", "/_sandbox/falcon/cases", self.control_list, name="falcon.control.list_cases")
        app.router.add_route("POST", "/_sandbox/falcon/cases", self.control_create, name="falcon.control.create_case")
        app.router.add_route("PATCH", "/_sandbox/falcon/cases/{case_id}", self.control_update,
                             name="falcon.control.update_case")
        app.router.add_route("POST", "/_sandbox/falcon/cases/{case_id}/activities", self.control_add_activity,
                             name="falcon.control.add_activity")

    def _guarded(self, scope, handler):
        """Bearer token, account rate limit and scope, in the gateway's order, before the handler."""
        async def guarded(request):
            self._begin(request)
            try:
                token = self._authenticate(request)
                self._count_request(request)
                if scope not in token.get("scopes", []):
                    raise FalconError(403, ACCESS_DENIED, GATEWAY)
                return await handler(request)
            except FalconError as exc:
                return self._error(request, exc)
        return guarded

    def _method_not_allowed(self, methods):
        allowed = ", ".join(sorted(methods))

        async def method_not_allowed(request):
            return self.error_response(405, "Method Not Allowed", {"Allow": allowed})
        return method_not_allowed

    def _public(self, handler):
        async def public(request):
            self._begin(request)
            try:
                return await handler(request)
            except FalconError as exc:
                return self._error(request, exc)
        return public

    # -- envelopes and headers -------------------------------------------------------------------------
    def _begin(self, request):
        request["falcon.trace_id"] = str(uuid.uuid4())
        request["falcon.started"] = self.ctx.now()
        request["falcon.remaining"] = self._remaining()

    def _meta(self, request, powered_by=SERVICE, **extra):
        elapsed = max(self.ctx.now() - request["falcon.started"], 0.000001)
        meta = {"query_time": round(elapsed, 9), "powered_by": powered_by, "trace_id": request["falcon.trace_id"]}
        meta.update(extra)
        return meta

    def _headers(self, trace_id, remaining):
        limit = self.ctx.config["SANDBOX_FALCON_RATE_LIMIT"]
        return {"X-Cs-Traceid": trace_id, "X-Ratelimit-Limit": str(limit), "X-Ratelimit-Remaining": str(remaining)}

    def _reply(self, request, payload, status=200, headers=None):
        all_headers = self._headers(request["falcon.trace_id"], request["falcon.remaining"])
        all_headers.update(headers or {})
        return web.json_response(payload, status=status, headers=all_headers)

    def _error(self, request, exc):
        payload = {"meta": self._meta(request, exc.powered_by), "errors": [{"code": exc.status, "message": exc.message}]}
        return self._reply(request, payload, exc.status, exc.headers)

    def error_response(self, status, message=None, headers=None):
        """A gateway-style error for injected faults and unknown routes; no rate-limit slot is used."""
        trace_id = str(uuid.uuid4())
        if message is None:
            message = STATUS_MESSAGES.get(status) or _reason(status)
        payload = {"meta": {"query_time": 0.000001, "powered_by": GATEWAY, "trace_id": trace_id},
                   "errors": [{"code": status, "message": message}]}
        given = dict(headers or {})
        all_headers = self._headers(trace_id, 0 if status == 429 else self._remaining())
        if status == 429 and not any(k.lower() == "x-ratelimit-retryafter" for k in given):
            all_headers["X-Ratelimit-Retryafter"] = str(int(math.ceil(self.ctx.now())) + 1)
        for name in list(all_headers):
            if any(k.lower() == name.lower() for k in given):
                del all_headers[name]
        all_headers.update(given)
        return web.json_response(payload, status=status, headers=all_headers)

    # -- rate limit -------------------------------------------------------------------------------------
    def _prune(self, now):
        while self.window and self.window[0] <= now - RATE_WINDOW:
            self.window.popleft()

    def _remaining(self):
        self._prune(self.ctx.now())
        return max(self.ctx.config["SANDBOX_FALCON_RATE_LIMIT"] - len(self.window), 0)

    def _count_request(self, request):
        """Take a slot in the account's sliding minute, or answer 429 with when one frees up."""
        now = self.ctx.now()
        self._prune(now)
        if len(self.window) >= self.ctx.config["SANDBOX_FALCON_RATE_LIMIT"]:
            request["falcon.remaining"] = 0
            retry_after = int(math.ceil(self.window[0] + RATE_WINDOW))
            raise FalconError(429, STATUS_MESSAGES[429], GATEWAY, {"X-Ratelimit-Retryafter": str(retry_after)})
        self.window.append(now)
        request["falcon.remaining"] = self._remaining()

    # -- OAuth2 -------------------------------------------------------------------------------------------
    def _authenticate(self, request):
        scheme, value = _split_scheme(request.headers.get("Authorization"))
        record = self.state["tokens"].get(value) if scheme == "bearer" else None
        if record is None or record["expires_at"] <= self.ctx.now():
            raise FalconError(401, ACCESS_DENIED, GATEWAY)
        return record

    def _member_cid_ok(self, given):
        match = MEMBER_CID_PATTERN.match(given.strip())
        return bool(match) and match.group(1).lower() == self.ctx.config["SANDBOX_FALCON_MEMBER_CID"].lower()

    async def issue_token(self, request):
        form = request.get("form") or {}
        client_id = _first(form, "client_id")
        client_secret = _first(form, "client_secret")
        member_cid = _first(form, "member_cid")
        if not client_id or not client_secret:
            raise FalconError(400, "Failed to generate access token for clientID=%s." % (client_id or ""), TOKEN_SERVICE)
        config = self.ctx.config
        if not (same_secret(client_id, config["SANDBOX_FALCON_CLIENT_ID"])
                and same_secret(client_secret, config["SANDBOX_FALCON_CLIENT_SECRET"])):
            raise FalconError(403, ACCESS_DENIED, TOKEN_SERVICE)
        if member_cid and not self._member_cid_ok(member_cid):
            raise FalconError(403, 'Failed to generate access token for customer ID= "%s"' % member_cid, TOKEN_SERVICE)
        ttl = config["SANDBOX_FALCON_TOKEN_TTL"]
        now = self.ctx.now()
        tokens = self.state["tokens"]
        for stale in [t for t, r in tokens.items() if r["expires_at"] <= now]:
            del tokens[stale]
        access_token = secrets.token_urlsafe(48)
        scopes = [s.strip() for s in config["SANDBOX_FALCON_SCOPES"].split(",") if s.strip()]
        tokens[access_token] = {"expires_at": now + ttl, "scopes": scopes, "member_cid": member_cid or None}
        self.ctx.changed()
        body = {"access_token": access_token, "token_type": "bearer", "expires_in": ttl}
        region = self.ctx.config["SANDBOX_FALCON_REGION"]
        return self._reply(request, body, 201, {"X-Cs-Region": region} if region else {})

    async def revoke_token(self, request):
        credentials = decode_basic_auth(request.headers.get("Authorization"))
        config = self.ctx.config
        if credentials is None or not (same_secret(credentials[0], config["SANDBOX_FALCON_CLIENT_ID"])
                                       and same_secret(credentials[1], config["SANDBOX_FALCON_CLIENT_SECRET"])):
            raise FalconError(403, ACCESS_DENIED, TOKEN_SERVICE)
        token = _first(request.get("form") or {}, "token")
        if not token:
            raise FalconError(400, "token is required", TOKEN_SERVICE)
        # Revoking an unknown or expired token succeeds too, as RFC 7009 asks.
        if self.state["tokens"].pop(token, None) is not None:
            self.ctx.changed()
        return self._reply(request, {"meta": self._meta(request, TOKEN_SERVICE), "errors": []})

    # -- request parsing -------------------------------------------------------------------------------------
    @staticmethod
    def _json_body(request):
        if request.get("json_error"):
            raise FalconError(400, "invalid JSON body: %s" % request["json_error"])
        body = request.get("json")
        if body is None:
            raise FalconError(400, "a JSON request body is required")
        return body

    def _ids_body(self, request):
        body = self._json_body(request)
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise FalconError(400, "the body must be an object with 'ids', a non-empty list of id strings")
        return list(dict.fromkeys(ids))

    @staticmethod
    def _paging(request, sorts):
        """(limit, offset, sort, filter) from the query string, each checked."""
        query = request.query
        raw_limit = query.get("limit")
        if raw_limit is None:
            limit = DEFAULT_LIMIT
        else:
            limit = _integer(raw_limit)
            if limit is None or not 1 <= limit <= MAX_LIMIT:
                raise FalconError(400, "limit must be an integer from 1 to %d, got %r" % (MAX_LIMIT, raw_limit))
        raw_offset = query.get("offset")
        offset = 0 if raw_offset is None else _integer(raw_offset)
        if offset is None or offset < 0:
            raise FalconError(400, "offset must be a non-negative integer, got %r" % raw_offset)
        sort = query.get("sort") or None
        if sort is not None and sort not in sorts:
            raise FalconError(400, "sort %r is not allowed; allowed values: %s" % (sort, ", ".join(sorts)))
        return limit, offset, sort, query.get("filter") or None

    def _query_reply(self, request, ids, limit, offset):
        page = ids[offset:offset + limit]
        meta = self._meta(request, pagination={"offset": offset, "limit": limit, "total": len(ids)})
        return self._reply(request, {"meta": meta, "resources": page, "errors": []})

    # -- cases ---------------------------------------------------------------------------------------------------
    def _cases(self):
        """Every case in creation order."""
        cases = self.state["cases"]
        return [cases[i] for i in self.state["case_ids"] if i in cases]

    def _activities(self, case_id=None):
        activities = self.state["activities"]
        found = [activities[i] for i in self.state["activity_ids"] if i in activities]
        return found if case_id is None else [a for a in found if a["case_id"] == case_id]

    def _case_getter(self, case, bodies_by_case):
        def getter(field):
            if field == "_all":
                return all_text(case)
            if field == "activity.body":
                return bodies_by_case.get(case["id"], [])
            return field_values(case, field[len("case."):])
        return getter

    def _bodies_by_case(self):
        bodies = {}
        for activity in self._activities():
            bodies.setdefault(activity["case_id"], []).append(activity["body"])
        return bodies

    def _case_filter(self, text):
        return fql.compile_filter(text, CASE_FILTER_FIELDS, CASE_TIMESTAMPS, ("_all",), now=self.ctx.now,
                                  colon_mode=self.ctx.config.variant(FQL_MATCH))

    def _filter_cases(self, text):
        cases = self._cases()
        if text is None:
            return cases
        try:
            flt = self._case_filter(text)
        except fql.FQLError as exc:
            raise FalconError(400, exc.message)
        bodies = self._bodies_by_case()
        return [c for c in cases if flt.matches(self._case_getter(c, bodies))]

    async def query_cases(self, request):
        limit, offset, sort, text = self._paging(request, CASE_SORTS)
        cases = _sorted(self._filter_cases(text), sort, "case.", CASE_TIMESTAMPS)
        return self._query_reply(request, [c["id"] for c in cases], limit, offset)

    async def get_cases(self, request):
        ids = self._ids_body(request)
        cases = self.state["cases"]
        found = [cases[i] for i in ids if i in cases]
        errors = [{"code": 404, "message": "case not found", "id": i} for i in ids if i not in cases]
        return self._reply(request, {"meta": self._meta(request), "resources": found, "errors": errors})

    async def create_case(self, request):
        body = self._json_body(request)
        fields = _checked_case_request(body, strict=self.ctx.config.variant(CREATE_REQUIRED) == "spec")
        prefix = self.ctx.config.variant(TITLE_PREFIX)
        if prefix:
            fields["title"] = "%s | %s" % (prefix, fields["title"])   # FIDELITY.md, Falcon F2
        case = self._store_case(fields)
        meta = self._meta(request, writes={"resources_affected": 1})
        resource = {"id": case["id"], "path": "/message-center/entities/cases/GET/v1?ids=%s" % case["id"]}
        return self._reply(request, {"meta": meta, "resources": [resource], "errors": []})

    def _store_case(self, fields):
        now = rfc3339(self.ctx.now())
        case = {"id": uuid.uuid4().hex, "cid": SANDBOX_CID, "key": "CS-%06d" % self.ctx.next_id("falcon.case_key"),
                "title": "", "body": "", "type": "fc:contact", "status": "2", "created_time": now,
                "last_modified_time": None, "assigner": empty_author(), "attachments": [], "detections": [],
                "incidents": [], "hosts": [], "aids": [], "ip_addresses": [], "malware_submission_id": "",
                "malware_submission_url": "", "recon_rule_type": "", "rfi_id": "", "case_type": ""}
        case.update(fields)
        case["last_modified_time"] = case["last_modified_time"] or case["created_time"]
        if case["id"] in self.state["cases"]:
            raise FalconError(400, "a case with id %s already exists" % case["id"])
        self.state["cases"][case["id"]] = case
        self.state["case_ids"].append(case["id"])
        self.ctx.changed()
        return case

    def _case_or_400(self, case_id):
        case = self.state["cases"].get(case_id)
        if case is None:
            raise FalconError(400, "case %s not found" % case_id)
        return case

    # -- activities -------------------------------------------------------------------------------------------------
    async def add_activity(self, request):
        body = self._json_body(request)
        if not isinstance(body, dict):
            raise FalconError(400, "the body must be a JSON object")
        for name in ("body", "case_id", "type", "user_uuid"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise FalconError(400, "%s is required and must be a non-empty string" % name)
        if body["type"] != "comment":
            raise FalconError(400, "type must be 'comment': only comment activities can be added through the API")
        _check_uuid(body["user_uuid"])
        case = self._case_or_400(body["case_id"])
        self._store_activity(case, {"body": body["body"], "type": "comment", "created_by": api_author(body["user_uuid"]),
                                    "modified_by": body["user_uuid"]})
        return self._reply(request, {"meta": self._meta(request, writes={"resources_affected": 1}), "errors": []})

    def _store_activity(self, case, fields):
        now = rfc3339(self.ctx.now())
        activity = {"id": uuid.uuid4().hex, "case_id": case["id"], "cid": case.get("cid", SANDBOX_CID), "body": "",
                    "type": "comment", "created_time": now, "created_by": empty_author(), "last_modified_time": None,
                    "modified_by": ""}
        activity.update(fields)
        activity["last_modified_time"] = activity["last_modified_time"] or activity["created_time"]
        self.state["activities"][activity["id"]] = activity
        self.state["activity_ids"].append(activity["id"])
        _touch(case, activity["created_time"])
        self.ctx.changed()
        return activity

    async def query_activities(self, request):
        case_id = request.query.get("case_id")
        if not case_id:
            raise FalconError(400, "case_id is required")
        limit, offset, sort, text = self._paging(request, ACTIVITY_SORTS)
        activities = self._activities(case_id)
        if text is not None:
            try:
                flt = fql.compile_filter(text, ACTIVITY_FILTER_FIELDS, ACTIVITY_TIMESTAMPS, now=self.ctx.now,
                                         colon_mode=self.ctx.config.variant(FQL_MATCH))
            except fql.FQLError as exc:
                raise FalconError(400, exc.message)
            activities = [a for a in activities if flt.matches(lambda f, a=a: field_values(a, f[len("activity."):]))]
        activities = _sorted(activities, sort, "activity.", ACTIVITY_TIMESTAMPS)
        return self._query_reply(request, [a["id"] for a in activities], limit, offset)

    async def get_activities(self, request):
        ids = self._ids_body(request)
        activities = self.state["activities"]
        found = [activities[i] for i in ids if i in activities]
        errors = [{"code": 404, "message": "activity not found", "id": i} for i in ids if i not in activities]
        return self._reply(request, {"meta": self._meta(request), "resources": found, "errors": errors})

    # -- attachments ------------------------------------------------------------------------------------------------------
    async def add_attachment(self, request):
        parts = request.get("multipart")
        if parts is None or request.get("multipart_error"):
            raise FalconError(400, "the request must be multipart/form-data with case_id, user_uuid and file"
                              + (": %s" % request["multipart_error"] if request.get("multipart_error") else ""))
        form = request.get("form") or {}
        case_id, user_uuid = _first(form, "case_id"), _first(form, "user_uuid")
        if not case_id:
            raise FalconError(400, "case_id is required")
        if not user_uuid:
            raise FalconError(400, "user_uuid is required")
        _check_uuid(user_uuid)
        upload = next((p for p in parts if p["name"] == "file" and p["filename"] is not None), None)
        if upload is None:
            raise FalconError(400, "file is required (a multipart file part named 'file')")
        extension = _check_attachment(upload["filename"], len(upload["data"]))
        case = self._case_or_400(case_id)
        now = rfc3339(self.ctx.now())
        attachment = {"id": uuid.uuid4().hex, "name": upload["filename"], "mime_type": ATTACHMENT_TYPES[extension],
                      "size": len(upload["data"]), "created_by": user_uuid, "created_time": now}
        case["attachments"].append(attachment)
        _touch(case, now)
        self.state["blobs"][attachment["id"]] = {"case_id": case_id, "data": base64.b64encode(upload["data"]).decode("ascii")}
        self.ctx.changed()
        return self._reply(request, {"meta": self._meta(request, writes={"resources_affected": 1}),
                                     "resources": [attachment], "errors": []})

    async def download_attachment(self, request):
        attachment_id = request.query.get("id")
        if not attachment_id:
            raise FalconError(400, "id is required (the attachment id, as the 'id' query parameter)")
        blob = self.state["blobs"].get(attachment_id)
        case = self.state["cases"].get(blob["case_id"]) if blob else None
        attachment = next((a for a in (case or {}).get("attachments", []) if a["id"] == attachment_id), None)
        if attachment is None:
            raise FalconError(404, "attachment %s not found" % attachment_id)
        headers = self._headers(request["falcon.trace_id"], request["falcon.remaining"])
        headers["Content-Type"] = attachment["mime_type"]
        headers["Content-Disposition"] = 'attachment; filename="%s"' % attachment["name"]
        return web.Response(body=base64.b64decode(blob["data"]), headers=headers)

    # -- aggregations ---------------------------------------------------------------------------------------------------------
    async def aggregate_cases(self, request):
        if request.get("json_error"):
            raise FalconError(400, "invalid JSON body: %s" % request["json_error"])
        bodies = self._bodies_by_case()

        def compile_filter(text):
            flt = self._case_filter(text)
            return lambda case: flt.matches(self._case_getter(case, bodies))

        dataset = falcon_aggregations.Dataset(
            self._cases(), _aggregation_field, lambda case, field: field_values(case, field[len("case."):]),
            CASE_TIMESTAMPS, compile_filter, all_text, self.ctx.now)
        try:
            resources = falcon_aggregations.aggregate(request.get("json"), dataset)
        except falcon_aggregations.AggregationError as exc:
            raise FalconError(400, str(exc))
        return self._reply(request, {"meta": self._meta(request), "resources": resources, "errors": []})

    # -- control routes -------------------------------------------------------------------------------------------------------
    async def control_list(self, request):
        return web.json_response({"cases": self._cases(), "activities": self._activities()})

    async def control_create(self, request):
        """One case from a JSON object, or many: {"count": N, "template": {...}} where "{n}" in a
        string field becomes 1..N (for paging tests that need more than one page of cases)."""
        body = request.get("json")
        try:
            if isinstance(body, dict) and "count" in body:
                return web.json_response({"cases": [self._store_case(fields) for fields in _bulk_case_fields(body)]}, status=201)
            fields = _control_case_fields(body, creating=True)
            case = self._store_case(fields)
        except FalconError as exc:
            return web.json_response({"error": exc.message}, status=400)
        return web.json_response(case, status=201)

    async def control_update(self, request):
        case = self.state["cases"].get(request.match_info["case_id"])
        if case is None:
            return web.json_response({"error": "no case %s" % request.match_info["case_id"]}, status=404)
        try:
            fields = _control_case_fields(request.get("json"), creating=False)
        except FalconError as exc:
            return web.json_response({"error": exc.message}, status=400)
        if "assigner" in fields:
            fields["assigner"] = dict(case["assigner"], **fields["assigner"])
        case.update(fields)
        if "last_modified_time" not in fields:
            case["last_modified_time"] = rfc3339(self.ctx.now())
        self.ctx.changed()
        return web.json_response(case)

    async def control_add_activity(self, request):
        """One activity from a JSON object, or many: {"count": N, "template": {...}} where "{n}" in a
        string field becomes 1..N (for paging tests that need more than one page of activities)."""
        case = self.state["cases"].get(request.match_info["case_id"])
        if case is None:
            return web.json_response({"error": "no case %s" % request.match_info["case_id"]}, status=404)
        body = request.get("json")
        if not isinstance(body, dict):
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        if "count" in body:
            count, template = body.get("count"), body.get("template") or {}
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10000:
                return web.json_response({"error": "count must be an integer from 1 to 10000"}, status=400)
            if set(body) - {"count", "template"} or not isinstance(template, dict):
                return web.json_response({"error": "a bulk create takes only count and a template object"}, status=400)
            bodies = [dict((k, v.replace("{n}", str(n)) if isinstance(v, str) else v) for k, v in template.items())
                      for n in range(1, count + 1)]
        else:
            bodies = [body]
        checked = []
        for item in bodies:
            unknown = set(item) - {"type", "body", "created_by", "created_time", "last_modified_time", "modified_by"}
            if unknown:
                return web.json_response({"error": "unknown activity fields: %s" % ", ".join(sorted(unknown))}, status=400)
            fields = dict(item)
            created_by = fields.get("created_by")
            if isinstance(created_by, str):
                fields["created_by"] = api_author(created_by)
            elif isinstance(created_by, dict):
                fields["created_by"] = dict(empty_author(), **created_by)
            checked.append(fields)
        stored = [self._store_activity(case, fields) for fields in checked]
        if "count" in body:
            return web.json_response({"activities": stored}, status=201)
        return web.json_response(stored[0], status=201)


# -- helpers ------------------------------------------------------------------------------------------------------------------
def _bulk_case_fields(body):
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10000:
        raise FalconError(400, "count must be an integer from 1 to 10000")
    template = body.get("template") or {}
    if set(body) - {"count", "template"} or not isinstance(template, dict):
        raise FalconError(400, "a bulk create takes only count and a template object")
    fields = []
    for number in range(1, count + 1):
        case = dict((k, v.replace("{n}", str(number)) if isinstance(v, str) else v) for k, v in template.items())
        fields.append(_control_case_fields(case, creating=True))
    return fields


def _reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _first(form, name):
    values = form.get(name) or []
    return values[0] if values else None


def _integer(text):
    try:
        return int(str(text).strip())
    except ValueError:
        return None


def _check_uuid(value):
    if not UUID_PATTERN.match(value):
        raise FalconError(400, "user_uuid must be a user UUID (8-4-4-4-12 hex digits), got %r" % value)


def _touch(case, moment):
    """Move a case's last_modified_time forward to ``moment`` (never back)."""
    current = fql.parse_instant(case.get("last_modified_time"))
    new = fql.parse_instant(moment)
    if current is None or (new is not None and new > current):
        case["last_modified_time"] = moment


def _sorted(records, sort, prefix, timestamps):
    """Records in the order of a ``<field>.<asc|desc>`` sort value; creation order when there is none."""
    if sort is None:
        return records
    field, direction = sort.rsplit(".", 1)
    attribute = field[len(prefix):]

    def key(record):
        value = record.get(attribute)
        if field in timestamps:
            return fql.parse_instant(value) or 0.0
        number = fql.as_number(value)
        return (0, number, "") if number is not None else (1, 0.0, fql.as_text(value))
    return sorted(records, key=key, reverse=direction == "desc")


def _aggregation_field(name):
    """``status`` and ``case.status`` both name the case field ``case.status``."""
    for candidate in (name, "case." + name):
        if candidate in AGGREGATION_FIELDS:
            return candidate
    return None


def _checked_case_request(body, strict=False):
    """The case fields from a CreateCaseV2 body, or a 400 naming the broken rule.

    ``strict`` also enforces every key the spec marks required (FIDELITY.md, Falcon F3); empty values do.
    """
    if not isinstance(body, dict):
        raise FalconError(400, "the body must be a JSON object")
    if strict:
        missing = [name for name in SPEC_REQUIRED_CASE_KEYS if name not in body or body[name] is None]
        if missing:
            raise FalconError(400, "missing required field(s): %s" % ", ".join(missing))
    for name in ("title", "body", "type"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise FalconError(400, "%s is required and must be a non-empty string" % name)
    if not CASE_TYPE_PATTERN.match(body["type"]):
        raise FalconError(400, "type %r is not a case type (fc:<name>, e.g. fc:contact)" % body["type"])
    fields = {"title": body["title"], "body": body["body"], "type": body["type"],
              "detections": _linked(body, "detections", ("id", "url", "product")),
              "incidents": _linked(body, "incidents", ("id", "url"))}
    if body.get("user_uuid") is not None:
        if not isinstance(body["user_uuid"], str):
            raise FalconError(400, "user_uuid must be a string")
        _check_uuid(body["user_uuid"])
    for name in ("malware_submission_id", "recon_rule_type"):
        if body.get(name) is not None:
            if not isinstance(body[name], str):
                raise FalconError(400, "%s must be a string" % name)
            fields[name] = body[name]
    return fields


def _linked(body, name, keys):
    """Detections or incidents: a list of objects with a string id; stored as {id, url}."""
    items = body.get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        raise FalconError(400, "%s must be a list of objects" % name)
    linked = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise FalconError(400, "%s[%d] must be an object with a string id" % (name, index))
        for key in keys:
            if item.get(key) is not None and not isinstance(item[key], str):
                raise FalconError(400, "%s[%d].%s must be a string" % (name, index, key))
        linked.append({"id": item["id"], "url": item.get("url") or ""})
    return linked


def _check_attachment(name, size):
    """The lower-case extension of an acceptable attachment, or a 400 naming the broken rule."""
    if size > MAX_ATTACHMENT_BYTES:
        raise FalconError(400, "file is %d bytes; the maximum upload size is 15 MB (%d bytes)" % (size, MAX_ATTACHMENT_BYTES))
    if not name:
        raise FalconError(400, "the file name is empty")
    if len(name) > MAX_ATTACHMENT_NAME:
        raise FalconError(400, "the file name is %d characters; the maximum is %d" % (len(name), MAX_ATTACHMENT_NAME))
    if not ATTACHMENT_FIRST_CHAR.match(name):
        raise FalconError(400, "the file name must start with one of [a-zA-Z0-9_-]")
    if not ATTACHMENT_NAME_CHARS.match(name):
        raise FalconError(400, "the file name may only contain the characters [a-zA-Z0-9-_.] and whitespace")
    extension = name.rsplit(".", 1)[1].lower() if "." in name else ""
    if extension not in ATTACHMENT_TYPES:
        raise FalconError(400, "file type %r is not allowed; allowed types: %s"
                          % (extension, ", ".join(sorted(ATTACHMENT_TYPES))))
    return extension


def _control_case_fields(body, creating):
    """Case fields for the control routes: any messages.Case field, type-checked, nothing else."""
    if body is None and creating:
        body = {}
    if not isinstance(body, dict):
        raise FalconError(400, "the body must be a JSON object")
    unknown = set(body) - set(CASE_FIELDS)
    if unknown:
        raise FalconError(400, "unknown case fields: %s" % ", ".join(sorted(unknown)))
    if not creating and "id" in body:
        raise FalconError(400, "a case id cannot change")
    fields = dict(body)
    for name in ("attachments", "detections", "incidents", "hosts", "aids", "ip_addresses"):
        if name in fields and not isinstance(fields[name], list):
            raise FalconError(400, "%s must be a list" % name)
    if "assigner" in fields:
        if not isinstance(fields["assigner"], dict):
            raise FalconError(400, "assigner must be an object")
        if creating:
            fields["assigner"] = dict(empty_author(), **fields["assigner"])
    for name in set(fields) - {"attachments", "detections", "incidents", "hosts", "aids", "ip_addresses", "assigner"}:
        if not isinstance(fields[name], str):
            raise FalconError(400, "%s must be a string" % name)
    return fields
