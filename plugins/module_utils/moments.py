# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moments in time as users write them: dates, date-times with or without a zone, epoch seconds."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*([Zz]|UTC|[+-]\d{2}:?\d{2})?$")


def parse_moment(value, name):
    """A UTC datetime from what users naturally write, or None for an empty value.

    Accepts RFC 3339 / ISO 8601 date-times (with ``Z``, an offset, or none,
    which means UTC), a space instead of ``T``, a bare date (midnight UTC) and
    epoch seconds.  Anything else raises InvalidInputError naming ``name``.
    """
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    text = str(value).strip()
    moment = None
    if re.match(r"^\d{9,11}(\.\d+)?$", text):
        moment = datetime.datetime.fromtimestamp(float(text), _UTC)
    else:
        match = _DATE_TIME.match(text)
        if match:
            try:
                moment = _moment(match)
            except ValueError:
                moment = None
    if moment is None:
        raise InvalidInputError("%s must be a date or date-time such as 2026-01-31, 2026-01-31T14:00:00Z or "
                                "2026-01-31 14:00+02:00 (no zone means UTC), got %r." % (name, text))
    return moment.astimezone(_UTC)


def format_moment(moment):
    """RFC 3339 in UTC with a Z, as the API's own timestamps are written."""
    if moment is None:
        return None
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_epoch(value, name):
    """Integer epoch seconds (what Unit21 stores) from what users naturally write (see parse_moment)."""
    moment = parse_moment(value, name)
    return None if moment is None else int((moment - _EPOCH).total_seconds())


_UTC = datetime.timezone.utc


def _moment(match):
    year, month, day, hour, minute, second = (int(g or 0) for g in match.groups()[:6])
    micro = int(round(float(match.group(7) or 0) * 1000000))
    zone = match.group(8)
    offset = datetime.timedelta(0)
    if zone and zone not in ("Z", "z", "UTC"):
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        offset = -offset if zone[0] == "-" else offset
    return datetime.datetime(year, month, day, hour, minute, second, min(micro, 999999), datetime.timezone(offset))


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
