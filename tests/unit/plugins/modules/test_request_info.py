# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""request_info logic with a spec'd mock client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils.cloudforce_one import CloudforceOneClient
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.modules import request_info

RID = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"


def module_with(**params):
    defaults = dict(gather=["requests"], request_id=None, status=None, request_type=None, created_after=None,
                    created_before=None, completed_after=None, completed_before=None, sort_by="created",
                    sort_order="asc", page_size=50)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=False)


@pytest.fixture
def client():
    return mock.create_autospec(CloudforceOneClient, instance=True)


def test_list_with_filters(client):
    client.list_requests.return_value = [{"id": RID}]
    result = request_info.run(module_with(status="open", request_type="Victomology", created_after="2026-01-01",
                                          completed_before="2026-03-01T00:00:00+01:00", sort_order="desc"), client)
    client.list_requests.assert_called_once_with(
        status="open", request_type="Victomology", created_after="2026-01-01T00:00:00Z", created_before=None,
        completed_after=None, completed_before="2026-02-28T23:00:00Z", sort_by="created", sort_order="desc", page_size=50)
    assert result == dict(changed=False, requests=[{"id": RID}])


def test_by_id(client):
    client.get_request.return_value = {"id": RID}
    assert request_info.run(module_with(request_id=RID.upper()), client)["requests"] == [{"id": RID}]
    client.get_request.assert_called_once_with(RID)
    client.list_requests.assert_not_called()


def test_unknown_id_fails_clearly(client):
    client.get_request.return_value = None
    with pytest.raises(InvalidInputError) as caught:
        request_info.run(module_with(request_id=RID), client)
    assert "does not exist" in caught.value.msg


def test_quota_types_constants_without_listing(client):
    client.quota.return_value = {"quota": 120}
    client.request_types.return_value = ["Victomology"]
    client.constants.return_value = {"tlp": ["clear"]}
    result = request_info.run(module_with(gather=["quota", "types", "constants"]), client)
    assert result == dict(changed=False, quota={"quota": 120}, types=["Victomology"], constants={"tlp": ["clear"]})
    client.list_requests.assert_not_called()


@pytest.mark.parametrize("params, text", [
    (dict(request_id=RID, status="open"), "cannot be combined"),
    (dict(created_after="soon"), "created_after must be a date"),
    (dict(completed_after="2026-02-01", completed_before="2026-01-01"), "must be earlier than"),
    (dict(request_type=" "), "request_type must not be empty"),
    (dict(page_size=1001), "page_size"),
])
def test_bad_input_is_refused_before_any_call(client, params, text):
    with pytest.raises(InvalidInputError) as caught:
        request_info.run(module_with(**params), client)
    assert text in caught.value.msg
    assert client.method_calls == []
