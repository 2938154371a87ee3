# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit21 client: the ``u21-key`` header, the per-environment base URL, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.caseops.desk.plugins.module_utils.args import param, transport_options
from ansible_collections.caseops.desk.plugins.module_utils.errors import ConfigurationError, InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.transport import Transport

API_PREFIX = "/v1"
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
        return ("The API key lacks the permission for this call (for cases: read and write access to cases). A key's "
                "permissions are fixed when it is created; create a key that has them.")
    if status == 423:
        return "Unit21 is still processing this object; the request was retried until the retry budget ran out."
    return None


class Unit21Client:
    """Unit21 calls over one :class:`Transport`."""

    def __init__(self, transport, api_key):
        self.transport = transport
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
    transport = Transport(normalize_base_url(base_url), "Unit21", error_hint=error_hint, **transport_options(params))
    return Unit21Client(transport, api_key)
