# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""request_message logic with a spec'd mock client, and its argument handling through main()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils.cloudforce_one import CloudforceOneClient
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError
from ansible_collections.caseops.desk.plugins.modules import request_message

RID = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"


def module_with(check_mode=False, **params):
    defaults = dict(request_id=RID, content=None, message_id=None, allow_duplicates=False, state="present")
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=check_mode)


def msg(mid, content):
    return dict(id=mid, author="analyst@example.com", content=content, created="c", updated="u", is_follow_on_request=False)


@pytest.fixture
def client():
    made = mock.create_autospec(CloudforceOneClient, instance=True)
    made.email = None
    made.list_messages.return_value = [msg(1, "first"), msg(2, "hello"), msg(3, "hello")]
    made.find_message.side_effect = lambda rid, mid: next((m for m in made.list_messages.return_value if m["id"] == mid), None)
    return made


def test_identical_content_is_unchanged_and_returns_the_oldest_with_a_warning(client):
    module = module_with(content="hello")
    result = request_message.run(module, client)
    assert result["changed"] is False and result["message"]["id"] == 2
    assert "2 objects are messages with this content" in module.warn.call_args[0][0]
    client.create_message.assert_not_called()
    # The thread as listed, so that a later task need not list it again.
    assert result["messages"] == [msg(1, "first"), msg(2, "hello"), msg(3, "hello")]
    assert client.list_messages.call_count == 1


def test_new_content_is_posted(client):
    client.create_message.return_value = msg(4, "new")
    result = request_message.run(module_with(content="new"), client)
    client.create_message.assert_called_once_with(RID, "new", recover=mock.ANY)
    client.new_message_finder.assert_called_once_with(RID, "new", known_ids=[])
    assert result["changed"] and result["message"]["id"] == 4
    assert result["diff"] == dict(before={}, after=msg(4, "new"))
    assert [m["id"] for m in result["messages"]] == [1, 2, 3, 4]
    assert client.list_messages.call_count == 1


def test_a_deliberate_repeat_tells_recovery_which_copies_are_old(client):
    client.create_message.return_value = msg(4, "hello")
    result = request_message.run(module_with(content="hello", allow_duplicates=True), client)
    client.new_message_finder.assert_called_once_with(RID, "hello", known_ids=[2, 3])
    client.create_message.assert_called_once_with(RID, "hello", recover=mock.ANY)
    assert result["changed"]


def test_check_mode_predicts_the_post(client):
    result = request_message.run(module_with(check_mode=True, content="new"), client)
    assert result["changed"] and result["message"]["content"] == "new" and result["message"]["id"] is None
    assert result["messages"][:3] == client.list_messages.return_value and result["messages"][3] == result["message"]
    client.create_message.assert_not_called()


def test_edit_by_id_only_when_content_differs(client):
    assert request_message.run(module_with(content="first", message_id=1), client)["changed"] is False
    client.update_message.return_value = msg(1, "changed")
    result = request_message.run(module_with(content="changed", message_id=1), client)
    client.update_message.assert_called_once_with(RID, 1, "changed")
    assert result["diff"]["before"]["content"] == "first" and result["diff"]["after"]["content"] == "changed"
    # By id, only that message is looked for (the listing stops at its page), so no thread is returned.
    assert client.find_message.call_args_list == [mock.call(RID, 1)] * 2 and "messages" not in result
    client.list_messages.assert_not_called()


def test_edit_in_check_mode_sends_nothing(client):
    result = request_message.run(module_with(check_mode=True, content="changed", message_id=1), client)
    assert result["changed"] and result["message"]["content"] == "changed"
    client.update_message.assert_not_called()


def test_edit_of_an_unknown_message_fails_clearly(client):
    with pytest.raises(InvalidInputError) as caught:
        request_message.run(module_with(content="x", message_id=99), client)
    assert "Message 99 is not on request" in caught.value.msg


def test_absent_by_content_deletes_every_copy(client):
    result = request_message.run(module_with(content="hello", state="absent"), client)
    assert client.delete_message.call_args_list == [mock.call(RID, 2), mock.call(RID, 3)]
    assert result["changed"] and result["deleted_ids"] == [2, 3] and result["message"]["id"] == 2
    assert result["messages"] == [msg(1, "first")]


def test_absent_by_id_when_gone_is_unchanged(client):
    result = request_message.run(module_with(message_id=42, state="absent"), client)
    assert result["changed"] is False and result["message"] is None and result["deleted_ids"] == []
    client.delete_message.assert_not_called()


def test_absent_in_check_mode_deletes_nothing(client):
    result = request_message.run(module_with(check_mode=True, message_id=1, state="absent"), client)
    assert result["changed"] and result["deleted_ids"] == [1] and result["message"]["id"] == 1
    client.delete_message.assert_not_called()


def test_absent_by_id_deletes_that_message_whatever_content_says(client):
    result = request_message.run(module_with(message_id=2, content="something else", state="absent"), client)
    assert result["changed"] and result["deleted_ids"] == [2]
    client.delete_message.assert_called_once_with(RID, 2)
    client.list_messages.assert_not_called()


@pytest.mark.parametrize("params, text", [
    (dict(content="   "), "content must not be empty"),
    (dict(content=None), "content is required with state=present"),
    (dict(state="absent"), "state=absent needs message_id"),
    (dict(content="x", request_id="RFI-2026-000001"), "request UUID"),
    (dict(content="x", message_id=-1), "non-negative"),
])
def test_bad_input_is_refused_before_any_call(client, params, text):
    with pytest.raises(InvalidInputError) as caught:
        request_message.run(module_with(**params), client)
    assert text in caught.value.msg
    assert client.method_calls == []


def test_main_rejects_a_non_integer_message_id(run_main):
    result, failed = run_main(request_message, {"request_id": RID, "content": "x", "message_id": "abc",
                                                "cloudflare_api_token": "t" * 40,
                                                "cloudflare_account_id": "023e105f4ecef8ad9ca31a8372d0c353"})
    assert failed and "message_id" in result["msg"] and "int" in result["msg"]


def test_whitespace_and_line_endings_do_not_make_another_message(client):
    client.list_messages.return_value = [msg(5, "line one\r\nline two")]
    result = request_message.run(module_with(content="line one\nline two\n"), client)
    assert result["changed"] is False and result["message"]["id"] == 5
    client.create_message.assert_not_called()
