# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FalconClient against a local server: token reuse, renewal, one re-auth on 401, paging, batching."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import errors, falcon
from ansible_collections.caseops.desk.plugins.module_utils.transport import RetryPolicy, Transport
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

CLIENT_ID = "0123456789abcdef0123456789abcdef"
SECRET = "FalconUnitTestSecret0123456789ABCDEFGHIJ"


class FakeFalcon:
    """Just enough of the Falcon API to exercise the client: tokens, case queries, case entities."""

    def __init__(self, cases=0, region=None):
        self.tokens = []
        self.valid = set()
        self.case_ids = ["case-%04d" % n for n in range(cases)]
        self.region = region
        self.reject_next = 0

    def __call__(self, request):
        path = request["path"].split("?")[0]
        if path.endswith("/oauth2/token"):
            token = "token-%d" % (len(self.tokens) + 1)
            self.tokens.append(token)
            self.valid.add(token)
            headers = {"X-Cs-Region": self.region} if self.region else {}
            return Answer(201, {"access_token": token, "token_type": "bearer", "expires_in": 1799}, headers)
        bearer = request["headers"].get("Authorization", "")[len("Bearer "):]
        if bearer not in self.valid or self.reject_next:
            self.reject_next = max(0, self.reject_next - 1)
            return Answer(401, {"meta": {"trace_id": "t-401"}, "errors": [{"code": 401, "message": "access denied, authorization failed"}]})
        if path == falcon.QUERY_CASES_PATH:
            query = dict(part.split("=", 1) for part in request["path"].split("?", 1)[1].split("&"))
            offset, limit = int(query.get("offset", 0)), int(query["limit"])
            page = self.case_ids[offset:offset + limit]
            return Answer(200, {"meta": {"pagination": {"offset": offset, "limit": limit, "total": len(self.case_ids)}},
                                "resources": page, "errors": []})
        if path == falcon.GET_CASES_PATH:
            ids = json.loads(request["body"])["ids"]
            return Answer(200, {"meta": {}, "resources": [{"id": i, "title": "t"} for i in ids if i in self.case_ids], "errors": []})
        return Answer(404, {"errors": [{"code": 404, "message": "no route"}]})


def client_for(server, clock=None, **kwargs):
    transport = Transport(server.url, "Falcon", hooks=falcon.API_HOOKS, retry=RetryPolicy(sleep=lambda s: None))
    kwargs.setdefault("client_id", CLIENT_ID)
    kwargs.setdefault("client_secret", SECRET)
    if clock:
        kwargs["clock"] = clock
    return falcon.FalconClient(transport, **kwargs)


def token_requests(server):
    return [r for r in server.requests if r["path"].endswith("/oauth2/token")]


def test_one_token_serves_many_calls(server):
    server.script = FakeFalcon(cases=3)
    client = client_for(server)
    client.find_case_ids(limit=10)
    client.get_cases(["case-0000"])
    client.find_case_ids(limit=10)
    assert len(token_requests(server)) == 1
    form = token_requests(server)[0]["body"].decode()
    assert "client_id=%s" % CLIENT_ID in form and "member_cid" not in form


def test_member_cid_is_sent_when_set(server):
    server.script = FakeFalcon()
    client_for(server, member_cid="fedcba9876543210fedcba9876543210").authenticate()
    assert "member_cid=fedcba9876543210fedcba9876543210" in token_requests(server)[0]["body"].decode()


def test_401_triggers_exactly_one_reauthentication(server):
    fake = FakeFalcon(cases=2)
    server.script = fake
    client = client_for(server)
    client.authenticate()
    fake.reject_next = 1
    ids, total = client.find_case_ids(limit=10)
    assert total == 2
    assert len(token_requests(server)) == 2


def test_a_second_401_is_an_error_not_a_loop(server):
    fake = FakeFalcon(cases=2)
    server.script = fake
    client = client_for(server)
    fake.reject_next = 5
    with pytest.raises(errors.AuthenticationError) as caught:
        client.find_case_ids(limit=10)
    assert len(token_requests(server)) == 2
    assert "falcon_client_id" in caught.value.msg
    assert caught.value.trace_id == "t-401"
    assert SECRET not in repr(caught.value.to_fail_kwargs())


def test_token_is_renewed_before_it_expires(server):
    server.script = FakeFalcon(cases=1)
    now = [1000.0]
    client = client_for(server, clock=lambda: now[0])
    client.find_case_ids(limit=1)
    now[0] += 1799 - falcon.TOKEN_RENEW_WINDOW + 1  # inside the renewal window
    client.find_case_ids(limit=1)
    assert len(token_requests(server)) == 2


def test_a_passed_token_is_used_without_asking_for_one(server):
    fake = FakeFalcon(cases=1)
    fake.valid.add("handed-over")
    server.script = fake
    client = client_for(server, client_id=None, client_secret=None, token=falcon.FalconToken("handed-over", None))
    assert client.find_case_ids(limit=5) == (["case-0000"], 1)
    assert token_requests(server) == []


def test_a_refused_passed_token_without_credentials_says_what_to_do(server):
    server.script = FakeFalcon(cases=1)
    client = client_for(server, client_id=None, client_secret=None, token=falcon.FalconToken("revoked", None))
    with pytest.raises(errors.AuthenticationError) as caught:
        client.find_case_ids(limit=5)
    assert "renew the falcon_auth token" in caught.value.msg
    assert "revoked" not in caught.value.msg


def test_an_expired_passed_token_is_renewed_from_credentials(server):
    server.script = FakeFalcon(cases=1)
    client = client_for(server, token=falcon.FalconToken("old", 10.0), clock=lambda: 5000.0)
    client.find_case_ids(limit=5)
    assert len(token_requests(server)) == 1


def test_an_expired_passed_token_without_credentials_fails_before_sending(server):
    server.script = FakeFalcon(cases=1)
    client = client_for(server, client_id=None, client_secret=None, token=falcon.FalconToken("old", 10.0), clock=lambda: 5000.0)
    with pytest.raises(errors.AuthenticationError) as caught:
        client.find_case_ids(limit=5)
    assert "expired" in caught.value.msg
    assert server.requests == []


def test_missing_credentials_fail_before_sending(server):
    client = client_for(server, client_id=None, client_secret=None)
    with pytest.raises(errors.ConfigurationError) as caught:
        client.find_case_ids()
    assert "FALCON_CLIENT_ID" in caught.value.msg
    assert server.requests == []


def test_paging_collects_every_page_up_to_the_limit(server):
    server.script = FakeFalcon(cases=1203)
    client = client_for(server)
    ids, total = client.find_case_ids(limit=1100)
    assert total == 1203
    assert ids == ["case-%04d" % n for n in range(1100)]
    queries = [r["path"] for r in server.requests if r["path"].startswith(falcon.QUERY_CASES_PATH)]
    assert ["limit=500&offset=0", "limit=500&offset=500", "limit=100&offset=1000"] == [q.split("?")[1] for q in queries]


def test_paging_stops_at_the_total(server):
    server.script = FakeFalcon(cases=501)
    ids, total = client_for(server).find_case_ids(limit=5000)
    assert len(ids) == 501
    assert len([r for r in server.requests if r["path"].startswith(falcon.QUERY_CASES_PATH)]) == 2


def test_entities_are_fetched_in_batches_and_missing_ids_reported(server):
    server.script = FakeFalcon(cases=700)
    ids = ["case-%04d" % n for n in range(700)] + ["nope"]
    cases, missing = client_for(server).get_cases(ids)
    assert len(cases) == 700
    assert missing == ["nope"]
    batches = [json.loads(r["body"])["ids"] for r in server.requests if r["path"] == falcon.GET_CASES_PATH]
    assert [len(b) for b in batches] == [500, 201]


def test_autodiscovery_moves_to_the_reported_region(server, monkeypatch):
    monkeypatch.setitem(falcon.CLOUD_BASE_URLS, "us-2", server.url + "/us2")
    server.script = FakeFalcon(region="us-2")
    client = client_for(server, autodiscover=True)
    client.authenticate()
    assert client.transport.base_url == server.url + "/us2"
    assert [r["path"] for r in server.requests] == ["/oauth2/token", "/us2/oauth2/token"]


def test_no_autodiscovery_with_an_explicit_base_url(server):
    server.script = FakeFalcon(region="us-2")
    client = client_for(server, autodiscover=False)
    client.authenticate()
    assert client.transport.base_url == server.url
    assert len(server.requests) == 1


def test_client_from_params_uses_falcon_auth_base_url_and_ignores_blank_strings():
    auth = {"access_token": "tok", "base_url": "https://api.eu-1.crowdstrike.com", "expires_at": None}
    params = {"falcon_client_id": "", "falcon_client_secret": "  ", "falcon_cloud": None, "falcon_base_url": None,
              "falcon_member_cid": "", "falcon_auth": auth}
    client = falcon.client_from_params(params)
    assert client.transport.base_url == "https://api.eu-1.crowdstrike.com"
    assert client.client_id is None and client.client_secret is None and client.member_cid is None
    assert client.token.access_token == "tok"
    assert client.autodiscover is False


def test_client_from_params_cloud_to_base_url():
    client = falcon.client_from_params({"falcon_cloud": "us-gov-2"})
    assert client.transport.base_url == "https://api.us-gov-2.crowdstrike.mil"
    assert client.autodiscover is False
    assert falcon.client_from_params({}).autodiscover is True


class FakeMessageCenter(FakeFalcon):
    """FakeFalcon plus case creation and activities; ``drop_creates`` commits a create, then drops the connection."""

    def __init__(self, activities=0, drop_creates=0, **kwargs):
        super(FakeMessageCenter, self).__init__(**kwargs)
        self.activity_ids = ["act-%04d" % n for n in range(activities)]
        self.drop_creates = drop_creates
        self.comments = []

    def __call__(self, request):
        path = request["path"].split("?")[0]
        if path == falcon.CREATE_CASE_PATH:
            self.case_ids.append("case-new-%d" % len(self.case_ids))
            if self.drop_creates:
                self.drop_creates -= 1
                return Answer(drop=True)
            return Answer(200, {"meta": {}, "resources": [{"id": self.case_ids[-1], "path": ""}], "errors": []})
        if path == falcon.QUERY_ACTIVITIES_PATH:
            query = dict(part.split("=", 1) for part in request["path"].split("?", 1)[1].split("&"))
            offset, limit = int(query["offset"]), int(query["limit"])
            assert query["case_id"] == "c1"
            return Answer(200, {"meta": {"pagination": {"offset": offset, "limit": limit, "total": len(self.activity_ids)}},
                                "resources": self.activity_ids[offset:offset + limit], "errors": []})
        if path == falcon.ADD_ACTIVITY_PATH:
            self.comments.append(json.loads(request["body"]))
            return Answer(200, {"meta": {}, "errors": []})
        return super(FakeMessageCenter, self).__call__(request)


def test_create_case_returns_the_new_id(server):
    server.script = FakeMessageCenter()
    assert client_for(server).create_case({"title": "t", "type": "fc:contact", "body": "b"}) == "case-new-0"


def test_create_case_without_an_id_in_the_answer_is_an_error(server):
    fake = FakeMessageCenter()
    server.script = lambda r: Answer(200, {"meta": {}, "resources": [], "errors": []}) if r["path"] == falcon.CREATE_CASE_PATH else fake(r)
    with pytest.raises(errors.ApiError) as caught:
        client_for(server).create_case({"title": "t"})
    assert "without the new case's id" in caught.value.msg


def test_a_create_dropped_after_commit_is_recovered_not_resent(server):
    fake = FakeMessageCenter(drop_creates=1)
    server.script = fake
    found = client_for(server).create_case({"title": "t"}, recover=lambda: fake.case_ids[-1])
    assert found == "case-new-0"
    assert len([r for r in server.requests if r["path"] == falcon.CREATE_CASE_PATH]) == 1


def test_a_create_dropped_without_a_recover_hook_is_not_resent(server):
    server.script = FakeMessageCenter(drop_creates=1)
    with pytest.raises(errors.AmbiguousWriteError):
        client_for(server).create_case({"title": "t"})
    assert len([r for r in server.requests if r["path"] == falcon.CREATE_CASE_PATH]) == 1


def test_activities_page_with_the_case_id(server):
    server.script = FakeMessageCenter(activities=620)
    ids, total = client_for(server).find_activity_ids("c1", "activity.type:'comment'", "activity.created_time.desc", limit=700)
    assert total == 620 and len(ids) == 620
    queries = [r["path"] for r in server.requests if r["path"].startswith(falcon.QUERY_ACTIVITIES_PATH)]
    assert len(queries) == 2 and "sort=activity.created_time.desc" in queries[0] and "offset=500" in queries[1]


def test_add_comment_sends_a_comment_activity(server):
    fake = FakeMessageCenter()
    server.script = fake
    assert client_for(server).add_comment("c1", "hello", "01234567-89ab-cdef-0123-456789abcdef") is None
    assert fake.comments == [{"case_id": "c1", "body": "hello", "type": "comment",
                              "user_uuid": "01234567-89ab-cdef-0123-456789abcdef"}]


def test_without_a_limit_every_page_is_collected(server):
    server.script = FakeFalcon(cases=1203)
    ids, total = client_for(server).find_case_ids(limit=None)
    assert total == 1203 and ids == ["case-%04d" % n for n in range(1203)]
    queries = [r["path"] for r in server.requests if r["path"].startswith(falcon.QUERY_CASES_PATH)]
    assert [q.split("?")[1] for q in queries] == ["limit=500&offset=0", "limit=500&offset=500", "limit=500&offset=1000"]


def test_get_case_says_once_that_a_case_does_not_exist(server):
    server.script = FakeFalcon(cases=1)
    client = client_for(server)
    assert client.get_case("case-0000")["id"] == "case-0000"
    with pytest.raises(errors.NotFoundError) as caught:
        client.get_case("nope")
    assert caught.value.msg == "Falcon case nope does not exist (or this API client cannot see it)."


def test_revoke_sends_the_token_with_basic_auth(server):
    server.script = [Answer(200, {"meta": {}, "errors": []})]
    client = client_for(server)
    client.revoke("tok-to-revoke")
    sent = server.requests[0]
    assert sent["path"] == falcon.REVOKE_PATH
    assert sent["headers"]["Authorization"] == "Basic " + base64.b64encode(("%s:%s" % (CLIENT_ID, SECRET)).encode()).decode()
    assert "token=tok-to-revoke" in sent["body"].decode()


def test_revoke_without_credentials_sends_nothing(server):
    client = client_for(server, client_id=None, client_secret=None)
    with pytest.raises(errors.ConfigurationError):
        client.revoke("tok")
    assert server.requests == []


def test_token_is_active_asks_once_and_never_renews(server):
    fake = FakeFalcon()
    server.script = fake
    client = client_for(server)
    assert client.token_is_active("never-issued") is False
    fake.valid.add("good")
    assert client.token_is_active("good") is True
    assert token_requests(server) == []


class FakeAttachments(FakeFalcon):
    """FakeFalcon plus the attachment and aggregate operations."""

    def __init__(self, drop_uploads=0):
        super(FakeAttachments, self).__init__()
        self.drop_uploads = drop_uploads
        self.uploads = []

    def __call__(self, request):
        path = request["path"].split("?")[0]
        if path == falcon.CASE_ATTACHMENT_PATH and request["method"] == "POST":
            self.uploads.append(request)
            if self.drop_uploads:
                self.drop_uploads -= 1
                return Answer(drop=True)
            return Answer(200, {"meta": {}, "errors": [], "resources": [{"id": "att-1", "name": "a.txt", "size": 2}]})
        if path == falcon.CASE_ATTACHMENT_PATH:
            return Answer(200, raw=b"\x00\x01bytes", headers={"Content-Type": "application/pdf"})
        if path == falcon.AGGREGATE_CASES_PATH:
            return Answer(200, {"meta": {}, "errors": [], "resources": [{"name": "n", "buckets": []}]})
        return super(FakeAttachments, self).__call__(request)


def test_add_attachment_sends_multipart_form_and_returns_the_record(server):
    fake = FakeAttachments()
    server.script = fake
    record = client_for(server).add_attachment("case-1", "01234567-89ab-cdef-0123-456789abcdef", "a.txt", b"hi")
    assert record == {"id": "att-1", "name": "a.txt", "size": 2}
    upload = fake.uploads[0]
    assert upload["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    for part in (b'name="case_id"\r\n\r\ncase-1', b'name="user_uuid"\r\n\r\n01234567-89ab-cdef-0123-456789abcdef',
                 b'name="file"; filename="a.txt"\r\n\r\nhi'):
        assert part in upload["body"]


def test_a_dropped_upload_is_recovered_not_resent(server):
    fake = FakeAttachments(drop_uploads=1)
    server.script = fake
    found = {"id": "att-7", "name": "a.txt", "size": 2}
    record = client_for(server).add_attachment("case-1", "u", "a.txt", b"hi", recover=lambda: found)
    assert record == found
    assert len(fake.uploads) == 1


def test_a_dropped_upload_with_nothing_found_is_sent_again(server):
    fake = FakeAttachments(drop_uploads=1)
    server.script = fake
    record = client_for(server).add_attachment("case-1", "u", "a.txt", b"hi", recover=lambda: None)
    assert record["id"] == "att-1"
    assert len(fake.uploads) == 2


def test_download_returns_the_raw_bytes_and_type(server):
    server.script = FakeAttachments()
    content, mime_type = client_for(server).download_attachment("att-1")
    assert (content, mime_type) == (b"\x00\x01bytes", "application/pdf")
    assert server.requests[-1]["path"] == falcon.CASE_ATTACHMENT_PATH + "?id=att-1"


def test_aggregate_cases_posts_a_json_array(server):
    server.script = FakeAttachments()
    results = client_for(server).aggregate_cases([{"type": "terms", "field": "case.status"}])
    assert results == [{"name": "n", "buckets": []}]
    assert json.loads(server.requests[-1]["body"]) == [{"type": "terms", "field": "case.status"}]
