# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: unit21_media_problems
short_description: What is wrong with files to link to a Unit21 case, before anything is sent
version_added: 1.0.0
description:
  - Checks a list of files to link as Unit21 media with the rules M(caseops.desk.case_attachment) applies (the same
    code), and returns one message per problem; an empty list means every file passes.
  - "The rules: a name with one of the extensions Unit21 takes (the file name of C(src) when C(name) is not given),
    C(name) with C(content), exactly one of C(src) and C(content), a C(src) that is a regular file on the controller, at
    most 5 MB per file, and a C(custom_data) dictionary at most three levels deep."
  - Files are not read; C(src) sizes come from the file system. Run it where the files are (the controller).
  - A role can so refuse bad input before its first write, as P(caseops.desk.unit21_case_triage#role) does.
author:
  - caseops.desk maintainers (@caseops)
options:
  _input:
    description: The files, each a dictionary with C(name), C(src), C(content), C(media_type) and C(custom_data).
    type: list
    elements: dict
    required: true
seealso:
  - module: caseops.desk.case_attachment
"""

EXAMPLES = r"""
- name: Refuse bad media before anything is sent
  ansible.builtin.assert:
    that: media | caseops.desk.unit21_media_problems | length == 0
    fail_msg: "{{ media | caseops.desk.unit21_media_problems | join(' ') }}"
  vars:
    media:
      - src: /srv/kyc/id-front.jpg
      - name: summary.txt
        content: Accounts 4711 and 4712 share a device.
"""

RETURN = r"""
_value:
  description: One message per problem, naming the file (by its position and name) and the rule; empty when all pass.
  type: list
  elements: str
  sample: ["media[1] (evil.exe): The media name 'evil.exe' has the extension 'exe'; Unit21 links only these file types: txt, pdf, ..."]
"""

import os

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.caseops.desk.plugins.module_utils import unit21
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError


def _problem(index, name, check, *args):
    try:
        check(*args)
    except InvalidInputError as err:
        return "media[%d] (%s): %s" % (index, name or "no name", err.msg)
    return None


def _file_problems(index, item):
    if not isinstance(item, dict):
        return ["media[%d] must be a dictionary with src or content (and name), got %r." % (index, item)]
    src, content = item.get("src"), item.get("content")
    if bool(src) == (content is not None):
        return ["media[%d]: give exactly one of src and content." % index]
    name = to_text(item.get("name") or (os.path.basename(to_text(src)) if src else "")).strip()
    if not name:
        return ["media[%d]: name is required with content." % index]
    problems = [_problem(index, name, unit21.check_media_name, name)]
    if src:
        if not os.path.isfile(to_bytes(src)):
            problems.append("media[%d] (%s): src %s does not exist or is not a regular file." % (index, name, src))
        else:
            problems.append(_problem(index, name, unit21.check_media_size, os.path.getsize(to_bytes(src)), name))
    else:
        problems.append(_problem(index, name, unit21.check_media_size,
                                 len(to_bytes(content, errors="surrogate_or_strict")), name))
    if item.get("custom_data") is not None:
        problems.append(_problem(index, name, unit21.check_custom_data, item["custom_data"],
                                 "media[%d].custom_data" % index))
    return [p for p in problems if p]


def unit21_media_problems(media):
    """One message per problem of the files in ``media``; [] when every file can be linked."""
    if isinstance(media, (dict, str)) or not hasattr(media, "__iter__"):
        raise AnsibleFilterError("unit21_media_problems expects a list of files, got %r." % (media,))
    problems = []
    for index, item in enumerate(media):
        problems.extend(_file_problems(index, item))
    return problems


class FilterModule(object):
    def filters(self):
        return {"unit21_media_problems": unit21_media_problems}
