# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit21Client: the u21-key header, the base URL, errors, configuration checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import errors, unit21
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

KEY = "unit-test-unit21-key-000000000000"


def client(server, **params):
    base = dict(unit21_base_url=server.url, unit21_api_key=KEY, max_retries=1)
    base.update(params)
    return unit21.client_from_params(base)


def test_key_header_and_v1_prefix(server):
    server.script = [Answer(200, {"unit21_id": 100001, "case_id": "ext-1"})]
    assert client(server).get_case(100001)["case_id"] == "ext-1"
    assert server.requests[0]["path"] == "/v1/cases/100001"
    assert server.requests[0]["headers"]["u21-key"] == KEY


def test_a_base_url_with_v1_is_kept():
    assert unit21.normalize_base_url("https://api.unit21.com/v1/") == "https://api.unit21.com/v1"
    assert unit21.normalize_base_url("https://sandbox1-api.unit21.com") == "https://sandbox1-api.unit21.com/v1"


@pytest.mark.parametrize("value", ["ext-1", "1/../2", "", "12 3"])
def test_only_numeric_ids_reach_the_url(server, value):
    with pytest.raises(errors.InvalidInputError):
        client(server).get_case(value)
    assert server.requests == []


@pytest.mark.parametrize("params, message", [
    (dict(unit21_api_key=None), "unit21_api_key is required"),
    (dict(unit21_base_url=""), "https://api.unit21.com"),
])
def test_configuration_is_checked_before_any_request(server, params, message):
    with pytest.raises(errors.ConfigurationError) as caught:
        client(server, **params)
    assert message in caught.value.msg


def test_locked_is_retried_then_explained(server):
    server.script = [Answer(423, {"error_code": "locked", "message": "Object updates in progress. Please try again later."},
                            {"Retry-After": "0"})]
    with pytest.raises(errors.ApiError) as caught:
        client(server).get_case(7)
    assert len(server.requests) == 2
    assert "[locked] Object updates in progress" in caught.value.msg
    assert "still processing" in caught.value.msg


def test_unauthorized_names_the_environment_and_hides_the_key(server):
    server.script = [Answer(401, {"error_code": "unauthorized", "message": "invalid key %s" % KEY})]
    with pytest.raises(errors.AuthenticationError) as caught:
        client(server).get_case(7)
    assert "unit21_base_url" in caught.value.msg
    assert KEY not in repr(caught.value.to_fail_kwargs())


def test_rate_limit_waits_for_the_window_reset(server):
    reset = str(int(time.time()) + 2)
    server.script = [Answer(429, {"error_code": "rate_limit_exceeded", "message": "slow"}, {"X-RateLimit-Reset": reset}),
                     Answer(200, {"unit21_id": 7})]
    unit21_client = client(server, max_retries=2)
    slept = []
    unit21_client.transport.retry.sleep = slept.append
    assert unit21_client.get_case(7) == {"unit21_id": 7}
    assert len(slept) == 1 and 0.5 < slept[0] <= 2.5


# -- case calls -------------------------------------------------------------------------

def sent(server, index=-1):
    return json.loads(server.requests[index]["body"])


def test_create_duplicate_raises_conflict(server):
    server.script = [Answer(409, {"error_code": "conflict", "message": "exists"})]
    with pytest.raises(errors.ConflictError):
        client(server).create_case({"case_id": "ext-1", "title": "t", "start_date": 1})
    assert len(server.requests) == 1


def test_create_dropped_asks_recover_and_never_resends(server):
    server.script = [Answer(drop=True)]
    asked = []

    def recover():
        asked.append(True)
        return 100007

    result = client(server, max_retries=3).create_case({"case_id": "ext-1", "title": "t", "start_date": 1}, recover=recover)
    assert result == {"case_id": "ext-1", "unit21_id": 100007, "recovered": True}
    assert asked == [True] and len(server.requests) == 1


def test_update_body_carries_the_merge_options_only_when_given(server):
    server.script = [Answer(200, {"unit21_id": 5, "case_id": "ext-1"})]
    unit21_client = client(server)
    unit21_client.update_case(5, {"title": "t"})
    assert sent(server) == {"title": "t"}
    unit21_client.update_case(5, {"tags": ["a:b"]}, list_merge_strategy="replace", merge_custom_data=False)
    assert sent(server) == {"tags": ["a:b"], "options": {"list_merge_strategy": "replace", "merge_custom_data": False}}
    assert server.requests[-1]["method"] == "PUT" and server.requests[-1]["path"] == "/v1/cases/5/update"


def paged(total, case_id_of=lambda n: "c%d" % n):
    """A /cases/list that pages ``total`` cases like Unit21: offset is a page number."""
    def answer(request):
        body = json.loads(request["body"])
        start = (body["offset"] - 1) * body["limit"]
        items = [{"unit21_id": n, "case_id": case_id_of(n)} for n in range(start + 1, min(total, start + body["limit"]) + 1)]
        return Answer(200, {"cases": items, "response_count": len(items), "total_count": total})
    return answer


@pytest.mark.parametrize("total, limit, pages, count", [
    (120, 30, [(1, 30)], 30),
    (120, 50, [(1, 50)], 50),
    (120, 70, [(1, 50), (2, 50)], 70),
    (120, 120, [(1, 50), (2, 50), (3, 50)], 120),
    (100, None, [(1, 50), (2, 50)], 100),
    (100, 500, [(1, 50), (2, 50)], 100),
    (0, None, [(1, 50)], 0),
])
def test_list_paging_math(server, total, limit, pages, count):
    server.script = paged(total)
    cases, reported = client(server).list_cases({"statuses": ["OPEN"]}, limit=limit)
    assert [(sent(server, i)["offset"], sent(server, i)["limit"]) for i in range(len(server.requests))] == pages
    assert len(cases) == count and reported == total
    assert [c["unit21_id"] for c in cases] == list(range(1, count + 1))
    assert all(sent(server, i)["statuses"] == ["OPEN"] for i in range(len(server.requests)))


def test_find_case_walks_from_the_last_page_back(server):
    server.script = paged(230)
    found = client(server).find_case("c60")
    # Page 1 first (where it may sit when there are few cases), then 5, 4, 3, 2: found on page 2.
    assert [sent(server, i)["offset"] for i in range(len(server.requests))] == [1, 5, 4, 3, 2]
    assert found["unit21_id"] == 60
    assert all(sent(server, i)["sources"] == ["EXTERNAL"] and sent(server, i)["limit"] == 50
               for i in range(len(server.requests)))


def test_find_case_newest_costs_two_requests_and_absent_costs_one_per_page(server):
    server.script = paged(230)
    assert client(server).find_case("c230")["unit21_id"] == 230
    assert len(server.requests) == 2
    server.requests[:] = []
    assert client(server).find_case("nope") is None
    assert len(server.requests) == 5


def test_find_case_on_a_short_first_page_is_one_request(server):
    server.script = paged(12)
    assert client(server).find_case("nope") is None
    assert len(server.requests) == 1


def test_forbidden_names_the_missing_permission(server):
    server.script = [Answer(403, {"error_code": "forbidden", "message": "Forbidden."})]
    with pytest.raises(errors.AccessDeniedError) as caught:
        client(server).create_case({"case_id": "ext-1", "title": "t", "start_date": 1})
    assert "needs write access to cases" in caught.value.msg
    server.requests[:] = []
    with pytest.raises(errors.AccessDeniedError) as caught:
        client(server).list_page({}, 1)
    assert "needs read access to cases" in caught.value.msg


@pytest.mark.parametrize("value, depth", [({}, 1), ({"a": 1}, 1), ({"a": {"b": {"c": 1}}}, 3), ({"a": [{"b": 1}]}, 2),
                                          ("text", 0), ([{"a": {}}], 2)])
def test_custom_data_depth_counts_objects_not_lists(value, depth):
    assert unit21.custom_data_depth(value) == depth


@pytest.mark.parametrize("case, sources", [({"source": ["EXTERNAL"]}, ["EXTERNAL"]), ({"source": "INTERNAL"}, ["INTERNAL"]),
                                           ({}, []), ({"source": [None, "EXTERNAL"]}, ["EXTERNAL"])])
def test_case_sources_reads_old_and_new_shapes(case, sources):
    assert unit21.case_sources(case) == sources


# -- reading what GET does not return (FIDELITY.md, Unit21 U1, U2, U6) ---------------------------------

DOCUMENTED_GET = {"unit21_id": 100002, "case_id": "ext-2", "title": "T", "status": "CLOSED", "source": ["EXTERNAL"],
                  "created_at": 1767225600, "actions": [], "checklist": [], "rules": []}


def test_read_case_takes_tags_and_custom_data_from_the_list_item_of_its_creation_second(server):
    other = {"unit21_id": 100001, "tags": ["x:1"], "custom_data": {"other": 1}}
    mine = {"unit21_id": 100002, "tags": ["a:1"], "custom_data": {"k": "v"}, "assigned_to": "agent@example"}
    server.script = [Answer(200, DOCUMENTED_GET), Answer(200, {"cases": [other, mine], "response_count": 2,
                                                               "total_count": 2})]
    case = client(server).read_case(100002)
    assert case["tags"] == ["a:1"] and case["custom_data"] == {"k": "v"} and case["assigned_to"] == "agent@example"
    assert case["title"] == "T" and "start_date" not in case
    listed = json.loads(server.requests[1]["body"].decode())
    assert server.requests[1]["path"] == "/v1/cases/list"
    assert listed == {"created_after": 1767225600, "created_before": 1767225601, "sources": ["EXTERNAL"],
                      "statuses": ["CLOSED"], "offset": 1, "limit": 50}


def test_read_case_pages_on_when_the_second_holds_more_than_a_page(server):
    crowd = [{"unit21_id": 200000 + n, "tags": [], "custom_data": {}} for n in range(50)]
    mine = {"unit21_id": 100002, "tags": ["a:1"], "custom_data": {}}
    server.script = [Answer(200, DOCUMENTED_GET), Answer(200, {"cases": crowd, "total_count": 51}),
                     Answer(200, {"cases": [mine], "total_count": 51})]
    assert client(server).read_case(100002)["tags"] == ["a:1"]
    assert [json.loads(r["body"].decode())["offset"] for r in server.requests[1:]] == [1, 2]


def test_read_case_without_its_list_item_leaves_the_fields_out(server):
    server.script = [Answer(200, DOCUMENTED_GET), Answer(200, {"cases": [], "total_count": 0})]
    case = client(server).read_case(100002)
    assert "tags" not in case and "custom_data" not in case


def test_read_case_of_a_full_get_is_one_request(server):
    server.script = [Answer(200, dict(DOCUMENTED_GET, tags=[], custom_data={}))]
    assert client(server).read_case("100002")["custom_data"] == {}
    assert len(server.requests) == 1


@pytest.mark.parametrize("value, expected", [(100042, 100042), ("100042", 100042), (" 7 ", 7)])
def test_unit21_ids_are_integers(value, expected):
    assert unit21.check_unit21_id(value) == expected


@pytest.mark.parametrize("value", [True, None, "", "1e3", "-1", -1, "\u0663", 1.5, [1]])
def test_other_ids_are_refused_naming_the_option(value):
    with pytest.raises(errors.InvalidInputError) as caught:
        unit21.check_unit21_id(value, "ids")
    assert caught.value.msg.startswith("ids must be Unit21's numeric case id")
