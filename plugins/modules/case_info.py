#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: case_info
short_description: Get or search cases in CrowdStrike Falcon Message Center or Unit21
version_added: 1.0.0
description:
  - With O(provider=falcon) (the default), returns full Falcon Message Center cases, either the ones named in O(ids) or
    those matching an FQL O(filter). A search pages through every page of results until O(limit) cases are collected,
    then fetches the full cases in batches of up to 500 ids per request.
  - With O(provider=unit21), returns Unit21 cases, either the ones whose unit21_id is in O(ids) or those matching the
    list filters (O(statuses), O(tag_filters), O(created_after) and the others). A listing pages through C(/cases/list)
    50 cases per request until O(limit) cases are collected.
  - "A Unit21 case read by id: C(GET /cases/{unit21_id}) returns the documented C(getCaseResponse), which lacks C(tags)
    and C(custom_data); the module adds them from the case's C(/cases/list) item, found by the case's creation second,
    source and status (the list has no filter by id). That is two requests per case (one when the GET returns them).
    C(start_date), C(end_date), C(queue_id) and the linked C(entities), C(events) and C(alerts) are returned by no
    Unit21 endpoint, so they are only in a case when Unit21 returns them."
author:
  - caseops.desk maintainers (@caseops)
options:
  provider:
    description:
      - The case system to read from.
      - Each option below says which provider it applies to; an option of the other provider is refused.
    type: str
    choices: [falcon, unit21]
    default: falcon
  ids:
    description:
      - Case IDs to fetch. IDs that do not exist are listed in RV(missing_ids); they are not an error.
      - Falcon - case IDs. Cannot be combined with O(filter) or O(sort).
      - Unit21 - the numeric unit21_ids (not your own case_id, which Unit21 cannot look up), as integers or strings of
        digits. Cannot be combined with the list filters.
    type: list
    elements: str
  filter:
    description:
      - Falcon only. An FQL filter, for example V(case.status:'1'+case.type:'fc:detection-support').
      - "Filterable fields: C(_all), C(activity.body), C(case.aids), C(case.assigner.display_name), C(case.assigner.first_name),
        C(case.assigner.last_name), C(case.assigner.uid), C(case.assigner.uuid), C(case.body), C(case.created_time),
        C(case.detections.id), C(case.hosts), C(case.id), C(case.incidents.id), C(case.ip_addresses), C(case.key),
        C(case.last_modified_time), C(case.status), C(case.title), C(case.type)."
      - "Case status codes: C(1) waiting for your response, C(2) waiting for review, C(3) closed (resolved), C(4) closed (unresolved)."
      - Without O(ids) or O(filter), every case is returned, up to O(limit).
    type: str
  sort:
    description:
      - Falcon only. The order of the results.
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
      - Unit21 lists at most 50 cases per request, so O(limit=120) takes three requests.
    type: int
    default: 500
  statuses:
    description:
      - Unit21 only. Cases with one of these statuses, V(OPEN) or V(CLOSED) (any letter case).
    type: list
    elements: str
  dispositions:
    description:
      - Unit21 only. Cases with one of these dispositions, for example V(TRUE_POSITIVE).
    type: list
    elements: str
  sources:
    description:
      - Unit21 only. V(EXTERNAL) for cases created through the API, V(INTERNAL) for cases made inside Unit21.
    type: list
    elements: str
  dispositioned_by:
    description:
      - Unit21 only. Cases dispositioned by one of these agents (e-mail addresses).
    type: list
    elements: str
  created_after:
    description:
      - Unit21 only. Cases created on or after this moment, as epoch seconds or an ISO 8601 date or date-time (no zone
        means UTC).
    type: raw
  created_before:
    description:
      - Unit21 only. Cases created before this moment (epoch seconds or ISO 8601).
    type: raw
  dispositioned_after:
    description:
      - Unit21 only. Cases dispositioned on or after this moment (epoch seconds or ISO 8601).
    type: raw
  dispositioned_before:
    description:
      - Unit21 only. Cases dispositioned before this moment (epoch seconds or ISO 8601).
    type: raw
  associated_entities:
    description:
      - Unit21 only. Cases linked to one of these entities (your entity_ids).
    type: list
    elements: str
  associated_events:
    description:
      - Unit21 only. Cases linked to one of these events (your event_ids).
    type: list
    elements: str
  associated_alerts:
    description:
      - Unit21 only. Cases linked to one of these alerts (their unit21_ids).
    type: list
    elements: int
  rules:
    description:
      - Unit21 only. Cases raised by one of these rules (their unit21_ids).
    type: list
    elements: int
  tag_filters:
    description:
      - Unit21 only. Cases with one of these tags; V(key:value) matches that tag, a bare V(key) any tag with that key.
    type: list
    elements: str
  include_associations:
    description:
      - Unit21 only. Also return each listed case's linked entities, events, alerts, rules and SAR filings.
    type: bool
  include_actions:
    description:
      - Unit21 only. Also return each listed case's actions (status and disposition changes and the like).
    type: bool
  include_checklist:
    description:
      - Unit21 only. Also return each listed case's checklist.
    type: bool
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.falcon
  - caseops.desk.unit21
  - caseops.desk.attributes.falcon_and_unit21_groups
  - caseops.desk.attributes.info_module
notes:
  - Falcon needs the Message Center Read scope on the Falcon API client.
  - Unit21 needs an API key with read access to cases. Within one filter any value may match; all given filters must.
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
    filter: "case.title:*'*phishing*'"

- name: Open Unit21 cases tagged by our automation since November, with their actions
  caseops.desk.case_info:
    provider: unit21
    unit21_api_key: "{{ vault_unit21_api_key }}"
    unit21_base_url: https://api.unit21.com
    statuses: [OPEN]
    tag_filters: ["source:caseops"]
    created_after: "2026-11-01"
    include_actions: true
    limit: 200
  register: u21_open

- name: Two Unit21 cases by unit21_id (module_defaults group/caseops.desk.unit21 carries the key)
  caseops.desk.case_info:
    provider: unit21
    ids: ["100042", "100043"]
"""

RETURN = r"""
cases:
  description:
    - The cases, as the Message Center API or Unit21 returns them.
    - A Unit21 case from a listing holds the fields of Unit21's C(caseList) (C(unit21_id) as an integer, C(case_id),
      C(title), C(status), C(disposition), C(tags), C(custom_data), ...); the include options add C(rules),
      C(descendant_sar_filing), C(actions) and C(checklist). A case read by id holds the fields of C(getCaseResponse)
      (with C(actions), C(checklist) and C(rules)) plus C(tags), C(custom_data) and C(assigned_to) from its list item.
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
total_count:
  description: Unit21 only. The C(total_count) Unit21 gives for the listing (the same as RV(total)).
  returned: success and provider is unit21
  type: int
  sample: 120
missing_ids:
  description: The requested O(ids) that do not exist.
  returned: success
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import falcon, providers, unit21_cases
from ansible_collections.caseops.desk.plugins.module_utils.args import check_provider_options, connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

UNIT21_ONLY = tuple(unit21_cases.LIST_FILTERS) + unit21_cases.INCLUDE_OPTIONS
OPTION_OWNERS = dict([("filter", ("falcon",)), ("sort", ("falcon",))] + [(name, ("unit21",)) for name in UNIT21_ONLY])


def run(module, client):
    provider = module.params.get("provider") or "falcon"
    check_provider_options(module.params, provider, OPTION_OWNERS)
    if provider == "unit21":
        return unit21_cases.run_case_info(module, client)
    return run_falcon(module, client)


def run_falcon(module, client):
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


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("falcon", "unit21")
    argument_spec.update(
        provider=dict(type="str", choices=["falcon", "unit21"], default="falcon"),
        ids=dict(type="list", elements="str"),
        filter=dict(type="str"),
        sort=dict(type="str", choices=falcon.CASE_SORT_VALUES),
        limit=dict(type="int", default=500),
        statuses=dict(type="list", elements="str"),
        dispositions=dict(type="list", elements="str"),
        sources=dict(type="list", elements="str"),
        dispositioned_by=dict(type="list", elements="str"),
        created_after=dict(type="raw"),
        created_before=dict(type="raw"),
        dispositioned_after=dict(type="raw"),
        dispositioned_before=dict(type="raw"),
        associated_entities=dict(type="list", elements="str"),
        associated_events=dict(type="list", elements="str"),
        associated_alerts=dict(type="list", elements="int"),
        rules=dict(type="list", elements="int"),
        tag_filters=dict(type="list", elements="str"),
        include_associations=dict(type="bool"),
        include_actions=dict(type="bool"),
        include_checklist=dict(type="bool"),
    )
    return dict(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("ids", "filter"), ("ids", "sort")],
    )


build_client = providers.client_from_params


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
