"""Fixtures: one sandbox CLI process for the session, reset before every test that uses it.

Tests that need other settings (a short token TTL, a tiny rate limit, a state
file) start their own with ``sandbox_helpers.SandboxProcess``.
"""

import pytest
import requests

from sandbox_helpers import SandboxProcess, bearer, issue_token  # pylint: disable=import-error


@pytest.fixture(scope="session")
def sandbox_process(tmp_path_factory):
    log_file = str(tmp_path_factory.mktemp("sandbox") / "requests.jsonl")
    process = SandboxProcess(["--log-file", log_file])
    process.log_file = log_file
    yield process
    process.stop()


@pytest.fixture
def sandbox(sandbox_process):
    """The session sandbox with no state, faults or logged requests."""
    requests.post(sandbox_process.url + "/_sandbox/reset", timeout=10).raise_for_status()
    return sandbox_process


@pytest.fixture
def url(sandbox):
    return sandbox.url


@pytest.fixture
def auth(url):
    """Headers with a fresh bearer token."""
    return bearer(issue_token(url))
