# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""falcon_auth: refuses to run without no_log, returns a token dict other modules accept."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils.args import FALCON_OPTIONS
from ansible_collections.caseops.desk.plugins.module_utils.errors import ConfigurationError
from ansible_collections.caseops.desk.plugins.module_utils.falcon import FalconClient, FalconToken
from ansible_collections.caseops.desk.plugins.modules import falcon_auth
from ansible_collections.caseops.desk.tests.unit.conftest import Answer


@pytest.fixture
def client():
    client = mock.create_autospec(FalconClient, instance=True)
    client.base_url = "https://api.us-2.crowdstrike.com"
    client.expires_in = 1799
    client.region = "us-2"
    client.authenticate.return_value = FalconToken("tok", 1234.5)
    return client


def test_refuses_without_no_log_and_sends_nothing(client):
    with pytest.raises(ConfigurationError) as caught:
        falcon_auth.run(mock.Mock(no_log=False, params={"state": "present"}), client)
    assert "no_log: true" in caught.value.msg
    client.authenticate.assert_not_called()


def test_returns_exactly_what_falcon_auth_option_accepts(client):
    result = falcon_auth.run(mock.Mock(no_log=True, params={"state": "present"}), client)
    assert result["changed"] is False
    assert result["auth"] == dict(access_token="tok", base_url="https://api.us-2.crowdstrike.com", expires_at=1234.5)
    # Every key it returns is accepted by falcon_auth; "cloud" is there for crowdstrike.falcon.auth's result.
    assert set(result["auth"]) == set(FALCON_OPTIONS["falcon_auth"]["options"]) - {"cloud"}
    assert result["expires_in"] == 1799 and result["region"] == "us-2"


def test_main_end_to_end_against_a_local_token_endpoint(run_main, server):
    server.script = [Answer(201, {"access_token": "issued-token-value", "token_type": "bearer", "expires_in": 1799},
                            {"X-Cs-Region": "us-1"})]
    result, failed = run_main(falcon_auth, {"falcon_base_url": server.url, "falcon_client_id": "id",
                                            "falcon_client_secret": "FalconSecretValue", "_ansible_no_log": True})
    assert not failed, result
    assert result["auth"]["access_token"] == "issued-token-value"
    assert result["auth"]["base_url"] == server.url
    assert len(server.requests) == 1


def test_main_wrong_secret_is_a_clear_error_without_the_secret(run_main, server):
    server.script = [Answer(403, {"meta": {"trace_id": "abc"}, "errors": [{"code": 403, "message": "access denied, authorization failed"}]})]
    result, failed = run_main(falcon_auth, {"falcon_base_url": server.url, "falcon_client_id": "id",
                                            "falcon_client_secret": "WrongSecretValue123", "_ansible_no_log": True})
    assert failed
    assert "HTTP 403" in result["msg"] and "access denied" in result["msg"]
    assert "refused the client credentials" in result["msg"] and "scope" not in result["msg"]
    assert result["trace_id"] == "abc"
    assert "WrongSecretValue123" not in repr(result)


def revoking(check_mode=False):
    return mock.Mock(params={"state": "absent"}, check_mode=check_mode, no_log=False)


@pytest.fixture
def holder(client):
    client.token = FalconToken("tok", None)
    client.can_authenticate = True
    client.clock = mock.Mock(return_value=1000.0)
    return client


def test_revoke_an_active_token(holder):
    holder.token_is_active.return_value = True
    assert falcon_auth.run(revoking(), holder) == dict(changed=True, revoked=True)
    holder.revoke.assert_called_once_with("tok")


def test_revoke_again_changes_nothing(holder):
    holder.token_is_active.return_value = False
    assert falcon_auth.run(revoking(), holder) == dict(changed=False, revoked=False)
    holder.revoke.assert_not_called()


def test_revoke_in_check_mode_predicts(holder):
    holder.token_is_active.return_value = True
    assert falcon_auth.run(revoking(check_mode=True), holder)["changed"] is True
    holder.revoke.assert_not_called()


def test_an_expired_token_needs_no_request(holder):
    holder.token = FalconToken("tok", 999.0)
    assert falcon_auth.run(revoking(), holder)["changed"] is False
    holder.token_is_active.assert_not_called()
    holder.revoke.assert_not_called()


def test_revoke_needs_a_token_and_credentials(holder):
    holder.can_authenticate = False
    with pytest.raises(ConfigurationError) as caught:
        falcon_auth.run(revoking(), holder)
    assert "falcon_client_secret" in caught.value.msg
    holder.token = None
    with pytest.raises(ConfigurationError) as caught:
        falcon_auth.run(revoking(), holder)
    assert "revokes the token given in falcon_auth" in caught.value.msg
    holder.token_is_active.assert_not_called()
