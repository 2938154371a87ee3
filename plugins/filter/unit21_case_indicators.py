# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: unit21_case_indicators
short_description: The indicators a Unit21 case carries in its custom_data and its tags
version_added: 1.0.0
description:
  - Collects the indicators of compromise of a Unit21 case, as the role P(caseops.desk.case_bridge#role) bridges them.
  - "From C(custom_data[indicators_key]): a list of strings (each trimmed; empty strings and entries that are not
    strings are skipped), or one string split at commas and white space. Any other value gives none."
  - "From the tags C(<tag_key>:<indicator>): the indicator is everything after the first colon, trimmed, so
    C(ioc:203.0.113.7) and C(ioc:2001:db8::7) give V(203.0.113.7) and V(2001:db8::7). Tags that are not strings are
    skipped."
  - The result lists each indicator once (letter case counts), those from C(custom_data) first, in the order found.
  - The case is read as M(caseops.desk.case_info) returns it (its C(custom_data) and C(tags)); anything that is not a
    dictionary gives an empty list.
author:
  - caseops.desk maintainers (@caseops)
positional: indicators_key, tag_key
options:
  _input:
    description: A Unit21 case, as M(caseops.desk.case_info) or M(caseops.desk.case) return it.
    type: dict
    required: true
  indicators_key:
    description: The C(custom_data) key that holds indicators. An empty string ignores C(custom_data).
    type: str
    default: indicators
  tag_key:
    description: The tag key whose values are indicators. An empty string ignores the tags.
    type: str
    default: ioc
seealso:
  - module: caseops.desk.case_info
"""

EXAMPLES = r"""
- name: Read a case and list its indicators
  caseops.desk.case_info:
    provider: unit21
    ids: [100042]
  register: found

- name: Show them
  ansible.builtin.debug:
    msg: "{{ found.cases[0] | caseops.desk.unit21_case_indicators }}"
  # {"custom_data": {"indicators": "evil.example, 198.51.100.7"}, "tags": ["ioc:2001:db8::7", "team:fraud"]}
  # gives ["evil.example", "198.51.100.7", "2001:db8::7"]

- name: Other keys
  ansible.builtin.debug:
    msg: "{{ found.cases[0] | caseops.desk.unit21_case_indicators('iocs', 'indicator') }}"
"""

RETURN = r"""
_value:
  description: The indicators, each once, those from C(custom_data) first.
  type: list
  elements: str
  sample: ["evil.example", "198.51.100.7", "2001:db8::7"]
"""

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

SEPARATORS = re.compile(r"[\s,]+")


def unit21_case_indicators(case, indicators_key="indicators", tag_key="ioc"):
    """The indicators of ``case``: custom_data[indicators_key] first, then the values of ``tag_key:`` tags."""
    for name, value in (("indicators_key", indicators_key), ("tag_key", tag_key)):
        if not isinstance(value, str):
            raise AnsibleFilterError("unit21_case_indicators: %s must be a string, got %r." % (name, value))
    if ":" in tag_key:
        raise AnsibleFilterError("unit21_case_indicators: tag_key is a tag key and cannot hold a colon, got %r."
                                 % (tag_key,))
    if not isinstance(case, dict):
        return []
    found = []
    custom_data = case.get("custom_data")
    if indicators_key and isinstance(custom_data, dict):
        raw = custom_data.get(indicators_key)
        if isinstance(raw, str):
            found.extend(SEPARATORS.split(to_text(raw)))
        elif isinstance(raw, (list, tuple)):
            found.extend(to_text(item).strip() for item in raw if isinstance(item, str))
    tags = case.get("tags")
    if tag_key and isinstance(tags, (list, tuple)):
        prefix = tag_key + ":"
        found.extend(to_text(tag)[len(prefix):].strip() for tag in tags
                     if isinstance(tag, str) and to_text(tag).startswith(prefix))
    unique = []
    for indicator in found:
        if indicator and indicator not in unique:
            unique.append(indicator)
    return unique


class FilterModule(object):
    def filters(self):
        return {"unit21_case_indicators": unit21_case_indicators}
