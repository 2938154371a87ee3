# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a caseops.desk module inside Ansible's worker process when it would run on the controller anyway.

A module task normally costs a Python start-up, an AnsiballZ payload and the
imports of ``ansible.module_utils.basic`` and ``requests``: far more than the
one HTTP request it sends.  Every module of the collection has an action plugin
(``plugins/action/<module>.py``) made by :func:`action_for`.  When the task runs
on the controller (local connection, no become, no async), the action validates
the arguments with ansible-core's own :class:`ArgumentSpecValidator` against the
module's spec (``module_kwargs()``) and calls the module's ``run(module, client)``
through :class:`InProcessModule`, which behaves like the parts of AnsibleModule
the modules use.  Anywhere else the module runs as a module, exactly as before.
The action plugin file imports the module, so the imports happen once in the
main process (the strategy loads the action class there) and every forked worker
inherits them.  docs/in_process.md explains both paths for users.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import json
import os
import sys
import traceback

from ansible import constants as C
from ansible.module_utils.basic import FILE_COMMON_ARGUMENTS, AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.plugins.action.normal import ActionModule as ModuleAction
from ansible.utils.display import Display
from ansible_collections.caseops.desk.plugins.plugin_utils.token_cache import run_token_cache

try:  # ansible-core >= 2.19: the serialization modules go through, its traceback settings, its result type
    from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder
    from ansible.module_utils._internal import _traceback
    from ansible._internal._task import UnifiedTaskResult
    MODERN_CORE = True
except ImportError:  # ansible-core 2.16 - 2.18: see _legacy_json()
    MODERN_CORE = False

display = Display()

COLLECTION = "caseops.desk"
MODULES_PACKAGE = "ansible_collections.caseops.desk.plugins.modules"
# Inventory or play variable that sends every task of the collection down the module path.
SWITCH_VARIABLE = "caseops_in_process"
# Inventory or play variable that makes every in-process Falcon task fetch its own token (the module path always does).
TOKEN_CACHE_VARIABLE = "caseops_token_cache"
LOCAL_TRANSPORTS = ("local", "ansible.builtin.local", "ansible.legacy.local")

# AnsibleModule's file machinery, reused as ansible-core ships it (2.16 - 2.21): what case_attachment's download
# calls (sha256, atomic_move, load_file_common_arguments, set_fs_attributes_if_different, add_path_info for the result)
# and what those call in turn.  They use only the attributes InProcessModule sets below, the process's umask, user and
# SELinux context (the module process on the local connection has the same ones: same user, no become) and run_command
# for lsattr/chattr (a child process; the parent's environment, signals and umask are left alone).
FILE_METHODS = (
    "load_file_common_arguments", "selinux_mls_enabled", "selinux_enabled", "selinux_initial_context",
    "selinux_default_context", "selinux_context", "user_and_group", "find_mount_point", "is_special_selinux_path",
    "set_default_selinux_context", "set_context_if_different", "set_owner_if_different", "set_group_if_different",
    "set_mode_if_different", "set_attributes_if_different", "get_file_attributes", "_symbolic_mode_to_octal",
    "_apply_operation_to_mode", "_get_octal_mode_from_symbolic_perms", "set_fs_attributes_if_different",
    "set_file_attributes_if_different", "check_file_absent_if_check_mode", "add_path_info", "digest_from_file",
    "sha1", "sha256", "cleanup", "atomic_move", "_unsafe_writes", "get_bin_path", "run_command", "_clean_args",
)
# Called by some cores' versions of the methods above only (2.16's run_command restores signal handlers in the child).
OPTIONAL_FILE_METHODS = ("_restore_signal_handlers",)


class ModuleExit(BaseException):
    """exit_json/fail_json ended the module; carries its result.

    A BaseException, like the SystemExit AnsibleModule raises, so the modules'
    ``except Exception`` handlers never swallow it.
    """

    def __init__(self, result):
        super(ModuleExit, self).__init__("module exited")
        self.result = result


class InProcessModule:
    """What the collection's modules use of AnsibleModule, for a run inside the worker process.

    Results are shaped as AnsibleModule shapes them (``_return_formatted``):
    warnings and deprecations collected, the invocation added where the module
    would add it, and every value of a ``no_log`` option masked everywhere in
    the result, booleans and None left alone.  For case_attachment's downloads it
    also carries AnsibleModule's own file methods (FILE_METHODS, lent below).
    """

    def __init__(self, name, params, no_log_values=(), check_mode=False, diff=False, verbosity=0, no_log=False,
                 debug=False, inject_invocation=not MODERN_CORE):
        self._name = name
        self.params = params
        self.no_log_values = set(no_log_values)
        self.check_mode = check_mode
        self._diff = diff
        self._verbosity = verbosity
        self._debug = debug
        self.no_log = no_log
        self._inject_invocation = inject_invocation
        self.warnings = []
        self.deprecations = []
        # What AnsibleModule's file methods (FILE_METHODS) read, set as AnsibleModule.__init__ sets them.
        self._selinux_enabled = None
        self._selinux_mls_enabled = None
        self._selinux_initial_context = None
        self._selinux_special_fs = list(C.DEFAULT_SELINUX_SPECIAL_FS)  # what the action sends as _ansible_selinux_special_fs
        self._shell = None
        self._clean = None
        self.run_command_environ_update = {}
        self.cleanup_files = []

    def log(self, msg, log_args=None):
        """AnsibleModule logs a failed command to the target's syslog; in-process the controller reports the task."""

    def warn(self, warning):
        if not (MODERN_CORE and warning in self.warnings):  # 2.19+ keeps each warning once, older cores every one
            self.warnings.append(warning)

    def deprecate(self, msg, version=None, date=None, collection_name=None):
        self.deprecations.append(dict(msg=msg, version=version, date=date, collection_name=collection_name or COLLECTION))

    def exit_json(self, **kwargs):
        raise ModuleExit(self._formatted(kwargs))

    def fail_json(self, msg, **kwargs):
        kwargs.update(failed=True, msg=str(msg))
        if MODERN_CORE:
            # 2.19+ modules return a traceback only when the controller asked for tracebacks.
            if not _traceback.is_traceback_enabled(_traceback.TracebackEvent.ERROR):
                kwargs.pop("exception", None)
            elif not isinstance(kwargs.get("exception"), str):
                kwargs["exception"] = traceback.format_exc() if sys.exc_info()[1] else "".join(traceback.format_stack())
        elif "exception" not in kwargs and sys.exc_info()[2] and (self._debug or self._verbosity >= 3):
            kwargs["exception"] = "".join(traceback.format_tb(sys.exc_info()[2]))
        raise ModuleExit(self._formatted(kwargs))

    def _formatted(self, kwargs):
        if not MISSING_FILE_METHODS:
            self.add_path_info(kwargs)  # mode, owner, size ... of the file at 'path' or 'dest', as AnsibleModule adds them
        if self._inject_invocation:
            kwargs.setdefault("invocation", {"module_args": self.params})
        else:
            kwargs.pop("invocation", None)
        if self.warnings:
            kwargs["warnings"] = list(self.warnings)
        if self.deprecations:
            kwargs["deprecations"] = [dict(d) for d in self.deprecations]
        preserved = dict((k, v) for k, v in kwargs.items() if v is None or isinstance(v, bool))
        kwargs = remove_values(kwargs, self.no_log_values)
        kwargs.update(preserved)
        return kwargs


def _borrow_file_methods():
    """Give InProcessModule AnsibleModule's own file methods; the names this ansible-core lacks (none for 2.16 - 2.21)."""
    missing = []
    for name in FILE_METHODS + OPTIONAL_FILE_METHODS:
        method = vars(AnsibleModule).get(name)
        if method is None:
            if name in FILE_METHODS:
                missing.append(name)
            continue
        setattr(InProcessModule, name, method)
    return tuple(missing)


MISSING_FILE_METHODS = _borrow_file_methods()


def module_view(args):
    """The task arguments as the module process would decode them (plain types, no templating tags)."""
    if MODERN_CORE:
        text = json.dumps(args, cls=get_module_encoder("legacy", Direction.CONTROLLER_TO_MODULE))
        return json.loads(text, cls=get_module_decoder("legacy", Direction.CONTROLLER_TO_MODULE))
    return _legacy_json(args)


def as_module_returns(result):
    """The module's result as ``_execute_module`` hands it to the task executor: through JSON, internal keys checked."""
    if MODERN_CORE:
        text = json.dumps(result, cls=get_module_encoder("legacy", Direction.MODULE_TO_CONTROLLER))
        task_result = UnifiedTaskResult.from_module_result_dict(
            json.loads(text, cls=get_module_decoder("legacy", Direction.MODULE_TO_CONTROLLER)))
        task_result.ansible_parsed = True
        task_result.remove_internal_keys()
        return task_result.as_result_dict(for_round_trip=True)
    from ansible.vars.clean import remove_internal_keys  # pylint: disable=import-outside-toplevel
    data = _legacy_json(result)
    data["_ansible_parsed"] = True
    remove_internal_keys(data)
    return data


def _legacy_json(value):
    """A JSON round trip as ansible-core < 2.19 makes it between controller and module (vault to text, sets to lists)."""
    from ansible.module_utils.common.json import AnsibleJSONEncoder  # pylint: disable=import-outside-toplevel

    class Encoder(AnsibleJSONEncoder):
        def default(self, o):  # pylint: disable=method-hidden
            if isinstance(o, (set, frozenset)):
                return list(o)
            return super(Encoder, self).default(o)

    return json.loads(json.dumps(value, cls=Encoder, vault_to_text=True))


def _warm_up():
    """Load the serialization profiles and result types once, in the main process, not in every forked worker."""
    try:
        as_module_returns(dict(changed=False, warnings=[]))
        module_view(dict(warm=True))
    except Exception:  # pylint: disable=broad-except
        pass  # a cache, nothing more


def run_module_in_process(module_code, name, args, **module_options):
    """Validate ``args`` against the module's spec and run its logic; the module's result dict."""
    kwargs = module_code.module_kwargs()
    spec = dict(kwargs["argument_spec"])
    if kwargs.get("add_file_common_args"):
        for option, definition in FILE_COMMON_ARGUMENTS.items():
            spec.setdefault(option, definition)
    validator = ArgumentSpecValidator(spec, kwargs.get("mutually_exclusive"), kwargs.get("required_together"),
                                      kwargs.get("required_one_of"), kwargs.get("required_if"), kwargs.get("required_by"))
    validation = validator.validate(args)
    module = InProcessModule(name, validation.validated_parameters, validation._no_log_values, **module_options)
    try:
        # What ModuleArgumentSpecValidator reports, into this module's result as AnsibleModule returns it.
        for deprecation in validation._deprecations:
            module.deprecate(deprecation["msg"], version=deprecation.get("version"), date=deprecation.get("date"),
                             collection_name=deprecation.get("collection_name"))
        for warning in validation._warnings:
            module.warn("Both option {option} and its alias {alias} are set.".format(**warning))
        try:
            error = validation.errors[0]
        except IndexError:
            error = None
        if error:  # failed even in check mode, as AnsibleModule does
            msg = validation.errors.msg
            if isinstance(error, UnsupportedError):
                msg = "Unsupported parameters for ({name}) module: {msg}".format(name=name, msg=msg)
            module.fail_json(msg=msg)
        module_code.run_module(module, module_code.build_client, module_code.run)
    except ModuleExit as done:
        return done.result
    # run_module always ends in exit_json or fail_json.
    raise RuntimeError("caseops.desk %s ended without a result" % name)


@contextlib.contextmanager
def task_environment(values):
    """os.environ with the task's ``environment:`` applied, as the module process would see it."""
    saved = dict(os.environ)
    os.environ.update(dict((str(k), str(v)) for k, v in values.items()))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _load(module_name):
    """The module's code, or None with the reason it cannot run in-process."""
    try:
        code = importlib.import_module("%s.%s" % (MODULES_PACKAGE, module_name))
    except Exception as err:  # pylint: disable=broad-except
        return None, "the module cannot be imported on the controller (%s)" % err
    transport = importlib.import_module("ansible_collections.caseops.desk.plugins.module_utils.transport")
    if not transport.HAS_REQUESTS:
        return None, "the controller's Python lacks requests"
    return code, None


def _inject_invocation(task_vars):
    """Whether the module would add ``invocation`` to its result (a setting of ansible-core 2.19+)."""
    try:
        return bool(C.config.get_config_value("INJECT_INVOCATION", variables=task_vars))
    except Exception:  # pylint: disable=broad-except
        return True


_warm_up()


def action_for(module_name, in_process_when=None):
    """The ActionModule class of one module: in-process on the controller, the module path elsewhere.

    ``in_process_when(args)`` may keep some uses on the module path (the
    AnsibleModule file machinery that case_attachment's downloads need).
    """
    module_code, unavailable = _load(module_name)

    class ActionModule(ModuleAction):
        def why_not_in_process(self, task_vars):
            """None when this task may run in-process, else why not (shown at -vvv)."""
            if unavailable:
                return unavailable
            if not boolean((task_vars or {}).get(SWITCH_VARIABLE, True), strict=False):
                return "%s is false" % SWITCH_VARIABLE
            if getattr(self._connection, "transport", None) not in LOCAL_TRANSPORTS:
                return "the connection is not local"
            if self._play_context.become:
                return "become is set (the module must run as another user)"
            if self._task.async_val:
                return "the task is async"
            if in_process_when is not None and not in_process_when(self._task.args):
                return "these options need the module path"
            return None

        def run(self, tmp=None, task_vars=None):
            reason = self.why_not_in_process(task_vars)
            if reason:
                display.vvv("%s.%s runs as a module: %s" % (COLLECTION, module_name, reason), host=self._play_context.remote_addr)
                return super(ActionModule, self).run(tmp, task_vars)
            display.vvv("%s.%s runs in the worker process" % (COLLECTION, module_name), host=self._play_context.remote_addr)
            result = ActionBase.run(self, tmp, task_vars)  # async and check-mode support checks
            environment = {}
            self._compute_environment_string(environment)
            options = dict(
                check_mode=bool(self._task.check_mode),
                diff=bool(self._task.diff),
                verbosity=display.verbosity,
                debug=bool(C.DEFAULT_DEBUG),
                no_log=bool(self._task.no_log or C.config.get_config_value("DEFAULT_NO_TARGET_SYSLOG", variables=task_vars)),
            )
            if MODERN_CORE:
                options["inject_invocation"] = _inject_invocation(task_vars)
            share_tokens = boolean((task_vars or {}).get(TOKEN_CACHE_VARIABLE, True), strict=False)
            with task_environment(environment), run_token_cache(enabled=share_tokens):
                returned = run_module_in_process(module_code, self._task.action, module_view(self._task.args), **options)
            result.update(as_module_returns(returned))
            return result

    ActionModule.__name__ = "ActionModule"
    ActionModule.module_name = module_name
    return ActionModule
