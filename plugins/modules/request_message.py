#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: request_message
short_description: Post, edit or delete a message on a Cloudflare Cloudforce One intelligence request
version_added: 1.0.0
description:
  - Manages one message in the thread of a Cloudforce One request for information (RFI), the place for clarifying
    questions and comments between you and the Cloudforce One team.
  - Idempotent. With O(message_id), the message is edited only when its content differs from O(content).
    Without O(message_id), a message with the same O(content) already on the request counts as that message,
    so re-running a play does not post it again; when there are several, the oldest is returned, with a warning.
    Set O(allow_duplicates=true) to post a repeat on purpose.
  - Content is compared without leading and trailing whitespace and with line endings unified, so the trailing newline
    of a YAML block scalar, or a service that trims what it stores, does not make it another message.
  - Every run lists the request's messages first (the API has no call that reads one message), so a run that changes
    nothing sends only list requests. With O(message_id), the listing stops at the page that has the message.
author:
  - caseops.desk maintainers (@caseops)
options:
  request_id:
    description:
      - The ID (a UUID) of the request the message belongs to, as RV(caseops.desk.request#module:request.id) returns it.
        The readable C(RFI-...) number is not accepted.
    type: str
    required: true
  content:
    description:
      - The text of the message. Must not be empty or only whitespace.
      - Required with O(state=present).
      - With O(state=absent) and no O(message_id), every message with this content is deleted.
    type: str
  message_id:
    description:
      - The integer ID of an existing message, as RV(message.id) returns it.
      - With O(state=present), that message's content is set to O(content); the module fails if it does not exist,
        because the API cannot create a message with a chosen ID.
      - With O(state=absent), that message is deleted; a message that is already gone is not an error.
    type: int
  allow_duplicates:
    description:
      - Post O(content) even when a message with the same content is already on the request.
      - The task then reports a change on every run.
      - Ignored with O(message_id) or O(state=absent).
    type: bool
    default: false
  state:
    description:
      - V(present) posts or edits the message, V(absent) deletes it.
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
    details: Lists the messages and predicts the result; nothing is posted, edited or deleted.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The message before and after, as O(content) and the other fields.
notes:
  - Needs the Cloudforce One Write permission, also for a run that changes nothing, because the API lists messages with a
    POST that requires Write.
  - A post whose answer is lost (a timeout, a dropped connection, a gateway error) is not sent again blindly. The module
    lists the messages over O(create_settle_seconds) and only posts again when the message is not there, so a retry
    does not leave two copies.
seealso:
  - module: caseops.desk.request_message_info
  - module: caseops.desk.request
"""

EXAMPLES = r"""
- name: Ask the Cloudforce One team a question (posted once, however often the play runs)
  caseops.desk.request_message:
    request_id: "{{ rfi.request.id }}"
    content: Can you share the indicators you found for this campaign?
  register: question

- name: Correct the question
  caseops.desk.request_message:
    request_id: "{{ rfi.request.id }}"
    message_id: "{{ question.message.id }}"
    content: Can you share the IP and domain indicators you found for this campaign?

- name: Send the same reminder again on purpose
  caseops.desk.request_message:
    request_id: "{{ rfi.request.id }}"
    content: Any update?
    allow_duplicates: true

- name: Take the reminder back (every message with this exact text)
  caseops.desk.request_message:
    request_id: "{{ rfi.request.id }}"
    content: Any update?
    state: absent

- name: With a Global API Key instead of a token
  caseops.desk.request_message:
    cloudflare_email: analyst@example.com
    cloudflare_api_key: "{{ vault_cloudflare_api_key }}"
    cloudflare_account_id: 023e105f4ecef8ad9ca31a8372d0c353
    request_id: "{{ rfi.request.id }}"
    content: Thank you, that answers our question.
"""

RETURN = r"""
message:
  description:
    - The message after the task. In check mode, the predicted message (its C(id), C(created) and C(updated) are
      V(null) for a message that would be posted).
    - With O(state=absent), the message that was deleted (the first one when several matched O(content)), or V(null)
      when there was none.
  returned: success
  type: dict
  contains:
    id:
      description: The message ID.
      type: int
      sample: 42
    author:
      description: Who posted it, an e-mail address.
      type: str
      sample: analyst@example.com
    content:
      description: The text.
      type: str
      sample: Can you share the indicators you found for this campaign?
    created:
      description: When it was posted (RFC 3339).
      type: str
      sample: "2026-11-26T09:30:00.000000Z"
    updated:
      description: When it was last edited (RFC 3339).
      type: str
      sample: "2026-11-26T09:30:00.000000Z"
    is_follow_on_request:
      description: Whether Cloudforce One counts the message as a follow-on request.
      type: bool
      sample: false
messages:
  description:
    - The request's messages after the task (predicted, in check mode), in the order the look-up listed them, with
      this task's change applied (the posted message at the end, the deleted ones left out).
    - Saves reading the thread again right after this task, for example with
      O(caseops.desk.request_message_info#module:known_messages). Messages others post after the
      look-up are not in it.
  returned: without O(message_id) (with it, the look-up stops at the page that has the message)
  type: list
  elements: dict
  sample:
    - id: 42
      author: analyst@example.com
      content: Can you share the indicators you found for this campaign?
      created: "2026-11-26T09:30:00.000000Z"
      updated: "2026-11-26T09:30:00.000000Z"
      is_follow_on_request: false
deleted_ids:
  description: The IDs of the messages deleted (or that would be, in check mode).
  returned: O(state=absent)
  type: list
  elements: int
  sample: [42]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import cloudforce_one
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.comparison import normalized_text, same_text
from ansible_collections.caseops.desk.plugins.module_utils.create_guard import CreateGuard, account_of, guard_argument_spec, pick_oldest
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module


def run(module, client):
    params = module.params
    request_id = cloudforce_one.check_request_id(params["request_id"])
    content = params["content"]
    message_id = params["message_id"]
    present = params["state"] == "present"
    if content is not None and content.strip() == "":
        raise InvalidInputError("content must not be empty or only whitespace.")
    if present and content is None:
        raise InvalidInputError("content is required with state=present.")
    if not present and content is None and message_id is None:
        raise InvalidInputError("state=absent needs message_id, or content to delete the messages with exactly that text.")
    if message_id is not None and message_id < 0:
        raise InvalidInputError("message_id must be a non-negative integer, got %d." % message_id)

    posting = present and message_id is None and not params["allow_duplicates"]
    what = "a message with this content on Cloudforce One request %s" % request_id
    guard = CreateGuard.for_module(module, "Cloudforce One", account_of(client),
                                   ("message", request_id, normalized_text(content)), what)
    if message_id is not None:
        # Ids are unique: the listing stops at the page with this one.
        current = client.find_message(request_id, message_id)
        if present:
            return _edit(module, client, request_id, content, message_id, current)
        return _absent(module, client, request_id, None, [current] if current else None)
    # Look up, then post, one run at a time per request and content.
    with guard.serialised(posting and not module.check_mode):
        messages = client.list_messages(request_id)
        if present:
            return _present(module, client, request_id, content, messages, guard)
    return _absent(module, client, request_id, content, messages)


def _edit(module, client, request_id, content, message_id, current):
    if current is None:
        raise InvalidInputError("Message %d is not on request %s, so it cannot be edited; leave out message_id to "
                                "post a new message." % (message_id, request_id))
    if same_text(current["content"], content):
        return _result(False, current, current)
    wanted = dict(current, content=content)
    if not module.check_mode:
        wanted = client.update_message(request_id, message_id, content)
    return _result(True, current, wanted)


def _present(module, client, request_id, content, messages, guard):
    same = [m for m in messages if same_text(m["content"], content)]
    if same and not module.params["allow_duplicates"]:
        oldest = pick_oldest(same, "messages with this content on request %s" % request_id, module.warn)
        return _result(False, oldest, oldest, messages)
    if module.check_mode:
        posted = dict(id=None, author=getattr(client, "email", None), content=content, created=None, updated=None,
                      is_follow_on_request=False)
    else:
        # A repeat posted on purpose (allow_duplicates) is told apart from the ones already there.
        find = client.new_message_finder(request_id, content, known_ids=[m["id"] for m in same])
        posted = guard.create(lambda recover: client.create_message(request_id, content, recover=recover), find)
    return _result(True, None, posted, messages + [posted])


def _absent(module, client, request_id, content, messages):
    """Delete ``messages`` matching ``content`` (or, with None as content, the message found by id in them)."""
    doomed = [m for m in messages or [] if content is None or same_text(m["content"], content)]
    if not module.check_mode:
        for message in doomed:
            client.delete_message(request_id, message["id"])
    first = doomed[0] if doomed else None
    result = _result(bool(doomed), first, None, None if content is None else [m for m in messages if m not in doomed])
    result["message"] = first
    result["deleted_ids"] = [m["id"] for m in doomed]
    return result


def _result(changed, before, after, messages=None):
    """``messages``: the whole thread as listed, with this task's change applied (RV messages), so that a caller
    need not list it again; None where only the message with an id was looked for."""
    result = dict(changed=changed, message=after, diff=dict(before=before or {}, after=after or {}))
    if messages is not None:
        result["messages"] = messages
    return result


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("cloudforce_one")
    argument_spec.update(guard_argument_spec())
    argument_spec.update(
        request_id=dict(type="str", required=True),
        content=dict(type="str"),
        message_id=dict(type="int"),
        allow_duplicates=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    return dict(argument_spec=argument_spec, supports_check_mode=True)


build_client = cloudforce_one.client_from_params


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
