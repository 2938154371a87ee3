# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""caseops.desk.cloudforce_one: an ansible-rulebook event source polling Cloudflare Cloudforce One requests."""

import datetime
import logging
import os
import sys

DOCUMENTATION = r"""
---
short_description: Poll Cloudflare Cloudforce One requests for new requests, status changes and analyst messages
description:
  - An event source for C(ansible-rulebook) that polls Cloudforce One and puts one event on the queue per
    change (a new request, a request's status changed, for example to C(completed), a new message in a
    request's thread written by someone other than us, such as an analyst's answer).
  - Each poll lists the account's requests (sorted by C(updated), 100 per page) and reads the messages created
    since the cursor minus O(lookback) of every request that is still active (not C(completed) or C(declined))
    or was updated within the window. Posting a message is not documented to change a request's C(updated),
    so active requests are always read. An idle tenant costs one request per 100 requests plus one per active
    request and poll.
  - It uses the collection's Cloudforce One client, transport, retries and redaction (the same code as the
    modules), run in a worker thread; the credentials are API tokens or the Global API Key, which need no
    renewal.
  - Rate limits (429, C(Retry-After) or C(Ratelimit)) and 502/503/504 are retried by the transport as for the
    modules. When a poll still fails, nothing is emitted for it, the cursor stays, and the next poll waits
    O(poll_interval) times 2, 4, 8, ... seconds, at most O(max_backoff).
  - The cursor (the newest C(updated) or message C(created) seen, the keys of events delivered within the
    look-back, and each request's last status) is kept in O(state_file), written atomically (temporary file
    and rename) after every poll, every 50 events and when the source stops, so a restart neither repeats nor
    misses an event; only a crash (not a stop) between delivering an event and the next save can repeat up to
    50 events.
  - "First start (no O(state_file) yet): events from O(start_at) on: C(now) (the default) reports only what
    changes after the start; a date-time reports what changed since then. Requests that exist on the first
    poll and were created before O(start_at) are recorded with their status, without events. Later starts
    ignore O(start_at) and use the cursor."
  - Polls overlap by O(lookback) seconds; every event has a key (request id, message id, status with its time),
    and a key already delivered is never delivered again, also when several changes share one timestamp.
  - "Each event is C({\"cloudforce_one\": {\"request\": <request>, \"message\": <message or null>,
    \"previous_status\": <status or null>}, \"meta\": {...}}). C(meta) holds C(change) (C(request_created),
    C(status_changed), C(message)), C(request_id), C(message_id) (null unless a message) and C(received_at)
    (ISO 8601 UTC). ansible-rulebook adds C(meta.source) and C(meta.uuid). No credential is ever put in an
    event or a log line."
version_added: 1.0.0
author:
  - caseops.desk maintainers (@caseops)
options:
  cloudflare_account_id:
    description:
      - The account with the Cloudforce One subscription (32 hexadecimal characters); E(CLOUDFLARE_ACCOUNT_ID).
    type: str
  cloudflare_api_token:
    description:
      - An API token with Cloudforce One Write (listing needs it); E(CLOUDFLARE_API_TOKEN).
    type: str
  cloudflare_email:
    description:
      - The user's e-mail for the Global API Key; E(CLOUDFLARE_EMAIL).
    type: str
  cloudflare_api_key:
    description:
      - The Global API Key, with O(cloudflare_email); E(CLOUDFLARE_API_KEY).
    type: str
  cloudflare_base_url:
    description:
      - The API root, C(https://api.cloudflare.com/client/v4) by default; E(CLOUDFLARE_BASE_URL).
    type: str
  changes:
    description:
      - The changes to emit. Default is all of them.
    type: list
    elements: str
    choices: [request_created, status_changed, message]
  our_authors:
    description:
      - The authors whose messages are ours and never emitted, by e-mail (compared without regard to case).
      - With the Global API Key, O(cloudflare_email) is added automatically (it is the author of the messages the
        modules post). With an API token, list the token owner's e-mail here.
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
  - Edits of existing messages are not emitted; deleted messages are not noticed.
"""

EXAMPLES = r"""
- name: Cloudforce One answers
  hosts: all
  sources:
    - caseops.desk.cloudforce_one:
        # Credentials and account come from CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID.
        our_authors: [soc-automation@example.com]
        poll_interval: 120
        state_file: /var/lib/eda/cloudforce_one.json
  rules:
    - name: An analyst answered
      condition: event.meta.change == "message"
      action:
        debug:
          msg: "{{ event.cloudforce_one.request.summary }}: {{ event.cloudforce_one.message.content }}"
    - name: A request was completed
      condition: event.meta.change == "status_changed" and event.cloudforce_one.request.status == "completed"
      action:
        debug:
          msg: "Request {{ event.meta.request_id }} is completed"
"""


def _import_shared():
    """The collection's module_utils; when ansible-rulebook did not put the collections root on sys.path, add it."""
    try:
        from ansible_collections.caseops.desk.plugins.module_utils import cloudforce_one, event_polling
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        root = os.path.abspath(os.path.join(here, *[os.pardir] * 7))  # .../ansible_collections/caseops/desk/extensions/eda/plugins/event_source
        if os.path.isdir(os.path.join(root, "ansible_collections")) and root not in sys.path:
            sys.path.insert(0, root)
        from ansible_collections.caseops.desk.plugins.module_utils import cloudforce_one, event_polling
    return cloudforce_one, event_polling


cloudforce_one, event_polling = _import_shared()

logger = logging.getLogger(__name__)
SOURCE = "caseops.desk.cloudforce_one"
CHANGES = ("request_created", "status_changed", "message")
CONNECTION_DEFAULTS = {"cloudflare_account_id": None, "cloudflare_api_token": None, "cloudflare_email": None,
                       "cloudflare_api_key": None, "cloudflare_base_url": None}
DEFAULTS = dict(event_polling.COMMON_DEFAULTS, **CONNECTION_DEFAULTS)
TYPES = dict(event_polling.COMMON_TYPES, **dict((name, str) for name in CONNECTION_DEFAULTS))
CLOSED_STATUSES = ("completed", "declined")
# 100 a page: the largest the sandbox serves by default; the real cap is unknown (FIDELITY.md, Cloudforce One C1),
# and the listing does not stop early if the service serves fewer.
PAGE_SIZE = 100
# Whether the message list's "after" is inclusive is not documented; starting a second earlier keeps a message at the edge.
EDGE = 1


class CloudforceOnePoller:
    """One poll of Cloudforce One: what changed since the cursor, as candidate events."""

    def __init__(self, client, config):
        self.client = client
        self.config = config
        self.redact = client.redact
        self.ours = set(config["our_authors"])
        if client.email:
            self.ours.add(client.email.lower())

    def poll(self, state):
        since = event_polling.window_start(state, self.config["lookback"])
        requests = self.client.list_requests(sort_by="updated", sort_order="desc", page_size=PAGE_SIZE)
        events, statuses, watermark = [], {}, state["watermark"]
        for record in requests:
            previous = state["statuses"].get(record["id"])
            created = event_polling.moment(record.get("created"))
            updated = event_polling.moment(record.get("updated"))
            watermark = event_polling.later(watermark, record.get("updated"))
            if previous is None and created is not None and created >= since:
                events.append(("request:%s" % record["id"], record.get("created"), self._event("request_created", record)))
            elif previous is not None and previous != record.get("status"):
                key = "status:%s:%s:%s" % (record["id"], record.get("status"), record.get("updated"))
                events.append((key, record.get("updated"), self._event("status_changed", record, previous_status=previous)))
            statuses[record["id"]] = record.get("status")
            active = record.get("status") not in CLOSED_STATUSES
            if "message" in self.config["changes"] and (active or (updated is not None and updated >= since)):
                after = event_polling.format_moment(since - datetime.timedelta(seconds=EDGE))
                for message in self.client.list_messages(record["id"], after=after, sort_by="created", sort_order="asc",
                                                         page_size=PAGE_SIZE):
                    watermark = event_polling.later(watermark, message.get("created"))
                    stamp = event_polling.moment(message.get("created"))
                    # Keys older than the window are forgotten, so the second before it must not be reported again.
                    if (stamp is not None and stamp < since) or str(message.get("author") or "").lower() in self.ours:
                        continue
                    events.append(("message:%s:%s" % (record["id"], message.get("id")), message.get("created"),
                                   self._event("message", record, message=message)))
        events.sort(key=lambda item: (event_polling.moment(item[1]) or since, item[0]))
        wanted = set(self.config["changes"])
        events = [item for item in events if item[2]["meta"]["change"] in wanted]
        return event_polling.PollResult(events, watermark, statuses)

    @staticmethod
    def _event(change, record, message=None, previous_status=None):
        return {
            "cloudforce_one": {"request": record, "message": message, "previous_status": previous_status},
            "meta": {"change": change, "request_id": record.get("id"),
                     "message_id": message.get("id") if message else None, "received_at": event_polling.received_at()},
        }


def build_poller(args):
    config = event_polling.load_config(SOURCE, args, DEFAULTS, TYPES, CHANGES)
    client = cloudforce_one.client_from_params(config)
    return CloudforceOnePoller(client, config), config


async def main(queue, args):
    poller, config = build_poller(args)
    await event_polling.run_polling(queue, poller, config, logger)


if __name__ == "__main__":
    import asyncio

    class _PrintQueue:
        async def put(self, event):
            print(event)

    asyncio.run(main(_PrintQueue(), {"state_file": os.environ.get("CLOUDFORCE_ONE_STATE_FILE"), "max_polls": 1}))
