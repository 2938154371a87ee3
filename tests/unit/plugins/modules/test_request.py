# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""request logic with a spec'd mock client, and its argument handling through main()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils.cloudforce_one import CloudforceOneClient
from ansible_collections.caseops.desk.plugins.module_utils.errors import ApiError, InvalidInputError
from ansible_collections.caseops.desk.plugins.modules import request

RID = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"
EXISTING = dict(id=RID, readable_id="RFI-2026-000001", summary="DoS", content="q", request_type="Victomology",
                priority="routine", tlp="clear", status="open", created="c", updated="u", completed=None, tokens=1,
                message_tokens=0)


def module_with(check_mode=False, **params):
    defaults = dict(request_id=None, summary="DoS", content=None, request_type="Victomology", priority=None, tlp=None,
                    state="present")
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=check_mode)


@pytest.fixture
def client():
    made = mock.create_autospec(CloudforceOneClient, instance=True)
    made.request_types.return_value = ["Victomology", "DDoS Attack"]
    made.find_requests.return_value = []
    return made


def test_create_when_no_request_has_the_summary_and_type(client):
    client.create_request.return_value = dict(EXISTING, priority="high")
    result = request.run(module_with(content="q", priority="high"), client)
    client.create_request.assert_called_once_with(dict(summary="DoS", content="q", request_type="Victomology", priority="high"),
                                                  recover=mock.ANY)
    client.new_request_finder.assert_called_once_with("DoS", "Victomology")
    client.request_types.assert_not_called()  # the service checks the type itself (no look-up per create)
    assert result["changed"] and result["request"]["id"] == RID and result["diff"]["before"] == {}


def test_create_in_check_mode_predicts(client):
    result = request.run(module_with(check_mode=True, content="q", tlp="red"), client)
    assert result["changed"] and result["request"]["tlp"] == "red" and result["request"]["id"] is None
    assert result["request"]["status"] == "open"
    client.create_request.assert_not_called()


def test_create_needs_content_and_a_known_type(client):
    with pytest.raises(InvalidInputError) as caught:
        request.run(module_with(), client)
    assert "content is required to create" in caught.value.msg
    with pytest.raises(InvalidInputError) as caught:
        request.run(module_with(content="q", request_type="Weather", check_mode=True), client)
    assert "choose one of: Victomology, DDoS Attack" in caught.value.msg
    client.create_request.assert_not_called()


def test_a_create_reads_the_types_only_when_the_api_refuses_it(client):
    client.find_requests.return_value = []
    client.create_request.side_effect = ApiError("Cloudforce One answered HTTP 400", status=400, vendor="Cloudforce One")
    with pytest.raises(InvalidInputError) as caught:
        request.run(module_with(content="q", request_type="Weather"), client)
    assert "choose one of: Victomology, DDoS Attack" in caught.value.msg
    client.request_types.assert_called_once_with()


def test_no_change_is_unchanged(client):
    client.find_requests.return_value = [dict(EXISTING, content=None)]
    client.get_request.return_value = EXISTING
    result = request.run(module_with(content="q", priority="routine"), client)
    assert result["changed"] is False and result["request"] == EXISTING
    client.update_request.assert_not_called()


def test_update_sends_only_changed_fields(client):
    client.get_request.return_value = EXISTING
    client.update_request.return_value = dict(EXISTING, tlp="amber")
    result = request.run(module_with(request_id=RID, summary=None, request_type=None, tlp="amber", priority="routine"),
                         client)
    client.update_request.assert_called_once_with(RID, {"tlp": "amber"})
    assert result["diff"]["before"]["tlp"] == "clear" and result["diff"]["after"]["tlp"] == "amber"
    client.request_types.assert_not_called()


def test_retyping_checks_the_type(client):
    client.get_request.return_value = EXISTING
    result = request.run(module_with(check_mode=True, request_id=RID, request_type="DDoS Attack"), client)
    assert result["changed"] and result["request"]["request_type"] == "DDoS Attack"
    client.request_types.assert_called_once_with()
    client.update_request.assert_not_called()


def test_unknown_request_id_fails_clearly(client):
    client.get_request.return_value = None
    with pytest.raises(InvalidInputError) as caught:
        request.run(module_with(request_id=RID, content="q"), client)
    assert "does not exist" in caught.value.msg


def test_duplicates_use_the_oldest_and_warn(client):
    newer = dict(EXISTING, id="ffffffff-0000-4000-8000-000000000000", created="2026-02-01T00:00:00Z")
    oldest = dict(EXISTING, created="2026-01-01T00:00:00Z")
    client.find_requests.return_value = [newer, oldest]
    client.get_request.return_value = oldest
    module = module_with(content="q")
    result = request.run(module, client)
    client.get_request.assert_called_once_with(RID, listed=oldest)
    assert result["changed"] is False and result["request"] == oldest
    warning = module.warn.call_args[0][0]
    assert "2 objects are requests with the summary 'DoS'" in warning and newer["id"] in warning and "oldest, %s" % RID in warning
    client.create_request.assert_not_called()


def test_absent_deletes_every_duplicate(client):
    other = dict(EXISTING, id="ffffffff-0000-4000-8000-000000000000", created="z")
    client.find_requests.return_value = [other, EXISTING]
    module = module_with(state="absent")
    result = request.run(module, client)
    assert client.delete_request.call_args_list == [mock.call(other["id"]), mock.call(RID)]
    assert result["request"] == EXISTING and "all of them were deleted" in module.warn.call_args[0][0]


def test_absent_deletes_an_open_request(client):
    client.find_requests.return_value = [EXISTING]
    result = request.run(module_with(state="absent"), client)
    client.delete_request.assert_called_once_with(RID)
    client.get_request.assert_not_called()
    assert result["changed"] and result["request"] == EXISTING and result["diff"]["after"] == {}


def test_absent_when_gone_is_unchanged(client):
    client.get_request.return_value = None
    result = request.run(module_with(request_id=RID, state="absent"), client)
    assert result["changed"] is False
    client.delete_request.assert_not_called()


def test_absent_refuses_a_request_that_is_no_longer_open(client):
    client.find_requests.return_value = [dict(EXISTING, status="accepted")]
    with pytest.raises(InvalidInputError) as caught:
        request.run(module_with(state="absent", check_mode=True), client)
    assert "its status is accepted" in caught.value.msg and "only while it is open" in caught.value.msg
    client.delete_request.assert_not_called()


@pytest.mark.parametrize("params, text", [
    (dict(summary=None), "both summary and request_type are required"),
    (dict(summary=""), "summary must not be empty"),
    (dict(content=" "), "content must not be empty"),
    (dict(request_id="RFI-1"), "request UUID"),
])
def test_bad_input_is_refused_before_any_call(client, params, text):
    with pytest.raises(InvalidInputError) as caught:
        request.run(module_with(**params), client)
    assert text in caught.value.msg
    assert client.method_calls == []


def test_main_rejects_a_bad_tlp(run_main):
    result, failed = run_main(request, {"summary": "s", "request_type": "Victomology", "tlp": "white"})
    assert failed and "amber-strict" in result["msg"]
