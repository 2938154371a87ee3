"""The vendors' own SDKs work against the sandbox unchanged, but for the base URL.

falconpy (CrowdStrike) and the cloudflare package are what many users already
run; if they could not talk to the sandbox, the sandbox would not be the API.
Unit21 publishes no official SDK.
"""

import cloudflare
from falconpy import MessageCenter

from sandbox_helpers import CONFIG, USER_UUID  # pylint: disable=import-error


def test_falconpy_message_center_round_trip(url):
    center = MessageCenter(client_id=CONFIG["SANDBOX_FALCON_CLIENT_ID"], client_secret=CONFIG["SANDBOX_FALCON_CLIENT_SECRET"],
                           base_url=url)
    created = center.create_case_v2(content="Sensor question", title="SDK case", type="fc:contact", user_uuid=USER_UUID)
    assert created["status_code"] == 200, created
    case_id = created["body"]["resources"][0]["id"]

    assert center.query_cases(filter="case.title:'SDK case'", sort="case.created_time.desc")["body"]["resources"] == [case_id]
    assert center.get_cases(ids=[case_id])["body"]["resources"][0]["title"] == "SDK case"

    comment = center.add_case_activity(case_id=case_id, content="any update?", user_uuid=USER_UUID, activity_type="comment")
    assert comment["status_code"] == 200 and comment["body"]["errors"] == []
    activity_ids = center.query_activities(case_id=case_id)["body"]["resources"]
    assert center.get_case_activity(ids=activity_ids)["body"]["resources"][0]["body"] == "any update?"

    uploaded = center.add_case_attachment(case_id=case_id, user_uuid=USER_UUID, file_data=b"%PDF-1.4 evidence", file_name="evidence.pdf")
    assert uploaded["status_code"] == 200, uploaded
    attachment_id = uploaded["body"]["resources"][0]["id"]
    assert center.download_case_attachment(id=attachment_id) == b"%PDF-1.4 evidence"

    aggregated = center.aggregate_cases(body=[{"field": "type", "name": "types", "type": "terms", "size": 10}])
    assert aggregated["body"]["resources"][0]["buckets"] == [{"label": "fc:contact", "count": 1}]


def test_cloudflare_sdk_requests_and_messages(url):
    client = cloudflare.Cloudflare(api_token=CONFIG["SANDBOX_CLOUDFLARE_API_TOKEN"], base_url=url + "/client/v4", max_retries=0)
    account = CONFIG["SANDBOX_CLOUDFLARE_ACCOUNT_ID"]
    requests_api = client.cloudforce_one.requests

    created = requests_api.create(account_id=account, content="Which regions?", summary="DoS attack",
                                  request_type="Victomology", priority="routine", tlp="clear")
    assert created.status == "open"
    assert [r.summary for r in requests_api.list(account_id=account, page=1, per_page=10)] == ["DoS attack"]
    assert requests_api.update(request_id=created.id, account_id=account, summary="DoS attack (2)").summary == "DoS attack (2)"
    assert requests_api.quota(account_id=account).quota == 120
    assert "Victomology" in list(requests_api.types(account_id=account))

    message = requests_api.message.create(request_id=created.id, account_id=account, content="Follow-up question")
    assert isinstance(message.id, int)
    listed = requests_api.message.get(request_id=created.id, account_id=account, page=1, per_page=10)
    assert [m.content for m in listed] == ["Follow-up question"]
    assert requests_api.message.update(message.id, request_id=created.id, account_id=account, content="Edited").content == "Edited"
    assert requests_api.message.delete(message.id, request_id=created.id, account_id=account).success
    assert requests_api.delete(request_id=created.id, account_id=account).success
