#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: case
short_description: Ensure a support case exists in CrowdStrike Falcon Message Center
version_added: 0.1.0
description:
  - Opens a Falcon Message Center support case unless one with the same O(title) and O(type) already exists.
  - "Falcon cases cannot be changed through the API: once opened, CrowdStrike works on them and only comments
    (M(caseops.desk.case_activity)) and attachments (M(caseops.desk.case_attachment)) can be added. So this module
    looks for an existing case first and treats it as the one you asked for: a case whose title and type are exactly
    O(title) and O(type) (and, if you say so, whose status is open, see O(match_status)) is I(present), and nothing
    is sent. When several cases match, the most recently created one is returned."
  - If the existing case differs from what you asked for (its body, detections or incidents), the module warns and
    leaves it as it is, since there is no way to update it.
  - A create that fails in a way that hides whether Falcon applied it (a timeout, a dropped connection, a gateway
    error) is never sent again blindly; the module searches for the case first and returns it if it was created.
author:
  - caseops.desk maintainers (@caseops)
options:
  provider:
    description:
      - The case system.
    type: str
    choices: [falcon]
    default: falcon
  state:
    description:
      - V(present) opens the case unless it exists.
      - V(absent) is refused with an explanation, because Falcon cases cannot be deleted or closed through the API.
    type: str
    choices: [present, absent]
    default: present
  title:
    description:
      - The case title. Together with O(type), it identifies the case.
    type: str
    required: true
  body:
    description:
      - The text of the case, sent when the case is opened.
      - Required to open a case; when a matching case already exists it is not needed.
    type: str
    aliases: [content, description]
  type:
    description:
      - The case type. Together with O(title), it identifies the case.
      - "Known types: V(fc:contact), V(fc:detection-support), V(fc:falcon-product-support), V(fc:incident-support).
        Another C(fc:) type is sent as given, with a warning, since the API may know types the documentation does not."
    type: str
    required: true
    aliases: [case_type]
  detections:
    description:
      - Detections the case is about, for O(type=fc:detection-support).
      - Each item is a detection ID (for example V(ldt:0123456789abcdef0123456789abcdef:123456)), or a dictionary
        with the keys C(id) and, optionally, C(url) and C(product).
    type: list
    elements: raw
  incidents:
    description:
      - Incidents the case is about, for O(type=fc:incident-support).
      - Each item is an incident ID (for example V(inc:0123456789abcdef0123456789abcdef:fedcba9876543210fedcba9876543210)),
        or a dictionary with the keys C(id) and, optionally, C(url).
    type: list
    elements: raw
  user_uuid:
    description:
      - The UUID of the Falcon user who opens the case (not an e-mail address).
    type: str
  malware_submission_id:
    description:
      - The ID of a malware submission the case is about.
    type: str
  recon_rule_type:
    description:
      - The Falcon Recon rule type the case is about.
    type: str
  match_status:
    description:
      - Which existing cases count as the one you asked for.
      - V(any) matches a case with the same title and type whatever its status.
      - V(open) only matches cases waiting for your response or for review (status C(1) or C(2)), so a new case is
        opened when the earlier one was closed.
    type: str
    choices: [any, open]
    default: any
  match_filter:
    description:
      - An extra FQL filter an existing case must also match to count, for example V(case.created_time:>'2026-01-01T00:00:00Z').
    type: str
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.falcon
  - caseops.desk.attributes.falcon_group
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Searches as usual and predicts the case it would open, without opening it.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff shows the case that would be opened; an existing case shows no difference.
notes:
  - Needs the Message Center Read and Write scopes on the Falcon API client.
  - Identity is the exact title and type, so a title that carries something unique (a detection ID, a ticket number)
    keeps unrelated cases apart.
  - An existing case is found with an FQL search on the title and type, then compared exactly (case and whitespace
    included).
seealso:
  - module: caseops.desk.case_info
  - module: caseops.desk.case_activity
  - module: caseops.desk.case_attachment
"""

EXAMPLES = r"""
- name: Ask CrowdStrike about a detection (opened once; re-runs find it)
  caseops.desk.case:
    title: "Detection review: ldt:0123456789abcdef0123456789abcdef:123456"
    type: fc:detection-support
    body: |
      This detection fired on web-01 after a deploy. Is it a false positive?
    detections:
      - ldt:0123456789abcdef0123456789abcdef:123456
    user_uuid: 01234567-89ab-cdef-0123-456789abcdef
  register: detection_case

- name: Comment on it
  caseops.desk.case_activity:
    case_id: "{{ detection_case.case.id }}"
    comment: The host was isolated at 10:42 UTC.
    user_uuid: 01234567-89ab-cdef-0123-456789abcdef

- name: A weekly question; a new case once last week's is closed
  caseops.desk.case:
    title: "Weekly sensor health questions ({{ '%G-W%V' | strftime }})"
    type: fc:falcon-product-support
    body: Our sensor health report for this week is attached.
    match_status: open

- name: What would be opened, without opening it
  caseops.desk.case:
    title: Question about our incident
    type: fc:incident-support
    body: Please review.
    incidents:
      - id: inc:0123456789abcdef0123456789abcdef:fedcba9876543210fedcba9876543210
  check_mode: true
  diff: true
"""

RETURN = r"""
case:
  description:
    - The case as the Message Center API returns it, whether just opened or found.
    - In check mode, when the case would be opened, the fields that would be sent, with RV(case.id) null.
  returned: success
  type: dict
  contains:
    id:
      description: The case ID.
      type: str
      sample: 6f3c2e9b8a1d4c7e9f0a1b2c3d4e5f60
    key:
      description: The case key shown in the Falcon console.
      type: str
      sample: CS-001042
    title:
      description: The title.
      type: str
      sample: "Detection review: ldt:0123456789abcdef0123456789abcdef:123456"
    body:
      description: The text of the case.
      type: str
      sample: This detection fired on web-01 after a deploy.
    type:
      description: The case type.
      type: str
      sample: fc:detection-support
    status:
      description: C(1) waiting for your response, C(2) waiting for review, C(3) closed (resolved), C(4) closed (unresolved).
      type: str
      sample: "2"
    detections:
      description: The detections of the case.
      type: list
      elements: dict
      sample: [{"id": "ldt:0123456789abcdef0123456789abcdef:123456", "url": ""}]
    incidents:
      description: The incidents of the case.
      type: list
      elements: dict
      sample: []
    attachments:
      description: The files attached to the case.
      type: list
      elements: dict
      sample: []
    created_time:
      description: When the case was opened.
      type: str
      sample: "2026-11-26T09:15:00.000000Z"
  sample:
    id: 6f3c2e9b8a1d4c7e9f0a1b2c3d4e5f60
    key: CS-001042
    title: "Detection review: ldt:0123456789abcdef0123456789abcdef:123456"
    body: This detection fired on web-01 after a deploy.
    type: fc:detection-support
    status: "2"
    detections: [{"id": "ldt:0123456789abcdef0123456789abcdef:123456", "url": ""}]
    incidents: []
    attachments: []
    created_time: "2026-11-26T09:15:00.000000Z"
matches:
  description: How many existing cases matched; more than one means the newest was returned (and a warning given).
  returned: success
  type: int
  sample: 1
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import falcon
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

CASE_TYPE_SHAPE = re.compile(r"^fc:[a-z0-9][a-z0-9_-]*$")
LINK_KEYS = {"detections": ("id", "url", "product"), "incidents": ("id", "url")}
# Fields compared with an existing case to warn about differences nobody can fix through the API.
COMPARED_FIELDS = ("body", "detections", "incidents")


def run(module, client):
    params = module.params
    if params["state"] == "absent":
        raise InvalidInputError(
            "state=absent is not possible with provider falcon: Message Center cases cannot be deleted or closed through "
            "the API; CrowdStrike closes them. Use caseops.desk.case_activity to ask for it in a comment.")
    wanted = requested_case(params, module.warn)
    same_title = _cases_with_title(client, wanted)
    found, matches = pick_existing(client, wanted, same_title, params["match_status"], params["match_filter"])
    if matches > 1:
        module.warn("%d cases have this title and type; returning the most recently created one (%s)."
                    % (matches, found["id"]))
    if found is not None:
        differences = [name for name in COMPARED_FIELDS if name in wanted and _comparable(found, name) != _comparable(wanted, name)]
        if differences:
            module.warn("Case %s has this title and type but a different %s. Falcon cases cannot be changed through the "
                        "API, so it was left as it is; add a comment with caseops.desk.case_activity instead."
                        % (found["id"], " and ".join(differences)))
        return dict(changed=False, case=found, matches=matches, diff=dict(before=found, after=found))

    if not params["body"]:
        raise InvalidInputError("body is required to open a case: no case titled %r of type %s exists."
                                % (params["title"], params["type"]))
    predicted = dict(wanted, id=None)
    if module.check_mode:
        return dict(changed=True, case=predicted, matches=0, diff=dict(before={}, after=predicted))

    known_ids = set(case["id"] for case in same_title)

    def recover():
        # After an ambiguous failure: a case with our title, type and body that was not there before is ours.
        for case in _cases_with_title(client, wanted):
            if case["id"] not in known_ids and case.get("body") == wanted["body"]:
                return case["id"]
        return None

    case_id = client.create_case(wanted, recover=recover)
    cases, missing = client.get_cases([case_id])
    case = cases[0] if cases else dict(predicted, id=case_id)
    if missing:
        module.warn("Case %s was opened but could not be read back yet; the result shows what was sent." % case_id)
    return dict(changed=True, case=case, matches=0, diff=dict(before={}, after=case))


def requested_case(params, warn):
    """The CreateCaseV2 body for the options, checked before any request."""
    title = params["title"]
    if not title or not title.strip():
        raise InvalidInputError("title must not be empty.")
    case_type = params["type"]
    if not CASE_TYPE_SHAPE.match(case_type or ""):
        raise InvalidInputError("type %r is not a Falcon case type: use one of %s (or another fc:<name> type)."
                                % (case_type, ", ".join(falcon.CASE_TYPES)))
    if case_type not in falcon.CASE_TYPES:
        warn("type %s is not one of the documented case types (%s); it is sent as given."
             % (case_type, ", ".join(falcon.CASE_TYPES)))
    if params["user_uuid"] is not None:
        falcon.check_user_uuid(params["user_uuid"])
    case = dict(title=title, type=case_type)
    if params["body"]:
        case["body"] = params["body"]
    for name in ("detections", "incidents"):
        if params[name]:
            case[name] = linked_items(name, params[name])
    if case.get("detections") and case_type != "fc:detection-support":
        warn("detections are meant for cases of type fc:detection-support; this case is %s." % case_type)
    if case.get("incidents") and case_type != "fc:incident-support":
        warn("incidents are meant for cases of type fc:incident-support; this case is %s." % case_type)
    for name in ("user_uuid", "malware_submission_id", "recon_rule_type"):
        if params[name]:
            case[name] = params[name]
    return case


def linked_items(name, items):
    """Detections or incidents as the API wants them: a list of {id[, url][, product]}."""
    allowed = LINK_KEYS[name]
    linked = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict):
            raise InvalidInputError("%s[%d] must be an ID or a dictionary with an id, got %r." % (name, index, item))
        unknown = sorted(set(item) - set(allowed))
        if unknown:
            raise InvalidInputError("%s[%d] has unknown keys %s; allowed keys: %s."
                                    % (name, index, ", ".join(unknown), ", ".join(allowed)))
        if not isinstance(item.get("id"), str) or not item["id"].strip():
            raise InvalidInputError("%s[%d] needs an id." % (name, index))
        linked.append(dict((key, item[key]) for key in allowed if item.get(key) not in (None, "")))
    return linked


def pick_existing(client, wanted, same_title, match_status, match_filter):
    """(the newest case of ``same_title`` that counts as ``wanted``, how many did), or (None, 0)."""
    cases = same_title
    if cases and match_filter:
        allowed = set(_search(client, "%s+(%s)" % (_title_filter(wanted), match_filter)))
        cases = [case for case in cases if case["id"] in allowed]
    if match_status == "open":
        cases = [case for case in cases if str(case.get("status")) in falcon.OPEN_STATUSES]
    if not cases:
        return None, 0
    cases = sorted(cases, key=lambda case: case.get("created_time") or "", reverse=True)
    return cases[0], len(cases)


def _title_filter(wanted):
    return "case.title:%s+case.type:%s" % (falcon.fql_quote(wanted["title"]), falcon.fql_quote(wanted["type"]))


def _search(client, fql_filter):
    ids, _total = client.find_case_ids(fql_filter, "case.created_time.desc", falcon.QUERY_PAGE_MAX)
    return ids


def _cases_with_title(client, wanted):
    """The cases whose title and type are exactly ``wanted``'s (the search itself may be looser)."""
    ids = _search(client, _title_filter(wanted))
    if not ids:
        return []
    cases, _missing = client.get_cases(ids)
    return [case for case in cases if case.get("title") == wanted["title"] and case.get("type") == wanted["type"]]


def _comparable(case, name):
    value = case.get(name)
    if name == "body":
        return (value or "").strip()
    return sorted(item.get("id") for item in value or [] if isinstance(item, dict))


def main():
    argument_spec = connection_argument_spec("falcon")
    argument_spec.update(
        provider=dict(type="str", choices=["falcon"], default="falcon"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        title=dict(type="str", required=True),
        body=dict(type="str", aliases=["content", "description"]),
        type=dict(type="str", required=True, aliases=["case_type"]),
        detections=dict(type="list", elements="raw"),
        incidents=dict(type="list", elements="raw"),
        user_uuid=dict(type="str"),
        malware_submission_id=dict(type="str"),
        recon_rule_type=dict(type="str"),
        match_status=dict(type="str", choices=["any", "open"], default="any"),
        match_filter=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, falcon.client_from_params, run)


if __name__ == "__main__":
    main()
