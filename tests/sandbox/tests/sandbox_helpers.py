"""Helpers for the sandbox self-tests: start the real CLI, get tokens, make cases, read the log."""

import asyncio
import os
import sys
import threading

import requests
from aiohttp import web

SANDBOX_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SANDBOX_DIR not in sys.path:
    sys.path.insert(0, SANDBOX_DIR)

from context import SandboxConfig, SandboxContext  # noqa: E402  pylint: disable=wrong-import-position,import-error
from launcher import SandboxProcess  # noqa: E402,F401  pylint: disable=wrong-import-position,import-error,unused-import

CONFIG = SandboxConfig()
USER_UUID = "01234567-89ab-cdef-0123-456789abcdef"
TIMEOUT = 10


def token_form(**extra):
    form = {"client_id": CONFIG["SANDBOX_FALCON_CLIENT_ID"], "client_secret": CONFIG["SANDBOX_FALCON_CLIENT_SECRET"]}
    form.update(extra)
    return form


def issue_token(base_url, **extra):
    response = requests.post(base_url + "/oauth2/token", data=token_form(**extra), timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


def bearer(token):
    return {"Authorization": "Bearer %s" % token}


def logged(base_url, **params):
    return requests.get(base_url + "/_sandbox/requests", params=params, timeout=TIMEOUT).json()["requests"]


def create_case(base_url, headers, **fields):
    body = {"title": "Case title", "body": "Case body", "type": "fc:contact"}
    body.update(fields)
    response = requests.post(base_url + "/message-center/entities/case/v2", json=body, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["resources"][0]["id"]


def seed_case(base_url, **fields):
    """A case made through the control API, where any field may be set."""
    response = requests.post(base_url + "/_sandbox/falcon/cases", json=fields, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()


def add_fault(base_url, **rule):
    response = requests.post(base_url + "/_sandbox/faults", json=rule, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()


# -- one vendor module in-process (no core), for tests that need a settable clock --------------
class Clock(object):
    """A settable clock, so ordering and rate windows do not depend on real time."""

    def __init__(self, now=1767225600.0):  # 2026-01-01T00:00:00Z
        self.now = now

    def __call__(self):
        return self.now

    def tick(self, seconds=1.0):
        self.now += seconds


class BackgroundLoop(object):
    """A background event loop serving any number of aiohttp apps on 127.0.0.1."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runners = []

    def run(self, coroutine, timeout=30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def serve(self, app):
        runner = web.AppRunner(app)
        self.run(runner.setup())
        self.run(web.TCPSite(runner, "127.0.0.1", 0).start())
        self.runners.append(runner)
        return "http://127.0.0.1:%d" % runner.addresses[0][1]

    def close(self):
        for runner in reversed(self.runners):
            self.run(runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class InProcessVendor(object):
    """One vendor module served without the core, with its own context, clock and HTTP session.

    ``make_api(ctx)`` builds the VendorAPI.  Pass ``loop`` to share a
    BackgroundLoop with other apps (e.g. a webhook receiver); otherwise the
    vendor gets its own and ``close()`` stops it.
    """

    def __init__(self, make_api, environ=None, clock=None, loop=None):
        self.owns_loop = loop is None
        self.loop = loop or BackgroundLoop()
        self.clock = clock or Clock()
        self.ctx = SandboxContext(SandboxConfig(environ or {}), clock=self.clock)
        self.api = make_api(self.ctx)
        self.ctx.add_vendor(self.api)
        self.app = web.Application(client_max_size=32 * 1024 * 1024)
        self.api.register(self.app)
        self.api.register_control(self.app)
        self.url = self.loop.serve(self.app)
        self.http = requests.Session()

    def run(self, coroutine):
        return self.loop.run(coroutine)

    def control(self, method, path, body=None):
        return self.http.request(method, self.url + "/_sandbox/" + self.api.name + path, json=body, timeout=30)

    def close(self):
        self.http.close()
        if self.owns_loop:
            self.loop.close()
