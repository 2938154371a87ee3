# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudforceOneClient request and message operations: paging, recovery of lost creates, normalisation, dates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import cloudforce_one, errors
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "UnitTestCloudflareToken0000000000000000"
RID = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"
PREFIX = "/client/v4/accounts/%s/cloudforce-one" % ACCOUNT


def client(server, **params):
    base = dict(cloudflare_base_url=server.url, cloudflare_account_id=ACCOUNT, cloudflare_api_token=TOKEN, max_retries=2)
    base.update(params)
    made = cloudforce_one.client_from_params(base)
    made.transport.retry.sleep = lambda seconds: None
    return made


def ok(result):
    return Answer(200, {"success": True, "errors": [], "messages": [], "result": result})


def message(mid, content="hello", author="analyst@example.com"):
    return {"id": mid, "author": author, "content": content, "is_follow_on_request": False,
            "created": "2026-01-01T00:00:%02dZ" % mid, "updated": "2026-01-01T00:00:%02dZ" % mid}


def body(record):
    return json.loads(record["body"].decode()) if record["body"] else None


def pages_of(items):
    """A list endpoint over ``items`` numbered from page 1, reading page 0 as page 1 (as the sandbox does, C3)."""
    def answer(record):
        sent = body(record)
        index = max(sent["page"] - 1, 0)
        size = sent["per_page"]
        return ok(items[index * size:(index + 1) * size])
    return answer


def test_listing_starts_at_page_1_and_reads_every_page(server):
    server.script = pages_of([message(i) for i in range(1, 8)])
    found = client(server).list_messages(RID, page_size=3)
    assert [m["id"] for m in found] == [1, 2, 3, 4, 5, 6, 7]
    sent = [body(r) for r in server.requests]
    assert all(r["path"] == PREFIX + "/requests/%s/message" % RID and r["method"] == "POST" for r in server.requests)
    # ceil(7 / 3) pages, and the short third one ends it: no probe of the page numbering.
    assert [s["page"] for s in sent] == [1, 2, 3]
    assert all(s["per_page"] == 3 for s in sent)


def clamped_pages(items, cap, result_info=False):
    """A list endpoint that serves at most ``cap`` items a page whatever per_page asks, without saying so (C1)."""
    def answer(record):
        sent = body(record)
        index = max(sent["page"] - 1, 0)
        size = min(sent["per_page"], cap)
        envelope = {"success": True, "errors": [], "messages": [], "result": items[index * size:(index + 1) * size]}
        if result_info:
            total_pages = (len(items) + size - 1) // size
            envelope["result_info"] = {"page": index + 1, "per_page": size, "count": len(envelope["result"]),
                                       "total_count": len(items), "total_pages": total_pages}
        return Answer(200, envelope)
    return answer


@pytest.mark.parametrize("count, cap, pages", [
    # (items, what the service serves per page when asked for 10) -> pages requested
    (25, 4, [1, 2, 3, 4, 5, 6, 7]),   # 6 full pages of 4 and one of 1: the short page ends it
    (24, 4, [1, 2, 3, 4, 5, 6, 7]),   # 6 full pages, then the empty page: nothing else can say "last"
    (3, 10, [1, 2]),                  # a first page shorter than asked is not trusted: one more to be sure
    (0, 10, [1]),                     # an empty first page ends it
    (25, 10, [1, 2, 3]),              # no clamp: a full page, then a shorter one ends it
    (30, 10, [1, 2, 3, 4]),           # ceil(N / per_page) full pages, then the empty one: the only +1
])
def test_listing_is_complete_when_the_service_serves_fewer_than_asked(server, count, cap, pages):
    server.script = clamped_pages([message(i) for i in range(1, count + 1)], cap)
    found = client(server).list_messages(RID, page_size=10)
    assert [m["id"] for m in found] == list(range(1, count + 1))
    assert [body(r)["page"] for r in server.requests] == pages


def test_listing_ends_where_result_info_says(server):
    server.script = clamped_pages([message(i) for i in range(1, 9)], 4, result_info=True)
    found = client(server).list_messages(RID, page_size=10)
    assert [m["id"] for m in found] == list(range(1, 9))
    # total_count says when everything has arrived: no empty page is asked for.
    assert [body(r)["page"] for r in server.requests] == [1, 2]


def test_listing_stops_on_an_empty_page(server):
    server.script = pages_of([message(i) for i in range(1, 5)])
    assert len(client(server).list_messages(RID, page_size=2)) == 4
    assert [body(r)["page"] for r in server.requests] == [1, 2, 3]


def test_listing_stops_when_the_api_ignores_the_page(server):
    server.script = [ok([message(1), message(2)])]
    assert [m["id"] for m in client(server).list_messages(RID, page_size=2)] == [1, 2]
    assert len(server.requests) == 2


def test_message_filters_are_sent_as_given(server):
    server.script = [ok([])]
    client(server).list_messages(RID, after="2026-01-01T00:00:00Z", sort_by="updated", sort_order="desc", page_size=10)
    assert body(server.requests[0]) == {"after": "2026-01-01T00:00:00Z", "sort_by": "updated", "sort_order": "desc",
                                        "page": 1, "per_page": 10}


class Thread:
    """A message thread whose first create is committed but its answer dropped (or just dropped)."""

    def __init__(self, existing=(), commit_first=True):
        self.messages = list(existing)
        self.commit_first = commit_first
        self.creates = 0

    def __call__(self, record):
        if record["path"].endswith("/message/new"):
            self.creates += 1
            made = message(100 + self.creates, body(record)["content"])
            if self.creates == 1:
                if self.commit_first:
                    self.messages.append(made)
                return Answer(drop=True)
            self.messages.append(made)
            return ok(made)
        return ok(self.messages[:body(record)["per_page"]] if body(record)["page"] == 1 else [])


def test_lost_message_create_is_found_not_posted_twice(server):
    thread = Thread()
    server.script = thread
    posted = client(server).create_message(RID, "hello")
    assert posted["id"] == 101 and posted["content"] == "hello"
    assert thread.creates == 1
    # One look-up: a first page shorter than asked, then the empty page that proves it was the last.
    assert [r["path"].rsplit("/", 1)[-1] for r in server.requests] == ["new", "message", "message"]
    assert len(thread.messages) == 1


def test_lost_message_create_that_did_not_commit_is_sent_again(server):
    thread = Thread(commit_first=False)
    server.script = thread
    posted = client(server).create_message(RID, "hello")
    assert thread.creates == 2 and posted["id"] == 102
    assert [m["id"] for m in thread.messages] == [102]


def test_recovery_does_not_mistake_an_older_repeat_for_the_lost_post(server):
    thread = Thread(existing=[message(7, "hello")], commit_first=False)
    server.script = thread
    posted = client(server).create_message(RID, "hello", known_ids=[7])
    assert thread.creates == 2 and posted["id"] == 102


def test_recovery_with_the_global_key_only_accepts_our_own_message(server):
    thread = Thread(existing=[message(9, "hello", author="someone@cloudforce-one.example")], commit_first=False)
    server.script = thread
    made = client(server, cloudflare_api_token=None, cloudflare_email="analyst@example.com",
                  cloudflare_api_key="0123456789abcdef0123456789abcdef01234")
    assert made.create_message(RID, "hello")["id"] == 102


def test_lost_request_create_is_found_by_summary_and_type(server):
    created = {"id": RID, "summary": "DoS", "request": "Victomology", "priority": "high", "tlp": "amber",
               "status": "open", "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z", "content": "q"}
    listed = dict((k, v) for k, v in created.items() if k != "content")
    other = dict(listed, id="00000000-0000-4000-8000-000000000000", summary="other")

    def api(record):
        if record["path"].endswith("/requests/new"):
            return Answer(drop=True)
        if record["method"] == "POST":
            assert body(record)["request_type"] == "Victomology"
            return ok([other, listed])
        return ok(created)

    server.script = api
    found = client(server).create_request({"summary": "DoS", "request_type": "Victomology", "content": "q"})
    assert found["id"] == RID and found["request_type"] == "Victomology" and found["content"] == "q"
    assert "request" not in found
    # This list ignores page: page 2 brings nothing new, which ends the listing.
    assert [(r["method"], r["path"][len(PREFIX):]) for r in server.requests] == [
        ("POST", "/requests/new"), ("POST", "/requests"), ("POST", "/requests"), ("GET", "/requests/" + RID)]


def test_priority_given_as_a_date_time_is_read_from_the_list(server):
    item = {"id": RID, "summary": "DoS", "request": "Victomology", "priority": "2022-04-01T05:20:00Z", "tlp": "clear",
            "status": "open", "created": "2026-03-04T05:06:07.500000Z", "updated": "2026-03-04T05:06:07Z", "content": "q"}
    server.script = [ok(item), ok([dict(item, priority="urgent")])]
    record = client(server).get_request(RID)
    assert record["priority"] == "urgent"
    window = body(server.requests[1])
    assert window["created_after"] == "2026-03-04T05:06:06Z" and window["created_before"] == "2026-03-04T05:06:09Z"
    assert window["request_type"] == "Victomology"


def test_priority_given_as_a_date_time_comes_from_the_list_item_just_read(server):
    item = {"id": RID, "summary": "DoS", "request": "Victomology", "priority": "2022-04-01T05:20:00Z", "tlp": "clear",
            "status": "open", "created": "2026-03-04T05:06:07.500000Z", "updated": "2026-03-04T05:06:07Z", "content": "q"}
    server.script = [ok(item)]
    listed = cloudforce_one.normalize_request(dict(item, priority="high"))
    assert client(server).get_request(RID, listed=listed)["priority"] == "high"
    assert [r["method"] for r in server.requests] == ["GET"]


def test_a_list_item_of_another_request_is_not_used(server):
    item = {"id": RID, "summary": "DoS", "request": "Victomology", "priority": "2022-04-01T05:20:00Z", "tlp": "clear",
            "status": "open", "created": "2026-03-04T05:06:07.500000Z", "updated": "2026-03-04T05:06:07Z", "content": "q"}
    server.script = [ok(item), ok([dict(item, priority="urgent")])]
    other = dict(cloudforce_one.normalize_request(item), id="00000000-0000-4000-8000-000000000000", priority="high")
    assert client(server).get_request(RID, listed=other)["priority"] == "urgent"
    assert [r["method"] for r in server.requests][:2] == ["GET", "POST"]  # the listing by creation time


def test_missing_request_is_none(server):
    server.script = [Answer(404, {"success": False, "errors": [{"code": 10433, "message": "request not found"}],
                                  "messages": [], "result": None})]
    assert client(server).get_request(RID) is None


def test_replayed_delete_that_finds_nothing_went_through(server):
    server.script = [Answer(drop=True), Answer(404, {"success": False, "errors": [{"code": 10433, "message": "gone"}]})]
    client(server).delete_message(RID, 5)
    assert [r["method"] for r in server.requests] == ["DELETE", "DELETE"]
    assert server.requests[0]["path"] == PREFIX + "/requests/%s/message/5" % RID


def test_delete_of_a_request_that_is_not_open_explains(server):
    server.script = [Answer(400, {"success": False, "errors": [{"code": 10434, "message": "not open"}]})]
    with pytest.raises(errors.ApiError) as caught:
        client(server).delete_request(RID)
    assert "[10434] not open" in caught.value.msg and "only while its status is open" in caught.value.msg


def test_errors_carry_codes_and_error_chain(server):
    chained = {"code": 6003, "message": "Invalid request headers", "error_chain": [{"code": 6111, "message": "Invalid format"}]}
    server.script = [Answer(400, {"success": False, "errors": [chained]})]
    with pytest.raises(errors.ApiError) as caught:
        client(server).list_messages(RID)
    assert "[6003] Invalid request headers ([6111] Invalid format)" in caught.value.msg
    assert caught.value.errors[0]["error_chain"][0]["code"] == 6111


def test_rate_limit_uses_the_ratelimit_header(server):
    waits = []
    server.script = [Answer(429, {"success": False, "errors": [{"code": 971, "message": "Please wait"}]},
                            {"Ratelimit": '"default";r=0;t=3'}), ok([])]
    made = client(server)
    made.transport.retry.sleep = waits.append
    made.transport.retry.jitter = lambda: 0.0
    assert made.list_requests() == []
    assert waits == [3.0]


@pytest.mark.parametrize("given, expected", [
    ("2026-01-31", "2026-01-31T00:00:00Z"),
    ("2026-01-31T14:00:00Z", "2026-01-31T14:00:00Z"),
    ("2026-01-31T14:00", "2026-01-31T14:00:00Z"),
    ("2026-01-31 16:00:00+02:00", "2026-01-31T14:00:00Z"),
    ("2026-01-31T09:00:00-0500", "2026-01-31T14:00:00Z"),
    ("2026-01-31T14:00:00.250Z", "2026-01-31T14:00:00.250000Z"),
    ("1767225600", "2026-01-01T00:00:00Z"),
    ("", None),
    (None, None),
])
def test_dates_users_write_become_rfc3339(given, expected):
    assert cloudforce_one.to_rfc3339(given, "after") == expected


@pytest.mark.parametrize("given", ["yesterday", "2026-13-01", "2022-01-01T00:00:Z", "31/01/2026", "2026-02-30"])
def test_unparseable_dates_are_refused(given):
    with pytest.raises(errors.InvalidInputError) as caught:
        cloudforce_one.to_rfc3339(given, "after")
    assert "after must be a date or date-time" in caught.value.msg and given in caught.value.msg


def test_time_window_must_be_in_order():
    with pytest.raises(errors.InvalidInputError) as caught:
        cloudforce_one.time_window({"after": "2026-02-01", "before": "2026-01-01"}, "after", "before")
    assert "must be earlier than" in caught.value.msg


@pytest.mark.parametrize("value", ["RFI-2026-000001", "", "f174e90a", None])
def test_request_ids_must_be_uuids(value):
    with pytest.raises(errors.InvalidInputError) as caught:
        cloudforce_one.check_request_id(value)
    assert "request UUID" in caught.value.msg


def test_normalisation():
    assert cloudforce_one.normalize_message({"id": "5", "content": "x"})["id"] == 5
    record = cloudforce_one.normalize_request({"id": RID, "request": "Victomology", "priority": "High"})
    assert record["request_type"] == "Victomology" and record["priority"] == "high" and "request" not in record
    assert cloudforce_one.normalize_request({"priority": "2022-04-01T05:20:00Z"})["priority"] is None


def test_finding_a_message_by_id_stops_at_its_page(server):
    server.script = [ok([message(1), message(2)]), ok([message(3)]), ok([])]
    assert client(server).find_message(RID, 3, page_size=2)["id"] == 3
    # Page 2 is short and has it: no empty page after it.
    assert [body(r)["page"] for r in server.requests] == [1, 2]


def test_finding_a_message_on_a_short_first_page_takes_one_request(server):
    server.script = [ok([message(1), message(2)]), ok([])]
    assert client(server).find_message(RID, 1)["content"] == "hello"
    assert len(server.requests) == 1


def test_a_message_not_on_the_request_is_none_after_the_whole_thread(server):
    server.script = [ok([message(1), message(2)]), ok([])]
    assert client(server).find_message(RID, 9) is None
    assert len(server.requests) == 2
