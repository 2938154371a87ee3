#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: request_message_info
short_description: List the messages of a Cloudflare Cloudforce One intelligence request
version_added: 1.0.0
description:
  - Returns every message in the thread of a Cloudforce One request for information (RFI), optionally only those
    posted in a time window, sorted as asked.
  - Reads every page, O(page_size) messages at a time, until a page comes back empty or shorter than an earlier one.
    A first page shorter than asked does not end the listing, because the service may serve fewer messages per page
    than asked without saying so.
author:
  - caseops.desk maintainers (@caseops)
options:
  request_id:
    description:
      - The ID (a UUID) of the request, as RV(caseops.desk.request#module:request.id) returns it.
    type: str
    required: true
  after:
    description:
      - Only messages posted after this moment. The API does not document whether a message posted at exactly this
        moment is included.
      - An RFC 3339 date-time such as V(2026-01-31T14:00:00Z), a date-time with an offset (V(2026-01-31T16:00:00+02:00))
        or without a zone (taken as UTC), a space instead of C(T), a bare date such as V(2026-01-31) (midnight UTC), or
        epoch seconds. It is sent to the API as an RFC 3339 UTC date-time.
    type: str
  before:
    description:
      - Only messages posted before this moment. Same formats as O(after).
    type: str
  sort_by:
    description:
      - Sort by the time a message was posted or last edited.
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
      - Messages per list request, 1 to 1000. Larger pages mean fewer requests. The API documents no maximum; a service
        that refuses a large page says so with an error, and one that silently serves fewer is paged through.
    type: int
    default: 50
  known_messages:
    description:
      - The request's messages as an earlier task of the play has just read them, for example
        RV(caseops.desk.request_message#module:messages). Each needs at least C(id) and C(created)
        (and C(updated) with O(sort_by=updated)).
      - When given, nothing is sent to the API. These messages are filtered by O(after) and O(before) (both exclusive)
        and sorted by O(sort_by) and O(sort_order), messages with the same time keeping their order, as a listing
        would return them. O(page_size) is not used.
      - Saves listing a thread again right after it was read. Messages posted since that read are not among them, so
        list again (leave this out) when that matters, for example after posting a message of your own.
    type: list
    elements: dict
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.cloudforce_one
  - caseops.desk.attributes.info_module
  - caseops.desk.attributes.cloudforce_one_group
notes:
  - Needs the Cloudforce One Write permission even though it only reads, because the API lists messages with a POST
    that requires Write. A token with only Cloudforce One Read gets HTTP 403.
  - The API does not document whether its first page is numbered 0 or 1. The module starts at page 1, as Cloudflare's
    own pagers (cloudflare-go, the Terraform provider) do, so a listing of N messages takes ceil(N / O(page_size))
    requests, plus one empty page when the last page is full. A page with nothing new ends it, so no message is
    returned twice.
seealso:
  - module: caseops.desk.request_message
  - module: caseops.desk.request_info
"""

EXAMPLES = r"""
- name: The whole thread, oldest first
  caseops.desk.request_message_info:
    request_id: "{{ rfi.request.id }}"
  register: thread

- name: What was said this year, last edited first
  caseops.desk.request_message_info:
    request_id: "{{ rfi.request.id }}"
    after: "2026-01-01"
    sort_by: updated
    sort_order: desc

- name: Post a follow-up once (the module lists the thread to find it)
  caseops.desk.request_message:
    request_id: "{{ rfi.request.id }}"
    content: Any update?
  register: followup

- name: The thread since the last run, from what the task above read (no request when nothing was posted)
  caseops.desk.request_message_info:
    request_id: "{{ rfi.request.id }}"
    after: "{{ cursor }}"
    known_messages: "{{ followup.messages if followup is not changed else omit }}"

- name: Replies from the Cloudforce One team only
  ansible.builtin.debug:
    msg: "{{ thread.messages | rejectattr('author', 'equalto', 'analyst@example.com') | map(attribute='content') }}"
"""

RETURN = r"""
messages:
  description: The messages, in the order asked for.
  returned: success
  type: list
  elements: dict
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
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import cloudforce_one
from ansible_collections.caseops.desk.plugins.module_utils import moments
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module


def run(module, client):
    params = module.params
    request_id = cloudforce_one.check_request_id(params["request_id"])
    after, before = cloudforce_one.time_window(params, "after", "before")
    page_size = cloudforce_one.check_page_size(params["page_size"])
    if params["known_messages"] is not None:
        return dict(changed=False, messages=_select(params["known_messages"], after, before, params["sort_by"],
                                                    params["sort_order"]))
    messages = client.list_messages(request_id, after=after, before=before, sort_by=params["sort_by"],
                                    sort_order=params["sort_order"], page_size=page_size)
    return dict(changed=False, messages=messages)


def _select(known, after, before, sort_by, sort_order):
    """The known messages a listing with these filters would return, without asking the API.

    Bounds are exclusive: whether the API's are is not documented (FIDELITY.md, Cloudforce One C12), and exclusive
    means a cursor taken from the last message does not return it again. Ties keep the given order, the order the
    thread was listed in.
    """
    after = moments.parse_moment(after, "after")
    before = moments.parse_moment(before, "before")
    keyed = []
    for index, item in enumerate(known):
        if not isinstance(item, dict) or item.get("id") is None:
            raise InvalidInputError("known_messages[%d] must be a message with at least id and created, as "
                                    "request_message returns it, got %r." % (index, item))
        created = moments.parse_moment(item.get("created"), "known_messages[%d].created" % index)
        key = created if sort_by == "created" else moments.parse_moment(item.get(sort_by), "known_messages[%d].%s" % (index, sort_by))
        if created is None or key is None:
            raise InvalidInputError("known_messages[%d] (message %s) has no %s date-time: pass messages as the API "
                                    "lists them, not a message predicted in check mode."
                                    % (index, item.get("id"), "created" if created is None else sort_by))
        if (after is None or created > after) and (before is None or created < before):
            keyed.append((key, cloudforce_one.normalize_message(item)))
    ordered = sorted(keyed, key=lambda pair: pair[0], reverse=sort_order == "desc")
    return [message for _key, message in ordered]


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("cloudforce_one")
    argument_spec.update(
        request_id=dict(type="str", required=True),
        after=dict(type="str"),
        before=dict(type="str"),
        sort_by=dict(type="str", choices=cloudforce_one.SORT_FIELDS, default="created"),
        sort_order=dict(type="str", choices=cloudforce_one.SORT_ORDERS, default="asc"),
        page_size=dict(type="int", default=cloudforce_one.DEFAULT_PAGE_SIZE),
        known_messages=dict(type="list", elements="dict"),
    )
    return dict(argument_spec=argument_spec, supports_check_mode=True)


build_client = cloudforce_one.client_from_params


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
