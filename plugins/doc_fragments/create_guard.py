# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The create guard (plugins/module_utils/create_guard.py) of every module that creates objects.
    DOCUMENTATION = r"""
options:
  create_settle_seconds:
    description:
      - After a create whose outcome is unknown (a timeout, a dropped connection, HTTP 500, 502 or 504), how many seconds
        the module keeps looking for the object before it sends the create again. A service may apply a create after
        the client gave up; sending it again at once would make a second object.
      - The module looks at once, then after 1, 2, 4 and 8 seconds, then every 10 seconds, and once more at the end of
        the window. It sends the create again only when that last look-up succeeds and finds nothing; when the
        look-ups fail, it fails and says what to check.
      - The default, 60 seconds, outlasts the upstream timeouts of common API gateways (29 to 60 seconds). It costs
        nothing on a normal run, only after such a failure. V(0) looks once, at once.
      - If not set, the environment variable E(CASEOPS_CREATE_SETTLE_SECONDS) is used, then V(60).
      - In M(caseops.desk.case) and M(caseops.desk.case_attachment) it applies to Falcon only and is not used with
        C(provider=unit21), because Unit21 answers a second create of a C(case_id) with HTTP 409, and links of media
        are recorded in the case.
      - Not an option of every module, so set it per task or with the environment variable rather than under
        C(group/caseops.desk.all) in C(module_defaults).
    type: float
notes:
  - Parallel runs on one controller that ensure the same object (two playbooks, an event rule firing twice) make it
    once. The module holds an exclusive lock per object while it looks the object up and creates it. The lock files
    live in C(caseops-desk-<uid>) under E(CASEOPS_LOCK_DIR) when that is set, else in E(XDG_RUNTIME_DIR)C(/caseops-desk),
    else in C(caseops-desk-<uid>) under the temporary directory (directories 0700, files 0600). A run waits for another
    run's create of the same object at most twice (O(retry_max_time) + O(timeout)) plus O(create_settle_seconds) plus
    60 seconds, then fails with a message naming the lock.
  - The lock only covers runs that share the lock directory on one machine. Runs on several controller nodes are not
    serialised and can still race. In AWX/AAP every job runs in its own container with its own temporary directory,
    so two jobs are not serialised either, even on one execution node, unless they share a lock directory. To serialise
    them, expose a host directory to the jobs (the C(Paths to expose to isolated jobs) setting) and set
    E(CASEOPS_LOCK_DIR) to it in the jobs' environment; that covers the jobs of one execution node. For job templates
    that may create the same object, run them on an instance group with one execution node, or chain them in a
    workflow instead of launching them at the same time; with EDA, let one rulebook action handle an object.
  - When several objects already have the same identity (made by hand, by another tool, or by a create the service
    applied after the settle window), the module uses the oldest, warns with the IDs of the others, and leaves them
    alone, so later runs are not stuck.
"""
