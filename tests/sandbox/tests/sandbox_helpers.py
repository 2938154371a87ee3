"""Helpers for the sandbox self-tests: start the real CLI, get tokens, make cases, read the log."""

import os
import select
import subprocess
import sys
import tempfile
import time

import requests

SANDBOX_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SANDBOX_DIR not in sys.path:
    sys.path.insert(0, SANDBOX_DIR)

from context import SandboxConfig  # noqa: E402  pylint: disable=wrong-import-position,import-error

CONFIG = SandboxConfig()
USER_UUID = "01234567-89ab-cdef-0123-456789abcdef"
TIMEOUT = 10


class SandboxProcess(object):
    """``python tests/sandbox --port 0 ...`` in a subprocess: ``url``, ``first_line``, ``stop()``, ``stderr``."""

    def __init__(self, args=(), env=None, timeout=20.0):
        command = [sys.executable, SANDBOX_DIR, "--port", "0"] + list(args)
        self._stderr = tempfile.TemporaryFile()
        self.stderr = ""
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr,
                                        env=dict(os.environ, **(env or {})))
        self.first_line = self._first_line(timeout)
        if not self.first_line.startswith("SANDBOX_URL="):
            self.stop()
            raise RuntimeError("the sandbox did not start: %r\n%s" % (self.first_line, self.stderr))
        self.url = self.first_line.split("=", 1)[1]

    def _first_line(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if select.select([self.process.stdout], [], [], 0.1)[0]:
                return self.process.stdout.readline().decode().strip()
            if self.process.poll() is not None:
                break
        return ""

    def stop(self, sig=None):
        """Stop with SIGTERM (or ``sig``) and return the exit status."""
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self._stderr.closed:
            self._stderr.seek(0)
            self.stderr = self._stderr.read().decode(errors="replace")
            self._stderr.close()
            self.process.stdout.close()
        return self.process.returncode


def token_form(**extra):
    form = {"client_id": CONFIG["SANDBOX_FALCON_CLIENT_ID"], "client_secret": CONFIG["SANDBOX_FALCON_CLIENT_SECRET"]}
    form.update(extra)
    return form


def issue_token(base_url, **extra):
    response = requests.post(base_url + "/oauth2/token", data=token_form(**extra), timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


def bearer(token):
    return {"Authorization": "Bearer %s" % token}


def logged(base_url, **params):
    return requests.get(base_url + "/_sandbox/requests", params=params, timeout=TIMEOUT).json()["requests"]


def create_case(base_url, headers, **fields):
    body = {"title": "Case title", "body": "Case body", "type": "fc:contact"}
    body.update(fields)
    response = requests.post(base_url + "/message-center/entities/case/v2", json=body, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["resources"][0]["id"]


def seed_case(base_url, **fields):
    """A case made through the control API, where any field may be set."""
    response = requests.post(base_url + "/_sandbox/falcon/cases", json=fields, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()


def add_fault(base_url, **rule):
    response = requests.post(base_url + "/_sandbox/faults", json=rule, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()
