# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""case_aggregate_info: the request it builds, what it refuses before sending, and its results."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.falcon import FalconClient
from ansible_collections.caseops.desk.plugins.modules import case_aggregate_info


def aggregation(**options):
    """One entry as AnsibleModule hands it over: every option present, unset ones None."""
    entry = dict((name, None) for name in case_aggregate_info.AGGREGATION_OPTIONS)
    entry.update(options)
    return entry


def module_with(*aggregations):
    return mock.Mock(params=dict(provider="falcon", aggregations=list(aggregations)), check_mode=False)


@pytest.fixture
def client():
    return mock.create_autospec(FalconClient, instance=True)


def nested(levels):
    """A terms aggregation with ``levels`` levels of sub_aggregates below it."""
    spec = {"type": "terms", "field": "case.type"}
    for dummy in range(levels):
        spec = {"type": "terms", "field": "case.status", "sub_aggregates": [spec]}
    return spec


def test_builds_the_wire_form_and_keys_results_by_name(client):
    client.aggregate_cases.return_value = [{"name": "per_status", "buckets": [{"label": "1", "count": 2}]},
                                           {"name": "low", "buckets": []}]
    result = case_aggregate_info.run(module_with(
        aggregation(name="per_status", type="terms", field="case.status", size=5, sort="_count|desc",
                    sub_aggregates=[{"type": "date_range", "field": "case.created_time",
                                     "date_ranges": [{"from": "now-7d", "to": "now"}]}]),
        aggregation(name="low", type="range", field="case.status", ranges=[{"from": 0.0, "to": 2.0}]),
    ), client)
    client.aggregate_cases.assert_called_once_with([
        {"name": "per_status", "type": "terms", "field": "case.status", "size": 5, "sort": "_count|desc",
         "sub_aggregates": [{"type": "date_range", "field": "case.created_time",
                             "date_ranges": [{"from": "now-7d", "to": "now"}]}]},
        {"name": "low", "type": "range", "field": "case.status", "ranges": [{"From": 0.0, "To": 2.0}]},
    ])
    assert result["changed"] is False
    assert result["results"] == client.aggregate_cases.return_value
    assert sorted(result["by_name"]) == ["low", "per_status"]


def test_three_levels_of_sub_aggregates_are_allowed(client):
    client.aggregate_cases.return_value = []
    case_aggregate_info.run(module_with(aggregation(**nested(3))), client)
    sent = client.aggregate_cases.call_args[0][0][0]
    assert sent["sub_aggregates"][0]["sub_aggregates"][0]["sub_aggregates"][0]["field"] == "case.type"


def test_a_fourth_level_is_refused_before_sending(client):
    with pytest.raises(InvalidInputError) as caught:
        case_aggregate_info.run(module_with(aggregation(**nested(4))), client)
    assert "nested at most 3 levels" in caught.value.msg
    assert "aggregations[0].sub_aggregates[0].sub_aggregates[0].sub_aggregates[0]" in caught.value.msg
    assert client.method_calls == []


@pytest.mark.parametrize("options, message", [
    (dict(type="terms", field="case.status", sort="case.title.asc"), "sort 'case.title.asc' is not a sort order"),
    (dict(type="terms", field="case.status", size=-1), "size must be 0 or more"),
    (dict(type="percentiles", field="case.status", percents=[50.0, 101.0]), "percents must be numbers from 0 to 100"),
    (dict(type="terms", field="case.status", sub_aggregates=[{"type": "median", "field": "case.status"}]),
     "aggregations[0].sub_aggregates[0]: value of type must be one of"),
    (dict(type="terms", field="case.status", sub_aggregates=[{"type": "terms"}]),
     "aggregations[0].sub_aggregates[0]: missing required arguments: field"),
    (dict(type="terms", field="case.status", sub_aggregates=["terms"]), "must be a dictionary"),
    (dict(type="terms", field="case.status", sub_aggregates=[{"type": "terms", "field": "case.type", "sort": "up"}]),
     "aggregations[0].sub_aggregates[0]: sort 'up'"),
])
def test_bad_options_are_refused_before_sending(client, options, message):
    with pytest.raises(InvalidInputError) as caught:
        case_aggregate_info.run(module_with(aggregation(**options)), client)
    assert message in caught.value.msg
    assert client.method_calls == []


@pytest.mark.parametrize("sort", ["_count|desc", "_term|asc", "_key.desc", "count", "_COUNT|DESC"])
def test_sort_orders_the_api_knows_are_accepted(client, sort):
    client.aggregate_cases.return_value = []
    case_aggregate_info.run(module_with(aggregation(type="terms", field="case.status", sort=sort)), client)
    client.aggregate_cases.assert_called_once()


def test_duplicate_top_level_names_are_refused(client):
    with pytest.raises(InvalidInputError) as caught:
        case_aggregate_info.run(module_with(aggregation(name="a", type="terms", field="case.status"),
                                            aggregation(name="a", type="terms", field="case.type")), client)
    assert "used more than once: a" in caught.value.msg
    assert client.method_calls == []


def test_sub_aggregate_ranges_are_converted_too(client):
    client.aggregate_cases.return_value = []
    case_aggregate_info.run(module_with(aggregation(
        type="terms", field="case.type",
        sub_aggregates=[{"type": "range", "field": "case.status", "ranges": [{"from": "1", "to": 3}]}])), client)
    sub = client.aggregate_cases.call_args[0][0][0]["sub_aggregates"][0]
    assert sub["ranges"] == [{"From": 1.0, "To": 3.0}]


@pytest.mark.parametrize("args, message", [
    ({}, "missing required arguments: aggregations"),
    ({"aggregations": [{"type": "median", "field": "case.status"}]}, "value of type must be one of"),
    ({"aggregations": [{"type": "range", "field": "case.status", "ranges": [{"from": 1}]}]}, "missing required arguments: to"),
    ({"aggregations": []}, "aggregations must hold at least one aggregation"),
])
def test_main_checks_the_options(run_main, args, message):
    args.setdefault("falcon_base_url", "http://127.0.0.1:9")
    args.setdefault("falcon_client_id", "id")
    args.setdefault("falcon_client_secret", "secret")
    result, failed = run_main(case_aggregate_info, args)
    assert failed
    assert message in result["msg"]
