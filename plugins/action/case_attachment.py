# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs caseops.desk.case_attachment in the worker process on the controller, as a module elsewhere (plugin_utils/in_process.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.caseops.desk.plugins.plugin_utils import in_process

# Downloads run in-process too, so they share the run's Falcon token: InProcessModule carries AnsibleModule's own file
# methods (atomic_move, load_file_common_arguments, set_fs_attributes_if_different, add_path_info), so the file, its
# mode, owner, SELinux context and attributes, and changed/diff come out as on the module path, whose process would
# run on the controller as the same user.  Only an ansible-core without one of those methods sends downloads back to
# the module path (docs/in_process.md).
ActionModule = in_process.action_for(
    "case_attachment", in_process_when=lambda args: args.get("state") != "downloaded" or not in_process.MISSING_FILE_METHODS)
