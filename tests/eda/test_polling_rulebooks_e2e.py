# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The polling sources' rulebooks under the real ansible-rulebook: a vendor reply reaches the action exactly once,
also across a restart of the source. Run by tools/run_tests.py eda (same environment as test_rulebook_e2e.py)."""

import datetime
import json
import os
import signal
import subprocess

import pytest

from eda_helpers import call
from test_rulebook_e2e import control, read_case, unit21, wait_for

SANDBOX = os.environ.get("CASEOPS_SANDBOX_URL")
RULEBOOK = os.environ.get("CASEOPS_ANSIBLE_RULEBOOK")
CROWDSTRIKE = {"uuid": "c5c5c5c5-0000-4000-8000-000000000001", "email": "support@crowdstrike.com"}
OUR_UUID = "0f6a1b2c-3d4e-4f60-8182-93a4b5c6d7e8"

pytestmark = pytest.mark.skipif(not (SANDBOX and RULEBOOK and os.environ.get("ANSIBLE_COLLECTIONS_PATH")),
                                reason="run through tools/run_tests.py eda")


def iso_now(offset=0):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")


class PollingRulebook(object):
    """One ansible-rulebook process (own process group) that can be stopped and started again with the same files."""

    def __init__(self, name, folder, variables):
        self.name, self.folder = name, folder
        self.vars_path = os.path.join(folder, name + ".vars.yml")
        with open(self.vars_path, "w") as handle:
            json.dump(variables, handle)
        self.inventory = os.path.join(folder, "inventory.yml")
        with open(self.inventory, "w") as handle:
            handle.write("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
        self.runs = 0
        self.process = None
        self.log = None

    def start(self):
        self.runs += 1
        self.log_path = os.path.join(self.folder, "%s.%d.log" % (self.name, self.runs))
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [RULEBOOK, "--rulebook", "caseops.desk." + self.name, "-i", self.inventory, "--vars", self.vars_path, "-v"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.folder, env=dict(os.environ), start_new_session=True)

    def output(self):
        with open(self.log_path) as handle:
            return handle.read()

    def alive(self):
        if self.process.poll() is not None:
            raise AssertionError("ansible-rulebook exited %s:\n%s" % (self.process.returncode, self.output()))
        return True

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        if self.log:
            self.log.close()


def ledger(path):
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def waiting(rulebook, path, key, wanted):
    def check():
        rulebook.alive()
        return wanted in [line[key] for line in ledger(path)]
    return check


def test_a_crowdstrike_reply_is_recorded_once_on_the_linked_unit21_case_also_across_a_restart(tmp_path):
    folder = str(tmp_path)
    path = os.path.join(folder, "falcon-replies.jsonl")
    linked = unit21("POST", "/cases/create", {"case_id": "eda-falcon-%s" % os.urandom(4).hex(), "title": "Detection",
                                              "start_date": 1700000000})
    # The body as falcon_detection_escalation opens a case for a Unit21 case (the link line, then the reference line).
    body = "Encoded PowerShell.\n\ncaseops.desk unit21 case: %d\n\ncaseops.desk case reference: %s" % (
        linked["unit21_id"], "0" * 32)
    status, case = call("POST", SANDBOX + "/_sandbox/falcon/cases", {"title": "EDA", "body": body, "type": "fc:detection-support"})
    assert status == 201, case
    rulebook = PollingRulebook("falcon_record_reply", folder, {
        "falcon_state_file": os.path.join(folder, "falcon.json"), "falcon_poll_interval": 1,
        "falcon_our_authors": [OUR_UUID], "falcon_reply_ledger_path": path, "falcon_start_at": iso_now(-1)})

    def reply(body, author=None):
        author = author or CROWDSTRIKE
        status, answer = call("POST", SANDBOX + "/_sandbox/falcon/cases/%s/activities" % case["id"],
                              {"type": "comment", "body": body, "created_by": author})
        assert status == 201, answer
        return answer["id"]

    try:
        rulebook.start()
        first = reply("CrowdStrike: we are looking into it")
        reply("our own note", author=OUR_UUID)
        wait_for("the first reply in the ledger", waiting(rulebook, path, "activity_id", first), timeout=180)
        rulebook.stop()
        second = reply("CrowdStrike: answered while the source was down")
        rulebook.start()
        wait_for("the reply made during the restart", waiting(rulebook, path, "activity_id", second), timeout=180)
        third = reply("CrowdStrike: closing note")
        wait_for("a later reply", waiting(rulebook, path, "activity_id", third), timeout=120)
    finally:
        rulebook.stop()
    lines = ledger(path)
    assert sorted(line["activity_id"] for line in lines) == sorted([first, second, third]), lines
    assert len(set(line["event_uuid"] for line in lines)) == 3
    assert all(line["unit21_id"] == linked["unit21_id"] for line in lines)
    # GET has no custom_data (FIDELITY.md, Unit21 U1): read it from the case's list item.
    replies = read_case(linked["unit21_id"]).get("custom_data", {}).get("falcon_replies") or {}
    assert sorted(replies) == sorted([first, second, third])
    assert replies[second]["body"] == "CrowdStrike: answered while the source was down"
    assert replies[second]["author"] == CROWDSTRIKE["email"] and replies[second]["case_id"] == case["id"]


def test_a_cloudforce_one_answer_reaches_the_unit21_case_and_completion_closes_it_once_also_across_restarts(tmp_path):
    folder = str(tmp_path)
    path = os.path.join(folder, "answers.jsonl")
    case = unit21("POST", "/cases/create", {"case_id": "eda-poll-%s" % os.urandom(4).hex(), "title": "Mule ring",
                                            "start_date": 1700000000})
    base, account = os.environ["CLOUDFLARE_BASE_URL"], os.environ["CLOUDFLARE_ACCOUNT_ID"]
    token = {"Authorization": "Bearer " + os.environ["CLOUDFLARE_API_TOKEN"]}
    status, created = call("POST", "%s/accounts/%s/cloudforce-one/requests/new" % (base, account),
                           {"summary": "Unit21 case %d: Mule ring" % case["unit21_id"], "content": "indicators",
                            "request_type": "Indicators of Compromise"}, token)
    assert status == 200, created
    request = created["result"]
    # No cloudforce_one_close_disposition: the rulebook passes an empty one and the playbook closes as UNRESOLVED.
    rulebook = PollingRulebook("cloudforce_one_answer_to_unit21", folder, {
        "cloudforce_one_state_file": os.path.join(folder, "cloudforce_one.json"), "cloudforce_one_poll_interval": 1,
        "cloudforce_one_our_authors": ["analyst@example.com"], "cloudforce_one_answer_ledger_path": path,
        "cloudforce_one_start_at": iso_now(-1)})

    def answer(content):
        return control("POST", "/_sandbox/cloudforce_one/requests/%s/messages" % request["id"], {"content": content})["id"]

    def answers():
        # GET has no custom_data (FIDELITY.md, Unit21 U1): read it from the case's list item.
        return read_case(case["unit21_id"]).get("custom_data", {}).get("cloudforce_one_answers") or {}

    def completed():
        rulebook.alive()
        return [line for line in ledger(path) if line.get("change") == "completed"]

    try:
        rulebook.start()
        first = answer("The IP belongs to a known proxy network.")
        # Our own follow-up is not an answer.
        ours = "%s/accounts/%s/cloudforce-one/requests/%s/message/new" % (base, account, request["id"])
        status, _answer = call("POST", ours, {"content": "thanks"}, token)
        assert status == 200
        wait_for("the first answer in the ledger", waiting(rulebook, path, "message_id", first), timeout=180)
        rulebook.stop()
        # While the source is down, the analysts answer and complete the request: after the restart, the answer is
        # written and then (events in time order) the completion closes the case.
        second = answer("Completed: see the attached report.")
        control("PATCH", "/_sandbox/cloudforce_one/requests/%s" % request["id"], {"status": "completed"})
        rulebook.start()
        wait_for("the answer made during the restart", waiting(rulebook, path, "message_id", second), timeout=180)
        wait_for("the completion in the ledger", completed, timeout=180)
        state_file = os.path.join(folder, "cloudforce_one.json")
        saved = os.stat(state_file).st_mtime_ns
        wait_for("two more polls", lambda: rulebook.alive() and os.stat(state_file).st_mtime_ns > saved, timeout=60)
        saved = os.stat(state_file).st_mtime_ns
        wait_for("two more polls", lambda: rulebook.alive() and os.stat(state_file).st_mtime_ns > saved, timeout=60)
    finally:
        rulebook.stop()
    lines = ledger(path)
    messages = [line for line in lines if line["change"] == "message"]
    assert sorted(line["message_id"] for line in messages) == sorted([first, second]), lines
    assert all(line["unit21_id"] == case["unit21_id"] for line in lines)
    written = answers()
    assert sorted(written) == sorted([str(first), str(second)])
    assert written[str(first)]["content"] == "The IP belongs to a known proxy network."
    assert written[str(second)]["request"] == request["readable_id"]
    closing = [line for line in lines if line["change"] == "completed"]
    assert [(line["request_id"], line["closed"], line["disposition"]) for line in closing] == [
        (request["id"], True, "UNRESOLVED")], lines
    closed = read_case(case["unit21_id"])
    assert (closed["status"], closed["disposition"]) == ("CLOSED", "UNRESOLVED")
    assert closed["custom_data"]["cloudforce_one_completed"]["request"] == request["readable_id"]
    assert closed["custom_data"]["cloudforce_one_answers"] == written
    assert len(closing_updates(case["unit21_id"])) == 1

    # The same event delivered again (e.g. replayed by hand) closes nothing and writes nothing.
    status, item = call("GET", "%s/accounts/%s/cloudforce-one/requests/%s" % (base, account, request["id"]), None, token)
    assert status == 200, item
    event = {"cloudforce_one": {"request": item["result"], "message": None, "previous_status": "open"},
             "meta": {"change": "status_changed", "request_id": request["id"], "message_id": None}}
    extra = os.path.join(folder, "replayed.json")
    with open(extra, "w") as handle:
        json.dump({"ansible_eda": {"event": event}}, handle)
    mark = control("GET", "/_sandbox/requests?limit=0")["last_seq"]
    replay = subprocess.run([os.path.join(os.path.dirname(RULEBOOK), "ansible-playbook"),
                             "caseops.desk.cloudforce_one_completed_to_unit21", "-e", "@" + extra],
                            cwd=folder, env=dict(os.environ), capture_output=True, text=True, timeout=300, check=False)
    assert replay.returncode == 0 and "changed=0" in replay.stdout, replay.stdout + replay.stderr
    sent = control("GET", "/_sandbox/requests?since=%d&vendor=unit21" % mark)["requests"]
    # Only the read of the case (GET, then the list item for what GET lacks); no update.
    assert sent and set(r["operation"] for r in sent) <= {"get_case_by_unit21_id", "list_cases"}, sent


def closing_updates(unit21_id):
    return [r for r in control("GET", "/_sandbox/requests?vendor=unit21")["requests"]
            if r["method"] == "PUT" and r["path"] == "/v1/cases/%d/update" % unit21_id
            and (r["json"] or {}).get("status") == "CLOSED"]
