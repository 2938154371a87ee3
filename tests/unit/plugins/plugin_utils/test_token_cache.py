# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-run Falcon token cache: one token for many clients, private files, keys that keep credentials apart."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import falcon
from ansible_collections.caseops.desk.plugins.module_utils.transport import RetryPolicy, Transport
from ansible_collections.caseops.desk.plugins.plugin_utils import token_cache
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

CLIENT_ID = "0123456789abcdef0123456789abcdef"
SECRET = "FalconCacheTestSecret0123456789ABCDEFGH"


class TokenServer:
    """Issues numbered tokens and answers every other request with an empty page."""

    def __init__(self, expires_in=1799):
        self.issued = []
        self.expires_in = expires_in

    def __call__(self, request):
        if request["path"].endswith("/oauth2/token"):
            token = "cached-token-%04d" % (len(self.issued) + 1)
            self.issued.append(token)
            return Answer(201, {"access_token": token, "expires_in": self.expires_in})
        return Answer(200, {"resources": [], "meta": {"pagination": {"total": 0}}})


def new_client(server, secret=SECRET, member_cid=None, base_url=None):
    transport = Transport(base_url or server.url, "Falcon", error_hint=falcon.error_hint, retry=RetryPolicy(sleep=lambda s: None))
    return falcon.FalconClient(transport, client_id=CLIENT_ID, client_secret=secret, member_cid=member_cid)


@pytest.fixture
def run_tmp(tmp_path):
    directory = tmp_path / "ansible-local-run"
    directory.mkdir(mode=0o700)
    os.chmod(str(directory), 0o700)
    return str(directory)


def token_requests(server):
    return [r for r in server.requests if r["path"].endswith("/oauth2/token")]


def test_ten_clients_of_one_run_share_one_token(server, run_tmp):
    server.script = TokenServer()
    with token_cache.run_token_cache(run_tmp):
        for dummy in range(10):
            new_client(server).find_case_ids(limit=1)
    assert len(token_requests(server)) == 1
    assert falcon.FalconClient.token_cache is None  # cleared when the block ends


def test_without_the_cache_every_client_asks(server):
    server.script = TokenServer()
    for dummy in range(3):
        new_client(server).find_case_ids(limit=1)
    assert len(token_requests(server)) == 3


def test_token_files_are_private_and_name_no_credential(server, run_tmp):
    server.script = TokenServer()
    with token_cache.run_token_cache(run_tmp):
        new_client(server).find_case_ids(limit=1)
    names = [name for name in os.listdir(run_tmp) if name.endswith(".json")]
    assert len(names) == 1
    path = os.path.join(run_tmp, names[0])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert SECRET not in names[0] and CLIENT_ID not in names[0]
    with open(path) as handle:
        content = handle.read()
    assert SECRET not in content and "cached-token-0001" in content


def test_other_credentials_member_cid_or_url_get_their_own_token(server, run_tmp):
    server.script = TokenServer()
    with token_cache.run_token_cache(run_tmp):
        new_client(server).find_case_ids(limit=1)
        new_client(server, secret=SECRET + "X").find_case_ids(limit=1)
        new_client(server, member_cid="abcdef").find_case_ids(limit=1)
        new_client(server).find_case_ids(limit=1)
    assert len(token_requests(server)) == 3


def test_a_token_near_its_expiry_is_not_lent(server, run_tmp):
    server.script = TokenServer(expires_in=60)  # inside the 120 s renewal window at once
    with token_cache.run_token_cache(run_tmp):
        new_client(server).find_case_ids(limit=1)
        new_client(server).find_case_ids(limit=1)
    assert len(token_requests(server)) == 2


def test_a_revoked_cached_token_is_replaced_once(server, run_tmp):
    tokens = TokenServer()
    revoked = set()

    def script(request):
        auth = request["headers"].get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:] in revoked:
            return Answer(401, {"errors": [{"code": 401, "message": "access denied"}]})
        return tokens(request)
    server.script = script
    with token_cache.run_token_cache(run_tmp):
        new_client(server).find_case_ids(limit=1)
        revoked.add(tokens.issued[0])
        new_client(server).find_case_ids(limit=1)  # 401, renews, keeps the new token
        new_client(server).find_case_ids(limit=1)  # uses the new token
    assert len(token_requests(server)) == 2


def test_the_secret_is_redacted_and_the_lent_token_too(server, run_tmp):
    server.script = TokenServer()
    with token_cache.run_token_cache(run_tmp):
        new_client(server).find_case_ids(limit=1)
        client = new_client(server)
        client.find_case_ids(limit=1)
    assert client.transport.redact("x %s y" % tokens_of(server)[0]) == "x ******** y"


def tokens_of(server):
    return server.script.issued


def test_no_cache_in_a_directory_others_can_read(server, tmp_path):
    directory = tmp_path / "shared"
    directory.mkdir()
    os.chmod(str(directory), 0o755)
    server.script = TokenServer()
    with token_cache.run_token_cache(str(directory)) as cache:
        assert cache is None
        new_client(server).find_case_ids(limit=1)
        new_client(server).find_case_ids(limit=1)
    assert len(token_requests(server)) == 2 and os.listdir(str(directory)) == []


def test_a_passed_token_is_used_and_not_replaced(server, run_tmp):
    server.script = TokenServer()
    with token_cache.run_token_cache(run_tmp):
        client = new_client(server)
        client.token = falcon.FalconToken("passed-token-abcdef", None)
        client.find_case_ids(limit=1)
    assert token_requests(server) == []


class SlowTokenServer(TokenServer):
    """Takes its time over a token, so parallel workers ask at the same moment."""

    def __call__(self, request):
        answer = super(SlowTokenServer, self).__call__(request)
        if request["path"].endswith("/oauth2/token"):
            answer.delay = 0.5
        return answer


def _worker(url, directory):
    server = type("Server", (), {"url": url})()
    with token_cache.run_token_cache(directory):
        new_client(server).find_case_ids(limit=1)


def test_parallel_workers_wait_for_the_first_token(server, run_tmp):
    import multiprocessing  # pylint: disable=import-outside-toplevel
    server.script = SlowTokenServer()
    context = multiprocessing.get_context("fork")  # as Ansible forks its workers
    workers = [context.Process(target=_worker, args=(server.url, run_tmp)) for dummy in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert len(token_requests(server)) == 1
    assert len([r for r in server.requests if not r["path"].endswith("/oauth2/token")]) == 3
