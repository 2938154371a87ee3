#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: request_info
short_description: Get or list Cloudflare Cloudforce One intelligence requests, the quota, types and constants
version_added: 1.0.0
description:
  - Returns Cloudforce One requests for information (RFIs) of the account, either the one named by O(request_id) or every
    request matching the list filters, reading every page (see O(page_size) for where a listing ends).
  - On request, also returns the account's request quota, the request types it offers and the API's constants.
  - Requests are normalised as M(caseops.desk.request) returns them, with the type under C(request_type).
author:
  - caseops.desk maintainers (@caseops)
options:
  gather:
    description:
      - What to return. V(requests) returns RV(requests) (the one request named by O(request_id), or the list).
        V(quota), V(types) and V(constants) return the account's request quota (RV(quota)), the request types it offers
        (RV(types)) and the API's lists of priorities, statuses and TLP labels (RV(constants)).
      - Leave out V(requests) to read only the quota, types or constants, which a token with only the Cloudforce One
        Read permission may do.
    type: list
    elements: str
    choices: [requests, quota, types, constants]
    default: [requests]
  request_id:
    description:
      - The ID (a UUID) of one request to get. The module fails when it does not exist.
      - Cannot be combined with the list filters.
    type: str
  status:
    description:
      - Only requests with this status.
    type: str
    choices: [open, accepted, reported, approved, completed, declined]
  request_type:
    description:
      - Only requests of this type, for example V(Victomology).
    type: str
  created_after:
    description:
      - Only requests created after this moment. The API does not document whether a request created at exactly this
        moment is included.
      - An RFC 3339 date-time such as V(2026-01-31T14:00:00Z), a date-time with an offset or without a zone (taken as
        UTC), a space instead of C(T), a bare date such as V(2026-01-31) (midnight UTC), or epoch seconds.
    type: str
  created_before:
    description:
      - Only requests created before this moment. Same formats as O(created_after).
    type: str
  completed_after:
    description:
      - Only requests completed after this moment; requests not completed yet never match. Same formats as
        O(created_after).
    type: str
  completed_before:
    description:
      - Only requests completed before this moment. Same formats as O(created_after).
    type: str
  sort_by:
    description:
      - Sort by creation time or last change.
    type: str
    choices: [created, updated]
    default: created
  sort_order:
    description:
      - Oldest first (V(asc)) or newest first (V(desc)).
    type: str
    choices: [asc, desc]
    default: asc
  page_size:
    description:
      - Requests per list request, 1 to 1000. The API documents no maximum; a service that refuses a large page says
        so with an error, and one that silently serves fewer items per page is paged through all the same.
      - The listing ends on an empty page, or on a page shorter than an earlier one; a first page shorter than asked
        does not end it, because the service may have lowered O(page_size) without saying so.
    type: int
    default: 50
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.cloudforce_one
  - caseops.desk.attributes.info_module
  - caseops.desk.attributes.cloudforce_one_group
notes:
  - Listing requests needs the Cloudforce One Write permission even though it only reads, because the API lists with a
    POST that requires Write. Getting one request by O(request_id), the quota, the types and the constants also work
    with Cloudforce One Read.
seealso:
  - module: caseops.desk.request
  - module: caseops.desk.request_message_info
"""

EXAMPLES = r"""
- name: Open requests, newest first
  caseops.desk.request_info:
    status: open
    sort_order: desc
  register: open_rfis

- name: Requests completed in November 2026
  caseops.desk.request_info:
    completed_after: "2026-11-01"
    completed_before: "2026-12-01"

- name: One request by id
  caseops.desk.request_info:
    request_id: f174e90a-fafe-4643-bbbc-4a0ed4fc8415
  register: one

- name: How many requests are left this quarter, and which types can be asked for (works with a read-only token)
  caseops.desk.request_info:
    gather: [quota, types]
  register: account

- name: Stop before the quota runs out
  ansible.builtin.assert:
    that: account.quota.remaining > 0
"""

RETURN = r"""
requests:
  description:
    - The requests, in the order asked for; with O(request_id), a list holding that one request.
    - Listed requests have no C(content) (the API's list leaves it out); a request fetched by O(request_id) has it.
  returned: when O(gather) contains V(requests)
  type: list
  elements: dict
  contains:
    id:
      description: The request ID (a UUID).
      type: str
      sample: f174e90a-fafe-4643-bbbc-4a0ed4fc8415
    readable_id:
      description: The number shown in the dashboard.
      type: str
      sample: RFI-2026-000042
    summary:
      description: The short title.
      type: str
      sample: DoS attack on the shop, 2026-11-20
    content:
      description: The question; V(null) for listed requests.
      type: str
      sample: Which other targets in our sector did this botnet hit last week?
    request_type:
      description: The type of request (the API's C(request) field).
      type: str
      sample: Victomology
    priority:
      description: V(routine), V(high) or V(urgent).
      type: str
      sample: high
    tlp:
      description: The Traffic Light Protocol label.
      type: str
      sample: amber
    status:
      description: C(open), C(accepted), C(reported), C(approved), C(completed) or C(declined).
      type: str
      sample: open
    created:
      description: When it was created (RFC 3339).
      type: str
      sample: "2026-11-26T09:30:00.000000Z"
    updated:
      description: When it last changed (RFC 3339).
      type: str
      sample: "2026-11-26T09:30:00.000000Z"
    completed:
      description: When it was completed (RFC 3339), or V(null).
      type: str
      sample: null
    tokens:
      description: Quota tokens the request used.
      type: int
      sample: 1
    message_tokens:
      description: Tokens used by its messages.
      type: int
      sample: 0
quota:
  description: The account's request quota.
  returned: when O(gather) contains V(quota)
  type: dict
  sample:
    quota: 120
    remaining: 64
    anniversary_date: "2027-01-01T00:00:00.000000Z"
    quarter_anniversary_date: "2027-01-01T00:00:00.000000Z"
types:
  description: The request types the account may ask for, the values of O(request_type).
  returned: when O(gather) contains V(types)
  type: list
  elements: str
  sample: [Indicators of Compromise, Victomology]
constants:
  description: The API's lists of priorities, statuses and TLP labels.
  returned: when O(gather) contains V(constants)
  type: dict
  sample:
    priority: [routine, high, urgent]
    status: [open, accepted, reported, approved, completed, declined]
    tlp: [clear, green, amber, amber-strict, red]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import cloudforce_one
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

FILTERS = ("status", "request_type", "created_after", "created_before", "completed_after", "completed_before")


def run(module, client):
    params = module.params
    gather = params["gather"] or []
    request_id = None
    if params["request_id"] is not None:
        request_id = cloudforce_one.check_request_id(params["request_id"])
        given = [name for name in FILTERS if params[name] is not None]
        if given:
            raise InvalidInputError("request_id cannot be combined with the list filters (%s)." % ", ".join(given))
        if "requests" not in gather:
            raise InvalidInputError("request_id needs requests in gather.")
    if params["request_type"] is not None and params["request_type"].strip() == "":
        raise InvalidInputError("request_type must not be empty.")
    created = cloudforce_one.time_window(params, "created_after", "created_before")
    completed = cloudforce_one.time_window(params, "completed_after", "completed_before")
    page_size = cloudforce_one.check_page_size(params["page_size"])

    result = dict(changed=False)
    if "requests" in gather:
        if request_id is not None:
            record = client.get_request(request_id)
            if record is None:
                raise InvalidInputError("Request %s does not exist (or was deleted)." % request_id)
            result["requests"] = [record]
        else:
            result["requests"] = client.list_requests(
                status=params["status"], request_type=params["request_type"], created_after=created[0],
                created_before=created[1], completed_after=completed[0], completed_before=completed[1],
                sort_by=params["sort_by"], sort_order=params["sort_order"], page_size=page_size)
    if "quota" in gather:
        result["quota"] = client.quota()
    if "types" in gather:
        result["types"] = client.request_types()
    if "constants" in gather:
        result["constants"] = client.constants()
    return result


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("cloudforce_one")
    argument_spec.update(
        gather=dict(type="list", elements="str", choices=["requests", "quota", "types", "constants"], default=["requests"]),
        request_id=dict(type="str"),
        status=dict(type="str", choices=cloudforce_one.STATUSES),
        request_type=dict(type="str"),
        created_after=dict(type="str"),
        created_before=dict(type="str"),
        completed_after=dict(type="str"),
        completed_before=dict(type="str"),
        sort_by=dict(type="str", choices=cloudforce_one.SORT_FIELDS, default="created"),
        sort_order=dict(type="str", choices=cloudforce_one.SORT_ORDERS, default="asc"),
        page_size=dict(type="int", default=cloudforce_one.DEFAULT_PAGE_SIZE),
    )
    return dict(argument_spec=argument_spec, supports_check_mode=True)


build_client = cloudforce_one.client_from_params


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
