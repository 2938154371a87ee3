# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared unit-test fixtures: a real local HTTP server with scripted answers, and module runners."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:
    from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
except ImportError:  # older cores read the arguments from basic._ANSIBLE_ARGS
    @contextlib.contextmanager
    def patch_module_args(args=None):
        serialized = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}))
        original = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = serialized
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = original


class Answer:
    """What the scripted server does with one request."""

    def __init__(self, status=200, body=None, headers=None, drop=False, delay=0.0, raw=None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.drop = drop
        self.delay = delay
        self.raw = raw


class ScriptedServer:
    """A threaded HTTP server on 127.0.0.1 that answers from a script and records every request.

    ``script`` is a list of Answers (consumed in order; the last one repeats) or
    a callable ``(request) -> Answer``.
    """

    def __init__(self):
        self.requests = []
        self.script = [Answer()]
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                record = dict(method=self.command, path=self.path, headers=dict(self.headers.items()), body=body)
                server.requests.append(record)
                answer = server.next_answer(record)
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.drop:
                    # Close without answering: the client cannot tell whether we acted.
                    self.close_connection = True
                    return
                payload = answer.raw if answer.raw is not None else (b"" if answer.body is None else to_bytes(json.dumps(answer.body)))
                self.send_response(answer.status)
                headers = {"Content-Type": "application/json"}
                headers.update(answer.headers)
                for name, value in headers.items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        # A short poll interval keeps shutdown (once per test) fast.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def next_answer(self, record):
        if callable(self.script):
            return self.script(record)
        if len(self.script) > 1:
            return self.script.pop(0)
        return self.script[0]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    instance = ScriptedServer()
    yield instance
    instance.close()


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result)
        self.result = result
        self.failed = failed


@pytest.fixture
def run_main(monkeypatch):
    """Run a module's main() with arguments; return (result, failed) instead of exiting."""

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fail_json(self, **kwargs):
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def runner(module, args):
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as caught:
                module.main()
        return caught.value.result, caught.value.failed

    return runner
