#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: case_attachment
short_description: Upload a file to a CrowdStrike Falcon support case, or download an attachment
version_added: 0.1.0
description:
  - With O(state=present), uploads a file to a Falcon Message Center case, unless an attachment with the same name and
    the same size in bytes is already on the case.
  - With O(state=downloaded), downloads an attachment to O(dest). The file is only written when its SHA-256 checksum
    differs from the one of the file already at O(dest), and it is written to a temporary file in the same directory
    first, then renamed into place, so O(dest) never holds half a file.
  - The Message Center API cannot delete or replace an attachment, so there is no O(state=absent), and a new version of
    a file needs a new name.
author:
  - caseops.desk maintainers (@caseops)
options:
  provider:
    description:
      - The case system that holds the case. Only V(falcon) is available.
    type: str
    choices: [falcon]
    default: falcon
  state:
    description:
      - V(present) uploads O(src) or O(content) to the case O(case_id).
      - V(downloaded) downloads the attachment O(attachment_id) to O(dest).
    type: str
    choices: [present, downloaded]
    default: present
  case_id:
    description:
      - The ID of the case.
      - Required with O(state=present).
      - Optional with O(state=downloaded). When it is set, the attachment must be on this case, RV(attachment) holds its
        full record, and O(dest) may be a directory (see O(dest)). This costs one more request.
    type: str
  src:
    description:
      - The file to upload, on the controller.
      - Mutually exclusive with O(content).
      - "The Falcon rules are checked before anything is sent: at most 15 MB (15,728,640 bytes), and the name rules
        and file types listed under O(name)."
    type: path
  content:
    description:
      - Text to upload as a file instead of O(src), encoded as UTF-8. Needs O(name).
      - For binary files, use O(src).
    type: str
  name:
    description:
      - The name of the attachment on the case. Defaults to the file name of O(src); required with O(content).
      - "It must start with a letter, a digit, V(_) or V(-), contain only letters, digits, V(-), V(_), V(.) and spaces,
        be at most 255 characters long, and end with one of the extensions V(png), V(bmp), V(jpg), V(jpeg), V(gif),
        V(pdf), V(doc), V(docx), V(xls), V(xlsx), V(pptx), V(txt) or V(csv) (in any case)."
      - An attachment with this name and the same size already on the case counts as this file, so the upload is skipped.
    type: str
  user_uuid:
    description:
      - The UUID of the Falcon user the upload is made on behalf of (not an e-mail address), for example
        V(01234567-89ab-cdef-0123-456789abcdef). Required to upload.
    type: str
  attachment_id:
    description:
      - The ID of the attachment to download, as in RV(attachment.id) or the C(attachments) of a case from
        M(caseops.desk.case_info). Required with O(state=downloaded).
    type: str
  dest:
    description:
      - Where to write the downloaded attachment. Required with O(state=downloaded).
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
  - ansible.builtin.files
  - caseops.desk.attributes.falcon_group
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - An upload reads the case and predicts the result; RV(attachment) is the predicted record, whose C(id),
        C(mime_type) and C(created_time) are V(null).
      - A download fetches the attachment and compares checksums, but writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - An upload shows the names of the case's attachments before and after.
      - A download shows the checksum of O(dest) before and after, and any change of mode or owner.
notes:
  - Uploading needs the Message Center Write scope on the Falcon API client; downloading needs Message Center Read.
  - The upload request is never sent twice blindly. If the connection fails after the file was sent, the module reads
    the case again and takes an attachment with the same name and size as the one it uploaded.
  - The identity of an uploaded file is its name and size, not its content, because the API gives no checksum.
    A changed file of exactly the same size under the same name is not uploaded again.
seealso:
  - module: caseops.desk.case_info
  - module: caseops.desk.falcon_auth
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
"""

RETURN = r"""
attachment:
  description:
    - The attachment record.
    - After an upload, the new attachment, or the one already on the case that made the upload unnecessary.
    - In check mode, the predicted record for an upload (C(id), C(mime_type) and C(created_time) are V(null)).
    - For a download without O(case_id), only C(id) and C(mime_type) (the type the file was served with) are known.
  returned: success
  type: dict
  contains:
    id:
      description: The attachment ID.
      type: str
      sample: 9b2d6c1e4f8a4b0c9d3e2f1a0b9c8d7e
    name:
      description: The file name.
      type: str
      sample: host-triage.pdf
    mime_type:
      description: The MIME type.
      type: str
      sample: application/pdf
    size:
      description: The size in bytes.
      type: int
      sample: 48213
    created_by:
      description: Who uploaded it (for uploads through the API, the O(user_uuid)).
      type: str
      sample: 01234567-89ab-cdef-0123-456789abcdef
    created_time:
      description: When it was uploaded.
      type: str
      sample: "2026-11-26T07:15:00.000000Z"
  sample:
    id: 9b2d6c1e4f8a4b0c9d3e2f1a0b9c8d7e
    name: host-triage.pdf
    mime_type: application/pdf
    size: 48213
    created_by: 01234567-89ab-cdef-0123-456789abcdef
    created_time: "2026-11-26T07:15:00.000000Z"
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

import hashlib
import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.caseops.desk.plugins.module_utils import falcon
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError, NotFoundError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

# The rules of CaseAddAttachment (falcon_message_center.md 1.2 and 3.5), checked before sending.
FALCON_MAX_BYTES = 15 * 1024 * 1024
FALCON_MAX_NAME = 255
FALCON_EXTENSIONS = ("png", "bmp", "jpg", "jpeg", "gif", "pdf", "doc", "docx", "xls", "xlsx", "pptx", "txt", "csv")
FALCON_NAME_START = re.compile(r"[a-zA-Z0-9_-]")
FALCON_NAME_CHARS = re.compile(r"[a-zA-Z0-9_.\s-]+\Z", re.ASCII)


def run(module, client):
    if module.params["state"] == "downloaded":
        return download(module, client)
    return upload(module, client)


# -- upload ------------------------------------------------------------------------------
def upload(module, client):
    params = module.params
    case_id = _text(params, "case_id")
    if not case_id:
        raise InvalidInputError("case_id must not be empty: give the ID of the case to attach the file to.")
    name, data = upload_payload(params)
    user_uuid = _text(params, "user_uuid")
    if not user_uuid:
        raise InvalidInputError("user_uuid is required to upload to Falcon: the UUID of the Falcon user the upload is made for.")
    falcon.check_user_uuid(user_uuid)

    attachments = case_attachments(client, case_id)
    before = dict(attachments=sorted(a.get("name") or "" for a in attachments))
    existing = same_file(attachments, name, len(data))
    if existing is not None:
        return _result(module, False, existing, before, before)

    after = dict(attachments=sorted(before["attachments"] + [name]))
    if module.check_mode:
        predicted = dict(id=None, name=name, mime_type=None, size=len(data), created_by=user_uuid, created_time=None)
        return _result(module, True, predicted, before, after)

    def recover():
        # The upload may have been stored before the connection broke: take it if it is there now.
        return same_file(case_attachments(client, case_id), name, len(data))

    attachment = client.add_attachment(case_id, user_uuid, name, data, recover=recover)
    return _result(module, True, attachment, before, after)


def upload_payload(params):
    """(name, bytes) to upload, with every Falcon rule checked; nothing is sent before this passes."""
    src = params.get("src")
    if src:
        if not os.path.isfile(src):
            raise InvalidInputError("src %s does not exist or is not a regular file." % src)
        name = _text(params, "name") or os.path.basename(src)
        check_name(name)
        size = os.path.getsize(src)
        check_size(size, name)
        with open(src, "rb") as handle:
            data = handle.read()
    else:
        name = _text(params, "name")
        if not name:
            raise InvalidInputError("name is required with content: the file name the attachment gets on the case.")
        check_name(name)
        data = to_bytes(params.get("content") or "", errors="surrogate_or_strict")
    check_size(len(data), name)
    return name, data


def check_size(size, name):
    if size > FALCON_MAX_BYTES:
        raise InvalidInputError("%s is %d bytes; Falcon accepts attachments of at most 15 MB (%d bytes)."
                                % (name, size, FALCON_MAX_BYTES))


def check_name(name):
    """Raise InvalidInputError naming the Falcon file-name rule that ``name`` breaks."""
    if len(name) > FALCON_MAX_NAME:
        raise InvalidInputError("The attachment name is %d characters long; Falcon allows at most %d."
                                % (len(name), FALCON_MAX_NAME))
    if not FALCON_NAME_START.match(name):
        raise InvalidInputError("The attachment name %r must start with a letter, a digit, '_' or '-'." % name)
    if not FALCON_NAME_CHARS.match(name):
        raise InvalidInputError("The attachment name %r may only contain letters, digits, '-', '_', '.' and spaces." % name)
    extension = name.rsplit(".", 1)[1].lower() if "." in name else ""
    if extension not in FALCON_EXTENSIONS:
        raise InvalidInputError("The attachment name %r has %s; Falcon accepts only these file types: %s."
                                % (name, "the extension %r" % extension if extension else "no extension",
                                   ", ".join(FALCON_EXTENSIONS)))


def case_attachments(client, case_id):
    cases = client.get_cases([case_id])[0]
    case = next((c for c in cases if c.get("id") == case_id), None)
    if case is None:
        raise NotFoundError("Falcon case %s does not exist (or this API client cannot see it)." % case_id,
                            vendor="Falcon")
    return [a for a in (case.get("attachments") or []) if isinstance(a, dict)]


def same_file(attachments, name, size):
    """The attachment with this name and size, or None (the newest one if there are several)."""
    for attachment in reversed(attachments):
        if attachment.get("name") == name and _as_int(attachment.get("size")) == size:
            return attachment
    return None


# -- download ------------------------------------------------------------------------------
def download(module, client):
    params = module.params
    attachment_id = _text(params, "attachment_id")
    if not attachment_id:
        raise InvalidInputError("attachment_id must not be empty: give the ID of the attachment to download.")
    dest = params["dest"]
    case_id = _text(params, "case_id")
    into_directory = check_dest(dest, directory_allowed=bool(case_id))

    record = None
    if case_id:
        record = next((a for a in case_attachments(client, case_id) if a.get("id") == attachment_id), None)
        if record is None:
            raise NotFoundError("Attachment %s is not on Falcon case %s." % (attachment_id, case_id), vendor="Falcon")
    path = dest
    if into_directory:
        path = os.path.join(dest, plain_file_name(record.get("name")))
        check_dest(path, directory_allowed=False)

    content, mime_type = client.download_attachment(attachment_id)
    if record is None:
        record = dict(id=attachment_id, mime_type=mime_type)

    checksum = hashlib.sha256(content).hexdigest()
    exists = os.path.exists(path)
    old_checksum = module.sha256(path) if exists else None
    changed = old_checksum != checksum
    diff = dict(before=dict(path=path, checksum=old_checksum), after=dict(path=path, checksum=checksum))
    if changed and not module.check_mode:
        write_atomically(module, path, content)
        exists = True
    if exists:
        # In check mode this only predicts; a missing file is already a change.
        file_args = module.load_file_common_arguments(module.params, path=path)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=diff)
    if old_checksum is None:
        # The attributes seen were those of the file just written, not of a file that was there before.
        diff["before"] = dict(path=path, checksum=None)
    result = dict(changed=changed, attachment=record, dest=path, checksum=checksum, size=len(content))
    if module._diff:
        result["diff"] = diff
    return result


def check_dest(path, directory_allowed):
    """Refuse destinations the module must not write through; True when ``path`` is a directory to write into."""
    if os.path.islink(path):
        raise InvalidInputError("dest %s is a symbolic link; refusing to write through it. Give the path of a regular "
                                "file (or of a directory, with case_id)." % path)
    if os.path.isdir(path):
        if not directory_allowed:
            raise InvalidInputError("dest %s is a directory. Give the full path of the file to write, or set case_id "
                                    "so the attachment is written into the directory under its own name." % path)
        return True
    if os.path.lexists(path) and not os.path.isfile(path):
        raise InvalidInputError("dest %s exists and is not a regular file; refusing to replace it." % path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise InvalidInputError("The directory of dest, %s, does not exist; create it first (for example with "
                                "ansible.builtin.file state=directory)." % parent)
    return False


def plain_file_name(name):
    """The attachment's name, if it is safe to use as a file name inside dest."""
    if not name or "/" in name or "\\" in name or "\0" in name or ".." in name or name == ".":
        raise InvalidInputError("The attachment's name %r cannot be used as a file name inside dest; give dest as a "
                                "full file path instead." % name)
    return name


def write_atomically(module, path, content):
    """Write to a temporary file next to ``path``, then rename it into place."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        module.atomic_move(tmp, path, unsafe_writes=module.params.get("unsafe_writes") or False)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# -- helpers -------------------------------------------------------------------------------
def _result(module, changed, attachment, before, after):
    result = dict(changed=changed, attachment=attachment)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    return result


def _text(params, name):
    value = params.get(name)
    return to_native(value).strip() if value is not None else None


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def main():
    argument_spec = connection_argument_spec("falcon")
    argument_spec.update(
        provider=dict(type="str", choices=["falcon"], default="falcon"),
        state=dict(type="str", choices=["present", "downloaded"], default="present"),
        case_id=dict(type="str"),
        src=dict(type="path"),
        content=dict(type="str"),
        name=dict(type="str"),
        user_uuid=dict(type="str"),
        attachment_id=dict(type="str"),
        dest=dict(type="path"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        add_file_common_args=True,
        mutually_exclusive=[("src", "content"), ("src", "dest"), ("content", "dest"),
                            ("src", "attachment_id"), ("content", "attachment_id")],
        required_if=[
            ("state", "present", ("case_id",)),
            ("state", "present", ("src", "content"), True),
            ("state", "downloaded", ("attachment_id", "dest")),
        ],
        required_by={"content": "name"},
    )
    run_module(module, falcon.client_from_params, run)


if __name__ == "__main__":
    main()
