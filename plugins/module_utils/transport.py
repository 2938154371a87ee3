# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP transport every vendor client uses.

A thin layer over ``requests.Session`` that adds what all three APIs need:
timeouts, TLS settings, a versioned User-Agent, bounded retries that honour the
vendors' rate-limit hints, a safe policy for requests that create objects, and
errors that never carry a secret.

Retry policy, in short:

* retried: HTTP 423, 429, 502, 503, 504, refused connections, timeouts and
  connections dropped mid-request;
* the wait is the server's hint when it gives one (the standard ``Retry-After``,
  else the vendor's own header, read by the client's :class:`ApiHooks`),
  otherwise exponential backoff with jitter; both bounded by ``max_attempts``
  and ``max_total_seconds``;
* a request that is not replay-safe (a POST that creates something) is never
  replayed after a failure that hides whether it was applied (a timeout, a
  dropped connection, a 502/504 from a gateway).  The caller passes a
  ``recover`` hook that looks the object up; when it finds it, the transport
  returns it instead of sending again.  Without a hook it raises
  :class:`AmbiguousWriteError`.  423, 429 and 503 mean the server did not act,
  so those are retried for every request.

The transport names no vendor: what differs between the APIs (rate-limit
headers, trace ids, error bodies, advice on an error) comes from the client as
an :class:`ApiHooks`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import json
import random
import socket
import ssl
import time
from urllib.parse import urlsplit

try:
    import requests
    from urllib3.exceptions import NewConnectionError
    try:
        from urllib3.exceptions import NameResolutionError
    except ImportError:  # urllib3 < 2 reports DNS failures as NewConnectionError
        NameResolutionError = None
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by the missing_required_lib path
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible_collections.caseops.desk.plugins.module_utils.errors import (
    AmbiguousWriteError,
    Redactor,
    TransportError,
    api_error_class,
)

COLLECTION_VERSION = "1.0.0"

RETRY_STATUSES = frozenset([423, 429, 502, 503, 504])
# Of those, these say the server did not act on the request, so even a create
# can be sent again.  502 and 504 come from a gateway whose backend may have
# committed the write.
NOT_APPLIED_STATUSES = frozenset([423, 429, 503])
REPLAY_SAFE_METHODS = frozenset(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])

# Headers are epoch timestamps when they are this large, deltas otherwise.
_EPOCH_SECONDS_FLOOR = 1e9
_EPOCH_MILLISECONDS_FLOOR = 1e12


def user_agent():
    return "caseops.desk/%s (ansible-core/%s; python-requests/%s)" % (
        COLLECTION_VERSION, ANSIBLE_VERSION, requests.__version__ if HAS_REQUESTS else "missing")


class RetryPolicy:
    """How often and how long to retry.  ``sleep``/``clock``/``jitter`` are injectable for tests."""

    def __init__(self, max_attempts=5, max_total_seconds=120.0, backoff_base=0.5, backoff_max=30.0,
                 sleep=time.sleep, clock=time.monotonic, wall_clock=time.time, jitter=random.random):
        self.max_attempts = max(1, int(max_attempts))
        self.max_total_seconds = float(max_total_seconds)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.sleep = sleep
        self.clock = clock
        self.wall_clock = wall_clock
        self.jitter = jitter

    def backoff(self, attempt):
        """Exponential backoff with 'equal jitter': half fixed, half random."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return ceiling / 2.0 + self.jitter() * ceiling / 2.0


def json_object(response):
    """A response body that is a JSON object, else None (for the clients' error and trace hooks)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def seconds_from_hint(raw, now):
    """Seconds to wait from a rate-limit header value, or None when it says nothing usable.

    A value is a delta in seconds, an epoch in seconds or milliseconds (told
    apart by size), or an HTTP date; ``now`` is the wall clock (epoch seconds).
    """
    if raw is None or str(raw).strip() == "":
        return None
    raw = str(raw).strip()
    try:
        value = float(raw)
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - now)
    if value >= _EPOCH_MILLISECONDS_FLOOR:
        return max(0.0, value / 1000.0 - now)
    if value >= _EPOCH_SECONDS_FLOOR:
        return max(0.0, value - now)
    return max(0.0, value)


class ApiHooks:
    """What one vendor's API does its own way, handed to the :class:`Transport` by that vendor's client.

    Every hook is optional:

    * ``retry_hint(response, now)``: seconds the server asked to wait in a
      vendor header, or None; asked only when there is no ``Retry-After``;
    * ``parse_error(response)``: ``(message, errors)`` from an error answer,
      the vendor's own words and its error entries (a list of dicts);
    * ``trace_id(response)``: the id support asks for, or None;
    * ``error_hint(status, errors, path)``: a sentence on what the user can do,
      or None.
    """

    def __init__(self, retry_hint=None, parse_error=None, trace_id=None, error_hint=None):
        self.retry_hint = retry_hint
        self.parse_error = parse_error
        self.trace_id = trace_id
        self.error_hint = error_hint


NO_HOOKS = ApiHooks()


class Reply:
    """A successful answer, or the object a ``recover`` hook found instead of sending again."""

    def __init__(self, status=None, headers=None, content=b"", recovered=None, attempts=1, redact=None):
        self.status = status
        self.headers = headers if headers is not None else {}
        self.content = content
        self.recovered = recovered
        self.attempts = attempts
        self.redact = redact or Redactor()

    @property
    def is_recovered(self):
        return self.recovered is not None

    def json(self):
        if not self.content:
            return {}
        try:
            return json.loads(self.content.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise TransportError("The server answered HTTP %s with a body that is not JSON." % self.status,
                                 status=self.status, body=self.redact.cut(self.content.decode("utf-8", "replace"), 500))


class Transport:
    """HTTP for one vendor API at one base URL."""

    def __init__(self, base_url, vendor, timeout=30.0, connect_timeout=10.0, validate_certs=True, ca_path=None,
                 retry=None, hooks=None, error_hint=None, secrets=()):
        """``vendor`` is the name messages use; ``hooks`` an :class:`ApiHooks` (``error_hint`` overrides its own)."""
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor
        self.timeout = (min(connect_timeout, timeout), timeout)
        self.retry = retry or RetryPolicy()
        self.hooks = hooks or NO_HOOKS
        self.error_hint = error_hint or self.hooks.error_hint
        self.redact = Redactor(secrets)
        self.session = requests.Session()
        # Proxies come from HTTPS_PROXY / NO_PROXY through requests' trust_env.
        self.session.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        self.session.headers["User-Agent"] = user_agent()
        self.session.headers["Accept"] = "application/json"

    def add_secret(self, secret):
        self.redact.add(secret)

    def url(self, path):
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return self.base_url + "/" + path.lstrip("/")

    def request(self, method, path, params=None, json_body=None, data=None, files=None, headers=None,
                expected=(200,), replay_safe=None, recover=None):
        """Send a request, retrying as the module docstring explains; return a :class:`Reply`.

        ``expected``: statuses that count as success.  ``replay_safe``: whether
        sending the request twice is harmless (defaults by method; pass True
        for POSTs that only read).  ``recover``: callable returning the created
        object, or None when it does not exist, used after an ambiguous failure.
        """
        method = method.upper()
        if replay_safe is None:
            replay_safe = method in REPLAY_SAFE_METHODS
        url = self.url(path)
        started = self.retry.clock()
        attempt = 0
        replayed = False
        while True:
            attempt += 1
            try:
                response = self.session.request(method, url, params=params, json=json_body, data=data, files=files,
                                                headers=headers, timeout=self.timeout)
            except requests.exceptions.RequestException as exc:
                outcome = classify_failure(exc)
                failure = self._transport_failure(method, url, exc)
                if outcome == FATAL:
                    raise failure
                if outcome == AMBIGUOUS and not replay_safe:
                    found = self._recover(recover, failure)
                    if found is not None:
                        return Reply(recovered=found, attempts=attempt)
                self._wait_or_raise(attempt, started, None, failure)
                replayed = replayed or outcome == AMBIGUOUS
                continue

            if response.status_code in expected:
                return Reply(response.status_code, response.headers, response.content, attempts=attempt,
                             redact=self.redact)

            error = self._api_error(method, url, response, replayed)
            if response.status_code not in RETRY_STATUSES:
                raise error
            may_have_applied = response.status_code not in NOT_APPLIED_STATUSES
            if may_have_applied and not replay_safe:
                found = self._recover(recover, error)
                if found is not None:
                    return Reply(recovered=found, attempts=attempt)
            self._wait_or_raise(attempt, started, self._hinted_delay(response), error)
            replayed = replayed or may_have_applied

    # -- helpers ---------------------------------------------------------
    def _recover(self, recover, failure):
        if recover is None:
            raise AmbiguousWriteError(
                "%s It may have been applied, so it was not sent again; check whether the object exists "
                "before re-running." % failure.msg, **failure.details)
        return recover()

    def _wait_or_raise(self, attempt, started, hinted, error):
        """Sleep before the next attempt, or raise ``error`` when the budget is spent."""
        if attempt >= self.retry.max_attempts:
            raise self._with_note(error, "Gave up after %d attempts." % attempt)
        delay = hinted if hinted is not None else self.retry.backoff(attempt)
        if hinted is not None:
            # A little spread so parallel tasks do not return at the same instant.
            delay += self.retry.jitter() * min(1.0, hinted * 0.1)
        remaining = self.retry.max_total_seconds - (self.retry.clock() - started)
        if delay > remaining:
            asked = "The server asked to wait" if hinted is not None else "The next retry would wait"
            raise self._with_note(error, "%s %.1f s, more than the %.1f s left of the retry budget (retry_max_time)."
                                  % (asked, delay, max(0.0, remaining)))
        self.retry.sleep(delay)

    @staticmethod
    def _with_note(error, note):
        error.msg = "%s %s" % (error.msg, note)
        error.args = (error.msg,)
        return error

    def _hinted_delay(self, response):
        """Seconds the server asked to wait: the standard ``Retry-After``, else the vendor's hook, else None."""
        now = self.retry.wall_clock()
        seconds = seconds_from_hint(response.headers.get("Retry-After"), now)
        if seconds is None and self.hooks.retry_hint is not None:
            seconds = self.hooks.retry_hint(response, now)
        return seconds

    def _transport_failure(self, method, url, exc):
        reason = self.redact(str(exc))
        if isinstance(exc, requests.exceptions.SSLError):
            what = self._tls_failure(url, exc)
        elif isinstance(exc, requests.exceptions.Timeout):
            what = "timed out"
        elif isinstance(exc, requests.exceptions.ConnectionError):
            what = "connection failed"
        else:
            what = "failed"
        return TransportError("%s %s %s %s: %s." % (self.vendor, method, self._path_of(url), what, reason),
                              vendor=self.vendor, method=method, url=url)

    def _tls_failure(self, url, exc):
        """What went wrong in a TLS handshake, in words that point at the fix."""
        if _is_certificate_failure(exc):
            return "TLS verification failed (set ca_path to your CA bundle, or validate_certs: false for a test server)"
        origin = _origin(url)
        if origin and answers_plain_http(origin[1], origin[2], min(self.timeout[0], 5.0)):
            return ("failed: the server at %s answered in plain HTTP, not TLS; use an http:// base URL, or point the "
                    "base URL to the server's TLS port" % ("https://%s:%d" % (origin[1], origin[2])))
        return "failed in the TLS handshake (the server did not complete TLS at this address and port)"

    def _api_error(self, method, url, response, replayed):
        message, errors = self.hooks.parse_error(response) if self.hooks.parse_error else (None, [])
        errors = self.redact(errors or [])
        trace_id = self.hooks.trace_id(response) if self.hooks.trace_id else None
        status = response.status_code
        described = message or response.reason or "no error details"
        # The vendor's own message may already end a sentence.
        msg = "%s %s %s returned HTTP %s: %s" % (self.vendor, method, self._path_of(url), status, described)
        msg = msg if msg.endswith((".", "!", "?")) else msg + "."
        hint = self.error_hint(status, errors, self._path_of(url)) if self.error_hint else None
        if hint:
            msg = "%s %s" % (msg, hint)
        if trace_id:
            msg = "%s (trace id %s)" % (msg, trace_id)
        body = None
        if not errors:
            # Redacted whole, then cut: a secret across the cut would otherwise show in part.
            body = self.redact.cut(response.text, 1000) if response.content else None
        return api_error_class(status)(self.redact(msg), status=status, vendor=self.vendor, method=method, url=url,
                                       errors=errors, trace_id=trace_id, body=body, replayed=replayed)

    def _path_of(self, url):
        return url[len(self.base_url):] if url.startswith(self.base_url) else url


def _is_certificate_failure(exc):
    """Whether a requests SSLError comes from verifying the server's certificate (not from the handshake itself)."""
    seen = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if isinstance(current, BaseException):
            pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
            pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _origin(url):
    """(scheme, host, port) of an https URL, or None."""
    parsed = urlsplit(url)
    if parsed.scheme != "https" or not parsed.hostname:
        return None
    try:
        return parsed.scheme, parsed.hostname, parsed.port or 443
    except ValueError:
        return None


def answers_plain_http(host, port, timeout):
    """Whether ``host:port`` answers a plain-text HTTP request, i.e. speaks HTTP where TLS was expected.

    Asked only after a TLS handshake failed for another reason than the
    certificate, so the message can say what is wrong instead of blaming TLS.
    """
    try:
        connection = socket.create_connection((host, port), timeout=timeout)
    except (OSError, ValueError):
        return False
    try:
        connection.settimeout(timeout)
        connection.sendall(("HEAD / HTTP/1.0\r\nHost: %s\r\n\r\n" % host).encode("ascii", "replace"))
        return connection.recv(5) == b"HTTP/"
    except (OSError, ValueError):
        return False
    finally:
        connection.close()


FATAL = "fatal"          # never sent, and sending again will not help (DNS, TLS, bad URL)
NOT_SENT = "not-sent"    # never reached the server: safe to send again
AMBIGUOUS = "ambiguous"  # may have been applied: timeout or dropped connection after sending


def classify_failure(exc):
    """Sort a requests exception into FATAL, NOT_SENT or AMBIGUOUS."""
    if isinstance(exc, requests.exceptions.SSLError):
        return FATAL
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NOT_SENT
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)
        if NameResolutionError is not None and isinstance(reason, NameResolutionError):
            return FATAL
        if isinstance(reason, NewConnectionError):
            return NOT_SENT
        return AMBIGUOUS
    if isinstance(exc, (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError)):
        return AMBIGUOUS
    return FATAL
