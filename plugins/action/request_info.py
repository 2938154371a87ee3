# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs caseops.desk.request_info in the worker process on the controller, as a module elsewhere (plugin_utils/in_process.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.caseops.desk.plugins.plugin_utils.in_process import action_for

ActionModule = action_for("request_info")
