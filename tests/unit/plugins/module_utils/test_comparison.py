# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When two texts count as the same comment or message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.caseops.desk.plugins.module_utils.comparison import same_text


@pytest.mark.parametrize("left, right", [
    ("Host isolated.", "Host isolated.\n"),
    ("  a\r\nb  ", "a\nb"),
    ("a\rb", "a\nb"),
    (None, ""),
])
def test_the_same(left, right):
    assert same_text(left, right)


@pytest.mark.parametrize("left, right", [
    ("Host isolated.", "host isolated."),
    ("a  b", "a b"),
    ("a\n\nb", "a\nb"),
])
def test_different(left, right):
    assert not same_text(left, right)
