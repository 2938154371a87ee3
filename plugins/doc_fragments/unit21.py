# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Unit21 connection options.
    DOCUMENTATION = r"""
options:
  unit21_api_key:
    description:
      - A Unit21 API key, sent in the C(u21-key) header. Keys are created in the Unit21 dashboard and belong to one environment.
      - If not set, the environment variable E(UNIT21_API_KEY) is used.
    type: str
  unit21_base_url:
    description:
      - The API host of your Unit21 environment, for example V(https://api.unit21.com) or V(https://sandbox1-api.unit21.com).
        C(/v1) is added when missing.
      - There is no default. Each key works in one environment only, so the environment is always chosen explicitly.
      - If not set, the environment variable E(UNIT21_BASE_URL) is used.
    type: str
"""
