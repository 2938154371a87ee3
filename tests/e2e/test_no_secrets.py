# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret appears in ansible-playbook output at -vvvv, nor in the Ansible log file."""

import base64
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

from context import SandboxConfig  # noqa: E402  pylint: disable=wrong-import-position,import-error

WRONG_SECRET = "WrongE2eSecret00000000000000000000000000"


def issued_falcon_tokens(control):
    state = control("GET", "/_sandbox/state")
    tokens = state.get("falcon", {}).get("tokens", {})
    return list(tokens) if isinstance(tokens, dict) else [t.get("access_token") for t in tokens]


def test_no_secret_in_vvvv_output_or_log(playbook, control):
    before = set(issued_falcon_tokens(control))
    # Through the environment: on the command line, -vvvv would echo it as part of ansible-playbook's own arguments.
    config = SandboxConfig()
    code, output, log_text = playbook("secrets.yml", extra_env={
        "E2E_WRONG_SECRET": WRONG_SECRET, "E2E_CLOUDFLARE_EMAIL": config["SANDBOX_CLOUDFLARE_EMAIL"],
        "E2E_CLOUDFLARE_API_KEY": config["SANDBOX_CLOUDFLARE_API_KEY"]})
    assert code == 0, output[-3000:]
    assert "ok=" in output and "failed=0" in output  # ignore_errors turns failures into 'ignored'
    assert "ignored=5" in output, output[-3000:]

    tokens = [t for t in issued_falcon_tokens(control) if t not in before]
    # The play's other tokens are revoked on purpose (gone from the state), and its tasks share one token per run
    # (docs/in_process.md); the renewal itself is proven by the play succeeding.
    assert len(tokens) >= 1, "expected the play to obtain a renewed token"
    # The Basic credentials falcon_auth sends to revoke a token.
    basic = base64.b64encode(("%s:%s" % (config["SANDBOX_FALCON_CLIENT_ID"], config["SANDBOX_FALCON_CLIENT_SECRET"]))
                             .encode()).decode()
    secrets = config.secrets() + tokens + [WRONG_SECRET, basic]
    for secret in secrets:
        assert secret not in output, "a secret was printed at -vvvv"
        assert secret not in log_text, "a secret was written to the Ansible log"
    # The failures are explained, not hidden.
    assert "renew the falcon_auth token" in output
    assert "HTTP 403" in output
    assert "Unit21 refused the API key" in output


def test_workflow_roles_keep_secrets_out_of_vvvv(playbook, control):
    """The four workflow roles, as playbooks/demo.yml runs them, at -vvvv: every credential and token stays hidden."""
    before = set(issued_falcon_tokens(control))
    code, output, log_text = playbook(os.path.join(REPO, "playbooks", "demo.yml"))
    assert code == 0, output[-3000:]
    assert "failed=0" in output
    for role in ("falcon_detection_escalation", "cloudforce_one_followup", "case_bridge", "unit21_case_triage"):
        assert "caseops.desk.%s : " % role in output, "the demo did not run the role %s" % role

    tokens = [t for t in issued_falcon_tokens(control) if t not in before]
    assert tokens, "expected the roles to obtain a Falcon token"
    config = SandboxConfig()
    basic = base64.b64encode(("%s:%s" % (config["SANDBOX_FALCON_CLIENT_ID"], config["SANDBOX_FALCON_CLIENT_SECRET"]))
                             .encode()).decode()
    for secret in config.secrets() + tokens + [basic]:
        assert secret not in output, "a secret was printed at -vvvv"
        assert secret not in log_text, "a secret was written to the Ansible log"
