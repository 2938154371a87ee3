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

import re

from ansible_collections.caseops.desk.plugins.module_utils.args import param, transport_options
from ansible_collections.caseops.desk.plugins.module_utils.errors import ApiError, ConfigurationError, InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.transport import Transport, describe_errors

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
API_PREFIX = "/client/v4"
ACCOUNT_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def normalize_base_url(base_url):
    """The API root ending in /client/v4, whether or not the user wrote that part."""
    url = (base_url or DEFAULT_BASE_URL).rstrip("/")
    return url if url.endswith(API_PREFIX) else url + API_PREFIX


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


class CloudforceOneClient:
    """Cloudforce One calls for one account over one :class:`Transport`."""

    def __init__(self, transport, account_id, api_token=None, email=None, api_key=None):
        self.transport = transport
        self.account_id = account_id
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
        path = self.path(*parts)
        reply = self.transport.request(method, path, json_body=json_body, headers=self.auth_headers,
                                       replay_safe=replay_safe, recover=recover)
        if reply.is_recovered:
            return reply.recovered
        body = reply.json()
        if isinstance(body, dict) and body.get("success") is False:
            errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
            described = describe_errors(errors) or "no error details"
            raise ApiError(self.transport.redact("Cloudforce One %s %s was not successful: %s." % (method, path, described)),
                           status=reply.status, vendor="Cloudforce One", method=method, errors=errors)
        return body.get("result") if isinstance(body, dict) else None

    def quota(self):
        return self.call("GET", ["requests", "quota"])

    def request_types(self):
        return self.call("GET", ["requests", "types"]) or []

    def constants(self):
        return self.call("GET", ["requests", "constants"]) or {}


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
    transport = Transport(normalize_base_url(param(params, "cloudflare_base_url")), "Cloudforce One", error_hint=error_hint,
                          **transport_options(params))
    return CloudforceOneClient(transport, account_id.lower(), api_token=api_token, email=email, api_key=api_key)
