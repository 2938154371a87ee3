#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: case_attachment
short_description: Attach a file to a CrowdStrike Falcon support case or a Unit21 case, or download a Falcon attachment
version_added: 1.0.0
description:
  - "With O(provider=falcon) (the default) and O(state=present), uploads a file to a Falcon Message Center case, unless
    an attachment with the same name and the same size in bytes is already on the case."
  - With O(provider=falcon) and O(state=downloaded), downloads an attachment to O(dest). The file is only written when
    its SHA-256 checksum differs from the one of the file already at O(dest), and it is written to a temporary file in
    the same directory first, then renamed into place, so O(dest) never holds half a file.
  - The Message Center API cannot delete or replace an attachment, so there is no O(state=absent), and a new version of
    a file needs a new name.
  - "With O(provider=unit21), links a file as media to the Unit21 case O(unit21_id) (C(PUT /cases/{unit21_id}/link-media)),
    with an optional O(media_type) and O(media_custom_data)."
  - "Unit21 has no API to list, read, download or remove a case's media. So that a re-run does not link the same file
    again, the module records every file it linked in the case's C(custom_data), under the reserved key
    C(caseops_desk_media): C({\"caseops_desk_media\": {\"<sha256 of the content>\": [\"<name>\", ...]}}). A file whose
    SHA-256 checksum and name are recorded counts as linked, and nothing is sent. This record is two levels of objects
    deep, within Unit21's limit of three levels for C(custom_data)."
  - "Unit21's C(GET /cases/{unit21_id}) does not return C(custom_data) (its documented C(getCaseResponse) has no such
    field), so the module reads the record from the case's C(/cases/list) item, found by the case's creation second,
    source and status (the list has no filter by id). A Unit21 run therefore reads the case with two requests (one
    when the GET does return C(custom_data); none when O(unit21_case) gives the case an earlier task read). When the
    file is not recorded, it links it, then writes the record with C(options.merge_custom_data=true) and only the
    keys C(caseops_desk_media) and C(caseops_desk_media_unconfirmed), so the rest of C(custom_data) is kept."
  - "Unit21 refuses request bodies of 1 MB or more. A file whose base64 JSON body would reach 1,000,000 bytes (a file
    of about 730 KB or more) is sent as C(multipart/form-data) instead, the other form C(link-media) documents, which
    carries the file's bytes as they are; files up to 5 MB are linked that way."
author:
  - caseops.desk maintainers (@caseops)
options:
  provider:
    description:
      - The case system that holds the case.
      - V(falcon) is CrowdStrike Falcon Message Center, and uses the O(falcon_client_id) family of options.
      - V(unit21) is Unit21, and uses O(unit21_api_key) and O(unit21_base_url).
      - Options that belong to the other provider are refused, not ignored.
    type: str
    choices: [falcon, unit21]
    default: falcon
  state:
    description:
      - V(present) uploads (Falcon) or links (Unit21) O(src) or O(content) to the case.
      - V(downloaded) downloads the attachment O(attachment_id) to O(dest). Falcon only; it is refused with
        O(provider=unit21), because Unit21 has no API to read or download media.
    type: str
    choices: [present, downloaded]
    default: present
  case_id:
    description:
      - Falcon only. The ID of the Falcon case.
      - Required with O(state=present).
      - Optional with O(state=downloaded). When it is set, the attachment must be on this case, RV(attachment) holds its
        full record, and O(dest) may be a directory (see O(dest)). This costs one more request.
      - For Unit21, use O(unit21_id).
    type: str
  unit21_id:
    description:
      - Unit21 only, and required with it. Unit21's numeric ID of the case (C(unit21_id)), for example V(100001), as
        returned when the case was created or by the case webhooks. Unit21 has no lookup by your own C(case_id).
      - An integer, as in Unit21's API and in every module of this collection; a string of digits is converted.
    type: int
  src:
    description:
      - The file to upload or link, on the controller.
      - Mutually exclusive with O(content).
      - "The Falcon rules are checked before anything is sent: at most 15 MB (15,728,640 bytes), and the name rules
        and file types listed under O(name)."
      - "The Unit21 rules are checked before anything is sent, and before the file is read: at most 5 MB
        (5,242,880 bytes), and the file types listed under O(name)."
    type: path
  content:
    description:
      - Text to upload or link as a file instead of O(src), encoded as UTF-8. Needs O(name).
      - For binary files, use O(src).
    type: str
  name:
    description:
      - The name of the file on the case. Defaults to the file name of O(src); required with O(content).
      - "Falcon: it must start with a letter, a digit, V(_) or V(-), contain only letters, digits, V(-), V(_), V(.),
        spaces and tabs (no line breaks, which a multipart upload would turn into C(%0A)), be at most 255 characters
        long, and end with one of the extensions V(png), V(bmp), V(jpg), V(jpeg), V(gif), V(pdf), V(doc), V(docx),
        V(xls), V(xlsx), V(pptx), V(txt) or V(csv) (in any case). An attachment with this name and the same size
        already on the case counts as this file, so the upload is skipped."
      - "Unit21: it must end with one of the extensions V(txt), V(pdf), V(mp4), V(mov), V(wmv), V(avi), V(mkv), V(png),
        V(jpg), V(jpeg), V(tiff), V(gif), V(raw) or V(eps) (in any case). The same content recorded under this name
        counts as this file, so the link is skipped; the same name with other content is linked."
    type: str
  user_uuid:
    description:
      - Falcon only. The UUID of the Falcon user the upload is made on behalf of (not an e-mail address), for example
        V(01234567-89ab-cdef-0123-456789abcdef). Required to upload.
    type: str
  media_type:
    description:
      - Unit21 only. The C(media_type) the media is linked with.
      - "Unit21 accepts any string. The values it recognises are V(IMAGE_PROFILE_PICTURE),
        V(IMAGE_DRIVERS_LICENSE_FRONT), V(IMAGE_DRIVERS_LICENSE_BACK), V(IMAGE_PASSPORT_FRONT), V(IMAGE_ID_CARD_FRONT),
        V(IMAGE_ID_CARD_BACK), V(IMAGE_FACE_IMAGE), V(IMAGE_CHECK_FRONT) and V(IMAGE_CHECK_BACK)."
      - It is not part of the file's identity. Unit21 cannot change linked media, so a different value for a file that
        is already linked changes nothing.
    type: str
  media_custom_data:
    description:
      - Unit21 only. The C(custom_data) object stored with the media, at most three levels of nested objects deep.
      - Like O(media_type), it is sent only when the file is linked and is not part of the file's identity.
    type: dict
  allow_duplicates:
    description:
      - Unit21 only. Link the file even when it is recorded as linked. The task then always reports a change.
      - "Required to link to a case whose C(source) is C(INTERNAL) (made by Unit21's rules or agents): the API refuses
        updates to such cases, so the record cannot be written and every run links the file again. Without this
        option, the module refuses to link to an INTERNAL case."
    type: bool
    default: false
  relink_unconfirmed:
    description:
      - Unit21 only. Link the file again when its earlier link is recorded as unconfirmed (see the notes), that is
        when the earlier C(link-media) failed in a way that hides whether Unit21 stored the file.
      - Set it only after checking in the Unit21 web application that the file is missing from the case; otherwise
        the case gets a second copy. Without it, such a file is not sent and the task warns.
      - When the new link succeeds, the file is recorded as linked and later runs no longer warn.
    type: bool
    default: false
  unit21_case:
    description:
      - Unit21 only. The case O(unit21_id) as an earlier task returned it (RV(caseops.desk.case#module:case), or an item
        of RV(caseops.desk.case_info#module:cases)), used instead of reading it again (two requests fewer).
      - It must be the case as it is now, with nothing written to it since that task. Each link writes the case's
        record of linked files, so in a loop that links several files to one case, give it to the first file only (or
        to each file that the previous ones did not change); a case from before a link would make the module write an
        outdated record, and a later run could link a file twice.
      - It must carry C(unit21_id) (that of O(unit21_id)), C(source), C(tags) and C(custom_data), as a case read with
        its C(/cases/list) item does.
    type: dict
  attachment_id:
    description:
      - Falcon only. The ID of the attachment to download, as in RV(attachment.id) or the C(attachments) of a case from
        M(caseops.desk.case_info). Required with O(state=downloaded).
    type: str
  dest:
    description:
      - Falcon only. Where to write the downloaded attachment. Required with O(state=downloaded).
      - Its directory must exist; it is not created.
      - If O(dest) is an existing directory, the file is written into it under the attachment's name. That needs
        O(case_id), because only the case tells the name, and the name must be a plain file name (no C(/), no C(..)).
      - For safety, the module refuses to write when O(dest) (or the file in the directory) is a symbolic link or
        anything else that is not a regular file.
      - O(mode), O(owner), O(group) and the other file options apply to this file; a change of those alone reports
        RV(ignore:changed).
    type: path
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.falcon
  - caseops.desk.unit21
  - caseops.desk.attributes.falcon_and_unit21_groups
  - caseops.desk.create_guard
  - ansible.builtin.files
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - A Falcon upload reads the case and predicts the result; RV(attachment) is the predicted record, whose C(id),
        C(mime_type) and C(created_time) are V(null).
      - A Falcon download fetches the attachment and compares checksums, but writes nothing.
      - A Unit21 link reads the case (one request) and predicts from its record; nothing is linked or written.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - A Falcon upload shows the names of the case's attachments before and after.
      - A Falcon download shows the checksum of O(dest) before and after, and any change of mode or owner.
      - A Unit21 link shows the case's C(caseops_desk_media) record before and after.
notes:
  - Uploading needs the Message Center Write scope on the Falcon API client; downloading needs Message Center Read.
  - The Falcon upload request is never sent twice blindly. If the connection fails after the file was sent, the module
    reads the case again and takes an attachment with the same name and size as the one it uploaded.
  - The identity of a Falcon attachment is its name and size, not its content, because the API gives no checksum.
    A changed file of exactly the same size under the same name is not uploaded again.
  - "Unit21 needs an API key with write access to cases and read access to cases (the case and its list item are
    read first)."
  - "What cannot be verified: Unit21 cannot list the media of a case, so the module's own record is the only evidence
    of what was linked; a file removed in the Unit21 web application still counts as linked. Whether Unit21's 1 MB body
    limit also applies to multipart bodies is not documented; if it does, Unit21 answers a file of about 1 MB or more
    with an error and nothing is linked or recorded."
  - "A Unit21 link that fails in a way that hides whether Unit21 stored it (a timeout, a dropped connection, or HTTP
    502 or 504 from a gateway) is not sent again, because the API cannot list media to check and a resend could link
    the file twice. The module records the file as unconfirmed (C(custom_data.caseops_desk_media_unconfirmed)) and
    fails, asking you to check the case in the Unit21 web application. Later runs do not link it again, and warn with
    the same remedy on every run until it is re-linked. Only if the file is missing there, run the task once with
    O(relink_unconfirmed=true). A duplicate is avoided at the price of a file that may be missing and that this message
    points to. HTTP 423, 429 and 503 mean Unit21 did not act on the request, so those are retried."
  - "If the record cannot be written after a successful link, the task fails and says that the next run will link the
    file again."
  - "The record lives in the case's C(custom_data). An update of the case that replaces C(custom_data) without keeping
    C(caseops_desk_media) (one without C(options.merge_custom_data), made outside this collection) erases it; the next
    run then links the file again. M(caseops.desk.case) keeps the key."
  - "Do not link to the same Unit21 case from tasks running in parallel: each writes the record it read plus its own
    file, so one record can replace the other."
seealso:
  - module: caseops.desk.case_info
  - module: caseops.desk.falcon_auth
  - module: caseops.desk.case
"""

EXAMPLES = r"""
- name: Attach a report to a case
  caseops.desk.case_attachment:
    case_id: "{{ case.id }}"
    src: /srv/evidence/host-triage.pdf
    user_uuid: "{{ falcon_user_uuid }}"
  register: uploaded

- name: Attach a short note written by the play
  caseops.desk.case_attachment:
    case_id: "{{ case.id }}"
    name: affected-hosts.csv
    content: |
      hostname,first_seen
      web-01,2026-11-26T07:15:00Z
    user_uuid: "{{ falcon_user_uuid }}"

- name: Download an attachment, readable by its owner only
  caseops.desk.case_attachment:
    state: downloaded
    attachment_id: "{{ uploaded.attachment.id }}"
    dest: /srv/evidence/returned/host-triage.pdf
    mode: "0600"

- name: Download every attachment of a case into a directory, under their own names
  caseops.desk.case_attachment:
    state: downloaded
    case_id: "{{ case.id }}"
    attachment_id: "{{ item.id }}"
    dest: /srv/evidence/returned/
  loop: "{{ found.cases[0].attachments }}"
  loop_control:
    label: "{{ item.name }}"

- name: Link evidence to Unit21 cases (the API key and host are set once for every Unit21 task)
  module_defaults:
    group/caseops.desk.unit21:
      unit21_api_key: "{{ vault_unit21_api_key }}"
      unit21_base_url: https://sandbox1-api.unit21.com
  block:
    - name: Link the front of an ID card, with Unit21's media type and our own metadata
      caseops.desk.case_attachment:
        provider: unit21
        unit21_id: "{{ u21_case.unit21_id }}"
        src: /srv/kyc/customer-4711/id-front.jpg
        media_type: IMAGE_ID_CARD_FRONT
        media_custom_data:
          source: kyc_portal
          reviewed: false

    - name: Link a summary written by the play (linked once, however often the play runs)
      caseops.desk.case_attachment:
        provider: unit21
        unit21_id: "{{ u21_case.unit21_id }}"
        name: investigation-summary.txt
        content: |
          Accounts 4711 and 4712 share a device; both were frozen on 2026-11-26.

    - name: Link a file to a case Unit21 made itself (INTERNAL), which cannot hold the record
      caseops.desk.case_attachment:
        provider: unit21
        unit21_id: "{{ alert_case.unit21_id }}"
        src: /srv/kyc/customer-4711/statement.pdf
        allow_duplicates: true
      # Every run links the file again, so run it once, not on every play.
      when: not statement_linked | default(false)
"""

RETURN = r"""
attachment:
  description:
    - The attachment record.
    - After a Falcon upload, the new attachment, or the one already on the case that made the upload unnecessary.
    - In check mode, the predicted record for a Falcon upload (C(id), C(mime_type) and C(created_time) are V(null)).
    - For a Falcon download without O(case_id), only C(id) and C(mime_type) (the type the file was served with) are known.
    - "With O(provider=unit21), the file as this task gives it: C(unit21_id), C(name), C(size), C(sha256), C(media_type)
      and C(custom_data). Unit21 cannot show linked media, so these are not read back."
  returned: success
  type: dict
  contains:
    id:
      description: The attachment ID. Falcon only.
      type: str
      sample: 9b2d6c1e4f8a4b0c9d3e2f1a0b9c8d7e
    name:
      description: The file name.
      type: str
      sample: host-triage.pdf
    mime_type:
      description: The MIME type. Falcon only.
      type: str
      sample: application/pdf
    size:
      description: The size in bytes.
      type: int
      sample: 48213
    created_by:
      description: Who uploaded it (for uploads through the API, the O(user_uuid)). Falcon only.
      type: str
      sample: 01234567-89ab-cdef-0123-456789abcdef
    created_time:
      description: When it was uploaded. Falcon only.
      type: str
      sample: "2026-11-26T07:15:00.000000Z"
    unit21_id:
      description: The Unit21 case. Unit21 only.
      type: int
      sample: 100001
    sha256:
      description: The SHA-256 checksum of the content, the key of the file in RV(media_record). Unit21 only.
      type: str
      sample: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
    media_type:
      description: O(media_type), or V(null). Unit21 only.
      type: str
      sample: IMAGE_ID_CARD_FRONT
    custom_data:
      description: O(media_custom_data), or V(null). Unit21 only.
      type: dict
      sample: {"source": "kyc_portal"}
  sample:
    id: 9b2d6c1e4f8a4b0c9d3e2f1a0b9c8d7e
    name: host-triage.pdf
    mime_type: application/pdf
    size: 48213
    created_by: 01234567-89ab-cdef-0123-456789abcdef
    created_time: "2026-11-26T07:15:00.000000Z"
media_record:
  description:
    - "The case's record of the files linked by this collection, C(custom_data.caseops_desk_media) after the task
      (predicted in check mode): each content's SHA-256 checksum mapped to the names it was linked under."
    - Empty for an INTERNAL case, which cannot hold the record.
  returned: O(provider=unit21)
  type: dict
  sample: {"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae": ["id-front.jpg"]}
media_unconfirmed:
  description:
    - "The case's record of files whose link is unconfirmed, C(custom_data.caseops_desk_media_unconfirmed) after the
      task (predicted in check mode), in the layout of RV(media_record). A file stays there until it is linked again
      with O(relink_unconfirmed=true)."
  returned: O(provider=unit21)
  type: dict
  sample: {}
dest:
  description: The file written (or that would be written in check mode). When O(dest) is a directory, the file inside it.
  returned: O(state=downloaded)
  type: str
  sample: /srv/evidence/returned/host-triage.pdf
checksum:
  description: The SHA-256 checksum of the downloaded content.
  returned: O(state=downloaded)
  type: str
  sample: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
size:
  description:
    - The size of the file at RV(dest) in bytes, which is the size of the downloaded content once it is written.
    - In check mode, when a different file is already at RV(dest), the size of that file.
  returned: O(state=downloaded)
  type: int
  sample: 48213
mode:
  description: The permissions of the file at RV(dest), as Ansible reports them for every result with a C(dest).
  returned: O(state=downloaded) and the file exists
  type: str
  sample: "0640"
owner:
  description: The owner of the file at RV(dest).
  returned: O(state=downloaded) and the file exists
  type: str
  sample: root
group:
  description: The group of the file at RV(dest).
  returned: O(state=downloaded) and the file exists
  type: str
  sample: root
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import falcon_attachments, providers, unit21_media
from ansible_collections.caseops.desk.plugins.module_utils.args import check_provider_options, connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.create_guard import guard_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.file_payload import option_text, read_file_payload
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

# Options that mean something for one provider only; given for the other, they are refused (never ignored).
PROVIDER_OPTIONS = {
    "case_id": ("falcon",), "user_uuid": ("falcon",), "attachment_id": ("falcon",), "dest": ("falcon",),
    "unit21_id": ("unit21",), "media_type": ("unit21",), "media_custom_data": ("unit21",),
    "allow_duplicates": ("unit21",), "relink_unconfirmed": ("unit21",), "unit21_case": ("unit21",),
}
OPTION_DEFAULTS = {"allow_duplicates": False, "relink_unconfirmed": False}


def check_options(params):
    """Refusals that need neither credentials nor a request, for both providers."""
    provider = params["provider"]
    if provider == "unit21" and params["state"] == "downloaded":
        raise InvalidInputError("state=downloaded is not possible with provider=unit21: Unit21 has no API to read or "
                                "download the media linked to a case (link-media only adds files). Open the case in the "
                                "Unit21 web application to get its files.")
    check_provider_options(params, provider, PROVIDER_OPTIONS, OPTION_DEFAULTS)
    if params["state"] == "present":
        needed = "case_id" if provider == "falcon" else "unit21_id"
        if not option_text(params, needed):
            # Worded like Ansible's own required_if message, which cannot depend on two options.
            raise InvalidInputError("provider is %s and state is present but all of the following are missing: %s"
                                    % (provider, needed))


def build_client(params):
    check_options(params)
    return providers.client_from_params(params)


def run(module, client):
    if module.params["provider"] == "unit21":
        return unit21_media.link(module, client)
    if module.params["state"] == "downloaded":
        return falcon_attachments.download(module, client, option_text(module.params, "attachment_id"),
                                           option_text(module.params, "case_id"))
    return upload(module, client)


def upload(module, client):
    params = module.params
    name, data = read_file_payload(params, falcon_attachments.check_name, falcon_attachments.check_size, "attachment")
    return falcon_attachments.upload(module, client, option_text(params, "case_id"), option_text(params, "user_uuid"), name, data)


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("falcon", "unit21")
    # Used by Falcon creates; Unit21 refuses a second case_id with 409, and media are recorded in the case.
    argument_spec.update(guard_argument_spec())
    argument_spec.update(
        provider=dict(type="str", choices=["falcon", "unit21"], default="falcon"),
        state=dict(type="str", choices=["present", "downloaded"], default="present"),
        case_id=dict(type="str"),
        unit21_id=dict(type="int"),
        media_type=dict(type="str"),
        media_custom_data=dict(type="dict"),
        allow_duplicates=dict(type="bool", default=False),
        relink_unconfirmed=dict(type="bool", default=False),
        unit21_case=dict(type="dict"),
        src=dict(type="path"),
        content=dict(type="str"),
        name=dict(type="str"),
        user_uuid=dict(type="str"),
        attachment_id=dict(type="str"),
        dest=dict(type="path"),
    )
    return dict(
        argument_spec=argument_spec,
        supports_check_mode=True,
        add_file_common_args=True,
        mutually_exclusive=[("src", "content"), ("src", "dest"), ("content", "dest"),
                            ("src", "attachment_id"), ("content", "attachment_id")],
        required_if=[
            # case_id (Falcon) or unit21_id (Unit21) is checked by check_options.
            ("state", "present", ("src", "content"), True),
            ("state", "downloaded", ("attachment_id", "dest")),
        ],
        required_by={"content": "name"},
    )


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
