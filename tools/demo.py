# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: build and install the collection, start the sandbox, run playbooks/demo.yml, report, stop."""

import asyncio
import collections
import datetime
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run_tests  # noqa: E402  pylint: disable=wrong-import-position,import-error
from sandbox_process import connection_env, start_sandbox  # noqa: E402  pylint: disable=wrong-import-position,import-error

# Support cases as CrowdStrike's side would hold them: the sandbox's control API plays that part.
SEEDED_CASES = [
    dict(title="Sensor reports high CPU on web-01", body="Since the 7.18 update the sensor uses 40% CPU.",
         type="fc:falcon-product-support", status="1", hosts=["web-01"]),
    dict(title="Is this detection a false positive?", body="PowerShell download cradle on fin-ws-12.",
         type="fc:detection-support", status="2",
         detections=[{"id": "ldt:0123456789abcdef0123456789abcdef:4242", "url": ""}]),
    dict(title="Incident follow-up: lateral movement", body="Please confirm the containment steps.",
         type="fc:incident-support", status="1",
         incidents=[{"id": "inc:0123456789abcdef0123456789abcdef:fedcba9876543210fedcba9876543210", "url": ""}]),
    dict(title="Question about detection on build agent", body="Signed binary flagged by ML.",
         type="fc:detection-support", status="3"),
]


def vendor_requests(sandbox):
    return [r for r in sandbox.control("GET", "/_sandbox/requests")["requests"] if r["vendor"] != "control"]


# The demo's last task: what every workflow did, in a few lines.
SUMMARY_TASK = "TASK [Summary of the workflows]"
FOLLOWUP_SUMMARY = "DDoS on the payment gateway, November 2026"
ANALYST_REPLY = ("The traffic matches a Mirai variant seen against two other payment processors this month; "
                 "IOC list attached to the request.")


def summary(output):
    """The demo's summary block of an ansible-playbook run."""
    return "".join(block + "\n" for block in output.split("\n\n") if block.startswith(SUMMARY_TASK))


def analyst_replies(sandbox):
    """Play Cloudforce One's analyst between the runs: the re-run's follow-up must report this reply as new."""
    requests = [r for r in sandbox.control("GET", "/_sandbox/cloudforce_one/requests")["requests"]
                if r["summary"] == FOLLOWUP_SUMMARY]
    if len(requests) == 1:
        sandbox.control("POST", "/_sandbox/cloudforce_one/requests/%s/messages" % requests[0]["id"], {"content": ANALYST_REPLY})


# What the demo's workflows must leave in the services (playbooks/*.yml example values), checked after both runs.
DETECTION_ID = "ldt:0123456789abcdef0123456789abcdef:4711"
UNIT21_CASE_ID = "aml-2026-11-0042"
# The analyst the escalation comments as (falcon_detection_escalation_user_uuid in playbooks/falcon_detection_escalation.yml).
DEMO_ANALYST = "01234567-89ab-cdef-0123-456789abcdef"
CROWDSTRIKE = {"uuid": "c5c5c5c5-0000-4000-8000-000000000001", "email": "support@crowdstrike.com",
               "display_name": "CrowdStrike Support"}
CROWDSTRIKE_REPLY = ("The update package is signed with a revoked certificate: not a false positive. "
                     "Keep fin-ws-12 contained.")


def escalated_cases(state):
    return [c for c in state["falcon"]["cases"].values() if DETECTION_ID in [d["id"] for d in c["detections"]]]


def iso_moment(seconds_ago=0.0):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reply_travels(sandbox, env, folder):
    """CrowdStrike replies on the escalation (played through the control API); the event source and the rulebook
    caseops.desk.falcon_record_reply record the reply on the linked Unit21 case. (seconds, how it ran) or an error."""
    cases = escalated_cases(sandbox.control("GET", "/_sandbox/state"))
    if len(cases) != 1:
        return "no single escalated Falcon case to reply on"
    start_at = iso_moment(1)
    sandbox.control("POST", "/_sandbox/falcon/cases/%s/activities" % cases[0]["id"],
                    {"type": "comment", "body": CROWDSTRIKE_REPLY, "created_by": CROWDSTRIKE})
    print("\n==> meanwhile, CrowdStrike replies on %s (the escalation, linked to Unit21 case %s)"
          % (cases[0]["key"], UNIT21_CASE_ID), flush=True)
    variables = {"falcon_state_file": os.path.join(folder, "falcon.json"), "falcon_poll_interval": 1,
                 "falcon_start_at": start_at, "falcon_our_authors": [DEMO_ANALYST],
                 "falcon_reply_ledger_path": os.path.join(folder, "falcon-replies.jsonl")}
    began = time.monotonic()
    rulebook = os.path.join(run_tests.EDA_VENV, "bin", "ansible-rulebook")
    java_home = run_tests.java_home()
    if os.path.exists(rulebook) and java_home:
        print("==> ansible-rulebook -r caseops.desk.falcon_record_reply: the falcon_message_center source polls, "
              "the rule runs the playbook", flush=True)
        problem = run_rulebook(rulebook, java_home, env, folder, variables)
        how = "ansible-rulebook"
    else:
        print("==> no ansible-rulebook with Java 17 here: one poll of the falcon_message_center source, then the "
              "playbook caseops.desk.falcon_record_reply the rule runs, on the source's event", flush=True)
        problem = run_source_then_playbook(env, folder, variables)
        how = "no ansible-rulebook: the source's event, the rule's playbook"
    return problem or (time.monotonic() - began, how)


def ledger(folder):
    path = os.path.join(folder, "falcon-replies.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run_rulebook(rulebook, java_home, env, folder, variables):
    """The shipped rulebook under ansible-rulebook until the reply is in its ledger (or 120 s), then a stop."""
    vars_path, inventory = os.path.join(folder, "vars.json"), os.path.join(folder, "inventory.yml")
    with open(vars_path, "w") as handle:
        json.dump(variables, handle)
    with open(inventory, "w") as handle:
        handle.write("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                     "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
    env = dict(env, JAVA_HOME=java_home, PATH=os.pathsep.join([os.path.join(run_tests.EDA_VENV, "bin"), env["PATH"]]))
    log_path = os.path.join(folder, "ansible-rulebook.log")
    with open(log_path, "w") as log:
        process = subprocess.Popen([rulebook, "--rulebook", "caseops.desk.falcon_record_reply", "-i", inventory,
                                    "--vars", vars_path], stdout=log, stderr=subprocess.STDOUT, cwd=folder, env=env,
                                   start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while not ledger(folder) and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    if not ledger(folder):
        with open(log_path) as handle:
            return "the rule did not fire; ansible-rulebook said:\n" + handle.read()[-3000:]
    return None


def run_source_then_playbook(env, folder, variables):
    """Without Java: the installed source's main() for one poll, then the rule's playbook on its comment event."""
    root = env["ANSIBLE_COLLECTIONS_PATH"]
    sys.path.insert(0, root)
    spec = importlib.util.spec_from_file_location("caseops_falcon_message_center", os.path.join(
        root, "ansible_collections", "caseops", "desk", "extensions", "eda", "plugins", "event_source",
        "falcon_message_center.py"))
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    queue = asyncio.Queue()
    args = {"falcon_client_id": env["FALCON_CLIENT_ID"], "falcon_client_secret": env["FALCON_CLIENT_SECRET"],
            "falcon_base_url": env["FALCON_BASE_URL"], "state_file": variables["falcon_state_file"],
            "start_at": variables["falcon_start_at"], "our_authors": variables["falcon_our_authors"],
            "changes": ["comment"], "max_polls": 1}
    asyncio.run(source.main(queue, args))
    events = [queue.get_nowait() for _index in range(queue.qsize())]
    if len(events) != 1:
        return "the source put %d comment events on the queue (expected 1)" % len(events)
    extra = os.path.join(folder, "event.json")
    with open(extra, "w") as handle:
        json.dump({"ansible_eda": {"event": events[0]}, "falcon_reply_ledger_path": variables["falcon_reply_ledger_path"]},
                  handle)
    code, output = run_playbook("caseops.desk.falcon_record_reply", env, echo=False, extra=["-e", "@" + extra])
    return None if code == 0 else "the playbook failed:\n" + output[-3000:]


def service_checks(sandbox):
    """(ok, what) pairs: the vendors' state after both runs, as the sandbox holds it."""
    state = sandbox.control("GET", "/_sandbox/state")
    checks = []
    escalated = escalated_cases(state)
    checks.append((len(escalated) == 1, "Falcon: %d detection-support case(s) for %s (expected 1)" % (len(escalated), DETECTION_ID)))
    if len(escalated) == 1:
        case = escalated[0]
        comments = [a for a in state["falcon"]["activities"].values() if a["case_id"] == case["id"] and a["type"] == "comment"]
        authors = collections.Counter("ours" if a["created_by"].get("uuid") == DEMO_ANALYST else "CrowdStrike's"
                                      for a in comments)
        names = sorted(a["name"] for a in case["attachments"])
        checks.append((authors == {"ours": 1, "CrowdStrike's": 1}, "Falcon case %s: comments %s (expected ours and "
                       "CrowdStrike's reply)" % (case["key"], dict(authors))))
        checks.append((names == ["triage-notes.txt"], "Falcon case %s: attachments %s (expected triage-notes.txt once)"
                       % (case["key"], ", ".join(names) or "none")))
    requests = state["cloudforce_one"]["requests"]
    followed = [r for r in requests.values() if r["summary"] == FOLLOWUP_SUMMARY]
    checks.append((len(followed) == 1, "Cloudforce One: %d request(s) '%s' (expected 1)" % (len(followed), FOLLOWUP_SUMMARY)))
    if len(followed) == 1:
        authors = collections.Counter(m["author"] for m in followed[0]["messages"])
        checks.append((len(followed[0]["messages"]) == 2, "Cloudforce One %s: messages by %s (expected our follow-up and the analyst's reply)"
                       % (followed[0]["readable_id"], dict(authors))))
    cases = [c for c in state["unit21"]["cases"].values() if c["case_id"] == UNIT21_CASE_ID]
    checks.append((len(cases) == 1, "Unit21: %d case(s) %s (expected 1)" % (len(cases), UNIT21_CASE_ID)))
    if len(cases) == 1:
        case = cases[0]
        checks.append(((case["status"], case["disposition"]) == ("CLOSED", "TRUE_POSITIVE"),
                       "Unit21 case %s: %s / %s (expected CLOSED / TRUE_POSITIVE)" % (case["unit21_id"], case["status"], case["disposition"])))
        media = [m["name"] for m in sandbox.control("GET", "/_sandbox/unit21/cases/%s/media" % case["unit21_id"])["media"]]
        checks.append((media == ["triage-summary.txt"], "Unit21 case %s: media %s (expected triage-summary.txt once)"
                       % (case["unit21_id"], ", ".join(media) or "none")))
        replies = (case.get("custom_data") or {}).get("falcon_replies") or {}
        checks.append(([r.get("body") for r in replies.values()] == [CROWDSTRIKE_REPLY],
                       "Unit21 case %s: %d CrowdStrike reply(ies) recorded by the rulebook (expected 1)"
                       % (case["unit21_id"], len(replies))))
        link = (case.get("custom_data") or {}).get("cloudforce_one_request") or {}
        bridged = [r for r in requests.values() if r["summary"].startswith("Unit21 case %s:" % case["unit21_id"])]
        checks.append((len(bridged) == 1 and link.get("id") == bridged[0]["id"],
                       "Unit21 case %s: linked to %s; %d Cloudforce One request(s) for it (expected 1, the linked one)"
                       % (case["unit21_id"], link.get("readable_id"), len(bridged))))
    return checks


def run_playbook(playbook, env, echo, extra=()):
    """ansible-playbook, its output echoed as it comes (echo=True) and returned."""
    process = subprocess.Popen(["ansible-playbook", playbook] + list(extra), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if echo:
            sys.stdout.write(line)
            sys.stdout.flush()
    return process.wait(), "".join(lines)


def main():
    started = time.monotonic()
    print("==> building and installing caseops.desk", flush=True)
    run_tests.stage_tree()
    tarball = run_tests.build_and_install()
    with start_sandbox(run_tests.tools_bin("python")) as sandbox:
        print("==> sandbox of the Falcon, Cloudforce One and Unit21 APIs at %s" % sandbox.url, flush=True)
        for case in SEEDED_CASES:
            sandbox.control("POST", "/_sandbox/falcon/cases", case)
        print("==> seeded %d support cases on the Falcon side" % len(SEEDED_CASES), flush=True)
        env = run_tests.installed_env()
        env.update(connection_env(sandbox.url))
        env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
        playbook = os.path.join(run_tests.REPO, "playbooks", "demo.yml")
        print("==> ansible-playbook playbooks/demo.yml (credentials from FALCON_*, CLOUDFLARE_* and UNIT21_* environment variables)",
              flush=True)
        code, _output = run_playbook(playbook, env, echo=True)
        first_run = len(vendor_requests(sandbox))
        rerun_code, rerun, travelled, fired, before_rerun = None, "", None, 0, first_run
        if code == 0:
            folder = tempfile.mkdtemp(prefix="caseops-demo-eda-")
            try:
                travelled = reply_travels(sandbox, env, folder)
                fired = len(ledger(folder))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            if not isinstance(travelled, str):
                unit21_case = [c for c in sandbox.control("GET", "/_sandbox/state")["unit21"]["cases"].values()
                               if c["case_id"] == UNIT21_CASE_ID]
                replies = ((unit21_case[0].get("custom_data") or {}).get("falcon_replies") or {}) if unit21_case else {}
                print("==> the rule fired in %.1f s (%s; %d requests: the source's polls and the playbook); Unit21 case"
                      " %s now holds custom_data.falcon_replies:"
                      % (travelled[0], travelled[1], len(vendor_requests(sandbox)) - first_run, UNIT21_CASE_ID))
                for activity_id, reply in sorted(replies.items()):
                    print("    %s  %s (%s): %s" % (activity_id, reply.get("author"), reply.get("case_key"), reply.get("body")))
            before_rerun = len(vendor_requests(sandbox))
            analyst_replies(sandbox)
            print("\n==> meanwhile, a Cloudforce One analyst answers the follow-up", flush=True)
            print("==> the same playbook again: every workflow is already done, so nothing may change", flush=True)
            rerun_code, rerun = run_playbook(playbook, env, echo=False)
            sys.stdout.write(summary(rerun) + rerun[rerun.rfind("PLAY RECAP"):])
            sys.stdout.flush()
        requests = vendor_requests(sandbox)
        checks = service_checks(sandbox) if code == 0 else []

    print("\n==> what the collection sent to the sandbox")
    counts = collections.Counter("%s %s -> %s" % (r["vendor"], r["operation"] or r["path"], r["status"]) for r in requests)
    for line, count in sorted(counts.items()):
        print("    %3d x %s" % (count, line))
    print("==> %d requests; collection %s; %.1f s in all" % (len(requests), os.path.basename(tarball), time.monotonic() - started))
    if code != 0:
        return code
    changed = re.search(r"changed=(\d+)", rerun)
    if rerun_code != 0 or changed is None or changed.group(1) != "0":
        print("==> the re-run changed something or failed: the workflows are not idempotent", file=sys.stderr)
        return rerun_code or 1
    print("==> re-run: changed=0, %d requests" % (len(requests) - before_rerun))
    print("==> what the services hold now")
    for ok, line in checks:
        print("    %s %s" % ("ok  " if ok else "FAIL", line))
    failed = [line for ok, line in checks if not ok]
    if isinstance(travelled, str):
        failed.append("CrowdStrike's reply did not reach Unit21: " + travelled)
    elif fired != 1:
        # The demo stops the rulebook once the reply is recorded; tests/eda proves exactly once across restarts.
        failed.append("the rule fired %d times for one reply (expected once)" % fired)
    if "new replies: 1 from analyst@" not in summary(rerun):
        failed.append("the re-run's summary does not report the analyst's reply")
    if failed:
        print("==> the demo did not do what it says: %s" % "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
