"""Start the sandbox CLI in a subprocess and talk to its control API.

Used by the sandbox's self-tests, the test runner (tools/run_tests.py) and
``make demo``, so the CLI contract is exercised the way users drive it.
"""

import json
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.request

SANDBOX_DIR = os.path.dirname(os.path.abspath(__file__))


class SandboxProcess(object):
    """``python tests/sandbox --port 0 ...`` in a subprocess: ``url``, ``first_line``, ``control()``, ``stop()``, ``stderr``."""

    def __init__(self, args=(), env=None, timeout=20.0, python=None):
        command = [python or sys.executable, SANDBOX_DIR, "--port", "0"] + list(args)
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

    def control(self, method, path, body=None):
        """One control-API call (``/_sandbox/...``); returns the decoded JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read().decode() or "null")

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

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
