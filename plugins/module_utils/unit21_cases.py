# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit21 logic of the ``case`` and ``case_info`` modules, over an injected :class:`Unit21Client`.

``case``: the task's fields are checked and normalised before any request
(:func:`desired_case`), compared with the case as Unit21 returns it
(:func:`plan_update`), and only the fields that differ are sent in one update.
Identity is ``unit21_id`` (one GET) or the caller's ``case_id``: Unit21 has no
lookup by ``case_id``, so a create is tried and a 409 means "it exists", found
with :meth:`Unit21Client.find_case` (one list request per 50 API-made cases in
the worst case).

What can be read back (tests/sandbox/FIDELITY.md, Unit21 U1, U2): GET returns
getCaseResponse, without tags, custom_data, start/end dates, queue_id and the
linked objects; :meth:`Unit21Client.read_case` takes tags and custom_data from
the case's /cases/list item.  The dates, queue_id, alerts, events and entities
are returned nowhere, so they cannot be compared: the module keeps a digest of
each value it set in ``custom_data.caseops_desk_fields`` and sends such a field
again only when the task's value differs from the one it last set (a change made
in Unit21 itself is not seen).  ``disposition_notes`` is read from the newest
case action that carries notes, else from that record.  Only when custom_data
cannot be read either (the case's list item was not found) is a field sent
unread, with a warning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import json
import time

from ansible_collections.caseops.desk.plugins.module_utils import unit21
from ansible_collections.caseops.desk.plugins.module_utils.errors import ConflictError, InvalidInputError, NotFoundError
from ansible_collections.caseops.desk.plugins.module_utils.moments import to_epoch

# case_attachment records what it linked under this custom_data key; a task never sets it.
MEDIA_KEY = unit21.MEDIA_RECORD_KEY
FIELDS_KEY = unit21.FIELDS_RECORD_KEY
# Fields whose value may only be known from the module's own record (never returned, or only through actions).
RECORDED_FIELDS = unit21.FIELDS_NOT_RETURNED + ("disposition_notes",)
EVENT_TYPES = ("transaction", "action")
SOURCES = ("INTERNAL", "EXTERNAL")
LIMITS = {"case_id": 128, "title": 256, "description": 1024, "disposition": 128}
SCALAR_FIELDS = ("title", "description", "status", "disposition", "disposition_notes", "start_date", "end_date",
                 "queue_id")
LIST_FIELDS = ("tags", "alerts", "events", "entities")
COMPARED_FIELDS = SCALAR_FIELDS + LIST_FIELDS + ("custom_data",)
MERGE, REPLACE = "merge", "replace"

# case_info: list filters (module option -> kind).
LIST_FILTERS = {
    "statuses": "status", "dispositions": "str", "sources": "source", "dispositioned_by": "str",
    "created_after": "epoch", "created_before": "epoch", "dispositioned_after": "epoch",
    "dispositioned_before": "epoch", "associated_entities": "str", "associated_events": "str",
    "associated_alerts": "int", "rules": "int", "tag_filters": "tag_filter",
}
INCLUDE_OPTIONS = ("include_associations", "include_actions", "include_checklist")


# -- desired state -------------------------------------------------------------------

def desired_case(params):
    """The case fields the task sets, checked and in the API's form; nothing is sent before this passes."""
    case_id = _text(params, "case_id")
    if case_id is None and params.get("unit21_id") in (None, ""):
        raise InvalidInputError("case_id or unit21_id is required with provider unit21: case_id is your own id for the "
                                "case (it creates the case if needed), unit21_id is Unit21's number for an existing one.")
    if params.get("unit21_id") not in (None, ""):
        unit21.check_unit21_id(params["unit21_id"], "unit21_id")
    wanted = {}
    for option, field in (("title", "title"), ("body", "description"), ("disposition", "disposition"),
                          ("disposition_notes", "disposition_notes")):
        value = params.get(option)
        if value is not None:
            wanted[field] = _checked_length(field, option, value)
    if "title" in wanted and not wanted["title"].strip():
        raise InvalidInputError("title must not be empty.")
    status = params.get("status")
    if status is not None:
        wanted["status"] = _status(status, "status")
    for name in ("start_date", "end_date"):
        if params.get(name) not in (None, ""):
            wanted[name] = to_epoch(params[name], name)
    if "start_date" in wanted and "end_date" in wanted and wanted["end_date"] < wanted["start_date"]:
        raise InvalidInputError("end_date (%d) is before start_date (%d)." % (wanted["end_date"], wanted["start_date"]))
    if params.get("queue_id") is not None:
        wanted["queue_id"] = _integer(params["queue_id"], "queue_id")
    if params.get("tags") is not None:
        wanted["tags"] = _unique([_tag(tag, "tags") for tag in params["tags"]])
    if params.get("alerts") is not None:
        wanted["alerts"] = _unique([_integer(alert, "alerts[%d]" % i) for i, alert in enumerate(params["alerts"])])
    if params.get("events") is not None:
        wanted["events"] = _unique_events([_event(event, i) for i, event in enumerate(params["events"])])
    if params.get("entities") is not None:
        wanted["entities"] = _unique([_entity(entity, i) for i, entity in enumerate(params["entities"])])
    if params.get("custom_data") is not None:
        wanted["custom_data"] = _custom_data(params["custom_data"])
    if wanted.get("status") == "CLOSED" and not wanted.get("disposition") and params.get("unit21_id") in (None, ""):
        # With unit21_id the case is read first and its own disposition may do; otherwise ask now.
        raise InvalidInputError("status CLOSED needs a disposition (for example TRUE_POSITIVE or FALSE_POSITIVE): "
                                "Unit21 closes a case with one.")
    return case_id, wanted


def _text(params, name):
    value = params.get(name)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    return _checked_length(name, name, str(value))


def _checked_length(field, option, value):
    if not isinstance(value, str):
        value = str(value)
    limit = LIMITS.get(field)
    if limit is not None and len(value) > limit:
        name = option if option == field else "%s (the case %s)" % (option, field)
        raise InvalidInputError("%s may be at most %d characters, got %d." % (name, limit, len(value)))
    return value


def _status(value, name):
    text = str(value).strip().upper()
    if text not in unit21.CASE_STATUSES:
        raise InvalidInputError("%s must be OPEN or CLOSED (any case), got %r." % (name, value))
    return text


def _integer(value, name):
    if isinstance(value, bool):
        raise InvalidInputError("%s must be an integer, got %r." % (name, value))
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise InvalidInputError("%s must be an integer, got %r." % (name, value))
    return int(text)


def _tag(value, name):
    key, sep, rest = str(value).partition(":")
    if not (isinstance(value, str) and key.strip() and sep and rest.strip()):
        raise InvalidInputError("%s entries must have the form key:value, got %r." % (name, value))
    return value


def _event(value, index):
    if not isinstance(value, dict):
        raise InvalidInputError("events[%d] must be a dictionary {event_id, event_type} with event_type transaction or "
                                "action, got %r." % (index, value))
    unknown = sorted(set(value) - set(("event_id", "event_type")))
    if unknown:
        raise InvalidInputError("events[%d] has unknown keys %s; allowed keys: event_id, event_type."
                                % (index, ", ".join(unknown)))
    event_id, event_type = value.get("event_id"), value.get("event_type")
    if not isinstance(event_id, str) or not event_id.strip():
        raise InvalidInputError("events[%d] needs an event_id (a string)." % index)
    if event_type not in EVENT_TYPES:
        raise InvalidInputError("events[%d].event_type must be transaction or action, got %r." % (index, event_type))
    return {"event_id": event_id, "event_type": event_type}


def _entity(value, index):
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("entities[%d] must be an entity_id (a non-empty string), got %r." % (index, value))
    return value


def _custom_data(value):
    unit21.check_custom_data(value, "custom_data")
    reserved = [key for key in unit21.RESERVED_CUSTOM_DATA_KEYS if key in value]
    if reserved:
        raise InvalidInputError("custom_data.%s is kept by this collection (what it linked or set); leave it out."
                                % reserved[0])
    return value


def _unique(values):
    seen = []
    return [v for v in values if not (v in seen or seen.append(v))]


def _unique_events(events):
    seen = set()
    result = []
    for event in events:
        key = (event["event_id"], event["event_type"])
        if key not in seen:
            seen.add(key)
            result.append(event)
    return result


# -- the case as Unit21 returns it -----------------------------------------------------

def current_value(case, field):
    """``field`` of a case read from Unit21, normalised for comparison; raises KeyError when it is not returned."""
    if field == "disposition_notes" and field not in case:
        actions = [a for a in case.get("actions") or [] if isinstance(a, dict)]
        notes = [a["disposition_notes"] for a in actions if a.get("disposition_notes") is not None]
        if notes:
            return notes[-1]
        raise KeyError(field)
    value = case[field]
    if field == "status":
        return None if value is None else str(value).upper()
    if field in ("start_date", "end_date"):
        return _epoch_or_none(value)
    if field == "queue_id":
        return None if value is None else _integer_or_text(value)
    if field == "tags":
        return [str(t) for t in value or []]
    if field == "alerts":
        return [_integer_or_text(a) for a in value or []]
    if field == "entities":
        return [e.get("entity_id") if isinstance(e, dict) else e for e in value or []]
    if field == "events":
        return [{"event_id": e.get("event_id"), "event_type": e.get("event_type")} if isinstance(e, dict) else e
                for e in value or []]
    if field == "custom_data":
        return value or {}
    return value


def _epoch_or_none(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return to_epoch(value, "date")
        except InvalidInputError:
            return value


def _integer_or_text(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _key(field, item):
    if field == "events" and isinstance(item, dict):
        return (item.get("event_id"), item.get("event_type"))
    return item


def _same_scalar(field, current, wanted):
    if field in ("description", "disposition", "disposition_notes", "title"):
        return (current or "") == (wanted or "")
    return current == wanted


def _deep_subset(wanted, current):
    if not isinstance(current, dict):
        return False
    for key, value in wanted.items():
        if isinstance(value, dict):
            if not _deep_subset(value, current.get(key)):
                return False
        elif key not in current or current[key] != value:
            return False
    return True


def _deep_merge(current, given):
    merged = dict(current)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def plan_update(case, wanted, lists=MERGE, custom_data_mode=MERGE):
    """What to send so ``case`` becomes ``wanted``: (changed field names, update body, unknown field names).

    Lists (tags, alerts, events, entities): with ``merge`` the wanted items must
    be there and only the missing ones are sent (union); with ``replace`` the
    list must be exactly the wanted one and is sent whole.  custom_data: with
    ``merge`` the wanted keys must hold the wanted values (deep); with
    ``replace`` it must be exactly the wanted one, apart from MEDIA_KEY, whose
    current value is kept.
    """
    changed, body, unknown = [], {}, []
    record = fields_record(case)
    for field in COMPARED_FIELDS:
        if field not in wanted:
            continue
        want = wanted[field]
        recorded = record is not None and field in RECORDED_FIELDS and record.get(field) == value_digest(want)
        try:
            have = current_value(case, field)
        except KeyError:
            if recorded:
                continue
            if record is None or field not in RECORDED_FIELDS:
                unknown.append(field)
            changed.append(field)
            body[field] = _with_reserved(want, case) if field == "custom_data" and custom_data_mode == REPLACE else want
            continue
        if recorded and field == "disposition_notes":
            # Notes are read from the newest action, which a notes-only update may not add: our record counts too.
            continue
        if field in LIST_FIELDS:
            have_keys = [_key(field, item) for item in have]
            missing = [item for item in want if _key(field, item) not in have_keys]
            if lists == REPLACE:
                if sorted(map(repr, have_keys)) != sorted(repr(_key(field, item)) for item in want):
                    changed.append(field)
                    body[field] = want
            elif missing:
                changed.append(field)
                body[field] = missing
        elif field == "custom_data":
            if custom_data_mode == REPLACE:
                target = _with_reserved(want, case)
                if have != target:
                    changed.append(field)
                    body[field] = target
            elif not _deep_subset(want, have):
                changed.append(field)
                body[field] = want
        elif not _same_scalar(field, have, want):
            changed.append(field)
            body[field] = want
    if record is not None:
        _record_fields(body, record, wanted, custom_data_mode)
    return sorted(changed), body, unknown


def value_digest(value):
    """A short, stable digest of a field's value, as kept in custom_data.caseops_desk_fields."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def fields_record(case):
    """The case's {field: digest} record, {} when there is none, None when custom_data could not be read."""
    custom_data = case.get("custom_data")
    if not isinstance(custom_data, dict):
        return None
    record = custom_data.get(FIELDS_KEY)
    return dict((k, v) for k, v in record.items() if isinstance(v, str)) if isinstance(record, dict) else {}


def _record_fields(body, record, wanted, custom_data_mode):
    """Add to the update the record of every recorded field it sends, so the next run knows them."""
    sent = dict((field, value_digest(wanted[field])) for field in RECORDED_FIELDS if field in body)
    if all(record.get(field) == digest for field, digest in sent.items()):
        return
    new_record = dict(record, **sent)
    if "custom_data" in body and custom_data_mode == REPLACE:
        body["custom_data"] = dict(body["custom_data"], **{FIELDS_KEY: new_record})
    else:
        body["custom_data"] = dict(body.get("custom_data") or {}, **{FIELDS_KEY: new_record})


def _with_reserved(wanted, case):
    """``wanted`` plus the collection's own keys of the current custom_data, which a replace must keep."""
    current = case.get("custom_data") or {}
    kept = dict((key, current[key]) for key in unit21.RESERVED_CUSTOM_DATA_KEYS if key in current)
    return dict(wanted, **kept) if kept else wanted


def predicted_case(case, body, lists=MERGE, custom_data_mode=MERGE):
    """``case`` as it will read after the update ``body`` (check mode)."""
    after = copy.deepcopy(case)
    for field, value in body.items():
        if field in LIST_FIELDS:
            if lists == REPLACE:
                after[field] = _api_items(field, value)
            else:
                after[field] = list(after.get(field) or []) + _api_items(field, value)
        elif field == "custom_data":
            merge = custom_data_mode == MERGE or FIELDS_KEY in value and len(value) == 1
            after[field] = _deep_merge(after.get(field) or {}, value) if merge else value
        else:
            after[field] = value
    return after


def _api_items(field, items):
    """Items as a GET shows them (entities come back as {entity_id, entity_type})."""
    if field == "entities":
        return [{"entity_id": item, "entity_type": None} for item in items]
    return [dict(item) if isinstance(item, dict) else item for item in items]


def list_fields_after(case, body, lists, merge_custom):
    """The list-only fields (tags, custom_data, assigned_to) of ``case`` after the update ``body``, or None.

    None when they cannot be known without reading the case's list item again: ``case`` lacked them, or custom_data
    was merged in a way whose outcome depends on how deep Unit21 merges (its notes do not say; only the default,
    replace, is documented).  Tags follow from the documented strategies (U16): ``union`` adds, ``replace`` replaces.
    """
    if not all(field in case for field in ("tags", "custom_data")) or not isinstance(case["custom_data"], dict):
        return None
    known = dict((field, copy.deepcopy(case[field])) for field in unit21.LIST_ONLY_FIELDS if field in case)
    if "tags" in body:
        known["tags"] = list(body["tags"]) if lists == REPLACE else list(case["tags"] or []) + list(body["tags"])
    if "custom_data" in body:
        sent = body["custom_data"]
        if not merge_custom:
            known["custom_data"] = copy.deepcopy(sent)
        else:
            deep = _deep_merge(case["custom_data"], sent)
            if deep != dict(case["custom_data"], **sent):
                return None
            known["custom_data"] = copy.deepcopy(deep)
    return known


def diff_view(case, fields):
    """The compared fields of a case, normalised, for the diff."""
    view = {}
    if not case:
        return view
    for name in ("unit21_id", "case_id"):
        if name in case:
            view[name] = case[name]
    for field in fields:
        try:
            view[field] = current_value(case, field)
        except KeyError:
            continue
        if field in LIST_FIELDS:
            view[field] = sorted(view[field], key=repr)
    return view


# -- case ------------------------------------------------------------------------------

def run_case(module, client):
    """The ``case`` module for provider unit21."""
    params = module.params
    if params.get("state") == "absent":
        raise InvalidInputError("state=absent is not possible with provider unit21: Unit21 has no delete. Close the case "
                                "instead, with status CLOSED and a disposition.")
    case_id, wanted = desired_case(params)
    lists = params.get("lists") or MERGE
    custom_data_mode = params.get("custom_data_mode") or MERGE
    unit21_id = params.get("unit21_id")
    given = params.get("unit21_case")
    if given is not None:
        if unit21_id in (None, ""):
            raise InvalidInputError("unit21_case needs unit21_id (the unit21_id of that case): unit21_case only saves "
                                    "reading a case the task names by its unit21_id.")
        unit21.check_given_case(given, unit21_id)
        if "custom_data" in wanted and custom_data_mode == REPLACE:
            # A replace writes back the collection's own custom_data keys (the media records), which another task may
            # have changed since the case was read: they must be read now, not taken from an earlier task.
            given = None

    if unit21_id not in (None, ""):
        try:
            # A given case is the caller's read, with no write in between (as documented): reading it again would
            # return the same case.
            case = given if given is not None else client.read_case(unit21_id)
        except NotFoundError:
            raise InvalidInputError("Unit21 has no case with unit21_id %s. To create a case, give case_id (and title) "
                                    "without unit21_id." % unit21_id)
        if case_id is not None and case.get("case_id") != case_id:
            raise InvalidInputError("unit21_id %s is the case with case_id %r, not %r; give the unit21_id of case_id %r "
                                    "or leave unit21_id out." % (unit21_id, case.get("case_id"), case_id, case_id))
        return _converge(module, client, case, wanted, lists, custom_data_mode, changed=False)

    if module.check_mode or "title" not in wanted:
        # Check mode cannot try the create; without a title the create would be refused anyway: search instead.
        found = client.find_case(case_id)
        if found is not None:
            return _converge(module, client, client.read_case(found["unit21_id"], list_item=found), wanted, lists, custom_data_mode,
                             changed=False)
        if "title" not in wanted:
            raise InvalidInputError("title is required to create the Unit21 case %r, which does not exist yet." % case_id)
        return _predict_create(case_id, wanted)

    def recover():
        # After an ambiguous failure (dropped connection, gateway error): did the create land?
        found = client.find_case(case_id)
        return None if found is None else found["unit21_id"]

    body = creation_body(case_id, wanted)
    try:
        created = client.create_case(body, recover=recover)
    except ConflictError as err:
        found = client.find_case(case_id)
        if found is None:
            raise InvalidInputError("Unit21 answered 409 (case_id %r exists) but no API-created case with that case_id "
                                    "was found in /cases/list; pass its unit21_id instead." % case_id)
        if err.replayed:
            # The 409 answered a resend after a failure that hid whether the first create landed (the recovery
            # look-up ran before it was visible): it had landed, so this task made the case (FIDELITY.md, U13).
            module.warn("The create of Unit21 case %r got no clear answer, so it was sent again, and Unit21 answered "
                        "409 (the case_id exists): the first create had landed after all. The case was created once, "
                        "by this task, and is unit21_id %s." % (case_id, found.get("unit21_id")))
        return _converge(module, client, client.read_case(found["unit21_id"], list_item=found), wanted, lists, custom_data_mode,
                         changed=err.replayed)
    if created.get("recovered"):
        # Worded as the create guard words it on the other create paths (create_guard.py).
        module.warn("Unit21 did not confirm the create of case %r (the answer was lost or was an error that may "
                    "follow a write); it was found by a look-up as unit21_id %s, so it was not sent again."
                    % (case_id, created["unit21_id"]))
        case = client.read_case(created["unit21_id"])
        # It landed, but what it holds is best checked against the task like any found case.
        return _converge(module, client, case, wanted, lists, custom_data_mode, changed=True)
    # The tags and custom_data of a case just created are the ones sent: no list request to read them back.
    sent = dict(tags=body.get("tags") or [], custom_data=body.get("custom_data") or {})
    case = client.read_case(created["unit21_id"], list_item=sent)
    fields = sorted(wanted)
    return dict(changed=True, case=case, unit21_id=unit21.check_unit21_id(case.get("unit21_id")), changed_fields=fields,
                diff=dict(before={}, after=diff_view(case, fields)))


def creation_body(case_id, wanted):
    """The create request: the wanted fields, case_id, and start_date (required by Unit21; now when not given).

    The fields Unit21 never returns that the task sets are recorded in custom_data (see the module docstring).
    """
    body = dict(wanted, case_id=case_id)
    record = dict((field, value_digest(wanted[field])) for field in RECORDED_FIELDS if field in wanted)
    if record:
        body["custom_data"] = dict(wanted.get("custom_data") or {}, **{FIELDS_KEY: record})
    body.setdefault("start_date", int(time.time()))
    return body


def _predict_create(case_id, wanted):
    predicted = dict(creation_body(case_id, wanted), unit21_id=None)
    predicted.setdefault("status", "OPEN")
    predicted["source"] = ["EXTERNAL"]
    if "entities" in predicted:
        predicted["entities"] = _api_items("entities", predicted["entities"])
    fields = sorted(wanted)
    return dict(changed=True, case=predicted, unit21_id=None, changed_fields=fields,
                diff=dict(before={}, after=diff_view(predicted, fields)))


def _converge(module, client, case, wanted, lists, custom_data_mode, changed):
    closing = wanted.get("status") == "CLOSED"
    if closing and not wanted.get("disposition") and not case.get("disposition"):
        raise InvalidInputError("status CLOSED needs a disposition: case %s has none, so give one (for example "
                                "TRUE_POSITIVE or FALSE_POSITIVE)." % case.get("unit21_id"))
    fields, body, unknown = plan_update(case, wanted, lists, custom_data_mode)
    unit21_id = case.get("unit21_id")
    if unknown:
        module.warn("Unit21 did not return %s for case %s (nor its custom_data, which would hold this collection's "
                    "record), so %s cannot be compared and %s sent on every run."
                    % (", ".join(unknown), unit21_id, "it" if len(unknown) == 1 else "they",
                       "is" if len(unknown) == 1 else "are"))
    shown = sorted(wanted)
    unit21_id = unit21.check_unit21_id(unit21_id)
    if not body:
        return dict(changed=changed, case=case, unit21_id=unit21_id, changed_fields=[],
                    diff=dict(before=diff_view(case, shown), after=diff_view(case, shown)))
    if "EXTERNAL" not in unit21.case_sources(case):
        raise InvalidInputError("Case %s would need changes to %s, but only cases created through the API (source "
                                "EXTERNAL) can be updated; this one was made inside Unit21 (source %s)."
                                % (unit21_id, ", ".join(fields), "/".join(unit21.case_sources(case)) or "unknown"))
    list_strategy = None
    if any(field in body for field in LIST_FIELDS):
        list_strategy = unit21.LIST_MERGE_REPLACE if lists == REPLACE else unit21.LIST_MERGE_UNION
    merge_custom = None
    if "custom_data" in body:
        # Replace only when the task's own custom_data is replaced; the record alone is always merged in.
        merge_custom = not ("custom_data" in fields and custom_data_mode == REPLACE)
    if module.check_mode:
        after = predicted_case(case, body, lists, custom_data_mode)
    else:
        client.update_case(unit21_id, body, list_merge_strategy=list_strategy, merge_custom_data=merge_custom)
        # The update answers only {unit21_id, case_id} (FIDELITY.md, U16): one GET for what Unit21 sets (status,
        # disposition_at, dispositioned_by, actions); tags and custom_data come from the list item only when the
        # update's outcome on them is not certain.
        after = client.read_case(unit21_id, list_item=list_fields_after(case, body, lists, merge_custom))
    return dict(changed=True, case=after, unit21_id=unit21_id, changed_fields=fields,
                diff=dict(before=diff_view(case, shown), after=diff_view(after, shown)))


# -- case_info ---------------------------------------------------------------------------

def list_filters(params):
    """The /cases/list filters and options the task gives, checked (dates become epoch seconds)."""
    filters = {}
    for name, kind in LIST_FILTERS.items():
        value = params.get(name)
        if value is None:
            continue
        if kind == "epoch":
            filters[name] = to_epoch(value, name)
        elif kind == "status":
            filters[name] = _unique([_status(v, name) for v in value])
        elif kind == "source":
            sources = [str(v).strip().upper() for v in value]
            bad = [v for v in sources if v not in SOURCES]
            if bad:
                raise InvalidInputError("%s must be INTERNAL or EXTERNAL, got %s." % (name, ", ".join(map(repr, bad))))
            filters[name] = _unique(sources)
        elif kind == "int":
            filters[name] = [_integer(v, "%s[%d]" % (name, i)) for i, v in enumerate(value)]
        elif kind == "tag_filter":
            for tag in value:
                if not isinstance(tag, str) or not tag.split(":", 1)[0].strip():
                    raise InvalidInputError("tag_filters entries must be key or key:value, got %r." % (tag,))
            filters[name] = list(value)
        else:
            filters[name] = [str(v) for v in value]
    options = dict((name, True) for name in INCLUDE_OPTIONS if params.get(name))
    if options:
        filters["options"] = options
    return filters


def run_case_info(module, client):
    """The ``case_info`` module for provider unit21."""
    params = module.params
    limit = params.get("limit")
    limit = 500 if limit is None else limit
    if limit < 1:
        raise InvalidInputError("limit must be 1 or more, got %d." % limit)
    filters = list_filters(params)
    if params.get("ids") is not None:
        given = sorted(name for name in filters)
        if given:
            raise InvalidInputError("ids cannot be combined with list filters or include options (%s): a case is read "
                                    "whole by its unit21_id." % ", ".join(given))
        ids = _unique([unit21.check_unit21_id(i, "ids") for i in params["ids"] if str(i).strip()])
        cases, missing = [], []
        for unit21_id in ids:
            try:
                cases.append(client.read_case(unit21_id))
            except NotFoundError:
                missing.append(unit21_id)
        return dict(changed=False, cases=cases, total=len(cases), total_count=len(cases), missing_ids=missing)
    cases, total = client.list_cases(filters, limit=limit)
    return dict(changed=False, cases=cases, total=total, total_count=total, missing_ids=[])
