"""Falcon OAuth2 tokens, bearer checks, scopes and the account rate limit."""

import base64
import time
import uuid

import pytest
import requests

from sandbox_helpers import CONFIG, SandboxProcess, bearer, issue_token, token_form  # pylint: disable=import-error

QUERY = "/message-center/queries/cases/v1"
CREATE = "/message-center/entities/case/v2"


def basic(client_id, secret):
    return {"Authorization": "basic " + base64.b64encode(("%s:%s" % (client_id, secret)).encode()).decode()}


def assert_gateway_error(response, status, message):
    assert response.status_code == status
    body = response.json()
    assert body["errors"] == [{"code": status, "message": message}]
    assert body["meta"]["trace_id"] == response.headers["X-Cs-Traceid"]
    assert body["meta"]["powered_by"] == "crowdstrike-api-gateway"
    assert isinstance(body["meta"]["query_time"], float)


def test_token_is_issued_with_headers(url):
    response = requests.post(url + "/oauth2/token", data=token_form(), timeout=10)
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == CONFIG["SANDBOX_FALCON_TOKEN_TTL"]
    assert len(body["access_token"]) >= 32
    assert "X-Cs-Region" not in response.headers  # only on request: SDKs would follow it to the real cloud
    uuid.UUID(response.headers["X-Cs-Traceid"])
    assert response.headers["X-Ratelimit-Limit"] == str(CONFIG["SANDBOX_FALCON_RATE_LIMIT"])
    assert int(response.headers["X-Ratelimit-Remaining"]) >= 0
    assert issue_token(url) != body["access_token"]


@pytest.mark.parametrize("form, message", [
    ({"client_id": "abc"}, "Failed to generate access token for clientID=abc."),
    ({"client_secret": "x"}, "Failed to generate access token for clientID=."),
    ({}, "Failed to generate access token for clientID=."),
])
def test_token_without_credentials_is_400(url, form, message):
    response = requests.post(url + "/oauth2/token", data=form, timeout=10)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": 400, "message": message}]
    assert "trace_id" in response.json()["meta"]


@pytest.mark.parametrize("field", ["client_id", "client_secret"])
def test_token_with_wrong_credentials_is_403(url, field):
    response = requests.post(url + "/oauth2/token", data=token_form(**{field: "0" * 40}), timeout=10)
    assert response.status_code == 403
    assert response.json()["errors"] == [{"code": 403, "message": "access denied, authorization failed"}]


def test_member_cid(url):
    right = CONFIG["SANDBOX_FALCON_MEMBER_CID"]
    assert issue_token(url, member_cid=right)
    assert issue_token(url, member_cid=right.upper())
    wrong = "f" * 32
    response = requests.post(url + "/oauth2/token", data=token_form(member_cid=wrong), timeout=10)
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == 'Failed to generate access token for customer ID= "%s"' % wrong


def test_bearer_token_is_required(url):
    assert_gateway_error(requests.get(url + QUERY, timeout=10), 401, "access denied, authorization failed")
    assert_gateway_error(requests.get(url + QUERY, headers=bearer("nope"), timeout=10), 401,
                         "access denied, authorization failed")
    token = issue_token(url)
    assert_gateway_error(requests.get(url + QUERY, headers={"Authorization": "Basic " + token}, timeout=10), 401,
                         "access denied, authorization failed")
    for scheme in ("bearer", "Bearer", "BEARER"):
        assert requests.get(url + QUERY, headers={"Authorization": "%s %s" % (scheme, token)}, timeout=10).ok


def test_revoke(url):
    token = issue_token(url)
    assert requests.get(url + QUERY, headers=bearer(token), timeout=10).status_code == 200
    response = requests.post(url + "/oauth2/revoke", data={"token": token},
                             headers=basic(CONFIG["SANDBOX_FALCON_CLIENT_ID"], CONFIG["SANDBOX_FALCON_CLIENT_SECRET"]),
                             timeout=10)
    assert response.status_code == 200
    assert response.json()["errors"] == []
    assert response.json()["meta"]["trace_id"] == response.headers["X-Cs-Traceid"]
    assert requests.get(url + QUERY, headers=bearer(token), timeout=10).status_code == 401


def test_revoke_with_bad_basic_auth_is_403(url):
    token = issue_token(url)
    for headers in (basic(CONFIG["SANDBOX_FALCON_CLIENT_ID"], "wrong"), {}, {"Authorization": "basic !!!"}):
        response = requests.post(url + "/oauth2/revoke", data={"token": token}, headers=headers, timeout=10)
        assert response.status_code == 403
    assert requests.get(url + QUERY, headers=bearer(token), timeout=10).status_code == 200


def test_every_response_has_trace_and_rate_headers(url, auth):
    response = requests.get(url + QUERY, headers=auth, timeout=10)
    assert response.json()["meta"]["trace_id"] == response.headers["X-Cs-Traceid"]
    first = int(response.headers["X-Ratelimit-Remaining"])
    second = int(requests.get(url + QUERY, headers=auth, timeout=10).headers["X-Ratelimit-Remaining"])
    assert second == first - 1
    assert first <= CONFIG["SANDBOX_FALCON_RATE_LIMIT"] - 1


def test_region_header_when_configured():
    process = SandboxProcess(env={"SANDBOX_FALCON_REGION": "us-2"})
    try:
        response = requests.post(process.url + "/oauth2/token", data=token_form(), timeout=10)
        assert response.status_code == 201
        assert response.headers["X-Cs-Region"] == "us-2"
    finally:
        process.stop()


def test_expired_token_is_401():
    process = SandboxProcess(env={"SANDBOX_FALCON_TOKEN_TTL": "1"})
    try:
        response = requests.post(process.url + "/oauth2/token", data=token_form(), timeout=10)
        assert response.json()["expires_in"] == 1
        headers = bearer(response.json()["access_token"])
        assert requests.get(process.url + QUERY, headers=headers, timeout=10).status_code == 200
        time.sleep(1.2)
        assert_gateway_error(requests.get(process.url + QUERY, headers=headers, timeout=10), 401,
                             "access denied, authorization failed")
    finally:
        process.stop()


def test_missing_scope_is_403():
    process = SandboxProcess(env={"SANDBOX_FALCON_SCOPES": "message-center:read"})
    try:
        headers = bearer(issue_token(process.url))
        assert requests.get(process.url + QUERY, headers=headers, timeout=10).status_code == 200
        response = requests.post(process.url + CREATE, json={"title": "t", "body": "b", "type": "fc:contact"},
                                 headers=headers, timeout=10)
        assert_gateway_error(response, 403, "access denied, authorization failed")
    finally:
        process.stop()


def test_rate_limit_sliding_window():
    process = SandboxProcess(env={"SANDBOX_FALCON_RATE_LIMIT": "3"})
    try:
        headers = bearer(issue_token(process.url))
        remaining = [requests.get(process.url + QUERY, headers=headers, timeout=10).headers["X-Ratelimit-Remaining"]
                     for attempt in range(3)]
        assert remaining == ["2", "1", "0"]
        before = time.time()
        response = requests.get(process.url + QUERY, headers=headers, timeout=10)
        assert_gateway_error(response, 429, "API rate limit exceeded.")
        assert response.headers["X-Ratelimit-Limit"] == "3"
        assert response.headers["X-Ratelimit-Remaining"] == "0"
        retry_after = int(response.headers["X-Ratelimit-Retryafter"])
        assert before + 55 <= retry_after <= before + 62     # epoch seconds when the oldest slot frees
        # A rejected request takes no slot; tokens can still be issued.
        assert requests.post(process.url + "/oauth2/token", data=token_form(), timeout=10).status_code == 201
    finally:
        process.stop()
