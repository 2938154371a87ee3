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

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.caseops.desk.plugins.module_utils.errors import CaseopsError, Redactor
from ansible_collections.caseops.desk.plugins.module_utils.transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


def require_requests(module):
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))


def run_module(module, build_client, logic):
    require_requests(module)
    client = None
    try:
        client = build_client(module.params)
        result = logic(module, client)
    except CaseopsError as err:
        module.fail_json(**err.to_fail_kwargs(_redactor(client)))
    except Exception as err:  # pylint: disable=broad-except
        # A bug of ours: say so plainly, keep the traceback for -vvv, never a secret.
        redact = _redactor(client)
        module.fail_json(msg=redact("Unexpected error in caseops.desk (please report it): %s: %s" % (type(err).__name__, err)),
                         exception=redact(traceback.format_exc()))
    module.exit_json(**result)


def _redactor(client):
    transport = getattr(client, "transport", None)
    return getattr(transport, "redact", None) or Redactor()
