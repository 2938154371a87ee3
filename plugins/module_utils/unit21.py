# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit21 client: the ``u21-key`` header, the per-environment base URL, errors, and the case calls.

What the API documents and what we assume (``shared/api/unit21.md``) is kept in
the constants below, so an assumption proven wrong is a one-line change:

* list paging: ``offset`` is a 1-based page number and ``limit`` is at most 50
  (documented); a page past the end comes back short or empty (assumed).
* there is no lookup by ``case_id`` (documented), so :meth:`Unit21Client.find_case`
  pages through ``/cases/list``; newest cases are assumed to sort last, so it
  walks from the last page back.
* a 409 on create means the ``case_id`` exists (documented); its body does not
  carry the ``unit21_id`` (assumed), hence the search.
* link-media: 5 MB per file and the extension list (documented).
* ``GET /cases/{unit21_id}`` answers ``getCaseResponse`` without ``tags``,
  ``custom_data``, dates, ``queue_id`` or linked objects; ``/cases/list`` items
  carry ``tags`` and ``custom_data`` (documented; tests/sandbox/FIDELITY.md,
  Unit21 U1, U2).  The list has no filter by id, so :meth:`Unit21Client.read_case`
  finds a case's list item by its creation second (``created_after`` inclusive,
  ``created_before`` exclusive, documented; U6).
* "POST body must be smaller than 1MB" (documented; U3): JSON bodies are kept
  under 10**6 bytes, the stricter reading of "1MB"; larger media go as
  multipart (``linkMediaForm``), which link-media documents for files up to 5 MB.

Every Unit21 rule the collection checks before sending (the id format, the depth
of ``custom_data``, media names and sizes, the body limit) is defined here, once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

from ansible_collections.caseops.desk.plugins.module_utils.args import param, transport_options
from ansible_collections.caseops.desk.plugins.module_utils.errors import ConfigurationError, InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.file_payload import refuse_unlisted_extension
from ansible_collections.caseops.desk.plugins.module_utils.transport import ApiHooks, Transport, json_object, seconds_from_hint

API_PREFIX = "/v1"
LIST_PAGE_MAX = 50
CASE_STATUSES = ("OPEN", "CLOSED")
MEDIA_MAX_BYTES = 5 * 1024 * 1024
MEDIA_EXTENSIONS = ("txt", "pdf", "mp4", "mov", "wmv", "avi", "mkv", "png", "jpg", "jpeg", "tiff", "gif", "raw", "eps")
# Update options (notes 2.2): how lists (tags, alerts, entities, events) and custom_data combine with what is stored.
LIST_MERGE_UNION = "union"
LIST_MERGE_REPLACE = "replace"
WRITE_PATH_SUFFIXES = ("/create", "/update", "/link-media")
# custom_data may nest at most this many objects (notes 2.1); lists add no level.
CUSTOM_DATA_MAX_DEPTH = 3
# The custom_data key where case_attachment records what it linked, {sha256: [name, ...]} (Unit21 cannot list media);
# the case module keeps it when it replaces custom_data.
MEDIA_RECORD_KEY = "caseops_desk_media"
# Media whose link-media failed in a way that hides whether Unit21 stored them (timeout, dropped connection, 502,
# 504), same layout; later runs warn about them until they are re-linked on purpose.
MEDIA_UNCONFIRMED_KEY = "caseops_desk_media_unconfirmed"
# The case module's record of the fields Unit21 does not return (FIELDS_NOT_RETURNED), {field: digest of the value
# it last set}, so a re-run can tell "unchanged" without reading them.
FIELDS_RECORD_KEY = "caseops_desk_fields"
RESERVED_CUSTOM_DATA_KEYS = (MEDIA_RECORD_KEY, MEDIA_UNCONFIRMED_KEY, FIELDS_RECORD_KEY)
# Neither GET nor /cases/list returns these (FIDELITY.md, Unit21 U1, U2).
FIELDS_NOT_RETURNED = ("start_date", "end_date", "queue_id", "alerts", "events", "entities")
# Read from the case's /cases/list item when the GET lacks them (U2).
LIST_ONLY_FIELDS = ("tags", "custom_data", "assigned_to")
# "POST body must be smaller than 1MB" (FIDELITY.md, Unit21 U3): a JSON body must stay below this many bytes.
JSON_BODY_LIMIT = 1000000
DOCUMENTED_HOSTS = ("https://api.unit21.com", "https://api.prod2.unit21.com", "https://api.prod1.eu-central-1.unit21.com",
                    "https://sandbox1-api.unit21.com", "https://sandbox2-api.unit21.com",
                    "https://api.sandbox1.eu-central-1.unit21.com")


def normalize_base_url(base_url):
    url = base_url.rstrip("/")
    return url if url.endswith(API_PREFIX) else url + API_PREFIX


def error_hint(status, errors, path):
    """What a user can do about a Unit21 error, or None."""
    if status == 401:
        return ("Unit21 refused the API key: check unit21_api_key, and that unit21_base_url is the environment the key "
                "was created in (each key works in one environment only).")
    if status == 403:
        needed = "write access to cases" if path.rstrip("/").endswith(WRITE_PATH_SUFFIXES) else "read access to cases"
        return ("The API key lacks the permission for this call: it needs %s. A key's permissions are fixed when it "
                "is created (Data Management > Integrations > API Keys); create a key that has them." % needed)
    if status == 423:
        return "Unit21 is still processing this object; the request was retried until the retry budget ran out."
    return None


def retry_hint(response, now):
    """A 429's ``X-RateLimit-Reset``: UTC seconds since the epoch when the window resets (notes 1.5)."""
    if response.status_code != 429:
        return None
    return seconds_from_hint(response.headers.get("X-RateLimit-Reset"), now)


def parse_error(response):
    """(message, errors) from an error body ``{"error_code", "message"}``; errors holds one ``{code, message}``."""
    body = json_object(response) or {}
    if not body.get("message"):
        return None, []
    code = body.get("error_code")
    message = "[%s] %s" % (code, body["message"]) if code not in (None, "") else body["message"]
    return message, [{"code": code, "message": body["message"]}]


def trace_id(response):
    """``X-Request-Id``, when a gateway in front of Unit21 sets one (the API documents no trace id)."""
    return response.headers.get("X-Request-Id") or None


API_HOOKS = ApiHooks(retry_hint=retry_hint, parse_error=parse_error, trace_id=trace_id, error_hint=error_hint)


class Unit21Client:
    """Unit21 calls over one :class:`Transport`."""

    def __init__(self, transport, api_key):
        self.transport = transport
        self.redact = transport.redact
        self.auth_headers = {"u21-key": api_key}
        transport.add_secret(api_key)

    def call(self, method, path, json_body=None, replay_safe=None, recover=None):
        reply = self.transport.request(method, path, json_body=json_body, headers=self.auth_headers,
                                       replay_safe=replay_safe, recover=recover)
        if reply.is_recovered:
            return reply.recovered
        return reply.json()

    def get_case(self, unit21_id):
        """GET /cases/{unit21_id}: the case as getCaseResponse documents it (no tags, custom_data, dates...)."""
        return self.call("GET", "/cases/%d" % check_unit21_id(unit21_id))

    def read_case(self, unit21_id, list_item=None):
        """The case with what GET does not return but its /cases/list item does (tags, custom_data, assigned_to).

        One GET; when it lacks those fields (the documented getCaseResponse), one list request more, filtered to the
        case's creation second, source and status (usually a single short page).
        When the list item is not found, the fields stay absent and callers treat them as unknown.
        """
        case = self.get_case(unit21_id)
        if all(field in case for field in ("tags", "custom_data")):
            return case
        # A list item the caller just read (e.g. found by case_id) saves the list request.
        item = list_item if list_item is not None and "custom_data" in list_item else self.find_list_item(case)
        case = dict(case)
        if item is not None:
            for field in LIST_ONLY_FIELDS:
                if field in item and field not in case:
                    case[field] = item[field]
        return case

    def find_list_item(self, case):
        """The /cases/list item of ``case`` (as read by GET), or None.  Unit21 lists no filter by id (U6)."""
        created_at = _as_int(case.get("created_at"), None)
        unit21_id = _as_int(case.get("unit21_id"), None)
        if created_at is None or unit21_id is None:
            return None
        filters = {"created_after": created_at, "created_before": created_at + 1}
        sources = case_sources(case)
        if sources:
            filters["sources"] = sources
        if str(case.get("status") or "").upper() in CASE_STATUSES:
            filters["statuses"] = [str(case["status"]).upper()]
        page = 1
        while True:
            reply = self.list_page(filters, page)
            items = reply["cases"]
            for item in items:
                if _as_int(item.get("unit21_id"), None) == unit21_id:
                    return item
            if len(items) < LIST_PAGE_MAX or page * LIST_PAGE_MAX >= _as_int(reply.get("total_count"), 0):
                return None
            page += 1

    def create_case(self, fields, recover=None):
        """POST /cases/create; the result ``{case_id, unit21_id, previously_existed}``.

        A duplicate ``case_id`` raises ConflictError (409).  After an ambiguous
        failure ``recover()`` is asked for the case's unit21_id before any resend;
        then the result is ``{case_id, unit21_id, recovered: True}``.
        """
        reply = self.transport.request("POST", "/cases/create", json_body=fields, headers=self.auth_headers,
                                       replay_safe=False, recover=recover)
        if reply.is_recovered:
            return {"case_id": fields.get("case_id"), "unit21_id": reply.recovered, "recovered": True}
        return reply.json()

    def update_case(self, unit21_id, fields, list_merge_strategy=None, merge_custom_data=None):
        """PUT /cases/{unit21_id}/update.  Sending the same update twice leaves the same case, so it is replayed."""
        body = dict(fields)
        options = {}
        if list_merge_strategy is not None:
            options["list_merge_strategy"] = list_merge_strategy
        if merge_custom_data is not None:
            options["merge_custom_data"] = merge_custom_data
        if options:
            body["options"] = options
        return self.call("PUT", "/cases/%d/update" % check_unit21_id(unit21_id), json_body=body, replay_safe=True)

    def list_page(self, filters, page, page_size=LIST_PAGE_MAX):
        """One page of POST /cases/list (a read, so replayed): ``{cases, response_count, total_count}``."""
        body = dict(filters or {}, offset=page, limit=page_size)
        reply = self.call("POST", "/cases/list", json_body=body, replay_safe=True)
        reply.setdefault("cases", [])
        return reply

    def list_cases(self, filters=None, limit=None, page_size=LIST_PAGE_MAX):
        """Cases matching ``filters``, page by page until ``limit`` (None: all); returns (cases, total_count)."""
        cases, page, total = [], 1, 0
        while limit is None or len(cases) < limit:
            # Offset is a page number, so every page must have the same size: trim the last one afterwards.
            size = page_size if limit is None or page > 1 else min(page_size, limit)
            reply = self.list_page(filters, page, size)
            items = reply["cases"]
            total = _as_int(reply.get("total_count"), len(items))
            cases.extend(items)
            if len(items) < size or page * size >= total:
                break
            page += 1
        return (cases if limit is None else cases[:limit]), total

    def find_case(self, case_id, filters=None):
        """The case whose external ``case_id`` is this one, or None.

        Unit21 has no lookup by case_id, so this pages through /cases/list
        (50 per page, EXTERNAL cases only: only API-made cases carry a case_id)
        from the last page back, since a case we look for is most often recent.
        Cost: one request per 50 EXTERNAL cases in the worst case.
        """
        wanted = dict(filters or {}, sources=["EXTERNAL"])
        first = self.list_page(wanted, 1)
        found = _with_case_id(first["cases"], case_id)
        total = _as_int(first.get("total_count"), len(first["cases"]))
        if found is not None or len(first["cases"]) < LIST_PAGE_MAX:
            return found
        last = (total + LIST_PAGE_MAX - 1) // LIST_PAGE_MAX
        for page in range(last, 1, -1):
            found = _with_case_id(self.list_page(wanted, page)["cases"], case_id)
            if found is not None:
                return found
        return None

    def link_media(self, unit21_id, media, recover=None):
        """PUT /cases/{unit21_id}/link-media with one medium ``{name, data, media_type?, custom_data?}``.

        The base64 JSON form when its body stays under JSON_BODY_LIMIT, else the multipart form (``linkMediaForm``:
        a file part and a same-named part holding the metadata as JSON; FIDELITY.md, Unit21 U3-U5).  Linking twice
        links twice, so it is never replayed blindly.
        """
        path = "/cases/%d/link-media" % check_unit21_id(unit21_id)
        body = json_media_body(media)
        if body is not None:
            reply = self.transport.request("PUT", path, json_body=body, headers=self.auth_headers, replay_safe=False,
                                           recover=recover)
        else:
            metadata = dict(media.get("custom_data") or {})
            if media.get("media_type"):
                metadata["media_type"] = media["media_type"]
            files = [(MULTIPART_FIELD, (media["name"], media["data"], "application/octet-stream")),
                     (MULTIPART_FIELD, (None, json.dumps(metadata), "application/json"))]
            reply = self.transport.request("PUT", path, files=files, headers=self.auth_headers, replay_safe=False,
                                           recover=recover)
        if reply.is_recovered:
            return {"recovered": reply.recovered}
        return reply.json() if reply.content else {}


# The multipart field name: "any alphanumeric string" (linkMediaForm).
MULTIPART_FIELD = "media"


def json_media_body(media):
    """The base64 JSON link-media body for one medium, or None when it would not stay under JSON_BODY_LIMIT."""
    # Base64 grows the data by 4/3: anything above 3/4 of the limit cannot fit, so it is never encoded.
    if len(media["data"]) * 4 // 3 >= JSON_BODY_LIMIT:
        return None
    item = dict(media=base64.b64encode(media["data"]).decode("ascii"), name=media["name"])
    if media.get("media_type"):
        item["media_type"] = media["media_type"]
    if media.get("custom_data") is not None:
        item["custom_data"] = media["custom_data"]
    body = [item]
    # requests serialises json= with json.dumps' default separators; measure the same bytes.
    if len(json.dumps(body).encode("utf-8")) >= JSON_BODY_LIMIT:
        return None
    return body


def check_media_form(media):
    """Refuse, before any request, a medium the multipart form cannot carry as given.

    In the multipart form the metadata part holds media_type beside the custom_data keys (FIDELITY.md, Unit21 U5),
    so custom_data may not use the key media_type there.
    """
    if json_media_body(media) is None and "media_type" in (media.get("custom_data") or {}):
        raise InvalidInputError(
            "%s (%d bytes) does not fit in a JSON body under Unit21's 1 MB limit, so it is sent as multipart form data, "
            "where media_custom_data cannot hold the key media_type (the form's metadata uses it); rename that key."
            % (media["name"], len(media["data"])))


def check_unit21_id(value, option="unit21_id"):
    """Unit21's numeric id (an int, as ``unit21Id`` is; FIDELITY.md, Unit21 U7) from an int or a string of digits.

    It goes into URL paths, so nothing else may pass.
    """
    text = value.strip() if isinstance(value, str) else value
    digits = isinstance(text, str) and text.isdigit() and text.isascii()
    if isinstance(text, bool) or not ((isinstance(text, int) and text >= 0) or digits):
        raise InvalidInputError("%s must be Unit21's numeric case id (an integer such as 100042), got %r."
                                % (option, value))
    return int(text)


def check_given_case(value, unit21_id, option="unit21_case"):
    """A case an earlier task returned, passed so that it is not read again: checked to be whole and the right one.

    Whole means as a read returns it with its /cases/list item (``tags`` and ``custom_data``, FIDELITY.md, Unit21 U1,
    U2) and ``source``: what the modules compare and record against.  A check-mode prediction of a case to be created
    has no unit21_id and is refused.
    """
    if not isinstance(value, dict):
        raise InvalidInputError("%s must be a Unit21 case as caseops.desk.case or caseops.desk.case_info returned it (a "
                                "dictionary), got %r." % (option, value))
    wanted = check_unit21_id(unit21_id)
    if _as_int(value.get("unit21_id"), None) != wanted:
        raise InvalidInputError("%s is the case with unit21_id %r, not %d: pass the case of unit21_id %d, or leave %s "
                                "out and the case is read." % (option, value.get("unit21_id"), wanted, wanted, option))
    missing = [field for field in ("source", "tags", "custom_data") if field not in value]
    if missing or not isinstance(value["custom_data"], dict) or not isinstance(value["tags"], list):
        raise InvalidInputError("%s lacks %s: pass the case as caseops.desk.case or caseops.desk.case_info returned it "
                                "with its tags and custom_data, or leave %s out and the case is read."
                                % (option, ", ".join(missing) or "a list of tags and a custom_data dictionary", option))
    return value


def check_custom_data(value, option):
    """A custom_data object Unit21 takes: a dict at most CUSTOM_DATA_MAX_DEPTH objects deep."""
    if not isinstance(value, dict):
        raise InvalidInputError("%s must be a dictionary, got %r." % (option, value))
    depth = custom_data_depth(value)
    if depth > CUSTOM_DATA_MAX_DEPTH:
        raise InvalidInputError("%s is nested %d objects deep; Unit21 allows custom_data at most %d levels deep."
                                % (option, depth, CUSTOM_DATA_MAX_DEPTH))
    return value


def check_media_name(name):
    """The media name must carry one of the extensions link-media documents."""
    refuse_unlisted_extension(name, MEDIA_EXTENSIONS, "media", "Unit21 links")


def check_media_size(size, name):
    if size > MEDIA_MAX_BYTES:
        raise InvalidInputError("%s is %d bytes; Unit21 accepts media of at most 5 MB (%d bytes) per file."
                                % (name, size, MEDIA_MAX_BYTES))


def custom_data_depth(value):
    """How many objects deep ``value`` nests; a list adds no level (Unit21's own custom_data example holds one)."""
    if isinstance(value, dict):
        return 1 + max([custom_data_depth(v) for v in value.values()] or [0])
    if isinstance(value, (list, tuple)):
        return max([custom_data_depth(v) for v in value] or [0])
    return 0


def case_sources(case):
    """A case's ``source`` as a list (older answers give one string): EXTERNAL cases are the API-made, updatable ones."""
    source = case.get("source")
    source = [source] if isinstance(source, str) else (source or [])
    return [s for s in source if isinstance(s, str)]


def _with_case_id(cases, case_id):
    for case in cases:
        if case.get("case_id") == case_id:
            return case
    return None


def _as_int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def client_from_params(params):
    """A Unit21Client from module parameters, with every missing piece named before any request."""
    api_key = param(params, "unit21_api_key")
    base_url = param(params, "unit21_base_url")
    if not api_key:
        raise ConfigurationError("unit21_api_key is required (or set UNIT21_API_KEY).")
    if not base_url:
        raise ConfigurationError("unit21_base_url is required (or set UNIT21_BASE_URL): the host of the environment your key "
                                 "belongs to, one of %s." % ", ".join(DOCUMENTED_HOSTS))
    transport = Transport(normalize_base_url(base_url), "Unit21", hooks=API_HOOKS, **transport_options(params))
    return Unit21Client(transport, api_key)
