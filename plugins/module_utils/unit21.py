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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.caseops.desk.plugins.module_utils.args import param, transport_options
from ansible_collections.caseops.desk.plugins.module_utils.errors import ConfigurationError, InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.transport import ApiHooks, Transport, seconds_from_hint

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
    try:
        body = response.json()
    except ValueError:
        return None, []
    if not (isinstance(body, dict) and body.get("message")):
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
        return self.call("GET", "/cases/%s" % _unit21_id(unit21_id))

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
        return self.call("PUT", "/cases/%s/update" % _unit21_id(unit21_id), json_body=body, replay_safe=True)

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
        """PUT /cases/{unit21_id}/link-media with the base64 JSON form: ``media`` is a list of
        ``{media, name, media_type?, custom_data?}``.  Linking twice links twice, so it is never replayed blindly."""
        reply = self.transport.request("PUT", "/cases/%s/link-media" % _unit21_id(unit21_id), json_body=media,
                                       headers=self.auth_headers, replay_safe=False, recover=recover)
        if reply.is_recovered:
            return {"recovered": reply.recovered}
        return reply.json() if reply.content else {}


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


def _unit21_id(value):
    """Unit21's numeric case id; it goes into the URL, so nothing else may."""
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidInputError("unit21_id must be Unit21's numeric case id, got %r." % (value,))
    return text


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
