# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The case module's comment and attachments options (Falcon): one task ensures the case, its comment, its files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import falcon_cases
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError, ServerError

from ansible_collections.caseops.desk.tests.unit.plugins.module_utils.test_falcon_cases import MessageCenter, UUID, module_with


class MessageCenterWithThreads(MessageCenter):
    """MessageCenter plus comments and attachments, counting what is sent."""

    def __init__(self, *args, **kwargs):
        super(MessageCenterWithThreads, self).__init__(*args, **kwargs)
        self.activities = []
        self.sent = []
        self.fail_upload = None

    def find_case_ids(self, fql_filter, sort=None, limit=500):
        self.sent.append("QueryCases")
        return super(MessageCenterWithThreads, self).find_case_ids(fql_filter, sort, limit)

    def get_cases(self, ids):
        self.sent.append("GetCases")
        return super(MessageCenterWithThreads, self).get_cases(ids)

    def create_case(self, request, recover=None):
        self.sent.append("CreateCase")
        case_id = super(MessageCenterWithThreads, self).create_case(request, recover)
        self.cases[-1]["attachments"] = []
        return case_id

    def get_case(self, case_id):
        cases, _missing = MessageCenter.get_cases(self, [case_id])
        self.sent.append("GetCase")
        return cases[0]

    def find_activity_ids(self, case_id, fql_filter, sort, limit=None):
        self.sent.append("QueryActivities")
        ids = [a["id"] for a in self.activities if a["case_id"] == case_id]
        return ids, len(ids)

    def get_activities(self, ids):
        self.sent.append("GetActivities")
        return [a for a in self.activities if a["id"] in ids], []

    def add_comment(self, case_id, text, user_uuid, recover=None):
        self.sent.append("AddComment")
        self.activities.append(dict(id="act%d" % len(self.activities), case_id=case_id, type="comment", body=text,
                                    created_time="2026-12-01T00:00:00Z"))

    def add_attachment(self, case_id, user_uuid, name, data, recover=None):
        self.sent.append("AddAttachment")
        if name == self.fail_upload:
            raise ServerError("Falcon answered HTTP 500.", status=500)
        record = dict(id="att-%s" % name, name=name, size=len(data))
        next(c for c in self.cases if c["id"] == case_id)["attachments"].append(record)
        return record


def run(api, check_mode=False, **params):
    params.setdefault("user_uuid", UUID)
    params.setdefault("create_settle_seconds", 0)
    module = module_with(check_mode=check_mode, **params)
    module._diff = True
    return falcon_cases.run_case(module, api), module


FILES = [dict(name="notes.txt", content="host: fin-ws-12"), dict(name="tree.csv", content="pid,image\n")]


def test_one_task_opens_comments_and_uploads_then_the_rerun_only_reads():
    api = MessageCenterWithThreads()
    first, _module = run(api, comment="Contained.", attachments=FILES)
    assert first["changed"] and first["matches"] == 0
    assert first["comment"]["posted"] and first["comment"]["activity"]["body"] == "Contained."
    assert [(f["name"], f["size"], f["uploaded"]) for f in first["files"]] == [("notes.txt", 15, True), ("tree.csv", 10, True)]
    assert api.sent.count("CreateCase") == 1 and api.sent.count("AddComment") == 1 and api.sent.count("AddAttachment") == 2
    assert first["diff"]["before"]["comment"] is None and first["diff"]["after"]["attachment_names"] == ["notes.txt", "tree.csv"]

    api.sent = []
    again, _module = run(api, comment="Contained.", attachments=FILES)
    assert not again["changed"] and not again["comment"]["posted"]
    assert [f["uploaded"] for f in again["files"]] == [False, False]
    # The found case came with its attachments: no read per file; the comments take their ids and entities.
    assert api.sent == ["QueryCases", "GetCases", "QueryActivities", "GetActivities"]
    assert again["diff"]["before"] == again["diff"]["after"]


def test_check_mode_on_a_new_case_predicts_everything_without_a_request_beyond_the_search():
    api = MessageCenterWithThreads()
    result, _module = run(api, check_mode=True, comment="Contained.", attachments=FILES)
    assert result["changed"] and result["case"]["id"] is None
    assert result["comment"] == dict(posted=True, activity=dict(id=None, case_id=None, type="comment", body="Contained."))
    assert [f["attachment"]["id"] for f in result["files"]] == [None, None]
    assert api.sent == ["QueryCases"] and api.created == [] and api.activities == []


def test_a_found_case_with_its_comment_uploads_only_the_missing_file():
    api = MessageCenterWithThreads()
    run(api, comment="Contained.", attachments=FILES[:1])
    api.sent = []
    result, _module = run(api, comment="Contained.", attachments=FILES)
    assert result["changed"] and not result["comment"]["posted"]
    assert [f["uploaded"] for f in result["files"]] == [False, True]
    assert api.sent.count("AddAttachment") == 1 and "AddComment" not in api.sent


def test_a_comment_is_added_to_a_case_that_exists_without_it():
    api = MessageCenterWithThreads()
    run(api)
    result, _module = run(api, comment="Later.")
    assert result["changed"] and result["comment"]["posted"] and result["matches"] == 1
    assert "attachment_names" not in result["diff"]["after"] and "files" not in result


@pytest.mark.parametrize("params, message", [
    (dict(comment="Contained.", user_uuid=None), "user_uuid is required with comment or attachments"),
    (dict(comment=" "), "comment must not be empty"),
    (dict(comment="x", user_uuid="ana@example.com"), "must be a Falcon user UUID"),
    (dict(attachments=[dict(name="a.txt", content="1"), dict(name="a.txt", content="2")]),
     "attachments holds the name 'a.txt' more than once"),
    (dict(attachments=[dict(name="ok.txt", content="1"), dict(name="run.exe", content="2")]),
     "attachments[1]: The attachment name 'run.exe' has the extension 'exe'"),
    (dict(attachments=[dict(src="/nonexistent/caseops/x.txt")]), "attachments[0]: src /nonexistent/caseops/x.txt does not exist"),
    (dict(attachments=[dict(name="big.txt", content="x" * (15 * 1024 * 1024 + 1))]), "Falcon accepts attachments of at most 15 MB"),
    (dict(detections=None, match_detections=True), "match_detections needs at least one detection in detections"),
    (dict(body=" \n\t "), "body must not be only whitespace"),
    (dict(body="Look.\n\ncaseops.desk unit21 case: 0"), "names no Unit21 case"),
    (dict(body="Look.\ncaseops.desk unit21 case: -4"), "'caseops.desk unit21 case: -4'"),
    (dict(detections=["ldt:abc:1' or case.id:'x"]), "detections[0] is \"ldt:abc:1' or case.id:'x\", which is not a Falcon ID"),
    (dict(detections=["{'id': 'ldt:abc:1'}"]), "which is not a Falcon ID: IDs hold only letters, digits and : _ . -"),
    (dict(detections=[{"id": "ldt:abc 1"}]), "detections[0] is 'ldt:abc 1'"),
])
def test_bad_input_is_refused_before_any_request(params, message):
    api = MessageCenterWithThreads()
    with pytest.raises(InvalidInputError) as caught:
        run(api, **params)
    assert message in caught.value.msg
    assert api.sent == []


def test_an_unreadable_src_is_refused_with_its_reason(tmp_path):
    path = tmp_path / "locked.txt"
    path.write_text("secret evidence")
    # The tests may run as root, who reads any file: the refusal of open() is what the module meets otherwise.
    refused = mock.patch("ansible_collections.caseops.desk.plugins.module_utils.file_payload.open", create=True,
                         side_effect=PermissionError(13, "Permission denied"))
    with refused, pytest.raises(InvalidInputError) as caught:
        run(MessageCenterWithThreads(), attachments=[dict(src=str(path))])
    assert caught.value.msg == "attachments[0]: src %s cannot be read: Permission denied." % path


def test_a_failure_after_the_case_was_opened_says_what_this_run_already_did():
    api = MessageCenterWithThreads()
    api.fail_upload = "tree.csv"
    with pytest.raises(ServerError) as caught:
        run(api, comment="Contained.", attachments=FILES)
    err = caught.value
    assert "This run already opened Falcon case new1 and posted the comment and uploaded notes.txt" in err.msg
    assert "running the task again finishes the rest" in err.msg
    assert err.details["changed"] is True and err.details["case"]["id"] == "new1"

    api.fail_upload = None
    api.sent = []
    result, _module = run(api, comment="Contained.", attachments=FILES)
    assert result["changed"] and [f["uploaded"] for f in result["files"]] == [False, True]
    assert api.sent.count("CreateCase") == 0 and api.sent.count("AddComment") == 0


def test_match_detections_keeps_escalations_of_other_detections_apart():
    api = MessageCenterWithThreads()
    first, _module = run(api, detections=["ldt:abc:1", "ldt:abc:2"], match_detections=True)
    other, _module = run(api, detections=["ldt:abc:1", "ldt:abc:3"], match_detections=True)
    assert first["changed"] and other["changed"] and other["case"]["id"] != first["case"]["id"]
    # The order does not matter; IDs are compared exactly, and none goes into a search filter.
    again, _module = run(api, detections=["ldt:abc:2", "ldt:abc:1"], match_detections=True)
    assert not again["changed"] and again["case"]["id"] == first["case"]["id"]
    assert not any("detections" in query for query in api.queries)


def test_a_body_linked_to_a_unit21_case_is_accepted():
    result, _module = run(MessageCenterWithThreads(), body="Look.\n\ncaseops.desk unit21 case: 4711")
    assert falcon_cases.linked_unit21_id(result["case"]["body"]) == 4711


def test_link_ids_of_every_published_shape_are_sent():
    ids = ["ldt:0123456789abcdef0123456789abcdef:4711", "abcdef0123456789abcdef0123456789:ind:fedcba9876543210:1-2-3_x.y"]
    result, _module = run(MessageCenterWithThreads(), detections=ids,
                          incidents=["inc:0123456789abcdef0123456789abcdef:fedcba9876543210fedcba9876543210"])
    assert [d["id"] for d in result["case"]["detections"]] == ids


def test_check_mode_on_a_found_case_reads_its_comments_but_not_the_case_again():
    api = MessageCenterWithThreads()
    run(api)
    api.sent = []
    result, _module = run(api, check_mode=True, comment="Contained.")
    assert result["changed"] and result["comment"]["posted"] and result["comment"]["activity"]["id"] is None
    # case_activity alone would read the case to prove it exists; this task has just found it.
    assert api.sent == ["QueryCases", "GetCases", "QueryActivities"] and api.activities == []
