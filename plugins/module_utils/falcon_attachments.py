# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Falcon Message Center attachments: the API's upload rules, and ``case_attachment``'s upload and download."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re
import tempfile

from ansible_collections.caseops.desk.plugins.module_utils import falcon
from ansible_collections.caseops.desk.plugins.module_utils.create_guard import CreateGuard, account_of
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError, NotFoundError
from ansible_collections.caseops.desk.plugins.module_utils.file_payload import refuse_unlisted_extension

# The rules of CaseAddAttachment (FIDELITY.md, Falcon F5), checked before sending.
MAX_BYTES = 15 * 1024 * 1024
MAX_NAME = 255
EXTENSIONS = ("png", "bmp", "jpg", "jpeg", "gif", "pdf", "doc", "docx", "xls", "xlsx", "pptx", "txt", "csv")
NAME_START = re.compile(r"[a-zA-Z0-9_-]")
# The spec's [a-zA-Z0-9-_.\s] as the name arrives: multipart clients percent-encode CR, LF and '"', so of the
# whitespace only space, tab and form feed get through; the API's \s has no vertical tab.
NAME_CHARS = re.compile(r"[a-zA-Z0-9_. \t\f-]+\Z")


def check_size(size, name):
    if size > MAX_BYTES:
        raise InvalidInputError("%s is %d bytes; Falcon accepts attachments of at most 15 MB (%d bytes)."
                                % (name, size, MAX_BYTES))


def check_name(name):
    """Raise InvalidInputError naming the Falcon file-name rule that ``name`` breaks."""
    if len(name) > MAX_NAME:
        raise InvalidInputError("The attachment name is %d characters long; Falcon allows at most %d."
                                % (len(name), MAX_NAME))
    if not NAME_START.match(name):
        raise InvalidInputError("The attachment name %r must start with a letter, a digit, '_' or '-'." % name)
    if not NAME_CHARS.match(name):
        raise InvalidInputError("The attachment name %r may only contain letters, digits, '-', '_', '.', spaces and "
                                "tabs (no line breaks)." % name)
    refuse_unlisted_extension(name, EXTENSIONS, "attachment", "Falcon accepts")


def case_attachments(client, case_id):
    return [a for a in (client.get_case(case_id).get("attachments") or []) if isinstance(a, dict)]


def same_file(attachments, name, size):
    """The attachment with this name and size, or None (the newest one if there are several)."""
    for attachment in reversed(attachments):
        if attachment.get("name") == name and _as_int(attachment.get("size")) == size:
            return attachment
    return None


# -- upload ------------------------------------------------------------------------------
def upload(module, client, case_id, user_uuid, name, data):
    """Upload ``data`` as ``name`` unless the case has an attachment of that name and size."""
    if not case_id:
        raise InvalidInputError("case_id must not be empty: give the ID of the case to attach the file to.")
    if not user_uuid:
        raise InvalidInputError("user_uuid is required to upload to Falcon: the UUID of the Falcon user the upload is "
                                "made for.")
    falcon.check_user_uuid(user_uuid)

    guard = CreateGuard.for_module(module, "Falcon", account_of(client), ("attachment", case_id, name, len(data)),
                                   "the attachment %r (%d bytes) on Falcon case %s" % (name, len(data), case_id))
    # Look up, then upload, one run at a time per case, name and size.
    with guard.serialised(not module.check_mode):
        attachments = case_attachments(client, case_id)
        before = dict(attachments=sorted(a.get("name") or "" for a in attachments))
        existing = same_file(attachments, name, len(data))
        if existing is not None:
            return _result(module, False, existing, before, before)

        after = dict(attachments=sorted(before["attachments"] + [name]))
        if module.check_mode:
            return _result(module, True, predicted_attachment(name, len(data), user_uuid), before, after)
        attachment = add_attachment(client, guard, case_id, user_uuid, name, data)
        return _result(module, True, attachment, before, after)


def predicted_attachment(name, size, user_uuid):
    """The attachment record as check mode predicts it (no id yet)."""
    return dict(id=None, name=name, mime_type=None, size=size, created_by=user_uuid, created_time=None)


def add_attachment(client, guard, case_id, user_uuid, name, data):
    """CaseAddAttachment once: the new attachment record.

    The upload may have been stored before the connection broke: the guard looks for the attachment with this
    name and size over its settle window, and takes it instead of uploading again.
    """
    def stored():
        return same_file(case_attachments(client, case_id), name, len(data))

    return guard.create(lambda recover: client.add_attachment(case_id, user_uuid, name, data, recover=recover), stored)


# -- download ------------------------------------------------------------------------------
def download(module, client, attachment_id, case_id):
    """Write attachment ``attachment_id`` to ``dest`` when its checksum differs from the file there."""
    if not attachment_id:
        raise InvalidInputError("attachment_id must not be empty: give the ID of the attachment to download.")
    dest = module.params["dest"]
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


def _result(module, changed, attachment, before, after):
    result = dict(changed=changed, attachment=attachment)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    return result


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
