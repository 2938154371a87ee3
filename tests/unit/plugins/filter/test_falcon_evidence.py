# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The falcon_evidence filter: names, sizes and problems of evidence for falcon_detection_escalation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.caseops.desk.plugins.filter.falcon_evidence import falcon_evidence


def test_names_and_sizes_of_content_and_files(tmp_path):
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4 x")
    checked = falcon_evidence([{"src": str(report)}, {"name": "notes.txt", "content": u"h\u00e9"}])
    # A file's own name when none is given; content counted in UTF-8 bytes.
    assert checked == dict(names=["report.pdf", "notes.txt"], sizes=[10, 3], problems=[])


@pytest.mark.parametrize("evidence, fragment", [
    ([{"name": "dump.exe", "content": "x"}], "ends in .png, .bmp"),
    ([{"name": ".hidden.txt", "content": "x"}], "needs a unique name"),
    ([{"content": "x"}], 'got [""]'),
    ([{"name": "a.txt", "content": "x"}, {"name": "a.txt", "content": "y"}], "needs a unique name"),
    ([{"src": "/nonexistent/caseops/report.pdf"}], "/nonexistent/caseops/report.pdf does not exist"),
])
def test_each_broken_rule_is_named(evidence, fragment):
    problems = falcon_evidence(evidence)["problems"]
    assert len(problems) == 1 and fragment in problems[0]


def test_a_directory_and_an_oversized_content(tmp_path):
    checked = falcon_evidence([{"src": str(tmp_path), "name": "notes.txt"},
                               {"name": "big.txt", "content": "x" * (15 * 1024 * 1024 + 1)}])
    assert any("is not a regular file" in p for p in checked["problems"])
    assert any("at most the 15 MB" in p for p in checked["problems"])
    assert checked["sizes"] == [None, 15 * 1024 * 1024 + 1]


def test_not_a_list_of_dictionaries():
    with pytest.raises(AnsibleFilterError, match="list of dictionaries"):
        falcon_evidence("report.pdf")
