# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start and stop the local sandbox (tests/sandbox) for the test runner and the demo."""

import json
import os
import select
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

from context import SandboxConfig  # noqa: E402  pylint: disable=wrong-import-position,import-error


class Sandbox:
    """A running sandbox process: ``url``, ``control(...)``, ``stop()``."""

    def __init__(self, python=sys.executable, state_file=None, log_file=None, env=None, startup_timeout=30.0):
        command = [python, os.path.join(REPO, "tests", "sandbox"), "--port", "0"]
        if state_file:
            command += ["--state", state_file]
        if log_file:
            command += ["--log-file", log_file]
        self.stderr_path = os.path.join(REPO, "build", "sandbox.stderr.log")
        os.makedirs(os.path.dirname(self.stderr_path), exist_ok=True)
        self._stderr = open(self.stderr_path, "ab")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr,
                                        env=dict(os.environ, **(env or {})))
        self.url = self._read_url(startup_timeout)

    def _read_url(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable = select.select([self.process.stdout], [], [], 0.2)[0]
            if readable:
                line = self.process.stdout.readline().decode().strip()
                if line.startswith("SANDBOX_URL="):
                    return line.split("=", 1)[1]
                if not line and self.process.poll() is not None:
                    break
            elif self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError("the sandbox did not start; see %s" % self.stderr_path)

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read().decode() or "null")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


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
