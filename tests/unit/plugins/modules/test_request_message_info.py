# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""request_message_info logic with a spec'd mock client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils.cloudforce_one import CloudforceOneClient
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.modules import request_message_info

RID = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"


def module_with(**params):
    defaults = dict(request_id=RID, after=None, before=None, sort_by="created", sort_order="asc", page_size=50)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=False)


@pytest.fixture
def client():
    made = mock.create_autospec(CloudforceOneClient, instance=True)
    made.list_messages.return_value = [{"id": 1}]
    return made


def test_dates_are_converted_and_passed_on(client):
    result = request_message_info.run(module_with(after="2026-01-01", before="2026-02-01 12:00+01:00",
                                                  sort_by="updated", sort_order="desc", page_size=10), client)
    client.list_messages.assert_called_once_with(RID, after="2026-01-01T00:00:00Z", before="2026-02-01T11:00:00Z",
                                                 sort_by="updated", sort_order="desc", page_size=10)
    assert result == dict(changed=False, messages=[{"id": 1}])


@pytest.mark.parametrize("params, text", [
    (dict(after="last tuesday"), "after must be a date or date-time"),
    (dict(before="2026-02-30"), "before must be a date or date-time"),
    (dict(after="2026-02-01", before="2026-01-01"), "must be earlier than"),
    (dict(page_size=0), "page_size must be between 1 and 1000"),
    (dict(request_id="nope"), "request UUID"),
])
def test_bad_input_is_refused_before_any_call(client, params, text):
    with pytest.raises(InvalidInputError) as caught:
        request_message_info.run(module_with(**params), client)
    assert text in caught.value.msg
    assert client.method_calls == []
