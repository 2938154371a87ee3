# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One object per identity: the guard every create path goes through.

Three ways a "look up, then create" makes a second object, and what the guard does:

* **Parallel runs** on one controller (two job templates, an EDA rule firing
  twice) both look, both find nothing, both create.  The guard serialises
  "look up, then create" per object identity with an exclusive ``flock`` on a
  lock file named by a hash of vendor, account and identity, in a private
  per-user directory (``$CASEOPS_LOCK_DIR/caseops-desk-<uid>``, else
  ``$XDG_RUNTIME_DIR/caseops-desk``, else ``<tempdir>/caseops-desk-<uid>``;
  directory 0700, files 0600).  The second
  run waits (bounded) and then finds what the first one made.  The lock is on
  one machine only: runs on several controller nodes, or AWX jobs on several
  execution nodes or container groups, are not serialised (see the doc
  fragment ``create_guard``).
* **Late commits**: a create that timed out, lost its connection or got a
  502/504 may still be applied after the client gave up.  The guard's
  ``recover`` hook (see :class:`Transport`) looks the object up repeatedly over
  a settle window (``create_settle_seconds``) and only lets the create be sent
  again when the last look-up, at the end of the window, still finds nothing.
  When the look-ups themselves fail, it stops and says what to check.
* **Existing duplicates** (made by someone else, or by a commit later than the
  settle window): :func:`pick_oldest` takes the oldest and warns, so later runs
  are not stuck.

A module uses it in a few lines::

    guard = CreateGuard.for_module(module, "Cloudforce One", account_of(client), ("request", summary, request_type),
                                   "a request with the summary %r" % summary)
    with guard.serialised(not module.check_mode):
        current = look_up()
        if current is None:
            created = guard.create(lambda recover: client.create_request(fields, recover=recover), find=find_new)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os
import stat
import tempfile
import time

try:
    import fcntl
    HAS_FCNTL = True
except ImportError:  # pragma: no cover - Ansible controllers are POSIX
    HAS_FCNTL = False

from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible_collections.caseops.desk.plugins.module_utils.args import nonempty_env_fallback
from ansible_collections.caseops.desk.plugins.module_utils.errors import (
    AmbiguousWriteError,
    CaseopsError,
    ConfigurationError,
    InvalidInputError,
    ServerError,
)

SETTLE_ENV = "CASEOPS_CREATE_SETTLE_SECONDS"
LOCK_DIR_ENV = "CASEOPS_LOCK_DIR"
# Long enough to outlast the upstream timeouts of common API gateways (29-60 s), so a write still in
# flight when a gateway answered 502/504 or the client gave up has landed; it is spent only after such a
# failure, never on a normal run.
DEFAULT_SETTLE_SECONDS = 60.0
# Look-ups in the window: at once, then after 1, 2, 4, 8 s and every 10 s, and once more at its end.
FIRST_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 10.0
LOCK_POLL_SECONDS = 0.05


def guard_argument_spec():
    """The option of every module that creates objects (documented by the doc fragment create_guard)."""
    return dict(create_settle_seconds=dict(type="float", fallback=(nonempty_env_fallback, [SETTLE_ENV])))


def settle_seconds_from(params):
    """``create_settle_seconds`` from the module parameters, its environment variable, or the default."""
    value = params.get("create_settle_seconds")
    if value is None:
        try:
            raw = nonempty_env_fallback(SETTLE_ENV)
        except AnsibleFallbackNotFound:
            return DEFAULT_SETTLE_SECONDS
        try:
            value = float(raw)
        except ValueError:
            raise InvalidInputError("%s must be a number of seconds, got %r." % (SETTLE_ENV, raw))
    if value < 0:
        raise InvalidInputError("create_settle_seconds must be 0 or more seconds, got %s." % value)
    return float(value)


def lock_wait_seconds(params, settle_seconds):
    """How long to wait for another run's create of the same object: as long as that create may take.

    One run holds the lock for a look-up and a create, each of which may retry for ``retry_max_time`` plus
    a last ``timeout``, and a settle window; a minute on top covers the reads around them.
    """
    retry_max_time = params.get("retry_max_time")
    timeout = params.get("timeout")
    retry_max_time = 120.0 if retry_max_time is None else float(retry_max_time)
    timeout = 30.0 if timeout is None else float(timeout)
    return 2 * (retry_max_time + timeout) + settle_seconds + 60.0


# -- the lock ---------------------------------------------------------------------------------
def runtime_directory():
    """The private per-user directory the lock files live in, created 0700 and checked to be ours.

    ``CASEOPS_LOCK_DIR`` names a directory shared by runs that do not share a
    temporary directory (AWX jobs run in separate containers); the locks go
    into a per-user directory inside it.
    """
    shared = (os.environ.get(LOCK_DIR_ENV) or "").strip()
    base = os.environ.get("XDG_RUNTIME_DIR")
    if shared:
        if not os.path.isdir(shared):
            raise ConfigurationError("%s is %s, which is not a directory; create it, or unset %s."
                                     % (LOCK_DIR_ENV, shared, LOCK_DIR_ENV))
        path = os.path.join(shared, "caseops-desk-%d" % os.getuid())
    elif base and os.path.isdir(base):
        path = os.path.join(base, "caseops-desk")
    else:
        path = os.path.join(tempfile.gettempdir(), "caseops-desk-%d" % os.getuid())
    return private_directory(path)


def private_directory(path):
    """``path`` as a directory only this user can use; refuse one that someone else made or a symlink."""
    try:
        os.mkdir(path, 0o700)
    except OSError as err:
        if err.errno != errno.EEXIST:
            raise ConfigurationError("Cannot create the lock directory %s: %s." % (path, err.strerror))
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigurationError("The lock directory %s is not a directory (a symbolic link?); remove it, or set "
                                 "XDG_RUNTIME_DIR to a private directory." % path)
    if info.st_uid != os.getuid():
        raise ConfigurationError("The lock directory %s belongs to another user (uid %d); remove it, or set "
                                 "XDG_RUNTIME_DIR to a private directory." % (path, info.st_uid))
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def account_of(client):
    """Whose objects a client sees: its API's base URL and its account (Cloudflare account, Falcon member CID or API
    client, ...), so the same identity at two tenants gets two locks."""
    transport = getattr(client, "transport", None)
    names = ("account_id", "member_cid", "client_id")
    account = next((value for value in (getattr(client, name, None) for name in names) if value), "")
    return "%s %s" % (getattr(transport, "base_url", ""), account)


def identity_key(vendor, account, identity):
    """A file-name-safe digest of what makes an object the same object."""
    text = json.dumps([vendor, account, list(identity)], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LockTimeoutError(CaseopsError):
    """Another run held the identity's lock for longer than the wait allowed."""


class IdentityLock:
    """An exclusive, bounded-wait ``flock`` on ``<directory>/<key>.lock``.

    The kernel drops the lock when its holder exits, however it exits, so a
    killed run never leaves a stale lock behind.  Lock files are kept (removing
    one that another process has open would let two runs hold "the" lock).
    """

    def __init__(self, key, what, wait_seconds, directory=None, clock=time.monotonic, sleep=time.sleep):
        self.key = key
        self.what = what
        self.wait_seconds = wait_seconds
        self.directory = directory
        self.clock = clock
        self.sleep = sleep
        self.path = None
        self.waited = 0.0
        self._fd = None

    def acquire(self):
        directory = self.directory or runtime_directory()
        self.path = os.path.join(directory, self.key + ".lock")
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as err:
            raise ConfigurationError("Cannot open the lock file %s: %s. Remove it, or set XDG_RUNTIME_DIR to a private "
                                     "directory." % (self.path, err.strerror))
        started = self.clock()
        try:
            while not self._try_lock(fd):
                self.waited = self.clock() - started
                if self.waited >= self.wait_seconds:
                    raise LockTimeoutError(
                        "Another run on this controller (process %s) has been creating %s for more than %.0f s, so "
                        "this run did not create it too. Re-run once that run has finished; the lock is %s."
                        % (_holder(fd), self.what, self.wait_seconds, self.path))
                self.sleep(min(LOCK_POLL_SECONDS, max(0.0, self.wait_seconds - self.waited)))
            self.waited = self.clock() - started
            # Who holds it, for the message of a run that gives up waiting.
            os.ftruncate(fd, 0)
            os.pwrite(fd, ("%d\n" % os.getpid()).encode("ascii"), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    @staticmethod
    def _try_lock(fd):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        return True

    def release(self):
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()
        return False


def _holder(fd):
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
    except OSError:
        return "unknown"


class _NoLock:
    waited = 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


# -- duplicates -------------------------------------------------------------------------------
def pick_oldest(items, what, warn=None, created="created", ident="id"):
    """The oldest of ``items`` (by ``created``, then ``ident``), warning when there is more than one.

    The documented rule for objects that share an identity: the oldest is the
    object, the others are duplicates a person should remove.  None for none.
    """
    if not items:
        return None
    ordered = sorted(items, key=lambda item: (str(item.get(created) or ""), _sortable(item.get(ident))))
    oldest = ordered[0]
    if len(ordered) > 1 and warn is not None:
        warn("%d objects are %s (%s); this task uses the oldest, %s, and leaves the others alone. Remove the ones that "
             "are duplicates." % (len(ordered), what, ", ".join(str(item.get(ident)) for item in ordered),
                                  oldest.get(ident)))
    return oldest


def _sortable(value):
    """Numbers in numeric order, before text in text order."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value))


# -- the guard --------------------------------------------------------------------------------
class CreateGuard:
    """Serialises look-up-then-create for one identity and keeps an ambiguous create from running twice."""

    def __init__(self, vendor, account, identity, what, settle_seconds=DEFAULT_SETTLE_SECONDS, lock_wait=300.0,
                 warn=None, clock=time.monotonic, sleep=time.sleep, lock_directory=None):
        self.vendor = vendor
        self.account = account
        self.identity = tuple(identity)
        self.what = what
        self.settle_seconds = float(settle_seconds)
        self.lock_wait = float(lock_wait)
        self.warn = warn or (lambda message: None)
        self.clock = clock
        self.sleep = sleep
        self.lock_directory = lock_directory
        self.lock = None
        # What happened to the last create, for the module's result and tests.
        self.ambiguous_failures = 0
        self.recovered = False
        self.lookups = 0

    @classmethod
    def for_module(cls, module, vendor, account, identity, what):
        settle = settle_seconds_from(module.params)
        return cls(vendor, account, identity, what, settle_seconds=settle,
                   lock_wait=lock_wait_seconds(module.params, settle), warn=module.warn)

    def serialised(self, enabled=True):
        """A context that holds the identity's lock (a no-op when ``enabled`` is false, as in check mode)."""
        if not enabled or not HAS_FCNTL:
            return _NoLock()
        self.lock = IdentityLock(identity_key(self.vendor, self.account, self.identity), self.what, self.lock_wait,
                                 directory=self.lock_directory, clock=self.clock, sleep=self.sleep)
        return self.lock

    def create(self, send, find):
        """``send(recover)`` the create; ``find()`` returns the object made by it, or None.

        ``recover`` is handed to the transport, which calls it after a failure
        that hides whether the create was applied.  A 500 (not retried) is
        looked up the same way before it is reported.
        """
        recover = self.recover_hook(find)
        try:
            return send(recover)
        except ServerError as err:
            # 502-504 went through the transport's recovery already; other 5xx are not retried.
            if err.status is None or err.status < 500 or err.status in (502, 503, 504) or self.ambiguous_failures:
                raise self._explained(err)
            # A server error may come after the write; look before saying it failed.
            found = recover()
            if found is not None:
                return found
            raise self._explained(err)
        except CaseopsError as err:
            raise self._explained(err)

    def recover_hook(self, find):
        def recover():
            self.ambiguous_failures += 1
            found = self.settle(find)
            if found is not None:
                self.recovered = True
                self.warn("The service did not confirm the create of %s (the answer was lost or was an error that may "
                          "follow a write); it was found by a look-up, so it was not sent again." % self.what)
            return found
        return recover

    def settle(self, find):
        """``find()`` at once and then at growing intervals until it finds something or the window ends.

        None only when the look-up at the end of the window succeeded and
        found nothing; a window whose last look-up failed raises, because a
        create sent then could be a duplicate.
        """
        started = self.clock()
        pause = FIRST_POLL_SECONDS
        while True:
            self.lookups += 1
            try:
                found = find()
                failure = None
            except CaseopsError as err:
                found, failure = None, err
            if found is not None:
                return found
            elapsed = self.clock() - started
            if elapsed >= self.settle_seconds:
                break
            self.sleep(min(pause, self.settle_seconds - elapsed))
            pause = min(pause * 2, MAX_POLL_SECONDS)
        if failure is not None:
            raise AmbiguousWriteError(
                "The create of %s may have been applied: the service's answer was lost, and looking for it failed "
                "(%s). It was not sent again, to avoid a duplicate. Check whether %s exists before re-running; a "
                "re-run finds it and does not create another." % (self.what, failure.msg, self.what))
        return None

    def _explained(self, err):
        """``err`` with a sentence on whether the object may exist, when an ambiguous failure came first."""
        if not self.ambiguous_failures or self.recovered:
            return err
        note = ("Looking for %s over the %.0f s settle window (create_settle_seconds) after the failure found "
                "nothing, so as far as the service shows it was not created; a re-run looks again before creating."
                % (self.what, self.settle_seconds))
        err.msg = "%s %s" % (err.msg, note)
        err.args = (err.msg,)
        return err
