#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: case_activity_info
short_description: List the activities of a CrowdStrike Falcon Message Center case
version_added: 1.0.0
description:
  - Returns the full activities (comments and status changes) of one Falcon Message Center case, either the ones named
    in O(ids) or those matching an FQL O(filter).
  - A search pages through every page of results until O(limit) activities are collected, then fetches the full
    activities in batches of up to 500 IDs per request.
author:
  - caseops.desk maintainers (@caseops)
options:
  provider:
    description:
      - The case system to read from.
    type: str
    choices: [falcon]
    default: falcon
  case_id:
    description:
      - The case whose activities to list. Required unless O(ids) is given.
    type: str
  ids:
    description:
      - Activity IDs to fetch. IDs that do not exist are listed in RV(missing_ids); they are not an error.
      - Cannot be combined with O(case_id), O(filter) or O(sort).
    type: list
    elements: str
  filter:
    description:
      - An FQL filter on the activities, for example V(activity.type:'comment') or
        V(activity.created_time:>'2026-11-01T00:00:00Z').
      - "Filterable fields: C(activity.created_time), C(activity.type)."
    type: str
  sort:
    description:
      - The order of the results.
    type: str
    choices:
      - activity.created_time.asc
      - activity.created_time.desc
      - activity.type.asc
      - activity.type.desc
  limit:
    description:
      - The most activities to return. RV(total) tells how many matched in all.
    type: int
    default: 500
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.falcon
  - caseops.desk.attributes.info_module
  - caseops.desk.attributes.falcon_group
notes:
  - Needs the Message Center Read scope on the Falcon API client.
seealso:
  - module: caseops.desk.case_activity
  - module: caseops.desk.case_info
"""

EXAMPLES = r"""
- name: The whole thread of a case, oldest first
  caseops.desk.case_activity_info:
    case_id: "{{ case_id }}"
    sort: activity.created_time.asc
  register: thread

- name: Print it
  ansible.builtin.debug:
    msg: "{{ thread.activities | map(attribute='body') | list }}"

- name: Comments since the start of November
  caseops.desk.case_activity_info:
    case_id: "{{ case_id }}"
    filter: "activity.type:'comment'+activity.created_time:>='2026-11-01T00:00:00Z'"
"""

RETURN = r"""
activities:
  description: The activities, as the Message Center API returns them.
  returned: success
  type: list
  elements: dict
  sample:
    - id: 3b1f0c2d4e5f60718293a4b5c6d7e8f9
      case_id: 6f3c2e9b8a1d4c7e9f0a1b2c3d4e5f60
      type: comment
      body: web-01 was isolated at 10:42 UTC.
      created_time: "2026-11-26T10:45:00.000000Z"
      created_by:
        display_name: Ana Analyst
        uuid: 01234567-89ab-cdef-0123-456789abcdef
total:
  description:
    - How many activities matched in all, which may be more than O(limit).
    - With O(ids), the number of activities found.
  returned: success
  type: int
  sample: 1
missing_ids:
  description: The requested O(ids) that do not exist.
  returned: success
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import falcon
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module


def run(module, client):
    params = module.params
    if params["limit"] < 1:
        raise InvalidInputError("limit must be 1 or more, got %d." % params["limit"])
    if params["ids"] is not None:
        ids = list(dict.fromkeys(i for i in params["ids"] if i))
        if not ids:
            return dict(changed=False, activities=[], total=0, missing_ids=[])
        activities, missing = client.get_activities(ids)
        return dict(changed=False, activities=activities, total=len(activities), missing_ids=missing)
    if not (params["case_id"] or "").strip():
        raise InvalidInputError("case_id is required (the case whose activities to list), unless ids are given.")
    ids, total = client.find_activity_ids(params["case_id"], params["filter"], params["sort"], params["limit"])
    activities, missing = client.get_activities(ids) if ids else ([], [])
    return dict(changed=False, activities=activities, total=total, missing_ids=missing)


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("falcon")
    argument_spec.update(
        provider=dict(type="str", choices=["falcon"], default="falcon"),
        case_id=dict(type="str"),
        ids=dict(type="list", elements="str"),
        filter=dict(type="str"),
        sort=dict(type="str", choices=falcon.ACTIVITY_SORT_VALUES),
        limit=dict(type="int", default=500),
    )
    return dict(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("ids", "case_id"), ("ids", "filter"), ("ids", "sort")],
        required_one_of=[("ids", "case_id")],
    )


build_client = falcon.client_from_params


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
