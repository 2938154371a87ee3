# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CaseAddAttachment name and size rules, as the API applies them to the name it receives (FIDELITY.md F5)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import falcon_attachments
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError


@pytest.mark.parametrize("name", ["report.pdf", "_x.TXT", "-a b\tc.csv", "a" * 251 + ".png", "f\fg.txt"])
def test_names_the_api_accepts(name):
    falcon_attachments.check_name(name)


@pytest.mark.parametrize("name, message", [
    ("two\nlines.txt", "no line breaks"),          # arrives as two%0Alines.txt
    ("cr\rname.txt", "no line breaks"),
    ("vertical\vtab.txt", "no line breaks"),       # not in the API's \s
    ('quote".txt', "may only contain"),             # arrives as quote%22.txt
    ("ünïcode.txt", "must start with"),
    ("a" * 252 + ".png", "at most 255"),
    (".hidden.txt", "must start with"),
    ("slides.ppt", "the extension 'ppt'"),
    ("noextension", "no extension"),
])
def test_names_the_api_refuses(name, message):
    with pytest.raises(InvalidInputError) as caught:
        falcon_attachments.check_name(name)
    assert message in caught.value.msg


def test_size_limit_is_15_mib():
    falcon_attachments.check_size(15 * 1024 * 1024, "a.txt")
    with pytest.raises(InvalidInputError) as caught:
        falcon_attachments.check_size(15 * 1024 * 1024 + 1, "a.txt")
    assert "at most 15 MB (15728640 bytes)" in caught.value.msg
