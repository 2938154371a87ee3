# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloudflare Cloudforce One client: authentication, the v4 envelope, errors.

Every call goes to ``/accounts/{account_id}/cloudforce-one/...`` under the
base URL.  Responses come in the Cloudflare envelope ``{success, errors,
messages, result}``; a body with ``success: false`` is an error even when the
HTTP status says 200.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.caseops.desk.plugins.module_utils.args import param, transport_options
from ansible_collections.caseops.desk.plugins.module_utils.comparison import same_text
from ansible_collections.caseops.desk.plugins.module_utils.errors import (
    ApiError,
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
)
from ansible_collections.caseops.desk.plugins.module_utils.errors import describe_errors as describe_error_entries
from ansible_collections.caseops.desk.plugins.module_utils.moments import format_moment, parse_moment
from ansible_collections.caseops.desk.plugins.module_utils.transport import ApiHooks, Transport, json_object

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
API_PREFIX = "/client/v4"
ACCOUNT_ID = re.compile(r"^[0-9a-fA-F]{32}$")
REQUEST_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# The enums of the API's constants (notes 1.2); fixed by the spec, so checked before any request.
PRIORITIES = ["routine", "high", "urgent"]
TLPS = ["clear", "green", "amber", "amber-strict", "red"]
STATUSES = ["open", "accepted", "reported", "approved", "completed", "declined"]
SORT_FIELDS = ["created", "updated"]
SORT_ORDERS = ["asc", "desc"]
DEFAULT_PAGE_SIZE = 50
# Cloudflare's page numbering starts at 1 (FIDELITY.md, Cloudforce One C3; see _list).
FIRST_PAGE = 1
# The API documents no maximum (FIDELITY.md, Cloudforce One C1): a service that refuses a larger page says so
# with a 400, one that serves fewer items is paged through (see _list).
MAX_PAGE_SIZE = 1000

REQUEST_FIELDS = ("id", "readable_id", "summary", "content", "request_type", "priority", "tlp", "status",
                  "created", "updated", "completed", "tokens", "message_tokens")
MESSAGE_FIELDS = ("id", "author", "content", "created", "updated", "is_follow_on_request")


def normalize_base_url(base_url):
    """The API root ending in /client/v4, whether or not the user wrote that part."""
    url = (base_url or DEFAULT_BASE_URL).rstrip("/")
    return url if url.endswith(API_PREFIX) else url + API_PREFIX


def to_rfc3339(value, name):
    """An RFC 3339 UTC date-time (``2026-01-02T03:04:05Z``) from what users naturally write (see parse_moment)."""
    return format_moment(parse_moment(value, name))


def time_window(params, after_name, before_name):
    """The two bounds of a time filter as RFC 3339, checked to be in order."""
    after = parse_moment(params.get(after_name), after_name)
    before = parse_moment(params.get(before_name), before_name)
    if after is not None and before is not None and after >= before:
        raise InvalidInputError("%s (%s) must be earlier than %s (%s)."
                                % (after_name, format_moment(after), before_name, format_moment(before)))
    return format_moment(after), format_moment(before)


def check_request_id(value, name="request_id"):
    """A request id as the API spells it (a UUID), or InvalidInputError before any request."""
    text = (value or "").strip()
    if not REQUEST_ID.match(text):
        raise InvalidInputError("%s must be a request UUID such as f174e90a-fafe-4643-bbbc-4a0ed4fc8415 (the id, not the "
                                "readable RFI-... number), got %r." % (name, value))
    return text.lower()


def check_page_size(value):
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidInputError("page_size must be between 1 and %d, got %d." % (MAX_PAGE_SIZE, value))
    return value


def normalize_priority(value):
    """The priority enum value, or None when the API sent something else (the spec types it as a date-time)."""
    if isinstance(value, str) and value.strip().lower() in PRIORITIES:
        return value.strip().lower()
    return None


def normalize_request(item):
    """A request (list item or full item) with the type under ``request_type`` and a readable priority."""
    item = dict(item or {})
    if "request_type" not in item:
        item["request_type"] = item.get("request")
    record = dict((name, item.get(name)) for name in REQUEST_FIELDS)
    record["priority"] = normalize_priority(item.get("priority"))
    return record


def normalize_message(item):
    item = dict(item or {})
    record = dict((name, item.get(name)) for name in MESSAGE_FIELDS)
    if record["id"] is not None:
        try:
            record["id"] = int(record["id"])
        except (TypeError, ValueError):
            pass
    record["is_follow_on_request"] = bool(record["is_follow_on_request"])
    return record


def error_hint(status, errors, path):
    """What a user can do about a Cloudflare error, or None."""
    codes = set(e.get("code") for e in errors if isinstance(e, dict))
    if status == 400 and 6003 in codes:
        return ("Cloudflare could not read the credentials: set cloudflare_api_token, or cloudflare_email together with "
                "cloudflare_api_key.")
    if status == 403:
        return ("Cloudflare refused the credentials for this call. Check that they belong to cloudflare_account_id and "
                "carry the Cloudforce One Write permission: listing requests or messages and every change need Write; "
                "Cloudforce One Read only allows get, quota, types and constants.")
    return None


def describe_errors(errors):
    """'[code] message; ...' for envelope errors, each with its nested ``error_chain`` in brackets."""
    return describe_error_entries(errors, nested_key="error_chain")


def retry_hint(response, now):
    """A 429's ``Ratelimit: "default";r=0;t=30`` header: t is the seconds until the window resets."""
    if response.status_code != 429:
        return None
    match = re.search(r";\s*t=(\d+)", response.headers.get("Ratelimit") or "")
    return float(match.group(1)) if match else None


def parse_error(response):
    """(message, errors) from the v4 envelope ``{"success": false, "errors": [{"code", "message", "error_chain"}]}``."""
    body = json_object(response) or {}
    errors = [e for e in (body.get("errors") or []) if isinstance(e, dict)]
    return describe_errors(errors) or None, errors


def trace_id(response):
    """Cloudflare's ray id (``Cf-Ray``), which its support asks for."""
    return response.headers.get("Cf-Ray") or None


API_HOOKS = ApiHooks(retry_hint=retry_hint, parse_error=parse_error, trace_id=trace_id, error_hint=error_hint)


class CloudforceOneClient:
    """Cloudforce One calls for one account over one :class:`Transport`."""

    def __init__(self, transport, account_id, api_token=None, email=None, api_key=None):
        self.transport = transport
        self.redact = transport.redact
        self.account_id = account_id
        # Known only with the Global API Key; messages we post carry it as their author.
        self.email = None if api_token else email
        if api_token:
            self.auth_headers = {"Authorization": "Bearer %s" % api_token}
        else:
            self.auth_headers = {"X-Auth-Email": email, "X-Auth-Key": api_key}
        transport.add_secret(api_token)
        transport.add_secret(api_key)

    def path(self, *parts):
        return "/".join(["/accounts", self.account_id, "cloudforce-one"] + [str(p) for p in parts])

    def call(self, method, parts, json_body=None, replay_safe=None, recover=None):
        """The envelope's ``result`` of one call (None for deletes, which carry none)."""
        return self._call(method, parts, json_body, replay_safe, recover)[0]

    def _call(self, method, parts, json_body=None, replay_safe=None, recover=None):
        """(``result``, ``result_info`` or None) of one call."""
        path = self.path(*parts)
        reply = self.transport.request(method, path, json_body=json_body, headers=self.auth_headers,
                                       replay_safe=replay_safe, recover=recover)
        if reply.is_recovered:
            return reply.recovered, None
        body = reply.json()
        if isinstance(body, dict) and body.get("success") is False:
            errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
            described = describe_errors(errors) or "no error details"
            raise ApiError(self.transport.redact("Cloudforce One %s %s was not successful: %s." % (method, path, described)),
                           status=reply.status, vendor="Cloudforce One", method=method, errors=errors)
        if not isinstance(body, dict):
            return None, None
        info = body.get("result_info")
        return body.get("result"), info if isinstance(info, dict) else None

    def quota(self):
        return self.call("GET", ["requests", "quota"])

    def request_types(self):
        return self.call("GET", ["requests", "types"]) or []

    def constants(self):
        return self.call("GET", ["requests", "constants"]) or {}

    # -- paging ------------------------------------------------------------------------
    def _list(self, parts, body, page_size, until=None):
        """Every item of a POST list, page by page (with ``until``, up to the first page with an item it accepts).

        Where a listing ends (FIDELITY.md, Cloudforce One C2): these lists carry
        no ``result_info`` in the spec, and the service may serve fewer items
        than ``per_page`` asks without saying so (C1).  So a page shorter than
        asked ends the listing only once the service has shown what a full page
        is: an empty page ends it, and so does a page shorter than an earlier
        one.  When an answer does carry ``result_info`` (``total_count``,
        ``total_pages``), the listing ends where it says.

        The first page index is not documented (C3): generated examples send
        0 (the zero value of an integer with no default), Cloudflare's
        convention is 1, and the official pagers (cloudflare-go's
        ``V4PagePaginationArray``, the Terraform list data source) start at 1.
        Starting at 1 costs no probe: the listing takes ceil(N / per_page)
        requests, plus the empty page that says the last full one was the last.
        A page with nothing new ends the listing too (an API that ignores
        ``page`` must not loop forever).
        """
        items, seen = [], set()
        page = FIRST_PAGE
        full_page = 0  # the longest page served: what the service gives per page for this per_page
        while True:
            result, info = self._call("POST", parts, json_body=dict(body, page=page, per_page=page_size), replay_safe=True)
            result = result if isinstance(result, list) else []
            fresh = [item for item in result if _key(item) not in seen]
            for item in fresh:
                seen.add(_key(item))
            items.extend(fresh)
            if not fresh or len(result) < full_page or _says_last(info, page, len(items)):
                return items
            if until is not None and any(until(item) for item in fresh):
                return items
            full_page = max(full_page, len(result))
            page += 1

    # -- messages ----------------------------------------------------------------------
    def list_messages(self, request_id, after=None, before=None, sort_by=None, sort_order=None, page_size=DEFAULT_PAGE_SIZE):
        given = (("after", after), ("before", before), ("sort_by", sort_by), ("sort_order", sort_order))
        body = dict((k, v) for k, v in given if v is not None)
        items = self._list(["requests", request_id, "message"], body, page_size)
        return [normalize_message(item) for item in items]

    def find_message(self, request_id, message_id, page_size=DEFAULT_PAGE_SIZE):
        """The message with this id, or None; the listing stops at the page that has it (there is no single-message
        read), so a message on the last page costs no empty page after it."""
        items = self._list(["requests", request_id, "message"], {}, page_size,
                           until=lambda item: isinstance(item, dict) and str(item.get("id")) == str(message_id))
        for message in (normalize_message(item) for item in items):
            if message["id"] == message_id:
                return message
        return None

    def new_message_finder(self, request_id, content, known_ids=()):
        """A look-up for a message we posted: this content, not among ``known_ids``, by us when we know who we are.

        ``known_ids``: ids of messages with this content that existed before,
        so a deliberate repeat is not mistaken for the one we just sent.
        """
        known = set(known_ids)

        def find():
            found = [m for m in self.list_messages(request_id)
                     if same_text(m["content"], content) and m["id"] not in known and (not self.email or m["author"] == self.email)]
            return min(found, key=lambda m: m["id"]) if found else None
        return find

    def create_message(self, request_id, content, known_ids=(), recover=None):
        """Post a message; after an ambiguous failure, ``recover`` (by default one look-up) finds it rather than
        posting it twice."""
        if recover is None:
            recover = self.new_message_finder(request_id, content, known_ids)
        result = self.call("POST", ["requests", request_id, "message", "new"], json_body={"content": content},
                           replay_safe=False, recover=recover)
        return normalize_message(result)

    def update_message(self, request_id, message_id, content):
        result = self.call("PUT", ["requests", request_id, "message", message_id], json_body={"content": content})
        return normalize_message(result)

    def delete_message(self, request_id, message_id):
        self._delete(["requests", request_id, "message", message_id])

    # -- requests ----------------------------------------------------------------------
    def list_requests(self, status=None, request_type=None, created_after=None, created_before=None,
                      completed_after=None, completed_before=None, sort_by=None, sort_order=None,
                      page_size=DEFAULT_PAGE_SIZE):
        given = (("status", status), ("request_type", request_type), ("created_after", created_after),
                 ("created_before", created_before), ("completed_after", completed_after),
                 ("completed_before", completed_before), ("sort_by", sort_by), ("sort_order", sort_order))
        body = dict((k, v) for k, v in given if v is not None)
        return [normalize_request(item) for item in self._list(["requests"], body, page_size)]

    def get_request(self, request_id, listed=None):
        """The full request, or None when it does not exist.

        ``listed``: the request's list item when the caller has just listed it (no write in between), whose priority
        stands in for a full record's unreadable one (a date-time, notes 1.5) without listing again.
        """
        try:
            record = normalize_request(self.call("GET", ["requests", request_id]))
        except NotFoundError:
            return None
        if record["priority"] is None:
            known = (listed or {}).get("priority") if (listed or {}).get("id") == record["id"] else None
            record["priority"] = known or self._listed_priority(record)
        return record

    def _listed_priority(self, record):
        """The priority from the list, whose item types it as the enum (the full item's type is a date-time)."""
        if not record.get("created"):
            return None
        try:
            created = parse_moment(record["created"], "created").replace(microsecond=0)
        except InvalidInputError:
            return None
        around = [(created + datetime.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ") for s in (-1, 2)]
        for item in self.list_requests(request_type=record.get("request_type"), created_after=around[0],
                                       created_before=around[1]):
            if item["id"] == record["id"]:
                return item["priority"]
        return None

    def find_requests(self, summary, request_type):
        """Requests with exactly this summary and type (the identity of a request without its id)."""
        return [r for r in self.list_requests(request_type=request_type)
                if r["summary"] == summary and r["request_type"] == request_type]

    def new_request_finder(self, summary, request_type, known_ids=()):
        """A look-up for a request we created: this summary and type, not among ``known_ids``; the oldest, in full."""
        known = set(known_ids)

        def find():
            found = [r for r in self.find_requests(summary, request_type) if r["id"] not in known]
            if not found:
                return None
            oldest = min(found, key=lambda r: (r.get("created") or "", r["id"]))
            return self.call("GET", ["requests", oldest["id"]])
        return find

    def create_request(self, fields, known_ids=(), recover=None):
        """Create a request; after an ambiguous failure, ``recover`` (by default one look-up by summary and type)
        finds it rather than creating it twice."""
        if recover is None:
            recover = self.new_request_finder(fields.get("summary"), fields.get("request_type"), known_ids)
        result = normalize_request(self.call("POST", ["requests", "new"], json_body=fields, replay_safe=False,
                                             recover=recover))
        if result["priority"] is None:
            result["priority"] = fields.get("priority") or self._listed_priority(result)
        return result

    def update_request(self, request_id, fields):
        result = normalize_request(self.call("PUT", ["requests", request_id], json_body=fields))
        if result["priority"] is None:
            result["priority"] = fields.get("priority") or self._listed_priority(result)
        return result

    def delete_request(self, request_id):
        try:
            self._delete(["requests", request_id])
        except ApiError as err:
            if err.status == 400 and not isinstance(err, NotFoundError):
                err.msg = ("%s Cloudforce One deletes a request only while its status is open; once the team has "
                           "accepted it, it can no longer be deleted." % err.msg)
                err.args = (err.msg,)
            raise

    def _delete(self, parts):
        try:
            self.call("DELETE", parts)
        except NotFoundError as err:
            # A replayed DELETE that finds nothing means the first one went through.
            if not err.replayed:
                raise


def _says_last(info, page, count):
    """Whether a ``result_info`` (when the service sends one) says this was the last page."""
    if not info:
        return False
    total_count = info.get("total_count")
    if isinstance(total_count, int) and not isinstance(total_count, bool) and count >= total_count:
        return True
    total_pages, served = info.get("total_pages"), info.get("page")
    served = page if served is None else served
    numbers = isinstance(total_pages, int) and isinstance(served, int) and not isinstance(served, bool)
    return numbers and served >= total_pages


def _key(item):
    return item.get("id") if isinstance(item, dict) and item.get("id") is not None else repr(item)


def client_from_params(params):
    """A CloudforceOneClient from module parameters, with every missing piece named before any request."""
    account_id = param(params, "cloudflare_account_id")
    api_token = param(params, "cloudflare_api_token")
    email = param(params, "cloudflare_email")
    api_key = param(params, "cloudflare_api_key")
    if not account_id:
        raise ConfigurationError("cloudflare_account_id is required (or set CLOUDFLARE_ACCOUNT_ID): the 32-character ID of "
                                 "the account with the Cloudforce One subscription.")
    if not ACCOUNT_ID.match(account_id):
        raise InvalidInputError("cloudflare_account_id must be 32 hexadecimal characters, got %d characters." % len(account_id))
    if not api_token and not (email and api_key):
        if email or api_key:
            raise ConfigurationError("cloudflare_email and cloudflare_api_key go together: the Global API Key needs the "
                                     "e-mail address of its user. Or set cloudflare_api_token instead.")
        raise ConfigurationError("Cloudflare credentials are missing: set cloudflare_api_token (or CLOUDFLARE_API_TOKEN), "
                                 "or cloudflare_email with cloudflare_api_key (or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY).")
    transport = Transport(normalize_base_url(param(params, "cloudflare_base_url")), "Cloudforce One", hooks=API_HOOKS,
                          **transport_options(params))
    return CloudforceOneClient(transport, account_id.lower(), api_token=api_token, email=email, api_key=api_key)
