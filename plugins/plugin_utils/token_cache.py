# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Falcon token per playbook run, for tasks that run in-process (plugin_utils/in_process.py).

CrowdStrike limits token requests per source IP, and a task that fetches its
own token spends a request on it.  The Falcon client asks this cache before it
requests a token and hands it every token it gets.  Tokens live only in the
run's own local temporary directory (ansible-core's DEFAULT_LOCAL_TMP: created
0700 for this ``ansible-playbook`` process and removed when it exits), one file
per (base URL, client id, SHA-256 of the secret, member CID), mode 0600.  The
file name is a hash of that key, so neither the secret nor the client id is in
a name.  A lock file makes parallel workers (forks) wait for the first token
instead of each asking for one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import fcntl
import hashlib
import json
import os
import stat
import weakref

from ansible import constants as C
from ansible.utils.display import Display

try:
    from ansible_collections.caseops.desk.plugins.module_utils import falcon
except ImportError:  # pragma: no cover - the action falls back to the module path without requests
    falcon = None

display = Display()

FILE_PREFIX = "caseops-falcon-token-"


def _private_directory(path):
    """Whether ``path`` is a directory of ours that nobody else can read or enter."""
    try:
        info = os.lstat(path)
    except (OSError, TypeError):
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


class RunTokenCache:
    """Falcon tokens of one playbook run, in files under ``directory``."""

    def __init__(self, directory):
        self.directory = directory
        self._keys = weakref.WeakKeyDictionary()   # client -> the key it looked up (before any cloud move)
        self._locks = weakref.WeakKeyDictionary()  # client -> lock file held while it fetches a token

    @staticmethod
    def key(client):
        secret_hash = hashlib.sha256((client.client_secret or "").encode("utf-8")).hexdigest()
        parts = [client.transport.base_url, client.client_id, secret_hash, client.member_cid or ""]
        return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()

    def _path(self, key, suffix=".json"):
        return os.path.join(self.directory, FILE_PREFIX + key + suffix)

    def _read(self, key):
        try:
            with open(self._path(key)) as handle:
                entry = json.load(handle)
            return falcon.FalconToken(entry["access_token"], entry.get("expires_at")), entry["base_url"]
        except (OSError, ValueError, KeyError, TypeError):
            return None, None

    def _take(self, client, key):
        token, base_url = self._read(key)
        if token is None or not token.fresh(client.clock()):
            return False
        client.transport.add_secret(token.access_token)
        client.transport.base_url = base_url  # the cloud the token belongs to
        client.autodiscover = False
        client.token = token
        return True

    def lend(self, client):
        """Give ``client`` the run's token for its credentials; False when it must fetch one (then keep() it)."""
        key = self.key(client)
        self._keys[client] = key
        if self._take(client, key):
            return True
        # Wait for a worker that is fetching this token right now, then look again.
        fd = os.open(self._path(key, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if self._take(client, key):
            os.close(fd)
            return True
        self._locks[client] = fd
        return False

    def keep(self, client):
        """Store the token ``client`` just got, for the run's later tasks."""
        key = self._keys.get(client) or self.key(client)
        entry = dict(access_token=client.token.access_token, expires_at=client.token.expires_at,
                     base_url=client.transport.base_url)
        path = self._path(key)
        partial = "%s.%d.part" % (path, os.getpid())
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(entry, handle)
        os.replace(partial, path)
        self.release(client)

    def release(self, client):
        fd = self._locks.pop(client, None)
        if fd is not None:
            os.close(fd)

    def release_all(self):
        for client in list(self._locks.keys()):
            self.release(client)


@contextlib.contextmanager
def run_token_cache(directory=None, enabled=True):
    """Falcon clients made inside this block share the run's tokens (when the run's tmp is private)."""
    if not enabled:
        yield None
        return
    directory = directory or C.DEFAULT_LOCAL_TMP
    if falcon is None or not _private_directory(directory):
        display.vvv("caseops.desk: no Falcon token cache (the run's local tmp %s is not a private directory)" % directory)
        yield None
        return
    cache = RunTokenCache(directory)
    falcon.FalconClient.token_cache = cache
    try:
        yield cache
    finally:
        falcon.FalconClient.token_cache = None
        cache.release_all()
