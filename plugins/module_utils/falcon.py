# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CrowdStrike Falcon client: OAuth2 client credentials and the Message Center API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re
import time

from ansible_collections.caseops.desk.plugins.module_utils.args import param, transport_options
from ansible_collections.caseops.desk.plugins.module_utils.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    describe_errors,
)
from ansible_collections.caseops.desk.plugins.module_utils.transport import ApiHooks, Transport, json_object, seconds_from_hint

CLOUD_BASE_URLS = {
    "us-1": "https://api.crowdstrike.com",
    "us-2": "https://api.us-2.crowdstrike.com",
    "eu-1": "https://api.eu-1.crowdstrike.com",
    "us-gov-1": "https://api.laggar.gcw.crowdstrike.com",
    "us-gov-2": "https://api.us-gov-2.crowdstrike.mil",
    "us-3": "https://api.us-3.crowdstrike.com",
}
DEFAULT_CLOUD = "us-1"
# Gov clouds cannot be discovered from a us-1 token request.
AUTODISCOVERABLE_CLOUDS = ("us-1", "us-2", "eu-1", "us-3")

CASE_SORT_VALUES = [
    "%s.%s" % (field, direction)
    for field in ("case.created_time", "case.last_modified_time", "case.status", "case.type", "case.id")
    for direction in ("asc", "desc")
]
ACTIVITY_SORT_VALUES = [
    "%s.%s" % (field, direction)
    for field in ("activity.created_time", "activity.type")
    for direction in ("asc", "desc")
]
QUERY_PAGE_MAX = 500          # QueryCasesIdsByFilter accepts limit 1-500
ENTITY_BATCH_SIZE = 500       # ids per GetCaseEntitiesByIDs call; the API documents no maximum
TOKEN_RENEW_WINDOW = 120      # seconds before expiry a token is renewed, as falconpy does

TOKEN_PATH = "/oauth2/token"
REVOKE_PATH = "/oauth2/revoke"
QUERY_CASES_PATH = "/message-center/queries/cases/v1"
GET_CASES_PATH = "/message-center/entities/cases/GET/v1"
CREATE_CASE_PATH = "/message-center/entities/case/v2"
QUERY_ACTIVITIES_PATH = "/message-center/queries/case-activities/v1"
GET_ACTIVITIES_PATH = "/message-center/entities/case-activities/GET/v1"
ADD_ACTIVITY_PATH = "/message-center/entities/case-activity/v1"
# Attachments and aggregates (case_attachment, case_aggregate_info).
CASE_ATTACHMENT_PATH = "/message-center/entities/case-attachment/v1"
AGGREGATE_CASES_PATH = "/message-center/aggregates/cases/GET/v1"


def error_hint(status, errors, path):
    """What a user can do about a Falcon error, or None."""
    if path == TOKEN_PATH and status in (400, 401, 403):
        return ("Falcon refused the client credentials: check falcon_client_id and falcon_client_secret, that the API "
                "client belongs to this cloud (falcon_cloud or falcon_base_url), and falcon_member_cid if you set one.")
    if status == 401:
        return "The Falcon token was refused: check falcon_client_id and falcon_client_secret, or renew the falcon_auth token."
    if status == 403:
        return ("The API client is not allowed to do this: it needs the Message Center Read scope to read cases and "
                "Message Center Write to create cases, comments or attachments.")
    return None


def retry_hint(response, now):
    """A 429's ``X-RateLimit-RetryAfter``: the epoch second the window reopens (seconds or milliseconds)."""
    if response.status_code != 429:
        return None
    return seconds_from_hint(response.headers.get("X-RateLimit-RetryAfter"), now)


def parse_error(response):
    """(message, errors) from the envelope ``{"meta": {...}, "errors": [{"code", "message"}], "resources"}``."""
    body = json_object(response) or {}
    errors = [e for e in (body.get("errors") or []) if isinstance(e, dict)]
    return describe_errors(errors) or None, errors


def trace_id(response):
    """The ``X-Cs-Traceid`` header, else the envelope's ``meta.trace_id``."""
    header = response.headers.get("X-Cs-Traceid")
    if header:
        return header
    meta = (json_object(response) or {}).get("meta")
    if isinstance(meta, dict) and meta.get("trace_id"):
        return meta["trace_id"]
    return None


API_HOOKS = ApiHooks(retry_hint=retry_hint, parse_error=parse_error, trace_id=trace_id, error_hint=error_hint)


USER_UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def check_user_uuid(value, option="user_uuid"):
    """Refuse anything but a user UUID (an e-mail address is the usual mistake)."""
    if not USER_UUID_PATTERN.match(value or ""):
        raise InvalidInputError("%s must be a Falcon user UUID like 01234567-89ab-cdef-0123-456789abcdef, got %r."
                                % (option, value))


def fql_quote(value):
    """A string as an FQL literal: in single quotes, with quotes and backslashes escaped."""
    return "'%s'" % value.replace("\\", "\\\\").replace("'", "\\'")


def base_url_for(cloud=None, base_url=None):
    if base_url:
        return base_url.rstrip("/")
    return CLOUD_BASE_URLS[cloud or DEFAULT_CLOUD]


REVOKE_NEEDS_CREDENTIALS = ("Revoking a Falcon token needs the client credentials it was issued to: set falcon_client_id "
                            "and falcon_client_secret (or FALCON_CLIENT_ID and FALCON_CLIENT_SECRET).")


class FalconToken:
    """A bearer token and when it stops being usable."""

    def __init__(self, access_token, expires_at=None):
        self.access_token = access_token
        self.expires_at = expires_at

    def fresh(self, now):
        return self.expires_at is None or now < self.expires_at - TOKEN_RENEW_WINDOW


class FalconClient:
    """Message Center operations over one :class:`Transport`, with the token kept fresh.

    Authentication: a token handed in (``token``, e.g. from the falcon_auth
    module) is used while it is fresh.  With client credentials, a token is
    requested on first use, renewed before it expires, and renewed once more
    when the API answers 401; without them, a stale or refused token is an
    error that says so.
    """

    # Tokens shared by the tasks of one playbook run: set only inside Ansible's worker process by the
    # in-process action plugins (plugins/plugin_utils/token_cache.py); None in a module process.
    token_cache = None

    def __init__(self, transport, client_id=None, client_secret=None, member_cid=None, token=None,
                 autodiscover=False, clock=time.time):
        self.transport = transport
        self.redact = transport.redact
        self.client_id = client_id
        self.client_secret = client_secret
        self.member_cid = member_cid
        self.token = token
        self.autodiscover = autodiscover
        self.clock = clock
        # What the last token response said.
        self.region = None
        self.expires_in = None
        transport.add_secret(client_secret)
        # Revoking sends them as HTTP Basic credentials.
        self.redact.add_basic_auth(client_id, client_secret)
        if token is not None:
            transport.add_secret(token.access_token)

    @property
    def base_url(self):
        """The API root in use: the one configured, or the one autodiscovery moved to."""
        return self.transport.base_url

    # -- authentication --------------------------------------------------
    @property
    def can_authenticate(self):
        return bool(self.client_id and self.client_secret)

    def authenticate(self):
        """Request a new token with the client credentials and keep it."""
        if not self.can_authenticate:
            raise ConfigurationError(
                "Falcon credentials are missing: set falcon_client_id and falcon_client_secret "
                "(or FALCON_CLIENT_ID and FALCON_CLIENT_SECRET), or pass falcon_auth from caseops.desk.falcon_auth.")
        form = {"client_id": self.client_id, "client_secret": self.client_secret}
        if self.member_cid:
            form["member_cid"] = self.member_cid
        # Asking twice for a token is harmless, so the POST may be replayed.
        reply = self.transport.request("POST", TOKEN_PATH, data=form, expected=(200, 201), replay_safe=True)
        self._accept_token(reply)
        region = reply.headers.get("X-Cs-Region")
        self.region = region
        if self.autodiscover and region in AUTODISCOVERABLE_CLOUDS:
            discovered = CLOUD_BASE_URLS[region]
            if discovered != self.transport.base_url:
                # The token belongs to the cloud that issued it: move there and ask again.
                self.transport.base_url = discovered
                self.autodiscover = False
                reply = self.transport.request("POST", TOKEN_PATH, data=form, expected=(200, 201), replay_safe=True)
                self._accept_token(reply)
        if self.token_cache is not None:
            self.token_cache.keep(self)
        return self.token

    def _accept_token(self, reply):
        body = reply.json()
        access_token = body.get("access_token") if isinstance(body, dict) else None
        if not access_token:
            raise AuthenticationError("Falcon %s answered HTTP %s without an access_token." % (TOKEN_PATH, reply.status),
                                      status=reply.status, vendor="Falcon")
        self.transport.add_secret(access_token)
        expires_in = body.get("expires_in")
        expires_at = self.clock() + float(expires_in) if expires_in else None
        self.token = FalconToken(access_token, expires_at)
        self.expires_in = expires_in

    def ensure_token(self):
        if self.token is not None and self.token.fresh(self.clock()):
            return self.token
        if self.can_authenticate:
            if self.token_cache is not None and self.token_cache.lend(self):
                return self.token
            return self.authenticate()
        if self.token is not None:
            raise AuthenticationError(
                "The Falcon token passed in falcon_auth has expired and no client credentials are set to renew it: "
                "run caseops.desk.falcon_auth again, or set falcon_client_id and falcon_client_secret.", vendor="Falcon")
        return self.authenticate()  # raises the missing-credentials error

    def token_is_active(self, access_token):
        """Whether the API still accepts ``access_token``: one cheap read with it alone, never renewed."""
        try:
            self.transport.request("GET", QUERY_CASES_PATH, params={"limit": 1},
                                   headers={"Authorization": "Bearer %s" % access_token})
        except AuthenticationError:
            return False
        return True

    def revoke(self, access_token):
        """Revoke a token (RFC 7009: revoking a dead token succeeds too).  Needs the client credentials."""
        if not self.can_authenticate:
            raise ConfigurationError(REVOKE_NEEDS_CREDENTIALS)
        self.transport.add_secret(access_token)
        basic = base64.b64encode(("%s:%s" % (self.client_id, self.client_secret)).encode("utf-8")).decode("ascii")
        self.transport.add_secret(basic)
        self.transport.request("POST", REVOKE_PATH, data={"token": access_token, "client_id": self.client_id},
                               headers={"Authorization": "Basic %s" % basic}, replay_safe=True)

    def request(self, method, path, **kwargs):
        """An authenticated Message Center request; one re-authentication on 401."""
        self.ensure_token()
        try:
            return self.transport.request(method, path, headers=self._auth_header(), **kwargs)
        except AuthenticationError:
            if not self.can_authenticate:
                raise
            self.authenticate()
            return self.transport.request(method, path, headers=self._auth_header(), **kwargs)

    def _auth_header(self):
        return {"Authorization": "Bearer %s" % self.token.access_token}

    # -- cases -----------------------------------------------------------
    def query_case_ids(self, fql_filter=None, sort=None, limit=100, offset=0):
        """One page of case ids: (ids, total)."""
        return self._query_page(QUERY_CASES_PATH, {}, fql_filter, sort, limit, offset)

    def find_case_ids(self, fql_filter=None, sort=None, limit=QUERY_PAGE_MAX):
        """Every matching case id up to ``limit`` (None: all of them), paging as needed: (ids, total)."""
        return self._find_ids(self.query_case_ids, fql_filter, sort, limit)

    def _query_page(self, path, params, fql_filter, sort, limit, offset):
        params = dict(params, limit=limit, offset=offset)
        if fql_filter:
            params["filter"] = fql_filter
        if sort:
            params["sort"] = sort
        body = self.request("GET", path, params=params).json()
        ids = body.get("resources") or []
        pagination = (body.get("meta") or {}).get("pagination") or {}
        return ids, pagination.get("total", len(ids))

    @staticmethod
    def _find_ids(query_page, fql_filter, sort, limit):
        """Pages of ``query_page(filter, sort, limit, offset)`` until ``limit`` ids or the last page.

        The next offset is computed from what was received, not taken from
        ``meta.pagination.offset``, whose meaning the API does not document.
        """
        ids, total = [], 0
        while limit is None or len(ids) < limit:
            page_size = QUERY_PAGE_MAX if limit is None else min(QUERY_PAGE_MAX, limit - len(ids))
            page, total = query_page(fql_filter, sort, page_size, len(ids))
            ids.extend(page)
            if len(page) < page_size or len(ids) >= total:
                break
        return (ids if limit is None else ids[:limit]), total

    def create_case(self, fields, recover=None):
        """CreateCaseV2: the new case's id, or the id ``recover()`` found after an ambiguous failure."""
        reply = self.request("POST", CREATE_CASE_PATH, json_body=fields, recover=recover)
        if reply.is_recovered:
            return reply.recovered
        resources = reply.json().get("resources") or []
        case_id = resources[0].get("id") if resources and isinstance(resources[0], dict) else None
        if not case_id:
            raise ApiError("Falcon %s answered HTTP %s without the new case's id." % (CREATE_CASE_PATH, reply.status),
                           status=reply.status, vendor="Falcon", method="POST")
        return case_id

    # -- activities --------------------------------------------------------
    def query_activity_ids(self, case_id, fql_filter=None, sort=None, limit=100, offset=0):
        """One page of a case's activity ids: (ids, total)."""
        return self._query_page(QUERY_ACTIVITIES_PATH, {"case_id": case_id}, fql_filter, sort, limit, offset)

    def find_activity_ids(self, case_id, fql_filter=None, sort=None, limit=QUERY_PAGE_MAX):
        """Every matching activity id of a case up to ``limit``: (ids, total)."""
        def query_page(flt, order, page_size, offset):
            return self.query_activity_ids(case_id, flt, order, page_size, offset)
        return self._find_ids(query_page, fql_filter, sort, limit)

    def get_activities(self, ids):
        """Full activities for ``ids``: (activities, missing_ids)."""
        return self._get_entities(GET_ACTIVITIES_PATH, ids)

    def add_comment(self, case_id, body, user_uuid, recover=None):
        """CaseAddActivity with a comment.  The API returns no id; returns ``recover()``'s find when it ran."""
        payload = {"case_id": case_id, "body": body, "type": "comment", "user_uuid": user_uuid}
        reply = self.request("POST", ADD_ACTIVITY_PATH, json_body=payload, recover=recover)
        return reply.recovered if reply.is_recovered else None

    def get_cases(self, ids):
        """Full case entities for ``ids`` in as few calls as allowed: (cases, missing_ids)."""
        return self._get_entities(GET_CASES_PATH, ids)

    def get_case(self, case_id):
        """One case; NotFoundError when this API client cannot see it."""
        cases, _missing = self.get_cases([case_id])
        case = next((c for c in cases if c.get("id") == case_id), None)
        if case is None:
            raise NotFoundError("Falcon case %s does not exist (or this API client cannot see it)." % case_id,
                                status=404, vendor="Falcon")
        return case

    def _get_entities(self, path, ids):
        found = []
        for start in range(0, len(ids), ENTITY_BATCH_SIZE):
            batch = list(ids[start:start + ENTITY_BATCH_SIZE])
            # A POST that only reads: safe to send again.
            body = self.request("POST", path, json_body={"ids": batch}, replay_safe=True).json()
            found.extend(body.get("resources") or [])
        present = set(entity.get("id") for entity in found)
        missing = [entity_id for entity_id in ids if entity_id not in present]
        return found, missing

    # -- attachments -----------------------------------------------------
    def add_attachment(self, case_id, user_uuid, name, data, recover=None):
        """Upload ``data`` (bytes) as ``name`` to a case: the new attachment record.

        The upload is not replay-safe (a second POST adds a second copy), so
        after an ambiguous failure ``recover()`` is asked for the attachment
        first; when it finds one, that record is returned instead.
        """
        reply = self.request("POST", CASE_ATTACHMENT_PATH, data={"case_id": case_id, "user_uuid": user_uuid},
                             files={"file": (name, data)}, replay_safe=False, recover=recover)
        if reply.is_recovered:
            return reply.recovered
        resources = reply.json().get("resources") or []
        if resources and isinstance(resources[0], dict):
            return resources[0]
        # An upload answer without the record: look it up rather than guess.
        found = recover() if recover is not None else None
        return found if found is not None else {"name": name, "size": len(data)}

    def download_attachment(self, attachment_id):
        """The bytes of one attachment and the Content-Type they came with: (content, mime_type)."""
        reply = self.request("GET", CASE_ATTACHMENT_PATH, params={"id": attachment_id})
        content_type = reply.headers.get("Content-Type") or ""
        return reply.content, content_type.split(";", 1)[0].strip() or None

    # -- aggregates ------------------------------------------------------
    def aggregate_cases(self, aggregations):
        """AggregateCases for a list of aggregation requests (wire form): the AggregationResult list."""
        # A POST that only reads: safe to send again.
        body = self.request("POST", AGGREGATE_CASES_PATH, json_body=list(aggregations), replay_safe=True).json()
        return body.get("resources") or []


def client_from_params(params):
    """A FalconClient from module parameters (connection options of args.py)."""
    cloud = param(params, "falcon_cloud")
    base_url = param(params, "falcon_base_url")
    auth = params.get("falcon_auth") or {}
    token = None
    access_token = param(auth, "access_token", within="falcon_auth")
    if access_token:
        token = FalconToken(access_token, auth.get("expires_at"))
        # A token is only valid on the cloud that issued it (crowdstrike.falcon.auth names the cloud instead).
        if not base_url:
            base_url = param(auth, "base_url", within="falcon_auth") or CLOUD_BASE_URLS.get(param(auth, "cloud", within="falcon_auth"))
    transport = Transport(base_url_for(cloud, base_url), "Falcon", hooks=API_HOOKS, **transport_options(params))
    return FalconClient(transport, client_id=param(params, "falcon_client_id"),
                        client_secret=param(params, "falcon_client_secret"),
                        member_cid=param(params, "falcon_member_cid"), token=token,
                        autodiscover=not (cloud or base_url))
