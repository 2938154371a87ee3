# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: falcon_evidence
short_description: Names, sizes and problems of files to attach to a Falcon case, before anything is sent
version_added: 0.1.0
description:
  - Reads a list of files to upload with M(caseops.desk.case_attachment) and returns, in one pass, the name each file
    is uploaded under (the file name of C(src) when C(name) is not given), its size in bytes, and one message per
    problem; no problems means every file can be uploaded.
  - "The rules are Falcon's (the same code as the module): unique names that start with a letter, a digit, C(_) or
    C(-), hold only letters, digits, C(- _ .), spaces and tabs, are at most 255 characters and end in one of Falcon's
    13 extensions; a C(src) that is a readable regular file on the controller; at most 15 MB per file (C(content)
    counted as UTF-8 bytes)."
  - Files are not read; C(src) sizes come from the file system. Run it where the files are (the controller).
  - P(caseops.desk.falcon_detection_escalation#role) uses it to refuse bad evidence before its first write, in the
    same task as its other checks, and to skip files the case already holds.
author:
  - caseops.desk maintainers (@caseops)
options:
  _input:
    description: The files, each a dictionary with C(name), C(src) and C(content).
    type: list
    elements: dict
    required: true
seealso:
  - module: caseops.desk.case_attachment
"""

EXAMPLES = r"""
- name: Refuse bad evidence before anything is sent
  ansible.builtin.assert:
    that: (evidence | caseops.desk.falcon_evidence).problems | length == 0
    fail_msg: "{{ (evidence | caseops.desk.falcon_evidence).problems | join(' ') }}"
  vars:
    evidence:
      - src: /srv/triage/report.pdf
      - name: notes.txt
        content: The host is network-contained.
"""

RETURN = r"""
_value:
  description: What the files are, and what is wrong with them.
  type: dict
  contains:
    names:
      description: The name of each file, in order (an empty string when it has none).
      type: list
      elements: str
    sizes:
      description: The size of each file in bytes, in order; null when it cannot be known (a missing C(src)).
      type: list
      elements: int
    problems:
      description: One message per rule broken; empty when every file passes.
      type: list
      elements: str
  sample:
    names: [report.pdf, notes.txt]
    sizes: [48213, 31]
    problems: []
"""

import os

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.caseops.desk.plugins.module_utils import falcon_attachments
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError

NAME_RULE = ("Every falcon_detection_escalation_evidence file needs a unique name (give name with content) that starts "
             "with a letter, a digit, _ or -, holds only letters, digits, - _ . spaces and tabs (no line breaks), is at "
             "most 255 characters long and ends in %s; got %s.")
FILE_RULE = ("Every falcon_detection_escalation_evidence src must be a readable regular file on the controller of at "
             "most 15 MB (%s bytes): %s.")
CONTENT_RULE = "Every falcon_detection_escalation_evidence content must be at most the 15 MB (%s bytes) Falcon accepts."


def falcon_evidence(evidence):
    """{names, sizes, problems} of the files in ``evidence``."""
    if not isinstance(evidence, (list, tuple)) or not all(isinstance(item, dict) for item in evidence):
        raise AnsibleFilterError("falcon_evidence expects a list of dictionaries, got %r." % (evidence,))
    names, sizes, bad_files, too_big = [], [], [], False
    for item in evidence:
        src, content = item.get("src"), item.get("content")
        names.append(to_text(item.get("name") or (os.path.basename(to_text(src)) if src else "")))
        size = None
        if content is not None:
            size = len(to_bytes(content, errors="surrogate_or_strict"))
            too_big = too_big or size > falcon_attachments.MAX_BYTES
        elif src:
            size, problem = _file_size(to_text(src))
            if problem:
                bad_files.append(problem)
        sizes.append(size)
    problems = []
    bad_names = [name for name in names if not _acceptable(name)]
    if bad_names or len(set(names)) != len(names):
        extensions = ", ".join("." + extension for extension in falcon_attachments.EXTENSIONS)
        problems.append(NAME_RULE % (extensions.replace(", .csv", " or .csv"), _as_json(names)))
    if too_big:
        problems.append(CONTENT_RULE % "{:,}".format(falcon_attachments.MAX_BYTES))
    if bad_files:
        problems.append(FILE_RULE % ("{:,}".format(falcon_attachments.MAX_BYTES), "; ".join(bad_files)))
    return dict(names=names, sizes=sizes, problems=problems)


def _acceptable(name):
    try:
        falcon_attachments.check_name(name)
    except InvalidInputError:
        return False
    return True


def _file_size(path):
    """(size, None) for a readable regular file, else (None or size, what is wrong)."""
    if not os.path.exists(path):
        return None, "%s does not exist" % path
    if not os.path.isfile(path):
        return None, "%s is not a regular file" % path
    size = os.path.getsize(path)
    if not os.access(path, os.R_OK):
        return size, "%s cannot be read" % path
    if size > falcon_attachments.MAX_BYTES:
        return size, "%s is larger" % path
    return size, None


def _as_json(names):
    return "[%s]" % ", ".join('"%s"' % name.replace("\\", "\\\\").replace('"', '\\"') for name in names)


class FilterModule(object):
    def filters(self):
        return {"falcon_evidence": falcon_evidence}
