# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""case_activity and case_activity_info logic with a spec'd mock client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils.errors import ApiError, InvalidInputError, NotFoundError
from ansible_collections.caseops.desk.plugins.module_utils.falcon import FalconClient
from ansible_collections.caseops.desk.plugins.modules import case_activity, case_activity_info

UUID = "01234567-89ab-cdef-0123-456789abcdef"


def module_with(check_mode=False, **params):
    defaults = dict(provider="falcon", state="present", case_id="c1", comment="Host isolated.", user_uuid=UUID,
                    allow_duplicates=False)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=check_mode)


@pytest.fixture
def client():
    spec = mock.create_autospec(FalconClient, instance=True)
    # The real lookup over the mocked entity read, so its one "does not exist" message is what the tests see.
    spec.get_case.side_effect = lambda case_id: FalconClient.get_case(spec, case_id)
    return spec


def comment(activity_id, body, created="2026-11-26T09:00:00Z"):
    return dict(id=activity_id, case_id="c1", type="comment", body=body, created_time=created)


def test_identical_comment_means_no_post(client):
    client.find_activity_ids.return_value = (["a1"], 1)
    client.get_activities.return_value = ([comment("a1", "Host isolated.\n")], [])
    result = case_activity.run(module_with(), client)
    assert result == dict(changed=False, activity=comment("a1", "Host isolated.\n"),
                          diff=dict(before=comment("a1", "Host isolated.\n"), after=comment("a1", "Host isolated.\n")))
    client.add_comment.assert_not_called()
    client.find_activity_ids.assert_called_once_with("c1", "activity.type:'comment'", "activity.created_time.desc",
                                                     limit=case_activity.COMMENT_SCAN_LIMIT)


def test_new_comment_is_posted_then_read_back_by_what_is_new(client):
    client.find_activity_ids.side_effect = [(["a1"], 1), (["a2", "a1"], 2)]
    client.get_activities.side_effect = [([comment("a1", "Earlier.")], []),
                                         ([comment("a2", "Host isolated."), comment("a1", "Earlier.")], [])]
    client.add_comment.return_value = None
    result = case_activity.run(module_with(), client)
    client.add_comment.assert_called_once_with("c1", "Host isolated.", UUID, recover=mock.ANY)
    assert result["changed"] is True and result["activity"]["id"] == "a2"


def test_ambiguous_post_is_resolved_by_the_recover_hook(client):
    client.find_activity_ids.side_effect = [([], 0), (["a7"], 1)]
    client.get_cases.return_value = ([{"id": "c1"}], [])
    client.get_activities.return_value = ([comment("a7", "Host isolated.")], [])
    client.add_comment.side_effect = lambda case_id, body, user, recover: recover()
    result = case_activity.run(module_with(), client)
    assert result["activity"]["id"] == "a7"
    assert client.add_comment.call_count == 1


def test_duplicates_on_purpose(client):
    client.find_activity_ids.side_effect = [(["a1"], 1), (["a2", "a1"], 2)]
    client.get_activities.side_effect = [([comment("a1", "Ping")], []), ([comment("a2", "Ping"), comment("a1", "Ping")], [])]
    client.add_comment.return_value = None
    result = case_activity.run(module_with(comment="Ping", allow_duplicates=True), client)
    assert result["changed"] is True and result["activity"]["id"] == "a2"


def test_check_mode_predicts_and_checks_the_case_exists(client):
    client.find_activity_ids.return_value = ([], 0)
    client.get_cases.return_value = ([{"id": "c1"}], [])
    result = case_activity.run(module_with(check_mode=True), client)
    assert result["changed"] is True and result["activity"] == dict(id=None, case_id="c1", type="comment", body="Host isolated.")
    client.add_comment.assert_not_called()


def test_unknown_case_is_a_clear_error(client):
    client.find_activity_ids.return_value = ([], 0)
    client.get_cases.return_value = ([], ["nope"])
    with pytest.raises(NotFoundError) as caught:
        case_activity.run(module_with(case_id="nope", check_mode=True), client)
    assert "case nope does not exist" in caught.value.msg


def test_a_real_post_reads_the_case_only_when_the_api_refuses_it(client):
    client.find_activity_ids.return_value = ([], 0)
    client.get_cases.return_value = ([], ["nope"])
    client.add_comment.side_effect = ApiError("Falcon answered HTTP 400", status=400, vendor="Falcon")
    with pytest.raises(NotFoundError) as caught:
        case_activity.run(module_with(case_id="nope"), client)
    assert "case nope does not exist" in caught.value.msg
    client.add_comment.assert_called_once()


@pytest.mark.parametrize("params, message", [
    (dict(comment="  "), "comment must not be empty"),
    (dict(user_uuid="ana@example.com"), "must be a Falcon user UUID"),
    (dict(case_id=" "), "case_id must not be empty"),
])
def test_bad_input_sends_nothing(client, params, message):
    with pytest.raises(InvalidInputError) as caught:
        case_activity.run(module_with(**params), client)
    assert message in caught.value.msg
    assert client.method_calls == []


def info_module(**params):
    defaults = dict(provider="falcon", case_id="c1", ids=None, filter=None, sort=None, limit=500)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=False)


def test_info_search_then_entities(client):
    client.find_activity_ids.return_value = (["a1", "a2"], 9)
    client.get_activities.return_value = ([comment("a1", "x"), comment("a2", "y")], [])
    result = case_activity_info.run(info_module(filter="activity.type:'comment'", sort="activity.type.asc", limit=2), client)
    client.find_activity_ids.assert_called_once_with("c1", "activity.type:'comment'", "activity.type.asc", 2)
    assert result["total"] == 9 and len(result["activities"]) == 2


def test_info_by_ids_reports_missing(client):
    client.get_activities.return_value = ([comment("a1", "x")], ["zz"])
    result = case_activity_info.run(info_module(case_id=None, ids=["a1", "zz", "a1"]), client)
    client.get_activities.assert_called_once_with(["a1", "zz"])
    assert result["missing_ids"] == ["zz"] and result["total"] == 1


def test_info_no_match_no_entity_call(client):
    client.find_activity_ids.return_value = ([], 0)
    assert case_activity_info.run(info_module(), client)["activities"] == []
    client.get_activities.assert_not_called()


def test_info_limit_and_case_id_checked(client):
    with pytest.raises(InvalidInputError):
        case_activity_info.run(info_module(limit=0), client)
    with pytest.raises(InvalidInputError):
        case_activity_info.run(info_module(case_id=""), client)
    assert client.method_calls == []


def test_info_main_rejects_unknown_sort(run_main):
    result, failed = run_main(case_activity_info, {"case_id": "c1", "sort": "activity.body.asc",
                                                   "falcon_client_id": "x", "falcon_client_secret": "y"})
    assert failed and "activity.created_time.asc" in result["msg"]


# -- provider unit21 ----------------------------------------------------------------------
def test_unit21_is_refused_with_what_to_use_instead(client):
    with pytest.raises(InvalidInputError) as caught:
        case_activity.run(module_with(provider="unit21"), client)
    message = caught.value.msg
    assert "Unit21's API has no comments or notes" in message
    assert "disposition_notes with caseops.desk.case" in message and "caseops.desk.case_attachment" in message
    assert client.method_calls == []


def test_unit21_needs_no_client_and_no_credentials(run_main, monkeypatch):
    for name in ("FALCON_CLIENT_ID", "FALCON_CLIENT_SECRET", "UNIT21_API_KEY", "UNIT21_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert case_activity.build_client({"provider": "unit21"}) is None
    result, failed = run_main(case_activity, {"provider": "unit21", "case_id": "100001", "comment": "Checked."})
    assert failed and "Unit21's API has no comments or notes" in result["msg"]
    # Nothing else is needed to get the explanation, not even the options Falcon requires.
    result, failed = run_main(case_activity, {"provider": "unit21"})
    assert failed and "Unit21's API has no comments or notes" in result["msg"]


def test_falcon_still_requires_its_options(run_main):
    result, failed = run_main(case_activity, {"case_id": "c1", "comment": "x"})
    assert failed and "provider is falcon but all of the following are missing: user_uuid" in result["msg"]
