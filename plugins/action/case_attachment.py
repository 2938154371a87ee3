# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs caseops.desk.case_attachment in the worker process on the controller, as a module elsewhere (plugin_utils/in_process.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.caseops.desk.plugins.plugin_utils.in_process import action_for

# Downloads need AnsibleModule's file machinery (atomic_move, file attributes): they run as a module.
ActionModule = action_for("case_attachment", in_process_when=lambda args: args.get("state") != "downloaded")
