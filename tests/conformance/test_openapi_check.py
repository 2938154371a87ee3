"""Tests of the conformance checker itself, using hand-built request-log entries."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import openapi_check as oc  # noqa: E402  (needs HERE on sys.path)

API_DIR = Path(os.environ.get("CASEOPS_API_DIR") or HERE.parents[1] / ".." / "shared" / "api").resolve()
if not API_DIR.is_dir():
    pytest.skip("%s (looked for %s)" % (oc.SKIP_MESSAGE, API_DIR), allow_module_level=True)

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
REQUEST_ID = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"
PRIORITY_ID = "5d8e2b7a-1c3f-4e6a-9b0d-7f2a1e3c4b5d"
CF = "/client/v4/accounts/%s/cloudforce-one" % ACCOUNT
CF_REQUEST = "%s/requests/%s" % (CF, REQUEST_ID)
USER_UUID = "01234567-89ab-cdef-0123-456789abcdef"
AUTH = {
    "falcon": {"authorization": "<redacted>"},
    "cloudforce_one": {"authorization": "<redacted>"},
    "unit21": {"u21-key": "<redacted>"},
}
NO_BODY = object()


def entry(vendor, method, path, body=NO_BODY, query=None, headers=None, content_type=None, form=None, files=None, json_error=None, seq=1):
    """A log entry shaped like the sandbox's; body is a JSON value, form/files a multipart or urlencoded body."""
    record = {
        "seq": seq, "time": 1700000000.0 + seq, "vendor": vendor, "operation": None, "method": method, "path": path,
        "query": {k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()},
        "headers": dict(AUTH.get(vendor, {})) if headers is None else headers,
        "content_type": content_type, "body_size": 0, "json": None, "json_error": json_error,
        "form": None, "files": None, "status": 200, "fault": None,
    }
    if body is not NO_BODY:
        record["json"] = body
        record["body_size"] = len(json.dumps(body))
        record["content_type"] = content_type or "application/json"
    if form is not None or files is not None:
        record["form"] = {k: v if isinstance(v, list) else [v] for k, v in (form or {}).items()}
        record["files"] = [{"field": name, "filename": name + ".txt", "content_type": "text/plain", "size": 5} for name in files or []] or None
        record["body_size"] = 100
        record["content_type"] = content_type or ("multipart/form-data" if files else "application/x-www-form-urlencoded")
    if json_error:
        record["body_size"] = record["body_size"] or 10
        record["content_type"] = record["content_type"] or "application/json"
    return record


@pytest.fixture(scope="module")
def checker():
    return oc.Checker(API_DIR)


@pytest.fixture(scope="module")
def strict_checker():
    return oc.Checker(API_DIR, deviations=())


def messages(violations):
    return [v.message for v in violations]


# ---------------------------------------------------------------------------
# Valid requests pass.

FULL_CASE = {
    "type": "fc:detection-support", "title": "Question about detection", "body": "Please review", "user_uuid": USER_UUID,
    "detections": [{"id": "ldt:0123456789abcdef0123456789abcdef:1", "product": "epp", "url": "https://falcon.example/d/1"}],
    "incidents": [], "malware_submission_id": "", "recon_rule_type": "",
}

VALID = [
    ("falcon-token", entry("falcon", "POST", "/oauth2/token", headers={}, form={"client_id": "a" * 32, "client_secret": "s" * 40}), "oauth2AccessToken"),
    ("falcon-token-member", entry("falcon", "POST", "/oauth2/token", headers={},
                                  form={"client_id": "a" * 32, "client_secret": "s" * 40, "member_cid": "b" * 32}), "oauth2AccessToken"),
    ("falcon-revoke", entry("falcon", "POST", "/oauth2/revoke", form={"token": "t", "client_id": "a" * 32}), "oauth2RevokeToken"),
    ("falcon-query-cases", entry("falcon", "GET", "/message-center/queries/cases/v1",
                                 query={"limit": "100", "offset": "0", "sort": "case.created_time.desc", "filter": "case.status:'1'"}),
     "QueryCasesIdsByFilter"),
    ("falcon-query-activities", entry("falcon", "GET", "/message-center/queries/case-activities/v1", query={"case_id": "c1", "limit": "5"}),
     "QueryActivityByCaseID"),
    ("falcon-download", entry("falcon", "GET", "/message-center/entities/case-attachment/v1", query={"id": "att-1"}), "CaseDownloadAttachment"),
    ("falcon-get-cases", entry("falcon", "POST", "/message-center/entities/cases/GET/v1", {"ids": ["c1", "c2"]}), "GetCaseEntitiesByIDs"),
    ("falcon-get-activities", entry("falcon", "POST", "/message-center/entities/case-activities/GET/v1", {"ids": ["a1"]}), "GetCaseActivityByIds"),
    ("falcon-add-activity", entry("falcon", "POST", "/message-center/entities/case-activity/v1",
                                  {"body": "Still an issue?", "case_id": "c1", "type": "comment", "user_uuid": USER_UUID}), "CaseAddActivity"),
    ("falcon-create-case-full", entry("falcon", "POST", "/message-center/entities/case/v2", FULL_CASE), "CreateCaseV2"),
    ("falcon-add-attachment", entry("falcon", "POST", "/message-center/entities/case-attachment/v1",
                                    form={"case_id": "c1", "user_uuid": USER_UUID}, files=["file"]), "CaseAddAttachment"),
    ("cf-request-list", entry("cloudforce_one", "POST", CF + "/requests",
                              {"page": 1, "per_page": 10, "sort_by": "created", "sort_order": "desc", "created_after": "2024-01-01T00:00:00Z",
                               "status": "open"}), "cloudforce-one-request-list"),
    ("cf-request-new", entry("cloudforce_one", "POST", CF + "/requests/new",
                             {"summary": "DoS attack", "content": "What regions?", "request_type": "Victomology", "priority": "routine",
                              "tlp": "amber-strict"}), "cloudforce-one-request-new"),
    ("cf-request-get", entry("cloudforce_one", "GET", CF_REQUEST), "cloudforce-one-request-get"),
    ("cf-request-update", entry("cloudforce_one", "PUT", CF_REQUEST, {"summary": "new"}), "cloudforce-one-request-update"),
    ("cf-request-delete", entry("cloudforce_one", "DELETE", CF_REQUEST), "cloudforce-one-request-delete"),
    ("cf-constants", entry("cloudforce_one", "GET", CF + "/requests/constants"), "cloudforce-one-request-constants"),
    ("cf-quota", entry("cloudforce_one", "GET", CF + "/requests/quota"), "cloudforce-one-request-quota"),
    ("cf-types", entry("cloudforce_one", "GET", CF + "/requests/types"), "cloudforce-one-request-types"),
    ("cf-message-list", entry("cloudforce_one", "POST", CF_REQUEST + "/message",
                              {"page": 1, "per_page": 10, "after": "2022-04-01T05:20:00+02:00", "before": "2024-01-01T00:00:00.123Z",
                               "sort_order": "asc"}), "cloudforce-one-request-message-list"),
    ("cf-message-new", entry("cloudforce_one", "POST", CF_REQUEST + "/message/new", {"content": "More detail?"}),
     "cloudforce-one-request-message-new"),
    ("cf-message-update", entry("cloudforce_one", "PUT", CF_REQUEST + "/message/7", {"content": "edited"}), "cloudforce-one-request-message-update"),
    ("cf-message-delete", entry("cloudforce_one", "DELETE", CF_REQUEST + "/message/7"), "cloudforce-one-request-message-delete"),
    ("cf-priority-new", entry("cloudforce_one", "POST", CF + "/requests/priority/new",
                              {"labels": ["DoS"], "priority": 1, "requirement": "DoS by CVEs", "tlp": "clear"}), "cloudforce-one-priority-new"),
    ("cf-priority-list", entry("cloudforce_one", "POST", CF + "/requests/priority", {"page": 1, "per_page": 10}), "cloudforce-one-priority-list"),
    ("cf-priority-get", entry("cloudforce_one", "GET", CF + "/requests/priority/" + PRIORITY_ID), "cloudforce-one-priority-get"),
    ("cf-priority-quota", entry("cloudforce_one", "GET", CF + "/requests/priority/quota"), "cloudforce-one-priority-quota"),
    ("cf-asset-new", entry("cloudforce_one", "POST", CF_REQUEST + "/asset/new", files=["source"]), "cloudforce-one-request-asset-new"),
    ("cf-asset-get", entry("cloudforce_one", "GET", CF_REQUEST + "/asset/3"), "cloudforce-one-request-asset-get"),
    ("cf-global-key", entry("cloudforce_one", "GET", CF + "/requests/types", headers={"x-auth-email": "a@example.com", "x-auth-key": "<redacted>"}),
     "cloudforce-one-request-types"),
    ("u21-create", entry("unit21", "POST", "/v1/cases/create",
                         {"case_id": "case-1", "title": "Fraud", "start_date": 1588963704, "status": "OPEN", "tags": ["source:ansible"],
                          "entities": ["user-1", "acct:42@bank"], "events": [{"event_id": "txn-1", "event_type": "transaction"}], "alerts": [1]}),
     "create_case"),
    ("u21-update", entry("unit21", "PUT", "/v1/cases/536202/update", {"title": "Updated", "status": "CLOSED", "custom_data": {"k": 1}}), "update_case"),
    ("u21-get", entry("unit21", "GET", "/v1/cases/536202"), "get_case_by_unit21_id"),
    ("u21-list", entry("unit21", "POST", "/v1/cases/list", {"limit": 10, "offset": 1, "statuses": ["OPEN"], "options": {"include_actions": True}}),
     "list_cases"),
    ("u21-link-media-json", entry("unit21", "PUT", "/v1/cases/536202/link-media",
                                  [{"media": "aGVsbG8=", "name": "id.png", "media_type": "IMAGE_ID_CARD_FRONT"}]), "link_media_to_case"),
    ("u21-link-media-form", entry("unit21", "PUT", "/v1/cases/536202/link-media",
                                  form={"document_front": '{"media_type": "IMAGE_ID_CARD_FRONT"}'}, files=["document_front", "selfie"]),
     "link_media_to_case"),
    ("u21-export", entry("unit21", "POST", "/v1/cases/bulk-export", {"case_ids": [1, 2], "filters": {"statuses": ["open"]}, "use_csv": True}),
     "export_cases"),
    ("u21-webhook", entry("unit21", "PUT", "/v1/webhooks/77/update", {"url": "https://example.com/hook"}), "update_webhook"),
]


@pytest.mark.parametrize("record, operation", [v[1:] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_requests_pass(checker, record, operation):
    operation_id, violations = checker.examine(record)[:2]
    assert operation_id == operation
    assert violations == []


@pytest.mark.parametrize("vendor, method, path, operation", [
    ("cloudforce_one", "POST", CF + "/requests/new", "cloudforce-one-request-new"),
    ("cloudforce_one", "GET", CF + "/requests/quota", "cloudforce-one-request-quota"),
    ("cloudforce_one", "GET", CF + "/requests/constants", "cloudforce-one-request-constants"),
    ("cloudforce_one", "POST", CF + "/requests/priority", "cloudforce-one-priority-list"),
    ("cloudforce_one", "GET", CF + "/requests/priority/quota", "cloudforce-one-priority-quota"),
    ("cloudforce_one", "GET", CF + "/requests/priority/" + PRIORITY_ID, "cloudforce-one-priority-get"),
    ("cloudforce_one", "GET", CF + "/requests/" + REQUEST_ID, "cloudforce-one-request-get"),
    # The literal "priority" wins, and that path has no POST: not read as request_id "priority".
    ("cloudforce_one", "POST", CF + "/requests/priority/message", None),
    ("cloudforce_one", "GET", CF + "/requests/priority", None),
    ("unit21", "POST", "/v1/cases/list", "list_cases"),
    ("unit21", "GET", "/v1/cases/list", None),
])
def test_literal_segments_win_over_templates(checker, vendor, method, path, operation):
    route, unused, problem = checker.route(vendor, method, path)
    if operation is None:
        assert problem and problem.startswith("no such operation")
    else:
        assert problem is None and route.methods[method] == operation


# ---------------------------------------------------------------------------
# Each class of violation is caught.

VIOLATIONS = [
    ("unknown-path", entry("falcon", "GET", "/message-center/queries/cases/v2"), "operation", "no such operation"),
    ("missing-base-path", entry("unit21", "POST", "/cases/create", {"case_id": "c"}), "operation", "no such operation"),
    ("method-not-defined", entry("unit21", "DELETE", "/v1/cases/5"), "operation", "DELETE is not defined"),
    ("removed-operation", entry("falcon", "POST", "/message-center/entities/case/v1", {"title": "t"}), "operation", "CreateCase was removed"),
    ("unknown-vendor-path", entry(None, "GET", "/v2/whatever"), "vendor", "matches no vendor API"),
    ("unknown-query", entry("falcon", "GET", "/message-center/entities/case-attachment/v1", query={"id": "a", "ids": "a"}),
     "query", "unknown query parameter 'ids'"),
    ("query-on-op-without-params", entry("cloudforce_one", "GET", CF + "/requests/quota", query={"page": "1"}), "query", "unknown query parameter"),
    ("missing-query", entry("falcon", "GET", "/message-center/queries/case-activities/v1", query={"limit": "5"}),
     "query", "required query parameter 'case_id' is missing"),
    ("ill-typed-query", entry("falcon", "GET", "/message-center/queries/cases/v1", query={"limit": "ten"}), "query", "'ten' is not of type 'integer'"),
    ("bad-enum-query", entry("falcon", "GET", "/message-center/queries/cases/v1", query={"sort": "case.bogus.asc"}), "query", "is not one of"),
    ("repeated-query", entry("falcon", "GET", "/message-center/queries/cases/v1", query={"limit": ["1", "2"]}), "query", "given 2 times"),
    ("path-max-length", entry("cloudforce_one", "GET", "/client/v4/accounts/%sX/cloudforce-one/requests/quota" % ACCOUNT),
     "path", "is too long"),
    ("path-integer", entry("cloudforce_one", "DELETE", CF_REQUEST + "/message/abc"), "path", "'abc' is not of type 'integer'"),
    ("path-uuid-length", entry("cloudforce_one", "GET", CF + "/requests/" + REQUEST_ID + "-0000"), "path", "is too long"),
    ("falcon-no-auth", entry("falcon", "GET", "/message-center/queries/cases/v1", headers={}), "auth", "authorization header"),
    ("falcon-revoke-no-auth", entry("falcon", "POST", "/oauth2/revoke", headers={}, form={"token": "t"}), "auth", "authorization header"),
    ("unit21-no-key", entry("unit21", "GET", "/v1/cases/5", headers={"authorization": "<redacted>"}), "auth", "u21-key header"),
    ("unit21-empty-key", entry("unit21", "GET", "/v1/cases/5", headers={"u21-key": ""}), "auth", "u21-key header"),
    ("cloudflare-half-key", entry("cloudforce_one", "GET", CF + "/requests/types", headers={"x-auth-email": "a@example.com"}),
     "auth", "x-auth-key header"),
    ("wrong-content-type", entry("falcon", "POST", "/message-center/entities/case/v2", form={"title": "t"}), "content-type",
     "application/x-www-form-urlencoded is not accepted"),
    ("token-as-json", entry("falcon", "POST", "/oauth2/token", {"client_id": "a", "client_secret": "b"}, headers={}), "content-type",
     "application/json is not accepted"),
    ("no-content-type", dict(entry("cloudforce_one", "POST", CF + "/requests/new", {"summary": "s"}), content_type=None), "content-type",
     "without a Content-Type"),
    ("missing-body", entry("cloudforce_one", "POST", CF + "/requests/new"), "body", "body is required"),
    ("missing-field-falcon", entry("falcon", "POST", "/message-center/entities/case-activity/v1", {"body": "b", "type": "comment", "user_uuid": "u"}),
     "body", "'case_id' is a required property"),
    ("missing-field-cloudforce", entry("cloudforce_one", "POST", CF + "/requests/priority/new", {"labels": [], "priority": 1, "requirement": "r"}),
     "body", "'tlp' is a required property"),
    ("missing-field-unit21", entry("unit21", "POST", "/v1/cases/list", {"limit": 10}), "body", "'offset' is a required property"),
    ("wrong-type-cloudforce", entry("cloudforce_one", "POST", CF + "/requests", {"page": "1", "per_page": 10}), "body", "'1' is not of type 'integer'"),
    ("wrong-type-unit21", entry("unit21", "POST", "/v1/cases/create", {"case_id": "c", "title": "t", "start_date": "2024-05-01"}),
     "body", "body.start_date: '2024-05-01' is not of type 'integer'"),
    ("wrong-type-falcon", entry("falcon", "POST", "/message-center/entities/cases/GET/v1", {"ids": "c1"}), "body", "is not of type 'array'"),
    ("bad-enum-body", entry("cloudforce_one", "POST", CF + "/requests/new", {"tlp": "purple"}), "body", "body.tlp: 'purple' is not one of"),
    ("unit21-limit-range", entry("unit21", "POST", "/v1/cases/list", {"limit": 51, "offset": 1}), "body", "51 is greater than the maximum of 50"),
    ("date-time-no-offset", entry("cloudforce_one", "POST", CF_REQUEST + "/message", {"page": 1, "per_page": 10, "after": "2024-01-01T00:00:00"}),
     "body", "is not a 'date-time'"),
    ("date-time-spec-example", entry("cloudforce_one", "POST", CF_REQUEST + "/message", {"page": 1, "per_page": 10, "after": "2022-01-01T00:00:Z"}),
     "body", "is not a 'date-time'"),
    ("int32-range", entry("falcon", "POST", "/message-center/aggregates/cases/GET/v1", [{"name": "n", "size": 2 ** 40}]), "body", "is not a 'int32'"),
    ("unknown-form-field", entry("falcon", "POST", "/oauth2/token", headers={}, form={"client_id": "a", "client_secret": "b", "grant_type": "x"}),
     "form", "unknown form field 'grant_type'"),
    ("missing-form-field", entry("falcon", "POST", "/oauth2/token", headers={}, form={"client_id": "a"}), "form",
     "required form field 'client_secret' is missing"),
    ("missing-file-part", entry("falcon", "POST", "/message-center/entities/case-attachment/v1", form={"case_id": "c", "user_uuid": "u"},
                                content_type="multipart/form-data"), "form", "required file part 'file' is missing"),
    ("file-as-text", entry("falcon", "POST", "/message-center/entities/case-attachment/v1", form={"case_id": "c", "user_uuid": "u", "file": "x"},
                           content_type="multipart/form-data"), "form", "'file' must be a file part"),
    ("text-as-file", entry("falcon", "POST", "/message-center/entities/case-attachment/v1", form={"user_uuid": "u"}, files=["file", "case_id"]),
     "form", "'case_id' was sent as a file part"),
    ("json-on-get", entry("cloudforce_one", "GET", CF + "/requests/quota", {"page": 1}), "body", "takes no request body"),
    ("body-on-delete", entry("unit21", "GET", "/v1/cases/5", {"x": 1}), "body", "takes no request body"),
    ("json-error", entry("falcon", "POST", "/message-center/entities/case/v2", json_error="Expecting value: line 1 column 1"), "body",
     "not valid JSON"),
    ("link-media-item-name", entry("unit21", "PUT", "/v1/cases/5/link-media", [{"media": "aGk="}]), "body", "body[0]: 'name' is a required property"),
    ("link-media-object", entry("unit21", "PUT", "/v1/cases/5/link-media", {"media": "aGk=", "name": "a.png"}), "body", "is not of type 'array'"),
    ("link-media-orphan-metadata", entry("unit21", "PUT", "/v1/cases/5/link-media", form={"other": "{}"}, files=["doc"]), "form",
     "'other' has no file part"),
    ("link-media-no-file", entry("unit21", "PUT", "/v1/cases/5/link-media", form={"doc": "{}"}, content_type="multipart/form-data"), "form",
     "no file part"),
    ("link-media-bad-metadata", entry("unit21", "PUT", "/v1/cases/5/link-media", form={"doc": "not json"}, files=["doc"]), "form",
     "metadata for 'doc' is not a JSON object"),
    ("entity-id-characters", entry("unit21", "POST", "/v1/cases/create", {"case_id": "c", "title": "t", "start_date": 1, "entities": ["has space"]}),
     "body", "does not match"),
]


@pytest.mark.parametrize("record, check, fragment", [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS])
def test_violations_are_caught(checker, record, check, fragment):
    violations = checker.check_entry(record)
    assert any(v.check == check and fragment in v.message for v in violations), violations
    assert all(v.seq == record["seq"] and v.method == record["method"] and v.path == record["path"] for v in violations)


def test_violation_names_the_operation(checker):
    (violation,) = checker.check_entry(entry("falcon", "GET", "/message-center/queries/cases/v1", query={"limit": "x"}, seq=42))
    assert (violation.seq, violation.vendor, violation.operation) == (42, "falcon", "QueryCasesIdsByFilter")
    assert str(violation).startswith("seq 42: GET /message-center/queries/cases/v1 [falcon QueryCasesIdsByFilter] query:")


def test_control_entries_are_ignored(checker):
    record = entry("control", "POST", "/_sandbox/reset", {"anything": True})
    assert checker.examine(record) is None
    assert checker.examine(dict(record, vendor=None)) is None


def test_vendor_is_inferred_when_missing(checker):
    operation_id, violations = checker.examine(dict(entry("unit21", "GET", "/v1/cases/5"), vendor=None))[:2]
    assert (operation_id, violations) == ("get_case_by_unit21_id", [])


def test_path_ids_are_checked_tighter_than_the_documents_declare(checker, strict_checker):
    # unit21_id is typed string and request_id has no format in the documents (D8, D9 tighten them).
    for record, wanted in ((entry("unit21", "GET", "/v1/cases/case-A1"), "'case-A1' is not of type 'integer'"),
                           (entry("cloudforce_one", "GET", CF + "/requests/RFI-2022-000001"), "'RFI-2022-000001' is not a 'uuid'"),
                           (entry("cloudforce_one", "GET", CF + "/requests/priority/12"), "'12' is not a 'uuid'")):
        assert [v.check for v in strict_checker.check_entry(record) if v.check != "auth"] == []
        assert any(wanted in m for m in messages(checker.check_entry(record))), record["path"]
    assert checker.check_entry(entry("cloudforce_one", "GET", CF_REQUEST + "/asset/12")) == []   # asset ids are integers


# ---------------------------------------------------------------------------
# Known deviations are tolerated, and only where listed.

PSFALCON_CASE = {"type": "fc:detection-support", "title": "Question", "body": "Please review",
                 "detections": [{"id": "ldt:0123456789abcdef0123456789abcdef:123456"}], "user_uuid": USER_UUID}


def tolerated_by(checker, record):
    violations, tolerances = checker.examine(record)[1:]
    return violations, sorted({t.deviation for t in tolerances})


def test_create_case_v2_sdk_body_is_tolerated(checker, strict_checker):
    record = entry("falcon", "POST", "/message-center/entities/case/v2", PSFALCON_CASE)
    assert tolerated_by(checker, record) == ([], ["D1", "D2"])
    strict = messages(strict_checker.check_entry(record))
    for name in ("incidents", "malware_submission_id", "recon_rule_type", "product", "url"):
        assert any("'%s' is a required property" % name in m for m in strict), strict


def test_create_case_v2_still_requires_the_rest(checker):
    def create(body):
        return messages(checker.check_entry(entry("falcon", "POST", "/message-center/entities/case/v2", body)))

    assert "body: 'title' is a required property" in create({k: v for k, v in PSFALCON_CASE.items() if k != "title"})
    assert "body.detections[0]: 'id' is a required property" in create(dict(PSFALCON_CASE, detections=[{"url": "https://x"}]))


def test_aggregate_cases_partial_body_is_tolerated(checker, strict_checker):
    record = entry("falcon", "POST", "/message-center/aggregates/cases/GET/v1", [{"field": "case.status", "name": "status", "type": "terms"}])
    assert tolerated_by(checker, record) == ([], ["D4"])
    assert strict_checker.check_entry(record)
    assert checker.check_entry(dict(record, json={"field": "x"}))   # still has to be an array


def test_offset_accepts_integer_and_string_but_limit_stays_integer(checker, strict_checker):
    for path, extra in (("/message-center/queries/cases/v1", {}), ("/message-center/queries/case-activities/v1", {"case_id": "c"})):
        assert checker.check_entry(entry("falcon", "GET", path, query=dict(extra, offset="20"))) == []
        assert checker.check_entry(entry("falcon", "GET", path, query=dict(extra, offset="next-page"))) == []
        assert strict_checker.check_entry(entry("falcon", "GET", path, query=dict(extra, offset="next-page")))
        assert checker.check_entry(entry("falcon", "GET", path, query=dict(extra, limit="next-page")))


def test_cloudflare_bearer_token_is_tolerated_only_for_cloudforce(checker, strict_checker):
    record = entry("cloudforce_one", "GET", CF + "/requests/types")
    assert tolerated_by(checker, record) == ([], ["D7"])
    assert messages(strict_checker.check_entry(record)) == ["no credentials: expected x-auth-email header + x-auth-key header"]
    falcon = entry("falcon", "GET", "/message-center/queries/cases/v1", headers={"x-auth-email": "a@b.c", "x-auth-key": "<redacted>"})
    assert [v.check for v in checker.check_entry(falcon)] == ["auth"]


def test_unit21_created_at_is_tolerated_only_for_create(checker, strict_checker):
    record = entry("unit21", "POST", "/v1/cases/create", {"case_id": "c", "title": "t", "start_date": 1, "entities": ["user-1"]})
    assert tolerated_by(checker, record) == ([], ["D10", "D11"])
    strict = messages(strict_checker.check_entry(record))
    assert "body: 'created_at' is a required property" in strict
    assert any("'user-1' does not match" in m for m in strict)
    no_start = {"case_id": "c", "title": "t"}
    assert "body: 'start_date' is a required property" in messages(checker.check_entry(entry("unit21", "POST", "/v1/cases/create", no_start)))


def test_unit21_link_media_multipart_is_accepted_only_through_the_table(checker, strict_checker):
    record = entry("unit21", "PUT", "/v1/cases/5/link-media", form={"doc": "{}"}, files=["doc"])
    assert tolerated_by(checker, record) == ([], ["D13"])
    assert [v.check for v in strict_checker.check_entry(record)] == ["content-type"]
    # The document's oneOf lets any JSON object through; the corrected body does not.
    assert strict_checker.check_entry(entry("unit21", "PUT", "/v1/cases/5/link-media", {"anything": 1})) == []


def test_deviation_table_rows_point_at_real_places(checker):
    ids = {vendor: {op.operation_id for op in checker.document(vendor).operations.values()} for vendor in oc.VENDORS}
    for index, dev in enumerate(oc.KNOWN_SPEC_DEVIATIONS):
        assert dev.operation == "*" or dev.operation in ids[dev.vendor], dev
        assert dev.reason and (".md" in dev.reason or "openapi.json" in dev.reason), dev
        if dev.fix[0] == "remove_items":
            assert set(dev.fix[1]) <= set(oc._get(checker._raw[dev.vendor], dev.target)), dev
        elif dev.fix[0] == "set":
            oc._get(checker._raw[dev.vendor], dev.target.rsplit("/", 1)[0])   # raises if the pointer is stale
        assert checker.document(dev.vendor, (index,)) is not None


def test_unknown_fix_is_rejected():
    bad = oc.Deviation("unit21", "*", "/components/schemas/Cases/required", "test", ("rewrite", []))
    with pytest.raises(ValueError):
        oc.Checker(API_DIR, deviations=[bad]).document("unit21", (0,))


def test_oas_nullable_and_read_only_conversions():
    raw = {"openapi": "3.0.3", "paths": {}, "components": {"schemas": {
        "Id": {"type": "string", "readOnly": True},
        "Thing": {"type": "object", "required": ["id", "name"],
                  "properties": {"id": {"$ref": "#/components/schemas/Id"}, "name": {"type": "string", "nullable": True}}}}}}
    api = oc.ApiDocument("synthetic", raw, [])
    pointer = "/components/schemas/Thing"
    # readOnly: not required in a request (OAS 3.0), and refused when sent.
    assert api.errors(pointer, {"name": None}, "body", oc.BodyValidator) == []
    assert api.errors(pointer, {"id": "x", "name": "n"}, "body", oc.BodyValidator) == ["body.id: readOnly value 'x' must not be sent in a request"]
    assert api.errors(pointer, {"name": 5}, "body", oc.BodyValidator) == ["body.name: 5 is not of type 'string', 'null'"]


# ---------------------------------------------------------------------------
# Logs, reports and the skip path.

def test_check_log_counts_per_vendor_and_operation(checker):
    log = [
        entry("falcon", "POST", "/oauth2/token", headers={}, form={"client_id": "a", "client_secret": "b"}, seq=1),
        entry("falcon", "GET", "/message-center/queries/cases/v1", query={"limit": "x"}, seq=2),
        entry("falcon", "GET", "/message-center/queries/cases/v1", seq=3),
        entry("cloudforce_one", "GET", CF + "/requests/quota", seq=4),
        entry("unit21", "GET", "/v1/nowhere", seq=5),
        entry("control", "GET", "/_sandbox/requests", seq=6),
    ]
    report = checker.check_log(log)
    counts = {key: (s.requests, s.violations, s.tolerated) for key, s in report.operations.items()}
    assert counts == {
        ("falcon", "oauth2AccessToken"): (1, 0, 0),
        ("falcon", "QueryCasesIdsByFilter"): (2, 1, 0),
        ("cloudforce_one", "cloudforce-one-request-quota"): (1, 0, 1),
        ("unit21", oc.UNMATCHED): (1, 1, 0),
    }
    assert report.ignored == 1 and report.vendor_requests() == 5 and report.requests_for("unit21") == 1
    assert [v.seq for v in report.violations] == [2, 5] and not report.ok
    assert report.operations[("falcon", "QueryCasesIdsByFilter")].template == "/message-center/queries/cases/v1"


def test_load_log_formats(tmp_path):
    records = [entry("unit21", "GET", "/v1/cases/1", seq=1), entry("unit21", "GET", "/v1/cases/2", seq=2)]
    as_object = tmp_path / "log.json"
    as_object.write_text(json.dumps({"requests": records}))
    as_lines = tmp_path / "log.jsonl"
    as_lines.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert oc.load_log(as_object) == records == oc.load_log(as_lines)
    assert oc.load_log(empty) == []


def test_missing_api_dir_raises_the_skip_message(tmp_path):
    with pytest.raises(oc.ApiDirMissing, match="conformance needs the team's API documents"):
        oc.Checker(tmp_path / "absent")


# ---------------------------------------------------------------------------
# The command line.

CLI = HERE / "check_conformance.py"


def run_cli(tmp_path, records, *extra, api_dir=API_DIR):
    log = tmp_path / "requests.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    return subprocess.run([sys.executable, str(CLI), "--log", str(log), "--api-dir", str(api_dir), *extra],
                          capture_output=True, text=True, timeout=120, check=False)


GOOD_LOG = [
    entry("control", "POST", "/_sandbox/reset", seq=1),
    entry("falcon", "POST", "/oauth2/token", headers={}, form={"client_id": "a", "client_secret": "b"}, seq=2),
    entry("cloudforce_one", "POST", CF + "/requests/new", {"summary": "s"}, seq=3),
    entry("unit21", "GET", "/v1/cases/1", seq=4),
]


def test_cli_passes_a_conforming_log(tmp_path):
    result = run_cli(tmp_path, GOOD_LOG, "--require-vendor", "falcon", "--require-vendor", "unit21")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RESULT: PASS" in result.stdout
    assert "oauth2AccessToken" in result.stdout and "cloudforce-one-request-new" in result.stdout
    assert "1 sandbox control requests ignored" in result.stdout
    assert "D7 x1" in result.stdout


def test_cli_reports_violations(tmp_path):
    bad = entry("falcon", "GET", "/message-center/queries/cases/v1", query={"sort": "bogus"}, seq=7)
    result = run_cli(tmp_path, GOOD_LOG + [bad])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "seq 7: GET /message-center/queries/cases/v1 [falcon QueryCasesIdsByFilter] query: query parameter 'sort': 'bogus' is not one of" \
        in result.stdout
    assert "RESULT: FAIL (1 violations)" in result.stdout


@pytest.mark.parametrize("records, extra, reason", [
    ([], (), "no vendor requests"),
    ([entry("control", "GET", "/_sandbox/requests")], (), "no vendor requests"),
    (GOOD_LOG[:2], ("--require-vendor", "unit21"), "no unit21 requests"),
])
def test_cli_refuses_an_empty_or_incomplete_log(tmp_path, records, extra, reason):
    result = run_cli(tmp_path, records, *extra)
    assert result.returncode == 2, result.stdout + result.stderr
    assert reason in result.stdout and "RESULT: FAIL (incomplete log)" in result.stdout


def test_cli_rejects_an_unreadable_log(tmp_path):
    log = tmp_path / "garbage.jsonl"
    log.write_text("{not json\n")
    result = subprocess.run([sys.executable, str(CLI), "--log", str(log), "--api-dir", str(API_DIR)], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "cannot read the request log" in result.stderr


def test_cli_skips_without_api_documents(tmp_path):
    result = run_cli(tmp_path, GOOD_LOG, api_dir=tmp_path / "no-such-dir")
    assert result.returncode == 3
    assert oc.SKIP_MESSAGE in result.stderr
