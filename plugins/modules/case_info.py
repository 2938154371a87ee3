#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: case_info
short_description: Get or search support cases in CrowdStrike Falcon Message Center
version_added: 0.1.0
description:
  - Returns full Falcon Message Center cases, either the ones named in O(ids) or those matching an FQL O(filter).
  - A search pages through every page of results until O(limit) cases are collected, then fetches the full cases in
    batches of up to 500 ids per request.
author:
  - caseops.desk maintainers (@caseops)
options:
  provider:
    description:
      - The case system to read from.
    type: str
    choices: [falcon]
    default: falcon
  ids:
    description:
      - Case IDs to fetch. IDs that do not exist are listed in RV(missing_ids); they are not an error.
      - Cannot be combined with O(filter) or O(sort).
    type: list
    elements: str
  filter:
    description:
      - An FQL filter, for example V(case.status:'1'+case.type:'fc:detection-support').
      - "Filterable fields: C(_all), C(activity.body), C(case.aids), C(case.assigner.display_name), C(case.assigner.first_name),
        C(case.assigner.last_name), C(case.assigner.uid), C(case.assigner.uuid), C(case.body), C(case.created_time),
        C(case.detections.id), C(case.hosts), C(case.id), C(case.incidents.id), C(case.ip_addresses), C(case.key),
        C(case.last_modified_time), C(case.status), C(case.title), C(case.type)."
      - "Case status codes: C(1) waiting for your response, C(2) waiting for review, C(3) closed (resolved), C(4) closed (unresolved)."
      - Without O(ids) or O(filter), every case is returned, up to O(limit).
    type: str
  sort:
    description:
      - The order of the results.
    type: str
    choices:
      - case.created_time.asc
      - case.created_time.desc
      - case.last_modified_time.asc
      - case.last_modified_time.desc
      - case.status.asc
      - case.status.desc
      - case.type.asc
      - case.type.desc
      - case.id.asc
      - case.id.desc
  limit:
    description:
      - The most cases to return from a search. RV(total) tells how many matched in all.
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
  - module: caseops.desk.falcon_auth
"""

EXAMPLES = r"""
- name: Cases waiting for our answer, newest first
  caseops.desk.case_info:
    filter: "case.status:'1'"
    sort: case.last_modified_time.desc
  register: waiting

- name: Two cases by id
  caseops.desk.case_info:
    ids:
      - "{{ case_a }}"
      - "{{ case_b }}"
  register: two

- name: Detection-support cases about one host, at most 50
  caseops.desk.case_info:
    filter: "case.type:'fc:detection-support'+case.hosts:'web-01'"
    limit: 50

- name: Against an EU tenant, credentials inline
  caseops.desk.case_info:
    falcon_cloud: eu-1
    falcon_client_id: "{{ vault_falcon_client_id }}"
    falcon_client_secret: "{{ vault_falcon_client_secret }}"
    filter: "case.title:*'phishing'*"
"""

RETURN = r"""
cases:
  description: The cases, as the Message Center API returns them.
  returned: success
  type: list
  elements: dict
  sample:
    - id: 6f3c2e9b8a1d4c7e9f0a1b2c3d4e5f60
      key: CS-1042
      title: Question about detection
      body: Please review this detection.
      type: fc:detection-support
      status: "2"
      created_time: "2026-11-26T07:15:00.000000Z"
      last_modified_time: "2026-11-26T07:15:00.000000Z"
      detections:
        - id: ldt:0123456789abcdef0123456789abcdef:123456
      incidents: []
      attachments: []
      hosts: []
      assigner:
        display_name: ""
        uuid: ""
total:
  description:
    - How many cases matched the search in all, which may be more than O(limit).
    - With O(ids), the number of cases found.
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
        ids = _unique(case_id for case_id in params["ids"] if case_id)
        if not ids:
            return dict(changed=False, cases=[], total=0, missing_ids=[])
        cases, missing = client.get_cases(ids)
        return dict(changed=False, cases=cases, total=len(cases), missing_ids=missing)
    ids, total = client.find_case_ids(params["filter"], params["sort"], params["limit"])
    cases, missing = client.get_cases(ids) if ids else ([], [])
    # A case can vanish between the search and the fetch; report it rather than hide it.
    return dict(changed=False, cases=cases, total=total, missing_ids=missing)


def _unique(values):
    seen = set()
    return [v for v in values if not (v in seen or seen.add(v))]


def main():
    argument_spec = connection_argument_spec("falcon")
    argument_spec.update(
        provider=dict(type="str", choices=["falcon"], default="falcon"),
        ids=dict(type="list", elements="str"),
        filter=dict(type="str"),
        sort=dict(type="str", choices=falcon.CASE_SORT_VALUES),
        limit=dict(type="int", default=500),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("ids", "filter"), ("ids", "sort")],
    )
    run_module(module, falcon.client_from_params, run)


if __name__ == "__main__":
    main()
