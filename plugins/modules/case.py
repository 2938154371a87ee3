#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: case
short_description: Ensure a case exists in CrowdStrike Falcon Message Center or Unit21
version_added: 1.0.0
description:
  - With O(provider=falcon) (the default), opens a Falcon Message Center support case unless one with the same
    O(title) and O(type) already exists.
  - "Falcon cases cannot be changed through the API: once opened, CrowdStrike works on them and only comments
    (M(caseops.desk.case_activity)) and attachments (M(caseops.desk.case_attachment)) can be added. So this module
    looks for an existing case first and treats it as the one you asked for: a case with O(title) and O(type) (and,
    if you say so, whose status is open, see O(match_status)) is I(present), and nothing is sent. When several cases
    match, the most recently created one is returned."
  - "How a Falcon case is recognised: the module ends the body of every case it opens with a reference line,
    C(caseops.desk case reference: <32 hex digits>), derived from O(title) and O(type) alone, and looks for that line.
    So the case is found whatever the service does to the stored title (a C(<customer> | ) prefix is accepted), however
    FQL matches text, however many other cases have similar titles, and whatever characters the title holds (no part
    of the title is put into a filter as it is). The found case's title must still be O(title), alone or after a
    C(<customer> |) prefix, and its type O(type)."
  - "Cases opened before the reference line existed (by an earlier version of this collection, or by hand with the
    same title) are still found, by their title: when no case carries the reference, the module searches with the
    letters and digits of the title and compares every case it gets back exactly. Such a case is used as it is; it
    never gets a reference line, since cases cannot be changed."
  - "With O(comment) and O(attachments), one task ensures the whole Falcon case: opened once, commented once, each
    file uploaded once, as M(caseops.desk.case_activity) and M(caseops.desk.case_attachment) would do it, with fewer
    requests and one task's cost (the role C(caseops.desk.falcon_detection_escalation) is built on this)."
  - If the existing Falcon case differs from what you asked for (its body, detections or incidents), the module warns
    and leaves it as it is, since there is no way to update it.
  - With O(provider=unit21), ensures a Unit21 case with the given fields exists, identified by your own O(case_id) or by
    Unit21's O(unit21_id). It creates the case when needed, and otherwise updates only the fields that differ, in one
    request. Closing and reopening is done through O(status) (with a O(disposition) to close).
  - "Unit21 has no lookup by O(case_id): the module tries to create the case, and a 409 answer (the case_id exists) makes
    it search C(/cases/list) for the case, 50 API-created cases per request, newest first. In the worst case that costs
    one request per 50 cases created through the API. Pass O(unit21_id) (returned as RV(unit21_id)) to skip the search:
    the case is then read without a search."
  - "What Unit21 returns, and so what can be compared: C(GET /cases/{unit21_id}) returns the documented
    C(getCaseResponse), which has no C(tags), C(custom_data), C(start_date), C(end_date), C(queue_id), C(alerts),
    C(events) or C(entities). The module reads C(tags) and C(custom_data) from the case's C(/cases/list) item (found by
    the case's creation second, source and status, since the list has no filter by id), so reading a case costs two
    requests. O(start_date), O(end_date), O(queue_id), O(alerts), O(events) and O(entities) are returned by no
    endpoint and cannot be verified: the module keeps a digest of each value it set in the case's C(custom_data), under
    C(caseops_desk_fields), and sends such a field again only when the task asks for a value other than the one it last
    set. A change made to those fields in Unit21 itself is therefore not seen. O(disposition_notes) is compared with
    the newest case action that has notes, and with that record."
  - A create that fails in a way that hides whether it was applied (a timeout, a dropped connection, a gateway error)
    is never sent again blindly; the module searches for the case first and continues with it if it was created.
author:
  - caseops.desk maintainers (@caseops)
options:
  provider:
    description:
      - The case system.
      - Each option below says which provider it applies to; an option of the other provider is refused.
    type: str
    choices: [falcon, unit21]
    default: falcon
  state:
    description:
      - V(present) ensures the case exists (and, for Unit21, holds the given fields).
      - There is no V(absent). Falcon cases cannot be deleted or closed through the API (CrowdStrike closes them; ask
        for it in a comment with M(caseops.desk.case_activity)), and Unit21 has no delete (close a Unit21 case with
        O(status=CLOSED) and a O(disposition) instead).
    type: str
    choices: [present]
    default: present
  title:
    description:
      - The case title.
      - Falcon (required) - together with O(type), it identifies the case. At most 1,000 characters (Falcon publishes
        no limit; a longer title is refused before anything is sent).
      - Unit21 - at most 256 characters; needed to create the case, optional for an existing one.
    type: str
  body:
    description:
      - The text of the case.
      - Falcon - sent when the case is opened, followed by the reference line described above. Required to open a
        case; when a matching case already exists it is not needed. At most 100,000 characters (Falcon publishes no
        limit; a longer body is refused before anything is sent). A body of only spaces is refused.
      - "Falcon - a line C(caseops.desk unit21 case: <unit21_id>) links the case to a Unit21 case (the event source
        C(caseops.desk.falcon_message_center) reads it back as C(event.falcon.unit21_id)); such a line must name a
        number of 1 or more."
      - Unit21 - the case C(description), at most 1024 characters.
    type: str
    aliases: [content, description]
  type:
    description:
      - Falcon only, and required for Falcon. The case type. Together with O(title), it identifies the case.
      - "Known types: V(fc:contact), V(fc:detection-support), V(fc:falcon-product-support), V(fc:incident-support).
        Another C(fc:) type is sent as given, with a warning, since the API may know types the documentation does not."
    type: str
    aliases: [case_type]
  detections:
    description:
      - Falcon only. Detections the case is about, for O(type=fc:detection-support).
      - Each item is a detection ID (for example V(ldt:0123456789abcdef0123456789abcdef:123456)), or a dictionary
        with the keys C(id) and, optionally, C(url) and C(product).
      - An ID holds only letters, digits and C(:), C(_), C(.), C(-) (checked before anything is sent).
    type: list
    elements: raw
  incidents:
    description:
      - Falcon only. Incidents the case is about, for O(type=fc:incident-support).
      - Each item is an incident ID (for example V(inc:0123456789abcdef0123456789abcdef:fedcba9876543210fedcba9876543210)),
        or a dictionary with the keys C(id) and, optionally, C(url).
      - An ID holds only letters, digits and C(:), C(_), C(.), C(-) (checked before anything is sent).
    type: list
    elements: raw
  user_uuid:
    description:
      - Falcon only. The UUID of the Falcon user who opens the case (not an e-mail address).
    type: str
  malware_submission_id:
    description:
      - Falcon only. The ID of a malware submission the case is about.
    type: str
  recon_rule_type:
    description:
      - Falcon only. The Falcon Recon rule type the case is about.
    type: str
  match_status:
    description:
      - Falcon only. Which existing cases count as the one you asked for.
      - V(any) matches a case with the same title and type whatever its status.
      - V(open) only matches cases waiting for your response or for review (status C(1) or C(2)), so a new case is
        opened when the earlier one was closed.
    type: str
    choices: [any, open]
    default: any
  match_detections:
    description:
      - Falcon only. Whether an existing case counts only if it holds every detection of O(detections) (compared by ID,
        exactly, on the cases the search returns).
      - With V(true), escalations of other detections under the same title and type are other cases, and a new case is
        opened for these detections. Needs at least one detection in O(detections).
    type: bool
    default: false
  match_filter:
    description:
      - Falcon only. An extra FQL filter an existing case must also match to count, for example
        V(case.created_time:>'2026-01-01T00:00:00Z').
    type: str
  comment:
    description:
      - Falcon only. A comment the case must have, added as M(caseops.desk.case_activity) adds it. It is posted unless
        the case already has a comment with this text (compared without surrounding whitespace). Needs O(user_uuid).
      - Unlike the body, it is also added to a case that already exists, so one task can open a case and comment on
        it, and a re-run changes nothing.
      - See RV(comment).
    type: str
  attachments:
    description:
      - Falcon only. Files the case must have, as M(caseops.desk.case_attachment) uploads them. Each is uploaded
        unless the case already has a file of the same name and size. Needs O(user_uuid).
      - The names follow Falcon's rules (see M(caseops.desk.case_attachment)) and must be unique in the list; each file
        is at most 15 MB. Every file is read and checked before anything is sent.
      - A found case comes with its attachments, so a file it already has costs no request.
      - See RV(files).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The file name on the case. Required with O(attachments[].content); defaults to the file name of
            O(attachments[].src).
        type: str
      src:
        description:
          - "A file to upload, on the host the task runs on (the controller for C(hosts: localhost))."
        type: path
      content:
        description:
          - Text to upload as a file (UTF-8), instead of O(attachments[].src).
        type: str
  case_id:
    description:
      - Unit21 only. Your own id for the case (at most 128 characters), unique in your Unit21 organisation. It identifies
        the case, which is created when it does not exist.
      - One of O(case_id) and O(unit21_id) is required with Unit21. It cannot be changed once the case exists.
    type: str
  unit21_id:
    description:
      - Unit21 only. Unit21's numeric id of an existing case (an integer, as RV(unit21_id); a string of digits is
        converted). The case is read without a search.
      - A O(unit21_id) that does not exist is an error (give O(case_id) alone to create a case).
      - With O(case_id) as well, the case must have that case_id.
    type: int
  status:
    description:
      - Unit21 only. V(OPEN) or V(CLOSED), in any letter case (returned upper case).
      - Closing needs a O(disposition), unless the case already has one. Setting V(OPEN) on a closed case reopens it.
        A status and disposition change is sent as one update.
      - Without O(unit21_id), V(CLOSED) without O(disposition) is refused before any request.
      - When a case is created without O(status), Unit21 opens it.
    type: str
  disposition:
    description:
      - Unit21 only. The disposition, a free label of at most 128 characters such as V(TRUE_POSITIVE),
        V(FALSE_POSITIVE) or V(UNRESOLVED).
    type: str
  disposition_notes:
    description:
      - Unit21 only. Notes on the disposition.
      - Unit21 does not return it as a field of the case; the notes of the newest case action are compared, and the
        value this module last set (see the description).
    type: str
  start_date:
    description:
      - Unit21 only. When the case starts, as epoch seconds or an ISO 8601 date or date-time (no zone means UTC).
      - Unit21 requires it on create; when not given, a new case starts now. It is never sent to an existing case
        unless given.
      - Unit21 does not return it; it is sent when it differs from the value this module last set (see the
        description).
    type: raw
  end_date:
    description:
      - Unit21 only. When the case ends, as epoch seconds or an ISO 8601 date or date-time. Not before O(start_date).
    type: raw
  tags:
    description:
      - Unit21 only. Tags of the form C(key:value).
      - See O(lists) for how they combine with the case's tags.
    type: list
    elements: str
  queue_id:
    description:
      - Unit21 only. The unit21_id of the case queue.
    type: int
  alerts:
    description:
      - Unit21 only. The unit21_ids of alerts linked to the case. See O(lists).
    type: list
    elements: int
  events:
    description:
      - Unit21 only. Events linked to the case, each a dictionary with C(event_id) (your event id) and C(event_type)
        (C(transaction) or C(action)). See O(lists).
      - A bare event id is refused rather than guessed as a transaction, since Unit21 keys events by id and type.
    type: list
    elements: dict
  entities:
    description:
      - Unit21 only. The entity_ids (your ids) of entities linked to the case. See O(lists).
    type: list
    elements: str
  custom_data:
    description:
      - Unit21 only. Custom data of the case, a dictionary at most 3 levels of dictionaries deep.
      - See O(custom_data_mode). The keys C(caseops_desk_media) and C(caseops_desk_media_unconfirmed) (kept by
        M(caseops.desk.case_attachment)) and C(caseops_desk_fields) (kept by this module) may not be given.
    type: dict
  lists:
    description:
      - Unit21 only. How O(tags), O(alerts), O(events) and O(entities) combine with what the case already holds.
      - V(merge) - the given items must be on the case; others stay. Only the missing items are sent.
      - V(replace) - the case must hold exactly the given items; the whole list is sent when it differs.
    type: str
    choices: [merge, replace]
    default: merge
  custom_data_mode:
    description:
      - Unit21 only. How O(custom_data) combines with the case's custom data.
      - V(merge) - the given keys must hold the given values (compared deeply); other keys stay.
      - V(replace) - the custom data must be exactly O(custom_data), except the collection's own keys (see
        O(custom_data)), whose current values are kept so that what was linked or set is not forgotten.
    type: str
    choices: [merge, replace]
    default: merge
  unit21_case:
    description:
      - Unit21 only, and only with O(unit21_id). The case as an earlier task returned it (RV(case) of this module, or an
        item of RV(caseops.desk.case_info#module:cases)), used instead of reading it again (two requests fewer).
      - It must be the case as it is now, with nothing written to it since that task (for example by
        M(caseops.desk.case_attachment), which records each file it links in the case's C(custom_data)). The module
        compares with it and writes only the difference.
      - It must carry C(unit21_id) (that of O(unit21_id)), C(source), C(tags) and C(custom_data), as a case read with
        its C(/cases/list) item does; a check-mode prediction of a case to be created is refused.
      - With O(custom_data) and O(custom_data_mode=replace) the case is read anyway, since the replace writes back the
        collection's own keys, which must be the current ones.
    type: dict
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.falcon
  - caseops.desk.unit21
  - caseops.desk.attributes.falcon_and_unit21_groups
  - caseops.desk.create_guard
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - Searches as usual and predicts the case it would open or the update it would send, without writing.
      - Falcon - on a found case, the comment and files are looked up as usual and predicted; on a case that would be
        opened, they are predicted without a request.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - Falcon - the diff shows the case that would be opened; an existing case shows no difference. With O(comment), the
        diff also has C(comment) (null before when the case lacks it); with O(attachments), C(attachment_names).
      - Unit21 - the diff shows the fields the task sets, before and after.
notes:
  - Falcon needs the Message Center Read and Write scopes on the Falcon API client.
  - Falcon identity is the title and type, so a title that carries something unique (a detection ID, a ticket
    number) keeps unrelated cases apart.
  - "Falcon - every key the API's C(CaseCreationRequestV2) marks required is sent: C(detections), C(incidents),
    C(malware_submission_id) and C(recon_rule_type) go as an empty list or an empty string when not given."
  - A Falcon case is found with FQL searches (the reference line, then for older cases the title's letters and digits),
    then compared exactly (case and whitespace included, apart from a customer prefix on the title).
  - Unit21 needs an API key with read and write access to cases. Only cases created through the API (source
    C(EXTERNAL)) can be updated; a case made inside Unit21 is returned as it is when it already matches, and refused
    when it would need a change.
  - Unit21 fields are compared after normalising (status upper case, dates as epoch seconds, lists as sets), so a
    re-run reports no change. A field Unit21 does not return for a case cannot be compared; it is sent on every run,
    with a warning.
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

- name: The same in one task - opened once, commented once, each file uploaded once
  caseops.desk.case:
    title: "Detection review: ldt:0123456789abcdef0123456789abcdef:123456"
    type: fc:detection-support
    body: This detection fired on web-01 after a deploy. Is it a false positive?
    detections:
      - ldt:0123456789abcdef0123456789abcdef:123456
    user_uuid: 01234567-89ab-cdef-0123-456789abcdef
    comment: The host was isolated at 10:42 UTC.
    attachments:
      - src: /var/tmp/evidence/process-tree.txt
      - name: triage-notes.txt
        content: "host: web-01; action: isolated"
  register: detection_case

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

- name: Unit21 settings for every Unit21 task of the play
  module_defaults:
    group/caseops.desk.unit21:
      unit21_api_key: "{{ vault_unit21_api_key }}"
      unit21_base_url: https://sandbox1-api.unit21.com
  block:
    - name: A Unit21 case for an incident ticket (created once; re-runs update only what differs)
      caseops.desk.case:
        provider: unit21
        case_id: "INC-{{ ticket }}"
        title: "Suspicious transfers, ticket {{ ticket }}"
        description: Six accounts moved $1M+ between them in four days.
        start_date: "2026-11-20"
        tags:
          - source:caseops
          - priority:high
        entities:
          - user-4711
        events:
          - event_id: txn-100002891
            event_type: transaction
        custom_data:
          ticket: "{{ ticket }}"
      register: u21_case

    - name: Close it, addressed by Unit21's id (one read, no search)
      caseops.desk.case:
        provider: unit21
        unit21_id: "{{ u21_case.unit21_id }}"
        status: CLOSED
        disposition: TRUE_POSITIVE
        disposition_notes: Confirmed with the customer.

    - name: Reopen it, and make its tags exactly these
      caseops.desk.case:
        provider: unit21
        unit21_id: "{{ u21_case.unit21_id }}"
        status: OPEN
        tags:
          - source:caseops
        lists: replace
"""

RETURN = r"""
case:
  description:
    - The case as the API returns it, whether just created, found or updated (for Unit21, read back after the change;
      C(tags) and C(custom_data), which only C(/cases/list) returns, are those sent and those read before the change
      whenever the update's outcome on them is certain, else read back too).
    - Falcon - in check mode, when the case would be opened, the fields that would be sent (the body with its reference
      line), with RV(case.id) null.
    - Unit21 - in check mode, the predicted case; when it would be created, the fields that would be sent, with
      RV(unit21_id) null.
    - The keys listed below are Falcon's; a Unit21 case has C(unit21_id), C(case_id), C(title), C(description),
      C(status), C(disposition), C(disposition_notes), C(disposition_at), C(dispositioned_by), C(created_at),
      C(created_by), C(start_date), C(end_date) (epoch seconds), C(source), C(assigned_to), C(queue_id), C(tags),
      C(custom_data), C(entities), C(events), C(alerts), C(rules), C(actions) and C(checklist), as far as Unit21
      returns them.
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
      description: The text of the case; cases this module opened end with their reference line.
      type: str
      sample: "This detection fired on web-01 after a deploy.\n\ncaseops.desk case reference: 5d41402abc4b2a76b9719d911017c592"
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
    body: "This detection fired on web-01 after a deploy.\n\ncaseops.desk case reference: 5d41402abc4b2a76b9719d911017c592"
    type: fc:detection-support
    status: "2"
    detections: [{"id": "ldt:0123456789abcdef0123456789abcdef:123456", "url": ""}]
    incidents: []
    attachments: []
    created_time: "2026-11-26T09:15:00.000000Z"
comment:
  description:
    - Falcon only, when O(comment) is given. Whether the comment was posted, and the comment.
  returned: success and comment is given
  type: dict
  contains:
    posted:
      description: Whether this run posted the comment (in check mode, would post it).
      type: bool
      sample: true
    activity:
      description:
        - The comment as M(caseops.desk.case_activity) returns it (RV(caseops.desk.case_activity#module:activity)); in
          check mode, when it would be posted, what would be sent, with C(id) null.
      type: dict
      sample: {"id": "a1b2c3", "case_id": "6f3c2e9b8a1d4c7e9f0a1b2c3d4e5f60", "type": "comment", "body": "The host was isolated."}
files:
  description:
    - Falcon only, when O(attachments) is given. One item per file of O(attachments), in the same order.
  returned: success and attachments is given
  type: list
  elements: dict
  contains:
    name:
      description: The file name on the case.
      type: str
      sample: triage-notes.txt
    size:
      description: The file's size in bytes.
      type: int
      sample: 30
    uploaded:
      description: Whether this run uploaded the file (in check mode, would upload it); false when the case had it.
      type: bool
      sample: true
    attachment:
      description:
        - The attachment record (as RV(caseops.desk.case_attachment#module:attachment)); in check mode, when it would be
          uploaded, with C(id) null.
      type: dict
      sample: {"id": "9e8d7c", "name": "triage-notes.txt", "size": 30}
matches:
  description:
    - Falcon only. How many existing cases matched; more than one means the newest was returned (and a warning given).
  returned: success and provider is falcon
  type: int
  sample: 1
unit21_id:
  description:
    - Unit21 only. Unit21's id of the case; pass it as O(unit21_id) to skip the search by O(case_id) on later runs.
    - Null in check mode when the case would be created.
  returned: success and provider is unit21
  type: int
  sample: 100042
changed_fields:
  description:
    - Unit21 only. The fields that were (or in check mode would be) set, in API names (O(body) is C(description)).
    - Empty when nothing changed.
  returned: success and provider is unit21
  type: list
  elements: str
  sample: [disposition, status]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import falcon_cases, providers, unit21_cases
from ansible_collections.caseops.desk.plugins.module_utils.args import check_provider_options, connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.create_guard import guard_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

FALCON_ONLY = ("type", "detections", "incidents", "user_uuid", "malware_submission_id", "recon_rule_type", "match_status",
               "match_filter", "match_detections", "comment", "attachments")
UNIT21_ONLY = ("case_id", "unit21_id", "status", "disposition", "disposition_notes", "start_date", "end_date", "tags",
               "queue_id", "alerts", "events", "entities", "custom_data", "lists", "custom_data_mode", "unit21_case")
OPTION_OWNERS = dict([(name, ("falcon",)) for name in FALCON_ONLY] + [(name, ("unit21",)) for name in UNIT21_ONLY])
OPTION_DEFAULTS = dict(match_status="any", match_detections=False, lists="merge", custom_data_mode="merge")


def run(module, client):
    provider = module.params.get("provider") or "falcon"
    check_provider_options(module.params, provider, OPTION_OWNERS, OPTION_DEFAULTS)
    if provider == "unit21":
        return unit21_cases.run_case(module, client)
    return falcon_cases.run_case(module, client)


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("falcon", "unit21")
    # Used by Falcon creates; Unit21 refuses a second case_id with 409, and media are recorded in the case.
    argument_spec.update(guard_argument_spec())
    argument_spec.update(
        provider=dict(type="str", choices=["falcon", "unit21"], default="falcon"),
        state=dict(type="str", choices=["present"], default="present"),
        title=dict(type="str"),
        body=dict(type="str", aliases=["content", "description"]),
        type=dict(type="str", aliases=["case_type"]),
        detections=dict(type="list", elements="raw"),
        incidents=dict(type="list", elements="raw"),
        user_uuid=dict(type="str"),
        malware_submission_id=dict(type="str"),
        recon_rule_type=dict(type="str"),
        match_status=dict(type="str", choices=["any", "open"], default="any"),
        match_filter=dict(type="str"),
        match_detections=dict(type="bool", default=False),
        comment=dict(type="str"),
        attachments=dict(type="list", elements="dict", options=dict(
            name=dict(type="str"),
            src=dict(type="path"),
            content=dict(type="str"),
        ), mutually_exclusive=[("src", "content")], required_one_of=[("src", "content")], required_by={"content": "name"}),
        case_id=dict(type="str"),
        unit21_id=dict(type="int"),
        status=dict(type="str"),
        disposition=dict(type="str"),
        disposition_notes=dict(type="str"),
        start_date=dict(type="raw"),
        end_date=dict(type="raw"),
        tags=dict(type="list", elements="str"),
        queue_id=dict(type="int"),
        alerts=dict(type="list", elements="int"),
        events=dict(type="list", elements="dict"),
        entities=dict(type="list", elements="str"),
        custom_data=dict(type="dict"),
        lists=dict(type="str", choices=["merge", "replace"], default="merge"),
        custom_data_mode=dict(type="str", choices=["merge", "replace"], default="merge"),
        unit21_case=dict(type="dict"),
    )
    return dict(argument_spec=argument_spec, supports_check_mode=True,
                required_if=[("provider", "falcon", ("title", "type"))])


build_client = providers.client_from_params


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
