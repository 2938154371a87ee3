# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX credential types, end to end, with the installed collection.

1. The environment a controller builds from the three credential types (optional fields left empty)
   is all the modules need: a read-only play against the sandbox succeeds, with no secret printed.
2. playbooks/awx_credential_types.yml imports the definitions through the controller API, once:
   a second run changes nothing, a changed definition is patched.
"""

import base64
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "packaging"))
sys.path.insert(0, os.path.join(REPO, "tests", "sandbox"))

from context import SandboxConfig  # noqa: E402  pylint: disable=wrong-import-position,import-error
from credential_types import load, render_env  # noqa: E402  pylint: disable=wrong-import-position,import-error

VENDOR_ENV = re.compile(r"^(FALCON|CLOUDFLARE|UNIT21|CASEOPS)_")


def clean_env(**extra):
    """The test runner's environment without any vendor setting: only the credential injection counts."""
    env = dict((k, v) for k, v in os.environ.items() if not VENDOR_ENV.match(k))
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_LOCALHOST_WARNING": "0",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0"})
    env.update(extra)
    return env


def ansible_playbook(playbook, env, *options):
    result = subprocess.run(["ansible-playbook", playbook] + list(options), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, check=False)
    return result.returncode, result.stdout


def recap(output):
    found = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output)
    assert found, output[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, found.groups())))


@pytest.mark.parametrize("cloudflare", ["api_token", "global_api_key"])
def test_injected_environment_drives_the_modules(sandbox_url, cloudflare):
    config = SandboxConfig()
    falcon = {"client_id": config["SANDBOX_FALCON_CLIENT_ID"], "client_secret": config["SANDBOX_FALCON_CLIENT_SECRET"],
              "base_url": sandbox_url}
    cf1 = {"account_id": config["SANDBOX_CLOUDFLARE_ACCOUNT_ID"], "base_url": sandbox_url + "/client/v4"}
    if cloudflare == "api_token":
        cf1["api_token"] = config["SANDBOX_CLOUDFLARE_API_TOKEN"]
    else:
        cf1.update(email=config["SANDBOX_CLOUDFLARE_EMAIL"], api_key=config["SANDBOX_CLOUDFLARE_API_KEY"])
    unit21 = {"api_key": config["SANDBOX_UNIT21_API_KEY"], "base_url": sandbox_url}
    injected = {}
    for name, inputs in (("falcon", falcon), ("cloudforce_one", cf1), ("unit21", unit21)):
        injected.update(render_env(load(name), inputs))
    assert injected["FALCON_CLOUD"] == "" and injected["FALCON_MEMBER_CID"] == ""  # left empty, as most users do

    code, output = ansible_playbook(os.path.join(HERE, "playbooks", "awx_credentials.yml"), clean_env(**injected), "-vvv")
    assert code == 0, output[-3000:]
    assert recap(output)["failed"] == 0
    for secret in config.secrets():
        assert secret not in output


class FakeController(BaseHTTPRequestHandler):
    """Just enough of /api/v2/credential_types/ (list by name, create, patch), with basic auth."""

    store = {}
    calls = []
    auth = "Basic " + base64.b64encode(b"admin:controller-pass").decode()

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method):
        url = urlparse(self.path)
        self.calls.append((method, url.path))
        if self.headers.get("Authorization") != self.auth:
            return self.reply(401, {"detail": "Authentication credentials were not provided."})
        body = None
        if method in ("POST", "PATCH"):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if set(body) - {"name", "description", "kind", "inputs", "injectors"}:
                return self.reply(400, {"detail": "unexpected keys"})
        if method == "GET" and url.path == "/api/v2/credential_types/":
            name = parse_qs(url.query).get("name", [None])[0]
            found = [t for t in self.store.values() if t["name"] == name]
            return self.reply(200, {"count": len(found), "results": found})
        if method == "POST" and url.path == "/api/v2/credential_types/":
            new_id = len(self.store) + 1
            self.store[new_id] = dict(body, id=new_id, url="/api/v2/credential_types/%d/" % new_id, managed=False)
            return self.reply(201, self.store[new_id])
        match = re.match(r"^/api/v2/credential_types/(\d+)/$", url.path)
        if method == "PATCH" and match and int(match.group(1)) in self.store:
            self.store[int(match.group(1))].update(body)
            return self.reply(200, self.store[int(match.group(1))])
        return self.reply(404, {"detail": "Not found."})

    def do_GET(self):  # noqa: N802
        self.handle_any("GET")

    def do_POST(self):  # noqa: N802
        self.handle_any("POST")

    def do_PATCH(self):  # noqa: N802
        self.handle_any("PATCH")


@pytest.fixture
def controller():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeController)
    FakeController.store.clear()
    del FakeController.calls[:]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_import_playbook_creates_once_and_updates_drift(controller):
    env = clean_env(CONTROLLER_HOST=controller + "/", CONTROLLER_USERNAME="admin", CONTROLLER_PASSWORD="controller-pass")
    shipped = sorted((load(name) for name in ("falcon", "cloudforce_one", "unit21")), key=lambda d: d["name"])

    del FakeController.calls[:]
    code, output = ansible_playbook("caseops.desk.awx_credential_types", env)
    assert code == 0, output[-3000:]
    assert recap(output)["changed"] == 1  # the create task (the recap counts tasks, not loop items)
    assert sorted(call[0] for call in FakeController.calls) == ["GET"] * 3 + ["POST"] * 3
    stored = sorted(FakeController.store.values(), key=lambda d: d["name"])
    assert [dict((k, t[k]) for k in ("name", "description", "kind", "inputs", "injectors")) for t in stored] == shipped
    assert "controller-pass" not in output

    del FakeController.calls[:]
    code, output = ansible_playbook("caseops.desk.awx_credential_types", env)
    assert code == 0 and recap(output)["changed"] == 0, output[-3000:]
    assert [call[0] for call in FakeController.calls] == ["GET"] * 3  # a re-run only reads

    # Someone edited a type in the UI: the next run puts the shipped definition back.
    FakeController.store[1]["injectors"] = {"env": {"SOMETHING_ELSE": "{{ client_id }}"}}
    del FakeController.calls[:]
    code, output = ansible_playbook("caseops.desk.awx_credential_types", env)
    assert code == 0 and recap(output)["changed"] == 1, output[-3000:]
    assert sorted(FakeController.calls)[-1] == ("PATCH", "/api/v2/credential_types/1/")
    assert [call[0] for call in FakeController.calls].count("PATCH") == 1
    assert FakeController.store[1]["injectors"] == [d for d in shipped if d["name"] == FakeController.store[1]["name"]][0]["injectors"]


def test_import_playbook_explains_missing_settings():
    code, output = ansible_playbook("caseops.desk.awx_credential_types", clean_env())
    assert code != 0
    assert "Set CONTROLLER_HOST" in output
