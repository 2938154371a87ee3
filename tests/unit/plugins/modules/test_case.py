# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""case (Falcon) logic with a spec'd mock client: find before create, check mode, recovery, refusals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import providers
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.falcon import FalconClient
from ansible_collections.caseops.desk.plugins.module_utils.unit21 import Unit21Client
from ansible_collections.caseops.desk.plugins.modules import case

UUID = "01234567-89ab-cdef-0123-456789abcdef"


def module_with(check_mode=False, **params):
    defaults = dict(provider="falcon", state="present", title="Detection review", body="Please look.",
                    type="fc:detection-support", detections=None, incidents=None, user_uuid=None,
                    malware_submission_id=None, recon_rule_type=None, match_status="any", match_filter=None)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=check_mode)


@pytest.fixture
def client():
    return mock.create_autospec(FalconClient, instance=True)


def stored(case_id, status="2", created="2026-11-26T09:00:00Z", **fields):
    record = dict(id=case_id, title="Detection review", type="fc:detection-support", body="Please look.",
                  status=status, created_time=created, detections=[], incidents=[])
    record.update(fields)
    return record


def test_existing_case_is_present_and_nothing_is_sent(client):
    client.find_case_ids.return_value = (["c1"], 1)
    client.get_cases.return_value = ([stored("c1")], [])
    module = module_with()
    result = case.run(module, client)
    assert result["changed"] is False and result["case"]["id"] == "c1" and result["matches"] == 1
    client.create_case.assert_not_called()
    flt = client.find_case_ids.call_args[0][0]
    assert flt == "case.title:'Detection review'+case.type:'fc:detection-support'"
    module.warn.assert_not_called()


def test_search_matches_exactly_not_loosely(client):
    # The search may return near misses (other case, other type); only an exact title and type count.
    client.find_case_ids.return_value = (["c1", "c2"], 2)
    client.get_cases.side_effect = [([stored("c1", title="detection review"), stored("c2", type="fc:contact")], []),
                                    ([stored("new")], [])]
    client.create_case.return_value = "new"
    result = case.run(module_with(), client)
    assert result["changed"] is True and result["case"]["id"] == "new"


def test_new_case_is_created_with_only_the_given_fields_and_read_back(client):
    client.find_case_ids.return_value = ([], 0)
    client.create_case.return_value = "c9"
    client.get_cases.return_value = ([stored("c9", key="CS-9")], [])
    result = case.run(module_with(detections=["ldt:abc:1", {"id": "ldt:abc:2", "url": "https://x"}], user_uuid=UUID), client)
    sent = client.create_case.call_args[0][0]
    assert sent == {"title": "Detection review", "type": "fc:detection-support", "body": "Please look.",
                    "detections": [{"id": "ldt:abc:1"}, {"id": "ldt:abc:2", "url": "https://x"}], "user_uuid": UUID}
    assert result["changed"] is True and result["case"]["key"] == "CS-9"
    assert result["diff"] == {"before": {}, "after": result["case"]}


def test_check_mode_predicts_without_creating(client):
    client.find_case_ids.return_value = ([], 0)
    result = case.run(module_with(check_mode=True), client)
    client.create_case.assert_not_called()
    assert result["changed"] is True
    assert result["case"] == {"id": None, "title": "Detection review", "type": "fc:detection-support", "body": "Please look."}


def test_recover_finds_only_a_case_that_was_not_there_before(client):
    client.find_case_ids.return_value = (["old"], 1)
    old_closed = stored("old", status="3")
    created = stored("new", created="2026-11-26T10:00:00Z")
    client.get_cases.side_effect = [([old_closed], []), ([old_closed, created], []), ([created], [])]

    def create(fields, recover):
        client.find_case_ids.return_value = (["old", "new"], 2)
        return recover()

    client.create_case.side_effect = create
    result = case.run(module_with(match_status="open"), client)
    assert result["case"]["id"] == "new" and result["changed"] is True


def test_open_match_ignores_closed_cases(client):
    client.find_case_ids.return_value = (["c1"], 1)
    client.get_cases.side_effect = [([stored("c1", status="4")], []), ([stored("c2")], [])]
    client.create_case.return_value = "c2"
    assert case.run(module_with(match_status="open"), client)["changed"] is True


def test_newest_of_several_matches_is_returned_with_a_warning(client):
    client.find_case_ids.return_value = (["a", "b"], 2)
    client.get_cases.return_value = ([stored("a", created="2026-01-01T00:00:00Z"), stored("b", created="2026-02-01T00:00:00Z")], [])
    module = module_with()
    result = case.run(module, client)
    assert result["case"]["id"] == "b" and result["matches"] == 2
    assert "2 cases have this title" in module.warn.call_args[0][0]


def test_match_filter_narrows_with_a_second_search(client):
    client.find_case_ids.side_effect = [(["a", "b"], 2), (["b"], 1)]
    client.get_cases.return_value = ([stored("a"), stored("b")], [])
    result = case.run(module_with(match_filter="case.hosts:'web-01'"), client)
    assert result["case"]["id"] == "b"
    assert client.find_case_ids.call_args_list[1][0][0].endswith("+(case.hosts:'web-01')")


def test_differences_that_cannot_be_updated_are_warned_about(client):
    client.find_case_ids.return_value = (["c1"], 1)
    client.get_cases.return_value = ([stored("c1", body="Other text")], [])
    module = module_with()
    assert case.run(module, client)["changed"] is False
    assert "different body" in module.warn.call_args[0][0]


def test_quotes_in_titles_are_escaped_for_fql(client):
    client.find_case_ids.return_value = ([], 0)
    case.run(module_with(title="It's \\ odd", check_mode=True), client)
    assert client.find_case_ids.call_args[0][0].startswith("case.title:'It\\'s \\\\ odd'")


@pytest.mark.parametrize("params, message", [
    (dict(state="absent"), "cannot be deleted or closed"),
    (dict(type="contact"), "is not a Falcon case type"),
    (dict(title="  "), "title must not be empty"),
    (dict(user_uuid="ana@example.com"), "must be a Falcon user UUID"),
    (dict(detections=[{"url": "https://x"}]), "detections[0] needs an id"),
    (dict(incidents=[{"id": "inc:1", "product": "x"}]), "unknown keys product"),
    (dict(detections=[42]), "must be an ID or a dictionary"),
])
def test_bad_input_is_refused_before_any_request(client, params, message):
    with pytest.raises(InvalidInputError) as caught:
        case.run(module_with(**params), client)
    assert message in caught.value.msg
    assert client.method_calls == []


def test_unknown_fc_type_is_sent_with_a_warning(client):
    client.find_case_ids.return_value = ([], 0)
    module = module_with(type="fc:malware-submission", check_mode=True)
    assert case.run(module, client)["case"]["type"] == "fc:malware-submission"
    assert "not one of the documented case types" in module.warn.call_args[0][0]


def test_body_is_needed_only_to_create(client):
    client.find_case_ids.return_value = ([], 0)
    with pytest.raises(InvalidInputError) as caught:
        case.run(module_with(body=None), client)
    assert "body is required to open a case" in caught.value.msg
    client.find_case_ids.return_value = (["c1"], 1)
    client.get_cases.return_value = ([stored("c1")], [])
    assert case.run(module_with(body=None), client)["changed"] is False


def test_main_rejects_missing_title(run_main):
    result, failed = run_main(case, {"type": "fc:contact", "falcon_client_id": "x", "falcon_client_secret": "y"})
    assert failed and "title" in result["msg"]


# -- provider dispatch -------------------------------------------------------------------

def test_unit21_options_are_refused_for_falcon(client):
    with pytest.raises(InvalidInputError) as caught:
        case.run(module_with(case_id="ext-1", tags=["a:b"], lists="merge"), client)
    assert caught.value.msg == ("case_id, tags do not apply to provider falcon: case_id is for unit21; tags is for unit21.")
    assert client.method_calls == []


def test_falcon_options_are_refused_for_unit21():
    unit21_client = mock.create_autospec(Unit21Client, instance=True)
    module = module_with(provider="unit21", type="fc:contact", match_status="any", case_id="ext-1")
    with pytest.raises(InvalidInputError) as caught:
        case.run(module, unit21_client)
    assert "type does not apply to provider unit21" in caught.value.msg
    assert unit21_client.method_calls == []


def test_unit21_is_dispatched_to_the_unit21_logic():
    unit21_client = mock.create_autospec(Unit21Client, instance=True)
    unit21_client.read_case.return_value = {"unit21_id": 7, "case_id": "ext-1", "title": "Detection review",
                                            "source": ["EXTERNAL"]}
    module = module_with(provider="unit21", type=None, body=None, unit21_id=7, lists="merge", custom_data_mode="merge")
    result = case.run(module, unit21_client)
    assert result["changed"] is False and result["unit21_id"] == 7


def test_the_client_is_the_providers(monkeypatch):
    monkeypatch.setattr(providers.unit21, "client_from_params", lambda params: "u21")
    monkeypatch.setattr(providers.falcon, "client_from_params", lambda params: "falcon")
    assert providers.client_from_params({"provider": "unit21"}) == "u21"
    assert providers.client_from_params({"provider": "falcon"}) == "falcon"
    assert providers.client_from_params({}) == "falcon"


def test_main_needs_type_only_for_falcon(run_main):
    result, failed = run_main(case, {"title": "x", "falcon_client_id": "x", "falcon_client_secret": "y"})
    assert failed and "type" in result["msg"]
    result, failed = run_main(case, {"provider": "unit21", "unit21_api_key": "k", "unit21_base_url": "http://127.0.0.1:9",
                                     "status": "nope", "case_id": "ext-1"})
    assert failed and "status must be OPEN or CLOSED" in result["msg"]
