# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""case_attachment's download in-process: the file, its mode and owner, changed and diff as on the module path.

Each test runs falcon_attachments.download twice, through InProcessModule and through a real AnsibleModule, on two
directories set up alike, and compares what both return and leave on disk.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import stat
import types

import pytest

from ansible.module_utils import basic
from ansible_collections.caseops.desk.plugins.module_utils import falcon_attachments
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module
from ansible_collections.caseops.desk.plugins.plugin_utils import in_process
from ansible_collections.caseops.desk.tests.unit.conftest import patch_module_args

CONTENT = b"the attachment's bytes\n"
UMASK = 0o027  # not the 0600 of mkstemp's temporary file, not the usual 022: a new file must show it


class DownloadClient:
    def download_attachment(self, attachment_id):
        return CONTENT, "text/plain"


def download_module():
    spec = dict(attachment_id=dict(type="str", required=True), dest=dict(type="path", required=True))
    return types.SimpleNamespace(
        module_kwargs=lambda: dict(argument_spec=dict(spec), supports_check_mode=True, add_file_common_args=True),
        build_client=lambda params: DownloadClient(),
        run=lambda module, client: falcon_attachments.download(module, client, module.params["attachment_id"], None),
        run_module=run_module,
    )


def in_process_download(dest, check_mode=False, **file_options):
    args = dict(attachment_id="a1", dest=dest, **file_options)
    return in_process.run_module_in_process(download_module(), "caseops.desk.case_attachment",
                                            in_process.module_view(args), check_mode=check_mode, diff=True)


def module_download(dest, capsys, check_mode=False, **file_options):
    code = download_module()
    args = dict(attachment_id="a1", dest=dest, _ansible_check_mode=check_mode, _ansible_diff=True,
                _ansible_module_name="caseops.desk.case_attachment", **file_options)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            run_module(basic.AnsibleModule(**code.module_kwargs()), code.build_client, code.run)
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def umask():
    previous = os.umask(UMASK)
    yield UMASK
    os.umask(previous)


def both_paths(tmp_path, capsys, prepare=None, check_mode=False, **file_options):
    """(in-process result, module result, in-process file path, module file path), each run in its own directory."""
    results, paths = [], []
    for name, runner in (("in_process", in_process_download), ("module", module_download)):
        directory = tmp_path / name
        directory.mkdir()
        dest = str(directory / "returned.txt")
        if prepare:
            prepare(dest)
        extra = (capsys,) if runner is module_download else ()
        results.append(runner(dest, *extra, check_mode=check_mode, **file_options))
        paths.append(dest)
    return results[0], results[1], paths[0], paths[1]


def comparable(result, dest):
    """A result without what differs by directory (the path) or by run (the invocation)."""
    text = json.dumps(result).replace(os.path.dirname(dest), "<dir>")
    data = json.loads(text)
    data.pop("invocation", None)
    return data


def existing(mode, content=b"old content\n"):
    def prepare(dest):
        with open(dest, "wb") as handle:
            handle.write(content)
        os.chmod(dest, mode)
    return prepare


def file_mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_gets_the_mode_atomic_move_gives_it(tmp_path, capsys, umask):
    ours, theirs, our_file, their_file = both_paths(tmp_path, capsys)
    assert file_mode(our_file) == 0o666 & ~umask == 0o640
    assert file_mode(their_file) == file_mode(our_file)
    assert ours["changed"] is True and ours["mode"] == "0640" and ours["size"] == len(CONTENT)
    assert ours["diff"]["before"]["checksum"] is None
    assert comparable(ours, our_file) == comparable(theirs, their_file)
    with open(our_file, "rb") as handle:
        assert handle.read() == CONTENT
    assert os.listdir(os.path.dirname(our_file)) == ["returned.txt"]  # no temporary file left


def test_an_existing_file_is_replaced_by_rename_and_keeps_its_mode(tmp_path, capsys, umask):
    ours, theirs, our_file, their_file = both_paths(tmp_path, capsys, prepare=existing(0o604))
    assert file_mode(our_file) == file_mode(their_file) == 0o604
    assert ours["changed"] is True and ours["mode"] == "0604"
    assert ours["diff"]["before"]["checksum"] == hashlib.sha256(b"old content\n").hexdigest()
    assert comparable(ours, our_file) == comparable(theirs, their_file)


def test_the_same_content_and_mode_is_not_a_change(tmp_path, capsys, umask):
    ours, theirs, our_file, their_file = both_paths(tmp_path, capsys, prepare=existing(0o640, CONTENT), mode="0640")
    assert ours["changed"] is False
    assert comparable(ours, our_file) == comparable(theirs, their_file)


def test_a_mode_option_alone_is_a_change_with_its_diff(tmp_path, capsys, umask):
    ours, theirs, our_file, their_file = both_paths(tmp_path, capsys, prepare=existing(0o640, CONTENT), mode="u=rw,g=,o=")
    assert ours["changed"] is True
    assert ours["diff"]["before"]["mode"] == "0640" and ours["diff"]["after"]["mode"] == "0600"
    assert ours["diff"]["before"]["checksum"] == ours["diff"]["after"]["checksum"]
    assert file_mode(our_file) == file_mode(their_file) == 0o600
    assert comparable(ours, our_file) == comparable(theirs, their_file)


def test_an_owner_and_group_option_predict_a_change_in_check_mode(tmp_path, capsys, umask):
    other = os.getuid() + 4242
    ours, theirs, our_file, their_file = both_paths(tmp_path, capsys, prepare=existing(0o640, CONTENT), check_mode=True,
                                                    owner=str(other), group=str(os.getgid() + 4242))
    assert ours["changed"] is True
    assert ours["diff"]["before"]["owner"] == os.getuid() and ours["diff"]["after"]["owner"] == other
    assert os.stat(our_file).st_uid == os.getuid()  # predicted, not done
    assert comparable(ours, our_file) == comparable(theirs, their_file)


def test_an_unknown_owner_fails_as_the_module_fails(tmp_path, capsys, umask):
    ours, theirs, our_file, their_file = both_paths(tmp_path, capsys, prepare=existing(0o640, CONTENT),
                                                    owner="no-such-user-caseops")
    assert ours["failed"] is True and ours["msg"] == theirs["msg"] == "chown failed: failed to look up user no-such-user-caseops"


def test_check_mode_writes_nothing(tmp_path, capsys, umask):
    ours, theirs, our_file, their_file = both_paths(tmp_path, capsys, check_mode=True, mode="0600")
    assert ours["changed"] is True and ours["checksum"] == hashlib.sha256(CONTENT).hexdigest()
    assert os.listdir(os.path.dirname(our_file)) == []
    assert comparable(ours, our_file) == comparable(theirs, their_file)


def test_check_mode_leaves_an_existing_file_alone(tmp_path, capsys, umask):
    ours, theirs, our_file, their_file = both_paths(tmp_path, capsys, prepare=existing(0o604), check_mode=True,
                                                    mode="0600")
    assert ours["changed"] is True and ours["diff"]["after"]["mode"] == "0600"
    assert file_mode(our_file) == 0o604
    with open(our_file, "rb") as handle:
        assert handle.read() == b"old content\n"
    assert comparable(ours, our_file) == comparable(theirs, their_file)


def test_this_core_lends_every_file_method():
    assert in_process.MISSING_FILE_METHODS == ()
    from ansible_collections.caseops.desk.plugins.action.case_attachment import ActionModule
    assert ActionModule.module_name == "case_attachment"
