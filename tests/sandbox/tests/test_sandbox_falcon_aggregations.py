"""AggregateCases: bucket and metric aggregations over seeded cases."""

import pytest
import requests

from sandbox_helpers import seed_case  # pylint: disable=import-error

AGGREGATE = "/message-center/aggregates/cases/GET/v1"


@pytest.fixture
def cases(url):
    seeds = [
        ("1", "fc:contact", "2026-01-05T10:00:00.000000Z", ["web-01"]),
        ("1", "fc:detection-support", "2026-01-05T15:00:00.000000Z", []),
        ("2", "fc:contact", "2026-01-07T09:00:00.000000Z", ["web-01", "db-01"]),
        ("3", "fc:contact", "2026-02-10T09:00:00.000000Z", []),
        ("4", "fc:incident-support", "2026-03-01T00:00:00.000000Z", ["db-01"]),
    ]
    return [seed_case(url, status=s, type=t, created_time=c, hosts=h, title="case %d" % i)
            for i, (s, t, c, h) in enumerate(seeds)]


def aggregate(url, auth, body):
    return requests.post(url + AGGREGATE, json=body, headers=auth, timeout=10)


def resources(url, auth, *specs):
    response = aggregate(url, auth, list(specs))
    assert response.status_code == 200, response.text
    assert response.json()["errors"] == []
    assert response.json()["meta"]["trace_id"] == response.headers["X-Cs-Traceid"]
    return response.json()["resources"]


def buckets(result):
    return [(b["label"], b["count"]) for b in result["buckets"]]


def test_terms(url, auth, cases):
    result = resources(url, auth, {"name": "by_status", "type": "terms", "field": "status"})[0]
    assert result["name"] == "by_status"
    assert buckets(result) == [("1", 2), ("2", 1), ("3", 1), ("4", 1)]
    assert result["sum_other_doc_count"] == 0
    limited = resources(url, auth, {"name": "t", "type": "terms", "field": "case.type", "size": 1})[0]
    assert buckets(limited) == [("fc:contact", 3)] and limited["sum_other_doc_count"] == 2
    by_term = resources(url, auth, {"name": "t", "type": "terms", "field": "type", "sort": "_term|desc"})[0]
    assert [b[0] for b in buckets(by_term)] == ["fc:incident-support", "fc:detection-support", "fc:contact"]
    hosts = resources(url, auth, {"name": "h", "type": "terms", "field": "hosts", "missing": "none"})[0]
    assert buckets(hosts) == [("db-01", 2), ("none", 2), ("web-01", 2)]     # equal counts: by term
    many = resources(url, auth, {"name": "m", "type": "terms", "field": "status", "min_doc_count": 2})[0]
    assert buckets(many) == [("1", 2)]


def test_filter_and_q(url, auth, cases):
    result = resources(url, auth, {"name": "t", "type": "terms", "field": "status",
                                   "filter": "case.created_time:<'2026-02-01T00:00:00Z'"})[0]
    assert buckets(result) == [("1", 2), ("2", 1)]
    result = resources(url, auth, {"name": "t", "type": "terms", "field": "status", "q": "incident"})[0]
    assert buckets(result) == [("4", 1)]


def test_date_histogram(url, auth, cases):
    result = resources(url, auth, {"name": "per_month", "type": "date_histogram", "field": "created_time",
                                   "interval": "month"})[0]
    assert [(b["key_as_string"], b["count"]) for b in result["buckets"]] == [
        ("2026-01-01T00:00:00.000Z", 3), ("2026-02-01T00:00:00.000Z", 1), ("2026-03-01T00:00:00.000Z", 1)]
    assert result["buckets"][0]["label"] == 1767225600000
    days = resources(url, auth, {"name": "d", "type": "date_histogram", "field": "case.created_time", "interval": "day",
                                 "filter": "case.created_time:<'2026-02-01'", "min_doc_count": 1})[0]
    assert [(b["key_as_string"][:10], b["count"]) for b in days["buckets"]] == [("2026-01-05", 2), ("2026-01-07", 1)]
    filled = resources(url, auth, {"name": "d", "type": "date_histogram", "field": "created_time", "interval": "day",
                                   "filter": "case.created_time:<'2026-02-01'"})[0]
    assert [b["count"] for b in filled["buckets"]] == [2, 0, 1]
    shifted = resources(url, auth, {"name": "d", "type": "date_histogram", "field": "created_time", "interval": "day",
                                    "time_zone": "-10:00", "filter": "case.created_time:<'2026-01-06'"})[0]
    assert [(b["key_as_string"], b["count"]) for b in shifted["buckets"]] == [("2026-01-05T00:00:00.000-10:00", 2)]


def test_date_range_and_range(url, auth, cases):
    result = resources(url, auth, {"name": "dr", "type": "date_range", "field": "created_time", "date_ranges": [
        {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, {"from": "2026-02-01T00:00:00Z"}]})[0]
    assert [b["count"] for b in result["buckets"]] == [3, 2]
    assert result["buckets"][0]["label"] == "2026-01-01T00:00:00.000Z-2026-02-01T00:00:00.000Z"
    assert result["buckets"][1]["from"] == 1769904000000.0 and "to" not in result["buckets"][1]
    ranges = resources(url, auth, {"name": "r", "type": "range", "field": "status",
                                   "ranges": [{"From": 0, "To": 2}, {"From": 2, "To": 10}]})[0]
    assert buckets(ranges) == [("0.0-2.0", 2), ("2.0-10.0", 3)]


def test_metrics(url, auth, cases):
    result = resources(url, auth,
                       {"name": "distinct", "type": "cardinality", "field": "type"},
                       {"name": "lowest", "type": "min", "field": "status"},
                       {"name": "highest", "type": "max", "field": "status"},
                       {"name": "mean", "type": "avg", "field": "status"},
                       {"name": "total", "type": "sum", "field": "status"},
                       {"name": "first", "type": "min", "field": "created_time"})
    values = dict((r["name"], r["buckets"][0]) for r in result)
    assert values["distinct"] == {"label": "distinct", "count": 5, "value": 3.0}
    assert values["lowest"]["value"] == 1.0 and values["highest"]["value"] == 4.0
    assert values["mean"]["value"] == pytest.approx(2.2) and values["total"]["value"] == 11.0
    assert values["first"]["value_as_string"] == "2026-01-05T10:00:00.000Z"


def test_percentiles(url, auth, cases):
    result = resources(url, auth, {"name": "p", "type": "percentiles", "field": "status", "percents": [50, 100]})[0]
    assert [(b["label"], b["value"]) for b in result["buckets"]] == [("50.0", 2.0), ("100.0", 4.0)]
    default = resources(url, auth, {"name": "p", "type": "percentiles", "field": "status"})[0]
    assert [b["label"] for b in default["buckets"]] == ["1.0", "5.0", "25.0", "50.0", "75.0", "95.0", "99.0"]


def test_sub_aggregates(url, auth, cases):
    result = resources(url, auth, {"name": "types", "type": "terms", "field": "type", "sub_aggregates": [
        {"name": "statuses", "type": "terms", "field": "status", "sub_aggregates": [
            {"name": "newest", "type": "max", "field": "created_time"}]}]})[0]
    contact = result["buckets"][0]
    assert contact["label"] == "fc:contact"
    statuses = contact["sub_aggregates"][0]
    assert statuses["name"] == "statuses" and buckets(statuses) == [("1", 1), ("2", 1), ("3", 1)]
    assert statuses["buckets"][0]["sub_aggregates"][0]["buckets"][0]["value_as_string"] == "2026-01-05T10:00:00.000Z"


def nested(depth):
    spec = {"name": "leaf", "type": "terms", "field": "status"}
    for level in range(depth):
        spec = {"name": "level%d" % level, "type": "terms", "field": "status", "sub_aggregates": [spec]}
    return spec


def test_nesting_limit(url, auth, cases):
    assert aggregate(url, auth, [nested(3)]).status_code == 200
    response = aggregate(url, auth, [nested(4)])
    assert response.status_code == 400
    assert "nested at most 3" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("body, fragment", [
    ({"type": "terms", "field": "status"}, "JSON array"),
    (None, "JSON array"),
    ([{"type": "histogram", "field": "status"}], "unknown type"),
    ([{"type": "terms", "field": "colour"}], "unknown or missing field"),
    ([{"type": "terms"}], "unknown or missing field"),
    ([{"type": "terms", "field": "_all"}], "unknown or missing field"),
    ([{"type": "date_histogram", "field": "created_time"}], "interval"),
    ([{"type": "date_histogram", "field": "created_time", "interval": "fortnight"}], "interval"),
    ([{"type": "date_histogram", "field": "status", "interval": "day"}], "timestamp"),
    ([{"type": "date_histogram", "field": "created_time", "interval": "day", "time_zone": "Mars/Base"}], "time_zone"),
    ([{"type": "date_range", "field": "created_time", "date_ranges": [{"from": "soon"}]}], "not a date"),
    ([{"type": "range", "field": "status"}], "ranges"),
    ([{"type": "terms", "field": "status", "sort": "_size|desc"}], "sort"),
    ([{"type": "terms", "field": "status", "filter": "case.colour:'x'"}], "case.colour"),
    ([{"type": "max", "field": "status", "sub_aggregates": [{"type": "min", "field": "status"}]}], "bucket"),
    ([{"type": "percentiles", "field": "status", "percents": [150]}], "percents"),
])
def test_validation(url, auth, body, fragment):
    response = aggregate(url, auth, body)
    assert response.status_code == 400
    assert fragment in response.json()["errors"][0]["message"]


def test_generated_client_defaults_mean_unset(url, auth, cases):
    """Generated SDKs send every field; empty strings, zeros and empty lists are ignored."""
    spec = {"name": "s", "type": "terms", "field": "status", "filter": "", "q": "", "missing": "", "sort": "",
            "time_zone": "", "interval": "", "size": 0, "min_doc_count": 0, "from": 0, "date_ranges": [], "ranges": [],
            "percents": [], "sub_aggregates": [], "include": "", "exclude": ""}
    assert buckets(resources(url, auth, spec)[0]) == [("1", 2), ("2", 1), ("3", 1), ("4", 1)]
