# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Falcon Message Center AggregateCases: the API's aggregation rules and the request body of case_aggregate_info."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError

MAX_NESTING = 3
TYPES = ("terms", "date_histogram", "date_range", "range", "cardinality", "min", "max", "avg", "sum", "percentiles")
INTERVALS = ("year", "month", "week", "day", "hour", "minute")
SORT_PATTERN = re.compile(r"(_count|_term|_key|count|term|key)([|. ](asc|desc))?\Z", re.IGNORECASE)
# Passed through to the API as they are (after the checks below).
PLAIN_FIELDS = ("name", "type", "field", "filter", "q", "interval", "time_zone", "min_doc_count", "missing", "size",
                "sort", "percents")


def wire(spec, where, check_sub, depth=0):
    """One aggregation in the API's form, checked; ``where`` names it in messages.

    ``check_sub(spec, where)`` validates a sub-aggregation against the module's options (argument specs cannot
    recurse) and returns it with defaults applied.
    """
    for key in ("min_doc_count", "size"):
        if spec.get(key) is not None and spec[key] < 0:
            raise InvalidInputError("%s: %s must be 0 or more, got %d." % (where, key, spec[key]))
    if spec.get("sort") is not None and not SORT_PATTERN.match(spec["sort"].strip()):
        raise InvalidInputError("%s: sort %r is not a sort order; use _count or _term with asc or desc, "
                                "for example _count|desc or _term|asc." % (where, spec["sort"]))
    for percent in spec.get("percents") or []:
        if not 0 <= percent <= 100:
            raise InvalidInputError("%s: percents must be numbers from 0 to 100, got %s." % (where, percent))
    request = dict((key, spec[key]) for key in PLAIN_FIELDS if spec.get(key) is not None)
    if spec.get("date_ranges") is not None:
        request["date_ranges"] = [{"from": r["from"], "to": r["to"]} for r in spec["date_ranges"]]
    if spec.get("ranges") is not None:
        # The API spells the numeric range bounds with capitals.
        request["ranges"] = [{"From": r["from"], "To": r["to"]} for r in spec["ranges"]]
    subs = spec.get("sub_aggregates")
    if subs:
        if depth + 1 > MAX_NESTING:
            raise InvalidInputError("%s: sub_aggregates may be nested at most %d levels below a top-level aggregation; "
                                    "this one would be level %d." % (where, MAX_NESTING, depth + 1))
        request["sub_aggregates"] = [wire(check_sub(sub, "%s.sub_aggregates[%d]" % (where, i)),
                                          "%s.sub_aggregates[%d]" % (where, i), check_sub, depth + 1)
                                     for i, sub in enumerate(subs)]
    return request
