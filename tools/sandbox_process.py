# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox for the test runner and the demo: start it, and point the collection at it.

Two lifetimes: ``start_sandbox`` gives one that lives as long as a ``with`` block (a stage of
``make test``, the demo); ``LongLivedSandbox`` gives one that outlives the command that started it,
so every ``make check`` reuses it (``make sandbox-stop`` ends it).
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SANDBOX_DIR = os.path.join(REPO, "tests", "sandbox")
sys.path.insert(0, SANDBOX_DIR)

from context import SandboxConfig  # noqa: E402  pylint: disable=wrong-import-position,import-error
from launcher import SandboxProcess  # noqa: E402  pylint: disable=wrong-import-position,import-error


def start_sandbox(python, log_file=None, name="sandbox"):
    """A running sandbox (a context manager); its stderr is kept in build/<name>.stderr.log when it stops."""
    return LoggedSandbox(["--log-file", log_file] if log_file else [], python=python, name=name)


class LoggedSandbox(SandboxProcess):
    def __init__(self, args=(), python=None, name="sandbox"):
        self.name = name
        self.cpu_seconds = 0.0
        super(LoggedSandbox, self).__init__(args, python=python)

    def stop(self, sig=None):
        self.cpu_seconds = max(self.cpu_seconds, cpu_seconds(self.process.pid))
        status = super(LoggedSandbox, self).stop(sig)
        os.makedirs(os.path.join(REPO, "build"), exist_ok=True)
        with open(os.path.join(REPO, "build", "%s.stderr.log" % self.name), "a") as handle:
            handle.write(self.stderr)
        return status


def cpu_seconds(pid):
    """User and system CPU time a running process has used so far (0 once it has been reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def connection_env(url):
    """Environment variables that point every module at the sandbox, as AWX credentials would."""
    creds = SandboxConfig()  # the sandbox reads the same SANDBOX_* overrides
    return {
        "FALCON_CLIENT_ID": creds["SANDBOX_FALCON_CLIENT_ID"],
        "FALCON_CLIENT_SECRET": creds["SANDBOX_FALCON_CLIENT_SECRET"],
        "FALCON_BASE_URL": url,
        "CLOUDFLARE_API_TOKEN": creds["SANDBOX_CLOUDFLARE_API_TOKEN"],
        "CLOUDFLARE_ACCOUNT_ID": creds["SANDBOX_CLOUDFLARE_ACCOUNT_ID"],
        "CLOUDFLARE_BASE_URL": url + "/client/v4",
        "UNIT21_API_KEY": creds["SANDBOX_UNIT21_API_KEY"],
        "UNIT21_BASE_URL": url + "/v1",
    }


def control(url, method, path, body=None, timeout=30):
    """One control-API call (``/_sandbox/...``) on the sandbox at url; returns the decoded JSON answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode() or "null")


def sandbox_code_hash():
    """A hash of the sandbox's source: a long-lived sandbox started from older code is restarted."""
    digest = hashlib.sha1()
    for name in sorted(os.listdir(SANDBOX_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(SANDBOX_DIR, name), "rb") as handle:
                digest.update(name.encode() + b"\0" + handle.read())
    return digest.hexdigest()


class LongLivedSandbox(object):
    """A sandbox in its own session that outlives this process; its URL, PID and code hash live in state_dir.

    ``ensure()`` reuses the recorded one when its process is alive, answers /_sandbox/health and runs the
    current code; otherwise it stops what is left and starts a new one. ``stop()`` ends it.
    """

    def __init__(self, python, state_dir):
        self.python = python
        self.state_dir = state_dir
        self.state_file = os.path.join(state_dir, "sandbox.json")
        self.stdout_file = os.path.join(state_dir, "sandbox.stdout.log")
        self.stderr_file = os.path.join(state_dir, "sandbox.stderr.log")
        self.pid = None

    def _recorded(self):
        try:
            with open(self.state_file) as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    @staticmethod
    def _is_ours(pid):
        """True if pid is alive and is a sandbox process (a recycled PID is never signalled)."""
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            return False
        return any(arg.rstrip(b"/").endswith(b"tests/sandbox") for arg in argv)

    @staticmethod
    def _healthy(url):
        try:
            return bool(control(url, "GET", "/_sandbox/health", timeout=5).get("ok"))
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def ensure(self, timeout=20.0):
        """(url, note): the running sandbox's URL and whether it was reused or (re)started, and why."""
        recorded = self._recorded()
        code = sandbox_code_hash()
        if recorded:
            if not self._is_ours(recorded["pid"]):
                reason = "its process %d had ended" % recorded["pid"]
            elif recorded.get("code") != code:
                reason = "tests/sandbox/ changed since it started"
            elif not self._healthy(recorded["url"]):
                reason = "it did not answer /_sandbox/health"
            else:
                self.pid = recorded["pid"]
                return recorded["url"], "reused the sandbox at %s (pid %d)" % (recorded["url"], recorded["pid"])
            self.stop()
            note = "restarted the sandbox (%s)" % reason
        else:
            note = "started a sandbox"
        url, pid = self._start(timeout)
        self.pid = pid
        with open(self.state_file, "w") as handle:
            json.dump({"url": url, "pid": pid, "code": code, "started": time.time()}, handle)
        return url, "%s at %s (pid %d)" % (note, url, pid)

    def _start(self, timeout):
        os.makedirs(self.state_dir, exist_ok=True)
        # stdout to a file, not a pipe: nobody reads a pipe once this process is gone.
        with open(self.stdout_file, "w") as stdout, open(self.stderr_file, "a") as stderr:
            process = subprocess.Popen([self.python, SANDBOX_DIR, "--port", "0"], stdout=stdout, stderr=stderr,
                                       stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.stdout_file) as handle:
                line = handle.readline().strip()
            if line.startswith("SANDBOX_URL="):
                return line.split("=", 1)[1], process.pid
            if process.poll() is not None:
                break
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait()
        raise RuntimeError("the sandbox did not start; see %s" % self.stderr_file)

    def stop(self):
        """Stop the recorded sandbox, if it still runs; returns what was done."""
        recorded = self._recorded()
        if os.path.exists(self.state_file):
            os.remove(self.state_file)
        if not recorded:
            return "no long-lived sandbox was recorded"
        pid = recorded["pid"]
        if not self._is_ours(pid):
            return "the sandbox (pid %d) had already ended" % pid
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while self._is_ours(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                os.waitpid(pid, os.WNOHANG)  # reap it if this process started it
            except ChildProcessError:
                pass
        if self._is_ours(pid):
            os.kill(pid, signal.SIGKILL)
        return "stopped the sandbox at %s (pid %d)" % (recorded["url"], pid)
