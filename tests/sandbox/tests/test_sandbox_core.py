"""The sandbox core: CLI contract, control API, request log, secrets, faults and persistence."""

import json
import re
import signal
import threading
import time

import pytest
import requests

import server  # pylint: disable=import-error
from sandbox_helpers import (CONFIG, USER_UUID, SandboxProcess, add_fault, bearer, create_case,  # pylint: disable=import-error
                             issue_token, logged, seed_case, token_form)

QUERY = "/message-center/queries/cases/v1"
CREATE = "/message-center/entities/case/v2"
LOG_KEYS = {"seq", "time", "vendor", "operation", "method", "path", "query", "headers", "content_type", "body_size",
            "json", "json_error", "form", "files", "status", "fault"}


def case_count(url):
    return len(requests.get(url + "/_sandbox/falcon/cases", timeout=10).json()["cases"])


# -- CLI and control API --------------------------------------------------------------------
def test_first_stdout_line_is_the_url(sandbox):
    assert re.match(r"^SANDBOX_URL=http://127\.0\.0\.1:\d+$", sandbox.first_line)
    response = requests.get(sandbox.url + "/_sandbox/health", timeout=10)
    assert response.json()["ok"] is True and "falcon" in response.json()["vendors"]


def test_reset_clears_state_faults_and_log(url, auth):
    create_case(url, auth)
    add_fault(url, match={"path": "/nowhere"}, action="respond", status=500)
    requests.post(url + "/_sandbox/reset", timeout=10)
    assert case_count(url) == 0
    assert requests.get(url + "/_sandbox/faults", timeout=10).json()["faults"] == []
    # The reset request itself is logged after the log was cleared.
    assert [e["path"] for e in logged(url)] == ["/_sandbox/reset", "/_sandbox/falcon/cases", "/_sandbox/faults"]
    assert requests.get(url + QUERY, headers=auth, timeout=10).status_code == 401   # tokens are state too


def test_unknown_routes(url):
    response = requests.get(url + "/nothing/here", timeout=10)
    assert response.status_code == 404 and response.json()["error"]
    assert requests.get(url + "/_sandbox/nothing", timeout=10).status_code == 404
    entries = logged(url)[1:]    # after the fixture's reset
    assert [(e["vendor"], e["operation"], e["status"]) for e in entries] == [(None, None, 404), ("control", None, 404)]


def test_save_without_state_file_is_400(url):
    assert requests.post(url + "/_sandbox/save", timeout=10).status_code == 400


def test_state_elides_blobs(url, auth):
    case_id = create_case(url, auth)
    requests.post(url + "/message-center/entities/case-attachment/v1", data={"case_id": case_id, "user_uuid": USER_UUID},
                  files={"file": ("a.txt", b"x" * 2000)}, headers=auth, timeout=10)
    state = requests.get(url + "/_sandbox/state", timeout=10).json()
    blob = list(state["falcon"]["blobs"].values())[0]
    assert blob["data"].startswith("<") and "elided" in blob["data"]
    full = requests.get(url + "/_sandbox/state", params={"full": "1"}, timeout=10).json()
    assert len(list(full["falcon"]["blobs"].values())[0]["data"]) > 2000


# -- request log -----------------------------------------------------------------------------------
def test_log_entry_format(url, auth):
    start = time.time()
    requests.get(url + QUERY, params={"limit": "5", "filter": "case.status:'1'"}, headers=auth, timeout=10)
    case_id = create_case(url, auth, title="logged")
    requests.post(url + "/message-center/entities/case-attachment/v1", data={"case_id": case_id, "user_uuid": USER_UUID},
                  files={"file": ("notes.txt", b"hello", "text/plain")}, headers=auth, timeout=10)
    requests.post(url + CREATE, data="{broken", headers=dict(auth, **{"Content-Type": "application/json"}), timeout=10)
    token, query, create, upload, broken = logged(url, vendor="falcon")
    for entry in (token, query, create, upload, broken):
        assert set(entry) == LOG_KEYS
        assert entry["vendor"] == "falcon" and entry["fault"] is None and start - 1 < entry["time"] < time.time() + 1
    assert [e["seq"] for e in (token, query, create, upload, broken)] == list(range(token["seq"], token["seq"] + 5))
    assert token["operation"] == "oauth2AccessToken" and token["status"] == 201
    assert token["content_type"] == "application/x-www-form-urlencoded"
    assert token["form"]["client_id"] == [CONFIG["SANDBOX_FALCON_CLIENT_ID"]]
    assert token["form"]["client_secret"] == ["<redacted>"]
    assert query["operation"] == "QueryCasesIdsByFilter" and query["method"] == "GET" and query["path"] == QUERY
    assert query["query"] == {"limit": ["5"], "filter": ["case.status:'1'"]}
    assert query["headers"]["authorization"] == "<redacted>" and query["body_size"] == 0
    assert query["json"] is None and query["form"] is None and query["files"] is None and query["content_type"] is None
    assert create["operation"] == "CreateCaseV2" and create["json"]["title"] == "logged" and create["status"] == 200
    assert create["content_type"] == "application/json" and create["body_size"] > 0
    assert upload["content_type"] == "multipart/form-data"
    assert upload["form"] == {"case_id": [case_id], "user_uuid": [USER_UUID]}
    assert upload["files"] == [{"field": "file", "filename": "notes.txt", "content_type": "text/plain", "size": 5}]
    assert broken["json"] is None and broken["json_error"] and broken["status"] == 400


def test_log_filters(url, auth):
    requests.get(url + QUERY, headers=auth, timeout=10)
    entries = logged(url)
    assert [e["vendor"] for e in entries] == ["control", "falcon", "falcon"]
    assert logged(url, since=entries[1]["seq"]) == [entries[2], logged(url)[3]]
    assert [e["operation"] for e in logged(url, vendor="control")] == ["control.reset"] + ["control.requests"] * 3
    assert requests.delete(url + "/_sandbox/requests", timeout=10).status_code == 200
    assert [e["method"] for e in logged(url)] == ["DELETE"]
    assert requests.get(url + "/_sandbox/requests", params={"since": "x"}, timeout=10).status_code == 400


def test_secrets_never_reach_the_log(sandbox, url):
    secrets = CONFIG.secrets()
    token = issue_token(url)
    requests.post(url + "/oauth2/revoke", data={"token": token}, timeout=10,
                  auth=(CONFIG["SANDBOX_FALCON_CLIENT_ID"], CONFIG["SANDBOX_FALCON_CLIENT_SECRET"]))
    for secret in secrets:
        requests.post(url + CREATE + "?note=" + secret, json={"title": "x%sx" % secret, secret: [secret]},
                      headers={"X-Auth-Key": secret, "U21-Key": secret, "X-Other": "a " + secret},
                      timeout=10)
        requests.post(url + "/somewhere", data={"password": "p", "api_key": secret, "plain": secret}, timeout=10)
        requests.get(url + "/message-center/" + secret, params={secret: secret}, timeout=10)
    entries = requests.get(url + "/_sandbox/requests", timeout=10).text
    with open(sandbox.log_file) as handle:
        log_file = handle.read()
    assert "<redacted>" in entries
    for secret in secrets + [token]:
        assert secret not in entries
        assert secret not in log_file
    last = [e for e in map(json.loads, log_file.splitlines()) if e["path"] == "/somewhere"][-1]
    assert last["form"] == {"password": ["<redacted>"], "api_key": ["<redacted>"], "plain": ["<redacted>"]}


# -- faults ----------------------------------------------------------------------------------------------
def test_fault_respond_with_default_body_and_count(url, auth):
    rule = add_fault(url, match={"method": "GET", "path": QUERY}, action="respond", status=429, count=2)
    assert rule["remaining"] == 2 and rule["id"]
    before = time.time()
    for attempt in range(2):
        response = requests.get(url + QUERY, headers=auth, timeout=10)
        assert response.status_code == 429, attempt
        assert response.json()["errors"] == [{"code": 429, "message": "API rate limit exceeded."}]
        assert response.json()["meta"]["trace_id"] == response.headers["X-Cs-Traceid"]
        assert before < int(response.headers["X-Ratelimit-Retryafter"]) <= time.time() + 2
    assert requests.get(url + QUERY, headers=auth, timeout=10).status_code == 200
    faults = [e["fault"] for e in logged(url, vendor="falcon")]
    assert faults == [None, {"id": rule["id"], "action": "respond"}, {"id": rule["id"], "action": "respond"}, None]
    assert requests.get(url + "/_sandbox/faults", timeout=10).json()["faults"][0]["remaining"] == 0


def test_fault_respond_with_headers_and_body(url, auth):
    add_fault(url, match={"path_regex": "^/message-center/queries/"}, action="respond", status=503,
              headers={"Retry-After": "7"}, body={"custom": True})
    response = requests.get(url + QUERY, headers=auth, timeout=10)
    assert response.status_code == 503 and response.json() == {"custom": True}
    assert response.headers["Retry-After"] == "7"
    add_fault(url, match={"vendor": "falcon"}, action="respond", status=429, headers={"X-Ratelimit-Retryafter": "123"})
    response = requests.get(url + QUERY, headers=auth, timeout=10)
    assert response.headers["X-Ratelimit-Retryafter"] == "123" and response.json()["errors"][0]["code"] == 429


def test_fault_drop_processes_nothing(url, auth):
    add_fault(url, match={"method": "POST", "path": CREATE}, action="drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(url + CREATE, json={"title": "t", "body": "b", "type": "fc:contact"}, headers=auth, timeout=10)
    assert case_count(url) == 0
    entry = logged(url, vendor="falcon")[-1]
    assert entry["status"] is None and entry["fault"]["action"] == "drop"


def test_fault_commit_then_drop_commits_once(url, auth):
    add_fault(url, match={"method": "POST", "path": CREATE}, action="commit_then_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(url + CREATE, json={"title": "t", "body": "b", "type": "fc:contact"}, headers=auth, timeout=10)
    assert case_count(url) == 1
    entry = logged(url, vendor="falcon")[-1]
    assert entry["status"] is None and entry["fault"]["action"] == "commit_then_drop"
    create_case(url, auth)       # the rule is used up
    assert case_count(url) == 2


def test_fault_delay(url, auth):
    add_fault(url, match={"path": QUERY}, action="delay", delay=0.4)
    started = time.monotonic()
    assert requests.get(url + QUERY, headers=auth, timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    requests.get(url + QUERY, headers=auth, timeout=10)
    assert time.monotonic() - started < 0.4
    add_fault(url, match={"path": QUERY}, action="respond", status=500, delay=0.2)
    started = time.monotonic()
    assert requests.get(url + QUERY, headers=auth, timeout=10).status_code == 500
    assert time.monotonic() - started >= 0.2


def test_fault_matching_and_management(url, auth):
    rule = add_fault(url, match={"method": "POST", "path": QUERY}, action="respond", status=500)
    assert requests.get(url + QUERY, headers=auth, timeout=10).status_code == 200      # method differs
    other = add_fault(url, match={"path_regex": ".*"}, action="respond", status=502, count=5)
    assert requests.get(url + "/_sandbox/health", timeout=10).status_code == 200        # control is never faulted
    assert requests.delete(url + "/_sandbox/faults/" + other["id"], timeout=10).status_code == 200
    assert requests.delete(url + "/_sandbox/faults/" + other["id"], timeout=10).status_code == 404
    assert [f["id"] for f in requests.get(url + "/_sandbox/faults", timeout=10).json()["faults"]] == [rule["id"]]
    assert requests.delete(url + "/_sandbox/faults", timeout=10).status_code == 200
    assert requests.get(url + "/_sandbox/faults", timeout=10).json()["faults"] == []
    add_fault(url, match={"path": "/elsewhere"}, action="respond", status=418)
    response = requests.get(url + "/elsewhere", timeout=10)
    assert response.status_code == 418 and logged(url)[-1]["vendor"] is None


@pytest.mark.parametrize("rule", [
    {"action": "explode"},
    {"action": "respond", "status": 99},
    {"action": "respond", "count": 0},
    {"action": "delay", "delay": -1},
    {"action": "drop", "match": {"path_regex": "("}},
    {"action": "drop", "match": "everything"},
    [],
])
def test_bad_fault_rules(url, rule):
    assert requests.post(url + "/_sandbox/faults", json=rule, timeout=10).status_code == 400


# -- persistence -----------------------------------------------------------------------------------------------
def test_state_persists_across_restart(tmp_path):
    state_file = str(tmp_path / "state.json")
    first = SandboxProcess(["--state", state_file])
    try:
        token = issue_token(first.url)
        case = seed_case(first.url, title="kept", status="1")
        response = requests.post(first.url + "/message-center/entities/case-attachment/v1",
                                 data={"case_id": case["id"], "user_uuid": USER_UUID},
                                 files={"file": ("a.txt", b"bytes")}, headers=bearer(token), timeout=10)
        attachment_id = response.json()["resources"][0]["id"]
        assert requests.post(first.url + "/_sandbox/save", timeout=10).json()["ok"] is True
    finally:
        assert first.stop(signal.SIGINT) == 0
    second = SandboxProcess(["--state", state_file])
    try:
        headers = bearer(token)
        assert requests.get(second.url + QUERY, headers=headers, timeout=10).json()["resources"] == [case["id"]]
        download = requests.get(second.url + "/message-center/entities/case-attachment/v1",
                                params={"id": attachment_id}, headers=headers, timeout=10)
        assert download.content == b"bytes"
        assert create_case(second.url, headers) != case["id"]
        keys = [c["key"] for c in requests.get(second.url + "/_sandbox/falcon/cases", timeout=10).json()["cases"]]
        assert len(set(keys)) == 2    # counters persisted too
    finally:
        assert second.stop() == 0
    with open(state_file) as handle:
        assert len(json.load(handle)["falcon"]["cases"]) == 2


def test_token_form_helper_matches_config():
    assert token_form()["client_secret"] == CONFIG["SANDBOX_FALCON_CLIENT_SECRET"]


# -- units of the core --------------------------------------------------------------------------------------
def test_scrub_catches_url_encoded_secrets():
    log = server.RequestLog(["ab/c+d e", "", "xy"])
    entry = {"path": "/x/ab%2Fc%2Bd%20e", "query": {"ab/c+d e": ["ab%2Fc%2Bd+e"]}, "n": 3, "short": "xy"}
    assert log.scrub(entry) == {"path": "/x/<redacted>", "query": {"<redacted>": ["<redacted>"]}, "n": 3, "short": "xy"}


def test_parse_multipart():
    body = (b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"case_id\"\r\n\r\nabc\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r\xc3\xa9sum\xc3\xa9.txt\"\r\n"
            b"Content-Type: text/plain\r\n\r\nline1\r\n--Xy-almost\r\n\r\n--XyZ--\r\nepilogue")
    parts = server.parse_multipart(body, 'multipart/form-data; boundary="XyZ"')
    assert [(p["name"], p["filename"], p["content_type"]) for p in parts] == [
        ("case_id", None, None), ("file", "r\u00e9sum\u00e9.txt", "text/plain")]
    assert parts[0]["data"] == b"abc" and parts[1]["data"] == b"line1\r\n--Xy-almost\r\n"
    with pytest.raises(ValueError):
        server.parse_multipart(b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nno end", "multipart/form-data; boundary=XyZ")


def test_seq_follows_completion_order(url, auth):
    add_fault(url, match={"path": QUERY}, action="delay", delay=0.5)
    slow = threading.Thread(target=requests.get, args=(url + QUERY,), kwargs={"headers": auth, "timeout": 10})
    slow.start()
    time.sleep(0.1)
    requests.get(url + "/message-center/queries/case-activities/v1", params={"case_id": "x"}, headers=auth, timeout=10)
    seen = logged(url, vendor="falcon")[-1]["seq"]
    slow.join()
    late = logged(url, since=seen, vendor="falcon")
    assert [e["path"] for e in late] == [QUERY] and late[0]["fault"]["action"] == "delay"


# -- fidelity variants --------------------------------------------------------------------------
def test_variants_are_listed_set_checked_and_reset(url):
    listing = requests.get(url + "/_sandbox/variants", timeout=10).json()
    variants = listing["variants"]
    assert variants, "the sandbox declares at least one fidelity variant (tests/sandbox/FIDELITY.md)"
    refused = requests.post(url + "/_sandbox/variants", json={"SANDBOX_NO_SUCH_VARIANT": "x"}, timeout=10)
    assert refused.status_code == 400 and "unknown variant" in refused.json()["error"]
    assert requests.post(url + "/_sandbox/variants", json=["x"], timeout=10).status_code == 400
    name, default = sorted(variants.items())[0]
    choices = listing["choices"][name]
    other = next((c for c in choices if c != default), None) if choices else default + "-other"
    changed = requests.post(url + "/_sandbox/variants", json={name: other}, timeout=10)
    assert changed.status_code == 200 and changed.json()["variants"][name] == other
    if choices:
        wrong = requests.post(url + "/_sandbox/variants", json={name: "not-a-choice"}, timeout=10)
        assert wrong.status_code == 400 and name in wrong.json()["error"]
    requests.post(url + "/_sandbox/reset", timeout=10).raise_for_status()
    assert requests.get(url + "/_sandbox/variants", timeout=10).json()["variants"][name] == default


def test_requests_limit_zero_gives_only_the_last_seq(url):
    requests.get(url + "/_sandbox/health", timeout=10)
    answer = requests.get(url + "/_sandbox/requests?limit=0", timeout=10).json()
    assert answer["requests"] == [] and answer["last_seq"] >= 2
    everything = requests.get(url + "/_sandbox/requests", timeout=10).json()
    assert everything["last_seq"] >= max(e["seq"] for e in everything["requests"]) >= answer["last_seq"]
