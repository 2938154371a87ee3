# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How modules decide that a comment or message already on a case is the one they were asked to post."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def normalized_text(value):
    """Text as compared: line endings unified, leading and trailing whitespace dropped.

    A YAML block scalar adds a trailing newline and services may trim or
    convert line endings on storage; none of that makes it another message.
    """
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def same_text(left, right):
    return normalized_text(left) == normalized_text(right)
