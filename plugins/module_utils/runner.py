# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module's main() does after building its AnsibleModule.

Modules stay thin: they declare options, then hand a client factory and a
plain logic function ``run(module, client) -> result dict`` to
:func:`run_module`.  The logic never sees HTTP, so unit tests give it a mock
client; this function maps every failure to ``fail_json`` with a clear message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.caseops.desk.plugins.module_utils.args import nul_message, nul_option, refuse_nul, secret_variants
from ansible_collections.caseops.desk.plugins.module_utils.errors import CaseopsError, Redactor
from ansible_collections.caseops.desk.plugins.module_utils.transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


def _refuse_nul_before_logging(log_invocation):
    """AnsibleModule._log_invocation, preceded by a check that names the option holding a NUL byte.

    AnsibleModule logs its arguments to syslog (or the journal) while it is
    being built, before the module's own code runs.  From Python 3.12 syslog
    refuses a NUL byte: ansible-core 2.17+ then fails with "Failed to log to
    syslog (embedded null character)", naming no option, and 2.16 dies with a
    traceback.  No public hook runs between argument validation and that log
    call, and every module imports this file before it builds its
    AnsibleModule, so the check is wrapped around the log call here.
    """
    def guarded(self):
        option = nul_option(self.params)
        if option:
            self.fail_json(msg=nul_message(option))
        return log_invocation(self)
    guarded.caseops_refuses_nul = True
    guarded.unguarded = log_invocation
    return guarded


# getattr: tools that stand in for AnsibleModule (ansible-test's import sanity test) have no _log_invocation.
_LOG_INVOCATION = getattr(AnsibleModule, "_log_invocation", None)
if _LOG_INVOCATION is not None and not getattr(_LOG_INVOCATION, "caseops_refuses_nul", False):
    AnsibleModule._log_invocation = _refuse_nul_before_logging(_LOG_INVOCATION)


def require_requests(module):
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))


def run_module(module, build_client, logic):
    require_requests(module)
    client = None
    # Ansible masks no_log values as given; the stripped values the requests use are masked too.
    module.no_log_values.update(secret_variants(module.params))
    try:
        # With no_log the NUL check of _refuse_nul_before_logging did not run.
        refuse_nul(module.params)
        client = build_client(module.params)
        result = logic(module, client)
    except CaseopsError as err:
        module.fail_json(**err.to_fail_kwargs(_redactor(module, client)))
    except Exception as err:  # pylint: disable=broad-except
        # A bug of ours: say so plainly, keep the traceback for -vvv, never a secret.
        redact = _redactor(module, client)
        module.fail_json(msg=redact("Unexpected error in caseops.desk (please report it): %s: %s" % (type(err).__name__, err)),
                         exception=redact(traceback.format_exc()))
    module.exit_json(**result)


def _redactor(module, client):
    """The client's redactor (it knows the tokens obtained at run time), plus every no_log value of the task."""
    redact = getattr(client, "redact", None) or Redactor()
    for value in module.no_log_values:
        redact.add(value)
    return redact
