# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""End-to-end tests: real ansible-playbook runs of the installed collection against the sandbox.

tools/run_tests.py (stage e2e) builds and installs the collection, starts the
sandbox and sets CASEOPS_SANDBOX_URL and ANSIBLE_COLLECTIONS_PATH.
"""

import json
import os
import subprocess
import sys
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))

from sandbox_process import connection_env  # noqa: E402  pylint: disable=wrong-import-position,import-error


@pytest.fixture(scope="session")
def sandbox_url():
    url = os.environ.get("CASEOPS_SANDBOX_URL")
    if not url:
        pytest.skip("CASEOPS_SANDBOX_URL is not set: run these through 'make e2e', which starts the sandbox")
    return url


@pytest.fixture
def control(sandbox_url):
    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(sandbox_url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read().decode() or "null")
    return call


@pytest.fixture
def playbook(sandbox_url, tmp_path):
    """Run a playbook from tests/e2e/playbooks (or given by absolute path); returns (returncode, combined output, log file text)."""

    def run(name, verbosity="-vvvv", extra_env=None, extra_vars=None):
        log_file = tmp_path / "ansible.log"
        env = dict(os.environ)
        env.update(connection_env(sandbox_url))
        env.update({"ANSIBLE_LOG_PATH": str(log_file), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                    "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0"})
        env.update(extra_env or {})
        command = ["ansible-playbook", verbosity, os.path.join(HERE, "playbooks", name),
                   "-e", json.dumps(dict(sandbox_url=sandbox_url, **(extra_vars or {})))]
        result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        log_text = log_file.read_text() if log_file.exists() else ""
        return result.returncode, result.stdout, log_text

    return run
