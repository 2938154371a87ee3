"""Unit21 emulator: auth, create/update/get/list, merging, close/reopen, link-media, rate limits."""

import base64
import hashlib
import os
import sys

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from context import SandboxConfig  # noqa: E402  pylint: disable=import-error,wrong-import-position
from sandbox_helpers import InProcessVendor  # noqa: E402  pylint: disable=import-error,wrong-import-position
from unit21 import (  # noqa: E402  pylint: disable=import-error,wrong-import-position
    BODY_LIMIT,
    GET_CASE_FIELDS,
    LIST_CASE_FIELDS,
    Unit21API,
    custom_data_depth,
)

KEY = SandboxConfig({})["SANDBOX_UNIT21_API_KEY"]
AUTH = {"u21-key": KEY}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"\r\n--not-a-boundary\r\n"


class LiveApp(InProcessVendor):
    """Unit21 served in-process with a settable clock and fast webhook retries."""

    def __init__(self, environ=None, clock=None):
        super(LiveApp, self).__init__(lambda ctx: Unit21API(ctx, webhook_retry_delays=(0.01, 0.02)), environ, clock)

    def call(self, method, path, body=None, headers=None, **kwargs):
        return self.http.request(method, self.url + "/v1" + path, json=body,
                                 headers=AUTH if headers is None else headers, timeout=10, **kwargs)

    def ok(self, method, path, body=None, **kwargs):
        response = self.call(method, path, body, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def create(self, case_id, **fields):
        body = {"case_id": case_id, "title": "Case " + case_id, "start_date": 1700000000}
        body.update(fields)
        return self.ok("POST", "/cases/create", body)["unit21_id"]


@pytest.fixture()
def u21():
    # The "full" GET shows every stored field, which is what most of these tests inspect; the documented shapes
    # (FIDELITY.md, Unit21 U1/U2) have their own tests below.
    live = LiveApp({"SANDBOX_UNIT21_GET_CASE_SHAPE": "full"})
    yield live
    live.close()


@pytest.fixture()
def documented():
    live = LiveApp()
    yield live
    live.close()


def assert_error(response, status, error_code, *words):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"} and body["error_code"] == error_code
    for word in words:
        assert word in body["message"], (word, body["message"])


# -- auth and headers ---------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"u21-key": "wrong"}, {"Authorization": "Bearer " + KEY}])
def test_missing_or_wrong_key_is_401(u21, headers):
    assert_error(u21.call("POST", "/cases/list", {}, headers=headers), 401, "unauthorized")


def test_rate_limit_headers_on_every_response(u21):
    for response in (u21.call("POST", "/cases/list", {}), u21.call("GET", "/cases/1", headers={}),
                     u21.call("GET", "/cases/nope/other")):
        assert response.headers["X-RateLimit-Limit"] == "200"
        assert int(response.headers["X-RateLimit-Remaining"]) <= 200
        assert response.headers["X-RateLimit-Reset"] == str(int(u21.clock.now) + 1)


def test_real_429_and_window_reset():
    live = LiveApp({"SANDBOX_UNIT21_RATE_LIMIT": "2"})
    try:
        remaining = [live.call("POST", "/cases/list", {}).headers["X-RateLimit-Remaining"] for _attempt in range(2)]
        assert remaining == ["1", "0"]
        response = live.call("POST", "/cases/list", {})
        assert_error(response, 429, "rate_limit_exceeded")
        assert response.headers["X-RateLimit-Reset"] == str(int(live.clock.now) + 1)
        assert response.headers["X-RateLimit-Remaining"] == "0"
        live.clock.tick(1)
        assert live.call("POST", "/cases/list", {}).status_code == 200
    finally:
        live.close()


def test_error_response_shapes(u21):
    locked = u21.api.error_response(423)
    assert locked.status == 423
    assert b'"message": "Object updates in progress. Please try again later."' in locked.body
    limited = u21.api.error_response(429)
    assert limited.headers["X-RateLimit-Reset"] == str(int(u21.clock.now) + 1)
    assert b"rate_limit_exceeded" in limited.body
    assert u21.api.error_response(429, headers={"X-RateLimit-Reset": "5"}).headers["X-RateLimit-Reset"] == "5"
    assert b'"error_code": "resource_not_found"' in u21.api.error_response(404).body
    assert b"boom" in u21.api.error_response(503, "boom").body
    assert u21.api.redact_headers == ("u21-key",)


def test_route_names_are_operation_ids(u21):
    assert {"create_case", "update_case", "get_case_by_unit21_id", "list_cases",
            "link_media_to_case"} <= set(u21.app.router.named_resources())


# -- create -------------------------------------------------------------------------------

def test_create_minimal_case(u21):
    result = u21.ok("POST", "/cases/create", {"case_id": "c-1", "title": "T", "start_date": 1700000000})
    assert result["case_id"] == "c-1" and result["previously_existed"] is False
    assert isinstance(result["unit21_id"], int)
    case = u21.ok("GET", "/cases/%d" % result["unit21_id"])
    assert case["source"] == ["EXTERNAL"] and case["status"] == "OPEN" and case["created_at"] == int(u21.clock.now)
    assert case["start_date"] == 1700000000 and case["tags"] == [] and case["custom_data"] == {}


def test_get_returns_the_union_shape(u21):
    unit21_id = u21.create("c-2", description="d", tags=["source:api"], custom_data={"a": {"b": {"c": 1}}},
                           alerts=[5], queue_id=9, created_at=1600000000, end_date=1700000100,
                           events=[{"event_id": "txn-1", "event_type": "transaction"}], entities=["user-1"])
    case = u21.ok("GET", "/cases/%d" % unit21_id)
    for key in ("unit21_id", "case_id", "title", "description", "status", "disposition", "disposition_at",
                "dispositioned_at", "dispositioned_by", "created_at", "created_by", "source", "tags", "custom_data",
                "entities", "events", "alerts", "assigned_to", "actions", "checklist", "rules",
                "descendant_sar_filing"):
        assert key in case, key
    assert case["created_at"] == 1600000000 and case["end_date"] == 1700000100 and case["queue_id"] == 9
    assert case["events"] == [{"event_id": "txn-1", "event_type": "transaction"}]
    assert case["entities"] == [{"entity_id": "user-1", "entity_type": None}]
    assert case["alerts"] == [5] and case["custom_data"] == {"a": {"b": {"c": 1}}}


def test_create_accepts_every_historic_linked_object_shape(u21):
    unit21_id = u21.create(
        "c-3",
        entities=[{"entity_id": "userA", "entity_type": "user"}, "bizB"],
        entity_ids=[618865781],
        events=[{"event_id": "txnA", "event_type": "transaction"}, 2151796066],
        event_ids=[77],
        alert_ids=[1, 2],
    )
    case = u21.ok("GET", "/cases/%d" % unit21_id)
    assert case["entities"] == [{"entity_id": "userA", "entity_type": "user"},
                                {"entity_id": "bizB", "entity_type": None},
                                {"entity_id": None, "entity_type": None, "unit21_id": 618865781}]
    assert [e.get("event_id") or e.get("unit21_id") for e in case["events"]] == ["txnA", 2151796066, 77]
    assert case["alerts"] == [1, 2]


@pytest.mark.parametrize("change, words", [
    ({"case_id": None}, ["case_id", "required"]),
    ({"title": None}, ["title", "required"]),
    ({"start_date": None}, ["start_date", "required"]),
    ({"start_date": "yesterday"}, ["start_date", "integer"]),
    ({"case_id": "x" * 129}, ["case_id", "128"]),
    ({"title": "x" * 257}, ["title", "256"]),
    ({"description": "x" * 1025}, ["description", "1024"]),
    ({"disposition": "x" * 129}, ["disposition", "128"]),
    ({"status": "PENDING"}, ["status", "OPEN, CLOSED"]),
    ({"tags": ["novalue"]}, ["tags", "key:value"]),
    ({"queue_id": "7"}, ["queue_id", "integer"]),
    ({"alerts": ["a"]}, ["alerts", "integers"]),
    ({"events": [{"event_id": "e", "event_type": "wire"}]}, ["event_type", "transaction, action"]),
    ({"entities": [{"name": "x"}]}, ["entities"]),
    ({"custom_data": {"a": {"b": {"c": {"d": 1}}}}}, ["custom_data", "3 levels"]),
    ({"custom_data": [1]}, ["custom_data", "object"]),
    ({"colour": "red"}, ["Unexpected field", "colour"]),
])
def test_create_validation(u21, change, words):
    body = {"case_id": "v-1", "title": "T", "start_date": 1700000000}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None or k not in ("case_id", "title", "start_date")}
    assert_error(u21.call("POST", "/cases/create", body), 400, "invalid_input", *words)


def test_create_rejects_bad_bodies(u21):
    assert_error(u21.call("POST", "/cases/create", data=b"{oops", headers=dict(AUTH, **{"Content-Type": "application/json"})),
                 400, "invalid_input", "JSON")
    assert_error(u21.call("POST", "/cases/create", [1]), 400, "invalid_input", "object")


def test_duplicate_case_id_is_409_without_the_unit21_id(u21):
    unit21_id = u21.create("dup")
    response = u21.call("POST", "/cases/create", {"case_id": "dup", "title": "T", "start_date": 1})
    assert_error(response, 409, "conflict", "dup")
    assert str(unit21_id) not in response.text and "unit21_id" not in response.json()


def test_batch_create_reports_each_case(u21):
    u21.create("taken")
    result = u21.ok("POST", "/cases/create", {"cases": [
        {"case_id": "b-1", "title": "one", "start_date": 1},
        {"case_id": "taken", "title": "two", "start_date": 1},
        {"case_id": "b-3", "start_date": 1},
    ]})["cases"]
    assert result[0]["case_id"] == "b-1" and isinstance(result[0]["unit21_id"], int)
    assert result[1] == {"case_id": "taken", "error_code": "conflict", "message": result[1]["message"]}
    assert result[2]["error_code"] == "invalid_input" and "title" in result[2]["message"]


def test_custom_data_depth_counts_objects_only():
    assert custom_data_depth({}) == 1
    assert custom_data_depth({"a": [{"b": 1}]}) == 2
    assert custom_data_depth({"a": {"b": {"c": 1}}}) == 3


# -- update -----------------------------------------------------------------------------

def test_update_unknown_bad_and_internal_ids(u21):
    assert_error(u21.call("PUT", "/cases/999/update", {}), 404, "resource_not_found", "999")
    assert_error(u21.call("PUT", "/cases/abc/update", {}), 400, "invalid_input", "unit21_id")
    internal = u21.control("POST", "/cases", {"title": "rule hit"}).json()
    assert internal["case_id"] is None and internal["source"] == ["INTERNAL"]
    assert_error(u21.call("PUT", "/cases/%d/update" % internal["unit21_id"], {"title": "x"}), 400, "invalid_input",
                 "EXTERNAL")


def test_update_fields_and_case_id_rules(u21):
    unit21_id = u21.create("u-1")
    result = u21.ok("PUT", "/cases/%d/update" % unit21_id, {"title": "new", "description": "d", "case_id": "u-1"})
    assert result == {"unit21_id": unit21_id, "case_id": "u-1"}
    case = u21.ok("GET", "/cases/%d" % unit21_id)
    assert case["title"] == "new" and case["description"] == "d"
    assert_error(u21.call("PUT", "/cases/%d/update" % unit21_id, {"case_id": "u-2"}), 400, "invalid_input", "case_id")
    assert_error(u21.call("PUT", "/cases/%d/update" % unit21_id, {"status": "DONE"}), 400, "invalid_input", "status")
    assert_error(u21.call("PUT", "/cases/%d/update" % unit21_id, {"options": {"list_merge_strategy": "join"}}),
                 400, "invalid_input", "list_merge_strategy", "union, replace, difference")
    assert_error(u21.call("PUT", "/cases/%d/update" % unit21_id, {"options": {"merge_custom_data": "yes"}}),
                 400, "invalid_input", "merge_custom_data")


def test_merge_strategies(u21):
    unit21_id = u21.create("m-1", tags=["a:1", "b:2"], entities=["e1"], alerts=[1])
    path = "/cases/%d/update" % unit21_id

    def current():
        return u21.ok("GET", "/cases/%d" % unit21_id)

    u21.ok("PUT", path, {"tags": ["b:2", "c:3"], "entities": ["e1", "e2"], "alerts": [2]})
    case = current()
    assert case["tags"] == ["a:1", "b:2", "c:3"] and [e["entity_id"] for e in case["entities"]] == ["e1", "e2"]
    assert case["alerts"] == [1, 2]
    u21.ok("PUT", path, {"tags": ["a:1"], "alerts": [1], "options": {"list_merge_strategy": "difference"}})
    assert current()["tags"] == ["b:2", "c:3"] and current()["alerts"] == [2]
    u21.ok("PUT", path, {"tags": ["z:9"], "options": {"list_merge_strategy": "replace"}})
    assert current()["tags"] == ["z:9"]


def test_custom_data_replace_or_merge(u21):
    unit21_id = u21.create("cd-1", custom_data={"a": 1, "n": {"x": 1}})
    path = "/cases/%d/update" % unit21_id
    u21.ok("PUT", path, {"custom_data": {"b": 2}})
    assert u21.ok("GET", "/cases/%d" % unit21_id)["custom_data"] == {"b": 2}
    u21.ok("PUT", path, {"custom_data": {"n": {"y": 2}}, "options": {"merge_custom_data": True}})
    assert u21.ok("GET", "/cases/%d" % unit21_id)["custom_data"] == {"b": 2, "n": {"y": 2}}
    u21.ok("PUT", path, {"custom_data": {"n": {"z": 3}}, "options": {"merge_custom_data": True}})
    assert u21.ok("GET", "/cases/%d" % unit21_id)["custom_data"] == {"b": 2, "n": {"y": 2, "z": 3}}


def test_close_and_reopen_record_disposition_and_actions(u21):
    unit21_id = u21.create("cl-1")
    path = "/cases/%d/update" % unit21_id
    u21.clock.tick(10)
    u21.ok("PUT", path, {"status": "CLOSED", "disposition": "TRUE_POSITIVE", "disposition_notes": "confirmed"})
    case = u21.ok("GET", "/cases/%d" % unit21_id)
    assert case["status"] == "CLOSED" and case["disposition"] == "TRUE_POSITIVE"
    assert case["disposition_at"] == case["dispositioned_at"] == int(u21.clock.now)
    assert case["dispositioned_by"] == "api@sandbox.unit21.example"
    assert case["actions"][-1]["status_changed_to"] == "CLOSED"
    assert case["actions"][-1]["disposition_notes"] == "confirmed"
    u21.clock.tick(10)
    u21.ok("PUT", path, {"status": "OPEN"})
    case = u21.ok("GET", "/cases/%d" % unit21_id)
    assert case["status"] == "OPEN" and case["disposition_at"] == int(u21.clock.now)
    assert [a["status_changed_to"] for a in case["actions"]] == ["CLOSED", "OPEN"]
    u21.ok("PUT", path, {"title": "no status change"})
    assert len(u21.ok("GET", "/cases/%d" % unit21_id)["actions"]) == 2


def test_get_unknown_and_non_integer_ids(u21):
    assert_error(u21.call("GET", "/cases/123456789"), 404, "resource_not_found")
    assert_error(u21.call("GET", "/cases/abc"), 400, "invalid_input", "unit21_id")


# -- list ------------------------------------------------------------------------------------

def test_list_defaults_and_paging(u21):
    ids = [u21.create("p-%d" % i) for i in range(12)]
    first = u21.ok("POST", "/cases/list", {})
    assert first["response_count"] == 10 and first["total_count"] == 12
    assert [c["unit21_id"] for c in first["cases"]] == ids[:10]
    page = u21.ok("POST", "/cases/list", {"limit": 5, "offset": 3})
    assert [c["unit21_id"] for c in page["cases"]] == ids[10:] and page["response_count"] == 2
    beyond = u21.ok("POST", "/cases/list", {"limit": 5, "offset": 4})
    assert beyond == {"cases": [], "response_count": 0, "total_count": 12}
    assert u21.ok("POST", "/cases/list", {"limit": 50, "offset": 1})["response_count"] == 12
    for body, field in (({"limit": 0}, "limit"), ({"limit": 51}, "limit"), ({"offset": 0}, "offset"),
                        ({"limit": "5"}, "limit"), ({"bogus": 1}, "bogus")):
        assert_error(u21.call("POST", "/cases/list", body), 400, "invalid_input", field)


def test_list_item_parts_follow_options(u21):
    u21.create("o-1", entities=["e1"])
    plain = u21.ok("POST", "/cases/list", {})["cases"][0]
    for key in ("entities", "events", "alerts", "rules", "descendant_sar_filing", "actions", "checklist"):
        assert key not in plain
    assert {"unit21_id", "case_id", "title", "status", "tags", "custom_data", "disposition_at"} <= set(plain)
    full = u21.ok("POST", "/cases/list", {"options": {"include_associations": True, "include_actions": True,
                                                      "include_checklist": True}})["cases"][0]
    assert full["entities"][0]["entity_id"] == "e1" and full["actions"] == [] and full["checklist"] == []
    assert_error(u21.call("POST", "/cases/list", {"options": {"include_actions": 1}}), 400, "invalid_input",
                 "include_actions")


def test_list_filters(u21):
    a = u21.create("f-a", tags=["risk:high", "team:fraud"], entities=["ent-1"],
                   events=[{"event_id": "ev-1", "event_type": "action"}], alerts=[11])
    u21.clock.tick(100)
    b = u21.create("f-b", tags=["risk:low"], status="CLOSED", disposition="FALSE_POSITIVE")
    internal = u21.control("POST", "/cases", {"title": "rule", "rules": [{"unit21_id": 777}],
                                              "disposition": "UNRESOLVED"}).json()["unit21_id"]
    created_b = int(u21.clock.now)

    def ids(**filters):
        return [c["unit21_id"] for c in u21.ok("POST", "/cases/list", filters)["cases"]]

    assert ids(statuses=["OPEN"]) == [a, internal]
    assert ids(statuses=["OPEN", "CLOSED"]) == [a, b, internal]
    assert ids(sources=["INTERNAL"]) == [internal]
    assert ids(dispositions=["FALSE_POSITIVE", "UNRESOLVED"]) == [b, internal]
    assert ids(dispositioned_by=["api@sandbox.unit21.example"]) == [b]
    assert ids(created_after=created_b) == [b, internal]
    assert ids(created_before=created_b) == [a]
    assert ids(dispositioned_after=created_b, dispositioned_before=created_b + 1) == [b, internal]
    assert ids(rules=[777]) == [internal]
    assert ids(associated_entities=["ent-1"]) == [a]
    assert ids(associated_events=["ev-1"]) == [a]
    assert ids(associated_alerts=[11, 12]) == [a]
    assert ids(tag_filters=["risk:low"]) == [b]
    assert ids(tag_filters=["risk"]) == [a, b]
    assert ids(tag_filters=["team:fraud", "risk:low"]) == [a, b]
    assert ids(statuses=["OPEN"], tag_filters=["risk"]) == [a]
    assert_error(u21.call("POST", "/cases/list", {"statuses": ["open"]}), 400, "invalid_input", "statuses")
    assert_error(u21.call("POST", "/cases/list", {"created_after": "2024"}), 400, "invalid_input", "created_after")
    assert_error(u21.call("POST", "/cases/list", {"rules": "777"}), 400, "invalid_input", "rules")


# -- link media -------------------------------------------------------------------------------

def test_link_media_json_form(u21):
    unit21_id = u21.create("lm-1")
    body = [{"media": base64.b64encode(PNG).decode(), "name": "Drivers_License.png",
             "media_type": "IMAGE_DRIVERS_LICENSE_FRONT", "custom_data": {"type": "logo"}}]
    assert u21.ok("PUT", "/cases/%d/link-media" % unit21_id, body) == {}
    media = u21.control("GET", "/cases/%d/media" % unit21_id).json()["media"]
    assert len(media) == 1 and "base64" not in media[0]
    assert media[0]["name"] == "Drivers_License.png" and media[0]["media_type"] == "IMAGE_DRIVERS_LICENSE_FRONT"
    assert media[0]["custom_data"] == {"type": "logo"} and media[0]["size"] == len(PNG)
    assert media[0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    stored = u21.api.state["cases"][str(unit21_id)]["media"][0]["base64"]
    assert base64.b64decode(stored) == PNG


def test_link_media_multipart_form(u21):
    unit21_id = u21.create("lm-2")
    files = [
        ("document_front", ("document_front.jpg", PNG, "image/jpeg")),
        ("document_front", (None, '{"media_type": "IMAGE_ID_CARD_FRONT", "source": "passport_app"}')),
        ("notes", ("notes.txt", b"plain text", "text/plain")),
    ]
    response = u21.call("PUT", "/cases/%d/link-media" % unit21_id, files=files)
    assert response.status_code == 200 and response.json() == {}
    media = u21.control("GET", "/cases/%d/media" % unit21_id).json()["media"]
    assert [m["name"] for m in media] == ["document_front.jpg", "notes.txt"]
    assert media[0]["media_type"] == "IMAGE_ID_CARD_FRONT" and media[0]["custom_data"] == {"source": "passport_app"}
    assert media[0]["sha256"] == hashlib.sha256(PNG).hexdigest() and media[0]["size"] == len(PNG)
    assert media[1]["media_type"] is None and media[1]["size"] == 10


@pytest.mark.parametrize("item, words", [
    ({"media": "aGk=", "name": "noextension"}, ["extension"]),
    ({"media": "aGk=", "name": "virus.exe"}, [".exe", "allowed"]),
    ({"media": "not base64!", "name": "a.txt"}, ["base64"]),
    ({"name": "a.txt"}, ["media"]),
    ({"media": "aGk="}, ["name"]),
])
def test_link_media_json_validation(u21, item, words):
    unit21_id = u21.create("lm-3")
    assert_error(u21.call("PUT", "/cases/%d/link-media" % unit21_id, [item]), 400, "invalid_input", *words)


def test_link_media_limits_and_shapes(u21):
    unit21_id = u21.create("lm-4")
    path = "/cases/%d/link-media" % unit21_id
    five_mb = 5 * 1024 * 1024
    exact = u21.call("PUT", path, files=[("f", ("big.pdf", b"x" * five_mb, "application/pdf"))])
    assert exact.status_code == 200, exact.text
    # As base64 JSON the same file is far over the 1 MB body limit (U3), which is checked first.
    as_json = [{"media": base64.b64encode(b"x" * five_mb).decode(), "name": "big.pdf"}]
    assert_error(u21.call("PUT", path, as_json), 413, "invalid_input", "smaller than 1MB")
    response = u21.call("PUT", path, files=[("f", ("big.mov", b"x" * (five_mb + 1), "video/quicktime"))])
    assert_error(response, 400, "invalid_input", "5 MB")
    assert_error(u21.call("PUT", path, {"media": "aGk=", "name": "a.txt"}), 400, "invalid_input", "array")
    assert_error(u21.call("PUT", path, []), 400, "invalid_input", "array")
    assert_error(u21.call("PUT", path, files=[("meta", (None, "{}"))]), 400, "invalid_input", "no file")
    assert_error(u21.call("PUT", path, files=[("a", ("a.txt", b"1")), ("b", (None, "{}"))]), 400, "invalid_input",
                 "b", "no file")
    assert_error(u21.call("PUT", path, files=[("a", ("a.txt", b"1")), ("a", (None, "not json"))]), 400,
                 "invalid_input", "JSON")
    assert_error(u21.call("PUT", path, files=[("a", ("a.docx", b"1"))]), 400, "invalid_input", ".docx")
    assert_error(u21.call("PUT", path, data=b"x", headers=dict(AUTH, **{"Content-Type": "text/plain"})), 400,
                 "invalid_input", "Content-Type")
    assert_error(u21.call("PUT", "/cases/424242/link-media", [{"media": "aGk=", "name": "a.txt"}]), 404,
                 "resource_not_found")
    assert len(u21.control("GET", "/cases/%d/media" % unit21_id).json()["media"]) == 1


def test_link_media_uses_a_core_parsed_multipart_list(u21):
    """When the core has parsed the form already it leaves the parts in request["multipart"]."""
    unit21_id = u21.create("lm-5")
    case = u21.api.state["cases"][str(unit21_id)]

    class FakeRequest(dict):
        match_info = {"unit21_id": str(unit21_id)}
        headers = {"Content-Type": "multipart/form-data; boundary=x"}

        async def read(self):
            raise AssertionError("the body must not be read again")

    request = FakeRequest(multipart=[{"name": "pic", "filename": "p.gif", "content_type": "image/gif", "data": b"GIF89a"},
                                     {"name": "pic", "filename": None, "content_type": "text/plain",
                                      "data": b'{"media_type": "IMAGE_FACE_IMAGE"}'}])
    response = u21.run(u21.api.link_media(request))
    assert response.status == 200 and case["media"][0]["media_type"] == "IMAGE_FACE_IMAGE"


def test_control_internal_case_with_extra_fields(u21):
    case = u21.control("POST", "/cases", {"title": "Bulk resolution case", "assigned_to": "peter@unit21.ai",
                                          "watchers": ["w@unit21.ai"], "source": "INTERNAL",
                                          "checklist": [{"content": "", "checklist_name": "P0", "queue_name": "Q"}]}).json()
    assert case["assigned_to"] == "peter@unit21.ai" and case["checklist"][0]["checklist_name"] == "P0"
    assert case["created_by"] == "agent@sandbox.unit21.example"
    fetched = u21.ok("GET", "/cases/%d" % case["unit21_id"])
    assert fetched["source"] == ["INTERNAL"] and fetched["case_id"] is None
    assert u21.control("POST", "/cases", {"source": "ELSEWHERE"}).status_code == 400
    assert u21.control("GET", "/cases/999/media").status_code == 404


def test_control_bulk_cases_are_api_cases_numbered_from_one(u21):
    response = u21.control("POST", "/cases/bulk", {"count": 60, "template": {"case_id": "bulk-{n}", "tags": ["batch:b{n}"]}})
    assert response.status_code == 201, response.text
    created = response.json()["cases"]
    assert [c["case_id"] for c in created[:2]] == ["bulk-1", "bulk-2"] and len(created) == 60
    page = u21.ok("POST", "/cases/list", {"offset": 2, "limit": 50, "sources": ["EXTERNAL"], "tag_filters": ["batch"]})
    assert page["total_count"] == 60 and page["cases"][0]["case_id"] == "bulk-51"
    assert page["cases"][0]["tags"] == ["batch:b51"] and page["cases"][0]["title"] == "Bulk case 51"
    # A taken case_id or a bad field stores nothing.
    assert u21.control("POST", "/cases/bulk", {"count": 61, "template": {"case_id": "bulk-{n}"}}).status_code == 409
    assert u21.control("POST", "/cases/bulk", {"count": 2, "template": {"case_id": "x-{n}", "status": "NEW"}}).status_code == 400
    assert u21.ok("POST", "/cases/list", {"offset": 1, "limit": 1})["total_count"] == 60
    for body in ({"count": 0, "template": {"case_id": "y-{n}"}}, {"count": 2, "template": {"case_id": "same"}},
                 {"count": 2, "template": {"case_id": "z-{n}"}, "extra": 1}):
        assert u21.control("POST", "/cases/bulk", body).status_code == 400


# -- through the real sandbox process (core + CLI) ------------------------------------------

@pytest.fixture()
def cli(sandbox):
    """The session-wide sandbox process from conftest.py, already reset (its control() returns JSON)."""
    return sandbox


def _cli_call(box, method, path, body=None, headers=None, **kwargs):
    return requests.request(method, box.url + "/v1" + path, json=body, headers=AUTH if headers is None else headers,
                            timeout=10, **kwargs)


def test_cli_case_round_trip_and_multipart_parsed_by_the_core(cli):
    created = _cli_call(cli, "POST", "/cases/create", {"case_id": "cli-1", "title": "T", "start_date": 1}).json()
    unit21_id = created["unit21_id"]
    assert _cli_call(cli, "GET", "/cases/%d" % unit21_id).json()["case_id"] == "cli-1"
    files = [("front", ("front.png", PNG, "image/png")), ("front", (None, '{"media_type": "IMAGE_ID_CARD_FRONT"}'))]
    assert _cli_call(cli, "PUT", "/cases/%d/link-media" % unit21_id, files=files).json() == {}
    media = cli.control("GET", "/_sandbox/unit21/cases/%d/media" % unit21_id)["media"]
    assert media[0]["sha256"] == hashlib.sha256(PNG).hexdigest() and media[0]["media_type"] == "IMAGE_ID_CARD_FRONT"
    log = cli.control("GET", "/_sandbox/requests?vendor=unit21")["requests"]
    assert [e["operation"] for e in log] == ["create_case", "get_case_by_unit21_id", "link_media_to_case"]
    assert all(e["headers"]["u21-key"] == "<redacted>" for e in log)


def test_cli_unknown_route_and_injected_faults_use_the_unit21_error_body(cli):
    response = _cli_call(cli, "GET", "/nothing/here")
    assert_error(response, 404, "resource_not_found")
    assert "X-RateLimit-Reset" in response.headers
    cli.control("POST", "/_sandbox/faults", {"match": {"vendor": "unit21"}, "action": "respond", "status": 423})
    assert_error(_cli_call(cli, "POST", "/cases/list", {}), 423, "locked", "Object updates in progress")
    cli.control("POST", "/_sandbox/faults", {"match": {"vendor": "unit21"}, "action": "respond", "status": 429})
    response = _cli_call(cli, "POST", "/cases/list", {})
    assert_error(response, 429, "rate_limit_exceeded")
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert _cli_call(cli, "POST", "/cases/list", {}).status_code == 200


# -- documented shapes and the body limit (FIDELITY.md, Unit21 U1-U4) ------------------------------

def test_get_case_has_the_documented_fifteen_fields(documented):
    unit21_id = documented.create("d-1", tags=["a:1"], custom_data={"k": "v"}, end_date=1700000100, queue_id=3,
                                  alerts=[5], entities=["e1"], events=[{"event_id": "t1", "event_type": "action"}])
    case = documented.ok("GET", "/cases/%d" % unit21_id)
    assert sorted(case) == sorted(GET_CASE_FIELDS) and len(case) == 15
    for absent in ("tags", "custom_data", "start_date", "end_date", "entities", "events", "alerts", "queue_id"):
        assert absent not in case
    assert case["source"] == ["EXTERNAL"] and case["created_at"] == int(documented.clock.now)


def test_list_items_have_the_documented_case_list_fields(documented):
    documented.create("d-2", tags=["a:1"], custom_data={"k": "v"}, entities=["e1"])
    plain = documented.ok("POST", "/cases/list", {})["cases"][0]
    assert sorted(plain) == sorted(LIST_CASE_FIELDS)
    assert plain["tags"] == ["a:1"] and plain["custom_data"] == {"k": "v"}
    every = documented.ok("POST", "/cases/list", {"options": {"include_associations": True, "include_actions": True,
                                                              "include_checklist": True}})["cases"][0]
    assert sorted(every) == sorted(LIST_CASE_FIELDS + ("rules", "descendant_sar_filing", "actions", "checklist"))
    for absent in ("entities", "events", "alerts", "start_date", "end_date", "queue_id"):
        assert absent not in every


def test_list_items_of_one_creation_second_find_a_case(documented):
    """What the collection relies on to read tags and custom_data: created_at from GET bounds a list query."""
    first = documented.create("d-3", tags=["x:1"])
    documented.clock.now += 5
    second = documented.create("d-4", tags=["y:2"])
    created_at = documented.ok("GET", "/cases/%d" % second)["created_at"]
    page = documented.ok("POST", "/cases/list", {"created_after": created_at, "created_before": created_at + 1,
                                                 "sources": ["EXTERNAL"], "limit": 50, "offset": 1})
    assert [c["unit21_id"] for c in page["cases"]] == [second] and page["cases"][0]["tags"] == ["y:2"]
    assert first != second


def _raw_json(size):
    """A JSON link-media body of exactly ``size`` bytes (padded with JSON whitespace)."""
    raw = '[{"media": "aGk=", "name": "a.txt"}]'
    return (raw + " " * (size - len(raw))).encode()


def test_write_bodies_of_1mb_or_more_are_413(documented):
    unit21_id = documented.create("d-5")
    path = "/cases/%d/link-media" % unit21_id
    headers = dict(AUTH, **{"Content-Type": "application/json"})
    assert documented.call("PUT", path, data=_raw_json(BODY_LIMIT - 1), headers=headers).status_code == 200
    assert_error(documented.call("PUT", path, data=_raw_json(BODY_LIMIT), headers=headers), 413, "invalid_input",
                 "smaller than 1MB", str(BODY_LIMIT))
    big_list = {"limit": 10, "offset": 1, "dispositions": ["x" * BODY_LIMIT]}
    assert_error(documented.call("POST", "/cases/list", big_list), 413, "invalid_input")
    assert len(documented.control("GET", "/cases/%d/media" % unit21_id).json()["media"]) == 1


def test_multipart_over_1mb_is_linked_unless_the_limit_covers_it(documented):
    two_mb = b"y" * (2 * 1024 * 1024)
    unit21_id = documented.create("d-6")
    files = [("media", ("two.pdf", two_mb, "application/pdf")), ("media", (None, '{"media_type": "DOC"}'))]
    assert documented.call("PUT", "/cases/%d/link-media" % unit21_id, files=files).status_code == 200
    strict = LiveApp({"SANDBOX_UNIT21_BODY_LIMIT": "all"})
    try:
        other = strict.create("d-7")
        assert_error(strict.call("PUT", "/cases/%d/link-media" % other, files=files), 413, "invalid_input")
        assert strict.control("GET", "/cases/%d/media" % other).json()["media"] == []
    finally:
        strict.close()
