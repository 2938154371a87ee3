# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""case: provider dispatch and main(); the Falcon logic is tested in module_utils/test_falcon_cases.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import providers
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.falcon import FalconClient
from ansible_collections.caseops.desk.plugins.module_utils.unit21 import Unit21Client
from ansible_collections.caseops.desk.plugins.modules import case


def module_with(check_mode=False, **params):
    defaults = dict(provider="falcon", state="present", title="Detection review", body="Please look.",
                    type="fc:detection-support", detections=None, incidents=None, user_uuid=None,
                    malware_submission_id=None, recon_rule_type=None, match_status="any", match_filter=None)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=check_mode)


@pytest.fixture
def client():
    return mock.create_autospec(FalconClient, instance=True)


def test_main_rejects_missing_title(run_main):
    result, failed = run_main(case, {"type": "fc:contact", "falcon_client_id": "x", "falcon_client_secret": "y"})
    assert failed and "title" in result["msg"]


# -- provider dispatch -------------------------------------------------------------------

def test_unit21_options_are_refused_for_falcon(client):
    with pytest.raises(InvalidInputError) as caught:
        case.run(module_with(case_id="ext-1", tags=["a:b"], lists="merge"), client)
    assert caught.value.msg == ("case_id, tags do not apply to provider falcon: case_id is for unit21; tags is for unit21.")
    assert client.method_calls == []


def test_falcon_options_are_refused_for_unit21():
    unit21_client = mock.create_autospec(Unit21Client, instance=True)
    module = module_with(provider="unit21", type="fc:contact", match_status="any", case_id="ext-1")
    with pytest.raises(InvalidInputError) as caught:
        case.run(module, unit21_client)
    assert "type does not apply to provider unit21" in caught.value.msg
    assert unit21_client.method_calls == []


def test_unit21_is_dispatched_to_the_unit21_logic():
    unit21_client = mock.create_autospec(Unit21Client, instance=True)
    unit21_client.read_case.return_value = {"unit21_id": 7, "case_id": "ext-1", "title": "Detection review",
                                            "source": ["EXTERNAL"]}
    module = module_with(provider="unit21", type=None, body=None, unit21_id=7, lists="merge", custom_data_mode="merge")
    result = case.run(module, unit21_client)
    assert result["changed"] is False and result["unit21_id"] == 7


def test_the_client_is_the_providers(monkeypatch):
    monkeypatch.setattr(providers.unit21, "client_from_params", lambda params: "u21")
    monkeypatch.setattr(providers.falcon, "client_from_params", lambda params: "falcon")
    assert providers.client_from_params({"provider": "unit21"}) == "u21"
    assert providers.client_from_params({"provider": "falcon"}) == "falcon"
    assert providers.client_from_params({}) == "falcon"


def test_falcon_is_dispatched_to_the_falcon_logic(client, monkeypatch):
    monkeypatch.setattr(case.falcon_cases, "run_case", lambda module, given: dict(changed=False, client=given))
    assert case.run(module_with(), client)["client"] is client


def test_main_refuses_state_absent(run_main):
    result, failed = run_main(case, {"title": "x", "type": "fc:contact", "state": "absent", "falcon_client_id": "x",
                                     "falcon_client_secret": "y"})
    assert failed and "state" in result["msg"] and "present" in result["msg"]


def test_main_needs_type_only_for_falcon(run_main):
    result, failed = run_main(case, {"title": "x", "falcon_client_id": "x", "falcon_client_secret": "y"})
    assert failed and "type" in result["msg"]
    result, failed = run_main(case, {"provider": "unit21", "unit21_api_key": "k", "unit21_base_url": "http://127.0.0.1:9",
                                     "status": "nope", "case_id": "ext-1"})
    assert failed and "status must be OPEN or CLOSED" in result["msg"]
