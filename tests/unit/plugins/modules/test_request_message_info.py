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
    defaults = dict(request_id=RID, after=None, before=None, sort_by="created", sort_order="asc", page_size=50,
                    known_messages=None)
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


def message(mid, created, updated=None, author="analyst@example.com"):
    return dict(id=mid, author=author, content="m%d" % mid, created=created, updated=updated or created,
                is_follow_on_request=False)


THREAD = [message(1, "2026-11-26T09:00:00.000000Z", "2026-11-26T11:00:00.000000Z"),
          message(2, "2026-11-26T10:00:00.000000Z"),
          message(3, "2026-11-26T10:00:00.000000Z"),
          message(4, "2026-11-26T10:30:00.500000Z")]


def ids(result):
    return [m["id"] for m in result["messages"]]


def test_known_messages_are_filtered_and_sorted_without_a_request(client):
    # Exclusive bounds, in any zone: the cursor's own message (1) and the one at before (4) are left out.
    result = request_message_info.run(module_with(known_messages=THREAD, after="2026-11-26T10:00:00+01:00",
                                                  before="2026-11-26T10:30:00.5Z"), client)
    assert ids(result) == [2, 3]
    assert result["changed"] is False
    assert client.method_calls == []


@pytest.mark.parametrize("sort_by, sort_order, expected", [
    ("created", "asc", [1, 2, 3, 4]),
    ("created", "desc", [4, 2, 3, 1]),  # the same time keeps the listed order
    ("updated", "asc", [2, 3, 4, 1]),
])
def test_known_messages_are_sorted_as_asked(client, sort_by, sort_order, expected):
    shuffled = [THREAD[3], THREAD[0], THREAD[1], THREAD[2]]
    result = request_message_info.run(module_with(known_messages=shuffled, sort_by=sort_by, sort_order=sort_order),
                                      client)
    assert ids(result) == expected
    assert result["messages"][0] == next(m for m in THREAD if m["id"] == expected[0])
    assert client.method_calls == []


def test_known_messages_may_be_empty(client):
    assert request_message_info.run(module_with(known_messages=[]), client) == dict(changed=False, messages=[])
    assert client.method_calls == []


@pytest.mark.parametrize("known, text", [
    ([{"content": "x", "created": "2026-11-26T09:00:00Z"}], "known_messages[0] must be a message with at least id"),
    ([THREAD[0], message(9, None)], "known_messages[1] (message 9) has no created date-time"),
    ([message(9, "yesterday")], "known_messages[0].created must be a date or date-time"),
])
def test_bad_known_messages_are_refused_before_any_call(client, known, text):
    with pytest.raises(InvalidInputError) as caught:
        request_message_info.run(module_with(known_messages=known), client)
    assert text in caught.value.msg
    assert client.method_calls == []
