# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The polling event sources (Falcon Message Center, Cloudforce One) against a sandbox of their own.

Each test drives the plugin's main() with a real queue, reads the sandbox's request log to count calls,
and plays the vendor through the sandbox's control routes.
"""

import asyncio
import datetime
import json
import logging
import os
import sys
import time

import pytest

from eda_helpers import call
from polling_helpers import REPO, Sandbox, load_source

sys.path.insert(0, os.path.join(REPO, "tools"))
from sandbox_process import connection_env, start_sandbox  # noqa: E402  pylint: disable=wrong-import-position,import-error

falcon_source = load_source("falcon_message_center")
cloudforce_source = load_source("cloudforce_one")

CROWDSTRIKE = {"uuid": "c5c5c5c5-0000-4000-8000-000000000001", "email": "support@crowdstrike.com",
               "display_name": "CrowdStrike Support"}
OUR_UUID = "0f6a1b2c-3d4e-4f60-8182-93a4b5c6d7e8"
TOKEN_PATH = "/oauth2/token"
QUERY_CASES = "/message-center/queries/cases/v1"


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(sys.executable) as process:
        yield Sandbox(process.url), connection_env(process.url)


@pytest.fixture
def box(sandbox, tmp_path):
    boxed, env = sandbox
    boxed.control("POST", "/_sandbox/reset")
    boxed.env = env
    boxed.state_file = str(tmp_path / "cursor.json")
    return boxed


def now_iso(offset=0.0):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run(coroutine, timeout=120):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


async def collect(source, args, polls, queue=None):
    """Run the source for ``polls`` polls; the events it put on the queue."""
    queue = queue or asyncio.Queue()
    await source.main(queue, dict(args, max_polls=polls))
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


def changes(events):
    return sorted((e["meta"]["change"], e["meta"].get("activity_id") or e["meta"].get("message_id")) for e in events)


# -- Falcon ---------------------------------------------------------------------------------------------------------
def falcon_args(box, **extra):
    args = {"falcon_client_id": box.env["FALCON_CLIENT_ID"], "falcon_client_secret": box.env["FALCON_CLIENT_SECRET"],
            "falcon_base_url": box.url, "poll_interval": 0.1, "lookback": 2, "state_file": box.state_file,
            "our_authors": [OUR_UUID], "max_retries": 2, "retry_max_time": 10}
    args.update(extra)
    return args


def new_case(box, **fields):
    return box.control("POST", "/_sandbox/falcon/cases", dict({"title": "t", "body": "b", "type": "fc:detection-support"},
                                                              **fields))


def comment(box, case_id, body, author=None, **fields):
    return box.control("POST", "/_sandbox/falcon/cases/%s/activities" % case_id,
                       dict({"type": "comment", "body": body, "created_by": author or CROWDSTRIKE}, **fields))


def test_falcon_first_start_reports_nothing_that_happened_before_it(box):
    case = new_case(box)
    comment(box, case["id"], "before the start")
    assert run(collect(falcon_source, falcon_args(box), 2)) == []
    with open(box.state_file) as handle:
        state = json.load(handle)
    assert state["primed"] and state["statuses"] == {case["id"]: "2"}


def test_falcon_start_at_a_past_time_reports_what_changed_since(box):
    start = now_iso(-1)
    # Opened by falcon_detection_escalation with a Unit21 case: the link line, then the case module's reference line.
    case = new_case(box, body="Please look.\n\ncaseops.desk unit21 case: 4711\n\ncaseops.desk case reference: " + "0" * 32)
    activity = comment(box, case["id"], "a reply")
    events = run(collect(falcon_source, falcon_args(box, start_at=start), 1))
    assert changes(events) == sorted([("case_opened", None), ("comment", activity["id"])])
    assert [event["falcon"]["unit21_id"] for event in events] == [4711, 4711]


def test_falcon_emits_each_change_once_and_not_our_own(box):
    case = new_case(box)
    assert run(collect(falcon_source, falcon_args(box), 1)) == []
    time.sleep(0.01)
    opened = new_case(box)
    reply = comment(box, case["id"], "CrowdStrike looked at it")
    comment(box, case["id"], "our own note", author=OUR_UUID)
    box.control("PATCH", "/_sandbox/falcon/cases/%s" % case["id"], {"status": "3"})
    attachment = {"id": "a" * 32, "name": "report.pdf", "mime_type": "application/pdf", "size": 10,
                  "created_by": CROWDSTRIKE["uuid"], "created_time": now_iso()}
    ours = dict(attachment, id="b" * 32, created_by=OUR_UUID)
    box.control("PATCH", "/_sandbox/falcon/cases/%s" % opened["id"], {"attachments": [attachment, ours]})
    events = run(collect(falcon_source, falcon_args(box), 3))
    assert changes(events) == sorted([("case_opened", None), ("comment", reply["id"]), ("status_changed", None),
                                      ("attachment", attachment["id"])])
    by_change = dict((e["meta"]["change"], e) for e in events)
    assert by_change["status_changed"]["falcon"]["previous_status"] == "2"
    assert by_change["status_changed"]["falcon"]["case"]["status"] == "3"
    assert by_change["comment"]["falcon"]["activity"]["body"] == "CrowdStrike looked at it"
    assert by_change["comment"]["meta"]["case_id"] == case["id"]
    assert by_change["comment"]["falcon"]["unit21_id"] is None
    assert set(by_change["comment"]["meta"]) == {"change", "case_id", "activity_id", "received_at"}
    # A restart with the same cursor: nothing again.
    assert run(collect(falcon_source, falcon_args(box), 2)) == []


def test_falcon_equal_timestamps_across_overlapping_polls(box):
    case = new_case(box)
    run(collect(falcon_source, falcon_args(box), 1))
    stamp = now_iso()
    first = [comment(box, case["id"], "reply %d" % n, created_time=stamp)["id"] for n in range(3)]
    events = run(collect(falcon_source, falcon_args(box, lookback=30), 1))
    assert sorted(e["meta"]["activity_id"] for e in events) == sorted(first)
    late = comment(box, case["id"], "same moment, seen later", created_time=stamp)
    events = run(collect(falcon_source, falcon_args(box, lookback=30), 2))
    assert [e["meta"]["activity_id"] for e in events] == [late["id"]]


async def _stop_after(source, args, consumed, queue):
    """Run the source until ``consumed`` events were taken off a one-slot queue, then stop it as ansible-rulebook does."""
    task = asyncio.ensure_future(source.main(queue, dict(args, max_polls=0)))
    taken = []
    while len(taken) < consumed:
        taken.append(await asyncio.wait_for(queue.get(), 30))
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return taken


def test_falcon_restart_during_activity_neither_repeats_nor_misses(box):
    case = new_case(box)
    run(collect(falcon_source, falcon_args(box), 1))
    before = [comment(box, case["id"], "reply %d" % n)["id"] for n in range(5)]
    taken = run(_stop_after(falcon_source, falcon_args(box), 2, asyncio.Queue(maxsize=1)))
    during = [comment(box, case["id"], "while stopped %d" % n)["id"] for n in range(3)]
    rest = run(collect(falcon_source, falcon_args(box), 2))
    delivered = [e["meta"]["activity_id"] for e in taken + rest]
    assert len(delivered) == len(set(delivered)), delivered
    assert sorted(delivered) == sorted(before + during)


def test_falcon_reuses_its_token_and_renews_a_refused_one(box):
    case = new_case(box)
    mark = box.mark()
    run(collect(falcon_source, falcon_args(box), 3))
    assert [r["path"] for r in box.requests_since(mark, "falcon")].count(TOKEN_PATH) == 1
    # The API refuses the token once (expired or revoked): one new token, and the poll goes on.
    box.control("POST", "/_sandbox/faults", {"match": {"path": QUERY_CASES}, "action": "respond", "status": 401, "count": 1})
    reply = comment(box, case["id"], "after the refusal")
    mark = box.mark()
    events = run(collect(falcon_source, falcon_args(box), 2))
    assert [e["meta"]["activity_id"] for e in events] == [reply["id"]]
    assert [r["path"] for r in box.requests_since(mark, "falcon")].count(TOKEN_PATH) == 2  # one per start, one renewal


def test_falcon_rate_limit_and_5xx_are_retried_then_backed_off(box, caplog):
    caplog.set_level(logging.INFO)
    case = new_case(box)
    run(collect(falcon_source, falcon_args(box), 1))
    reply = comment(box, case["id"], "during an outage")
    # Two 429s: the transport waits X-RateLimit-RetryAfter and retries within the poll.
    box.control("POST", "/_sandbox/faults", {"match": {"path": QUERY_CASES}, "action": "respond", "status": 429, "count": 2})
    began = time.monotonic()
    events = run(collect(falcon_source, falcon_args(box), 1))
    assert [e["meta"]["activity_id"] for e in events] == [reply["id"]]
    assert time.monotonic() - began >= 0.5
    # Failures beyond the retries: the poll fails, the cursor stays, the source backs off and recovers.
    second = comment(box, case["id"], "after the outage")
    box.control("POST", "/_sandbox/faults", {"match": {"path": QUERY_CASES}, "action": "respond", "status": 503,
                                             "headers": {"Retry-After": "0"}, "count": 3})
    box.control("POST", "/_sandbox/faults", {"match": {"path": QUERY_CASES}, "action": "respond", "status": 500, "count": 1})
    began = time.monotonic()
    events = run(collect(falcon_source, falcon_args(box, max_retries=1, poll_interval=0.2), 1))
    elapsed = time.monotonic() - began
    assert [e["meta"]["activity_id"] for e in events] == [second["id"]]
    failures = [r for r in caplog.records if "Poll failed" in r.getMessage()]
    assert len(failures) == 2, [r.getMessage() for r in failures]
    assert "next try in 0.4 s" in failures[0].getMessage() and "next try in 0.8 s" in failures[1].getMessage()
    assert elapsed >= 1.2


def test_falcon_secrets_never_in_events_or_logs(box, caplog):
    caplog.set_level(logging.DEBUG)
    case = new_case(box)
    run(collect(falcon_source, falcon_args(box), 1))
    comment(box, case["id"], "hello")
    box.control("POST", "/_sandbox/faults", {"match": {"path": QUERY_CASES}, "action": "respond", "status": 401, "count": 3})
    events = run(collect(falcon_source, falcon_args(box, max_retries=0), 1))
    tokens = list(box.control("GET", "/_sandbox/state?full=1")["falcon"]["tokens"])
    assert tokens and events
    text = caplog.text + json.dumps(events)
    with open(box.state_file) as handle:
        text += handle.read()
    assert "Poll failed" in caplog.text  # the refused calls were logged...
    for secret in [box.env["FALCON_CLIENT_SECRET"]] + tokens:
        assert secret not in text  # ...without any secret


def test_falcon_load_requests_per_poll_idle_and_busy(box, capsys):
    count = 1000
    template = {"title": "case {n}", "body": "b", "type": "fc:contact"}
    cases = box.control("POST", "/_sandbox/falcon/cases", {"count": count, "template": template})["cases"]
    args = falcon_args(box, lookback=0)
    mark = box.mark()
    run(collect(falcon_source, args, 1))
    first = len(box.requests_since(mark, "falcon"))
    time.sleep(0.05)
    mark = box.mark()
    run(collect(falcon_source, args, 1))
    idle = len([r for r in box.requests_since(mark, "falcon") if r["path"] != TOKEN_PATH])
    for case in cases:
        comment(box, case["id"], "busy")
    mark = box.mark()
    began = time.monotonic()
    events = run(collect(falcon_source, args, 1))
    busy_seconds = time.monotonic() - began
    busy = len([r for r in box.requests_since(mark, "falcon") if r["path"] != TOKEN_PATH])
    assert len(events) == count and len(set(e["meta"]["activity_id"] for e in events)) == count
    assert idle == 1
    # 2 pages of case ids, 2 case reads, one activity query per changed case, 2 activity reads.
    assert busy == 2 + 2 + count + 2
    with capsys.disabled():
        print("\nFalcon load: first poll (priming %d cases) %d requests; idle poll %d; busy poll (%d cases with a new "
              "comment) %d requests in %.1f s" % (count, first, idle, count, busy, busy_seconds))


# -- Cloudforce One ---------------------------------------------------------------------------------------------------
def cloudforce_args(box, **extra):
    args = {"cloudflare_api_token": box.env["CLOUDFLARE_API_TOKEN"], "cloudflare_account_id": box.env["CLOUDFLARE_ACCOUNT_ID"],
            "cloudflare_base_url": box.env["CLOUDFLARE_BASE_URL"], "poll_interval": 0.1, "lookback": 2,
            "state_file": box.state_file, "our_authors": ["analyst@example.com"], "max_retries": 2, "retry_max_time": 10}
    args.update(extra)
    return args


def new_request(box, summary="s"):
    url = "%s/accounts/%s/cloudforce-one/requests/new" % (box.env["CLOUDFLARE_BASE_URL"], box.env["CLOUDFLARE_ACCOUNT_ID"])
    status, answer = call("POST", url,
                          {"summary": summary, "content": "c", "request_type": "Victomology"},
                          {"Authorization": "Bearer " + box.env["CLOUDFLARE_API_TOKEN"]})
    assert status == 200, answer
    return answer["result"]


def our_message(box, request_id, content):
    status, answer = call("POST", "%s/accounts/%s/cloudforce-one/requests/%s/message/new" % (
        box.env["CLOUDFLARE_BASE_URL"], box.env["CLOUDFLARE_ACCOUNT_ID"], request_id), {"content": content},
        {"Authorization": "Bearer " + box.env["CLOUDFLARE_API_TOKEN"]})
    assert status == 200, answer


def analyst(box, request_id, content, **fields):
    return box.control("POST", "/_sandbox/cloudforce_one/requests/%s/messages" % request_id, dict({"content": content}, **fields))


def test_cloudforce_first_start_then_each_change_once(box):
    old = new_request(box, "old")
    analyst(box, old["id"], "before the start")
    assert run(collect(cloudforce_source, cloudforce_args(box), 2)) == []
    time.sleep(1.1)  # Cloudforce One timestamps have whole seconds
    created = new_request(box, "new")
    answer = analyst(box, old["id"], "the answer")
    our_message(box, old["id"], "thanks")
    box.control("PATCH", "/_sandbox/cloudforce_one/requests/%s" % old["id"], {"status": "completed"})
    events = run(collect(cloudforce_source, cloudforce_args(box), 2))
    assert changes(events) == sorted([("request_created", None), ("message", answer["id"]), ("status_changed", None)])
    by_change = dict((e["meta"]["change"], e) for e in events)
    assert by_change["request_created"]["meta"]["request_id"] == created["id"]
    assert by_change["status_changed"]["cloudforce_one"]["previous_status"] == "open"
    assert by_change["message"]["cloudforce_one"]["message"]["content"] == "the answer"
    assert set(by_change["message"]["meta"]) == {"change", "request_id", "message_id", "received_at"}
    assert run(collect(cloudforce_source, cloudforce_args(box), 2)) == []


def test_cloudforce_equal_timestamps_and_restart_during_activity(box):
    request = new_request(box)
    run(collect(cloudforce_source, cloudforce_args(box), 1))
    stamp = now_iso(1)[:19] + "Z"
    before = [analyst(box, request["id"], "answer %d" % n, created=stamp)["id"] for n in range(4)]
    taken = run(_stop_after(cloudforce_source, cloudforce_args(box, lookback=30), 2, asyncio.Queue(maxsize=1)))
    during = [analyst(box, request["id"], "same second, later %d" % n, created=stamp)["id"] for n in range(2)]
    rest = run(collect(cloudforce_source, cloudforce_args(box, lookback=30), 2))
    delivered = [e["meta"]["message_id"] for e in taken + rest]
    assert len(delivered) == len(set(delivered)), delivered
    assert sorted(delivered) == sorted(before + during)


def test_cloudforce_rate_limit_5xx_and_secrets(box, caplog):
    caplog.set_level(logging.DEBUG)
    request = new_request(box)
    run(collect(cloudforce_source, cloudforce_args(box), 1))
    answer = analyst(box, request["id"], "an answer")
    requests_path = "/client/v4/accounts/%s/cloudforce-one/requests" % box.env["CLOUDFLARE_ACCOUNT_ID"]
    box.control("POST", "/_sandbox/faults", {"match": {"path": requests_path}, "action": "respond", "status": 429,
                                             "headers": {"Retry-After": "1"}, "count": 1})
    box.control("POST", "/_sandbox/faults", {"match": {"path": requests_path}, "action": "respond", "status": 502, "count": 2})
    began = time.monotonic()
    events = run(collect(cloudforce_source, cloudforce_args(box, max_retries=1, poll_interval=0.2), 1))
    assert [e["meta"]["message_id"] for e in events] == [answer["id"]]
    assert time.monotonic() - began >= 1.0  # Retry-After was honoured
    assert any("Poll failed" in r.getMessage() for r in caplog.records)
    text = caplog.text + json.dumps(events)
    assert box.env["CLOUDFLARE_API_TOKEN"] not in text


def test_cloudforce_load_requests_per_poll_idle_and_busy(box, capsys):
    count = 100
    created = [new_request(box, "r%d" % n)["id"] for n in range(count)]
    args = cloudforce_args(box, lookback=0)
    run(collect(cloudforce_source, args, 1))
    time.sleep(1.1)
    mark = box.mark()
    run(collect(cloudforce_source, args, 1))
    idle_log = box.requests_since(mark, "cloudforce_one")
    idle = len(idle_log)
    listing = len([r for r in idle_log if r["path"].endswith("/cloudforce-one/requests")])
    for request_id in created:
        analyst(box, request_id, "busy")
    mark = box.mark()
    began = time.monotonic()
    events = run(collect(cloudforce_source, args, 1))
    busy_seconds = time.monotonic() - began
    busy = len(box.requests_since(mark, "cloudforce_one"))
    assert len(events) == count
    # The request list (a full page of 100 from page 1, then an empty page 2: FIDELITY.md, Cloudforce One C2/C3), and
    # one message list per active request.
    assert listing == 2
    assert idle == listing + count
    # A thread with a new message is listed in 2 requests, an idle one in 1: a page shorter than asked does not end a
    # listing unless it is empty (FIDELITY.md, Cloudforce One C1/C2).
    assert busy == listing + 2 * count
    with capsys.disabled():
        print("\nCloudforce One load: idle poll (%d active requests) %d requests (%d listing requests); busy poll (%d new "
              "messages) %d requests in %.1f s" % (count, idle, listing, count, busy, busy_seconds))


def test_falcon_filter_narrows_the_cases_and_changes_narrow_the_events(box):
    contact = new_case(box, type="fc:contact")
    support = new_case(box)
    args = falcon_args(box, filter="case.type:'fc:contact'", changes=["comment"])
    run(collect(falcon_source, args, 1))
    wanted = comment(box, contact["id"], "on a contact case")
    comment(box, support["id"], "on a detection-support case")
    box.control("PATCH", "/_sandbox/falcon/cases/%s" % contact["id"], {"status": "3"})
    events = run(collect(falcon_source, args, 1))
    assert changes(events) == [("comment", wanted["id"])]


def test_bad_arguments_are_refused_by_name(box):
    with pytest.raises(Exception) as refused:
        run(collect(falcon_source, falcon_args(box, changes=["comments"]), 1))
    assert "changes has unknown value(s) comments" in str(refused.value)
    with pytest.raises(Exception) as refused:
        run(collect(cloudforce_source, cloudforce_args(box, poll_interval=0), 1))
    assert "poll_interval must be a positive number" in str(refused.value)
    with pytest.raises(Exception) as refused:
        run(collect(falcon_source, falcon_args(box, start_at="yesterday"), 1))
    assert "start_at must be a date" in str(refused.value)


def test_credentials_and_base_urls_come_from_the_environment(box, monkeypatch):
    for name in ("FALCON_CLIENT_ID", "FALCON_CLIENT_SECRET", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID",
                 "CLOUDFLARE_BASE_URL"):
        monkeypatch.setenv(name, box.env[name])
    monkeypatch.setenv("FALCON_BASE_URL", box.url)
    case = new_case(box)
    request = new_request(box)
    start = now_iso(-1)
    reply = comment(box, case["id"], "from the environment")
    answer = analyst(box, request["id"], "from the environment")
    events = run(collect(falcon_source, {"start_at": start, "poll_interval": 0.1}, 1))
    assert changes(events) == sorted([("case_opened", None), ("comment", reply["id"])])
    events = run(collect(cloudforce_source, {"start_at": start, "poll_interval": 0.1}, 1))
    assert changes(events) == sorted([("request_created", None), ("message", answer["id"])])
