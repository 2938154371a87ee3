"""Aggregations for AggregateCases: an Elasticsearch-like subset computed over in-memory records.

A request is a list of ``msa.AggregateQueryRequest`` objects.  Each is first
checked and normalised as a whole tree (so a bad sub-aggregation fails even
when no bucket would reach it), then run over the records.  The records and
their fields are described by a :class:`Dataset` the vendor module builds.

Generated SDKs send every field of the request model, so empty values (``""``,
``0``, ``[]``) mean "not set" wherever that is unambiguous.
"""

import datetime
import math

import fql

BUCKET_TYPES = ("terms", "date_histogram", "date_range", "range")
METRIC_TYPES = ("cardinality", "min", "max", "avg", "sum", "percentiles")
INTERVALS = ("year", "month", "week", "day", "hour", "minute")
MAX_NESTING = 3                 # "a maximum of 3 nested aggregations per request" (API reference)
DEFAULT_TERMS_SIZE = 10
DEFAULT_PERCENTS = (1.0, 5.0, 25.0, 50.0, 75.0, 95.0, 99.0)
SORT_KEYS = {"_count": "count", "count": "count", "_term": "term", "term": "term", "_key": "term", "key": "term"}


class AggregationError(ValueError):
    pass


class Dataset(object):
    """The records to aggregate and how to read them.

    * ``resolve_field(name)``: the canonical field for a requested name, or None if unknown;
    * ``values(record, field)``: every value of the field in one record (a list);
    * ``timestamp_fields``: fields holding RFC 3339 timestamps;
    * ``compile_filter(text)``: a predicate over records, raising ``fql.FQLError``;
    * ``search_text(record)``: the strings a free-text ``q`` searches;
    * ``now()``: epoch seconds, for relative dates.
    """

    def __init__(self, records, resolve_field, values, timestamp_fields, compile_filter, search_text, now):
        self.records = records
        self.resolve_field = resolve_field
        self.values = values
        self.timestamp_fields = set(timestamp_fields)
        self.compile_filter = compile_filter
        self.search_text = search_text
        self.now = now


def aggregate(specs, dataset):
    """The ``resources`` of an AggregatesResponse; raises AggregationError for a bad request."""
    if not isinstance(specs, list):
        raise AggregationError("the request body must be a JSON array of aggregation requests")
    plans = [_plan(spec, dataset, 0, "[%d]" % index) for index, spec in enumerate(specs)]
    return [_run(plan, dataset.records, dataset) for plan in plans]


# -- checking and normalising -------------------------------------------------------
def _plan(spec, ds, depth, where):
    if not isinstance(spec, dict):
        raise AggregationError("aggregation %s must be an object" % where)
    kind = spec.get("type")
    if kind not in BUCKET_TYPES + METRIC_TYPES:
        raise AggregationError("aggregation %s: unknown type %r; supported types: %s"
                               % (where, kind, ", ".join(BUCKET_TYPES + METRIC_TYPES)))
    requested = spec.get("field")
    field = ds.resolve_field(requested) if isinstance(requested, str) and requested else None
    if field is None:
        raise AggregationError("aggregation %s: unknown or missing field %r" % (where, requested))
    name = _text(spec, "name", where) or field
    plan = {"name": name, "type": kind, "field": field, "where": where,
            "filter": _filter(spec, ds, where), "q": _text(spec, "q", where),
            "missing": _text(spec, "missing", where), "subs": []}
    _KIND_PLANNERS[kind](plan, spec, ds)
    subs = spec.get("sub_aggregates") or []
    if not isinstance(subs, list):
        raise AggregationError("aggregation %s: sub_aggregates must be a list" % where)
    if subs and kind not in BUCKET_TYPES:
        raise AggregationError("aggregation %s: sub_aggregates need a bucket aggregation (%s), not %s"
                               % (where, ", ".join(BUCKET_TYPES), kind))
    if subs and depth + 1 > MAX_NESTING:
        raise AggregationError("aggregation %s: sub_aggregates may be nested at most %d levels deep" % (where, MAX_NESTING))
    plan["subs"] = [_plan(sub, ds, depth + 1, "%s.sub_aggregates[%d]" % (where, i)) for i, sub in enumerate(subs)]
    return plan


def _text(spec, key, where):
    value = spec.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise AggregationError("aggregation %s: %s must be a string" % (where, key))
    return value


def _integer(spec, key, where, default):
    value = spec.get(key)
    if value is None or value == 0:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AggregationError("aggregation %s: %s must be a non-negative integer" % (where, key))
    return value


def _filter(spec, ds, where):
    text = _text(spec, "filter", where)
    if text is None:
        return None
    try:
        return ds.compile_filter(text)
    except fql.FQLError as exc:
        raise AggregationError("aggregation %s: %s" % (where, exc.message))


def _plan_terms(plan, spec, ds):
    plan["size"] = _integer(spec, "size", plan["where"], DEFAULT_TERMS_SIZE)
    plan["min_doc_count"] = max(1, _integer(spec, "min_doc_count", plan["where"], 1))
    plan["sort"] = _sort(_text(spec, "sort", plan["where"]), plan["where"])


def _sort(text, where):
    """(key, descending) from ``_count|desc``, ``_term.asc``, ``count`` and the like."""
    if text is None:
        return "count", True
    normalised = text.strip().replace("|", " ").replace(".", " ").split()
    key = SORT_KEYS.get(normalised[0].lower()) if normalised else None
    direction = normalised[1].lower() if len(normalised) > 1 else None
    if key is None or len(normalised) > 2 or direction not in (None, "asc", "desc"):
        raise AggregationError("aggregation %s: sort %r must look like _count|desc or _term|asc" % (where, text))
    if direction is None:
        return key, key == "count"
    return key, direction == "desc"


def _require_timestamp(plan, ds):
    if plan["field"] not in ds.timestamp_fields:
        raise AggregationError("aggregation %s: %s needs a timestamp field, not %s"
                               % (plan["where"], plan["type"], plan["field"]))


def _plan_date_histogram(plan, spec, ds):
    _require_timestamp(plan, ds)
    interval = _text(spec, "interval", plan["where"])
    if interval not in INTERVALS:
        raise AggregationError("aggregation %s: interval must be one of %s" % (plan["where"], ", ".join(INTERVALS)))
    plan["interval"] = interval
    plan["tz"] = _time_zone(_text(spec, "time_zone", plan["where"]), plan["where"])
    value = spec.get("min_doc_count")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise AggregationError("aggregation %s: min_doc_count must be a non-negative integer" % plan["where"])
    plan["min_doc_count"] = value or 0


def _time_zone(name, where):
    if name is None or name.upper() in ("UTC", "Z", "GMT", "ETC/UTC"):
        return datetime.timezone.utc
    if name[0] in "+-":
        try:
            return fql.parse_zone(name)
        except ValueError:
            pass
    else:
        try:
            import zoneinfo  # pylint: disable=import-outside-toplevel
            return zoneinfo.ZoneInfo(name)
        except (ImportError, ValueError, KeyError, OSError):
            pass
    raise AggregationError("aggregation %s: unknown time_zone %r" % (where, name))


def _plan_date_range(plan, spec, ds):
    _require_timestamp(plan, ds)
    ranges = spec.get("date_ranges")
    if not isinstance(ranges, list) or not ranges:
        raise AggregationError("aggregation %s: date_range needs a non-empty date_ranges list" % plan["where"])
    plan["ranges"] = [_date_bound_pair(item, ds, plan["where"]) for item in ranges]


def _date_bound_pair(item, ds, where):
    if not isinstance(item, dict):
        raise AggregationError("aggregation %s: each date_ranges entry must be an object" % where)
    bounds = []
    for key in ("from", "to"):
        raw = item.get(key)
        if raw is None or raw == "":
            bounds.append(None)
            continue
        instant = fql.parse_instant(raw, ds.now())
        if instant is None:
            raise AggregationError("aggregation %s: date_ranges %s %r is not a date" % (where, key, raw))
        bounds.append(instant)
    return tuple(bounds)


def _plan_range(plan, spec, ds):
    ranges = spec.get("ranges")
    if not isinstance(ranges, list) or not ranges:
        raise AggregationError("aggregation %s: range needs a non-empty ranges list" % plan["where"])
    plan["ranges"] = [_number_bound_pair(item, plan["where"]) for item in ranges]


def _number_bound_pair(item, where):
    if not isinstance(item, dict):
        raise AggregationError("aggregation %s: each ranges entry must be an object" % where)
    bounds = []
    for key in ("From", "To"):
        raw = item.get(key, item.get(key.lower()))
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, (int, float))):
            raise AggregationError("aggregation %s: ranges %s must be a number" % (where, key))
        bounds.append(None if raw is None else float(raw))
    return tuple(bounds)


def _plan_metric(plan, spec, ds):
    return None


def _plan_percentiles(plan, spec, ds):
    percents = spec.get("percents") or list(DEFAULT_PERCENTS)
    if not isinstance(percents, list) or not all(
            isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 100 for p in percents):
        raise AggregationError("aggregation %s: percents must be a list of numbers from 0 to 100" % plan["where"])
    plan["percents"] = [float(p) for p in percents]


_KIND_PLANNERS = {
    "terms": _plan_terms, "date_histogram": _plan_date_histogram, "date_range": _plan_date_range,
    "range": _plan_range, "cardinality": _plan_metric, "min": _plan_metric, "max": _plan_metric,
    "avg": _plan_metric, "sum": _plan_metric, "percentiles": _plan_percentiles,
}


# -- running ------------------------------------------------------------------------------
def _run(plan, records, ds):
    if plan["filter"] is not None:
        records = [r for r in records if plan["filter"](r)]
    if plan["q"] is not None:
        pattern = fql.wildcard_regex(plan["q"], anchored=False, ignore_case=True)
        records = [r for r in records if any(pattern.search(text) for text in ds.search_text(r))]
    buckets, other = _KIND_RUNNERS[plan["type"]](plan, records, ds)
    items = []
    for item, members in buckets:
        if plan["subs"]:
            item["sub_aggregates"] = [_run(sub, members, ds) for sub in plan["subs"]]
        items.append(item)
    return {"name": plan["name"], "buckets": items, "sum_other_doc_count": other}


def _field_values(plan, record, ds):
    values = ds.values(record, plan["field"])
    if not values and plan["missing"] is not None:
        return [plan["missing"]]
    return values


def _run_terms(plan, records, ds):
    counts, members = {}, {}
    for record in records:
        for term in dict.fromkeys(fql.as_text(v) for v in _field_values(plan, record, ds)):
            counts[term] = counts.get(term, 0) + 1
            members.setdefault(term, []).append(record)
    terms = [t for t in counts if counts[t] >= plan["min_doc_count"]]
    key, descending = plan["sort"]
    terms.sort()  # the tie-breaker: term order
    if key == "count":
        terms.sort(key=lambda t: counts[t], reverse=descending)
    elif descending:
        terms.reverse()
    kept, rest = terms[:plan["size"]], terms[plan["size"]:]
    return [({"label": t, "count": counts[t]}, members[t]) for t in kept], sum(counts[t] for t in rest)


def _instant_values(plan, record, ds):
    instants = (fql.parse_instant(v) for v in ds.values(record, plan["field"]))
    return [i for i in instants if i is not None]


def _bucket_start(instant, interval, tz):
    moment = datetime.datetime.fromtimestamp(instant, tz)
    if interval == "year":
        start = moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif interval == "month":
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif interval == "week":
        start = (moment - datetime.timedelta(days=moment.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    elif interval == "day":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    elif interval == "hour":
        start = moment.replace(minute=0, second=0, microsecond=0)
    else:
        start = moment.replace(second=0, microsecond=0)
    return start


def _next_start(start, interval):
    if interval == "year":
        return start.replace(year=start.year + 1)
    if interval == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    steps = {"week": datetime.timedelta(days=7), "day": datetime.timedelta(days=1),
             "hour": datetime.timedelta(hours=1), "minute": datetime.timedelta(minutes=1)}
    return _bucket_start((start + steps[interval]).timestamp(), interval, start.tzinfo)


def iso_millis(moment):
    """``2026-01-01T00:00:00.000Z`` (or with the zone's offset)."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (moment.microsecond // 1000)
    offset = moment.utcoffset()
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return text + "%s%02d:%02d" % (sign, abs(minutes) // 60, abs(minutes) % 60)


def _run_date_histogram(plan, records, ds):
    interval, tz = plan["interval"], plan["tz"]
    groups = {}
    for record in records:
        for start in dict.fromkeys(_bucket_start(i, interval, tz) for i in _instant_values(plan, record, ds)):
            groups.setdefault(start, []).append(record)
    if not groups:
        return [], 0
    starts = sorted(groups)
    if plan["min_doc_count"] == 0:
        # Like Elasticsearch: empty buckets between the first and the last one are listed too.
        filled, current = [], starts[0]
        while current <= starts[-1]:
            filled.append(current)
            current = _next_start(current, interval)
        starts = filled
    buckets = []
    for start in starts:
        members = groups.get(start, [])
        if len(members) < plan["min_doc_count"]:
            continue
        buckets.append(({"label": int(round(start.timestamp() * 1000)), "key_as_string": iso_millis(start),
                         "count": len(members)}, members))
    return buckets, 0


def _utc_iso(instant):
    return iso_millis(datetime.datetime.fromtimestamp(instant, datetime.timezone.utc))


def _run_date_range(plan, records, ds):
    buckets = []
    for low, high in plan["ranges"]:
        members = [r for r in records if any(_within(i, low, high) for i in _instant_values(plan, r, ds))]
        item = {"label": "%s-%s" % (_utc_iso(low) if low is not None else "*", _utc_iso(high) if high is not None else "*"),
                "count": len(members)}
        if low is not None:
            item.update({"from": low * 1000.0, "string_from": _utc_iso(low)})
        if high is not None:
            item.update({"to": high * 1000.0, "string_to": _utc_iso(high)})
        buckets.append((item, members))
    return buckets, 0


def _within(value, low, high):
    return (low is None or value >= low) and (high is None or value < high)


def _numbers(plan, record, ds):
    """Numeric values of the field; timestamps count as epoch milliseconds, as in Elasticsearch."""
    numbers = []
    for value in _field_values(plan, record, ds):
        if plan["field"] in ds.timestamp_fields:
            instant = fql.parse_instant(value)
            number = instant * 1000.0 if instant is not None else None
        else:
            number = fql.as_number(value)
        if number is not None:
            numbers.append(number)
    return numbers


def _run_range(plan, records, ds):
    buckets = []
    for low, high in plan["ranges"]:
        members = [r for r in records if any(_within(n, low, high) for n in _numbers(plan, r, ds))]
        item = {"label": "%s-%s" % ("*" if low is None else low, "*" if high is None else high), "count": len(members)}
        if low is not None:
            item["from"] = low
        if high is not None:
            item["to"] = high
        buckets.append((item, members))
    return buckets, 0


def _metric_item(plan, records, value, ds):
    item = {"label": plan["name"], "count": len(records)}
    if value is not None:
        item["value"] = value
        if plan["field"] in ds.timestamp_fields and plan["type"] in ("min", "max"):
            item["value_as_string"] = _utc_iso(value / 1000.0)
    return item


def _run_metric(plan, records, ds):
    if plan["type"] == "cardinality":
        distinct = set()
        for record in records:
            distinct.update(fql.as_text(v) for v in _field_values(plan, record, ds))
        return [(_metric_item(plan, records, float(len(distinct)), ds), records)], 0
    numbers = [n for record in records for n in _numbers(plan, record, ds)]
    value = None
    if plan["type"] == "sum":
        value = float(sum(numbers))
    elif numbers:
        value = {"min": min, "max": max, "avg": lambda ns: sum(ns) / len(ns)}[plan["type"]](numbers)
    return [(_metric_item(plan, records, value, ds), records)], 0


def percentile(sorted_numbers, percent):
    """Linear interpolation between the closest ranks."""
    if not sorted_numbers:
        return None
    rank = percent / 100.0 * (len(sorted_numbers) - 1)
    low, high = int(math.floor(rank)), int(math.ceil(rank))
    return sorted_numbers[low] + (sorted_numbers[high] - sorted_numbers[low]) * (rank - low)


def _run_percentiles(plan, records, ds):
    numbers = sorted(n for record in records for n in _numbers(plan, record, ds))
    buckets = []
    for percent in plan["percents"]:
        item = {"label": str(percent), "count": len(records)}
        value = percentile(numbers, percent)
        if value is not None:
            item["value"] = value
        buckets.append((item, records))
    return buckets, 0


_KIND_RUNNERS = {
    "terms": _run_terms, "date_histogram": _run_date_histogram, "date_range": _run_date_range, "range": _run_range,
    "cardinality": _run_metric, "min": _run_metric, "max": _run_metric, "avg": _run_metric, "sum": _run_metric,
    "percentiles": _run_percentiles,
}
