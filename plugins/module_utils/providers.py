# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The case modules serve two case systems, chosen by their ``provider`` option."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.caseops.desk.plugins.module_utils import falcon, unit21


def client_from_params(params):
    """The client of the case system named by ``provider`` (Falcon when unset)."""
    if params.get("provider") == "unit21":
        return unit21.client_from_params(params)
    return falcon.client_from_params(params)
