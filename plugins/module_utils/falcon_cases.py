# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Falcon Message Center cases: the API's case rules and the logic of ``case`` with ``provider: falcon``.

Identity of a case (documented in the ``case`` module): the title and type the task gives. So that it survives a
title the service stores with a customer prefix (``<customer> | <title>``, FIDELITY.md Falcon F2), does not depend on
how FQL matches ``:`` (F1), is not limited to one page of matches, and puts no user text into a filter, the module
writes a reference line derived from the title and type into the body of every case it opens, and searches for it
with a wildcard over hex digits. Cases opened before the reference line existed are found by their title: a wildcard
over the title's letters and digits only, then an exact comparison of what comes back.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

from ansible_collections.caseops.desk.plugins.module_utils import falcon, falcon_attachments, falcon_comments
from ansible_collections.caseops.desk.plugins.module_utils.create_guard import CreateGuard, account_of
from ansible_collections.caseops.desk.plugins.module_utils.errors import CaseopsError, InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.file_payload import read_file_payload

# The case types CrowdStrike's own tools offer; the API may know more.
CASE_TYPES = ("fc:contact", "fc:detection-support", "fc:falcon-product-support", "fc:incident-support")
CASE_TYPE_SHAPE = re.compile(r"^fc:[a-z0-9][a-z0-9_-]*$")
# Case status codes (strings on the wire); no API can change them.
OPEN_STATUSES = ("1", "2")
CLOSED_STATUSES = ("3", "4")
LINK_KEYS = {"detections": ("id", "url", "product"), "incidents": ("id", "url")}
# Every published detection and incident ID format fits this (FIDELITY.md, Falcon F29); it refuses spaces, quotes and
# stringified dictionaries before they reach the service.
LINK_ID_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.-]*\Z")
LINK_ID_EXAMPLES = {"detections": "ldt:0123456789abcdef0123456789abcdef:4711",
                    "incidents": "inc:0123456789abcdef0123456789abcdef:fedcba9876543210fedcba9876543210"}
# No limit is published; ours, so an absurd title fails before sending (FIDELITY.md, Falcon F6).
TITLE_MAX = 1000
BODY_MAX = 100000
# Keys CaseCreationRequestV2 marks required, and what is sent when the task gives none (FIDELITY.md, Falcon F3).
CREATE_DEFAULTS = (("detections", []), ("incidents", []), ("malware_submission_id", ""), ("recon_rule_type", ""))
# Fields compared with an existing case to warn about differences nobody can fix through the API.
COMPARED_FIELDS = ("body", "detections", "incidents")
NEWEST_FIRST = "case.created_time.desc"

REFERENCE_LABEL = "caseops.desk case reference:"
REFERENCE_LINE = re.compile(r"\n*^%s [0-9a-f]{32}[ \t]*\Z" % re.escape(REFERENCE_LABEL), re.MULTILINE)
ANY_REFERENCE = re.compile(r"^%s [0-9a-f]{32}[ \t]*$" % re.escape(REFERENCE_LABEL), re.MULTILINE)
# The Unit21 case a Falcon case belongs to: a line the role falcon_detection_escalation writes into the body it
# opens the case with (above the reference line), so a rulebook can record CrowdStrike's replies on that Unit21 case.
# The last such line counts: the body above it is the user's text.
UNIT21_LINK_LABEL = "caseops.desk unit21 case:"
UNIT21_LINK_LINE = re.compile(r"^%s ([1-9][0-9]{0,17})[ \t\r]*$" % re.escape(UNIT21_LINK_LABEL), re.MULTILINE)
TITLE_WORD = re.compile(r"[A-Za-z0-9]+")
TITLE_WORDS_MAX = 12


# -- the rules of a case ----------------------------------------------------------------------------
def check_type(case_type, warn):
    if not CASE_TYPE_SHAPE.match(case_type or ""):
        raise InvalidInputError("type %r is not a Falcon case type: use one of %s (or another fc:<name> type)."
                                % (case_type, ", ".join(CASE_TYPES)))
    if case_type not in CASE_TYPES:
        warn("type %s is not one of the documented case types (%s); it is sent as given."
             % (case_type, ", ".join(CASE_TYPES)))


def check_length(option, value, limit):
    if value is not None and len(value) > limit:
        raise InvalidInputError("%s is %d characters long; this collection sends at most %d characters (Falcon "
                                "publishes no limit, so a longer %s is refused rather than sent)."
                                % (option, len(value), limit, option))


def linked_items(name, items):
    """Detections or incidents as the API wants them: a list of {id[, url][, product]}."""
    allowed = LINK_KEYS[name]
    linked = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict):
            raise InvalidInputError("%s[%d] must be an ID or a dictionary with an id, got %r." % (name, index, item))
        unknown = sorted(set(item) - set(allowed))
        if unknown:
            raise InvalidInputError("%s[%d] has unknown keys %s; allowed keys: %s."
                                    % (name, index, ", ".join(unknown), ", ".join(allowed)))
        if not isinstance(item.get("id"), str) or not item["id"].strip():
            raise InvalidInputError("%s[%d] needs an id." % (name, index))
        if not LINK_ID_SHAPE.match(item["id"]):
            raise InvalidInputError("%s[%d] is %r, which is not a Falcon ID: IDs hold only letters, digits and : _ . - "
                                    "(for example %s)." % (name, index, item["id"], LINK_ID_EXAMPLES[name]))
        linked.append(dict((key, item[key]) for key in allowed if item.get(key) not in (None, "")))
    return linked


def requested_case(params, warn):
    """The case the task asks for (title, type and the fields it gives), checked before any request."""
    title = params["title"]
    if not title or not title.strip():
        raise InvalidInputError("title must not be empty.")
    check_length("title", title, TITLE_MAX)
    check_type(params["type"], warn)
    check_length("body", params["body"], BODY_MAX)
    check_body(params["body"])
    if params["user_uuid"] is not None:
        falcon.check_user_uuid(params["user_uuid"])
    case = dict(title=title, type=params["type"])
    if params["body"]:
        case["body"] = params["body"]
    for name in ("detections", "incidents"):
        if params[name]:
            case[name] = linked_items(name, params[name])
    if case.get("detections") and case["type"] != "fc:detection-support":
        warn("detections are meant for cases of type fc:detection-support; this case is %s." % case["type"])
    if case.get("incidents") and case["type"] != "fc:incident-support":
        warn("incidents are meant for cases of type fc:incident-support; this case is %s." % case["type"])
    for name in ("user_uuid", "malware_submission_id", "recon_rule_type"):
        if params[name]:
            case[name] = params[name]
    if params.get("match_detections") and not case.get("detections"):
        raise InvalidInputError("match_detections needs at least one detection in detections: it makes an existing "
                                "case count only if it holds every one of them.")
    return case


def check_body(body):
    """Refuse a body of only whitespace, and a Unit21 link line that names no Unit21 case (an empty body is unset)."""
    if body and not body.strip():
        raise InvalidInputError("body must not be only whitespace: it is the text CrowdStrike reads first.")
    for line in re.findall(r"^%s.*$" % re.escape(UNIT21_LINK_LABEL), body or "", re.MULTILINE):
        if not UNIT21_LINK_LINE.match(line):
            raise InvalidInputError("body has the line %r, which names no Unit21 case: the line must be %r followed "
                                    "by a unit21_id, a number of 1 or more (the falcon_message_center event source "
                                    "reads it)." % (line.strip(), UNIT21_LINK_LABEL))


def holds_detections(case, wanted):
    """Whether ``case`` holds every detection of ``wanted`` (compared by ID, exactly)."""
    held = set(item.get("id") for item in case.get("detections") or [] if isinstance(item, dict))
    return all(item["id"] in held for item in wanted.get("detections") or [])


def creation_request(wanted, reference):
    """The CreateCaseV2 body: every key the spec marks required (empty when not given), the reference in the body."""
    request = dict(wanted)
    for name, empty in CREATE_DEFAULTS:
        request.setdefault(name, list(empty) if isinstance(empty, list) else empty)
    request["body"] = body_with_reference(wanted["body"], reference)
    return request


# -- identity ------------------------------------------------------------------------------------------
def case_reference(title, case_type):
    """32 hex digits that stand for a title and type; the same on every run and every controller."""
    return hashlib.sha256(("%s\n%s" % (case_type, title)).encode("utf-8")).hexdigest()[:32]


def body_with_reference(body, reference):
    return "%s\n\n%s %s" % (body.rstrip(), REFERENCE_LABEL, reference)


def body_without_reference(body):
    return REFERENCE_LINE.sub("", body or "")


def linked_unit21_id(body):
    """The unit21_id a case body links to (its last Unit21 link line), or None."""
    found = UNIT21_LINK_LINE.findall(body or "")
    return int(found[-1]) if found else None


def carries_reference(case, reference):
    return ("%s %s" % (REFERENCE_LABEL, reference)) in (case.get("body") or "")


def same_title(stored, title):
    """Whether a stored title is ``title``, or ``title`` behind a ``<customer> |`` prefix (FIDELITY.md, Falcon F2)."""
    stored = stored or ""
    if stored == title:
        return True
    return stored.endswith(title) and stored[:-len(title)].rstrip().endswith("|")


def exact_value(value):
    """An FQL exact match for a value known to hold no quote or backslash (a case type)."""
    return "['%s']" % value


def reference_filter(reference, case_type):
    # The wildcard operator and the list form mean the same whether ':' is exact or partial (FIDELITY.md, F1).
    return "case.body:*'*%s*'+case.type:%s" % (reference, exact_value(case_type))


def title_filter(title, case_type):
    """A filter looser than the title (its letters and digits in order), with no character FQL could misread."""
    words = TITLE_WORD.findall(title)[:TITLE_WORDS_MAX]
    type_filter = "case.type:%s" % exact_value(case_type)
    if not words:
        return type_filter
    return "case.title:*'*%s*'+%s" % ("*".join(words), type_filter)


def narrowed(fql_filter, match_filter):
    return "(%s)+(%s)" % (fql_filter, match_filter) if match_filter else fql_filter


def either(*fql_filters):
    """One filter that matches what any of ``fql_filters`` matches (FQL: ',' is OR, AND binds tighter)."""
    return ",".join("(%s)" % fql_filter for fql_filter in fql_filters)


def search(client, fql_filter):
    """Every case the filter matches, however many pages that takes."""
    ids, _total = client.find_case_ids(fql_filter, NEWEST_FIRST, limit=None)
    if not ids:
        return []
    cases, _missing = client.get_cases(ids)
    return cases


def cases_of(client, wanted, reference, match_filter=None):
    """The cases that are the one asked for: those with our reference, else (older cases) those with our title."""
    title, case_type = wanted["title"], wanted["type"]
    # One query for both kinds (the API's minimum: one search, one read of what it found).
    fql_filter = narrowed(either(reference_filter(reference, case_type), title_filter(title, case_type)), match_filter)
    found = [case for case in search(client, fql_filter)
             if case.get("type") == case_type and same_title(case.get("title"), title)]
    ours = [case for case in found if carries_reference(case, reference)]
    if ours:
        return ours
    # Opened before cases carried a reference: the title decides; a case with a reference belongs to its own title.
    return [case for case in found if not ANY_REFERENCE.search(case.get("body") or "")]


def pick_existing(cases, match_status):
    """(the newest case that counts, how many count), or (None, 0)."""
    if match_status == "open":
        cases = [case for case in cases if str(case.get("status")) in OPEN_STATUSES]
    if not cases:
        return None, 0
    cases = sorted(cases, key=lambda case: case.get("created_time") or "", reverse=True)
    return cases[0], len(cases)


def comparable(case, name):
    value = case.get(name)
    if name == "body":
        return body_without_reference(value).strip()
    return sorted(item.get("id") for item in value or [] if isinstance(item, dict))


# -- the create ---------------------------------------------------------------------------------------------
def create_case(client, guard, request, reference, known_ids):
    """CreateCaseV2 once: the new case's id.

    After a failure that hides whether the case was stored, a case with our reference that was not there before
    is the one we opened: the guard looks for it over its settle window, and the create is not sent again.
    """
    def opened():
        for case in search(client, reference_filter(reference, request["type"])):
            if case.get("id") not in known_ids and carries_reference(case, reference):
                return case["id"]
        return None

    return guard.create(lambda recover: client.create_case(request, recover=recover), opened)


# -- the module --------------------------------------------------------------------------------------------
def run_case(module, client):
    """``case`` with provider falcon: find the case, or open it; then its comment and files, if the task gives them."""
    params = module.params
    wanted = requested_case(params, module.warn)
    extras = requested_extras(params)  # read and checked before any request, like the case itself
    reference = case_reference(wanted["title"], wanted["type"])
    guard = CreateGuard.for_module(module, "Falcon", account_of(client), ("case", wanted["type"], reference),
                                   "a Falcon case titled %r of type %s" % (wanted["title"], wanted["type"]))
    # Look up, then open, one run at a time per title and type (parallel runs make one case).
    with guard.serialised(not module.check_mode):
        result = _ensure_case(module, client, guard, wanted, reference)
    if extras is not None:
        _ensure_extras(module, client, result, extras)
    return result


def _ensure_case(module, client, guard, wanted, reference):
    params = module.params
    candidates = cases_of(client, wanted, reference, params["match_filter"])
    counted = candidates
    if params.get("match_detections"):
        # Compared here, not in FQL: exact whatever ':' means on the service (FIDELITY.md, Falcon F1), any characters.
        counted = [case for case in candidates if holds_detections(case, wanted)]
    found, matches = pick_existing(counted, params["match_status"])
    if matches > 1:
        module.warn("%d cases have this title and type%s; returning the most recently created one (%s)."
                    % (matches, " and these detections" if params.get("match_detections") else "", found["id"]))
    if found is not None:
        differences = [name for name in COMPARED_FIELDS
                       if name in wanted and comparable(found, name) != comparable(wanted, name)]
        if differences:
            module.warn("Case %s has this title and type but a different %s. Falcon cases cannot be changed through "
                        "the API, so it was left as it is; add a comment with caseops.desk.case_activity instead."
                        % (found["id"], " and ".join(differences)))
        return dict(changed=False, case=found, matches=matches, diff=dict(before=found, after=found))

    if not params["body"]:
        raise InvalidInputError("body is required to open a case: no case titled %r of type %s exists."
                                % (params["title"], params["type"]))
    request = creation_request(wanted, reference)
    predicted = dict(request, id=None)
    if module.check_mode:
        return dict(changed=True, case=predicted, matches=0, diff=dict(before={}, after=predicted))

    case_id = create_case(client, guard, request, reference, set(case.get("id") for case in candidates))
    # CreateCaseV2 answers only the id (FIDELITY.md, Falcon F19): the key, status and times the result documents
    # take one read.
    cases, missing = client.get_cases([case_id])
    case = cases[0] if cases else predicted
    if missing:
        case = dict(predicted, id=case_id)
        module.warn("Case %s was opened but could not be read back yet; the result shows what was sent." % case_id)
    return dict(changed=True, case=case, matches=0, diff=dict(before={}, after=case))


# -- the comment and files a case must have ----------------------------------------------------------------
class Extras:
    """What ``comment`` and ``attachments`` ask of the case: the comment's text and the files, read and checked."""

    def __init__(self, comment, files, user_uuid):
        self.comment = comment
        self.files = files  # [(name, bytes)], in the task's order
        self.user_uuid = user_uuid


def requested_extras(params):
    """The task's comment and files, or None when it gives neither; every rule is checked before any request."""
    comment, attachments = params.get("comment"), params.get("attachments")
    if comment is None and not attachments:
        return None
    user_uuid = (params.get("user_uuid") or "").strip()
    if not user_uuid:
        raise InvalidInputError("user_uuid is required with comment or attachments: Falcon posts comments and uploads "
                                "on behalf of a user, given by the UUID of that Falcon user (not an e-mail address).")
    if comment is not None:
        falcon_comments.check_comment(comment, user_uuid)
    files = []
    for index, item in enumerate(attachments or []):
        try:
            files.append(read_file_payload(item, falcon_attachments.check_name, falcon_attachments.check_size,
                                           "attachment"))
        except InvalidInputError as err:
            raise InvalidInputError("attachments[%d]: %s" % (index, err.msg))
    names = [name for name, _data in files]
    repeated = sorted(set(name for name in names if names.count(name) > 1))
    if repeated:
        raise InvalidInputError("attachments holds the name %s more than once; a case is given each file name once."
                                % ", ".join(repr(name) for name in repeated))
    return Extras(comment, files, user_uuid)


def _ensure_extras(module, client, result, extras):
    """Add the comment and the files the case lacks; the result gets ``comment`` and ``files``.

    A case that would be opened (check mode) has neither: both are predicted without a request. A found case came
    with its attachments (one read), so a file of the same name and size costs no further request. The comment
    and every missing file are still looked up inside their own create guard, as case_activity and
    case_attachment do, so parallel runs post and upload once.
    """
    case = result["case"]
    case_id = case.get("id")
    known = [a for a in (case.get("attachments") or []) if isinstance(a, dict)]
    # The diff shows the comment (its text, or null when the case lacks it) and the attachments' names.
    before, after = {}, {}
    if extras.files:
        before["attachment_names"] = sorted(a.get("name") or "" for a in known)
        after["attachment_names"] = list(before["attachment_names"])
    files = []
    try:
        if extras.comment is not None:
            if case_id is None:
                posted, activity = True, falcon_comments.predicted_comment(None, extras.comment)
            else:
                posted, activity = falcon_comments.ensure_comment(module, client, case_id, extras.comment,
                                                                  extras.user_uuid, case_found=True)
            result["comment"] = dict(posted=posted, activity=activity)
            before["comment"] = None if posted else extras.comment
            after["comment"] = extras.comment
            result["changed"] = result["changed"] or posted
        for name, data in extras.files:
            existing = falcon_attachments.same_file(known, name, len(data))
            if existing is not None:
                files.append(dict(name=name, size=len(data), uploaded=False, attachment=existing))
                continue
            if case_id is None:
                uploaded = dict(changed=True, attachment=falcon_attachments.predicted_attachment(name, len(data),
                                                                                                 extras.user_uuid))
            else:
                uploaded = falcon_attachments.upload(module, client, case_id, extras.user_uuid, name, data)
            files.append(dict(name=name, size=len(data), uploaded=uploaded["changed"], attachment=uploaded["attachment"]))
            if uploaded["changed"]:
                after["attachment_names"] = sorted(after["attachment_names"] + [name])
                result["changed"] = True
    except CaseopsError as err:
        raise _after_partial_work(err, result, files)
    if extras.files:
        result["files"] = files
    result["diff"] = dict(before=dict(result["diff"]["before"], **before), after=dict(result["diff"]["after"], **after))


def _after_partial_work(err, result, files):
    """``err`` with what this run had already written before it, so the user knows a re-run finishes the job."""
    done = []
    if result["changed"] and result.get("matches") == 0:
        done.append("opened Falcon case %s" % result["case"].get("id"))
    if result.get("comment", {}).get("posted"):
        done.append("posted the comment")
    uploaded = [item["name"] for item in files if item["uploaded"]]
    if uploaded:
        done.append("uploaded %s" % ", ".join(uploaded))
    if done:
        err.msg = "%s (This run already %s; running the task again finishes the rest without repeating it.)" % (
            err.msg, " and ".join(done))
        err.details.update(changed=True, case=result["case"])
    return err
