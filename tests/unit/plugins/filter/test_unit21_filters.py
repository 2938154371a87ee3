# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Unit21 filter plugins: a case's indicators (case_bridge) and the media checks (unit21_case_triage)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.caseops.desk.plugins.filter import unit21_case_indicators as indicators_plugin
from ansible_collections.caseops.desk.plugins.filter import unit21_media_problems as media_plugin

indicators = indicators_plugin.unit21_case_indicators
problems = media_plugin.unit21_media_problems


# -- unit21_case_indicators ------------------------------------------------------------------------

def test_a_list_in_custom_data_then_the_tags_each_once():
    case = {"custom_data": {"indicators": [" evil.example ", "", 7, None, "198.51.100.7", "evil.example"]},
            "tags": ["ioc:198.51.100.7", "ioc: 2001:db8::7 ", "team:fraud", "ioc:", 3, "IOC:upper", "iocx:no"]}
    assert indicators(case) == ["evil.example", "198.51.100.7", "2001:db8::7"]


def test_a_string_is_split_at_commas_and_white_space():
    case = {"custom_data": {"indicators": "evil.example,198.51.100.7\n  bad.example ,,"}}
    assert indicators(case) == ["evil.example", "198.51.100.7", "bad.example"]


@pytest.mark.parametrize("case", [None, "text", [], {}, {"custom_data": None, "tags": None},
                                  {"custom_data": {"indicators": {"a": "b"}}}, {"custom_data": {"indicators": 42}},
                                  {"custom_data": "x", "tags": "ioc:1.2.3.4"}])
def test_shapes_without_indicators_give_none(case):
    assert indicators(case) == []


def test_letter_case_counts_and_other_keys_can_be_chosen():
    case = {"custom_data": {"iocs": ["A.example", "a.example"], "indicators": ["skipped"]},
            "tags": ["indicator:x", "ioc:skipped-too"]}
    assert indicators(case, "iocs", "indicator") == ["A.example", "a.example", "x"]
    assert indicators(case, "", "") == []


@pytest.mark.parametrize("args, message", [(("indicators", "ioc:x"), "cannot hold a colon"),
                                           ((None, "ioc"), "indicators_key must be a string")])
def test_bad_keys_are_refused(args, message):
    with pytest.raises(AnsibleFilterError) as caught:
        indicators({}, *args)
    assert message in str(caught.value)


def test_the_plugin_registers_the_filter():
    assert indicators_plugin.FilterModule().filters() == {"unit21_case_indicators": indicators}
    assert media_plugin.FilterModule().filters() == {"unit21_media_problems": problems}


# -- unit21_media_problems ----------------------------------------------------------------------------

def test_good_media_have_no_problems(tmp_path):
    src = tmp_path / "scan.JPG"
    src.write_bytes(b"\xff\xd8" * 10)
    assert problems([{"src": str(src)}, {"name": "note.txt", "content": "hello", "custom_data": {"a": {"b": {"c": 1}}}},
                     {"src": str(src), "name": "renamed.pdf", "media_type": "X"}]) == []
    assert problems([]) == []


def test_each_problem_is_named_with_the_rule(tmp_path):
    big = tmp_path / "big.pdf"
    with open(str(big), "wb") as handle:
        handle.truncate(5 * 1024 * 1024 + 1)
    found = problems([
        {"name": "evil.exe", "content": "x"},
        {"src": str(big)},
        {"src": str(tmp_path / "missing.pdf")},
        {"name": "n.txt", "content": "x", "custom_data": {"a": {"b": {"c": {"d": 1}}}}},
        {"content": "no name"},
        {"src": str(big), "content": "both"},
        "not a dict",
        {"name": "README", "content": "x"},
    ])
    assert found[0].startswith("media[0] (evil.exe): The media name 'evil.exe' has the extension 'exe'")
    assert found[1] == ("media[1] (big.pdf): big.pdf is 5242881 bytes; Unit21 accepts media of at most 5 MB "
                        "(5242880 bytes) per file.")
    assert found[2].startswith("media[2] (missing.pdf): src ") and "does not exist" in found[2]
    assert "media[3] (n.txt): media[3].custom_data is nested 4 objects deep" in found[3]
    assert found[4] == "media[4]: name is required with content."
    assert found[5] == "media[5]: give exactly one of src and content."
    assert found[6].startswith("media[6] must be a dictionary")
    assert "has no extension" in found[7]
    assert len(found) == 8


def test_content_size_counts_utf8_bytes():
    too_big = "é" * (5 * 1024 * 1024 // 2 + 1)
    assert "5242882 bytes" in problems([{"name": "n.txt", "content": too_big}])[0]


@pytest.mark.parametrize("value", [{"name": "a.txt"}, "a.txt", None])
def test_a_non_list_is_refused(value):
    with pytest.raises(AnsibleFilterError):
        problems(value)
