# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception tree for the collection, mapped to ``fail_json`` keyword arguments.

Every error the module_utils raise derives from :class:`CaseopsError`.  Modules
catch that one class and call ``module.fail_json(**err.to_fail_kwargs())``, so a
user always sees a sentence saying what went wrong, plus structured details
(HTTP status, vendor error codes, trace id) and never a traceback or a secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re

from urllib.parse import quote, quote_plus

REDACTED = "********"
# Shorter values are not masked: masking them would garble ordinary text and they protect nothing.
MIN_SECRET_LENGTH = 4


def _escaped_forms(text):
    """``text`` as Python's repr, JSON and ``unicode_escape`` show it inside quotes, each quote style escaped or not."""
    forms = set([repr(text)[1:-1], json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]])
    escaped = text.encode("unicode_escape").decode("ascii")
    forms.add(escaped)
    forms.add(escaped.replace("'", "\\'"))
    forms.add(escaped.replace('"', '\\"'))
    forms.add(escaped.replace("'", "\\'").replace('"', '\\"'))
    return forms


def _url_forms(text):
    """``text`` percent-encoded as query strings, form bodies and paths carry it (upper- and lower-case hex)."""
    forms = set()
    for encoded in (quote(text, safe=""), quote(text), quote_plus(text)):
        forms.add(encoded)
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda match: match.group(0).lower(), encoded))
    return forms


def _b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _whitespace_variants(secret):
    """The value as given and with its surrounding whitespace stripped on either side or both."""
    return set([secret, secret.strip(), secret.lstrip(), secret.rstrip()])


def secret_forms(secret):
    """Every way ``secret`` can show up in a message.

    Raw; as Python's repr or JSON escape it (a header value that requests
    refuses is quoted in its error as ``'key\\n'``); percent-encoded (query
    strings, form bodies); base64; each for the value as given and for its
    whitespace-stripped variants.
    """
    forms = set()
    for variant in _whitespace_variants(secret):
        if len(variant) < MIN_SECRET_LENGTH:
            continue
        forms.add(variant)
        forms.update(_escaped_forms(variant))
        forms.update(_url_forms(variant))
        forms.add(_b64(variant))
    return set(form for form in forms if len(form) >= MIN_SECRET_LENGTH)


class Redactor:
    """Replaces every form of known secret values (see :func:`secret_forms`) in any string, list or dict.

    Redact a whole text before cutting it short: a cut can split a secret so
    that no form of it matches any more.
    """

    def __init__(self, secrets=()):
        self._secrets = set()
        self._forms = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret):
        if secret and isinstance(secret, str) and len(secret.strip()) >= MIN_SECRET_LENGTH and secret not in self._secrets:
            self._secrets.add(secret)
            self._forms.update(secret_forms(secret))

    def add_basic_auth(self, user, secret):
        """HTTP Basic credentials: base64 of ``user:secret``, for every whitespace variant of both."""
        if not (user and secret and isinstance(user, str) and isinstance(secret, str)):
            return
        self.add(secret)
        for user_variant in _whitespace_variants(user):
            for secret_variant in _whitespace_variants(secret):
                if len(secret_variant) >= MIN_SECRET_LENGTH:
                    pair = "%s:%s" % (user_variant, secret_variant)
                    self._forms.add(_b64(pair))
                    self._forms.update(_url_forms(_b64(pair)))

    def __call__(self, value):
        if isinstance(value, str):
            # Longest first, so a form that contains another is masked whole.
            for form in sorted(self._forms, key=len, reverse=True):
                value = value.replace(form, REDACTED)
            return value
        if isinstance(value, dict):
            return dict((self(k), self(v)) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return [self(item) for item in value]
        return value

    def cut(self, text, limit):
        """``text`` redacted, then cut to ``limit`` characters (never the other way round).

        Only the part that can reach the kept characters is redacted: every
        form that starts before ``limit`` ends within the longest form's length.
        """
        longest = max([len(form) for form in self._forms] or [0])
        return self(text[:limit + longest])[:limit]


class CaseopsError(Exception):
    """Base class.  ``details`` end up as extra keys of the failed result."""

    def __init__(self, msg, **details):
        super(CaseopsError, self).__init__(msg)
        self.msg = msg
        self.details = dict((k, v) for k, v in details.items() if v is not None)

    def to_fail_kwargs(self, redactor=None):
        redact = redactor or Redactor()
        kwargs = dict(self.details)
        kwargs["msg"] = self.msg
        return redact(kwargs)

    def __str__(self):
        return self.msg


class ConfigurationError(CaseopsError):
    """Options are missing or contradict each other; nothing was sent."""


class InvalidInputError(CaseopsError):
    """A value the user gave breaks a rule the API enforces; nothing was sent."""


class TransportError(CaseopsError):
    """No usable HTTP response: DNS, refused connection, TLS, timeout, dropped connection."""


class AmbiguousWriteError(TransportError):
    """A request that creates something failed in a way that hides whether it was applied.

    It is not replayed blindly; the caller must look the object up first.
    """


class ApiError(CaseopsError):
    """The service answered with an error status."""

    def __init__(self, msg, status=None, vendor=None, method=None, url=None, errors=None,
                 trace_id=None, body=None, replayed=False, **details):
        super(ApiError, self).__init__(
            msg, status=status, vendor=vendor, method=method, url=url,
            vendor_errors=errors or None, trace_id=trace_id, body=body, **details)
        self.status = status
        self.vendor = vendor
        self.method = method
        self.url = url
        self.errors = errors or []
        self.trace_id = trace_id
        # True when the request had been sent before and this answer came to a
        # replay: a 404 on a replayed DELETE then means the first one worked.
        self.replayed = replayed


class AuthenticationError(ApiError):
    """401, or a token endpoint that refused the credentials."""


class AccessDeniedError(ApiError):
    """403: authenticated, but not allowed."""


class NotFoundError(ApiError):
    """404."""


class ConflictError(ApiError):
    """409."""


class RateLimitError(ApiError):
    """429 that outlasted the retry budget."""


class ServerError(ApiError):
    """5xx that outlasted the retry budget, or one that cannot be retried."""


_STATUS_CLASSES = {401: AuthenticationError, 403: AccessDeniedError, 404: NotFoundError,
                   409: ConflictError, 429: RateLimitError}


def api_error_class(status):
    """The ApiError subclass for an HTTP status."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status is not None and status >= 500:
        return ServerError
    return ApiError


def describe_errors(errors, nested_key=None):
    """'[code] message; ...' for a list of error entries; ``nested_key`` names a list of causes inside an entry."""
    return "; ".join(_describe(error, nested_key) for error in errors)


def _describe(error, nested_key):
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message") or ""
        text = "[%s] %s" % (code, message) if code not in (None, "") else message
        causes = error.get(nested_key) if nested_key else None
        if causes:
            text += " (" + describe_errors(causes, nested_key) + ")"
        return text
    return str(error)
