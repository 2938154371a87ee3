# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit21 media: Unit21Client.link_media against a real local HTTP server (the JSON and multipart forms, what is
never sent twice), and unit21_media.link over a spec'd mock client (the records, unconfirmed links, bad input)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import errors, unit21, unit21_media
from ansible_collections.caseops.desk.plugins.module_utils.errors import AmbiguousWriteError, ApiError, InvalidInputError
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

KEY = "unit-test-unit21-key-000000000000"
PATH = "/v1/cases/100001/link-media"
MEDIA = {"data": b"hello", "name": "note.txt", "media_type": "IMAGE_FACE_IMAGE", "custom_data": {"source": "unit test"}}
JSON_FORM = [{"media": base64.b64encode(b"hello").decode("ascii"), "name": "note.txt", "media_type": "IMAGE_FACE_IMAGE",
              "custom_data": {"source": "unit test"}}]


def client(server, max_retries=2):
    u21 = unit21.client_from_params(dict(unit21_base_url=server.url, unit21_api_key=KEY, max_retries=max_retries))
    u21.transport.retry.sleep = lambda seconds: None
    return u21


def error(status, code, message="x"):
    return Answer(status, {"error_code": code, "message": message}, {"Retry-After": "0"})


def test_the_base64_json_form_is_put_once(server):
    server.script = [Answer(200, {})]
    assert client(server).link_media(100001, MEDIA) == {}
    assert len(server.requests) == 1
    sent = server.requests[0]
    assert sent["method"] == "PUT" and sent["path"] == PATH
    assert sent["headers"]["u21-key"] == KEY
    assert sent["headers"]["Content-Type"] == "application/json"
    assert json.loads(sent["body"].decode("utf-8")) == JSON_FORM


def test_a_medium_whose_json_body_would_reach_1mb_goes_as_multipart(server):
    """FIDELITY.md, Unit21 U3-U5: the JSON body must stay under 10**6 bytes; multipart carries the bytes as they are."""
    data = bytes(range(256)) * (3 * 1024 * 4)  # 3 MB, every byte value
    server.script = [Answer(200, {})]
    assert client(server).link_media(100001, dict(MEDIA, data=data)) == {}
    sent = server.requests[0]
    assert sent["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert data in sent["body"] and len(sent["body"]) < len(data) + 1000
    assert b'name="media"; filename="note.txt"' in sent["body"]
    assert b'{"source": "unit test", "media_type": "IMAGE_FACE_IMAGE"}' in sent["body"]


def test_the_json_form_is_used_up_to_just_under_the_limit():
    fits = unit21.json_media_body(dict(MEDIA, data=b"x" * 749000))
    assert fits is not None and len(json.dumps(fits).encode()) < unit21.JSON_BODY_LIMIT
    assert unit21.json_media_body(dict(MEDIA, data=b"x" * 749999)) is None
    assert unit21.json_media_body(dict(MEDIA, data=b"x" * 750000)) is None


def test_multipart_metadata_cannot_take_a_custom_media_type_key():
    big = dict(MEDIA, data=b"x" * 800000, custom_data={"media_type": "mine"})
    with pytest.raises(InvalidInputError) as caught:
        unit21.check_media_form(big)
    assert "1 MB limit" in caught.value.msg and "media_type" in caught.value.msg
    unit21.check_media_form(dict(big, data=b"small"))


def test_an_empty_answer_is_an_empty_result(server):
    server.script = [Answer(200, None)]
    assert client(server).link_media("100001", MEDIA) == {}


@pytest.mark.parametrize("status, code", [(429, "rate_limit_exceeded"), (423, "locked"), (503, "service_unavailable")])
def test_answers_that_say_nothing_was_done_are_retried(server, status, code):
    server.script = [error(status, code), Answer(200, {})]
    recovered = []
    assert client(server).link_media(100001, MEDIA, recover=lambda: recovered.append(1)) == {}
    assert [r["path"] for r in server.requests] == [PATH, PATH]
    assert recovered == []


@pytest.mark.parametrize("answer", [Answer(drop=True), error(502, "bad_gateway"), error(504, "gateway_timeout")],
                         ids=["dropped", "502", "504"])
def test_an_ambiguous_failure_asks_recover_and_is_not_resent(server, answer):
    server.script = [answer, Answer(200, {})]
    assert client(server).link_media(100001, MEDIA, recover=lambda: "unknown") == {"recovered": "unknown"}
    assert len(server.requests) == 1


@pytest.mark.parametrize("answer", [Answer(drop=True), error(502, "bad_gateway")], ids=["dropped", "502"])
def test_without_recover_an_ambiguous_failure_is_an_error_and_not_resent(server, answer):
    server.script = [answer, Answer(200, {})]
    with pytest.raises(errors.AmbiguousWriteError) as caught:
        client(server).link_media(100001, MEDIA)
    assert "It may have been applied, so it was not sent again" in caught.value.msg
    assert len(server.requests) == 1


def test_a_read_timeout_is_ambiguous_too(server):
    server.script = [Answer(200, {}, delay=1.5)]
    u21 = unit21.client_from_params(dict(unit21_base_url=server.url, unit21_api_key=KEY, timeout=0.5, max_retries=2))
    assert u21.link_media(100001, MEDIA, recover=lambda: "unknown") == {"recovered": "unknown"}
    assert len(server.requests) == 1


@pytest.mark.parametrize("status, code, exception", [
    (404, "resource_not_found", errors.NotFoundError),
    (400, "invalid_input", errors.ApiError),
    (403, "forbidden", errors.AccessDeniedError),
])
def test_refusals_are_not_retried_and_say_why(server, status, code, exception):
    server.script = [Answer(status, {"error_code": code, "message": "media note.txt refused"})]
    with pytest.raises(exception) as caught:
        client(server).link_media(100001, MEDIA, recover=lambda: pytest.fail("recover asked"))
    assert "[%s] media note.txt refused" % code in caught.value.msg
    assert len(server.requests) == 1
    if status == 403:
        assert "write access to cases" in caught.value.msg


@pytest.mark.parametrize("value", ["ext-1", "1/../2", ""])
def test_only_numeric_ids_reach_the_url(server, value):
    with pytest.raises(errors.InvalidInputError):
        client(server).link_media(value, MEDIA)
    assert server.requests == []


def test_the_key_never_shows_in_an_error(server):
    server.script = [Answer(400, {"error_code": "invalid_input", "message": "bad key %s" % KEY})]
    with pytest.raises(errors.ApiError) as caught:
        client(server).link_media(100001, MEDIA)
    assert KEY not in repr(caught.value.to_fail_kwargs())


# -- unit21_media.link over a spec'd mock client ------------------------------------------------------
U21 = 100001
NOTE = b"hello"
NOTE_SHA = hashlib.sha256(NOTE).hexdigest()


def u21_module(check_mode=False, diff=False, **params):
    defaults = dict(provider="unit21", state="present", case_id=None, unit21_id=U21, src=None, content="hello",
                    name="note.txt", user_uuid=None, attachment_id=None, dest=None, media_type=None,
                    media_custom_data=None, allow_duplicates=False, relink_unconfirmed=False)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=check_mode, _diff=diff)


def u21_case(record=None, source=("EXTERNAL",), unconfirmed=None, **custom):
    custom_data = dict(custom)
    if record is not None:
        custom_data["caseops_desk_media"] = record
    if unconfirmed is not None:
        custom_data["caseops_desk_media_unconfirmed"] = unconfirmed
    return {"unit21_id": U21, "case_id": "ext-1", "source": list(source), "custom_data": custom_data}


@pytest.fixture
def u21():
    spec = mock.create_autospec(unit21.Unit21Client, instance=True)
    spec.read_case.return_value = u21_case()
    spec.link_media.return_value = {}
    spec.update_case.return_value = {"unit21_id": U21, "case_id": "ext-1"}
    return spec


def records(confirmed, unconfirmed=None):
    return {"custom_data": {"caseops_desk_media": confirmed, "caseops_desk_media_unconfirmed": unconfirmed or {}}}


def test_links_then_records_only_its_keys(u21):
    module = u21_module(diff=True, media_type="IMAGE_ID_CARD_FRONT", media_custom_data={"source": "kyc"})
    u21.read_case.return_value = u21_case(priority="high")
    result = unit21_media.link(module, u21)
    assert result["changed"] is True
    assert result["media_record"] == {NOTE_SHA: ["note.txt"]} and result["media_unconfirmed"] == {}
    assert result["attachment"] == {"unit21_id": U21, "name": "note.txt", "size": 5, "sha256": NOTE_SHA,
                                    "media_type": "IMAGE_ID_CARD_FRONT", "custom_data": {"source": "kyc"}}
    assert result["diff"] == {"before": {"caseops_desk_media": {}}, "after": {"caseops_desk_media": {NOTE_SHA: ["note.txt"]}}}
    args, kwargs = u21.link_media.call_args
    assert args == (U21, {"name": "note.txt", "data": NOTE, "media_type": "IMAGE_ID_CARD_FRONT",
                          "custom_data": {"source": "kyc"}})
    assert kwargs["recover"]() == unit21_media.OUTCOME_UNKNOWN
    u21.update_case.assert_called_once_with(U21, records({NOTE_SHA: ["note.txt"]}), merge_custom_data=True)
    assert [c[0] for c in u21.method_calls] == ["read_case", "link_media", "update_case"]


def test_a_recorded_file_is_unchanged_after_one_read(u21):
    u21.read_case.return_value = u21_case({NOTE_SHA: ["note.txt"]})
    result = unit21_media.link(u21_module(diff=True), u21)
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"] == {"caseops_desk_media": {NOTE_SHA: ["note.txt"]}}
    assert [c[0] for c in u21.method_calls] == ["read_case"]


def test_a_hand_written_string_entry_counts(u21):
    u21.read_case.return_value = u21_case({NOTE_SHA: "note.txt", "junk": 3})
    assert unit21_media.link(u21_module(), u21)["changed"] is False


def test_same_content_other_name_is_linked_and_both_names_recorded(u21):
    u21.read_case.return_value = u21_case({NOTE_SHA: ["note.txt"], "ab" * 32: ["other.pdf"]})
    result = unit21_media.link(u21_module(name="copy.txt"), u21)
    assert result["changed"] is True
    record = {NOTE_SHA: ["note.txt", "copy.txt"], "ab" * 32: ["other.pdf"]}
    assert result["media_record"] == record
    # The whole record is written, so a top-level-only merge on Unit21's side would lose nothing either.
    u21.update_case.assert_called_once_with(U21, records(record), merge_custom_data=True)


def test_same_name_other_content_is_linked(u21):
    u21.read_case.return_value = u21_case({NOTE_SHA: ["note.txt"]})
    result = unit21_media.link(u21_module(content="changed"), u21)
    assert result["changed"] is True
    assert sorted(result["media_record"]) == sorted([NOTE_SHA, hashlib.sha256(b"changed").hexdigest()])


def test_check_mode_predicts_from_the_read(u21):
    result = unit21_media.link(u21_module(check_mode=True, diff=True), u21)
    assert result["changed"] is True and result["media_record"] == {NOTE_SHA: ["note.txt"]}
    assert [c[0] for c in u21.method_calls] == ["read_case"]


def test_allow_duplicates_links_a_recorded_file_again(u21):
    u21.read_case.return_value = u21_case({NOTE_SHA: ["note.txt"]})
    result = unit21_media.link(u21_module(allow_duplicates=True), u21)
    assert result["changed"] is True and result["media_record"] == {NOTE_SHA: ["note.txt"]}
    u21.link_media.assert_called_once()


def test_an_internal_case_is_refused_without_allow_duplicates(u21):
    u21.read_case.return_value = u21_case(source=("INTERNAL",))
    with pytest.raises(InvalidInputError) as caught:
        unit21_media.link(u21_module(), u21)
    assert "INTERNAL case" in caught.value.msg and "allow_duplicates: true" in caught.value.msg
    assert "Nothing was linked" in caught.value.msg
    assert [c[0] for c in u21.method_calls] == ["read_case"]


def test_an_internal_case_with_allow_duplicates_links_every_time_and_says_so(u21):
    u21.read_case.return_value = u21_case(source=("INTERNAL",))
    module = u21_module(allow_duplicates=True)
    result = unit21_media.link(module, u21)
    assert result["changed"] is True and result["media_record"] == {}
    u21.link_media.assert_called_once()
    u21.update_case.assert_not_called()
    assert "every run links it again" in module.warn.call_args[0][0]


def test_a_case_whose_custom_data_cannot_be_read_is_refused(u21):
    u21.read_case.return_value = {"unit21_id": U21, "source": ["EXTERNAL"]}
    with pytest.raises(ApiError) as caught:
        unit21_media.link(u21_module(), u21)
    assert "could not be found in /cases/list" in caught.value.msg and "Nothing was linked" in caught.value.msg
    u21.link_media.assert_not_called()


# -- unconfirmed links (issue 13, item 5) ----------------------------------------------------------------

def test_an_ambiguous_link_is_recorded_as_unconfirmed_then_fails_asking_for_a_check(u21):
    u21.link_media.return_value = {"recovered": unit21_media.OUTCOME_UNKNOWN}
    with pytest.raises(AmbiguousWriteError) as caught:
        unit21_media.link(u21_module(), u21)
    error = caught.value
    assert "hides whether Unit21 stored it" in error.msg and "It was not sent again" in error.msg
    assert "recorded as unconfirmed" in error.msg and "Unit21 web application" in error.msg
    assert "relink_unconfirmed: true" in error.msg
    assert error.to_fail_kwargs()["changed"] is True
    assert error.to_fail_kwargs()["media_unconfirmed"] == {NOTE_SHA: ["note.txt"]}
    u21.link_media.assert_called_once()
    u21.update_case.assert_called_once_with(U21, records({}, {NOTE_SHA: ["note.txt"]}), merge_custom_data=True)


def test_an_unconfirmed_file_is_not_sent_again_and_every_run_warns_with_the_remedy(u21):
    u21.read_case.return_value = u21_case(unconfirmed={NOTE_SHA: ["note.txt"]})
    for _run in range(2):
        module = u21_module()
        result = unit21_media.link(module, u21)
        assert result["changed"] is False and result["media_unconfirmed"] == {NOTE_SHA: ["note.txt"]}
        warning = module.warn.call_args[0][0]
        assert "note.txt" in warning and "unconfirmed" in warning and "relink_unconfirmed: true" in warning
    u21.link_media.assert_not_called()
    u21.update_case.assert_not_called()


def test_relink_unconfirmed_links_it_and_moves_it_to_the_record(u21):
    u21.read_case.return_value = u21_case(unconfirmed={NOTE_SHA: ["note.txt"], "ab" * 32: ["other.pdf"]})
    module = u21_module(relink_unconfirmed=True)
    result = unit21_media.link(module, u21)
    assert result["changed"] is True and result["media_record"] == {NOTE_SHA: ["note.txt"]}
    assert result["media_unconfirmed"] == {"ab" * 32: ["other.pdf"]}
    u21.link_media.assert_called_once()
    # The emptied entry is written as [], so a deep merge on Unit21's side drops the name too.
    u21.update_case.assert_called_once_with(
        U21, records({NOTE_SHA: ["note.txt"]}, {NOTE_SHA: [], "ab" * 32: ["other.pdf"]}), merge_custom_data=True)
    module.warn.assert_not_called()


def test_relink_unconfirmed_leaves_a_confirmed_file_alone(u21):
    u21.read_case.return_value = u21_case({NOTE_SHA: ["note.txt"]})
    assert unit21_media.link(u21_module(relink_unconfirmed=True), u21)["changed"] is False
    u21.link_media.assert_not_called()


def test_an_ambiguous_link_on_an_internal_case_says_a_rerun_links_again(u21):
    u21.read_case.return_value = u21_case(source=("INTERNAL",))
    u21.link_media.return_value = {"recovered": unit21_media.OUTCOME_UNKNOWN}
    with pytest.raises(AmbiguousWriteError) as caught:
        unit21_media.link(u21_module(allow_duplicates=True), u21)
    assert "a re-run links the file again" in caught.value.msg
    u21.update_case.assert_not_called()


def test_a_failed_record_write_says_the_next_run_links_again(u21):
    u21.update_case.side_effect = ApiError("Unit21 PUT /cases/100001/update returned HTTP 500: boom.", status=500,
                                           vendor="Unit21")
    with pytest.raises(ApiError) as caught:
        unit21_media.link(u21_module(), u21)
    error = caught.value
    assert error.msg.startswith("note.txt was linked to Unit21 case 100001, but recording it")
    assert "HTTP 500: boom." in error.msg and "The next run will link the file again" in error.msg
    assert error.to_fail_kwargs()["changed"] is True and error.status == 500


# -- bad input: nothing read, nothing sent --------------------------------------------------------

@pytest.mark.parametrize("params, message", [
    (dict(name="tool.exe"), "the extension 'exe'; Unit21 links only these file types: txt, pdf"),
    (dict(name="README"), "has no extension"),
    (dict(unit21_id="ext-1"), "unit21_id must be Unit21's numeric case id"),
    (dict(unit21_id=True), "unit21_id must be Unit21's numeric case id"),
    (dict(media_custom_data={"a": {"b": {"c": {"d": 1}}}}), "nested 4 objects deep"),
    (dict(content=None, name=None, src="/nonexistent/x.pdf"), "does not exist"),
])
def test_bad_input_sends_nothing(u21, params, message):
    with pytest.raises(InvalidInputError) as caught:
        unit21_media.link(u21_module(**params), u21)
    assert message in caught.value.msg
    assert u21.method_calls == []


def test_upper_case_extension_and_three_levels_are_fine(u21):
    unit21_media.link(u21_module(name="SCAN.JPEG", media_custom_data={"a": {"b": {"c": [1, "x"]}}}), u21)
    u21.link_media.assert_called_once()


def test_an_oversize_file_is_refused_before_it_is_read(u21, tmp_path):
    src = tmp_path / "big.pdf"
    with open(str(src), "wb") as handle:
        handle.truncate(5 * 1024 * 1024 + 1)
    with mock.patch("builtins.open", side_effect=AssertionError("read")):
        with pytest.raises(InvalidInputError) as caught:
            unit21_media.link(u21_module(src=str(src), content=None, name=None), u21)
    assert "big.pdf is 5242881 bytes; Unit21 accepts media of at most 5 MB (5242880 bytes)" in caught.value.msg
    assert u21.method_calls == []


def test_src_exactly_5_mb_is_linked_under_its_file_name(u21, tmp_path):
    src = tmp_path / "scan.png"
    src.write_bytes(b"\0" * (5 * 1024 * 1024))
    result = unit21_media.link(u21_module(src=str(src), content=None, name=None), u21)
    assert result["attachment"]["name"] == "scan.png" and result["attachment"]["size"] == 5 * 1024 * 1024


# -- unit21_case: the case an earlier task read, not read again (issue 14) ------------------------------------------

def given(case):
    return dict(case, tags=[])


def test_a_given_case_is_not_read_again(u21):
    result = unit21_media.link(u21_module(unit21_case=given(u21_case(priority="high"))), u21)
    assert result["changed"] is True and result["media_record"] == {NOTE_SHA: ["note.txt"]}
    assert [c[0] for c in u21.method_calls] == ["link_media", "update_case"]
    u21.update_case.assert_called_once_with(U21, records({NOTE_SHA: ["note.txt"]}), merge_custom_data=True)


def test_a_file_recorded_in_the_given_case_costs_no_request(u21):
    result = unit21_media.link(u21_module(unit21_case=given(u21_case({NOTE_SHA: ["note.txt"]}))), u21)
    assert result["changed"] is False and u21.method_calls == []


@pytest.mark.parametrize("case, says", [
    ("text", "must be a Unit21 case"),
    (dict(u21_case(), unit21_id=100002, tags=[]), "is the case with unit21_id 100002, not 100001"),
    (dict(u21_case(), unit21_id=None, tags=[]), "is the case with unit21_id None"),
    (u21_case(), "lacks tags"),
    (dict(u21_case(), tags=[], custom_data=None), "a list of tags and a custom_data dictionary"),
])
def test_a_given_case_that_is_not_whole_or_not_this_one_is_refused_before_any_request(u21, case, says):
    with pytest.raises(InvalidInputError) as caught:
        unit21_media.link(u21_module(unit21_case=case), u21)
    assert says in caught.value.msg and "unit21_case" in caught.value.msg
    assert u21.method_calls == []
