# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret appears in ansible-playbook output at -vvvv, nor in the Ansible log file."""

import base64
import json
import os
import sys
from urllib.parse import quote, quote_plus

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

from context import SandboxConfig  # noqa: E402  pylint: disable=wrong-import-position,import-error

WRONG_SECRET = "WrongE2eSecret00000000000000000000000000"


def issued_falcon_tokens(control):
    state = control("GET", "/_sandbox/state")
    tokens = state.get("falcon", {}).get("tokens", {})
    return list(tokens) if isinstance(tokens, dict) else [t.get("access_token") for t in tokens]


def test_no_secret_in_vvvv_output_or_log(playbook, control, tmp_path):
    before = set(issued_falcon_tokens(control))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    # Through the environment: on the command line, -vvvv would echo it as part of ansible-playbook's own arguments.
    config = SandboxConfig()
    code, output, log_text = playbook("secrets.yml", extra_env={
        "E2E_WRONG_SECRET": WRONG_SECRET, "E2E_CLOUDFLARE_EMAIL": config["SANDBOX_CLOUDFLARE_EMAIL"],
        "E2E_CLOUDFLARE_API_KEY": config["SANDBOX_CLOUDFLARE_API_KEY"], "E2E_DOWNLOAD_DIR": str(downloads)})
    assert code == 0, output[-3000:]
    # The five expected failures are expected by failed_when (each names its message), so nothing is ignored.
    assert "ok=" in output and "failed=0" in output and "ignored=0" in output, output[-3000:]

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
    # The download (in-process, with the run's token) wrote the attachment and nothing else next to it.
    assert [p.name for p in downloads.iterdir()] == ["e2e-evidence.txt"]
    assert (downloads / "e2e-evidence.txt").read_text() == "nothing secret here either"
    assert "e2e-evidence.txt" in output and '"mode": "0600"' in output
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


# -- pasted credentials ---------------------------------------------------------------------------------------------
def forms_of(secret):
    """Every form of a secret searched for, for the value and each whitespace-stripped variant of it:
    raw; Python repr and JSON escapes (what requests quotes when it refuses a header: 'key\\n'); unicode_escape;
    URL-encoded (quote with and without '/', quote_plus); base64.  (A secret cut in two is a unit test's matter:
    test_errors.py; here pieces of these sandbox values, such as '00000000', would match unrelated text.)"""
    found = set()
    for value in (secret, secret.strip(), secret.lstrip(), secret.rstrip()):
        found.update([value, repr(value)[1:-1], json.dumps(value)[1:-1], value.encode("unicode_escape").decode(),
                      quote(value, safe=""), quote(value), quote_plus(value), base64.b64encode(value.encode()).decode()])
    return set(form for form in found if len(form.strip()) >= 4)


def basic_forms(user, secret):
    return set(base64.b64encode(("%s:%s" % (u, s)).encode()).decode()
               for u in (user, user.strip()) for s in (secret, secret.strip()))


def assert_no_form_in(secrets, texts, basic=()):
    for secret in secrets:
        for form in forms_of(secret) | set(basic):
            for where, text in texts.items():
                assert form not in text, "a form of a secret (%d characters) was found in %s" % (len(form), where)


def inner(value, char):
    return value[:8] + char + value[8:]


def test_pasted_credentials_are_stripped_or_refused_and_never_shown(playbook, control):
    config = SandboxConfig()
    key, token, secret = (config["SANDBOX_UNIT21_API_KEY"], config["SANDBOX_CLOUDFLARE_API_TOKEN"],
                          config["SANDBOX_FALCON_CLIENT_SECRET"])
    dirty = {
        "E2E_U21_KEY_WRAPPED": "  \t%s\r\n" % key,
        "E2E_U21_KEY_INNER": inner(key, "\n") + "\n",
        "E2E_CF_TOKEN_WRAPPED": "\n%s\r" % token,
        "E2E_CF_TOKEN_INNER": inner(token, "\r"),
        "E2E_FALCON_SECRET_WRAPPED": "   %s\t\n" % secret,
        "E2E_FALCON_SECRET_INNER": "\t" + inner(secret, "\t"),
    }
    before = set(issued_falcon_tokens(control))
    last_seq = control("GET", "/_sandbox/requests?limit=0")["last_seq"]
    code, output, log_text = playbook("dirty_credentials.yml", extra_env=dirty)
    assert code == 0, output[-3000:]
    assert "failed=0" in output and "ignored=7" in output, output[-3000:]
    # The refused values were refused before any request: every request sent carried a working credential
    # (a refused value sent anyway would have earned a 401 or a 400), and each vendor was reached by the working tasks.
    entries = control("GET", "/_sandbox/requests?since=%d" % last_seq)["requests"]
    assert set(entry["vendor"] for entry in entries) >= set(["falcon", "cloudforce_one", "unit21"]), entries
    assert [entry for entry in entries if entry["status"] >= 400] == []

    tokens = [t for t in issued_falcon_tokens(control) if t not in before]
    assert tokens, "the wrapped Falcon secret obtained a token"
    # Messages that explain, at default output too.
    assert "unit21_api_key (or the environment variable UNIT21_API_KEY) contains a line feed" in output
    assert "request_type contains a NUL byte" in output
    assert_no_form_in([key, token, secret] + list(dirty.values()) + tokens,
                      {"ansible-playbook output": output, "ANSIBLE_LOG_PATH": log_text},
                      basic_forms(config["SANDBOX_FALCON_CLIENT_ID"], secret))


def test_pasted_credentials_in_the_environment(playbook):
    config = SandboxConfig()
    key, token, secret = (config["SANDBOX_UNIT21_API_KEY"], config["SANDBOX_CLOUDFLARE_API_TOKEN"],
                          config["SANDBOX_FALCON_CLIENT_SECRET"])
    wrapped = {"UNIT21_API_KEY": "%s\n" % key, "CLOUDFLARE_API_TOKEN": "\t%s\r\n" % token,
               "FALCON_CLIENT_SECRET": "  %s\n" % secret}
    code, output, log_text = playbook("env_credentials.yml", extra_env=wrapped)
    assert code == 0 and "failed=0" in output and "ignored=0" in output, output[-3000:]
    assert_no_form_in(list(wrapped.values()), {"ansible-playbook output": output, "ANSIBLE_LOG_PATH": log_text})

    refused = {"UNIT21_API_KEY": inner(key, "\r") + "\n", "CLOUDFLARE_API_TOKEN": inner(token, "\n"),
               "FALCON_CLIENT_SECRET": inner(secret, "\x1b"), "E2E_EXPECT_REFUSAL": "yes"}
    code, output, log_text = playbook("env_credentials.yml", extra_env=refused)
    assert code == 0 and "failed=0" in output and "ignored=3" in output, output[-3000:]
    assert_no_form_in([refused[name] for name in ("UNIT21_API_KEY", "CLOUDFLARE_API_TOKEN", "FALCON_CLIENT_SECRET")],
                      {"ansible-playbook output": output, "ANSIBLE_LOG_PATH": log_text})
