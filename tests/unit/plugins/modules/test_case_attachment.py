# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""case_attachment: upload and Unit21 link logic with spec'd mock clients; downloads through main() on real files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import stat
from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import falcon, unit21, unit21_media
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError, NotFoundError
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


# -- Unit21 (the link logic and its tests live in module_utils/unit21_media.py) -----------------------
U21 = 100001
NOTE_SHA = hashlib.sha256(b"hello").hexdigest()


@pytest.fixture
def u21():
    spec = mock.create_autospec(unit21.Unit21Client, instance=True)
    spec.read_case.return_value = {"unit21_id": U21, "case_id": "ext-1", "source": ["EXTERNAL"], "custom_data": {}}
    spec.link_media.return_value = {}
    spec.update_case.return_value = {"unit21_id": U21, "case_id": "ext-1"}
    return spec


def test_unit21_is_dispatched_to_unit21_media(u21):
    module = mock.Mock(params=dict(provider="unit21", state="present"), check_mode=False, _diff=False)
    with mock.patch.object(unit21_media, "link", return_value={"changed": False}) as link:
        assert case_attachment.run(module, u21) == {"changed": False}
    link.assert_called_once_with(module, u21)


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
    ({"case_id": CASE, "relink_unconfirmed": True, "content": "x", "name": "a.txt", "user_uuid": USER},
     "relink_unconfirmed does not apply to provider falcon"),
    ({"provider": "unit21", "unit21_id": "ext-1", "content": "x", "name": "a.txt"}, "unit21_id"),
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
    assert result["media_record"] == {NOTE_SHA: ["note.txt"]} and result["attachment"]["unit21_id"] == U21
