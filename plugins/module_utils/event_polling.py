# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the polling EDA sources share: the persisted cursor, de-duplication and the poll loop.

A vendor poller is synchronous (it uses the vendor client over the one
transport); :func:`run_polling` runs it in a thread and puts its events on the
rule engine's queue.  A poll returns candidate events, each with a key and a
timestamp; the loop drops keys already delivered, so overlapping poll windows
(and equal timestamps at a window's edge) never produce an event twice.  The
cursor moves only after a poll's events are on the queue and recorded.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import datetime
import json
import logging
import os
import tempfile

from ansible_collections.caseops.desk.plugins.module_utils.errors import CaseopsError, ConfigurationError, InvalidInputError
from ansible_collections.caseops.desk.plugins.module_utils.moments import format_moment, parse_moment

STATE_VERSION = 1
# Delivered keys are saved after this many events, so a crash mid-poll repeats at most this many.
SAVE_EVERY = 50


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def moment(value):
    """A vendor timestamp as a UTC datetime, or None when missing or unreadable."""
    try:
        return parse_moment(value, "timestamp")
    except InvalidInputError:
        return None


def received_at():
    return format_moment(utc_now().replace(microsecond=0))


class PollResult:
    """What one poll found: candidate events and the cursor to move to once they are delivered.

    ``events``: ``(key, timestamp, event)`` in the order to deliver them;
    ``watermark``: the newest vendor timestamp seen; ``statuses``: id -> status
    to remember; ``primed``: the poller has recorded the tenant's starting point.
    """

    def __init__(self, events, watermark, statuses, primed=True):
        self.events = events
        self.watermark = watermark
        self.statuses = statuses
        self.primed = primed


class CursorStore:
    """The cursor in a JSON file, replaced atomically (temporary file + rename), or in memory without a path."""

    def __init__(self, path):
        self.path = os.path.expanduser(path) if path else None

    def load(self):
        if not self.path or not os.path.exists(self.path):
            return None
        try:
            with open(self.path) as handle:
                state = json.load(handle)
        except (OSError, ValueError) as err:
            raise ConfigurationError("state_file %s cannot be read as a cursor (%s): move it away to start over."
                                     % (self.path, err))
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ConfigurationError("state_file %s is not a cursor of this source (version %s expected)."
                                     % (self.path, STATE_VERSION))
        return state

    def save(self, state):
        if not self.path:
            return
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".cursor-", dir=folder)
        try:
            with os.fdopen(handle, "w") as stream:
                json.dump(state, stream, sort_keys=True)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise


def new_state(start_at, now=None):
    """The cursor of a first start: from ``start_at`` (a date-time), or from now when it is empty or ``now``."""
    if start_at in (None, "", "now"):
        start = (now or utc_now())
    else:
        start = parse_moment(start_at, "start_at")
    start = format_moment(start)
    return {"version": STATE_VERSION, "start": start, "watermark": start, "seen": {}, "statuses": {}, "primed": False}


def window_start(state, lookback):
    """Where a poll starts reading: the watermark minus the look-back, never before the first start."""
    start = moment(state["watermark"]) - datetime.timedelta(seconds=lookback)
    return max(start, moment(state["start"]))


def check_config(config, int_options=(), positive=()):
    for name in positive:
        if not isinstance(config[name], (int, float)) or config[name] <= 0:
            raise ConfigurationError("%s must be a positive number, got %r." % (name, config[name]))
    for name in int_options:
        if not isinstance(config[name], int) or config[name] < 0:
            raise ConfigurationError("%s must be a whole number of 0 or more, got %r." % (name, config[name]))


def later(first, second):
    a, b = moment(first), moment(second)
    if a is None:
        return second
    if b is None:
        return first
    return first if a >= b else second


def apply_result(state, result, lookback):
    """The cursor after a poll's events were delivered: watermark, statuses, and delivered keys still in the window."""
    state["watermark"] = later(state["watermark"], result.watermark)
    state["statuses"].update(result.statuses)
    state["primed"] = state["primed"] or result.primed
    oldest = window_start(state, lookback)
    state["seen"] = dict((key, stamp) for key, stamp in state["seen"].items()
                         if moment(stamp) is None or moment(stamp) >= oldest)


async def run_polling(queue, poller, config, logger=None, store=None):
    """Poll forever (or ``config["max_polls"]`` times): deliver new events, persist the cursor, back off on errors.

    A failed poll (after the transport's own retries) changes nothing; the next
    one waits ``poll_interval * 2**failures`` seconds, at most ``max_backoff``.
    Configuration errors stop the source.
    """
    logger = logger or logging.getLogger(__name__)
    store = store or CursorStore(config.get("state_file"))
    state = store.load()
    if state is None:
        state = new_state(config.get("start_at"))
        store.save(state)
        logger.info("First start: events from %s on", state["start"])
    else:
        logger.info("Resuming from the cursor in %s (watermark %s)", store.path, state["watermark"])
    loop = asyncio.get_running_loop()
    failures = 0
    polls = 0
    floor = moment(state["start"])
    while True:
        try:
            result = await loop.run_in_executor(None, poller.poll, state)
        except (ConfigurationError, InvalidInputError):
            raise
        except CaseopsError as err:
            failures += 1
            delay = min(config["max_backoff"], config["poll_interval"] * (2 ** failures))
            logger.warning("Poll failed (%s); next try in %.1f s", poller.redact(str(err)), delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        delivered = 0
        try:
            for key, stamp, event in result.events:
                if key in state["seen"]:
                    continue
                when = moment(stamp)
                if when is not None and when < floor:
                    continue  # before the first start: not ours to report
                await queue.put(event)
                state["seen"][key] = stamp
                delivered += 1
                if delivered % SAVE_EVERY == 0:
                    store.save(state)
        finally:
            # Also when the source is stopped mid-delivery: what reached the queue is not sent again.
            store.save(state)
        apply_result(state, result, config["lookback"])
        store.save(state)
        polls += 1
        logger.info("Poll %d: %d new events, watermark %s", polls, delivered, state["watermark"])
        if config.get("max_polls") and polls >= config["max_polls"]:
            return
        await asyncio.sleep(config["poll_interval"])


# The options both sources share: connection settings the modules take too, and the poll loop's.
COMMON_DEFAULTS = {
    "timeout": 30.0, "validate_certs": True, "ca_path": None, "max_retries": 4, "retry_max_time": 120.0,
    "poll_interval": 60.0, "lookback": 120.0, "max_backoff": 900.0, "state_file": None, "start_at": "now",
    "our_authors": [], "changes": None, "max_polls": 0,
}
COMMON_TYPES = {
    "timeout": float, "validate_certs": bool, "ca_path": str, "max_retries": int, "retry_max_time": float,
    "poll_interval": float, "lookback": float, "max_backoff": float, "state_file": str, "start_at": str,
    "our_authors": list, "changes": list, "max_polls": int,
}


TYPE_NAMES = {float: "float", int: "int", str: "str", bool: "bool", list: "list"}


def _coerce(value, kind):
    """Rulebook variables templated into a source's arguments arrive as strings: read numbers and booleans back."""
    if not isinstance(value, str) or kind in (str, list):
        return value
    text = value.strip()
    try:
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except ValueError:
        return value
    if kind is bool and text.lower() in ("true", "yes", "1", "false", "no", "0"):
        return text.lower() in ("true", "yes", "1")
    return value


def load_config(source, args, defaults, types, all_changes):
    """The effective settings, or ConfigurationError naming the argument (never a credential's value)."""
    args = dict(args or {})
    unknown = sorted(set(args) - set(defaults))
    if unknown:
        raise ConfigurationError("%s: unknown argument(s) %s; known: %s" % (source, ", ".join(unknown), ", ".join(sorted(defaults))))
    config = dict(defaults)
    for name, value in args.items():
        if value is None or value == "":
            continue
        kind = types[name]
        value = _coerce(value, kind)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is list and isinstance(value, str):
            value = [value]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigurationError("%s: %s must be of type %s." % (source, name, TYPE_NAMES[kind]))
        config[name] = value
    for name in ("poll_interval", "timeout"):
        if config[name] <= 0:
            raise ConfigurationError("%s: %s must be a positive number of seconds, got %s." % (source, name, config[name]))
    for name in ("lookback", "max_backoff", "max_polls"):
        if config[name] < 0:
            raise ConfigurationError("%s: %s must be 0 or more, got %s." % (source, name, config[name]))
    for name, kind in types.items():
        if kind is str and config[name] is None:
            # args.param() reads an empty value as unset and applies the option's environment variable, as modules do.
            config[name] = ""
    config["changes"] = list(all_changes) if config["changes"] is None else config["changes"]
    wrong = sorted(set(config["changes"]) - set(all_changes))
    if wrong:
        raise ConfigurationError("%s: changes has unknown value(s) %s; allowed: %s." % (source, ", ".join(wrong), ", ".join(all_changes)))
    config["our_authors"] = set(str(a).strip().lower() for a in config["our_authors"] if str(a).strip())
    if config["start_at"] != "now":
        parse_moment(config["start_at"], "start_at")
    return config
