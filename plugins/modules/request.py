#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: request
short_description: Create, update or delete a Cloudflare Cloudforce One intelligence request
version_added: 1.0.0
description:
  - Manages a Cloudforce One request for information (RFI), a question to Cloudflare's threat intelligence team.
  - The request is identified by O(request_id) when given, otherwise by O(summary) together with O(request_type).
    When more than one request has that summary and type, the oldest is the request (with a warning naming the
    others); O(state=absent) deletes them all.
  - Idempotent. An existing request is updated only in the fields that were given and differ, and only those fields
    are sent.
  - Results are normalised. The API names the type field C(request) and its full record may carry the priority as a
    date-time (a quirk of its specification); the module returns the type as RV(request.request_type) and the priority
    as one of V(routine), V(high) or V(urgent).
author:
  - caseops.desk maintainers (@caseops)
options:
  request_id:
    description:
      - The ID (a UUID) of an existing request. The readable C(RFI-...) number is not accepted.
      - The module fails when it does not exist and O(state=present), because the API cannot create a request with a
        chosen ID; leave it out to create one.
    type: str
  summary:
    description:
      - A short title. Must not be empty.
      - Without O(request_id), required; with O(request_type) it identifies the request.
    type: str
  content:
    description:
      - The question itself. Must not be empty.
      - Required to create a request.
    type: str
  request_type:
    description:
      - "The kind of information asked for, one of the types the account offers, for example V(Victomology) or
        V(Indicators of Compromise). M(caseops.desk.request_info) lists them with C(gather: [types]). The module checks
        the value against that list before creating or re-typing a request."
      - Without O(request_id), required; with O(summary) it identifies the request.
    type: str
  priority:
    description:
      - How urgently the team should look at it. Cloudforce One uses V(routine) when a new request has none.
    type: str
    choices: [routine, high, urgent]
  tlp:
    description:
      - The Traffic Light Protocol label that limits how the answer may be shared. Cloudforce One uses V(clear) when a
        new request has none.
    type: str
    choices: [clear, green, amber, amber-strict, red]
  state:
    description:
      - V(present) creates or updates the request, V(absent) deletes it.
      - Cloudforce One deletes a request only while its status is C(open). Once the team has accepted it, the module
        fails and says so; a request that does not exist is not an error.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.cloudforce_one
  - caseops.desk.create_guard
  - caseops.desk.attributes.cloudforce_one_group
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Reads the request and predicts the result; nothing is created, updated or deleted.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The request before and after.
notes:
  - Needs the Cloudforce One Write permission. Finding a request by O(summary) and O(request_type) lists requests, which
    the API only allows with Write.
  - "Each new request uses one token of the account's quarterly quota; M(caseops.desk.request_info) shows what is left
    with C(gather: [quota])."
  - A create whose answer is lost (a timeout, a dropped connection, a gateway error) is not sent again blindly. The
    module looks for a request with the same summary and type over O(create_settle_seconds) first, so a retry does
    not create a second one.
seealso:
  - module: caseops.desk.request_info
  - module: caseops.desk.request_message
"""

EXAMPLES = r"""
- name: Ask Cloudforce One about an attack (created once; later runs change only what differs)
  caseops.desk.request:
    summary: DoS attack on the shop, 2026-11-20
    request_type: Victomology
    content: Which other targets in our sector did this botnet hit last week?
    priority: high
    tlp: amber
  register: rfi

- name: Raise the priority, by id
  caseops.desk.request:
    request_id: "{{ rfi.request.id }}"
    priority: urgent

- name: Withdraw the request while it is still open
  caseops.desk.request:
    summary: DoS attack on the shop, 2026-11-20
    request_type: Victomology
    state: absent
"""

RETURN = r"""
request:
  description:
    - The request after the task. In check mode, the predicted request (server-assigned fields such as C(id) are
      V(null) for a request that would be created).
    - With O(state=absent), the request that was deleted, or V(null) when there was none.
  returned: success
  type: dict
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
      description: The question.
      type: str
      sample: Which other targets in our sector did this botnet hit last week?
    request_type:
      description: The type of request (the API's C(request) field).
      type: str
      sample: Victomology
    priority:
      description: V(routine), V(high) or V(urgent); V(null) only when the API gave it in a form that could not be read.
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
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import cloudforce_one
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.create_guard import CreateGuard, account_of, guard_argument_spec, pick_oldest
from ansible_collections.caseops.desk.plugins.module_utils.errors import ApiError, InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

EDITABLE = ("summary", "content", "request_type", "priority", "tlp")


def run(module, client):
    params = module.params
    request_id = None
    if params["request_id"] is not None:
        request_id = cloudforce_one.check_request_id(params["request_id"])
    for name in ("summary", "content", "request_type"):
        if params[name] is not None and params[name].strip() == "":
            raise InvalidInputError("%s must not be empty." % name)
    if request_id is None and (params["summary"] is None or params["request_type"] is None):
        raise InvalidInputError("Without request_id, both summary and request_type are required: together they identify "
                                "the request.")
    wanted = dict((name, params[name]) for name in EDITABLE if params[name] is not None)
    present = params["state"] == "present"
    if request_id is not None:
        current = client.get_request(request_id)
        if present:
            return _present(module, client, request_id, current, wanted, None)
        return _absent(module, client, [current] if current else [])

    summary, request_type = params["summary"], params["request_type"]
    what = "a Cloudforce One request with the summary %r and type %r" % (summary, request_type)
    guard = CreateGuard.for_module(module, "Cloudforce One", account_of(client), ("request", summary, request_type), what)
    # Look up, then create, one run at a time per summary and type.
    with guard.serialised(present and not module.check_mode):
        matches = client.find_requests(summary, request_type)
        if not present:
            return _absent(module, client, matches)
        oldest = pick_oldest(matches, "requests with the summary %r and type %r" % (summary, request_type), module.warn)
        # A list item has no content; the full record is needed to compare it (and to return it).
        current = client.get_request(oldest["id"], listed=oldest) if oldest else None
        return _present(module, client, None, current, wanted, guard)


def _present(module, client, request_id, current, wanted, guard):
    if current is None and request_id is not None:
        raise InvalidInputError("Request %s does not exist, so it cannot be updated. Leave out request_id to create a "
                                "request (identified by summary and request_type)." % request_id)
    if current is None:
        if "content" not in wanted:
            raise InvalidInputError("content is required to create a request.")
        predicted = dict((name, None) for name in cloudforce_one.REQUEST_FIELDS)
        predicted.update(wanted)
        predicted["status"] = "open"
        if module.check_mode:
            _check_type(client, wanted["request_type"])
            return _result(True, None, predicted)
        find = client.new_request_finder(wanted["summary"], wanted["request_type"])
        created = _refused_type_named(client, wanted["request_type"], lambda: guard.create(
            lambda recover: client.create_request(wanted, recover=recover), find))
        return _result(True, None, created)

    changes = dict((name, value) for name, value in wanted.items() if current.get(name) != value)
    if not changes:
        return _result(False, current, current)
    if module.check_mode:
        if "request_type" in changes:
            _check_type(client, changes["request_type"])
        return _result(True, current, dict(current, **changes))
    return _result(True, current, _refused_type_named(client, changes.get("request_type"),
                                                      lambda: client.update_request(current["id"], changes)))


def _absent(module, client, matches):
    """Delete every request of ``matches`` (all share the identity); the result shows the oldest."""
    if not matches:
        return _result(False, None, None)
    for current in matches:
        if current.get("status") not in (None, "open"):
            raise InvalidInputError("Request %s (%s) cannot be deleted: its status is %s, and Cloudforce One deletes a "
                                    "request only while it is open, before the team accepts it."
                                    % (current["id"], current.get("readable_id") or current.get("summary"),
                                       current["status"]))
    oldest = pick_oldest(matches, "requests with this summary and type", None)
    if len(matches) > 1:
        module.warn("%d requests have this summary and type; all of them %s deleted: %s."
                    % (len(matches), "would be" if module.check_mode else "were", ", ".join(m["id"] for m in matches)))
    if not module.check_mode:
        for current in matches:
            client.delete_request(current["id"])
    result = _result(True, oldest, None)
    result["request"] = oldest
    return result


def _refused_type_named(client, request_type, write):
    """``write()``; the types are read only when the API refuses it (400), to name the ones on offer.

    The service checks the type itself (FIDELITY.md, Cloudforce One C7), so a types look-up before every write
    would cost a request each time; check mode, which sends no write, still reads them to predict truthfully.
    """
    try:
        return write()
    except ApiError as err:
        if request_type is not None and err.status == 400:
            _check_type(client, request_type)
        raise


def _check_type(client, request_type):
    types = client.request_types()
    if types and request_type not in types:
        raise InvalidInputError("request_type %r is not one this account offers; choose one of: %s."
                                % (request_type, ", ".join(types)))


def _result(changed, before, after):
    return dict(changed=changed, request=after, diff=dict(before=before or {}, after=after or {}))


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("cloudforce_one")
    argument_spec.update(guard_argument_spec())
    argument_spec.update(
        request_id=dict(type="str"),
        summary=dict(type="str"),
        content=dict(type="str"),
        request_type=dict(type="str"),
        priority=dict(type="str", choices=cloudforce_one.PRIORITIES),
        tlp=dict(type="str", choices=cloudforce_one.TLPS),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    return dict(argument_spec=argument_spec, supports_check_mode=True)


build_client = cloudforce_one.client_from_params


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
