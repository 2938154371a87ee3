# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The create guard: the lock between real processes, its timeout, the settle window on a fake clock, duplicates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import create_guard
from ansible_collections.caseops.desk.plugins.module_utils.create_guard import (
    CreateGuard,
    IdentityLock,
    LockTimeoutError,
    identity_key,
    pick_oldest,
)
from ansible_collections.caseops.desk.plugins.module_utils.errors import (
    AmbiguousWriteError,
    ConfigurationError,
    InvalidInputError,
    ServerError,
    TransportError,
)


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def guard(clock, settle=10.0, warnings=None, **kwargs):
    return CreateGuard("Vendor", "acct", ("thing", "name"), "a thing named 'name'", settle_seconds=settle,
                       warn=(warnings.append if warnings is not None else None), clock=clock, sleep=clock.sleep, **kwargs)


# -- the lock, between real processes ------------------------------------------------------------
# One "run": look for the object in ``store``; when absent, create it slowly (a real API call takes time).
ONE_RUN = """
import os, sys, time
from ansible_collections.caseops.desk.plugins.module_utils.create_guard import IdentityLock, identity_key
directory, store, log, use_lock, start_at = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "lock", float(sys.argv[5])
# Every run looks at the same moment, however long its interpreter took to start.
time.sleep(max(0.0, start_at - time.time()))
lock = IdentityLock(identity_key("Vendor", "acct", ("thing", "name")), "a thing", 20.0, directory=directory)
if use_lock:
    lock.acquire()
try:
    if not os.path.exists(store):
        time.sleep(0.3)
        with open(store, "a") as handle:
            handle.write("%d\\n" % os.getpid())
        outcome = "created"
    else:
        outcome = "found"
    with open(log, "a") as handle:
        handle.write(outcome + "\\n")
finally:
    lock.release()
"""


def _run_in_parallel(tmp_path, use_lock, runs=4):
    store, log = str(tmp_path / "objects"), str(tmp_path / "log")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    start_at = "%f" % (time.time() + 3.0)
    processes = [subprocess.Popen([sys.executable, "-c", ONE_RUN, str(tmp_path), store, log,
                                   "lock" if use_lock else "no-lock", start_at], env=env)
                 for _run in range(runs)]
    assert [process.wait(30) for process in processes] == [0] * runs
    with open(log) as handle:
        return sorted(handle.read().split())


def test_parallel_processes_create_one_object_with_the_lock(tmp_path):
    assert _run_in_parallel(tmp_path, use_lock=True) == ["created", "found", "found", "found"]


def test_without_the_lock_the_same_processes_race(tmp_path):
    # The control experiment: it is the lock that makes the difference above.
    assert _run_in_parallel(tmp_path, use_lock=False).count("created") > 1


def test_a_lock_held_too_long_times_out_with_a_message(tmp_path):
    key = identity_key("Vendor", "acct", ("thing", "name"))
    holder = IdentityLock(key, "a thing", 1.0, directory=str(tmp_path)).acquire()
    clock = FakeClock()
    waiter = IdentityLock(key, "a thing named 'name'", 2.0, directory=str(tmp_path), clock=clock, sleep=clock.sleep)
    try:
        with pytest.raises(LockTimeoutError) as caught:
            waiter.acquire()
    finally:
        holder.release()
    message = caught.value.msg
    assert "(process %d)" % os.getpid() in message and "creating a thing named 'name' for more than 2 s" in message
    assert holder.path in message
    assert clock.now >= 2.0 and max(clock.sleeps) <= create_guard.LOCK_POLL_SECONDS
    # Released: the next run gets it at once.
    assert IdentityLock(key, "a thing", 0.0, directory=str(tmp_path)).acquire().waited < 1.0


def test_different_identities_do_not_wait_for_each_other(tmp_path):
    first = IdentityLock(identity_key("V", "a", ("x",)), "x", 0.0, directory=str(tmp_path)).acquire()
    second = IdentityLock(identity_key("V", "a", ("y",)), "y", 0.0, directory=str(tmp_path)).acquire()
    first.release()
    second.release()
    assert first.path != second.path


def test_identity_key_separates_vendor_account_and_identity():
    keys = set([identity_key("V", "a", ("x", "y")), identity_key("W", "a", ("x", "y")),
                identity_key("V", "b", ("x", "y")), identity_key("V", "a", ("xy",)), identity_key("V", "a", ("x", "z"))])
    assert len(keys) == 5 and all(len(k) == 64 for k in keys)


def test_runtime_directory_is_private_and_files_are_0600(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    directory = create_guard.runtime_directory()
    assert directory == str(tmp_path / "caseops-desk")
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    lock = IdentityLock("k", "x", 1.0).acquire()
    lock.release()
    assert os.path.dirname(lock.path) == directory and stat.S_IMODE(os.stat(lock.path).st_mode) == 0o600


def test_runtime_directory_without_xdg_is_per_user_under_tmp(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(create_guard.tempfile, "gettempdir", lambda: str(tmp_path))
    assert create_guard.runtime_directory() == str(tmp_path / ("caseops-desk-%d" % os.getuid()))


def test_loose_directory_is_tightened_and_a_symlink_refused(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    os.chmod(str(loose), 0o777)
    create_guard.private_directory(str(loose))
    assert stat.S_IMODE(os.stat(str(loose)).st_mode) == 0o700
    link = tmp_path / "link"
    link.symlink_to(loose)
    with pytest.raises(ConfigurationError) as caught:
        create_guard.private_directory(str(link))
    assert "not a directory" in caught.value.msg and "XDG_RUNTIME_DIR" in caught.value.msg


# -- the settle window, on a fake clock ---------------------------------------------------------
class LateCommit:
    """An object the service stores ``lands_at`` seconds after the client gave up (None: never)."""

    def __init__(self, clock, lands_at=None, failing=()):
        self.clock = clock
        self.lands_at = lands_at
        self.failing = failing
        self.looked_at = []

    def find(self):
        self.looked_at.append(self.clock())
        if any(start <= self.clock() <= end for start, end in self.failing):
            raise TransportError("Vendor GET /things timed out.")
        if self.lands_at is not None and self.clock() >= self.lands_at:
            return {"id": "thing-1"}
        return None


def ambiguous_send(sent):
    """A create whose first answer is lost, as the transport handles it: recover, else send again."""
    def send(recover):
        sent.append("create")
        found = recover()
        if found is not None:
            return found
        sent.append("create")
        return {"id": "thing-2"}
    return send


def test_a_late_commit_is_found_within_the_window_and_not_sent_again():
    clock, warnings, sent = FakeClock(), [], []
    late = LateCommit(clock, lands_at=5.0)
    made = guard(clock, warnings=warnings).create(ambiguous_send(sent), late.find)
    assert made == {"id": "thing-1"} and sent == ["create"]
    assert late.looked_at == [0.0, 1.0, 3.0, 7.0]
    assert "found by a look-up, so it was not sent again" in warnings[0]


def test_nothing_within_the_window_allows_one_more_create_after_a_last_look_at_its_end():
    clock, sent = FakeClock(), []
    late = LateCommit(clock, lands_at=None)
    the_guard = guard(clock, settle=30.0)
    made = the_guard.create(ambiguous_send(sent), late.find)
    assert made == {"id": "thing-2"} and sent == ["create", "create"]
    assert late.looked_at == [0.0, 1.0, 3.0, 7.0, 15.0, 25.0, 30.0]
    assert the_guard.lookups == 7 and not the_guard.recovered


def test_a_commit_later_than_the_window_is_not_waited_for():
    clock, sent = FakeClock(), []
    late = LateCommit(clock, lands_at=11.0)
    guard(clock, settle=10.0).create(ambiguous_send(sent), late.find)
    assert late.looked_at[-1] == 10.0 and sent == ["create", "create"]


def test_zero_settle_looks_once():
    clock, sent = FakeClock(), []
    late = LateCommit(clock)
    guard(clock, settle=0).create(ambiguous_send(sent), late.find)
    assert late.looked_at == [0.0] and clock.sleeps == []


def test_a_window_whose_last_look_up_failed_refuses_to_create_again():
    clock, sent = FakeClock(), []
    late = LateCommit(clock, failing=[(6.0, 100.0)])
    with pytest.raises(AmbiguousWriteError) as caught:
        guard(clock, settle=10.0).create(ambiguous_send(sent), late.find)
    assert sent == ["create"]
    message = caught.value.msg
    assert "may have been applied" in message and "timed out" in message
    assert "Check whether a thing named 'name' exists before re-running" in message


def test_a_failed_look_up_early_in_the_window_is_tolerated():
    clock, sent = FakeClock(), []
    late = LateCommit(clock, lands_at=2.0, failing=[(0.0, 1.5)])
    assert guard(clock).create(ambiguous_send(sent), late.find) == {"id": "thing-1"}


def test_a_500_on_the_create_is_looked_up_before_it_is_reported():
    clock, warnings = FakeClock(), []
    late = LateCommit(clock, lands_at=0.5)

    def send(recover):
        raise ServerError("Vendor POST /things returned HTTP 500.", status=500)

    assert guard(clock, warnings=warnings).create(send, late.find) == {"id": "thing-1"}
    assert warnings


def test_a_500_that_created_nothing_says_so():
    clock = FakeClock()
    late = LateCommit(clock)

    def send(recover):
        raise ServerError("Vendor POST /things returned HTTP 500.", status=500)

    with pytest.raises(ServerError) as caught:
        guard(clock, settle=5.0).create(send, late.find)
    assert "HTTP 500" in caught.value.msg and "over the 5 s settle window" in caught.value.msg
    assert "a re-run looks again before creating" in caught.value.msg


def test_a_503_is_not_looked_up():
    clock = FakeClock()
    late = LateCommit(clock)

    def send(recover):
        raise ServerError("Vendor POST /things returned HTTP 503. Gave up after 5 attempts.", status=503)

    with pytest.raises(ServerError) as caught:
        guard(clock).create(send, late.find)
    assert late.looked_at == [] and "settle window" not in caught.value.msg


def test_an_error_after_an_empty_window_carries_the_note():
    clock = FakeClock()
    late = LateCommit(clock)

    def send(recover):
        assert recover() is None
        raise TransportError("Vendor POST /things timed out. Gave up after 2 attempts.")

    with pytest.raises(TransportError) as caught:
        guard(clock, settle=3.0).create(send, late.find)
    assert "Gave up after 2 attempts. Looking for a thing named 'name' over the 3 s settle window" in caught.value.msg


# -- options ----------------------------------------------------------------------------------
def test_settle_seconds_come_from_the_option_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.delenv(create_guard.SETTLE_ENV, raising=False)
    assert create_guard.settle_seconds_from({}) == create_guard.DEFAULT_SETTLE_SECONDS == 60.0
    monkeypatch.setenv(create_guard.SETTLE_ENV, "7.5")
    assert create_guard.settle_seconds_from({}) == 7.5
    assert create_guard.settle_seconds_from({"create_settle_seconds": 2}) == 2.0
    monkeypatch.setenv(create_guard.SETTLE_ENV, " ")
    assert create_guard.settle_seconds_from({}) == 60.0


@pytest.mark.parametrize("params, env, text", [
    ({"create_settle_seconds": -1}, None, "create_settle_seconds must be 0 or more seconds, got -1"),
    ({}, "soon", "CASEOPS_CREATE_SETTLE_SECONDS must be a number of seconds, got 'soon'"),
])
def test_bad_settle_seconds_are_refused(monkeypatch, params, env, text):
    if env is None:
        monkeypatch.delenv(create_guard.SETTLE_ENV, raising=False)
    else:
        monkeypatch.setenv(create_guard.SETTLE_ENV, env)
    with pytest.raises(InvalidInputError) as caught:
        create_guard.settle_seconds_from(params)
    assert text in caught.value.msg


def test_lock_wait_outlasts_a_create_of_another_run():
    assert create_guard.lock_wait_seconds({"retry_max_time": 10, "timeout": 2}, 5) == 2 * 12 + 5 + 60
    assert create_guard.lock_wait_seconds({}, 60) == 2 * 150 + 60 + 60


def test_check_mode_takes_no_lock(tmp_path):
    the_guard = guard(FakeClock(), lock_directory=str(tmp_path))
    with the_guard.serialised(False):
        pass
    assert os.listdir(str(tmp_path)) == []
    with the_guard.serialised(True):
        assert len(os.listdir(str(tmp_path))) == 1


# -- duplicates -------------------------------------------------------------------------------
def test_pick_oldest_takes_the_oldest_and_names_the_others():
    warnings = []
    items = [{"id": "b", "created": "2026-01-02T00:00:00Z"}, {"id": "a", "created": "2026-01-03T00:00:00Z"},
             {"id": "c", "created": "2026-01-01T00:00:00Z"}]
    assert pick_oldest(items, "things named 'x'", warnings.append)["id"] == "c"
    assert warnings == ["3 objects are things named 'x' (c, b, a); this task uses the oldest, c, and leaves the others "
                        "alone. Remove the ones that are duplicates."]


def test_pick_oldest_breaks_ties_by_id_numerically_and_is_quiet_for_one():
    warnings = []
    assert pick_oldest([{"id": 10, "created": "t"}, {"id": 9, "created": "t"}], "x", warnings.append)["id"] == 9
    assert pick_oldest([{"id": 1}], "x", warnings.append) == {"id": 1} and len(warnings) == 1
    assert pick_oldest([], "x", warnings.append) is None


def test_account_of_tells_tenants_apart():
    class Transport:
        base_url = "https://api.example.com"

    class Cloudflare:
        transport = Transport()
        account_id = "acct-1"

    class Falcon:
        transport = Transport()
        account_id = None
        member_cid = None
        client_id = "client-1"

    assert create_guard.account_of(Cloudflare()) == "https://api.example.com acct-1"
    assert create_guard.account_of(Falcon()) == "https://api.example.com client-1"
    falcon_child = Falcon()
    falcon_child.member_cid = "child-cid"
    assert create_guard.account_of(falcon_child) == "https://api.example.com child-cid"


def test_a_lock_file_that_is_a_symlink_is_refused(tmp_path):
    key = identity_key("V", "a", ("x",))
    (tmp_path / "elsewhere").write_text("")
    (tmp_path / (key + ".lock")).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigurationError) as caught:
        IdentityLock(key, "x", 0.0, directory=str(tmp_path)).acquire()
    assert "Cannot open the lock file" in caught.value.msg


def test_a_shared_lock_directory_takes_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv(create_guard.LOCK_DIR_ENV, str(shared))
    assert create_guard.runtime_directory() == str(shared / ("caseops-desk-%d" % os.getuid()))
    monkeypatch.setenv(create_guard.LOCK_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError) as caught:
        create_guard.runtime_directory()
    assert "CASEOPS_LOCK_DIR is %s, which is not a directory" % (tmp_path / "missing") in caught.value.msg
