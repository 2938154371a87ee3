# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""case_attachment: upload and Unit21 link logic with spec'd mock clients; downloads through main() on real files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import os
import stat
from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import falcon, unit21
from ansible_collections.caseops.desk.plugins.module_utils.errors import (
    AmbiguousWriteError,
    ApiError,
    InvalidInputError,
    NotFoundError,
)
from ansible_collections.caseops.desk.plugins.module_utils.falcon import FalconClient
from ansible_collections.caseops.desk.plugins.modules import case_attachment

CASE = "6f3c2e9b8a1d4c7e9f0a1b2c3d4e5f60"
USER = "01234567-89ab-cdef-0123-456789abcdef"
EXISTING = {"id": "att-1", "name": "old.pdf", "mime_type": "application/pdf", "size": 3,
            "created_by": USER, "created_time": "2026-11-26T07:15:00Z"}
NEW = {"id": "att-2", "name": "note.txt", "mime_type": "text/plain", "size": 5,
       "created_by": USER, "created_time": "2026-11-26T08:00:00Z"}


def module_with(check_mode=False, diff=False, **params):
    defaults = dict(provider="falcon", state="present", case_id=CASE, src=None, content=None, name=None,
                    user_uuid=USER, attachment_id=None, dest=None)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=check_mode, _diff=diff)


@pytest.fixture
def client():
    spec = mock.create_autospec(FalconClient, instance=True)
    spec.get_cases.return_value = ([{"id": CASE, "attachments": [dict(EXISTING)]}], [])
    # The real lookup over the mocked entity read, so its one "does not exist" message is what the tests see.
    spec.get_case.side_effect = lambda case_id: FalconClient.get_case(spec, case_id)
    return spec


# -- upload --------------------------------------------------------------------------
def test_upload_sends_the_file_with_a_recover_hook(client):
    client.add_attachment.return_value = NEW
    result = case_attachment.run(module_with(content="hello", name="note.txt", diff=True), client)
    assert result["changed"] is True
    assert result["attachment"] == NEW
    assert result["diff"] == {"before": {"attachments": ["old.pdf"]}, "after": {"attachments": ["note.txt", "old.pdf"]}}
    args, kwargs = client.add_attachment.call_args
    assert args == (CASE, USER, "note.txt", b"hello")
    assert callable(kwargs["recover"])


def test_recover_finds_the_upload_by_name_and_size(client):
    client.add_attachment.return_value = NEW
    case_attachment.run(module_with(content="hello", name="note.txt"), client)
    recover = client.add_attachment.call_args[1]["recover"]
    client.get_cases.return_value = ([{"id": CASE, "attachments": [dict(EXISTING)]}], [])
    assert recover() is None
    client.get_cases.return_value = ([{"id": CASE, "attachments": [dict(EXISTING), dict(NEW)]}], [])
    assert recover() == NEW


def test_same_name_and_size_is_unchanged(client):
    client.get_cases.return_value = ([{"id": CASE, "attachments": [dict(EXISTING), dict(NEW)]}], [])
    result = case_attachment.run(module_with(content="hello", name="note.txt"), client)
    assert result == {"changed": False, "attachment": NEW}
    client.add_attachment.assert_not_called()


def test_same_name_other_size_is_uploaded(client):
    client.get_cases.return_value = ([{"id": CASE, "attachments": [dict(NEW, size=4)]}], [])
    client.add_attachment.return_value = NEW
    assert case_attachment.run(module_with(content="hello", name="note.txt"), client)["changed"] is True


def test_check_mode_predicts_without_uploading(client):
    result = case_attachment.run(module_with(check_mode=True, diff=True, content="hello", name="note.txt"), client)
    client.add_attachment.assert_not_called()
    assert result["changed"] is True
    assert result["attachment"] == {"id": None, "name": "note.txt", "mime_type": None, "size": 5,
                                    "created_by": USER, "created_time": None}
    assert result["diff"]["after"] == {"attachments": ["note.txt", "old.pdf"]}


def test_src_name_defaults_to_the_file_name(client, tmp_path):
    src = tmp_path / "triage report.pdf"
    src.write_bytes(b"%PDF-1")
    client.add_attachment.return_value = NEW
    case_attachment.run(module_with(src=str(src)), client)
    assert client.add_attachment.call_args[0][2:] == ("triage report.pdf", b"%PDF-1")


def test_a_missing_case_is_a_clear_error(client):
    client.get_cases.return_value = ([], [CASE])
    with pytest.raises(NotFoundError) as caught:
        case_attachment.run(module_with(content="x", name="a.txt"), client)
    assert "Falcon case %s does not exist" % CASE in caught.value.msg
    client.add_attachment.assert_not_called()


@pytest.mark.parametrize("name, rule", [
    (".hidden.txt", "must start with a letter, a digit, '_' or '-'"),
    ("bad$name.txt", "may only contain letters, digits"),
    ("tool.exe", "accepts only these file types: png, bmp"),
    ("README", "has no extension"),
    ("a" * 252 + ".txt", "256 characters long; Falcon allows at most 255"),
])
def test_bad_names_are_refused_before_any_request(client, name, rule):
    with pytest.raises(InvalidInputError) as caught:
        case_attachment.run(module_with(content="x", name=name), client)
    assert rule in caught.value.msg
    assert client.method_calls == []


def test_upper_case_extension_and_spaces_are_fine(client):
    client.add_attachment.return_value = NEW
    case_attachment.run(module_with(content="x", name="_Scan 01.JPG"), client)
    client.add_attachment.assert_called_once()


def test_oversize_file_is_refused_before_reading_or_sending(client, tmp_path):
    src = tmp_path / "big.csv"
    with open(str(src), "wb") as handle:
        handle.truncate(15 * 1024 * 1024 + 1)
    with pytest.raises(InvalidInputError) as caught:
        case_attachment.run(module_with(src=str(src)), client)
    assert "15728641 bytes; Falcon accepts attachments of at most 15 MB" in caught.value.msg
    assert client.method_calls == []


def test_missing_src_is_refused(client, tmp_path):
    with pytest.raises(InvalidInputError) as caught:
        case_attachment.run(module_with(src=str(tmp_path / "nope.txt")), client)
    assert "does not exist or is not a regular file" in caught.value.msg
    assert client.method_calls == []


@pytest.mark.parametrize("uuid, message", [
    (None, "user_uuid is required to upload to Falcon"),
    ("analyst@example.com", "user_uuid must be a Falcon user UUID"),
])
def test_user_uuid_is_required_and_checked(client, uuid, message):
    with pytest.raises(InvalidInputError) as caught:
        case_attachment.run(module_with(content="x", name="a.txt", user_uuid=uuid), client)
    assert message in caught.value.msg
    assert client.method_calls == []


# -- download (through main(), on real files) -------------------------------------------
@pytest.fixture
def downloading(run_main, monkeypatch, client):
    client.download_attachment.return_value = (b"file body", "text/plain")
    monkeypatch.setattr(falcon, "client_from_params", lambda params: client)

    def run(**args):
        args.setdefault("state", "downloaded")
        args.setdefault("attachment_id", "att-1")
        return run_main(case_attachment, args)
    return run


def test_download_writes_the_file_then_is_unchanged(downloading, client, tmp_path):
    dest = str(tmp_path / "out.txt")
    result, failed = downloading(dest=dest)
    assert not failed and result["changed"] is True
    assert open(dest, "rb").read() == b"file body"
    assert result["checksum"] == hashlib.sha256(b"file body").hexdigest()
    assert result["size"] == 9 and result["dest"] == dest
    assert result["attachment"] == {"id": "att-1", "mime_type": "text/plain"}
    client.download_attachment.assert_called_with("att-1")
    client.get_cases.assert_not_called()
    assert os.listdir(str(tmp_path)) == ["out.txt"]  # no temporary file left behind

    again, failed = downloading(dest=dest)
    assert not failed and again["changed"] is False


def test_a_mode_change_alone_is_a_change(downloading, tmp_path):
    dest = tmp_path / "out.txt"
    dest.write_bytes(b"file body")
    os.chmod(str(dest), 0o644)
    result, failed = downloading(dest=str(dest), mode="0600", _ansible_diff=True)
    assert not failed and result["changed"] is True
    assert stat.S_IMODE(os.stat(str(dest)).st_mode) == 0o600
    assert result["diff"]["before"]["mode"] == "0644" and result["diff"]["after"]["mode"] == "0600"


def test_different_content_is_replaced(downloading, tmp_path):
    dest = tmp_path / "out.txt"
    dest.write_bytes(b"old")
    result, failed = downloading(dest=str(dest), _ansible_diff=True)
    assert not failed and result["changed"] is True
    assert dest.read_bytes() == b"file body"
    assert result["diff"]["before"]["checksum"] == hashlib.sha256(b"old").hexdigest()


def test_check_mode_download_compares_but_writes_nothing(downloading, client, tmp_path):
    dest = tmp_path / "out.txt"
    result, failed = downloading(dest=str(dest), _ansible_check_mode=True)
    assert not failed and result["changed"] is True
    assert not dest.exists()
    client.download_attachment.assert_called_once_with("att-1")
    dest.write_bytes(b"file body")
    result, failed = downloading(dest=str(dest), _ansible_check_mode=True)
    assert result["changed"] is False


def test_a_symlink_dest_is_refused_before_any_request(downloading, client, tmp_path):
    target = tmp_path / "target.txt"
    target.write_bytes(b"keep")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    result, failed = downloading(dest=str(link))
    assert failed and "is a symbolic link; refusing to write through it" in result["msg"]
    assert target.read_bytes() == b"keep"
    assert client.method_calls == []


def test_a_missing_parent_directory_is_named(downloading, client, tmp_path):
    result, failed = downloading(dest=str(tmp_path / "nope" / "out.txt"))
    assert failed and "The directory of dest, %s, does not exist" % (tmp_path / "nope") in result["msg"]
    assert client.method_calls == []


def test_a_directory_dest_needs_case_id(downloading, client, tmp_path):
    result, failed = downloading(dest=str(tmp_path))
    assert failed and "is a directory" in result["msg"] and "case_id" in result["msg"]
    assert client.method_calls == []


def test_a_directory_dest_with_case_id_uses_the_attachment_name(downloading, client, tmp_path):
    result, failed = downloading(dest=str(tmp_path), case_id=CASE)
    assert not failed and result["changed"] is True
    assert result["dest"] == str(tmp_path / "old.pdf")
    assert (tmp_path / "old.pdf").read_bytes() == b"file body"
    assert result["attachment"] == EXISTING


@pytest.mark.parametrize("name", ["../escape.txt", "a/b.txt", ".."])
def test_an_unsafe_attachment_name_is_never_used_as_a_path(downloading, client, tmp_path, name):
    client.get_cases.return_value = ([{"id": CASE, "attachments": [dict(EXISTING, name=name)]}], [])
    result, failed = downloading(dest=str(tmp_path), case_id=CASE)
    assert failed and "cannot be used as a file name inside dest" in result["msg"]
    client.download_attachment.assert_not_called()


def test_an_attachment_of_another_case_is_refused(downloading, client, tmp_path):
    result, failed = downloading(dest=str(tmp_path / "x.txt"), case_id=CASE, attachment_id="att-9")
    assert failed and "Attachment att-9 is not on Falcon case %s" % CASE in result["msg"]
    client.download_attachment.assert_not_called()


# -- argument combinations ----------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    ({"case_id": CASE, "src": "/x.txt", "content": "x", "name": "x.txt"}, "mutually exclusive"),
    ({"case_id": CASE, "user_uuid": USER}, "state is present but any of the following are missing: src, content"),
    ({"src": "/x.txt"}, "state is present but all of the following are missing: case_id"),
    ({"case_id": CASE, "content": "x"}, "missing parameter(s) required by 'content': name"),
    ({"state": "downloaded", "attachment_id": "a"}, "state is downloaded but all of the following are missing: dest"),
    ({"state": "downloaded", "attachment_id": "a", "dest": "/tmp/x", "src": "/x.txt"}, "mutually exclusive"),
])
def test_main_checks_option_combinations(run_main, args, message):
    result, failed = run_main(case_attachment, args)
    assert failed
    assert message in result["msg"]


# -- Unit21 link ---------------------------------------------------------------------------
U21 = "100001"
NOTE = b"hello"
NOTE_SHA = hashlib.sha256(NOTE).hexdigest()


def u21_module(check_mode=False, diff=False, **params):
    defaults = dict(provider="unit21", state="present", case_id=None, unit21_id=U21, src=None, content="hello",
                    name="note.txt", user_uuid=None, attachment_id=None, dest=None, media_type=None,
                    media_custom_data=None, allow_duplicates=False)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=check_mode, _diff=diff)


def u21_case(record=None, source=("EXTERNAL",), **custom):
    custom_data = dict(custom)
    if record is not None:
        custom_data["caseops_desk_media"] = record
    return {"unit21_id": int(U21), "case_id": "ext-1", "source": list(source), "custom_data": custom_data}


@pytest.fixture
def u21():
    spec = mock.create_autospec(unit21.Unit21Client, instance=True)
    spec.get_case.return_value = u21_case()
    spec.link_media.return_value = {}
    spec.update_case.return_value = {"unit21_id": int(U21), "case_id": "ext-1"}
    return spec


def test_unit21_links_then_records_only_its_key(u21):
    module = u21_module(diff=True, media_type="IMAGE_ID_CARD_FRONT", media_custom_data={"source": "kyc"})
    u21.get_case.return_value = u21_case(priority="high")
    result = case_attachment.run(module, u21)
    assert result["changed"] is True
    assert result["media_record"] == {NOTE_SHA: ["note.txt"]}
    assert result["attachment"] == {"unit21_id": U21, "name": "note.txt", "size": 5, "sha256": NOTE_SHA,
                                    "media_type": "IMAGE_ID_CARD_FRONT", "custom_data": {"source": "kyc"}}
    assert result["diff"] == {"before": {"caseops_desk_media": {}}, "after": {"caseops_desk_media": {NOTE_SHA: ["note.txt"]}}}
    args, kwargs = u21.link_media.call_args
    assert args == (U21, [{"media": base64.b64encode(NOTE).decode(), "name": "note.txt",
                           "media_type": "IMAGE_ID_CARD_FRONT", "custom_data": {"source": "kyc"}}])
    assert kwargs["recover"]() == case_attachment.OUTCOME_UNKNOWN
    u21.update_case.assert_called_once_with(U21, {"custom_data": {"caseops_desk_media": {NOTE_SHA: ["note.txt"]}}},
                                            merge_custom_data=True)
    assert [c[0] for c in u21.method_calls] == ["get_case", "link_media", "update_case"]


def test_unit21_recorded_file_is_unchanged_after_one_read(u21):
    u21.get_case.return_value = u21_case({NOTE_SHA: ["note.txt"]})
    result = case_attachment.run(u21_module(diff=True), u21)
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"] == {"caseops_desk_media": {NOTE_SHA: ["note.txt"]}}
    assert [c[0] for c in u21.method_calls] == ["get_case"]


def test_unit21_a_hand_written_string_entry_counts(u21):
    u21.get_case.return_value = u21_case({NOTE_SHA: "note.txt", "junk": 3})
    assert case_attachment.run(u21_module(), u21)["changed"] is False


def test_unit21_same_content_other_name_is_linked_and_both_names_recorded(u21):
    u21.get_case.return_value = u21_case({NOTE_SHA: ["note.txt"], "ab" * 32: ["other.pdf"]})
    result = case_attachment.run(u21_module(name="copy.txt"), u21)
    assert result["changed"] is True
    record = {NOTE_SHA: ["note.txt", "copy.txt"], "ab" * 32: ["other.pdf"]}
    assert result["media_record"] == record
    # The whole record is written, so a top-level-only merge on Unit21's side would lose nothing either.
    u21.update_case.assert_called_once_with(U21, {"custom_data": {"caseops_desk_media": record}}, merge_custom_data=True)


def test_unit21_same_name_other_content_is_linked(u21):
    u21.get_case.return_value = u21_case({NOTE_SHA: ["note.txt"]})
    result = case_attachment.run(u21_module(content="changed"), u21)
    assert result["changed"] is True
    assert sorted(result["media_record"]) == sorted([NOTE_SHA, hashlib.sha256(b"changed").hexdigest()])


def test_unit21_check_mode_predicts_from_the_read(u21):
    result = case_attachment.run(u21_module(check_mode=True, diff=True), u21)
    assert result["changed"] is True and result["media_record"] == {NOTE_SHA: ["note.txt"]}
    assert [c[0] for c in u21.method_calls] == ["get_case"]


def test_unit21_allow_duplicates_links_a_recorded_file_again(u21):
    u21.get_case.return_value = u21_case({NOTE_SHA: ["note.txt"]})
    result = case_attachment.run(u21_module(allow_duplicates=True), u21)
    assert result["changed"] is True and result["media_record"] == {NOTE_SHA: ["note.txt"]}
    u21.link_media.assert_called_once()


def test_unit21_internal_case_is_refused_without_allow_duplicates(u21):
    u21.get_case.return_value = u21_case(source=("INTERNAL",))
    with pytest.raises(InvalidInputError) as caught:
        case_attachment.run(u21_module(), u21)
    assert "INTERNAL case" in caught.value.msg and "allow_duplicates: true" in caught.value.msg
    assert "Nothing was linked" in caught.value.msg
    assert [c[0] for c in u21.method_calls] == ["get_case"]


def test_unit21_internal_case_with_allow_duplicates_links_every_time_and_says_so(u21):
    u21.get_case.return_value = u21_case(source=("INTERNAL",))
    module = u21_module(allow_duplicates=True)
    result = case_attachment.run(module, u21)
    assert result["changed"] is True and result["media_record"] == {}
    u21.link_media.assert_called_once()
    u21.update_case.assert_not_called()
    assert "every run links it again" in module.warn.call_args[0][0]


def test_unit21_a_case_read_without_custom_data_is_refused(u21):
    u21.get_case.return_value = {"unit21_id": int(U21), "source": ["EXTERNAL"]}
    with pytest.raises(ApiError) as caught:
        case_attachment.run(u21_module(), u21)
    assert "without its custom_data" in caught.value.msg
    u21.link_media.assert_not_called()


def test_unit21_ambiguous_link_is_recorded_then_fails_asking_for_a_check(u21):
    u21.link_media.return_value = {"recovered": case_attachment.OUTCOME_UNKNOWN}
    with pytest.raises(AmbiguousWriteError) as caught:
        case_attachment.run(u21_module(), u21)
    error = caught.value
    assert "hides whether Unit21 stored it" in error.msg and "It was not sent again" in error.msg
    assert "recorded as linked" in error.msg and "Unit21 web application" in error.msg
    assert "allow_duplicates: true" in error.msg
    assert error.to_fail_kwargs()["changed"] is True
    u21.link_media.assert_called_once()
    u21.update_case.assert_called_once()


def test_unit21_ambiguous_link_on_an_internal_case_says_a_rerun_links_again(u21):
    u21.get_case.return_value = u21_case(source=("INTERNAL",))
    u21.link_media.return_value = {"recovered": case_attachment.OUTCOME_UNKNOWN}
    with pytest.raises(AmbiguousWriteError) as caught:
        case_attachment.run(u21_module(allow_duplicates=True), u21)
    assert "a re-run links the file again" in caught.value.msg
    u21.update_case.assert_not_called()


def test_unit21_a_failed_record_write_says_the_next_run_links_again(u21):
    u21.update_case.side_effect = ApiError("Unit21 PUT /cases/100001/update returned HTTP 500: boom.", status=500,
                                           vendor="Unit21")
    with pytest.raises(ApiError) as caught:
        case_attachment.run(u21_module(), u21)
    error = caught.value
    assert error.msg.startswith("note.txt was linked to Unit21 case 100001, but recording it")
    assert "HTTP 500: boom." in error.msg and "The next run will link the file again" in error.msg
    assert error.to_fail_kwargs()["changed"] is True and error.status == 500


@pytest.mark.parametrize("params, message", [
    (dict(name="tool.exe"), "the extension 'exe'; Unit21 links only these file types: txt, pdf"),
    (dict(name="README"), "has no extension"),
    (dict(unit21_id="ext-1"), "unit21_id must be Unit21's numeric case id"),
    (dict(media_custom_data={"a": {"b": {"c": {"d": 1}}}}), "nested 4 objects deep"),
])
def test_unit21_bad_input_sends_nothing(u21, params, message):
    with pytest.raises(InvalidInputError) as caught:
        case_attachment.run(u21_module(**params), u21)
    assert message in caught.value.msg
    assert u21.method_calls == []


def test_unit21_upper_case_extension_and_three_levels_are_fine(u21):
    case_attachment.run(u21_module(name="SCAN.JPEG", media_custom_data={"a": {"b": {"c": [1, "x"]}}}), u21)
    u21.link_media.assert_called_once()


def test_unit21_oversize_file_is_refused_before_it_is_read(u21, tmp_path):
    src = tmp_path / "big.pdf"
    with open(str(src), "wb") as handle:
        handle.truncate(5 * 1024 * 1024 + 1)
    with mock.patch("builtins.open", side_effect=AssertionError("read")):
        with pytest.raises(InvalidInputError) as caught:
            case_attachment.run(u21_module(src=str(src), content=None, name=None), u21)
    assert "big.pdf is 5242881 bytes; Unit21 accepts media of at most 5 MB (5242880 bytes)" in caught.value.msg
    assert u21.method_calls == []


def test_unit21_src_exactly_5_mb_is_linked_under_its_file_name(u21, tmp_path):
    src = tmp_path / "scan.png"
    src.write_bytes(b"\0" * (5 * 1024 * 1024))
    result = case_attachment.run(u21_module(src=str(src), content=None, name=None), u21)
    assert result["attachment"]["name"] == "scan.png" and result["attachment"]["size"] == 5 * 1024 * 1024


# -- provider checks (through main: no credentials and no request needed) -------------------------
@pytest.mark.parametrize("args, message", [
    ({"provider": "unit21", "state": "downloaded", "attachment_id": "a", "dest": "/tmp/x"},
     "state=downloaded is not possible with provider=unit21: Unit21 has no API to read or download"),
    ({"provider": "unit21", "content": "x", "name": "a.txt"},
     "provider is unit21 and state is present but all of the following are missing: unit21_id"),
    ({"provider": "unit21", "unit21_id": U21, "case_id": CASE, "content": "x", "name": "a.txt"},
     "case_id does not apply to provider unit21: case_id is for falcon"),
    ({"provider": "unit21", "unit21_id": U21, "user_uuid": USER, "content": "x", "name": "a.txt"},
     "user_uuid does not apply to provider unit21"),
    ({"case_id": CASE, "unit21_id": U21, "media_type": "X", "content": "x", "name": "a.txt", "user_uuid": USER},
     "media_type, unit21_id do not apply to provider falcon"),
    ({"case_id": CASE, "allow_duplicates": True, "content": "x", "name": "a.txt", "user_uuid": USER},
     "allow_duplicates does not apply to provider falcon"),
    ({"provider": "unit21", "unit21_id": U21, "content": "x"}, "missing parameter(s) required by 'content': name"),
])
def test_main_refuses_before_credentials_are_needed(run_main, monkeypatch, args, message):
    monkeypatch.delenv("UNIT21_API_KEY", raising=False)
    monkeypatch.delenv("FALCON_CLIENT_ID", raising=False)
    result, failed = run_main(case_attachment, args)
    assert failed
    assert message in result["msg"]


def test_main_unit21_builds_the_unit21_client(run_main, monkeypatch, u21):
    monkeypatch.setattr(unit21, "client_from_params", lambda params: u21)
    monkeypatch.setattr(falcon, "client_from_params", lambda params: pytest.fail("Falcon client built"))
    result, failed = run_main(case_attachment, {"provider": "unit21", "unit21_id": U21, "content": "hello",
                                                "name": "note.txt"})
    assert not failed and result["changed"] is True
    assert result["media_record"] == {NOTE_SHA: ["note.txt"]}
