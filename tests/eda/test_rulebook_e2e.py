# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example rulebooks under the real ansible-rulebook, fed by the sandbox's signed Unit21 webhooks.

tools/run_tests.py (stage eda) sets the environment: ANSIBLE_COLLECTIONS_PATH (the built and installed
collection), CASEOPS_SANDBOX_URL, the CLOUDFLARE_* connection variables and CASEOPS_ANSIBLE_RULEBOOK
(the ansible-rulebook executable). Without them the test is skipped.
"""

import json
import os
import signal
import subprocess
import time
import uuid

import pytest

from eda_helpers import call, free_port

SANDBOX = os.environ.get("CASEOPS_SANDBOX_URL")
RULEBOOK = os.environ.get("CASEOPS_ANSIBLE_RULEBOOK")
SECRET = "abcdefghij0123456789"  # the sandbox's default SANDBOX_UNIT21_WEBHOOK_SECRET
UNIT21_KEY = os.environ.get("UNIT21_API_KEY", "")
DISPOSITION = "TRUE_POSITIVE"
TAG = "intel:cloudforce_one"

pytestmark = pytest.mark.skipif(not (SANDBOX and RULEBOOK and os.environ.get("ANSIBLE_COLLECTIONS_PATH")),
                                reason="run through tools/run_tests.py eda")


def control(method, path, body=None):
    status, answer = call(method, SANDBOX + path, body)
    assert status == 200, (path, status, answer)
    return answer


def unit21(method, path, body=None):
    status, answer = call(method, SANDBOX + "/v1" + path, body, {"u21-key": UNIT21_KEY})
    assert status == 200, (path, status, answer)
    return answer


def read_case(unit21_id):
    """The case with its tags and custom_data: GET has neither (tests/sandbox/FIDELITY.md, Unit21 U1), so they come
    from the case's /cases/list item, found by its creation second (U6)."""
    case = unit21("GET", "/cases/%d" % unit21_id)
    listed = unit21("POST", "/cases/list", {"created_after": case["created_at"], "created_before": case["created_at"] + 1,
                                            "limit": 50, "offset": 1})["cases"]
    return dict(case, **next(item for item in listed if item["unit21_id"] == unit21_id))


def wait_for(what, check, timeout=60.0, interval=0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class Rulebook(object):
    """One ``ansible-rulebook`` process in its own process group, stopped (group-wide) by ``stop()``."""

    def __init__(self, name, folder, variables):
        self.port = variables["unit21_webhook_port"]
        self.url = "http://127.0.0.1:%d/unit21/webhook" % self.port
        self.log_path = os.path.join(folder, name + ".log")
        vars_path = os.path.join(folder, name + ".vars.yml")
        with open(vars_path, "w") as handle:
            json.dump(variables, handle)  # JSON is YAML
        inventory = os.path.join(folder, "inventory.yml")
        with open(inventory, "w") as handle:
            # The controller's own Python, never a discovered (possibly pyenv-shim) interpreter.
            handle.write("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
        env = dict(os.environ, UNIT21_WEBHOOK_SECRET=SECRET)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [RULEBOOK, "--rulebook", "caseops.desk." + name, "-i", inventory, "--vars", vars_path, "-v"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=folder, env=env, start_new_session=True)

    def output(self):
        with open(self.log_path) as handle:
            return handle.read()

    def healthy(self):
        if self.process.poll() is not None:
            raise AssertionError("ansible-rulebook exited %s:\n%s" % (self.process.returncode, self.output()))
        try:
            return call("GET", "http://127.0.0.1:%d/health" % self.port)[0] == 200
        except OSError:
            return False

    def stop(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self.log.close()


@pytest.fixture(scope="module")
def rulebooks(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("rulebooks"))
    ledger = os.path.join(folder, "ledger.jsonl")
    control("POST", "/_sandbox/reset")
    started = []
    try:
        started.append(Rulebook("unit21_record_disposition", folder, {
            "unit21_webhook_port": free_port(), "unit21_disposition": DISPOSITION, "unit21_ledger_path": ledger}))
        started.append(Rulebook("unit21_open_intel_request", folder, {
            "unit21_webhook_port": free_port(), "unit21_intel_tag": TAG,
            "unit21_intel_request_type": "Indicators of Compromise"}))
        started.append(Rulebook("unit21_case_bridge", folder, {
            "unit21_webhook_port": free_port(), "case_bridge_tlp": "amber", "case_bridge_priority": "high"}))
        for rulebook in started:  # the JVM starts slowly on a busy machine
            wait_for("ansible-rulebook's source on port %d" % rulebook.port, rulebook.healthy, timeout=120)
        record, intel, bridge = started
        control("POST", "/_sandbox/unit21/webhooks/subscriptions", {"url": record.url, "changes": ["CLOSED"]})
        control("POST", "/_sandbox/unit21/webhooks/subscriptions", {"url": intel.url, "changes": ["CREATED"]})
        # The bridge subscribes in its own test, so the cases of the tests above never reach it.
        yield {"record": record, "intel": intel, "bridge": bridge, "ledger": ledger}
    finally:
        for rulebook in started:
            rulebook.stop()


def ledger_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def deliveries(url, unit21_id=None):
    return [d for d in control("GET", "/_sandbox/unit21/webhooks/deliveries")["deliveries"]
            if d["url"] == url and (unit21_id is None or d["unit21_id"] == unit21_id)]


def finished(url, unit21_id):
    found = deliveries(url, unit21_id)
    return found if found and all(d["delivered"] is not None for d in found) else None


def new_case(**fields):
    body = dict({"case_id": "eda-%s" % uuid.uuid4().hex[:12], "title": "EDA end-to-end", "start_date": 1700000000},
                **fields)
    return unit21("POST", "/cases/create", body)


def close(case, disposition):
    unit21("PUT", "/cases/%d/update" % case["unit21_id"], {"status": "CLOSED", "disposition": disposition})


def test_a_case_closed_with_the_disposition_is_recorded_once(rulebooks):
    record, ledger = rulebooks["record"], rulebooks["ledger"]
    other = new_case()
    close(other, "FALSE_POSITIVE")  # the rule must not fire for this one
    wanted = new_case()
    close(wanted, DISPOSITION)

    lines = wait_for("the ledger line", lambda: [x for x in ledger_lines(ledger) if x["unit21_id"] == wanted["unit21_id"]],
                     timeout=90)
    delivery = wait_for("the delivery to finish", lambda: finished(record.url, wanted["unit21_id"]))[0]
    assert delivery["delivered"] is True and [a["status"] for a in delivery["attempts"]] == [200]
    assert lines == [{"unit21_id": wanted["unit21_id"], "case_id": wanted["case_id"], "disposition": DISPOSITION,
                      "change_time": delivery["payload"]["change_time"]}]

    # Unit21 sending the same delivery again (a retry with a fresh signature) changes nothing.
    again = control("POST", "/_sandbox/unit21/webhooks/send", {"url": record.url, "payload": delivery["payload"]})
    assert [a["status"] for a in again["attempts"]] == [200]
    # A badly signed delivery of another qualifying closure is refused and fires nothing.
    forged = dict(delivery["payload"], unit21_id=other["unit21_id"], case_id=other["case_id"])
    refused = control("POST", "/_sandbox/unit21/webhooks/send",
                      {"url": record.url, "payload": forged, "secret": "not-the-secret", "max_attempts": 1})
    assert refused["delivered"] is False and [a["status"] for a in refused["attempts"]] == [401]

    # A later genuine closure is processed after all of the above, so once it is in the ledger the
    # earlier ones have been seen by the rule engine too.
    last = new_case()
    close(last, DISPOSITION)
    wait_for("the last ledger line", lambda: any(x["unit21_id"] == last["unit21_id"] for x in ledger_lines(ledger)),
             timeout=90)
    assert sorted(x["unit21_id"] for x in ledger_lines(ledger)) == sorted([wanted["unit21_id"], last["unit21_id"]])
    assert all(d["delivered"] for d in deliveries(record.url) if d.get("subscription_id"))


def intel_requests(prefix):
    requests = control("GET", "/_sandbox/state")["cloudforce_one"]["requests"].values()
    return [r for r in requests if r.get("summary", "").startswith(prefix)]


def test_a_case_created_with_the_tag_opens_one_cloudforce_one_request(rulebooks):
    intel = rulebooks["intel"]
    untagged = new_case(title="Untagged case", tags=["team:fraud"])
    wait_for("the untagged delivery", lambda: finished(intel.url, untagged["unit21_id"]))
    tagged = new_case(title="Mule ring", description="Accounts moving funds to a known mule ring",
                      tags=["team:fraud", TAG])
    summary = "Unit21 case %d: Mule ring" % tagged["unit21_id"]

    found = wait_for("the Cloudforce One request", lambda: intel_requests(summary), timeout=90)
    delivery = wait_for("the delivery to finish", lambda: finished(intel.url, tagged["unit21_id"]))[0]
    assert [a["status"] for a in delivery["attempts"]] == [200]
    time.sleep(1)  # a duplicate create would show up now
    found = intel_requests(summary)
    assert len(found) == 1
    assert "Accounts moving funds to a known mule ring" in found[0]["content"]
    assert intel_requests("Unit21 case %d:" % untagged["unit21_id"]) == []
    assert len(intel_requests("Unit21 case ")) == 1


def case_requests(unit21_id, method, suffix):
    return [r for r in control("GET", "/_sandbox/requests?vendor=unit21")["requests"]
            if r["method"] == method and r["path"] == "/v1/cases/%d%s" % (unit21_id, suffix)]


def case_reads(unit21_id):
    return len(case_requests(unit21_id, "GET", ""))


def test_a_case_created_with_indicators_is_bridged_once_and_linked_back(rulebooks):
    bridge = rulebooks["bridge"]
    control("POST", "/_sandbox/unit21/webhooks/subscriptions", {"url": bridge.url, "changes": ["CREATED"]})
    plain = new_case(title="No indicators here", tags=["team:fraud"])
    wait_for("the delivery of the case without indicators", lambda: finished(bridge.url, plain["unit21_id"]))
    case = new_case(title="Card testing from a proxy", tags=["team:fraud", "ioc:198.51.100.23"],
                    custom_data={"indicators": ["carders.example"]})
    summary = "Unit21 case %d:" % case["unit21_id"]

    linked = wait_for("the link written back into the case", lambda: (
        read_case(case["unit21_id"]).get("custom_data", {}).get("cloudforce_one_request")), timeout=90)
    delivery = wait_for("the delivery to finish", lambda: finished(bridge.url, case["unit21_id"]))[0]
    assert [a["status"] for a in delivery["attempts"]] == [200]
    found = intel_requests(summary)
    assert [r["id"] for r in found] == [linked["id"]]
    assert "carders.example" in found[0]["content"] and "198.51.100.23" in found[0]["content"]
    assert (found[0]["priority"], found[0]["tlp"]) == ("high", "amber")
    assert "cloudforce_one:%s" % linked["readable_id"] in read_case(case["unit21_id"])["tags"]

    # Another CREATED event for the same case (a new change_time, so the source passes it on): the playbook runs
    # again, reads the link from the case and changes nothing.
    updated = found[0]["updated"]
    reads_before = case_reads(case["unit21_id"])
    replay = dict(delivery["payload"], change_time=delivery["payload"]["change_time"] + 1)
    again = control("POST", "/_sandbox/unit21/webhooks/send", {"url": bridge.url, "payload": replay})
    assert [a["status"] for a in again["attempts"]] == [200]
    # A later case is processed after the resend, so once it is linked the resend has been handled too.
    last = new_case(title="Later case", tags=["ioc:203.0.113.9"])
    wait_for("the later case's link", lambda: (
        read_case(last["unit21_id"]).get("custom_data", {}).get("cloudforce_one_request")), timeout=90)
    assert case_reads(case["unit21_id"]) > reads_before, "the second event did not run the playbook"
    found = intel_requests(summary)
    assert len(found) == 1 and found[0]["updated"] == updated
    assert len(case_requests(case["unit21_id"], "PUT", "/update")) == 1, "the link was written more than once"
    assert intel_requests("Unit21 case %d:" % plain["unit21_id"]) == []
