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

REDACTED = "********"


class Redactor:
    """Replaces known secret values in any string, list or dict.

    Secrets shorter than four characters are ignored: masking them would
    garble ordinary text and they protect nothing.
    """

    def __init__(self, secrets=()):
        self._secrets = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret):
        if secret and isinstance(secret, str) and len(secret) >= 4:
            self._secrets.add(secret)

    def __call__(self, value):
        if isinstance(value, str):
            # Longest first, so a secret that contains another is masked whole.
            for secret in sorted(self._secrets, key=len, reverse=True):
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return dict((self(k), self(v)) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return [self(item) for item in value]
        return value


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
