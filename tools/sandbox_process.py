# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox for the test runner and the demo: start it, and point the collection at it."""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

from context import SandboxConfig  # noqa: E402  pylint: disable=wrong-import-position,import-error
from launcher import SandboxProcess  # noqa: E402  pylint: disable=wrong-import-position,import-error


def start_sandbox(python, log_file=None):
    """A running sandbox (a context manager); its stderr is kept in build/sandbox.stderr.log when it stops."""
    return LoggedSandbox(["--log-file", log_file] if log_file else [], python=python)


class LoggedSandbox(SandboxProcess):
    def stop(self, sig=None):
        status = super(LoggedSandbox, self).stop(sig)
        os.makedirs(os.path.join(REPO, "build"), exist_ok=True)
        with open(os.path.join(REPO, "build", "sandbox.stderr.log"), "a") as handle:
            handle.write(self.stderr)
        return status


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
