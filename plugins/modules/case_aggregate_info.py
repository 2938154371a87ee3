#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: case_aggregate_info
short_description: Count and summarise CrowdStrike Falcon support cases with aggregations
version_added: 1.0.0
description:
  - Runs one or more aggregations over Falcon Message Center cases in a single request, for example the number of cases
    per status, cases opened per week, or per type and status.
  - Aggregations can be nested with O(aggregations[].sub_aggregates), at most 3 levels below a top-level aggregation.
  - Every option is checked before the request is sent.
author:
  - caseops.desk maintainers (@caseops)
options:
  provider:
    description:
      - The case system to read from.
    type: str
    choices: [falcon]
    default: falcon
  aggregations:
    description:
      - The aggregations to run. Each gives one entry of RV(results), in the same order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The name of this aggregation in the results. Defaults to the field name (chosen by the API).
          - Names of top-level aggregations must be unique, as they are the keys of RV(by_name).
        type: str
      type:
        description:
          - The kind of aggregation.
          - V(terms) makes one bucket per value of O(aggregations[].field).
          - V(date_histogram) makes one bucket per O(aggregations[].interval) of a timestamp field.
          - V(date_range) and V(range) make one bucket per range in O(aggregations[].date_ranges) or O(aggregations[].ranges).
          - V(cardinality) (the number of distinct values), V(min), V(max), V(avg), V(sum) and V(percentiles) compute one value.
        type: str
        required: true
        choices: [terms, date_histogram, date_range, range, cardinality, min, max, avg, sum, percentiles]
      field:
        description:
          - The case field to aggregate on, for example V(case.status), V(case.type) or V(case.created_time).
        type: str
        required: true
      filter:
        description:
          - An FQL filter that selects the cases this aggregation counts, for example V(case.status:'1').
            Same syntax and fields as O(caseops.desk.case_info#module:filter).
        type: str
      q:
        description:
          - Free text that the cases must contain.
        type: str
      interval:
        description:
          - The bucket width of a V(date_histogram).
        type: str
        choices: [year, month, week, day, hour, minute]
      time_zone:
        description:
          - The time zone that V(date_histogram) buckets start in, for example V(UTC), V(+02:00) or V(Europe/Berlin).
        type: str
      min_doc_count:
        description:
          - Leave out buckets with fewer cases than this.
        type: int
      missing:
        description:
          - The value to count for cases that do not have O(aggregations[].field).
        type: str
      size:
        description:
          - The most buckets a V(terms) aggregation returns.
        type: int
      sort:
        description:
          - The order of V(terms) buckets, written C(<key>|<direction>) where the key is C(_count) (number of cases) or
            C(_term) (the value), and the direction is C(asc) or C(desc), for example V(_count|desc) or V(_term|asc).
          - C(_key) means C(_term), and C(.) may be used instead of C(|).
        type: str
      percents:
        description:
          - The percentiles a V(percentiles) aggregation computes, numbers from 0 to 100.
        type: list
        elements: float
      date_ranges:
        description:
          - The ranges of a V(date_range) aggregation. A case is in a range when the field is at or after O(aggregations[].date_ranges[].from)
            and before O(aggregations[].date_ranges[].to).
        type: list
        elements: dict
        suboptions:
          from:
            description:
              - The start, an RFC 3339 timestamp (V(2026-01-01T00:00:00Z)) or a date math expression such as V(now-7d).
            type: str
            required: true
          to:
            description:
              - The end (excluded), in the same forms.
            type: str
            required: true
      ranges:
        description:
          - The numeric ranges of a V(range) aggregation. A value is in a range when it is at least
            O(aggregations[].ranges[].from) and below O(aggregations[].ranges[].to).
          - The API spells these keys C(From) and C(To); the module converts them.
        type: list
        elements: dict
        suboptions:
          from:
            description:
              - The lower bound.
            type: float
            required: true
          to:
            description:
              - The upper bound (excluded).
            type: float
            required: true
      sub_aggregates:
        description:
          - Aggregations to run inside each bucket of this one, with the same options as an entry of O(aggregations).
          - At most 3 levels of O(aggregations[].sub_aggregates) below a top-level aggregation; a deeper request is refused
            before it is sent.
        type: list
        elements: dict
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.falcon
  - caseops.desk.attributes.info_module
  - caseops.desk.attributes.falcon_group
notes:
  - Needs the Message Center Read scope on the Falcon API client.
  - The API does not document which aggregation types and fields it supports for cases; the types above are the ones
    Falcon's other aggregate APIs use.
seealso:
  - module: caseops.desk.case_info
"""

EXAMPLES = r"""
- name: Open cases per status and type
  caseops.desk.case_aggregate_info:
    aggregations:
      - name: per_status
        type: terms
        field: case.status
        sort: _term|asc
        sub_aggregates:
          - name: per_type
            type: terms
            field: case.type
  register: counts

- name: Show how many cases wait for our response
  ansible.builtin.debug:
    msg: "{{ counts.by_name.per_status.buckets | selectattr('label', 'equalto', '1') | map(attribute='count') | sum }}"

- name: Cases opened per week this quarter, and how many in the last 7 days
  caseops.desk.case_aggregate_info:
    aggregations:
      - name: weekly
        type: date_histogram
        field: case.created_time
        interval: week
        time_zone: Europe/Berlin
        filter: "case.created_time:>='2026-10-01'"
      - name: last_week
        type: date_range
        field: case.created_time
        date_ranges:
          - from: now-7d
            to: now
"""

RETURN = r"""
results:
  description: One aggregation result per entry of O(aggregations), in the same order.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The aggregation's name.
      type: str
    buckets:
      description:
        - The buckets, each with C(count) (the number of cases) and, depending on the type, C(label), C(key_as_string),
          C(from), C(to), C(string_from), C(string_to), C(value), C(value_as_string), and C(sub_aggregates) (a list of
          results like this one).
      type: list
      elements: dict
    sum_other_doc_count:
      description: For V(terms), the cases in buckets left out by O(aggregations[].size).
      type: int
      returned: when the API returns it
  sample:
    - name: per_status
      buckets:
        - label: "1"
          count: 2
          sub_aggregates:
            - name: per_type
              buckets:
                - label: fc:detection-support
                  count: 2
        - label: "2"
          count: 1
      sum_other_doc_count: 0
by_name:
  description: The same results keyed by their name.
  returned: success
  type: dict
  sample:
    per_status:
      name: per_status
      buckets:
        - label: "1"
          count: 2
      sum_other_doc_count: 0
"""

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.caseops.desk.plugins.module_utils import falcon, falcon_aggregates
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

AGGREGATION_OPTIONS = dict(
    name=dict(type="str"),
    type=dict(type="str", required=True, choices=list(falcon_aggregates.TYPES)),
    field=dict(type="str", required=True),
    filter=dict(type="str"),
    q=dict(type="str"),
    interval=dict(type="str", choices=list(falcon_aggregates.INTERVALS)),
    time_zone=dict(type="str"),
    min_doc_count=dict(type="int"),
    missing=dict(type="str"),
    size=dict(type="int"),
    sort=dict(type="str"),
    percents=dict(type="list", elements="float"),
    date_ranges=dict(type="list", elements="dict", options={
        "from": dict(type="str", required=True),
        "to": dict(type="str", required=True),
    }),
    ranges=dict(type="list", elements="dict", options={
        "from": dict(type="float", required=True),
        "to": dict(type="float", required=True),
    }),
    sub_aggregates=dict(type="list", elements="dict"),
)


def run(module, client):
    aggregations = module.params["aggregations"] or []
    if not aggregations:
        raise InvalidInputError("aggregations must hold at least one aggregation.")
    body = [falcon_aggregates.wire(spec, "aggregations[%d]" % index, checked) for index, spec in enumerate(aggregations)]
    names = [spec["name"] for spec in body if spec.get("name")]
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    if duplicates:
        raise InvalidInputError("Top-level aggregation names must be unique; used more than once: %s." % ", ".join(duplicates))
    results = client.aggregate_cases(body)
    by_name = dict((r.get("name"), r) for r in results if isinstance(r, dict) and r.get("name") is not None)
    return dict(changed=False, results=results, by_name=by_name)


def checked(spec, where):
    """A sub-aggregation checked against the same options as a top-level one (argument specs cannot recurse)."""
    if not isinstance(spec, dict):
        raise InvalidInputError("%s must be a dictionary of aggregation options." % where)
    result = ArgumentSpecValidator(AGGREGATION_OPTIONS).validate(spec)
    if result.error_messages:
        raise InvalidInputError("%s: %s" % (where, "; ".join(result.error_messages)))
    return result.validated_parameters


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("falcon")
    argument_spec.update(
        provider=dict(type="str", choices=["falcon"], default="falcon"),
        aggregations=dict(type="list", elements="dict", required=True, options=copy.deepcopy(AGGREGATION_OPTIONS)),
    )
    return dict(argument_spec=argument_spec, supports_check_mode=True)


build_client = falcon.client_from_params


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
