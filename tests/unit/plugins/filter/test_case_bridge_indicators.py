# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The case_bridge role collects a case's indicators with ansible-core filters only (a collection filter costs about
0.2 s a task, issue 14): its expression, rendered by Ansible's own templar, must give what the filter plugin
caseops.desk.unit21_case_indicators gives, on every shape the filter's own tests use."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible_collections.caseops.desk.plugins.filter.unit21_case_indicators import unit21_case_indicators

try:  # ansible-core 2.19 and later only render templates marked as trusted, as loaded from a role's files.
    from ansible.template import trust_as_template  # pylint: disable=unused-import
    LOAD_OPTIONS = {"trusted_as_template": True}
except ImportError:
    LOAD_OPTIONS = {}

TASKS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "case_bridge", "tasks", "main.yml")


@pytest.fixture(scope="module")
def collect():
    loader = DataLoader()
    task = [t for t in loader.load_from_file(TASKS, **LOAD_OPTIONS) if t["name"].startswith("Collect the indicators")][0]

    def render(case, indicators_key="indicators", tag_key="ioc"):
        variables = dict(task["vars"], __case_bridge_read={"cases": [case]}, case_bridge_indicators_key=indicators_key,
                         case_bridge_indicator_tag_key=tag_key)
        expression = task["ansible.builtin.set_fact"]["__case_bridge_indicators"]
        return Templar(loader=loader, variables=variables).template(expression)
    return render


@pytest.mark.parametrize("case, keys", [
    ({"custom_data": {"indicators": [" evil.example ", "", 7, None, "198.51.100.7", "evil.example"]},
      "tags": ["ioc:198.51.100.7", "ioc: 2001:db8::7 ", "team:fraud", "ioc:", 3, "IOC:upper", "iocx:no"]}, ()),
    ({"custom_data": {"indicators": "evil.example,198.51.100.7\n  bad.example ,,"}}, ()),
    ({"custom_data": {"indicators": "  "}, "tags": []}, ()),
    ({}, ()),
    ({"custom_data": None, "tags": None}, ()),
    ({"custom_data": {"indicators": {"a": "b"}}}, ()),
    ({"custom_data": {"indicators": 42}}, ()),
    ({"custom_data": "x", "tags": "ioc:1.2.3.4"}, ()),
    ({"custom_data": {"iocs": ["A.example", "a.example"], "indicators": ["skipped"]},
      "tags": ["indicator:x", "ioc:skipped-too"]}, ("iocs", "indicator")),
    ({"custom_data": {"indicators": ["a"]}, "tags": ["ioc:b"]}, ("", "")),
    # A tag key with characters that mean something in a regular expression is taken literally.
    ({"tags": ["i.c:one", "ioc:two", "i+c:three"]}, ("indicators", "i.c")),
    ({"tags": ["i+c:three", "iic:four"]}, ("indicators", "i+c")),
])
def test_the_role_collects_what_the_filter_collects(collect, case, keys):
    assert collect(case, *keys) == unit21_case_indicators(case, *keys)
