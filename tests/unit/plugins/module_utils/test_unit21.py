# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit21Client: the u21-key header, the base URL, errors, configuration checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import errors, unit21
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

KEY = "unit-test-unit21-key-000000000000"


def client(server, **params):
    base = dict(unit21_base_url=server.url, unit21_api_key=KEY, max_retries=1)
    base.update(params)
    return unit21.client_from_params(base)


def test_key_header_and_v1_prefix(server):
    server.script = [Answer(200, {"unit21_id": 100001, "case_id": "ext-1"})]
    assert client(server).get_case(100001)["case_id"] == "ext-1"
    assert server.requests[0]["path"] == "/v1/cases/100001"
    assert server.requests[0]["headers"]["u21-key"] == KEY


def test_a_base_url_with_v1_is_kept():
    assert unit21.normalize_base_url("https://api.unit21.com/v1/") == "https://api.unit21.com/v1"
    assert unit21.normalize_base_url("https://sandbox1-api.unit21.com") == "https://sandbox1-api.unit21.com/v1"


@pytest.mark.parametrize("value", ["ext-1", "1/../2", "", "12 3"])
def test_only_numeric_ids_reach_the_url(server, value):
    with pytest.raises(errors.InvalidInputError):
        client(server).get_case(value)
    assert server.requests == []


@pytest.mark.parametrize("params, message", [
    (dict(unit21_api_key=None), "unit21_api_key is required"),
    (dict(unit21_base_url=""), "https://api.unit21.com"),
])
def test_configuration_is_checked_before_any_request(server, params, message):
    with pytest.raises(errors.ConfigurationError) as caught:
        client(server, **params)
    assert message in caught.value.msg


def test_locked_is_retried_then_explained(server):
    server.script = [Answer(423, {"error_code": "locked", "message": "Object updates in progress. Please try again later."},
                            {"Retry-After": "0"})]
    with pytest.raises(errors.ApiError) as caught:
        client(server).get_case(7)
    assert len(server.requests) == 2
    assert "[locked] Object updates in progress" in caught.value.msg
    assert "still processing" in caught.value.msg


def test_unauthorized_names_the_environment_and_hides_the_key(server):
    server.script = [Answer(401, {"error_code": "unauthorized", "message": "invalid key %s" % KEY})]
    with pytest.raises(errors.AuthenticationError) as caught:
        client(server).get_case(7)
    assert "unit21_base_url" in caught.value.msg
    assert KEY not in repr(caught.value.to_fail_kwargs())


def test_rate_limit_waits_for_the_window_reset(server):
    reset = str(int(time.time()) + 2)
    server.script = [Answer(429, {"error_code": "rate_limit_exceeded", "message": "slow"}, {"X-RateLimit-Reset": reset}),
                     Answer(200, {"unit21_id": 7})]
    unit21_client = client(server, max_retries=2)
    slept = []
    unit21_client.transport.retry.sleep = slept.append
    assert unit21_client.get_case(7) == {"unit21_id": 7}
    assert len(slept) == 1 and 0.5 < slept[0] <= 2.5
