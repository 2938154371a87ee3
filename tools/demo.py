# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: build and install the collection, start the sandbox, run playbooks/demo.yml, report, stop."""

import collections
import os
import re
import subprocess
import sys
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


def service_checks(sandbox):
    """(ok, what) pairs: the vendors' state after both runs, as the sandbox holds it."""
    state = sandbox.control("GET", "/_sandbox/state")
    checks = []
    escalated = [c for c in state["falcon"]["cases"].values() if DETECTION_ID in [d["id"] for d in c["detections"]]]
    checks.append((len(escalated) == 1, "Falcon: %d detection-support case(s) for %s (expected 1)" % (len(escalated), DETECTION_ID)))
    if len(escalated) == 1:
        case = escalated[0]
        comments = [a for a in state["falcon"]["activities"].values() if a["case_id"] == case["id"] and a["type"] == "comment"]
        names = sorted(a["name"] for a in case["attachments"])
        checks.append((len(comments) == 1, "Falcon case %s: %d comment(s) (expected 1)" % (case["key"], len(comments))))
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
        link = (case.get("custom_data") or {}).get("cloudforce_one_request") or {}
        bridged = [r for r in requests.values() if r["summary"].startswith("Unit21 case %s:" % case["unit21_id"])]
        checks.append((len(bridged) == 1 and link.get("id") == bridged[0]["id"],
                       "Unit21 case %s: linked to %s; %d Cloudforce One request(s) for it (expected 1, the linked one)"
                       % (case["unit21_id"], link.get("readable_id"), len(bridged))))
    return checks


def run_playbook(playbook, env, echo):
    """ansible-playbook, its output echoed as it comes (echo=True) and returned."""
    process = subprocess.Popen(["ansible-playbook", playbook], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
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
        rerun_code, rerun = None, ""
        if code == 0:
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
    print("==> re-run: changed=0, %d requests" % (len(requests) - first_run))
    print("==> what the services hold now")
    for ok, line in checks:
        print("    %s %s" % ("ok  " if ok else "FAIL", line))
    failed = [line for ok, line in checks if not ok]
    if "new replies: 1 from analyst@" not in summary(rerun):
        failed.append("the re-run's summary does not report the analyst's reply")
    if failed:
        print("==> the demo did not do what it says: %s" % "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
