# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Attributes shared by many modules: read-only behaviour and module_defaults group membership.

    A module extends the group fragment of the services it talks to;
    tests/unit/plugins/modules/test_groups.py checks the membership against meta/runtime.yml.
    """

    # check_mode and diff_mode of a module that only reads.
    INFO_MODULE = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: Read-only; there is nothing to diff.
"""

    FALCON_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/caseops.desk.falcon) or C(group/caseops.desk.all) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - caseops.desk.falcon
      - caseops.desk.all
"""

    CLOUDFORCE_ONE_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/caseops.desk.cloudforce_one) or C(group/caseops.desk.all) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - caseops.desk.cloudforce_one
      - caseops.desk.all
"""

    # The case modules that serve both Falcon and Unit21 (option provider).
    FALCON_AND_UNIT21_GROUPS = r"""
attributes:
  action_group:
    description: Use C(group/caseops.desk.falcon), C(group/caseops.desk.unit21) or C(group/caseops.desk.all) in
      C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - caseops.desk.falcon
      - caseops.desk.unit21
      - caseops.desk.all
"""
