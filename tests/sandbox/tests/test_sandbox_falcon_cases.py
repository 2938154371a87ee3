"""Message Center cases and activities: queries, paging, entities, creation and validation."""

import re

import pytest
import requests

from sandbox_helpers import USER_UUID, create_case, seed_case  # pylint: disable=import-error

QUERY = "/message-center/queries/cases/v1"
GET = "/message-center/entities/cases/GET/v1"
CREATE = "/message-center/entities/case/v2"
ADD_ACTIVITY = "/message-center/entities/case-activity/v1"
QUERY_ACTIVITIES = "/message-center/queries/case-activities/v1"
GET_ACTIVITIES = "/message-center/entities/case-activities/GET/v1"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def query(url, auth, path=QUERY, **params):
    return requests.get(url + path, params=params, headers=auth, timeout=10)


def error_message(response, status=400):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["meta"]["trace_id"] == response.headers["X-Cs-Traceid"]
    assert len(body["errors"]) == 1 and body["errors"][0]["code"] == status
    return body["errors"][0]["message"]


def test_create_case_and_read_it_back(url, auth):
    detections = [{"id": "ldt:0123456789abcdef0123456789abcdef:123456", "product": "epp", "url": "https://x/1"}]
    response = requests.post(url + CREATE, headers=auth, timeout=10, json={
        "title": "Question", "body": "Please review", "type": "fc:detection-support", "user_uuid": USER_UUID,
        "detections": detections, "incidents": [{"id": "inc:1:2"}], "malware_submission_id": "m-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == [] and body["meta"]["writes"] == {"resources_affected": 1}
    case_id = body["resources"][0]["id"]
    assert body["resources"][0]["path"]
    case = requests.post(url + GET, json={"ids": [case_id]}, headers=auth, timeout=10).json()["resources"][0]
    assert case["id"] == case_id and re.match(r"^[0-9a-f]{32}$", case["cid"])
    assert case["key"].startswith("CS-") and case["status"] == "2"
    assert case["title"] == "Question" and case["body"] == "Please review" and case["type"] == "fc:detection-support"
    assert case["detections"] == [{"id": detections[0]["id"], "url": "https://x/1"}]
    assert case["incidents"] == [{"id": "inc:1:2", "url": ""}]
    assert TIMESTAMP.match(case["created_time"]) and case["last_modified_time"] == case["created_time"]
    assert case["assigner"] == {"display_name": "", "first_name": "", "last_name": "", "uid": "", "uuid": "",
                                "email_address": ""}
    for name in ("attachments", "hosts", "aids", "ip_addresses"):
        assert case[name] == []
    assert case["malware_submission_id"] == "m-1" and case["recon_rule_type"] == ""
    assert case["malware_submission_url"] == case["rfi_id"] == case["case_type"] == ""


@pytest.mark.parametrize("body, fragment", [
    ([], "JSON object"),
    ({"body": "b", "type": "fc:contact"}, "title"),
    ({"title": "", "body": "b", "type": "fc:contact"}, "title"),
    ({"title": "t", "type": "fc:contact"}, "body"),
    ({"title": "t", "body": "b"}, "type"),
    ({"title": "t", "body": "b", "type": "contact"}, "type"),
    ({"title": "t", "body": "b", "type": "fc:Contact"}, "type"),
    ({"title": "t", "body": "b", "type": "fc:contact", "user_uuid": "someone@example.com"}, "user_uuid"),
    ({"title": "t", "body": "b", "type": "fc:contact", "detections": [{"url": "x"}]}, "detections[0]"),
    ({"title": "t", "body": "b", "type": "fc:contact", "detections": "ldt:1"}, "detections"),
    ({"title": "t", "body": "b", "type": "fc:contact", "incidents": [{"id": 5}]}, "incidents[0]"),
    ({"title": "t", "body": "b", "type": "fc:contact", "recon_rule_type": 3}, "recon_rule_type"),
])
def test_create_case_validation(url, auth, body, fragment):
    response = requests.post(url + CREATE, json=body, headers=auth, timeout=10)
    assert fragment in error_message(response)


def test_create_case_rejects_bad_json(url, auth):
    response = requests.post(url + CREATE, data="{nope", headers=dict(auth, **{"Content-Type": "application/json"}),
                             timeout=10)
    assert "invalid JSON" in error_message(response)


def test_other_fc_types_are_accepted(url, auth):
    create_case(url, auth, type="fc:malware-submission")


def test_get_cases_reports_unknown_ids(url, auth):
    first, second = create_case(url, auth, title="one"), create_case(url, auth, title="two")
    response = requests.post(url + GET, json={"ids": [second, "missing", first]}, headers=auth, timeout=10)
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["resources"]] == [second, first]
    assert response.json()["errors"] == [{"code": 404, "message": "case not found", "id": "missing"}]


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": "abc"}, {"ids": [1]}, ["abc"]])
def test_get_cases_validation(url, auth, body):
    assert "ids" in error_message(requests.post(url + GET, json=body, headers=auth, timeout=10))


def test_paging(url, auth):
    ids = [create_case(url, auth, title="case %d" % i) for i in range(5)]
    body = query(url, auth).json()
    assert body["resources"] == ids
    assert body["meta"]["pagination"] == {"offset": 0, "limit": 100, "total": 5}
    body = query(url, auth, limit=2, offset="2").json()
    assert body["resources"] == ids[2:4]
    assert body["meta"]["pagination"] == {"offset": 2, "limit": 2, "total": 5}
    body = query(url, auth, limit=500, offset=10).json()
    assert body["resources"] == [] and body["meta"]["pagination"]["total"] == 5


@pytest.mark.parametrize("params, fragment", [
    ({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"limit": "ten"}, "limit"),
    ({"offset": -1}, "offset"), ({"offset": "x"}, "offset"),
    ({"sort": "case.title.asc"}, "case.created_time.asc"),
    ({"filter": "case.colour:'red'"}, "case.colour"),
    ({"filter": "case.status:'1"}, "position"),
])
def test_query_validation(url, auth, params, fragment):
    assert fragment in error_message(query(url, auth, **params))


def test_sort_and_filter(url, auth):
    old = seed_case(url, title="VPN down", status="1", created_time="2026-01-01T00:00:00.000000Z", hosts=["web-01"])
    new = seed_case(url, title="Mail slow", status="3", created_time="2026-02-01T00:00:00.000000Z",
                    assigner={"uid": "analyst@example.com"})
    mid = seed_case(url, title="VPN again", status="2", created_time="2026-01-15T00:00:00.000000Z")
    assert query(url, auth, sort="case.created_time.desc").json()["resources"] == [new["id"], mid["id"], old["id"]]
    assert query(url, auth, sort="case.status.asc").json()["resources"] == [old["id"], mid["id"], new["id"]]
    checks = {
        "case.title:~'vpn'": [old["id"], mid["id"]],
        "case.title:~'vpn'+case.status:'2'": [mid["id"]],
        "case.status:['1','3']": [old["id"], new["id"]],
        "case.created_time:>='2026-01-10T00:00:00Z'": [new["id"], mid["id"]],
        "case.hosts:'web-*'": [old["id"]],
        "case.assigner.uid:'analyst@example.com'": [new["id"]],
        "case.id:'%s'" % mid["id"]: [mid["id"]],
        "_all:'mail'": [new["id"]],
    }
    for text, expected in checks.items():
        assert query(url, auth, filter=text, sort="case.created_time.desc").json()["resources"] == \
            sorted(expected, key=[new["id"], mid["id"], old["id"]].index), text


def test_add_and_list_activities(url, auth):
    case_id = create_case(url, auth)
    before = requests.post(url + GET, json={"ids": [case_id]}, headers=auth, timeout=10).json()["resources"][0]
    response = requests.post(url + ADD_ACTIVITY, headers=auth, timeout=10,
                             json={"body": "Any news?", "case_id": case_id, "type": "comment", "user_uuid": USER_UUID})
    assert response.status_code == 200
    assert response.json()["errors"] == [] and "resources" not in response.json()
    ids = query(url, auth, QUERY_ACTIVITIES, case_id=case_id).json()
    assert ids["meta"]["pagination"]["total"] == 1
    activity = requests.post(url + GET_ACTIVITIES, json={"ids": ids["resources"]}, headers=auth,
                             timeout=10).json()["resources"][0]
    assert activity["case_id"] == case_id and activity["body"] == "Any news?" and activity["type"] == "comment"
    assert activity["created_by"]["uuid"] == USER_UUID and TIMESTAMP.match(activity["created_time"])
    assert activity["cid"] == before["cid"] and activity["last_modified_time"]
    after = requests.post(url + GET, json={"ids": [case_id]}, headers=auth, timeout=10).json()["resources"][0]
    assert after["last_modified_time"] >= before["last_modified_time"]
    assert after["last_modified_time"] == activity["created_time"]
    missing = requests.post(url + GET_ACTIVITIES, json={"ids": ["nope"]}, headers=auth, timeout=10).json()
    assert missing["resources"] == [] and missing["errors"] == [{"code": 404, "message": "activity not found", "id": "nope"}]


@pytest.mark.parametrize("change, fragment", [
    ({"type": "status_change"}, "comment"),
    ({"type": "Comment"}, "comment"),
    ({"body": ""}, "body"),
    ({"user_uuid": "me"}, "user_uuid"),
    ({"case_id": "unknown"}, "not found"),
    ({"case_id": None}, "case_id"),
])
def test_add_activity_validation(url, auth, change, fragment):
    body = {"body": "text", "case_id": create_case(url, auth), "type": "comment", "user_uuid": USER_UUID}
    body.update(change)
    body = dict((k, v) for k, v in body.items() if v is not None)
    assert fragment in error_message(requests.post(url + ADD_ACTIVITY, json=body, headers=auth, timeout=10))


def test_control_adds_activities_in_bulk(url, auth):
    case_id = seed_case(url)["id"]
    response = requests.post(url + "/_sandbox/falcon/cases/%s/activities" % case_id, timeout=10,
                             json={"count": 3, "template": {"type": "comment", "body": "note {n}"}})
    assert response.status_code == 201
    assert [a["body"] for a in response.json()["activities"]] == ["note 1", "note 2", "note 3"]
    assert query(url, auth, QUERY_ACTIVITIES, case_id=case_id).json()["meta"]["pagination"]["total"] == 3
    refused = requests.post(url + "/_sandbox/falcon/cases/%s/activities" % case_id, timeout=10,
                            json={"count": 0, "template": {}})
    assert refused.status_code == 400 and "count" in refused.json()["error"]


def test_query_activities_sort_filter_and_paging(url, auth):
    case_id = seed_case(url)["id"]
    other = seed_case(url)["id"]
    made = []
    for index, (kind, when) in enumerate([("comment", "2026-01-03"), ("status_change", "2026-01-01"),
                                          ("comment", "2026-01-02")]):
        response = requests.post(url + "/_sandbox/falcon/cases/%s/activities" % case_id, timeout=10,
                                 json={"type": kind, "body": "b%d" % index, "created_time": when + "T00:00:00.000000Z"})
        made.append(response.json()["id"])
    requests.post(url + "/_sandbox/falcon/cases/%s/activities" % other, json={"body": "elsewhere"}, timeout=10)
    assert query(url, auth, QUERY_ACTIVITIES, case_id=case_id).json()["resources"] == made
    by_time = query(url, auth, QUERY_ACTIVITIES, case_id=case_id, sort="activity.created_time.asc").json()
    assert by_time["resources"] == [made[1], made[2], made[0]]
    comments = query(url, auth, QUERY_ACTIVITIES, case_id=case_id, filter="activity.type:'comment'").json()
    assert comments["resources"] == [made[0], made[2]]
    recent = query(url, auth, QUERY_ACTIVITIES, case_id=case_id, filter="activity.created_time:>'2026-01-01T12:00:00Z'",
                   sort="activity.created_time.desc", limit=1, offset=1).json()
    assert recent["resources"] == [made[2]]
    assert recent["meta"]["pagination"] == {"offset": 1, "limit": 1, "total": 2}
    assert "case_id" in error_message(query(url, auth, QUERY_ACTIVITIES))
    assert "activity.type.asc" in error_message(query(url, auth, QUERY_ACTIVITIES, case_id=case_id, sort="case.id.asc"))
    assert "activity.body" in error_message(query(url, auth, QUERY_ACTIVITIES, case_id=case_id, filter="activity.body:'x'"))
    assert query(url, auth, QUERY_ACTIVITIES, case_id="unknown").json()["resources"] == []


def test_activity_body_filter_on_cases(url, auth):
    talked = seed_case(url)["id"]
    seed_case(url)
    requests.post(url + "/_sandbox/falcon/cases/%s/activities" % talked,
                  json={"type": "comment", "body": "Reboot fixed it", "created_by": USER_UUID}, timeout=10)
    assert query(url, auth, filter="activity.body:~'reboot'").json()["resources"] == [talked]


def test_control_routes_update_and_list(url, auth):
    case = seed_case(url, status="1", hosts=["h1"], assigner={"display_name": "Ann"})
    assert case["assigner"]["display_name"] == "Ann" and case["assigner"]["uid"] == ""
    response = requests.patch(url + "/_sandbox/falcon/cases/" + case["id"], json={"status": "3"}, timeout=10)
    assert response.status_code == 200 and response.json()["status"] == "3"
    assert requests.patch(url + "/_sandbox/falcon/cases/nope", json={"status": "3"}, timeout=10).status_code == 404
    assert requests.patch(url + "/_sandbox/falcon/cases/" + case["id"], json={"colour": "x"}, timeout=10).status_code == 400
    assert query(url, auth, filter="case.status:'3'").json()["resources"] == [case["id"]]
    listed = requests.get(url + "/_sandbox/falcon/cases", timeout=10).json()
    assert [c["id"] for c in listed["cases"]] == [case["id"]]


def test_unknown_and_removed_routes_are_falcon_404s(url, auth):
    for method, path in (("POST", "/message-center/entities/case/v1"), ("PATCH", "/message-center/entities/case/v1"),
                         ("GET", "/message-center/nothing")):
        response = requests.request(method, url + path, json={}, headers=auth, timeout=10)
        assert error_message(response, 404) == "Not Found"


def test_wrong_method_on_a_served_path_is_405(url, auth):
    """FIDELITY.md, Falcon F4: the gateway answers 405 (falconpy's tests), with the methods the path takes."""
    attachment = "/message-center/entities/case-attachment/v1"
    for method, path, allowed in (("GET", CREATE, "POST"), ("DELETE", attachment, "GET, POST"),
                                  ("GET", "/oauth2/token", "POST")):
        response = requests.request(method, url + path, json={}, headers=auth, timeout=10)
        assert error_message(response, 405) == "Method Not Allowed"
        assert response.headers["Allow"] == allowed
    logged = requests.get(url + "/_sandbox/requests", timeout=10).json()["requests"]
    assert [entry["status"] for entry in logged if entry["vendor"] == "falcon"][-3:] == [405, 405, 405]


def set_variants(url, **variants):
    response = requests.post(url + "/_sandbox/variants", json=variants, timeout=10)
    assert response.status_code == 200, response.text


def test_colon_is_a_partial_match_by_default_and_exact_under_the_variant(url, auth):
    wanted = create_case(url, auth, title="Weekly VPN questions", body="b", type="fc:contact")
    create_case(url, auth, title="Weekly VPN questions (2)", body="b", type="fc:contact")
    partial = query(url, auth, filter="case.title:'weekly vpn questions'").json()["resources"]
    assert len(partial) == 2
    assert query(url, auth, filter="case.title:['Weekly VPN questions']").json()["resources"] == [wanted]
    set_variants(url, SANDBOX_FALCON_FQL_MATCH="exact")
    assert query(url, auth, filter="case.title:'weekly vpn questions'").json()["resources"] == []
    assert query(url, auth, filter="case.title:'Weekly VPN questions'").json()["resources"] == [wanted]
    assert query(url, auth, filter="case.title:['Weekly VPN questions']").json()["resources"] == [wanted]


def test_title_prefix_variant_stores_the_customer_prefix(url, auth):
    """FIDELITY.md, Falcon F2: titles stored as '<customer> | <title>' under the variant."""
    set_variants(url, SANDBOX_FALCON_TITLE_PREFIX="ACME Corp")
    case_id = create_case(url, auth, title="Question", body="b", type="fc:contact")
    stored = requests.post(url + GET, json={"ids": [case_id]}, headers=auth, timeout=10).json()["resources"][0]
    assert stored["title"] == "ACME Corp | Question"
    seeded = seed_case(url, title="Seeded")
    assert seeded["title"] == "Seeded"      # the control API stores what it is given


@pytest.mark.parametrize("variant, status", [("sdk", 200), ("spec", 400)])
def test_create_required_fields_variant(url, auth, variant, status):
    """FIDELITY.md, Falcon F3: 'spec' enforces CaseCreationRequestV2's required keys; empty values do."""
    set_variants(url, SANDBOX_FALCON_CREATE_REQUIRED=variant)
    sdk_body = {"title": "t", "body": "b", "type": "fc:contact"}
    response = requests.post(url + CREATE, json=sdk_body, headers=auth, timeout=10)
    assert response.status_code == status, response.text
    if status == 400:
        assert error_message(response) == ("missing required field(s): detections, incidents, malware_submission_id, "
                                           "recon_rule_type")
    full = dict(sdk_body, detections=[], incidents=[], malware_submission_id="", recon_rule_type="")
    assert requests.post(url + CREATE, json=full, headers=auth, timeout=10).status_code == 200


def test_control_bulk_create_numbers_the_cases(sandbox, url):
    created = requests.post(url + "/_sandbox/falcon/cases", json={"count": 3, "template": {"title": "bulk-{n}", "status": "1"}},
                            timeout=10)
    assert created.status_code == 201
    assert [c["title"] for c in created.json()["cases"]] == ["bulk-1", "bulk-2", "bulk-3"]
    assert all(c["status"] == "1" for c in created.json()["cases"])
    refused = requests.post(url + "/_sandbox/falcon/cases", json={"count": 0}, timeout=10)
    assert refused.status_code == 400
