# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Falcon case identity and the case module's Falcon logic, against an in-memory Message Center."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from unittest import mock

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import falcon_cases
from ansible_collections.caseops.desk.plugins.module_utils.errors import InvalidInputError

UUID = "01234567-89ab-cdef-0123-456789abcdef"


class MessageCenter(object):
    """The case calls of FalconClient over a list of cases. It understands the two filter shapes the module sends
    (a wildcard on case.body or case.title, plus an exact type, plus an optional narrowing) and pages by 500."""

    def __init__(self, cases=(), prefix=""):
        self.cases = [dict(case) for case in cases]
        self.prefix = prefix
        self.queries = []
        self.created = []
        self.narrow = None       # a predicate for "+(match_filter)"
        self.after_create = None

    def find_case_ids(self, fql_filter, sort=None, limit=500):
        self.queries.append(fql_filter)
        # "(A),(B)" (either), optionally "((A),(B))+(match_filter)"; A and B hold no parentheses.
        narrowing = re.match(r"^\(((?:\([^()]*\),?)+)\)\+\((.*)\)$", fql_filter)
        core = narrowing.group(1) if narrowing else fql_filter
        parts = re.findall(r"\(([^()]*)\)", core) if core.startswith("(") else [core]
        found = []
        for part in parts:
            match = re.match(r"^(?:case\.(body|title):\*'\*(.*)\*'\+)?case\.type:\['([^']*)'\]$", part)
            assert match, fql_filter
            field, pattern, case_type = match.groups()
            regex = re.compile(".*".join(re.escape(p) for p in (pattern or "").split("*")), re.IGNORECASE | re.DOTALL)
            found += [c for c in self.cases if c["type"] == case_type and (field is None or regex.search(c[field]))
                      and (narrowing is None or self.narrow(c)) and c not in found]
        found.sort(key=lambda c: c["created_time"], reverse=True)
        ids = [c["id"] for c in found]
        return (ids if limit is None else ids[:limit]), len(ids)

    def get_cases(self, ids):
        found = [c for c in self.cases if c["id"] in ids]
        return found, [i for i in ids if i not in set(c["id"] for c in found)]

    def create_case(self, request, recover=None):
        self.created.append(request)
        case = dict(request, id="new%d" % len(self.created), status="2", created_time="2026-12-01T00:00:%02dZ"
                    % len(self.created), title=(self.prefix + request["title"]))
        self.cases.append(case)
        if self.after_create:
            return self.after_create(recover)
        return case["id"]


def case(case_id, title="Detection review", body="Please look.", case_type="fc:detection-support", status="2",
         created="2026-11-26T09:00:00Z"):
    return dict(id=case_id, title=title, body=body, type=case_type, status=status, created_time=created,
                detections=[], incidents=[])


def module_with(check_mode=False, **params):
    defaults = dict(provider="falcon", state="present", title="Detection review", body="Please look.",
                    type="fc:detection-support", detections=None, incidents=None, user_uuid=None,
                    malware_submission_id=None, recon_rule_type=None, match_status="any", match_filter=None)
    defaults.update(params)
    return mock.Mock(params=defaults, check_mode=check_mode)


def run(api, **params):
    module = module_with(**params)
    return falcon_cases.run_case(module, api), module


def reference(title="Detection review", case_type="fc:detection-support"):
    return falcon_cases.case_reference(title, case_type)


def test_a_new_case_carries_its_reference_and_every_required_key():
    api = MessageCenter()
    result, _module = run(api, detections=["ldt:abc:1"], user_uuid=UUID)
    assert result["changed"] is True and result["case"]["id"] == "new1"
    assert api.created == [{
        "title": "Detection review", "type": "fc:detection-support", "user_uuid": UUID,
        "body": "Please look.\n\ncaseops.desk case reference: %s" % reference(),
        "detections": [{"id": "ldt:abc:1"}], "incidents": [], "malware_submission_id": "", "recon_rule_type": ""}]


def test_the_rerun_finds_it_with_one_search_and_no_user_text_in_the_filter():
    api = MessageCenter()
    first, _module = run(api, title="It's a *wild* \\ title | with, (FQL) [chars]")
    api.queries = []
    again, _module = run(api, title="It's a *wild* \\ title | with, (FQL) [chars]")
    assert again["changed"] is False and again["case"]["id"] == first["case"]["id"]
    # One query: our reference, or (cases opened before references) the title's letters and digits.
    assert api.queries == ["(case.body:*'*%s*'+case.type:['fc:detection-support']),"
                           "(case.title:*'*It*s*a*wild*title*with*FQL*chars*'+case.type:['fc:detection-support'])"
                           % reference("It's a *wild* \\ title | with, (FQL) [chars]")]
    assert len(api.created) == 1


def test_a_prefixed_stored_title_is_still_the_case():
    api = MessageCenter(prefix="ACME Corp | ")
    first, _module = run(api)
    assert first["case"]["title"] == "ACME Corp | Detection review"
    again, _module = run(api)
    assert again["changed"] is False and again["case"]["id"] == first["case"]["id"]
    assert again["case"]["title"] == "ACME Corp | Detection review"


@pytest.mark.parametrize("stored, same", [
    ("Detection review", True), ("ACME | Detection review", True), ("ACME|Detection review", True),
    ("Old Detection review", False), ("Detection review 2", False), ("detection review", False),
])
def test_same_title(stored, same):
    assert falcon_cases.same_title(stored, "Detection review") is same


def test_a_case_opened_before_references_existed_is_found_by_its_title():
    legacy = case("old", title="Weekly report: VPN's *status*", body="Text.", case_type="fc:contact")
    similar = case("other", title="Weekly report: VPN's *status* (2)", case_type="fc:contact")
    api = MessageCenter([legacy, similar])
    result, _module = run(api, title="Weekly report: VPN's *status*", type="fc:contact", body="Text.")
    assert result["changed"] is False and result["case"]["id"] == "old"
    assert len(api.queries) == 1
    assert api.queries[0].endswith(",(case.title:*'*Weekly*report*VPN*s*status*'+case.type:['fc:contact'])")
    assert api.created == []


def test_a_case_with_another_reference_is_not_taken_for_a_legacy_one():
    api = MessageCenter()
    run(api, title="ACME | Detection review")          # a case whose own title has a bar in it
    result, _module = run(api)                           # "Detection review" is another case
    assert result["changed"] is True and len(api.created) == 2


def test_more_than_one_page_of_similar_titles_is_searched_to_the_end():
    similar = [case("c%03d" % n, title="Weekly report %d" % n, case_type="fc:contact", created="2026-11-%02dT00:00:00Z"
                    % (1 + n % 28)) for n in range(600)]
    legacy = case("wanted", title="Weekly report", case_type="fc:contact", created="2020-01-01T00:00:00Z")
    api = MessageCenter(similar + [legacy])
    result, _module = run(api, title="Weekly report", type="fc:contact")
    assert result["changed"] is False and result["case"]["id"] == "wanted"


def test_check_mode_predicts_the_request_without_creating():
    api = MessageCenter()
    result, _module = run(api, check_mode=True)
    assert api.created == [] and result["changed"] is True and result["case"]["id"] is None
    assert result["case"]["body"].endswith(reference()) and result["case"]["incidents"] == []


def test_recover_takes_only_a_new_case_with_the_reference():
    closed = dict(case("old", status="3"), body=falcon_cases.body_with_reference("Please look.", reference()))
    api = MessageCenter([closed])
    api.after_create = lambda recover: recover()
    result, _module = run(api, match_status="open")
    assert result["changed"] is True and result["case"]["id"] == "new1" and len(api.created) == 1


def test_open_match_ignores_closed_cases_and_any_takes_them():
    closed = dict(case("old", status="4"), body=falcon_cases.body_with_reference("Please look.", reference()))
    assert run(MessageCenter([closed]))[0]["case"]["id"] == "old"
    assert run(MessageCenter([closed]), match_status="open")[0]["changed"] is True


def test_newest_of_several_is_returned_with_a_warning():
    body = falcon_cases.body_with_reference("Please look.", reference())
    api = MessageCenter([dict(case("a", created="2026-01-01T00:00:00Z"), body=body),
                         dict(case("b", created="2026-02-01T00:00:00Z"), body=body)])
    result, module = run(api)
    assert result["case"]["id"] == "b" and result["matches"] == 2
    assert "2 cases have this title" in module.warn.call_args[0][0]


def test_match_filter_narrows_the_search():
    body = falcon_cases.body_with_reference("Please look.", reference())
    api = MessageCenter([dict(case("a"), body=body, hosts=["web-01"]), dict(case("b"), body=body, hosts=[])])
    api.narrow = lambda c: "web-01" in c.get("hosts", [])
    result, _module = run(api, match_filter="case.hosts:['web-01']")
    assert result["case"]["id"] == "a" and api.queries[0].endswith("+(case.hosts:['web-01'])")


def test_differences_are_warned_about_without_the_reference_line():
    body = falcon_cases.body_with_reference("Please look.", reference())
    same, module = run(MessageCenter([dict(case("a"), body=body)]))
    assert same["changed"] is False
    module.warn.assert_not_called()
    other, module = run(MessageCenter([dict(case("a"), body=body)]), body="Other text")
    assert other["changed"] is False and "different body" in module.warn.call_args[0][0]


@pytest.mark.parametrize("params, message", [
    (dict(type="contact"), "is not a Falcon case type"),
    (dict(title="  "), "title must not be empty"),
    (dict(title="x" * 1001), "title is 1001 characters long; this collection sends at most 1000"),
    (dict(body="x" * 100001), "body is 100001 characters long"),
    (dict(user_uuid="ana@example.com"), "must be a Falcon user UUID"),
    (dict(detections=[{"url": "https://x"}]), "detections[0] needs an id"),
    (dict(incidents=[{"id": "inc:1", "product": "x"}]), "unknown keys product"),
    (dict(detections=[42]), "must be an ID or a dictionary"),
])
def test_bad_input_is_refused_before_any_request(params, message):
    api = MessageCenter()
    with pytest.raises(InvalidInputError) as caught:
        run(api, **params)
    assert message in caught.value.msg
    assert api.queries == [] and api.created == []


def test_unknown_fc_type_is_sent_with_a_warning():
    result, module = run(MessageCenter(), type="fc:malware-submission", check_mode=True)
    assert result["case"]["type"] == "fc:malware-submission"
    assert "not one of the documented case types" in module.warn.call_args[0][0]


def test_body_is_needed_only_to_create():
    with pytest.raises(InvalidInputError) as caught:
        run(MessageCenter(), body=None)
    assert "body is required to open a case" in caught.value.msg
    body = falcon_cases.body_with_reference("Please look.", reference())
    assert run(MessageCenter([dict(case("a"), body=body)]), body=None)[0]["changed"] is False


def test_reference_line_round_trip():
    body = falcon_cases.body_with_reference("Line one\n\n", "0" * 32)
    assert body == "Line one\n\ncaseops.desk case reference: " + "0" * 32
    assert falcon_cases.body_without_reference(body) == "Line one"
    assert falcon_cases.case_reference("t", "fc:contact") != falcon_cases.case_reference("t", "fc:detection-support")


@pytest.mark.parametrize("body, linked", [
    # As falcon_detection_escalation opens a case: the description, the link line, the case module's reference line.
    (falcon_cases.body_with_reference("Please look.\n\ncaseops.desk unit21 case: 4711", "0" * 32), 4711),
    ("caseops.desk unit21 case: 12 \r\nmore text", 12),
    # The description may quote another link: the role's line comes last and counts.
    ("See caseops.desk unit21 case: 1\ncaseops.desk unit21 case: 1\n\ncaseops.desk unit21 case: 2", 2),
    ("caseops.desk unit21 case: 0", None),
    ("caseops.desk unit21 case: 12a", None),
    ("text caseops.desk unit21 case: 12", None),
    ("caseops.desk unit21 case 12", None),
    ("", None),
    (None, None),
])
def test_the_linked_unit21_case_is_read_from_the_body(body, linked):
    assert falcon_cases.linked_unit21_id(body) == linked
