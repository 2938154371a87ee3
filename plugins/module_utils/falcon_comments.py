# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Falcon Message Center comments: one comment of a given text on a case, for ``case_activity`` and ``case``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.caseops.desk.plugins.module_utils import falcon
from ansible_collections.caseops.desk.plugins.module_utils.comparison import normalized_text, same_text
from ansible_collections.caseops.desk.plugins.module_utils.create_guard import CreateGuard, account_of, pick_oldest
from ansible_collections.caseops.desk.plugins.module_utils.errors import ApiError, InvalidInputError

COMMENT_FILTER = "activity.type:'comment'"
# Comments read to look for a duplicate; a case with more is beyond any thread a person would keep.
COMMENT_SCAN_LIMIT = 10000


def check_comment(text, user_uuid):
    """Refuse an empty comment or a malformed user UUID before any request."""
    if not text or not text.strip():
        raise InvalidInputError("comment must not be empty.")
    falcon.check_user_uuid(user_uuid)


def predicted_comment(case_id, text):
    """The comment as check mode predicts it (no id yet)."""
    return dict(id=None, case_id=case_id, type="comment", body=text)


def list_comments(client, case_id):
    """Every comment on the case, newest first."""
    ids, _total = client.find_activity_ids(case_id, COMMENT_FILTER, "activity.created_time.desc", limit=COMMENT_SCAN_LIMIT)
    if not ids:
        return []
    activities, _missing = client.get_activities(ids)
    return [a for a in activities if a.get("type") == "comment"]


def ensure_comment(module, client, case_id, text, user_uuid, allow_duplicates=False, case_found=False):
    """``(changed, activity)``: the case has a comment with ``text``; posted once when it had none.

    In check mode ``activity`` is the prediction (``id`` None) when the comment would be posted. ``case_found``: the
    caller has just read the case, so its existence needs no proof of its own.
    """
    posting = not allow_duplicates and not module.check_mode
    guard = CreateGuard.for_module(module, "Falcon", account_of(client), ("comment", case_id, normalized_text(text)),
                                   "a comment with this text on Falcon case %s" % case_id)
    # Look up, then post, one run at a time per case and text.
    with guard.serialised(posting):
        return _ensure(module, client, guard, case_id, text, user_uuid, allow_duplicates, case_found)


def _ensure(module, client, guard, case_id, text, user_uuid, allow_duplicates, case_found):
    comments = list_comments(client, case_id)
    if not comments and module.check_mode and not case_found:
        # No comment yet: make sure the case exists, so check mode tells the truth (a real post learns it from the
        # API's 400 for an unknown case, FIDELITY.md Falcon F21, and spends no request on it otherwise).
        client.get_case(case_id)
    same = [c for c in comments if same_text(c.get("body"), text)]
    if same and not allow_duplicates:
        return False, pick_oldest(same, "comments with this text on case %s" % case_id, module.warn, created="created_time")

    predicted = predicted_comment(case_id, text)
    if module.check_mode:
        return True, predicted

    known = set(c["id"] for c in comments)

    def posted():
        """Our comment, if the case now has one with this text that was not there before (the oldest such)."""
        fresh = [c for c in list_comments(client, case_id) if c["id"] not in known and same_text(c.get("body"), text)]
        return pick_oldest(fresh, "new comments with this text", None, created="created_time")

    try:
        activity = guard.create(lambda recover: client.add_comment(case_id, text, user_uuid, recover=recover), posted)
    except ApiError as err:
        if not comments and err.status == 400 and not case_found:
            client.get_case(case_id)  # NotFoundError naming the case when that was the reason
        raise
    if activity is None:
        activity = posted()
    if activity is None:
        module.warn("The comment was added but could not be read back yet; the result shows what was sent.")
        activity = predicted
    return True, activity
