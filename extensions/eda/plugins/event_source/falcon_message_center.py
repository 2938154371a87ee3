# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""caseops.desk.falcon_message_center: an ansible-rulebook event source polling CrowdStrike Falcon Message Center."""

import logging
import os
import sys

DOCUMENTATION = r"""
---
short_description: Poll CrowdStrike Falcon Message Center for case changes (opened, status, comments, attachments)
description:
  - An event source for C(ansible-rulebook) that polls Falcon Message Center and puts one event on the queue
    per change (a case opened, a case status changed, a new comment by someone other than us, a new attachment
    by someone other than us).
  - Each poll asks for the cases whose C(case.last_modified_time) is at or after the cursor minus O(lookback)
    (FQL, sorted by C(case.last_modified_time), paged), reads them in batches of 500, and reads the new
    activities of those cases. An idle tenant costs one request per poll (plus a token about every 30 minutes).
  - It uses the collection's Falcon client, transport, retries and redaction (the same code as the modules),
    run in a worker thread. The OAuth2 token is kept and reused across polls and renewed before it expires or
    when the API answers 401.
  - Rate limits (429) and 502/503/504 are retried by the transport as for the modules, honouring
    C(Retry-After) and C(X-RateLimit-RetryAfter). When a poll still fails, nothing is emitted for it, the
    cursor stays, and the next poll waits O(poll_interval) times 2, 4, 8, ... seconds, at most O(max_backoff).
  - The cursor (the newest C(last_modified_time) seen, the keys of events delivered within the look-back,
    and the last status of each case) is kept in O(state_file), written atomically (temporary file and
    rename) after every poll, every 50 events, and when the source stops. After a restart the source
    continues from it, so an event is neither repeated nor missed; only a crash (not a stop) between
    delivering an event and the next save can repeat up to 50 events.
  - "First start (no O(state_file) yet): events from O(start_at) on: C(now) (the default) reports only what
    changes after the start; a date-time reports what changed since then. On the first poll the status of
    every case matching O(filter) is recorded (no events), so the first status change of any case is seen.
    Later starts ignore O(start_at) and use the cursor."
  - Polls overlap by O(lookback) seconds, so a change the API shows a little late is still read; every event
    has a key (activity id, attachment id, case id and status with its time), and a key already delivered is
    never delivered again, also when several changes share one timestamp.
  - "Each event is C({\"falcon\": {\"case\": <case>, \"activity\": <activity or null>, \"attachment\":
    <attachment or null>, \"previous_status\": <status or null>, \"unit21_id\": <id or null>}, \"meta\": {...}}).
    C(meta) holds C(change) (C(case_opened), C(status_changed), C(comment), C(attachment)), C(case_id),
    C(activity_id) (the activity's or attachment's id, null otherwise) and C(received_at) (ISO 8601 UTC).
    ansible-rulebook adds C(meta.source) and C(meta.uuid). No credential or token is ever put in an event or a log line."
  - "C(falcon.unit21_id) is the Unit21 case the Falcon case is linked to: the number on the last line
    C(caseops.desk unit21 case: <unit21_id>) of the case body, which the role C(caseops.desk.falcon_detection_escalation)
    writes when it is given C(falcon_detection_escalation_unit21_id); null when the body has no such line."
version_added: 1.0.0
author:
  - caseops.desk maintainers (@caseops)
options:
  falcon_client_id:
    description:
      - The Falcon API client id (Message Center Read). When not set, E(FALCON_CLIENT_ID) is used.
    type: str
  falcon_client_secret:
    description:
      - The API client's secret. When not set, E(FALCON_CLIENT_SECRET) is used.
    type: str
  falcon_cloud:
    description:
      - The Falcon cloud (C(us-1), C(us-2), C(eu-1), C(us-gov-1), C(us-gov-2), C(us-3)); E(FALCON_CLOUD).
      - Without it and without O(falcon_base_url), the cloud is discovered from the token answer.
    type: str
  falcon_base_url:
    description:
      - The API root URL, instead of O(falcon_cloud); E(FALCON_BASE_URL).
    type: str
  falcon_member_cid:
    description:
      - The child CID to act for (Flight Control); E(FALCON_MEMBER_CID).
    type: str
  filter:
    description:
      - An FQL filter that narrows the cases, joined to the cursor's with C(+), e.g. C(case.type:'fc:contact').
    type: str
  changes:
    description:
      - The changes to emit. Default is all of them.
    type: list
    elements: str
    choices: [case_opened, status_changed, comment, attachment]
  our_authors:
    description:
      - The authors whose comments and attachments are ours and never emitted, by user UUID or e-mail
        (compared without regard to case), e.g. the user the C(caseops.desk.falcon_case_comment) module posts as.
    type: list
    elements: str
    default: []
  poll_interval:
    description:
      - Seconds between the end of one poll and the start of the next.
    type: float
    default: 60.0
  lookback:
    description:
      - Seconds each poll reaches back before the cursor, for changes the API shows late.
    type: float
    default: 120.0
  max_backoff:
    description:
      - Longest wait, in seconds, after failed polls.
    type: float
    default: 900.0
  state_file:
    description:
      - Path of the cursor file. Without it the cursor lives in memory and every start is a first start.
    type: str
  start_at:
    description:
      - Where a first start begins, C(now) or a date-time such as C(2026-01-31T14:00:00Z).
    type: str
    default: now
  max_polls:
    description:
      - Stop after this many successful polls; C(0) polls until the source is stopped.
    type: int
    default: 0
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: float
    default: 30.0
  validate_certs:
    description:
      - Whether to verify the API's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM bundle of CA certificates to verify the API with.
    type: str
  max_retries:
    description:
      - Retries of one request on 429, 502, 503, 504 and connection failures.
    type: int
    default: 4
  retry_max_time:
    description:
      - Longest time, in seconds, spent retrying one request.
    type: float
    default: 120.0
notes:
  - Comments and attachments of our own authors are recognised only by O(our_authors).
  - Activities other than comments (the API may report more types) are not emitted.
"""

EXAMPLES = r"""
- name: CrowdStrike replies on our Message Center cases
  hosts: all
  sources:
    - caseops.desk.falcon_message_center:
        # Credentials come from FALCON_CLIENT_ID and FALCON_CLIENT_SECRET.
        falcon_cloud: us-1
        filter: "case.type:'fc:detection-support'"
        our_authors: ["0f6a1b2c-3d4e-5f60-7182-93a4b5c6d7e8"]
        poll_interval: 60
        state_file: /var/lib/eda/falcon_message_center.json
  rules:
    - name: CrowdStrike commented
      condition: event.meta.change == "comment"
      action:
        debug:
          msg: "CrowdStrike replied on {{ event.falcon.case.key }}: {{ event.falcon.activity.body }}"
    - name: A case was closed
      condition: event.meta.change == "status_changed" and event.falcon.case.status in ["3", "4"]
      action:
        debug:
          msg: "Case {{ event.meta.case_id }} is closed"
"""


def _import_shared():
    """The collection's module_utils; when ansible-rulebook did not put the collections root on sys.path, add it."""
    try:
        from ansible_collections.caseops.desk.plugins.module_utils import event_polling, falcon, falcon_cases
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        root = os.path.abspath(os.path.join(here, *[os.pardir] * 7))  # .../ansible_collections/caseops/desk/extensions/eda/plugins/event_source
        if os.path.isdir(os.path.join(root, "ansible_collections")) and root not in sys.path:
            sys.path.insert(0, root)
        from ansible_collections.caseops.desk.plugins.module_utils import event_polling, falcon, falcon_cases
    return event_polling, falcon, falcon_cases


event_polling, falcon, falcon_cases = _import_shared()

logger = logging.getLogger(__name__)
SOURCE = "caseops.desk.falcon_message_center"
CHANGES = ("case_opened", "status_changed", "comment", "attachment")
CONNECTION_DEFAULTS = {"falcon_client_id": None, "falcon_client_secret": None, "falcon_cloud": None, "falcon_base_url": None,
                       "falcon_member_cid": None, "filter": None}
DEFAULTS = dict(event_polling.COMMON_DEFAULTS, **CONNECTION_DEFAULTS)
TYPES = dict(event_polling.COMMON_TYPES, **dict((name, str) for name in CONNECTION_DEFAULTS))
CASE_SORT = "case.last_modified_time.asc"
ACTIVITY_SORT = "activity.created_time.asc"
MAX_CASES_PER_POLL = 100000


def author_keys(author):
    """The lower-cased identities of an Author object (or a bare user UUID)."""
    if isinstance(author, dict):
        return set(str(author.get(f)).lower() for f in ("uuid", "email", "display_name") if author.get(f))
    return set([str(author).lower()]) if author else set()


class FalconPoller:
    """One poll of Message Center: what changed since the cursor, as candidate events."""

    def __init__(self, client, config):
        self.client = client
        self.config = config
        self.redact = client.redact

    def _filter(self, since):
        cursor = "case.last_modified_time:>=%s" % falcon.fql_quote(event_polling.format_moment(since))
        return "(%s)+%s" % (self.config["filter"], cursor) if self.config["filter"] else cursor

    def poll(self, state):
        statuses = {}
        since = event_polling.window_start(state, self.config["lookback"])
        if not state["primed"]:
            # First poll: remember where every older case stands, so its first status change is seen.
            ids, _total = self.client.find_case_ids(self.config["filter"], CASE_SORT, limit=MAX_CASES_PER_POLL)
            for case in (self.client.get_cases(ids)[0] if ids else []):
                created = event_polling.moment(case.get("created_time"))
                if created is None or created < since:
                    statuses[case["id"]] = case.get("status")
        ids, _total = self.client.find_case_ids(self._filter(since), CASE_SORT, limit=MAX_CASES_PER_POLL)
        cases = self.client.get_cases(ids)[0] if ids else []
        known = dict(state["statuses"], **statuses)
        events, watermark = [], state["watermark"]
        for case in cases:
            watermark = event_polling.later(watermark, case.get("last_modified_time"))
            events.extend(self._case_events(case, known.get(case["id"]), since))
            statuses[case["id"]] = case.get("status")
        events.extend(self._activity_events(cases, since))
        events.sort(key=lambda item: (event_polling.moment(item[1]) or since, item[0]))
        wanted = set(self.config["changes"])
        events = [item for item in events if item[2]["meta"]["change"] in wanted]
        return event_polling.PollResult(events, watermark, statuses)

    def _case_events(self, case, previous, since):
        created = event_polling.moment(case.get("created_time"))
        if previous is None and created is not None and created >= since:
            yield ("opened:%s" % case["id"], case.get("created_time"), self._event("case_opened", case))
        elif previous is not None and previous != case.get("status"):
            key = "status:%s:%s:%s" % (case["id"], case.get("status"), case.get("last_modified_time"))
            yield (key, case.get("last_modified_time"), self._event("status_changed", case, previous_status=previous))
        for attachment in case.get("attachments") or []:
            stamp = event_polling.moment(attachment.get("created_time"))
            if stamp is None or stamp < since or self._ours(attachment.get("created_by")):
                continue
            yield ("attachment:%s" % attachment.get("id"), attachment.get("created_time"),
                   self._event("attachment", case, attachment=attachment, activity_id=attachment.get("id")))

    def _activity_events(self, cases, since):
        if "comment" not in self.config["changes"] or not cases:
            return []
        by_id = dict((case["id"], case) for case in cases)
        activity_filter = "activity.created_time:>=%s" % falcon.fql_quote(event_polling.format_moment(since))
        ids = []
        for case in cases:
            ids.extend(self.client.find_activity_ids(case["id"], activity_filter, ACTIVITY_SORT)[0])
        events = []
        for activity in (self.client.get_activities(ids)[0] if ids else []):
            if activity.get("type") != "comment" or self._ours(activity.get("created_by")):
                continue
            case = by_id.get(activity.get("case_id"))
            if case is None:
                continue
            events.append(("activity:%s" % activity.get("id"), activity.get("created_time"),
                           self._event("comment", case, activity=activity, activity_id=activity.get("id"))))
        return events

    def _ours(self, author):
        return bool(author_keys(author) & self.config["our_authors"])

    @staticmethod
    def _event(change, case, activity=None, attachment=None, previous_status=None, activity_id=None):
        return {
            "falcon": {"case": case, "activity": activity, "attachment": attachment, "previous_status": previous_status,
                       "unit21_id": falcon_cases.linked_unit21_id(case.get("body"))},
            "meta": {"change": change, "case_id": case.get("id"), "activity_id": activity_id,
                     "received_at": event_polling.received_at()},
        }


def build_poller(args):
    config = event_polling.load_config(SOURCE, args, DEFAULTS, TYPES, CHANGES)
    client = falcon.client_from_params(config)
    return FalconPoller(client, config), config


async def main(queue, args):
    poller, config = build_poller(args)
    await event_polling.run_polling(queue, poller, config, logger)


if __name__ == "__main__":
    import asyncio

    class _PrintQueue:
        async def put(self, event):
            print(event)

    asyncio.run(main(_PrintQueue(), {"state_file": os.environ.get("FALCON_MC_STATE_FILE"), "max_polls": 1}))
