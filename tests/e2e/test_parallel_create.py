# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Four ansible-playbook runs started at once, each ensuring the same object, make exactly one (issue 13, item 4).

Every create is slowed by a sandbox delay fault, so the runs overlap for certain: without the create guard's lock
each run would look, find nothing and create.  With it, one run creates and the others wait, look and find it.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

from context import SandboxConfig  # noqa: E402  pylint: disable=wrong-import-position,import-error
from sandbox_process import connection_env  # noqa: E402  pylint: disable=wrong-import-position,import-error

RUNS = 4
CREATE_DELAY = 2.0
CREATES = {
    "request": ("POST", r"/cloudforce-one/requests/new$", "cloudforce-one-request-new"),
    "request_message": ("POST", r"/cloudforce-one/requests/[^/]+/message/new$", "cloudforce-one-request-message-new"),
    "case_activity": ("POST", r"^/message-center/entities/case-activity/v1$", "CaseAddActivity"),
    "case": ("POST", r"^/message-center/entities/case/v2$", "CreateCaseV2"),
    "case_attachment": ("POST", r"^/message-center/entities/case-attachment/v1$", "CaseAddAttachment"),
    # One case task with a comment and a file: each of the three writes is slowed, each guarded on its own.
    "case_with_extras": ("POST", r"^/message-center/entities/(case/v2|case-activity/v1|case-attachment/v1)$",
                         ("CreateCaseV2", "CaseAddActivity", "CaseAddAttachment")),
}


def run_in_parallel(sandbox_url, tmp_path, extra_vars):
    env = dict(os.environ)
    env.update(connection_env(sandbox_url))
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
                # One private lock directory for these runs, as one controller user would have.
                "XDG_RUNTIME_DIR": str(tmp_path)})
    command = ["ansible-playbook", os.path.join(HERE, "playbooks", "parallel_create.yml"), "-e", json.dumps(extra_vars)]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _run in range(RUNS)]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    return [process.returncode for process in processes], outputs


def cloudflare_request(sandbox_url, summary):
    config = SandboxConfig()
    url = "%s/client/v4/accounts/%s/cloudforce-one/requests/new" % (sandbox_url, config["SANDBOX_CLOUDFLARE_ACCOUNT_ID"])
    body = json.dumps({"summary": summary, "content": "A thread for parallel messages.", "request_type": "Vulnerability"})
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + config["SANDBOX_CLOUDFLARE_API_TOKEN"]})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode())["result"]["id"]


@pytest.mark.parametrize("path", sorted(CREATES))
def test_four_parallel_runs_make_one_object(sandbox_url, control, tmp_path, path):
    tag = "parallel-%s-%s" % (path, uuid.uuid4().hex[:8])
    extra_vars = {"create_path": path, "summary": tag, "text": tag}
    if path == "request_message":
        extra_vars["request_id"] = cloudflare_request(sandbox_url, tag + " thread")
    if path in ("case_activity", "case_attachment"):
        case = {"title": tag, "type": "fc:contact", "body": "A case for parallel comments and files."}
        extra_vars["case_id"] = control("POST", "/_sandbox/falcon/cases", case)["id"]
    method, path_regex, operation = CREATES[path]
    operations = operation if isinstance(operation, tuple) else (operation,)
    control("POST", "/_sandbox/faults", {"match": {"method": method, "path_regex": path_regex}, "action": "delay",
                                         "delay": CREATE_DELAY, "count": RUNS * len(operations)})
    mark = control("GET", "/_sandbox/requests?limit=0")["last_seq"]
    started = time.monotonic()
    try:
        codes, outputs = run_in_parallel(sandbox_url, tmp_path, extra_vars)
    finally:
        control("DELETE", "/_sandbox/faults")
    elapsed = time.monotonic() - started

    assert codes == [0] * RUNS, "\n".join(o[-2000:] for o in outputs)
    changed = [o.count("PARALLEL-RESULT changed=True") for o in outputs]
    assert sorted(changed) == [0] * (RUNS - 1) + [1], "exactly one run creates; the others find its object"
    sent = control("GET", "/_sandbox/requests?since=%d" % mark)["requests"]
    assert [[r["operation"] for r in sent].count(name) for name in operations] == [1] * len(operations)
    assert elapsed >= CREATE_DELAY

    state = control("GET", "/_sandbox/state")
    if path == "request":
        made = [r for r in state["cloudforce_one"]["requests"].values() if r["summary"] == tag]
    elif path == "request_message":
        thread = state["cloudforce_one"]["requests"][extra_vars["request_id"]]["messages"]
        made = [m for m in thread if m["content"] == tag]
    elif path in ("case", "case_with_extras"):
        made = [c for c in state["falcon"]["cases"].values() if c.get("title", "").endswith(tag)]
        if path == "case_with_extras":
            assert [a["name"] for a in made[0].get("attachments") or []] == [tag + ".txt"]
            assert [a["body"] for a in state["falcon"]["activities"].values() if a["case_id"] == made[0]["id"]] == [tag]
    elif path == "case_attachment":
        case = state["falcon"]["cases"][extra_vars["case_id"]]
        made = [a for a in case.get("attachments") or [] if a.get("name") == tag + ".txt"]
    else:
        made = [a for a in state["falcon"]["activities"].values() if a.get("body") == tag]
    assert len(made) == 1
