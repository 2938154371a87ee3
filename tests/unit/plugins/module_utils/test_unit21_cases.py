# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit21 case logic over a spec'd mock client: input checks, comparison, the 409 path, check mode, recovery."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import unit21_cases
from ansible_collections.caseops.desk.plugins.module_utils.errors import ConflictError, InvalidInputError, NotFoundError
from ansible_collections.caseops.desk.plugins.module_utils.unit21 import Unit21Client

CASE_PARAMS = ("case_id", "unit21_id", "title", "body", "status", "disposition", "disposition_notes", "start_date",
               "end_date", "tags", "queue_id", "alerts", "events", "entities", "custom_data")


def module_with(check_mode=False, **params):
    values = dict((name, None) for name in CASE_PARAMS)
    values.update(provider="unit21", state="present", lists="merge", custom_data_mode="merge")
    values.update(params)
    return mock.Mock(params=values, check_mode=check_mode)


@pytest.fixture
def client():
    return mock.create_autospec(Unit21Client, instance=True)


def stored(unit21_id=100001, **fields):
    """A case as the sandbox's GET shows it."""
    case = dict(unit21_id=unit21_id, case_id="ext-1", title="Fraud ring", description="Six accounts", status="OPEN",
                disposition=None, disposition_notes=None, disposition_at=None, dispositioned_by=None,
                created_at=1767225600, created_by="api@example", start_date=1767225600, end_date=None,
                source=["EXTERNAL"], assigned_to=None, queue_id=None, tags=["source:ci"], custom_data={},
                entities=[{"entity_id": "user-1", "entity_type": None}],
                events=[{"event_id": "txn-1", "event_type": "transaction"}], alerts=[7], actions=[])
    case.update(fields)
    return case


# -- input checks (nothing sent) -----------------------------------------------------

@pytest.mark.parametrize("params, message", [
    (dict(case_id=None), "case_id or unit21_id is required"),
    (dict(status="shut"), "status must be OPEN or CLOSED"),
    (dict(status="closed"), "status CLOSED needs a disposition"),
    (dict(tags=["nocolon"]), "key:value"),
    (dict(tags=[":value"]), "key:value"),
    (dict(queue_id="q1"), "queue_id must be an integer"),
    (dict(alerts=[1, "x"]), "alerts[1] must be an integer"),
    (dict(events=["txn-1"]), "events[0] must be a dictionary"),
    (dict(events=[{"event_id": "t", "event_type": "payment"}]), "event_type must be transaction or action"),
    (dict(events=[{"event_type": "action"}]), "events[0] needs an event_id"),
    (dict(events=[{"event_id": "t", "event_type": "action", "x": 1}]), "unknown keys x"),
    (dict(entities=[""]), "entities[0] must be an entity_id"),
    (dict(custom_data={"a": {"b": {"c": {"d": 1}}}}), "at most 3 levels"),
    (dict(custom_data={"caseops_desk_media": []}), "custom_data.caseops_desk_media is kept by this collection"),
    (dict(custom_data={"caseops_desk_fields": {}}), "custom_data.caseops_desk_fields is kept by this collection"),
    (dict(start_date="yesterday"), "start_date must be a date"),
    (dict(start_date="2026-02-01", end_date="2026-01-01"), "end_date (1767225600) is before start_date"),
    (dict(title="t" * 257), "title may be at most 256 characters"),
    (dict(body="d" * 1025), "body (the case description) may be at most 1024"),
    (dict(case_id="c" * 129), "case_id may be at most 128"),
    (dict(title="  "), "title must not be empty"),
    (dict(unit21_id="ext-1"), "unit21_id must be Unit21's numeric case id"),
    (dict(state="absent"), "Unit21 has no delete"),
])
def test_bad_input_is_refused_before_any_request(client, params, message):
    values = dict(case_id="ext-1", title="Fraud ring")
    values.update(params)
    with pytest.raises(InvalidInputError) as caught:
        unit21_cases.run_case(module_with(**values), client)
    assert message in caught.value.msg
    assert client.method_calls == []


def test_desired_fields_are_normalised():
    case_id, wanted = unit21_cases.desired_case(dict(
        case_id="ext-1", title="T", body="D", status="closed", disposition="TRUE_POSITIVE", start_date="2026-01-01",
        end_date=1767312000, tags=["a:1", "a:1"], queue_id="12", alerts=["5"],
        events=[{"event_id": "t1", "event_type": "action"}, {"event_id": "t1", "event_type": "action"}],
        entities=["u1"], custom_data={"k": {"n": 1}}))
    assert case_id == "ext-1"
    assert wanted == dict(title="T", description="D", status="CLOSED", disposition="TRUE_POSITIVE",
                          start_date=1767225600, end_date=1767312000, tags=["a:1"], queue_id=12, alerts=[5],
                          events=[{"event_id": "t1", "event_type": "action"}], entities=["u1"], custom_data={"k": {"n": 1}})


# -- comparison ------------------------------------------------------------------------

def test_same_case_in_other_spellings_is_unchanged():
    case = stored(status="open", start_date="1767225600", alerts=["7"], tags=["b:2", "source:ci"])
    wanted = unit21_cases.desired_case(dict(case_id="ext-1", title="Fraud ring", body="Six accounts", status="OPEN",
                                            start_date="2026-01-01T00:00:00Z", tags=["source:ci"], alerts=[7],
                                            entities=["user-1"], events=[{"event_id": "txn-1", "event_type": "transaction"}],
                                            custom_data={}))[1]
    assert unit21_cases.plan_update(case, wanted) == ([], {}, [])


def test_merge_sends_only_missing_items_and_replace_sends_the_whole_list():
    case = stored(tags=["a:1", "b:2"])
    assert unit21_cases.plan_update(case, {"tags": ["b:2", "c:3"]})[1] == {"tags": ["c:3"]}
    assert unit21_cases.plan_update(case, {"tags": ["b:2"]})[1] == {}
    assert unit21_cases.plan_update(case, {"tags": ["b:2"]}, lists="replace")[1] == {"tags": ["b:2"]}
    assert unit21_cases.plan_update(case, {"tags": ["b:2", "a:1"]}, lists="replace")[1] == {}
    assert unit21_cases.plan_update(case, {"tags": []}, lists="replace")[1] == {"tags": []}


def test_events_compare_by_id_and_type():
    case = stored()
    other_type = [{"event_id": "txn-1", "event_type": "action"}]
    body = unit21_cases.plan_update(case, {"events": other_type})[1]
    assert body["events"] == other_type
    # events is returned by no endpoint under the documented shapes, so what was sent is recorded (merged in).
    assert body["custom_data"] == {"caseops_desk_fields": {"events": unit21_cases.value_digest(other_type)}}


def test_custom_data_merge_is_a_deep_subset_and_replace_keeps_linked_media():
    media = [{"name": "a.pdf", "sha256": "00"}]
    case = stored(custom_data={"a": {"x": 1, "y": 2}, "b": 1, "caseops_desk_media": media})
    assert unit21_cases.plan_update(case, {"custom_data": {"a": {"x": 1}}})[1] == {}
    assert unit21_cases.plan_update(case, {"custom_data": {"a": {"x": 3}}})[1] == {"custom_data": {"a": {"x": 3}}}
    body = unit21_cases.plan_update(case, {"custom_data": {"b": 1}}, custom_data_mode="replace")[1]
    assert body == {"custom_data": {"b": 1, "caseops_desk_media": media}}
    exact = {"a": {"x": 1, "y": 2}, "b": 1}
    assert unit21_cases.plan_update(case, {"custom_data": exact}, custom_data_mode="replace")[1] == {}


def test_fields_not_returned_are_sent_and_reported():
    case = stored()
    del case["tags"]
    changed, body, unknown = unit21_cases.plan_update(case, {"tags": ["a:1"], "title": "Fraud ring"})
    assert (changed, body, unknown) == (["tags"], {"tags": ["a:1"]}, ["tags"])


def test_disposition_notes_fall_back_to_the_newest_action():
    case = stored(actions=[{"disposition_notes": "old"}, {"disposition_notes": "new"}])
    del case["disposition_notes"]
    assert unit21_cases.plan_update(case, {"disposition_notes": "new"})[1] == {}


# -- identity by unit21_id -----------------------------------------------------------------

def test_unit21_id_unchanged_is_one_read(client):
    client.read_case.return_value = stored()
    result = unit21_cases.run_case(module_with(unit21_id="100001", title="Fraud ring"), client)
    assert result["changed"] is False and result["unit21_id"] == 100001 and result["changed_fields"] == []
    assert client.method_calls == [mock.call.read_case("100001")]


def test_close_sends_status_and_disposition_in_one_update(client):
    closed = stored(status="CLOSED", disposition="TRUE_POSITIVE")
    client.read_case.side_effect = [stored(), closed]
    result = unit21_cases.run_case(module_with(unit21_id=100001, status="closed", disposition="TRUE_POSITIVE"), client)
    client.update_case.assert_called_once_with(100001, {"status": "CLOSED", "disposition": "TRUE_POSITIVE"},
                                               list_merge_strategy=None, merge_custom_data=None)
    assert result["changed"] is True and result["changed_fields"] == ["disposition", "status"]
    assert result["diff"]["before"]["status"] == "OPEN" and result["diff"]["after"]["status"] == "CLOSED"


def test_close_with_the_cases_own_disposition(client):
    client.read_case.return_value = stored(disposition="UNRESOLVED")
    unit21_cases.run_case(module_with(unit21_id=100001, status="CLOSED"), client)
    assert client.update_case.call_args[0][1] == {"status": "CLOSED"}


def test_close_without_any_disposition_is_refused_before_writing(client):
    client.read_case.return_value = stored()
    with pytest.raises(InvalidInputError) as caught:
        unit21_cases.run_case(module_with(unit21_id=100001, status="CLOSED"), client)
    assert "has none" in caught.value.msg
    client.update_case.assert_not_called()


def test_list_and_custom_data_options_follow_the_modes(client):
    client.read_case.return_value = stored()
    unit21_cases.run_case(module_with(unit21_id=100001, tags=["new:1"], custom_data={"k": 1}), client)
    assert client.update_case.call_args == mock.call(100001, {"tags": ["new:1"], "custom_data": {"k": 1}},
                                                     list_merge_strategy="union", merge_custom_data=True)
    client.update_case.reset_mock()
    unit21_cases.run_case(module_with(unit21_id=100001, entities=["user-2"], custom_data={"k": 1}, lists="replace",
                                      custom_data_mode="replace"), client)
    digest = unit21_cases.value_digest(["user-2"])
    assert client.update_case.call_args == mock.call(
        100001, {"entities": ["user-2"], "custom_data": {"k": 1, "caseops_desk_fields": {"entities": digest}}},
        list_merge_strategy="replace", merge_custom_data=False)


def test_missing_unit21_id_is_a_clear_error(client):
    client.read_case.side_effect = NotFoundError("nope", status=404)
    with pytest.raises(InvalidInputError) as caught:
        unit21_cases.run_case(module_with(unit21_id=5, title="x"), client)
    assert "no case with unit21_id 5" in caught.value.msg


def test_unit21_id_of_another_case_id_is_refused(client):
    client.read_case.return_value = stored(case_id="other")
    with pytest.raises(InvalidInputError) as caught:
        unit21_cases.run_case(module_with(unit21_id=100001, case_id="ext-1"), client)
    assert "'other', not 'ext-1'" in caught.value.msg


def test_internal_case_is_returned_when_it_matches_and_refused_when_it_would_change(client):
    client.read_case.return_value = stored(source=["INTERNAL"], case_id=None)
    assert unit21_cases.run_case(module_with(unit21_id=100001, title="Fraud ring"), client)["changed"] is False
    with pytest.raises(InvalidInputError) as caught:
        unit21_cases.run_case(module_with(unit21_id=100001, title="Other"), client)
    assert "only cases created through the API" in caught.value.msg
    client.update_case.assert_not_called()


def test_check_mode_predicts_the_update_without_sending(client):
    client.read_case.return_value = stored(custom_data={"a": {"x": 1}})
    result = unit21_cases.run_case(module_with(check_mode=True, unit21_id=100001, tags=["n:1"], entities=["user-2"],
                                               custom_data={"a": {"y": 2}}), client)
    client.update_case.assert_not_called()
    assert result["changed"] is True
    assert result["case"]["tags"] == ["source:ci", "n:1"]
    assert result["case"]["custom_data"] == {"a": {"x": 1, "y": 2}, "caseops_desk_fields": {
        "entities": unit21_cases.value_digest(["user-2"])}}
    assert result["diff"]["after"]["entities"] == ["user-1", "user-2"]


# -- identity by case_id -------------------------------------------------------------------

def test_create_sends_the_fields_with_a_start_date_and_reads_back(client):
    client.create_case.return_value = {"case_id": "ext-1", "unit21_id": 100009, "previously_existed": False}
    client.read_case.return_value = stored(100009)
    with mock.patch.object(unit21_cases.time, "time", return_value=1767225600.5):
        result = unit21_cases.run_case(module_with(case_id="ext-1", title="Fraud ring", tags=["source:ci"]), client)
    body = client.create_case.call_args[0][0]
    assert body == {"case_id": "ext-1", "title": "Fraud ring", "tags": ["source:ci"], "start_date": 1767225600}
    assert callable(client.create_case.call_args[1]["recover"])
    assert result["changed"] is True and result["unit21_id"] == 100009 and result["diff"]["before"] == {}
    # The tags and custom_data just sent stand in for the list item: GET only, no list request.
    client.read_case.assert_called_once_with(100009, list_item={"tags": ["source:ci"], "custom_data": {}})
    client.get_case.assert_not_called()


def test_conflict_finds_the_case_and_updates_only_what_differs(client):
    client.create_case.side_effect = ConflictError("exists", status=409)
    client.find_case.return_value = {"unit21_id": 100001, "case_id": "ext-1"}
    client.read_case.side_effect = [stored(), stored(title="New title")]
    result = unit21_cases.run_case(module_with(case_id="ext-1", title="New title", body="Six accounts"), client)
    client.find_case.assert_called_once_with("ext-1")
    # The list item found by case_id spares read_case its own list request.
    assert client.read_case.call_args_list[0] == mock.call(100001, list_item={"unit21_id": 100001, "case_id": "ext-1"})
    client.update_case.assert_called_once_with(100001, {"title": "New title"}, list_merge_strategy=None,
                                               merge_custom_data=None)
    assert result["changed"] is True and result["changed_fields"] == ["title"]


def test_conflict_with_nothing_to_change_is_unchanged(client):
    client.create_case.side_effect = ConflictError("exists", status=409)
    client.find_case.return_value = {"unit21_id": 100001, "case_id": "ext-1"}
    client.read_case.return_value = stored()
    result = unit21_cases.run_case(module_with(case_id="ext-1", title="Fraud ring"), client)
    assert result["changed"] is False
    client.update_case.assert_not_called()


def test_conflict_on_a_resent_create_is_the_first_create_landing_late(client):
    # A 504 or a timeout, a recovery look-up that did not see the case yet, a resend, then 409: this task made it.
    client.create_case.side_effect = ConflictError("exists", status=409, replayed=True)
    client.find_case.return_value = {"unit21_id": 100001, "case_id": "ext-1"}
    client.read_case.return_value = stored()
    module = module_with(case_id="ext-1", title="Fraud ring")
    result = unit21_cases.run_case(module, client)
    assert result["changed"] is True and result["unit21_id"] == 100001
    client.update_case.assert_not_called()
    warning = module.warn.call_args[0][0]
    assert "the first create had landed after all" in warning and "100001" in warning


def test_conflict_on_a_first_create_warns_of_nothing(client):
    client.create_case.side_effect = ConflictError("exists", status=409)
    client.find_case.return_value = {"unit21_id": 100001, "case_id": "ext-1"}
    client.read_case.return_value = stored()
    module = module_with(case_id="ext-1", title="Fraud ring")
    assert unit21_cases.run_case(module, client)["changed"] is False
    module.warn.assert_not_called()


def test_conflict_without_a_findable_case_is_explained(client):
    client.create_case.side_effect = ConflictError("exists", status=409)
    client.find_case.return_value = None
    with pytest.raises(InvalidInputError) as caught:
        unit21_cases.run_case(module_with(case_id="ext-1", title="Fraud ring"), client)
    assert "pass its unit21_id" in caught.value.msg


def test_recover_returns_the_found_unit21_id_and_the_case_is_compared(client):
    def create(fields, recover):
        client.find_case.return_value = {"unit21_id": 100003, "case_id": "ext-1"}
        return {"case_id": "ext-1", "unit21_id": recover(), "recovered": True}

    client.create_case.side_effect = create
    client.read_case.return_value = stored(100003)
    module = module_with(case_id="ext-1", title="Fraud ring")
    result = unit21_cases.run_case(module, client)
    assert result["changed"] is True and result["unit21_id"] == 100003
    client.update_case.assert_not_called()
    warning = module.warn.call_args[0][0]
    assert "'ext-1'" in warning and "100003" in warning and "not sent again" in warning


def test_recover_says_none_when_nothing_landed(client):
    seen = []

    def create(fields, recover):
        client.find_case.return_value = None
        seen.append(recover())
        return {"case_id": "ext-1", "unit21_id": 100004, "previously_existed": False}

    client.create_case.side_effect = create
    client.read_case.return_value = stored(100004)
    unit21_cases.run_case(module_with(case_id="ext-1", title="Fraud ring"), client)
    assert seen == [None]


def test_check_mode_searches_and_predicts_a_create(client):
    client.find_case.return_value = None
    result = unit21_cases.run_case(module_with(check_mode=True, case_id="ext-1", title="Fraud ring",
                                               entities=["u1"]), client)
    assert client.method_calls == [mock.call.find_case("ext-1")]
    assert result["changed"] is True and result["unit21_id"] is None
    assert result["case"]["case_id"] == "ext-1" and result["case"]["status"] == "OPEN"
    assert result["diff"]["after"]["entities"] == ["u1"]


def test_check_mode_predicts_an_update_of_an_existing_case(client):
    client.find_case.return_value = {"unit21_id": 100001, "case_id": "ext-1"}
    client.read_case.return_value = stored()
    result = unit21_cases.run_case(module_with(check_mode=True, case_id="ext-1", title="Other"), client)
    assert result["changed"] is True and result["case"]["title"] == "Other"
    client.create_case.assert_not_called()
    client.update_case.assert_not_called()


def test_without_title_an_existing_case_is_found_and_a_missing_one_explained(client):
    client.find_case.return_value = {"unit21_id": 100001, "case_id": "ext-1"}
    client.read_case.return_value = stored()
    assert unit21_cases.run_case(module_with(case_id="ext-1", tags=["source:ci"]), client)["changed"] is False
    client.find_case.return_value = None
    with pytest.raises(InvalidInputError) as caught:
        unit21_cases.run_case(module_with(case_id="ext-1", tags=["a:b"]), client)
    assert "title is required to create" in caught.value.msg
    client.create_case.assert_not_called()


def test_check_mode_without_title_for_a_missing_case_is_the_same_error(client):
    client.find_case.return_value = None
    with pytest.raises(InvalidInputError) as caught:
        unit21_cases.run_case(module_with(check_mode=True, case_id="ext-1", tags=["a:b"]), client)
    assert "title is required to create" in caught.value.msg


def test_unreturned_fields_warn(client):
    case = stored()
    del case["tags"]
    client.read_case.return_value = case
    module = module_with(unit21_id=100001, tags=["source:ci"])
    unit21_cases.run_case(module, client)
    assert "cannot be compared" in module.warn.call_args[0][0]
    assert "nor its custom_data" in module.warn.call_args[0][0]


# -- case_info ------------------------------------------------------------------------------

INFO_PARAMS = tuple(unit21_cases.LIST_FILTERS) + unit21_cases.INCLUDE_OPTIONS


def info_module(**params):
    values = dict((name, None) for name in INFO_PARAMS)
    values.update(provider="unit21", ids=None, filter=None, sort=None, limit=500)
    values.update(params)
    return mock.Mock(params=values, check_mode=False)


def test_filters_are_checked_and_converted(client):
    client.list_cases.return_value = ([{"unit21_id": 1}], 1)
    result = unit21_cases.run_case_info(info_module(
        statuses=["open", "OPEN"], sources=["external"], created_after="2026-01-01", associated_alerts=["3"],
        tag_filters=["source", "k:v"], include_actions=True, include_checklist=False, limit=70), client)
    client.list_cases.assert_called_once_with(
        {"statuses": ["OPEN"], "sources": ["EXTERNAL"], "created_after": 1767225600, "associated_alerts": [3],
         "tag_filters": ["source", "k:v"], "options": {"include_actions": True}}, limit=70)
    assert result == dict(changed=False, cases=[{"unit21_id": 1}], total=1, total_count=1, missing_ids=[])


@pytest.mark.parametrize("params, message", [
    (dict(statuses=["pending"]), "statuses must be OPEN or CLOSED"),
    (dict(sources=["api"]), "sources must be INTERNAL or EXTERNAL"),
    (dict(limit=0), "limit must be 1 or more"),
    (dict(created_before="soon"), "created_before must be a date"),
    (dict(tag_filters=[":v"]), "tag_filters entries"),
    (dict(ids=["ext-1"]), "ids must be Unit21's numeric case id"),
    (dict(ids=["1"], statuses=["OPEN"]), "ids cannot be combined"),
])
def test_info_bad_input_sends_nothing(client, params, message):
    with pytest.raises(InvalidInputError) as caught:
        unit21_cases.run_case_info(info_module(**params), client)
    assert message in caught.value.msg
    assert client.method_calls == []


def test_ids_are_read_one_by_one_and_missing_reported(client):
    client.read_case.side_effect = [{"unit21_id": 1}, NotFoundError("gone", status=404)]
    result = unit21_cases.run_case_info(info_module(ids=["1", "999", " 1", " "]), client)
    assert client.read_case.call_args_list == [mock.call(1), mock.call(999)]
    assert result == dict(changed=False, cases=[{"unit21_id": 1}], total=1, total_count=1, missing_ids=[999])


# -- what a GET of the documented shape cannot show (FIDELITY.md, Unit21 U1, U2) --------------------

def documented_read(**fields):
    """A case as read_case gives it under the documented shapes: getCaseResponse plus tags and custom_data."""
    case = stored(**fields)
    for field in ("start_date", "end_date", "queue_id", "entities", "events", "alerts", "disposition_notes"):
        case.pop(field, None)
    return case


def test_create_records_the_fields_unit21_never_returns(client):
    client.create_case.return_value = {"case_id": "ext-1", "unit21_id": 100009, "previously_existed": False}
    client.read_case.return_value = documented_read(unit21_id=100009)
    unit21_cases.run_case(module_with(case_id="ext-1", title="Fraud ring", start_date=1767225600, queue_id=4,
                                      custom_data={"k": 1}), client)
    body = client.create_case.call_args[0][0]
    assert body["custom_data"] == {"k": 1, "caseops_desk_fields": {"start_date": unit21_cases.value_digest(1767225600),
                                                                   "queue_id": unit21_cases.value_digest(4)}}
    assert body["start_date"] == 1767225600 and body["queue_id"] == 4


def test_recorded_unreadable_fields_are_unchanged_without_a_warning(client):
    wanted = dict(start_date=1767225600, alerts=[7], events=[{"event_id": "t", "event_type": "action"}],
                  disposition_notes="checked")
    record = dict((field, unit21_cases.value_digest(value)) for field, value in wanted.items())
    client.read_case.return_value = documented_read(custom_data={"caseops_desk_fields": record})
    module = module_with(unit21_id=100001, **wanted)
    result = unit21_cases.run_case(module, client)
    assert result["changed"] is False and result["changed_fields"] == []
    client.update_case.assert_not_called()
    module.warn.assert_not_called()


def test_an_unreadable_field_with_a_new_value_is_sent_with_its_record_merged(client):
    old = {"start_date": unit21_cases.value_digest(1767225600), "queue_id": unit21_cases.value_digest(4)}
    client.read_case.return_value = documented_read(custom_data={"mine": 1, "caseops_desk_fields": old})
    module = module_with(unit21_id=100001, start_date=1767312000, queue_id=4)
    result = unit21_cases.run_case(module, client)
    assert result["changed"] is True and result["changed_fields"] == ["start_date"]
    record = dict(old, start_date=unit21_cases.value_digest(1767312000))
    client.update_case.assert_called_once_with(100001, {"start_date": 1767312000,
                                                        "custom_data": {"caseops_desk_fields": record}},
                                               list_merge_strategy=None, merge_custom_data=True)
    module.warn.assert_not_called()


def test_replace_keeps_every_key_the_collection_owns(client):
    owned = {"caseops_desk_media": {"ab": ["a.pdf"]}, "caseops_desk_media_unconfirmed": {"cd": ["b.pdf"]},
             "caseops_desk_fields": {"queue_id": unit21_cases.value_digest(4)}}
    client.read_case.return_value = documented_read(custom_data=dict(owned, old=1))
    unit21_cases.run_case(module_with(unit21_id=100001, custom_data={"new": 2}, custom_data_mode="replace"), client)
    client.update_case.assert_called_once_with(100001, {"custom_data": dict(owned, new=2)}, list_merge_strategy=None,
                                               merge_custom_data=False)


def test_notes_only_update_is_not_resent_when_the_newest_action_lags(client):
    record = {"disposition_notes": unit21_cases.value_digest("second")}
    client.read_case.return_value = documented_read(actions=[{"disposition_notes": "first"}],
                                                    custom_data={"caseops_desk_fields": record})
    assert unit21_cases.run_case(module_with(unit21_id=100001, disposition_notes="second"), client)["changed"] is False


# -- requests: the read-back after an update, and a case given by an earlier task (issue 14) --------------------------

def test_the_read_back_takes_tags_and_custom_data_from_the_update_when_certain(client):
    client.read_case.return_value = stored(custom_data={"owner": {"team": "a"}})
    unit21_cases.run_case(module_with(unit21_id=100001, tags=["new:1"], custom_data={"k": 1}), client)
    # Union adds the missing tags; a merge of a new top-level key ends the same however deep Unit21 merges.
    assert client.read_case.call_args_list[1] == mock.call(100001, list_item={
        "tags": ["source:ci", "new:1"], "custom_data": {"owner": {"team": "a"}, "k": 1}, "assigned_to": None})


@pytest.mark.parametrize("before, body, lists, merge, after", [
    ({"tags": ["a:1"], "custom_data": {}}, {"tags": ["b:2"]}, "replace", None, {"tags": ["b:2"], "custom_data": {}}),
    ({"tags": [], "custom_data": {"x": {"y": 1}}}, {"custom_data": {"z": 2}}, "merge", False,
     {"tags": [], "custom_data": {"z": 2}}),
    ({"tags": [], "custom_data": {"x": {"y": 1}}}, {"custom_data": {"x": {"y": 2}}}, "merge", True,
     {"tags": [], "custom_data": {"x": {"y": 2}}}),
    # Deep and top-level merges differ here (x.y kept or dropped): the list item is read back instead.
    ({"tags": [], "custom_data": {"x": {"y": 1}}}, {"custom_data": {"x": {"z": 2}}}, "merge", True, None),
    # The list item was not found before: nothing is known.
    ({"status": "OPEN"}, {"status": "CLOSED"}, "merge", None, None),
])
def test_list_fields_after_an_update(before, body, lists, merge, after):
    assert unit21_cases.list_fields_after(before, body, lists, merge) == after


def test_a_given_case_is_not_read_and_the_update_is_read_back_with_one_get(client):
    case = stored()
    result = unit21_cases.run_case(module_with(unit21_id=100001, status="CLOSED", disposition="TRUE_POSITIVE",
                                               unit21_case=case), client)
    assert result["changed"] is True
    assert [c[0] for c in client.method_calls] == ["update_case", "read_case"]
    assert client.read_case.call_args == mock.call(100001, list_item={"tags": ["source:ci"], "custom_data": {},
                                                                      "assigned_to": None})


def test_a_given_case_with_nothing_to_change_costs_no_request(client):
    result = unit21_cases.run_case(module_with(unit21_id="100001", title="Fraud ring", unit21_case=stored()), client)
    assert result["changed"] is False and client.method_calls == []


def test_a_given_case_is_read_anyway_when_custom_data_is_replaced(client):
    client.read_case.return_value = stored()
    unit21_cases.run_case(module_with(unit21_id=100001, custom_data={"k": 1}, custom_data_mode="replace",
                                      unit21_case=stored(custom_data={"k": 1})), client)
    assert client.method_calls[0] == mock.call.read_case(100001)
    client.update_case.assert_called_once()


@pytest.mark.parametrize("params, says", [
    (dict(case_id="ext-1", unit21_case=stored()), "unit21_case needs unit21_id"),
    (dict(unit21_id=100002, unit21_case=stored()), "is the case with unit21_id 100001, not 100002"),
    (dict(unit21_id=100001, unit21_case=dict(stored(), unit21_id=None)), "is the case with unit21_id None"),
    (dict(unit21_id=100001, unit21_case=dict((k, v) for k, v in stored().items() if k != "custom_data")),
     "lacks custom_data"),
])
def test_a_given_case_that_does_not_fit_is_refused_before_any_request(client, params, says):
    with pytest.raises(InvalidInputError) as caught:
        unit21_cases.run_case(module_with(title="x", **params), client)
    assert says in caught.value.msg
    assert client.method_calls == []
