# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit21 logic of ``case_attachment``: link a file to a case once, over an injected :class:`Unit21Client`.

Unit21 cannot list, read or remove a case's media, so what was linked is
recorded in the case's ``custom_data`` (read back from the case's /cases/list
item, since GET does not return custom_data; tests/sandbox/FIDELITY.md, Unit21
U1, U2):

* ``caseops_desk_media``: ``{sha256: [name, ...]}``, the files known linked;
* ``caseops_desk_media_unconfirmed``: the same layout, the files whose link
  failed in a way that hides whether Unit21 stored them (a timeout, a dropped
  connection, 502 or 504).  They are not sent again on their own: every later
  run warns and says how to check; ``relink_unconfirmed`` links them on purpose.

Both are two object levels deep, within Unit21's three.  The rules the file
must meet (name, size, body limit) live in :mod:`unit21`, next to the client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.caseops.desk.plugins.module_utils import unit21
from ansible_collections.caseops.desk.plugins.module_utils.file_payload import option_text, read_file_payload
from ansible_collections.caseops.desk.plugins.module_utils.errors import (
    AmbiguousWriteError,
    ApiError,
    CaseopsError,
    InvalidInputError,
)

MEDIA_RECORD_KEY = unit21.MEDIA_RECORD_KEY
UNCONFIRMED_KEY = unit21.MEDIA_UNCONFIRMED_KEY
# What the recover hook answers after an ambiguous link failure: there is no way to look media up.
OUTCOME_UNKNOWN = "outcome unknown"


def link(module, client):
    """``case_attachment`` with provider unit21: every input checked before the first request."""
    params = module.params
    unit21_id = unit21.check_unit21_id(params.get("unit21_id"))
    name, data = read_file_payload(params, unit21.check_media_name, unit21.check_media_size, "media")
    media_type = option_text(params, "media_type") or None
    custom_data = params.get("media_custom_data")
    if custom_data is not None:
        unit21.check_custom_data(custom_data, "media_custom_data")
    medium = dict(name=name, data=data, media_type=media_type, custom_data=custom_data)
    unit21.check_media_form(medium)
    allow_duplicates = bool(params.get("allow_duplicates"))
    relink = bool(params.get("relink_unconfirmed"))
    checksum = hashlib.sha256(data).hexdigest()
    attachment = dict(unit21_id=unit21_id, name=name, size=len(data), sha256=checksum, media_type=media_type,
                      custom_data=custom_data)
    given = params.get("unit21_case")
    if given is not None:
        unit21.check_given_case(given, unit21_id)

    # A given case is the caller's read with no write since (as documented), so its media records are the current
    # ones; reading them again would return the same.
    case = given if given is not None else client.read_case(unit21_id)
    external = "EXTERNAL" in unit21.case_sources(case)
    if external and "custom_data" not in case and not allow_duplicates:
        raise ApiError("Unit21 case %s could not be found in /cases/list, so its custom_data, which records the files "
                       "linked to it (custom_data.%s), cannot be read and a re-run could link the file twice. Nothing "
                       "was linked. Set allow_duplicates: true to link it anyway, on every run."
                       % (unit21_id, MEDIA_RECORD_KEY), vendor="Unit21")
    before = media_record(case, MEDIA_RECORD_KEY) if external else {}
    pending = media_record(case, UNCONFIRMED_KEY) if external else {}
    recorded = name in before.get(checksum, [])
    unconfirmed = name in pending.get(checksum, [])
    if recorded and not allow_duplicates:
        return _result(module, False, attachment, before, before, pending)
    if unconfirmed and not (relink or allow_duplicates):
        module.warn("The link of %s to Unit21 case %s is unconfirmed: an earlier run's link-media failed in a way that "
                    "hides whether Unit21 stored it, so it was not sent again. Check the case in the Unit21 web "
                    "application; if %s is missing there, run this task once with relink_unconfirmed: true."
                    % (name, unit21_id, name))
        return _result(module, False, attachment, before, before, pending)
    if not external and not allow_duplicates:
        raise InvalidInputError(
            "Unit21 case %s is an INTERNAL case (source %s): Unit21 refuses updates to it, so the module cannot record "
            "that %s was linked, and every run would link it again (the API cannot list media to check). Nothing was "
            "linked. Set allow_duplicates: true to link it anyway, knowing each run adds another copy."
            % (unit21_id, ", ".join(unit21.case_sources(case)) or "none", name), unit21_id=unit21_id)

    after = _with_name(before, checksum, name) if external else {}
    pending_after = _without_name(pending, checksum, name)
    if not external:
        module.warn("Unit21 case %s is INTERNAL, so the link of %s cannot be recorded: every run links it again."
                    % (unit21_id, name))
    if module.check_mode:
        return _result(module, True, attachment, before, after, pending_after)

    reply = client.link_media(unit21_id, medium, recover=lambda: OUTCOME_UNKNOWN)
    ambiguous = isinstance(reply, dict) and reply.get("recovered") == OUTCOME_UNKNOWN
    if ambiguous:
        after, pending_after = before, _with_name(pending, checksum, name)
    if external:
        write_record(client, unit21_id, {MEDIA_RECORD_KEY: after, UNCONFIRMED_KEY: pending_after}, attachment,
                     ambiguous)
    if ambiguous:
        raise AmbiguousWriteError(
            "Unit21 PUT /cases/%s/link-media of %s failed in a way that hides whether Unit21 stored it (a timeout, a "
            "dropped connection or a gateway error). It was not sent again, because Unit21 cannot list media to check "
            "and a resend could link the file twice. %s Check the case in the Unit21 web application: if %s is missing "
            "there, run this task once with %s."
            % (unit21_id, name, "It is recorded as unconfirmed (custom_data.%s): later runs do not link it again and "
               "warn until it is re-linked." % UNCONFIRMED_KEY if external else
               "The case is INTERNAL, so nothing could be recorded and a re-run links the file again.", name,
               "relink_unconfirmed: true" if external else "allow_duplicates: true"),
            changed=True, attachment=attachment, media_record=after, media_unconfirmed=pending_after)
    return _result(module, True, attachment, before, after, pending_after)


def write_record(client, unit21_id, records, attachment, ambiguous):
    """Store both records whole, under our keys only; merge_custom_data keeps every other key of custom_data."""
    try:
        # Whole records, not only the new entry: right whether Unit21 merges deeply or only top-level keys.
        client.update_case(unit21_id, {"custom_data": records}, merge_custom_data=True)
    except CaseopsError as err:
        what = ("may have been linked (the link request failed in a way that hides whether Unit21 stored it)"
                if ambiguous else "was linked")
        # Same error class and details (status, vendor errors), with what happened to the file said first.
        err.msg = ("%s %s to Unit21 case %s, but recording it in the case's custom_data.%s failed: %s The next run "
                   "will link the file again, because Unit21 cannot list media; check the case in the Unit21 web "
                   "application before re-running." % (attachment["name"], what, unit21_id, MEDIA_RECORD_KEY, err.msg))
        err.args = (err.msg,)
        err.details.update(changed=True, attachment=attachment)
        raise


def media_record(case, key=MEDIA_RECORD_KEY):
    """The case's {sha256: [names]} record under ``key``, whatever shape a hand edit left it in (empty lists dropped)."""
    custom_data = case.get("custom_data")
    record = custom_data.get(key) if isinstance(custom_data, dict) else None
    if not isinstance(record, dict):
        return {}
    result = {}
    for checksum, names in record.items():
        names = [names] if isinstance(names, str) else names
        if isinstance(names, list):
            names = [n for n in names if isinstance(n, str)]
            if names:
                result[checksum] = names
    return result


def _with_name(record, checksum, name):
    result = dict((key, list(names)) for key, names in record.items())
    if name not in result.get(checksum, []):
        result[checksum] = result.get(checksum, []) + [name]
    return result


def _without_name(record, checksum, name):
    """The record without ``name``; an emptied entry stays as [] so a deep merge on Unit21's side drops it too."""
    result = dict((key, list(names)) for key, names in record.items())
    if name in result.get(checksum, []):
        result[checksum] = [n for n in result[checksum] if n != name]
    return result


def _result(module, changed, attachment, before, after, pending):
    pending = dict((key, names) for key, names in pending.items() if names)
    result = dict(changed=changed, attachment=attachment, media_record=after, media_unconfirmed=pending)
    if module._diff:
        result["diff"] = dict(before={MEDIA_RECORD_KEY: before}, after={MEDIA_RECORD_KEY: after})
    return result
