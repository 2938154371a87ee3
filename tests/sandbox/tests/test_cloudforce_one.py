"""Cloudforce One emulator: auth, every operation, paging, filters, rate limits, control routes."""

import json
import os
import re
import sys

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cloudforce_one import CloudforceOneAPI, parse_time  # noqa: E402  pylint: disable=import-error,wrong-import-position
from context import SandboxConfig  # noqa: E402  pylint: disable=import-error,wrong-import-position
from sandbox_helpers import InProcessVendor, SandboxProcess  # noqa: E402  pylint: disable=import-error,wrong-import-position

CONFIG = SandboxConfig({})
ACCOUNT = CONFIG["SANDBOX_CLOUDFLARE_ACCOUNT_ID"]
TOKEN = CONFIG["SANDBOX_CLOUDFLARE_API_TOKEN"]
READONLY = CONFIG["SANDBOX_CLOUDFLARE_READONLY_API_TOKEN"]
EMAIL = CONFIG["SANDBOX_CLOUDFLARE_EMAIL"]
KEY = CONFIG["SANDBOX_CLOUDFLARE_API_KEY"]
BEARER = {"Authorization": "Bearer " + TOKEN}
KEYAUTH = {"X-Auth-Email": EMAIL, "X-Auth-Key": KEY}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


class LiveApp(InProcessVendor):
    """Cloudforce One served in-process with a settable clock."""

    def __init__(self, environ=None, clock=None):
        super(LiveApp, self).__init__(CloudforceOneAPI, environ, clock)

    def call(self, method, path, body=None, headers=None, account=ACCOUNT, **kwargs):
        url = "%s/client/v4/accounts/%s/cloudforce-one%s" % (self.url, account, path)
        return self.http.request(method, url, json=body, headers=BEARER if headers is None else headers,
                                 timeout=10, **kwargs)

    def ok(self, method, path, body=None, headers=None):
        response = self.call(method, path, body, headers)
        assert response.status_code == 200, response.text
        payload = response.json()
        assert payload["success"] is True and payload["errors"] == [] and payload["messages"] == []
        return payload.get("result")

    def new(self, **fields):
        result = self.ok("POST", "/requests/new", fields)
        self.clock.tick()
        return result


@pytest.fixture()
def cf():
    live = LiveApp()
    yield live
    live.close()


def error_codes(response):
    body = response.json()
    assert body["success"] is False and body["result"] is None and body["messages"] == []
    return [e["code"] for e in body["errors"]]


def chain_codes(response):
    return [c["code"] for c in response.json()["errors"][0].get("error_chain", [])]


# -- auth ---------------------------------------------------------------------------

def test_token_and_key_auth_both_work(cf):
    assert cf.ok("GET", "/requests/types", headers=BEARER)
    assert cf.ok("GET", "/requests/types", headers=KEYAUTH)


def test_no_credentials_is_400_6003_with_both_missing_headers(cf):
    response = cf.call("GET", "/requests/types", headers={})
    assert response.status_code == 400
    assert error_codes(response) == [6003]
    assert response.json()["errors"][0]["message"] == "Invalid request headers"
    assert chain_codes(response) == [6100, 6101]


def test_half_of_key_auth_names_the_missing_header(cf):
    response = cf.call("GET", "/requests/types", headers={"X-Auth-Email": EMAIL})
    assert response.status_code == 400 and chain_codes(response) == [6101]
    response = cf.call("GET", "/requests/types", headers={"X-Auth-Key": KEY})
    assert response.status_code == 400 and chain_codes(response) == [6100]


@pytest.mark.parametrize("value", ["Token abc", "Bearer", "Bearer a b", "bearer-" + TOKEN])
def test_malformed_authorization_is_400_6111(cf, value):
    response = cf.call("GET", "/requests/types", headers={"Authorization": value})
    assert response.status_code == 400
    assert error_codes(response) == [6003] and chain_codes(response) == [6111]


def test_unknown_token_is_403_9109(cf):
    response = cf.call("GET", "/requests/types", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 403 and error_codes(response) == [9109]


@pytest.mark.parametrize("headers", [
    {"X-Auth-Email": EMAIL, "X-Auth-Key": "f" * 37},
    {"X-Auth-Email": "someone@example.org", "X-Auth-Key": KEY},
])
def test_wrong_key_or_email_is_403_10000(cf, headers):
    response = cf.call("GET", "/requests/types", headers=headers)
    assert response.status_code == 403 and error_codes(response) == [10000]
    assert response.json()["errors"][0]["message"] == "Authentication error"


def test_badly_formed_key_headers_are_400(cf):
    response = cf.call("GET", "/requests/types", headers={"X-Auth-Email": "not-an-email", "X-Auth-Key": "a b"})
    assert response.status_code == 400 and chain_codes(response) == [6102, 6103]


def test_wrong_account_is_403_10000(cf):
    response = cf.call("GET", "/requests/types", account="0" * 32)
    assert response.status_code == 403 and error_codes(response) == [10000]


def test_read_only_token_can_get_but_not_list_or_write(cf):
    created = cf.new(summary="x")
    readonly = {"Authorization": "Bearer " + READONLY}
    for path in ("/requests/types", "/requests/quota", "/requests/constants", "/requests/" + created["id"]):
        assert cf.call("GET", path, headers=readonly).status_code == 200
    for method, path, body in (("POST", "/requests", {"page": 1, "per_page": 10}),
                               ("POST", "/requests/new", {}),
                               ("PUT", "/requests/" + created["id"], {"summary": "y"}),
                               ("DELETE", "/requests/" + created["id"], None),
                               ("POST", "/requests/%s/message" % created["id"], {"page": 1, "per_page": 10}),
                               ("POST", "/requests/%s/message/new" % created["id"], {"content": "hi"})):
        response = cf.call(method, path, body, headers=readonly)
        assert response.status_code == 403 and error_codes(response) == [10000], (method, path)


# -- requests -------------------------------------------------------------------------

def test_create_with_defaults(cf):
    result = cf.ok("POST", "/requests/new", {})
    assert result["status"] == "open" and result["completed"] is None
    assert result["priority"] == "routine" and result["tlp"] == "clear"
    assert result["request"] == "Indicators of Compromise" and result["summary"] == "" and result["content"] == ""
    assert re.match(r"^RFI-2026-\d{6}$", result["readable_id"])
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$", result["id"])
    assert TIMESTAMP.match(result["created"]) and result["created"] == result["updated"]
    assert isinstance(result["tokens"], int) and isinstance(result["message_tokens"], int)
    assert "request_type" not in result


def test_create_with_every_field_and_get_it_back(cf):
    body = {"summary": "DoS attack", "content": "What regions?", "request_type": "Victomology",
            "priority": "urgent", "tlp": "amber-strict"}
    created = cf.new(**body)
    fetched = cf.ok("GET", "/requests/" + created["id"])
    assert fetched == created
    assert (fetched["summary"], fetched["content"], fetched["request"], fetched["priority"], fetched["tlp"]) == \
        ("DoS attack", "What regions?", "Victomology", "urgent", "amber-strict")


def test_readable_ids_count_up(cf):
    first, second = cf.new(), cf.new()
    assert int(second["readable_id"][-6:]) == int(first["readable_id"][-6:]) + 1


@pytest.mark.parametrize("field, value, allowed", [
    ("tlp", "white", "clear, green, amber, amber-strict, red"),
    ("priority", "low", "routine, high, urgent"),
    ("request_type", "Gossip", "Victomology"),
])
def test_create_rejects_values_outside_the_enums(cf, field, value, allowed):
    response = cf.call("POST", "/requests/new", {field: value})
    assert response.status_code == 400 and error_codes(response) == [10430]
    message = response.json()["errors"][0]["message"]
    assert message.startswith(field + ":") and allowed in message


def test_create_rejects_non_string_summary_and_bad_bodies(cf):
    response = cf.call("POST", "/requests/new", {"summary": 5})
    assert response.status_code == 400 and "summary" in response.json()["errors"][0]["message"]
    response = cf.call("POST", "/requests/new", data=b"{not json", headers=dict(BEARER, **{"Content-Type": "application/json"}))
    assert response.status_code == 400 and error_codes(response) == [6007]
    response = cf.call("POST", "/requests/new", [1, 2])
    assert response.status_code == 400 and error_codes(response) == [10430]


def test_update_changes_only_given_fields_and_bumps_updated(cf):
    created = cf.new(summary="a", content="b", priority="high")
    cf.clock.tick(5)
    updated = cf.ok("PUT", "/requests/" + created["id"], {"summary": "c"})
    assert updated["summary"] == "c" and updated["content"] == "b" and updated["priority"] == "high"
    assert updated["created"] == created["created"] and updated["updated"] > created["updated"]
    response = cf.call("PUT", "/requests/" + created["id"], {"tlp": "purple"})
    assert response.status_code == 400 and "tlp" in response.json()["errors"][0]["message"]


def test_unknown_request_is_404(cf):
    for method in ("GET", "PUT", "DELETE"):
        response = cf.call(method, "/requests/00000000-0000-4000-8000-000000000000", {} if method == "PUT" else None)
        assert response.status_code == 404 and error_codes(response) == [10433]
        assert response.json()["errors"][0]["message"] == "request not found"


def test_delete_only_while_open(cf):
    created = cf.new()
    response = cf.call("DELETE", "/requests/" + created["id"])
    assert response.status_code == 200 and response.json() == {"success": True, "errors": [], "messages": []}
    assert cf.call("GET", "/requests/" + created["id"]).status_code == 404
    accepted = cf.new()
    assert cf.control("PATCH", "/requests/" + accepted["id"], {"status": "accepted"}).status_code == 200
    response = cf.call("DELETE", "/requests/" + accepted["id"])
    assert response.status_code == 400 and error_codes(response) == [10434]
    assert "open" in response.json()["errors"][0]["message"]
    assert cf.call("GET", "/requests/" + accepted["id"]).status_code == 200


def test_constants_types_and_quota(cf):
    constants = cf.ok("GET", "/requests/constants")
    assert constants == {"priority": ["routine", "high", "urgent"],
                         "status": ["open", "accepted", "reported", "approved", "completed", "declined"],
                         "tlp": ["clear", "green", "amber", "amber-strict", "red"]}
    types = cf.ok("GET", "/requests/types")
    assert "Indicators of Compromise" in types and "Victomology" in types and "DDoS Attack" in types
    quota = cf.ok("GET", "/requests/quota")
    assert quota["quota"] == 120 and quota["remaining"] == 120
    assert quota["anniversary_date"] == "2027-01-01T00:00:00.000000Z"
    assert quota["quarter_anniversary_date"] == "2026-04-01T00:00:00.000000Z"
    created = cf.new()
    assert cf.ok("GET", "/requests/quota")["remaining"] == 119
    cf.ok("DELETE", "/requests/" + created["id"])
    assert cf.ok("GET", "/requests/quota")["remaining"] == 120


def test_quota_exhausted_refuses_new_requests(cf):
    cf.api.state["tokens_used"] = 119
    cf.new()
    response = cf.call("POST", "/requests/new", {})
    assert response.status_code == 400 and error_codes(response) == [10435]


def test_literal_segments_win_over_request_id(cf):
    assert isinstance(cf.ok("GET", "/requests/quota"), dict)
    assert isinstance(cf.ok("GET", "/requests/types"), list)
    assert isinstance(cf.ok("GET", "/requests/constants"), dict)


@pytest.mark.parametrize("method, path", [
    ("POST", "/requests/priority"), ("POST", "/requests/priority/new"), ("GET", "/requests/priority/quota"),
    ("GET", "/requests/priority/abc"), ("PUT", "/requests/priority/abc"), ("DELETE", "/requests/priority/abc"),
    ("POST", "/requests/abc/asset"), ("POST", "/requests/abc/asset/new"), ("GET", "/requests/abc/asset/1"),
    ("PUT", "/requests/abc/asset/1"), ("DELETE", "/requests/abc/asset/1"),
])
def test_asset_and_priority_operations_are_not_routed(cf, method, path):
    response = cf.call(method, path, {})
    assert response.status_code == 404 and error_codes(response) == [7003, 7000]
    assert path in response.json()["errors"][0]["message"]


# -- list requests ---------------------------------------------------------------------

def test_list_requires_integer_page_and_per_page(cf):
    for body, field in (({"per_page": 10}, "page"), ({"page": 1}, "per_page"), ({"page": "1", "per_page": 10}, "page"),
                        ({"page": -1, "per_page": 10}, "page"), ({"page": 1, "per_page": 0}, "per_page"),
                        ({"page": 1, "per_page": 101}, "per_page"), ({"page": True, "per_page": 5}, "page")):
        response = cf.call("POST", "/requests", body)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["message"].startswith(field + ":")
    assert cf.call("POST", "/requests").status_code == 400


def test_list_paging(cf):
    ids = [cf.new(summary=str(i))["id"] for i in range(5)]
    page0 = cf.ok("POST", "/requests", {"page": 0, "per_page": 2})
    page1 = cf.ok("POST", "/requests", {"page": 1, "per_page": 2})
    assert page0 == page1 and [r["id"] for r in page1] == ids[:2]
    assert [r["id"] for r in cf.ok("POST", "/requests", {"page": 2, "per_page": 2})] == ids[2:4]
    assert [r["id"] for r in cf.ok("POST", "/requests", {"page": 3, "per_page": 2})] == ids[4:]
    assert cf.ok("POST", "/requests", {"page": 4, "per_page": 2}) == []
    assert len(cf.ok("POST", "/requests", {"page": 1, "per_page": 100})) == 5
    assert all("content" not in item for item in page1)
    assert set(page1[0]) == {"id", "readable_id", "summary", "request", "priority", "tlp", "status", "created",
                             "updated", "completed", "tokens", "message_tokens"}


def test_list_sorting(cf):
    first, second, third = cf.new(summary="1"), cf.new(summary="2"), cf.new(summary="3")
    cf.ok("PUT", "/requests/" + first["id"], {"summary": "1b"})
    base = {"page": 1, "per_page": 10}

    def order(**extra):
        return [r["id"] for r in cf.ok("POST", "/requests", dict(base, **extra))]

    assert order() == [first["id"], second["id"], third["id"]]
    assert order(sort_by="created", sort_order="desc") == [third["id"], second["id"], first["id"]]
    assert order(sort_by="updated", sort_order="desc")[0] == first["id"]
    assert order(sort_by="updated")[-1] == first["id"]
    for extra, field in (({"sort_by": "summary"}, "sort_by"), ({"sort_order": "up"}, "sort_order")):
        response = cf.call("POST", "/requests", dict(base, **extra))
        assert response.status_code == 400 and response.json()["errors"][0]["message"].startswith(field)


def test_list_filters(cf):
    old = cf.new(summary="old", request_type="Victomology")
    cf.control("PATCH", "/requests/" + old["id"],
               {"created": "2022-06-01T00:00:00Z", "status": "completed", "completed": "2022-07-01T00:00:00Z"})
    new = cf.new(summary="new", request_type="DDoS Attack")
    base = {"page": 1, "per_page": 10}

    def ids(**extra):
        return [r["id"] for r in cf.ok("POST", "/requests", dict(base, **extra))]

    assert ids(status="open") == [new["id"]]
    assert ids(status="completed") == [old["id"]]
    assert ids(request_type="Victomology") == [old["id"]]
    assert ids(created_after="2023-01-01T00:00:00Z") == [new["id"]]
    assert ids(created_before="2023-01-01T00:00:00+00:00") == [old["id"]]
    assert ids(created_after="2022-06-01T00:00:00Z") == [new["id"]]  # the bound itself is excluded
    assert ids(completed_after="2022-01-01T00:00:00Z", completed_before="2024-01-01T00:00:00Z") == [old["id"]]
    for extra in ({"created_after": "2022-01-01T00:00:Z"}, {"completed_before": "yesterday"}, {"status": "closed"}):
        response = cf.call("POST", "/requests", dict(base, **extra))
        assert response.status_code == 400 and error_codes(response) == [10430]
        assert list(extra)[0] in response.json()["errors"][0]["message"]


# -- messages ----------------------------------------------------------------------------

def test_message_lifecycle(cf):
    rfi = cf.new(summary="x")
    path = "/requests/%s/message" % rfi["id"]
    first = cf.ok("POST", path + "/new", {"content": "first"})
    assert first["author"] == EMAIL and first["is_follow_on_request"] is False and isinstance(first["id"], int)
    assert TIMESTAMP.match(first["created"]) and first["created"] == first["updated"]
    cf.clock.tick()
    second = cf.ok("POST", path + "/new", {"content": "second"}, headers=KEYAUTH)
    assert second["id"] > first["id"] and second["author"] == EMAIL
    cf.clock.tick()
    edited = cf.ok("PUT", "%s/%d" % (path, first["id"]), {"content": "first, edited"})
    assert edited["content"] == "first, edited" and edited["updated"] > edited["created"]
    listed = cf.ok("POST", path, {"page": 0, "per_page": 10})
    assert [m["content"] for m in listed] == ["first, edited", "second"]
    response = cf.call("DELETE", "%s/%d" % (path, first["id"]))
    assert response.json() == {"success": True, "errors": [], "messages": []}
    assert [m["id"] for m in cf.ok("POST", path, {"page": 1, "per_page": 10})] == [second["id"]]
    assert cf.ok("GET", "/requests/" + rfi["id"])["message_tokens"] == 2


def test_message_content_is_required(cf):
    rfi = cf.new()
    path = "/requests/%s/message/new" % rfi["id"]
    for body in ({}, {"content": ""}, {"content": "   "}, {"content": 7}):
        response = cf.call("POST", path, body)
        assert response.status_code == 400 and response.json()["errors"][0]["message"].startswith("content:")
    message = cf.ok("POST", path, {"content": "ok"})
    response = cf.call("PUT", "/requests/%s/message/%d" % (rfi["id"], message["id"]), {"content": ""})
    assert response.status_code == 400


def test_message_404s(cf):
    rfi = cf.new()
    missing = "/requests/00000000-0000-4000-8000-000000000000/message"
    assert cf.call("POST", missing, {"page": 1, "per_page": 1}).status_code == 404
    assert cf.call("POST", missing + "/new", {"content": "x"}).status_code == 404
    for method in ("PUT", "DELETE"):
        for message_id in ("999999", "abc"):
            response = cf.call(method, "/requests/%s/message/%s" % (rfi["id"], message_id), {"content": "x"})
            assert response.status_code == 404 and error_codes(response) == [10433]
            assert response.json()["errors"][0]["message"] == "message not found"


def test_message_list_paging_sort_and_time_window(cf):
    rfi = cf.new()
    path = "/requests/%s/message" % rfi["id"]
    made = []
    for i in range(5):
        made.append(cf.ok("POST", path + "/new", {"content": str(i)}))
        cf.clock.tick(60)
    base = {"page": 1, "per_page": 2}
    assert [m["content"] for m in cf.ok("POST", path, base)] == ["0", "1"]
    assert [m["content"] for m in cf.ok("POST", path, dict(base, page=3))] == ["4"]
    assert cf.ok("POST", path, dict(base, page=4)) == []
    assert [m["content"] for m in cf.ok("POST", path, dict(base, sort_order="desc"))] == ["4", "3"]
    cf.ok("PUT", "%s/%d" % (path, made[0]["id"]), {"content": "0b"})
    assert cf.ok("POST", path, dict(base, sort_by="updated", sort_order="desc"))[0]["content"] == "0b"
    window = {"page": 1, "per_page": 10, "after": made[1]["created"], "before": made[4]["created"]}
    assert [m["content"] for m in cf.ok("POST", path, window)] == ["2", "3"]
    for extra in ({"after": "2022-01-01T00:00:Z"}, {"before": 5}, {"sort_by": "author"}, {"per_page": 1000}):
        assert cf.call("POST", path, dict(base, **extra)).status_code == 400, extra
    assert cf.call("POST", path, {"per_page": 10}).status_code == 400


# -- envelope details, errors, rate limits ---------------------------------------------------

def test_every_response_has_ray_and_rate_limit_headers(cf):
    for response in (cf.call("GET", "/requests/types"), cf.call("GET", "/requests/types", headers={}),
                     cf.call("GET", "/requests/nope")):
        assert re.match(r"^[0-9a-f]{16}-SJC$", response.headers["cf-ray"])
        assert re.match(r'^"default";r=\d+;t=\d+$', response.headers["Ratelimit"])
        assert response.headers["Ratelimit-Policy"] == '"default";q=1200;w=300'
        assert response.headers["Content-Type"].startswith("application/json")


def test_rate_limit_is_per_credential_and_resets_after_the_window():
    live = LiveApp({"SANDBOX_CLOUDFLARE_RATE_LIMIT": "3"})
    try:
        seen = [live.call("GET", "/requests/types").headers["Ratelimit"] for _attempt in range(3)]
        assert seen == ['"default";r=2;t=300', '"default";r=1;t=300', '"default";r=0;t=300']
        live.clock.tick(100)
        response = live.call("GET", "/requests/types")
        assert response.status_code == 429 and error_codes(response) == [971]
        assert response.json()["errors"][0]["message"] == "Please wait and consider throttling your request speed"
        assert response.headers["Retry-After"] == "200" and response.headers["Ratelimit"] == '"default";r=0;t=200'
        assert response.headers["Ratelimit-Policy"] == '"default";q=3;w=300'
        assert live.call("GET", "/requests/types", headers=KEYAUTH).status_code == 200
        live.clock.tick(200)
        assert live.call("GET", "/requests/types").status_code == 200
    finally:
        live.close()


def test_error_response_for_faults_and_unknown_routes(cf):
    fault = cf.api.error_response(429)
    assert fault.status == 429 and fault.headers["Retry-After"] == "1"
    assert fault.headers["Ratelimit-Policy"] == '"default";q=1200;w=300'
    assert b'"code": 971' in fault.body
    assert cf.api.error_response(429, headers={"Retry-After": "7"}).headers["Retry-After"] == "7"
    missing = cf.api.error_response(404)
    assert missing.status == 404 and b"7003" in missing.body and b"7000" in missing.body
    for status in (400, 401, 403, 500, 502, 503):
        response = cf.api.error_response(status, "boom")
        assert response.status == status and b'"success": false' in response.body and b"boom" in response.body
    assert cf.api.owns("/client/v4/accounts/x") and not cf.api.owns("/v1/cases/list")
    assert cf.api.redact_headers == ("authorization", "x-auth-key")


def test_route_names_are_operation_ids(cf):
    names = set(cf.app.router.named_resources())
    assert {"cloudforce-one-request-list", "cloudforce-one-request-new", "cloudforce-one-request-get",
            "cloudforce-one-request-update", "cloudforce-one-request-delete", "cloudforce-one-request-constants",
            "cloudforce-one-request-quota", "cloudforce-one-request-types", "cloudforce-one-request-message-list",
            "cloudforce-one-request-message-new", "cloudforce-one-request-message-update",
            "cloudforce-one-request-message-delete"} <= names


def test_parse_time_accepts_rfc3339_only():
    assert parse_time("2024-01-01T00:00:00Z") == 1704067200
    assert parse_time("2024-01-01T01:00:00.5+01:00") == 1704067200.5
    for bad in ("2024-01-01", "2022-01-01T00:00:Z", "2024-01-01T00:00:00", 1704067200):
        with pytest.raises(ValueError):
            parse_time(bad)


# -- control routes -------------------------------------------------------------------------

def test_control_routes(cf):
    rfi = cf.new(summary="s", content="secret details")
    cf.ok("POST", "/requests/%s/message/new" % rfi["id"], {"content": "question"})
    patched = cf.control("PATCH", "/requests/" + rfi["id"], {"status": "completed", "priority": "high"}).json()
    assert patched["status"] == "completed" and patched["priority"] == "high" and TIMESTAMP.match(patched["completed"])
    reply = cf.control("POST", "/requests/%s/messages" % rfi["id"], {"content": "answer"}).json()
    assert reply["author"] == "analyst@cloudforce-one.example" and reply["is_follow_on_request"] is False
    custom = cf.control("POST", "/requests/%s/messages" % rfi["id"],
                        {"content": "more", "author": "lead@cloudforce-one.example", "is_follow_on_request": True,
                         "created": "2026-01-01T00:00:05Z"}).json()
    assert custom["created"] == "2026-01-01T00:00:05.000000Z" and custom["is_follow_on_request"] is True
    everything = cf.control("GET", "/requests").json()["requests"]
    assert everything[0]["content"] == "secret details"
    assert [m["content"] for m in everything[0]["messages"]] == ["question", "answer", "more"]
    assert cf.control("PATCH", "/requests/nope", {"status": "accepted"}).status_code == 404
    assert cf.control("PATCH", "/requests/" + rfi["id"], {"status": "lost"}).status_code == 400
    assert cf.control("POST", "/requests/%s/messages" % rfi["id"], {}).status_code == 400


# -- through the real sandbox process (core + CLI) ------------------------------------------

@pytest.fixture()
def cli(sandbox):
    """The session-wide sandbox process from conftest.py, already reset (its control() returns JSON)."""
    return sandbox


def _cli_call(box, method, path, body=None, headers=None):
    url = "%s/client/v4/accounts/%s/cloudforce-one%s" % (box.url, ACCOUNT, path)
    return requests.request(method, url, json=body, headers=BEARER if headers is None else headers, timeout=10)


def test_cli_serves_the_api_and_logs_operation_names(cli):
    created = _cli_call(cli, "POST", "/requests/new", {"summary": "via cli"}).json()["result"]
    assert _cli_call(cli, "GET", "/requests/" + created["id"]).json()["result"]["summary"] == "via cli"
    listed = _cli_call(cli, "POST", "/requests", {"page": 1, "per_page": 10}, headers=KEYAUTH).json()["result"]
    assert [r["id"] for r in listed] == [created["id"]]
    log = cli.control("GET", "/_sandbox/requests?vendor=cloudforce_one")["requests"]
    assert [e["operation"] for e in log] == ["cloudforce-one-request-new", "cloudforce-one-request-get",
                                             "cloudforce-one-request-list"]
    assert all(TOKEN not in json.dumps(e) and KEY not in json.dumps(e) for e in log)


def test_cli_unknown_route_and_injected_faults_use_the_cloudflare_envelope(cli):
    response = _cli_call(cli, "GET", "/requests/abc/nothing/here")
    assert response.status_code == 404 and error_codes(response) == [7003, 7000]
    assert re.match(r"^[0-9a-f]{16}-SJC$", response.headers["cf-ray"]) and "Ratelimit" in response.headers
    cli.control("POST", "/_sandbox/faults", {"match": {"vendor": "cloudforce_one"}, "action": "respond", "status": 429})
    response = _cli_call(cli, "GET", "/requests/types")
    assert response.status_code == 429 and error_codes(response) == [971]
    assert response.headers["Retry-After"] == "1" and response.headers["Ratelimit-Policy"] == '"default";q=1200;w=300'
    cli.control("POST", "/_sandbox/faults", {"match": {"vendor": "cloudforce_one"}, "action": "respond", "status": 503})
    response = _cli_call(cli, "GET", "/requests/types")
    assert response.status_code == 503 and response.json()["success"] is False
    assert _cli_call(cli, "GET", "/requests/types").status_code == 200


def test_cli_reset_forgets_requests_and_rate_windows():
    process = SandboxProcess(env={"SANDBOX_CLOUDFLARE_RATE_LIMIT": "2"})
    try:
        created = _cli_call(process, "POST", "/requests/new", {}).json()["result"]
        assert _cli_call(process, "GET", "/requests/types").status_code == 200
        assert _cli_call(process, "GET", "/requests/types").status_code == 429
        process.control("POST", "/_sandbox/reset")
        assert _cli_call(process, "GET", "/requests/" + created["id"]).status_code == 404
    finally:
        process.stop()
