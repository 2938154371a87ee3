# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""case_info logic with a spec'd mock client, and its argument handling through main()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import runner
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.falcon import FalconClient
from ansible_collections.caseops.desk.plugins.module_utils.unit21 import Unit21Client
from ansible_collections.caseops.desk.plugins.modules import case_info


def module_with(**params):
    defaults = dict(provider="falcon", ids=None, filter=None, sort=None, limit=500)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=False)


@pytest.fixture
def client():
    return mock.create_autospec(FalconClient, instance=True)


def test_search_pages_then_fetches_entities(client):
    client.find_case_ids.return_value = (["a", "b"], 7)
    client.get_cases.return_value = ([{"id": "a"}, {"id": "b"}], [])
    result = case_info.run(module_with(filter="case.status:'1'", sort="case.id.asc", limit=2), client)
    client.find_case_ids.assert_called_once_with("case.status:'1'", "case.id.asc", 2)
    client.get_cases.assert_called_once_with(["a", "b"])
    assert result == dict(changed=False, cases=[{"id": "a"}, {"id": "b"}], total=7, missing_ids=[])


def test_no_match_makes_no_entity_call(client):
    client.find_case_ids.return_value = ([], 0)
    result = case_info.run(module_with(filter="case.title:'none'"), client)
    client.get_cases.assert_not_called()
    assert result["cases"] == [] and result["total"] == 0


def test_ids_are_deduplicated_and_missing_reported(client):
    client.get_cases.return_value = ([{"id": "a"}], ["zz"])
    result = case_info.run(module_with(ids=["a", "zz", "a", ""]), client)
    client.get_cases.assert_called_once_with(["a", "zz"])
    client.find_case_ids.assert_not_called()
    assert result == dict(changed=False, cases=[{"id": "a"}], total=1, missing_ids=["zz"])


def test_empty_id_list_sends_nothing(client):
    assert case_info.run(module_with(ids=[]), client)["cases"] == []
    client.get_cases.assert_not_called()


def test_limit_below_one_is_refused_before_any_call(client):
    with pytest.raises(InvalidInputError) as caught:
        case_info.run(module_with(limit=0), client)
    assert "limit must be 1 or more" in caught.value.msg
    assert client.method_calls == []


def test_main_rejects_ids_with_filter(run_main):
    result, failed = run_main(case_info, {"ids": ["a"], "filter": "case.status:'1'"})
    assert failed
    assert "mutually exclusive" in result["msg"]


def test_main_rejects_unknown_sort(run_main):
    result, failed = run_main(case_info, {"sort": "case.title.asc"})
    assert failed
    assert "case.created_time.asc" in result["msg"]  # the message lists what is allowed


def test_main_without_credentials_fails_clearly(run_main, monkeypatch):
    for name in ("FALCON_CLIENT_ID", "FALCON_CLIENT_SECRET", "FALCON_BASE_URL", "FALCON_CLOUD"):
        monkeypatch.delenv(name, raising=False)
    result, failed = run_main(case_info, {"falcon_base_url": "http://127.0.0.1:9"})
    assert failed
    assert "Falcon credentials are missing" in result["msg"]


def test_main_treats_empty_env_credentials_as_missing(run_main, monkeypatch):
    monkeypatch.setenv("FALCON_CLIENT_ID", "")
    monkeypatch.setenv("FALCON_CLIENT_SECRET", "")
    result, failed = run_main(case_info, {"falcon_base_url": "http://127.0.0.1:9"})
    assert failed and "Falcon credentials are missing" in result["msg"]


def test_main_without_requests_names_the_missing_library(run_main, monkeypatch):
    monkeypatch.setattr(runner, "HAS_REQUESTS", False)
    result, failed = run_main(case_info, {"filter": "case.status:'1'"})
    assert failed
    assert "requests" in result["msg"] and "Failed to import the required Python library" in result["msg"]


def test_unit21_filters_are_refused_for_falcon(client):
    with pytest.raises(InvalidInputError) as caught:
        case_info.run(module_with(statuses=["OPEN"]), client)
    assert "statuses does not apply to provider falcon" in caught.value.msg
    assert client.method_calls == []


def test_falcon_options_are_refused_for_unit21():
    unit21_client = mock.create_autospec(Unit21Client, instance=True)
    with pytest.raises(InvalidInputError) as caught:
        case_info.run(module_with(provider="unit21", filter="case.status:'1'", sort="case.id.asc"), unit21_client)
    assert "filter, sort do not apply to provider unit21" in caught.value.msg
    assert unit21_client.method_calls == []


def test_unit21_lists_through_the_client():
    unit21_client = mock.create_autospec(Unit21Client, instance=True)
    unit21_client.list_cases.return_value = ([{"unit21_id": 1}], 9)
    result = case_info.run(module_with(provider="unit21", statuses=["closed"], limit=1), unit21_client)
    unit21_client.list_cases.assert_called_once_with({"statuses": ["CLOSED"]}, limit=1)
    assert result["total_count"] == 9 and result["cases"] == [{"unit21_id": 1}]


def test_main_with_unit21_and_no_key_fails_clearly(run_main, monkeypatch):
    monkeypatch.delenv("UNIT21_API_KEY", raising=False)
    result, failed = run_main(case_info, {"provider": "unit21", "unit21_base_url": "http://127.0.0.1:9"})
    assert failed and "unit21_api_key is required" in result["msg"]
