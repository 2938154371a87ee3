# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The in-process path: the AnsibleModule stand-in, argument validation, results as the module path gives them,
and the choice between the two paths."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import types

import pytest

from ansible.module_utils import basic
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module
from ansible_collections.caseops.desk.plugins.plugin_utils import in_process
from ansible_collections.caseops.desk.tests.unit.conftest import patch_module_args

SECRET = "s3cret-value-of-a-no-log-option"
NO_LOG_MASK = "********"  # what remove_values puts in place of a no_log value: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER


def fake_module(logic, spec=None, **kwargs):
    """A module namespace like ours: module_kwargs(), build_client, run, run_module."""
    argument_spec = spec or dict(
        name=dict(type="str", required=True, aliases=["title"]),
        api_key=dict(type="str", no_log=True),
        count=dict(type="int", default=1),
        mode=dict(type="str", choices=["a", "b"], default="a"),
        flag=dict(type="bool", default=False),
    )
    return types.SimpleNamespace(
        module_kwargs=lambda: dict(argument_spec=dict(argument_spec), supports_check_mode=True, **kwargs),
        build_client=lambda params: "client",
        run=logic,
        run_module=run_module,
    )


def echo(module, client):
    return dict(changed=not module.check_mode, params=dict(module.params), diff_wanted=module._diff, client=client)


def run(logic, args, spec=None, module_kwargs=None, **options):
    return in_process.run_module_in_process(fake_module(logic, spec, **(module_kwargs or {})), "caseops.desk.fake",
                                            args, **options)


def run_real_module(logic, args, capsys, spec=None, **module_kwargs):
    """The same logic through a real AnsibleModule, its printed JSON parsed: what the module path returns."""
    code = fake_module(logic, spec, **module_kwargs)
    with patch_module_args(dict(args, _ansible_module_name="caseops.desk.fake")):
        with pytest.raises(SystemExit):
            run_module(basic.AnsibleModule(**code.module_kwargs()), code.build_client, code.run)
    return json.loads(capsys.readouterr().out)


# -- check mode, diff, results -------------------------------------------------------------
def test_check_mode_and_diff_reach_the_logic():
    result = run(echo, dict(name="x"), check_mode=True, diff=True)
    assert result["changed"] is False and result["diff_wanted"] is True
    assert result["client"] == "client"
    assert run(echo, dict(name="x"))["changed"] is True


def test_defaults_and_types_are_applied_as_the_validator_does():
    params = run(echo, dict(name="x", count="3"))["params"]
    assert params == dict(name="x", api_key=None, count=3, mode="a", flag=False)


# -- no_log -------------------------------------------------------------------------------
def test_no_log_values_are_masked_everywhere_in_the_result():
    def leak(module, client):
        return dict(changed=False, echoed="key is %s" % module.params["api_key"], nested=[{"k": module.params["api_key"]}])
    result = run(leak, dict(name="x", api_key=SECRET))
    assert SECRET not in json.dumps(result)
    # As remove_values does: a value inside a string is starred, a whole value named.
    assert result["echoed"] == "key is %s" % NO_LOG_MASK
    assert result["nested"] == [{"k": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}]


def test_no_log_values_are_masked_in_errors_too():
    def fail(module, client):
        raise InvalidInputError("bad key %s" % module.params["api_key"])
    result = run(fail, dict(name="x", api_key=SECRET))
    assert result["failed"] is True and SECRET not in json.dumps(result)


def test_booleans_and_none_survive_masking_like_ansiblemodule_keeps_them():
    def answer(module, client):
        return dict(changed=True, empty=None)
    result = run(answer, dict(name="x", api_key="True"))
    assert result["changed"] is True and result["empty"] is None


def test_invocation_hides_no_log_options_when_it_is_injected():
    result = run(echo, dict(name="x", api_key=SECRET), inject_invocation=True)
    assert result["invocation"]["module_args"]["api_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert "invocation" not in run(echo, dict(name="x"), inject_invocation=False)


# -- fail / exit --------------------------------------------------------------------------
def test_caseops_errors_fail_with_their_message_and_details():
    def fail(module, client):
        raise InvalidInputError("limit must be positive", option="limit")
    result = run(fail, dict(name="x"))
    assert result["failed"] is True and result["msg"] == "limit must be positive" and result["option"] == "limit"


def test_a_bug_fails_with_a_plain_message_not_a_crash():
    def bug(module, client):
        return {}["missing"]
    result = run(bug, dict(name="x"))
    assert result["failed"] is True
    assert result["msg"].startswith("Unexpected error in caseops.desk (please report it): KeyError")


def test_exit_json_called_by_the_logic_ends_the_run():
    def early(module, client):
        module.exit_json(changed=False, early=True)
        raise AssertionError("not reached")
    assert run(early, dict(name="x"))["early"] is True


def test_module_exit_is_not_an_exception_the_logic_could_swallow():
    assert not issubclass(in_process.ModuleExit, Exception)


# -- validation errors: the same messages as AnsibleModule -------------------------------
@pytest.mark.parametrize("args, module_kwargs", [
    (dict(name="x", nope=1), {}),                                       # unsupported option
    (dict(), {}),                                                       # missing required
    (dict(name="x", mode="c"), {}),                                     # not a choice
    (dict(name="x", count="many"), {}),                                 # wrong type
    (dict(name="x", mode="b"), dict(required_if=[("mode", "b", ("api_key",))])),
    (dict(name="x", api_key=SECRET, count=2), dict(mutually_exclusive=[("api_key", "count")])),
])
def test_validation_errors_match_the_module_path(args, module_kwargs, capsys):
    in_process_result = run(echo, args, module_kwargs=module_kwargs)
    module_result = run_real_module(echo, args, capsys, **module_kwargs)
    assert in_process_result["failed"] is True
    assert in_process_result["msg"] == module_result["msg"]
    assert SECRET not in json.dumps(in_process_result)


def test_results_match_the_module_path(capsys):
    def answer(module, client):
        return dict(changed=True, name=module.params["name"], key=module.params["api_key"], count=module.params["count"])
    args = dict(name="x", api_key=SECRET, count="2")
    in_process_result = in_process.as_module_returns(run(answer, args))
    module_result = run_real_module(answer, args, capsys)
    for key in ("changed", "name", "key", "count"):
        assert in_process_result[key] == module_result[key]


# -- warnings and deprecations ------------------------------------------------------------
def test_warnings_are_returned_with_the_result():
    def warn(module, client):
        module.warn("first")
        module.warn("second")
        return dict(changed=False)
    assert run(warn, dict(name="x"))["warnings"] == ["first", "second"]


def test_warnings_are_masked_like_the_rest():
    def warn(module, client):
        module.warn("key %s" % module.params["api_key"])
        return dict(changed=False)
    assert run(warn, dict(name="x", api_key=SECRET))["warnings"] == ["key %s" % NO_LOG_MASK]


def test_warnings_survive_a_failure():
    def warn_then_fail(module, client):
        module.warn("careful")
        raise InvalidInputError("no")
    result = run(warn_then_fail, dict(name="x"))
    assert result["failed"] is True and result["warnings"] == ["careful"]


def test_deprecations_carry_the_collection():
    def old(module, client):
        # Without collection_name on purpose: the adapter must add it. pylint's check assumes ansible-core's versions.
        module.deprecate("option x is going", version="2.0.0")  # pylint: disable=ansible-deprecated-no-collection-name,ansible-deprecated-version
        return dict(changed=False)
    assert run(old, dict(name="x"))["deprecations"] == [
        dict(msg="option x is going", version="2.0.0", date=None, collection_name="caseops.desk")]


def test_an_option_given_with_its_alias_warns_as_ansiblemodule_does():
    result = run(echo, dict(name="x", title="y"))
    assert result["warnings"] == ["Both option name and its alias title are set."]


def test_no_warnings_key_without_warnings():
    assert "warnings" not in run(echo, dict(name="x")) and "deprecations" not in run(echo, dict(name="x"))


# -- what the module process would see -----------------------------------------------------
def test_module_view_is_plain_json_data():
    view = in_process.module_view(dict(a=("x", 1), b={"c": None}))
    assert view == dict(a=["x", 1], b={"c": None})


def test_task_environment_applies_and_restores(monkeypatch):
    monkeypatch.setenv("CASEOPS_UNIT_KEEP", "kept")
    monkeypatch.delenv("CASEOPS_UNIT_TASK", raising=False)
    with in_process.task_environment({"CASEOPS_UNIT_TASK": 5}):
        assert os.environ["CASEOPS_UNIT_TASK"] == "5" and os.environ["CASEOPS_UNIT_KEEP"] == "kept"
    assert "CASEOPS_UNIT_TASK" not in os.environ and os.environ["CASEOPS_UNIT_KEEP"] == "kept"


def test_environment_fallbacks_read_the_task_environment():
    spec = dict(name=dict(type="str", fallback=(lambda *names: os.environ[names[0]], ["CASEOPS_UNIT_NAME"])))
    with in_process.task_environment({"CASEOPS_UNIT_NAME": "from-env"}):
        assert run(echo, {}, spec=spec)["params"]["name"] == "from-env"


def test_file_common_arguments_are_accepted_when_the_module_takes_them():
    result = run(echo, dict(name="x", mode_="", owner="root"), module_kwargs=dict(add_file_common_args=True),
                 spec=dict(name=dict(type="str"), mode_=dict(type="str")))
    assert result["params"]["owner"] == "root"


# -- the choice of path -------------------------------------------------------------------
class FakeTask:
    def __init__(self, args=None, async_val=0):
        self.args = args or {}
        self.async_val = async_val


def action(cls, transport="local", become=False, task=None):
    instance = cls.__new__(cls)
    instance._connection = types.SimpleNamespace(transport=transport)
    instance._play_context = types.SimpleNamespace(become=become, remote_addr="localhost")
    instance._task = task or FakeTask()
    return instance


@pytest.fixture
def request_info_action():
    return in_process.action_for("request_info")


def test_local_tasks_run_in_process(request_info_action):
    assert action(request_info_action).why_not_in_process({}) is None
    assert action(request_info_action, transport="ansible.builtin.local").why_not_in_process({}) is None


def test_remote_tasks_run_as_modules(request_info_action):
    assert action(request_info_action, transport="ssh").why_not_in_process({}) == "the connection is not local"


def test_become_async_and_the_switch_send_tasks_down_the_module_path(request_info_action):
    assert "become" in action(request_info_action, become=True).why_not_in_process({})
    assert "async" in action(request_info_action, task=FakeTask(async_val=10)).why_not_in_process({})
    assert "caseops_in_process" in action(request_info_action).why_not_in_process({"caseops_in_process": "no"})
    assert action(request_info_action).why_not_in_process({"caseops_in_process": True}) is None


def test_without_requests_on_the_controller_tasks_run_as_modules(monkeypatch):
    from ansible_collections.caseops.desk.plugins.module_utils import transport
    monkeypatch.setattr(transport, "HAS_REQUESTS", False)
    cls = in_process.action_for("request_info")
    assert action(cls).why_not_in_process({}) == "the controller's Python lacks requests"


def test_a_module_that_cannot_be_imported_runs_as_a_module():
    cls = in_process.action_for("no_such_module")
    assert action(cls).why_not_in_process({}).startswith("the module cannot be imported on the controller")


def test_case_attachment_downloads_run_in_process(monkeypatch):
    from ansible_collections.caseops.desk.plugins.action.case_attachment import ActionModule
    assert action(ActionModule, task=FakeTask(dict(state="downloaded"))).why_not_in_process({}) is None
    assert action(ActionModule, task=FakeTask(dict(state="present"))).why_not_in_process({}) is None
    # An ansible-core without one of AnsibleModule's file methods: downloads go back to the module path.
    monkeypatch.setattr(in_process, "MISSING_FILE_METHODS", ("atomic_move",))
    assert action(ActionModule, task=FakeTask(dict(state="downloaded"))).why_not_in_process({}) \
        == "these options need the module path"
    assert action(ActionModule, task=FakeTask(dict(state="present"))).why_not_in_process({}) is None


def test_every_module_has_its_action_plugin():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.join(here, "..", "..", "..", "..", "plugins")
    modules = set(name for name in os.listdir(os.path.join(root, "modules")) if name.endswith(".py") and name != "__init__.py")
    actions = set(name for name in os.listdir(os.path.join(root, "action")) if name.endswith(".py"))
    assert modules <= actions
