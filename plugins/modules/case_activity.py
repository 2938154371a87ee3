#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: case_activity
short_description: Comment on a CrowdStrike Falcon Message Center case
version_added: 1.0.0
description:
  - Only Falcon has a comment API. O(provider=unit21) is refused with an explanation, before any request and without
    credentials (see O(provider)).
  - Adds a comment to a Falcon Message Center case, unless the case already has a comment with the same text.
  - "The API returns no ID for a new comment, so the module lists the case's comments before posting: a comment whose
    text equals O(comment) (ignoring leading and trailing whitespace) means the comment is I(present) and nothing is
    sent. Set O(allow_duplicates=true) to post the same text again on purpose."
  - After posting, the module reads the comment back and returns it with its ID.
  - A post that fails in a way that hides whether Falcon applied it (a timeout, a dropped connection, a gateway error)
    is never sent again blindly; the module lists the comments over O(create_settle_seconds) and returns the comment
    if it was added.
  - When the case has several comments with the text, the oldest is returned, with a warning.
author:
  - caseops.desk maintainers (@caseops)
options:
  provider:
    description:
      - The case system. Only Falcon has a comment API.
      - "V(unit21) is refused: Unit21's API has no comments or notes. To write a note on a Unit21 case, set
        C(disposition_notes) with M(caseops.desk.case) (C(provider=unit21)), or attach a text file with
        M(caseops.desk.case_attachment) (C(provider=unit21), C(name) and C(content))."
    type: str
    choices: [falcon, unit21]
    default: falcon
  state:
    description:
      - V(present) adds the comment unless it is there.
      - There is no V(absent), because comments cannot be removed through the API.
    type: str
    choices: [present]
    default: present
  case_id:
    description:
      - The ID of the case to comment on. Required with O(provider=falcon).
    type: str
  comment:
    description:
      - The text of the comment. Only comments can be added through the API. Required with O(provider=falcon).
    type: str
    aliases: [body, content]
  user_uuid:
    description:
      - The UUID of the Falcon user the comment is posted as (not an e-mail address). The API requires it.
      - Required with O(provider=falcon).
    type: str
  allow_duplicates:
    description:
      - Post the comment even when the case already has one with the same text. The task then always reports a change.
    type: bool
    default: false
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.falcon
  - caseops.desk.create_guard
  - caseops.desk.attributes.falcon_group
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Lists the comments as usual and predicts the comment it would add, without adding it.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff shows the comment that would be added.
notes:
  - Needs the Message Center Read and Write scopes on the Falcon API client.
  - Any comment on the case counts, whoever posted it.
seealso:
  - module: caseops.desk.case_activity_info
  - module: caseops.desk.case
  - module: caseops.desk.case_attachment
"""

EXAMPLES = r"""
- name: Tell CrowdStrike what we did (posted once, however often the play runs)
  caseops.desk.case_activity:
    case_id: "{{ detection_case.case.id }}"
    comment: |
      web-01 was isolated at 10:42 UTC; the deploy that triggered the detection is rolled back.
    user_uuid: 01234567-89ab-cdef-0123-456789abcdef

- name: A daily status ping, posted every time on purpose
  caseops.desk.case_activity:
    case_id: "{{ case_id }}"
    comment: Still waiting for your analysis, thank you.
    user_uuid: "{{ analyst_uuid }}"
    allow_duplicates: true
"""

RETURN = r"""
activity:
  description:
    - The comment as the Message Center API returns it, whether just added or found.
    - In check mode, when the comment would be added, the fields that would be sent, with RV(activity.id) null.
  returned: success
  type: dict
  contains:
    id:
      description: The activity ID.
      type: str
      sample: 3b1f0c2d4e5f60718293a4b5c6d7e8f9
    case_id:
      description: The case ID.
      type: str
      sample: 6f3c2e9b8a1d4c7e9f0a1b2c3d4e5f60
    type:
      description: Always C(comment) for activities added through the API.
      type: str
      sample: comment
    body:
      description: The text.
      type: str
      sample: web-01 was isolated at 10:42 UTC.
    created_time:
      description: When it was posted.
      type: str
      sample: "2026-11-26T10:45:00.000000Z"
    created_by:
      description: Who posted it.
      type: dict
      sample: {"display_name": "Ana Analyst", "uuid": "01234567-89ab-cdef-0123-456789abcdef"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import falcon, falcon_comments
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.create_guard import guard_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

COMMENT_SCAN_LIMIT = falcon_comments.COMMENT_SCAN_LIMIT

UNIT21_REFUSAL = (
    "provider=unit21 is not possible: Unit21's API has no comments or notes on cases. To write a note on a Unit21 case, "
    "set disposition_notes with caseops.desk.case (provider: unit21, unit21_id, disposition_notes), or attach a text "
    "file with caseops.desk.case_attachment (provider: unit21, unit21_id, name: note.txt, content: ...).")


def build_client(params):
    # provider=unit21 is refused in run(); it needs neither a client nor credentials to say so.
    if params["provider"] == "unit21":
        return None
    return falcon.client_from_params(params)


def run(module, client):
    params = module.params
    if params["provider"] == "unit21":
        raise InvalidInputError(UNIT21_REFUSAL)
    text = params["comment"]
    falcon_comments.check_comment(text, params["user_uuid"])
    if not params["case_id"].strip():
        raise InvalidInputError("case_id must not be empty.")
    changed, activity = falcon_comments.ensure_comment(module, client, params["case_id"], text, params["user_uuid"],
                                                       params["allow_duplicates"])
    return dict(changed=changed, activity=activity, diff=dict(before={} if changed else activity, after=activity))


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("falcon")
    argument_spec.update(guard_argument_spec())
    argument_spec.update(
        provider=dict(type="str", choices=["falcon", "unit21"], default="falcon"),
        state=dict(type="str", choices=["present"], default="present"),
        case_id=dict(type="str"),
        comment=dict(type="str", aliases=["body", "content"]),
        user_uuid=dict(type="str"),
        allow_duplicates=dict(type="bool", default=False),
    )
    # Required for Falcon only, so that provider=unit21 gets its explanation instead of "missing user_uuid".
    return dict(argument_spec=argument_spec, supports_check_mode=True,
                required_if=[("provider", "falcon", ("case_id", "comment", "user_uuid"))])


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
