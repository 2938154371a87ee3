# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The polling sources' cursor, de-duplication and poll loop, without any vendor."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import json
import os

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import event_polling
from ansible_collections.caseops.desk.plugins.module_utils.errors import ApiError, ConfigurationError, InvalidInputError

CHANGES = ("opened", "comment")
DEFAULTS = dict(event_polling.COMMON_DEFAULTS)
TYPES = dict(event_polling.COMMON_TYPES)


def config(**args):
    return event_polling.load_config("test.source", dict({"poll_interval": 0.01, "max_polls": 1}, **args),
                                     DEFAULTS, TYPES, CHANGES)


def test_cursor_file_is_replaced_atomically_and_read_back(tmp_path):
    path = str(tmp_path / "sub" / "cursor.json")
    store = event_polling.CursorStore(path)
    assert store.load() is None
    state = event_polling.new_state("2026-01-02T03:04:05Z")
    store.save(state)
    assert store.load() == state
    assert sorted(os.listdir(os.path.dirname(path))) == ["cursor.json"]  # no temporary file left behind


def test_a_cursor_file_that_is_not_ours_is_refused_by_name(tmp_path):
    path = tmp_path / "cursor.json"
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match="cursor.json cannot be read as a cursor"):
        event_polling.CursorStore(str(path)).load()
    path.write_text(json.dumps({"version": 99}))
    with pytest.raises(ConfigurationError, match="not a cursor of this source"):
        event_polling.CursorStore(str(path)).load()


def test_first_start_from_now_or_from_a_given_time():
    assert event_polling.new_state("2026-01-31 14:00")["start"] == "2026-01-31T14:00:00Z"
    state = event_polling.new_state("now")
    assert state["watermark"] == state["start"] and not state["primed"] and state["seen"] == {}
    with pytest.raises(InvalidInputError, match="start_at"):
        event_polling.new_state("yesterday")


def test_the_window_reaches_back_but_never_before_the_start():
    state = event_polling.new_state("2026-01-01T00:00:00Z")
    assert event_polling.format_moment(event_polling.window_start(state, 60)) == "2026-01-01T00:00:00Z"
    state["watermark"] = "2026-01-01T01:00:00Z"
    assert event_polling.format_moment(event_polling.window_start(state, 60)) == "2026-01-01T00:59:00Z"


def test_arguments_are_checked_and_templated_strings_read_back():
    loaded = config(poll_interval="2.5", max_polls="3", validate_certs="false", our_authors="Me@Example.com")
    assert (loaded["poll_interval"], loaded["max_polls"], loaded["validate_certs"]) == (2.5, 3, False)
    assert loaded["our_authors"] == {"me@example.com"} and loaded["changes"] == list(CHANGES)
    with pytest.raises(ConfigurationError, match="unknown argument"):
        config(pol_interval=1)
    with pytest.raises(ConfigurationError, match="changes has unknown value"):
        config(changes=["closed"])
    with pytest.raises(ConfigurationError, match="poll_interval must be a positive"):
        config(poll_interval=0)
    with pytest.raises(ConfigurationError, match="max_polls must be of type int"):
        config(max_polls="many")


class ScriptedPoller:
    """Answers from a list: a PollResult, or an exception to raise."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = 0

    def poll(self, state):
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @staticmethod
    def redact(text):
        return text.replace("s3cr3t", "********")


def drain(queue):
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def test_the_loop_skips_delivered_keys_and_events_before_the_start(tmp_path):
    start = "2026-01-01T00:00:00Z"
    store = event_polling.CursorStore(str(tmp_path / "c.json"))
    store.save(dict(event_polling.new_state(start), seen={"k1": "2026-01-01T00:00:01Z"}))
    events = [("k0", "2025-12-31T23:59:59Z", {"n": 0}), ("k1", "2026-01-01T00:00:01Z", {"n": 1}),
              ("k2", "2026-01-01T00:00:01Z", {"n": 2}), ("k2", "2026-01-01T00:00:01Z", {"n": 2})]
    poller = ScriptedPoller([event_polling.PollResult(events, "2026-01-01T00:00:01Z", {"a": "1"})])
    queue = asyncio.Queue()
    asyncio.run(event_polling.run_polling(queue, poller, config(lookback=10), store=store))
    assert drain(queue) == [{"n": 2}]
    saved = store.load()
    assert saved["watermark"] == "2026-01-01T00:00:01Z" and saved["statuses"] == {"a": "1"}
    assert set(saved["seen"]) == {"k1", "k2"}


def test_a_failed_poll_backs_off_redacted_and_changes_nothing(tmp_path, caplog):
    store = event_polling.CursorStore(str(tmp_path / "c.json"))
    good = event_polling.PollResult([("k", None, {"n": 1})], None, {})
    poller = ScriptedPoller([ApiError("HTTP 503 with s3cr3t"), ApiError("HTTP 429"), good])
    queue = asyncio.Queue()
    asyncio.run(event_polling.run_polling(queue, poller, config(max_backoff=0.03), store=store))
    assert poller.calls == 3 and drain(queue) == [{"n": 1}]
    failures = [r.getMessage() for r in caplog.records if "Poll failed" in r.getMessage()]
    assert failures == ["Poll failed (HTTP 503 with ********); next try in 0.0 s",
                        "Poll failed (HTTP 429); next try in 0.0 s"]


def test_configuration_errors_stop_the_loop(tmp_path):
    poller = ScriptedPoller([ConfigurationError("credentials are missing")])
    with pytest.raises(ConfigurationError):
        asyncio.run(event_polling.run_polling(asyncio.Queue(), poller, config(), store=event_polling.CursorStore(None)))
