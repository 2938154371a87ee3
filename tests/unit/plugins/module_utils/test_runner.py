# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What run_module does around every module: NUL bytes named, credentials stripped or refused, secrets masked.

Real module main()s against a real local HTTP server (the ``server`` fixture).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect
import json
import sys

import pytest

from ansible.module_utils import basic
from ansible_collections.caseops.desk.plugins.module_utils import runner
from ansible_collections.caseops.desk.plugins.module_utils.errors import REDACTED
from ansible_collections.caseops.desk.plugins.modules import case_info, request_info
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

KEY = "Unit21Key0123456789abcdef"
TOKEN = "CloudflareToken_0123456789abcdef"
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"


def unit21_args(server, **extra):
    return dict(dict(provider="unit21", unit21_api_key=KEY, unit21_base_url=server.url, ids=[7], max_retries=0), **extra)


def cloudflare_args(server, **extra):
    return dict(dict(cloudflare_api_token=TOKEN, cloudflare_account_id=ACCOUNT, cloudflare_base_url=server.url,
                     gather=["quota"], max_retries=0), **extra)


def a_case(record):
    return Answer(200, {"unit21_id": 7, "case_id": "c-7", "title": "t", "status": "OPEN"})


def test_the_log_call_is_guarded_once():
    assert basic.AnsibleModule._log_invocation.caseops_refuses_nul is True
    assert not getattr(basic.AnsibleModule._log_invocation.unguarded, "caseops_refuses_nul", False)


def test_without_the_guard_ansible_names_no_option(run_main, server, monkeypatch):
    """Why the guard exists: AnsibleModule logs its arguments to syslog before the module's code runs.

    From Python 3.12 syslog refuses a NUL byte: ansible-core that catches the
    ValueError fails with "Failed to log to syslog", naming no option; older
    ansible-core (2.16) does not catch it, and the module dies with a traceback.
    Before Python 3.12 the NUL is logged and reaches run_module, which names it.
    """
    assert not basic.has_journal  # this machine logs through syslog, as the report did
    monkeypatch.setattr(basic.AnsibleModule, "_log_invocation", basic.AnsibleModule._log_invocation.unguarded)
    arguments = cloudflare_args(server, request_type="DDoS\x00Attack")
    if sys.version_info < (3, 12):
        result, failed = run_main(request_info, arguments)
        assert failed and result["msg"].startswith("request_type contains a NUL byte")
    elif "ValueError" in inspect.getsource(basic.AnsibleModule._log_to_syslog):
        result, failed = run_main(request_info, arguments)
        assert failed and "Failed to log to syslog" in result["msg"]
        assert "request_type" not in result["msg"]
    else:
        with pytest.raises(ValueError, match="embedded null character"):
            run_main(request_info, arguments)
    assert server.requests == []


def test_a_nul_byte_is_named_before_ansible_logs_the_arguments(run_main, server):
    result, failed = run_main(request_info, cloudflare_args(server, request_type="DDoS\x00Attack"))
    assert failed
    assert result["msg"].startswith("request_type contains a NUL byte")
    assert "syslog" not in result["msg"]
    assert server.requests == []


def test_a_nul_byte_in_a_nested_option_is_named_by_its_path(run_main, server):
    result, failed = run_main(case_info, unit21_args(server, ids=None, sources=["INTERNAL"], tag_filters=["a", "b\x00"]))
    assert failed, result
    assert result["msg"].startswith("tag_filters[1] contains a NUL byte"), result["msg"]
    assert server.requests == []


def test_a_nul_byte_is_named_under_no_log_too(run_main, server):
    """With no_log AnsibleModule does not log the arguments; run_module checks them itself."""
    result, failed = run_main(request_info, cloudflare_args(server, request_type="DDoS\x00Attack", _ansible_no_log=True))
    assert failed
    assert result["msg"].startswith("request_type contains a NUL byte")
    assert server.requests == []


def test_a_credential_with_surrounding_whitespace_works_and_is_sent_stripped(run_main, server):
    server.script = a_case
    result, failed = run_main(case_info, unit21_args(server, unit21_api_key="  \t%s\r\n" % KEY))
    assert not failed, result
    assert server.requests[0]["headers"]["u21-key"] == KEY


def test_a_credential_with_surrounding_whitespace_from_the_environment_works(run_main, server, monkeypatch):
    server.script = [Answer(200, {"success": True, "errors": [], "messages": [], "result": {"quota": 1}})]
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "\n%s\n" % TOKEN)
    arguments = cloudflare_args(server)
    del arguments["cloudflare_api_token"]
    result, failed = run_main(request_info, arguments)
    assert not failed, result
    assert server.requests[0]["headers"]["Authorization"] == "Bearer %s" % TOKEN


def test_a_credential_with_a_control_character_inside_is_refused_before_any_request(run_main, server):
    dirty = KEY[:9] + "\n" + KEY[9:]
    result, failed = run_main(case_info, unit21_args(server, unit21_api_key=dirty))
    assert failed
    assert "unit21_api_key (or the environment variable UNIT21_API_KEY) contains a line feed" in result["msg"]
    assert KEY[:9] not in json.dumps(result) and KEY[9:] not in json.dumps(result)
    assert server.requests == []


def test_the_stripped_secret_is_masked_in_a_failure(run_main, server):
    """Ansible masks the no_log value as given (with its newline); the value sent, stripped, is masked too."""
    server.script = [Answer(401, {"error_code": "unauthorized", "message": "key %s is not valid" % KEY})]
    result, failed = run_main(case_info, unit21_args(server, unit21_api_key=KEY + "\n"))
    assert failed
    assert KEY not in json.dumps(result)
    assert REDACTED in result["msg"]


def test_run_module_adds_the_stripped_values_to_no_log_values():
    captured = {}

    class Module:
        params = {"unit21_api_key": " %s\n" % KEY, "falcon_auth": {"access_token": "tok-value\r\n"}}
        no_log_values = set([" %s\n" % KEY])

        def fail_json(self, **kwargs):
            raise AssertionError(kwargs)

        def exit_json(self, **kwargs):
            captured.update(kwargs)

    module = Module()
    runner.run_module(module, lambda params: None, lambda module, client: {"changed": False})
    assert captured == {"changed": False}
    assert {KEY, "tok-value"} <= module.no_log_values


def test_an_unexpected_error_is_redacted_with_the_task_no_log_values():
    def explode(module, client):
        raise RuntimeError("boom with %r" % (KEY + "\n"))

    class Module:
        params = {"unit21_api_key": KEY + "\n"}
        no_log_values = set([KEY + "\n"])
        failed = None

        def fail_json(self, **kwargs):
            Module.failed = kwargs
            raise SystemExit(1)

    try:
        runner.run_module(Module(), lambda params: None, explode)
    except SystemExit:
        pass
    assert Module.failed and "boom with" in Module.failed["msg"]
    assert KEY not in json.dumps(Module.failed)
