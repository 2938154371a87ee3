"""Helpers for the sandbox self-tests: start the real CLI, get tokens, make cases, read the log."""

import os
import sys

import requests

SANDBOX_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SANDBOX_DIR not in sys.path:
    sys.path.insert(0, SANDBOX_DIR)

from context import SandboxConfig  # noqa: E402  pylint: disable=wrong-import-position,import-error
from launcher import SandboxProcess  # noqa: E402,F401  pylint: disable=wrong-import-position,import-error,unused-import

CONFIG = SandboxConfig()
USER_UUID = "01234567-89ab-cdef-0123-456789abcdef"
TIMEOUT = 10


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
