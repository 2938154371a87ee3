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


def summaries(output):
    """The Summary tasks' output of an ansible-playbook run."""
    return [block + "\n" for block in output.split("\n\n") if block.startswith("TASK [Summary]")]


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
        result = subprocess.run(["ansible-playbook", playbook], env=env, check=False)
        first_run = len(vendor_requests(sandbox))
        rerun = None
        if result.returncode == 0:
            print("\n==> the same playbook again: every workflow is already done, so nothing may change", flush=True)
            rerun = subprocess.run(["ansible-playbook", playbook], env=env, check=False, capture_output=True, text=True)
            sys.stdout.write("".join(summaries(rerun.stdout)) + rerun.stdout[rerun.stdout.rfind("PLAY RECAP"):])
            sys.stdout.flush()
        requests = vendor_requests(sandbox)

    print("\n==> what the collection sent to the sandbox")
    counts = collections.Counter("%s %s -> %s" % (r["vendor"], r["operation"] or r["path"], r["status"]) for r in requests)
    for line, count in sorted(counts.items()):
        print("    %3d x %s" % (count, line))
    print("==> %d requests; collection %s; %.1f s in all" % (len(requests), os.path.basename(tarball), time.monotonic() - started))
    if result.returncode != 0:
        return result.returncode
    changed = re.search(r"changed=(\d+)", rerun.stdout)
    if rerun.returncode != 0 or changed is None or changed.group(1) != "0":
        print("==> the re-run changed something or failed: the workflows are not idempotent", file=sys.stderr)
        return rerun.returncode or 1
    print("==> re-run: changed=0, %d requests" % (len(requests) - first_run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
