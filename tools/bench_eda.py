# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throughput of the caseops.desk.unit21_webhook event source over loopback.

Starts the event source (the plugin from this tree, default settings) in a process of its own, or uses one that
is already running (--url/--secret), and sends N signed Unit21 case deliveries, each a distinct delivery, from
several concurrent keep-alive clients. Reports deliveries per second overall, for the last 10,000 deliveries and
for those past 50,000, the answers (every one must be 200 "accepted") and how many events the source queued
(every delivery exactly once). Run it with the tools venv's Python (aiohttp is needed by the source):

    .venv/bin/python tools/bench_eda.py --n 60000          # the performance goal (issue 14)
    .venv/bin/python tools/bench_eda.py --smoke --json     # CI: small N, keeps the script working

Exit status: 0 when every delivery was accepted and queued once (and, with --min-rate, the rate of the last
10,000 deliveries reached it), 1 otherwise.
"""

import argparse
import asyncio
import hashlib
import hmac
import importlib.util
import itertools
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN_PATH = os.path.join(REPO, "extensions", "eda", "plugins", "event_source", "unit21_webhook.py")
WEBHOOK_PATH = "/unit21/webhook"
SMOKE_N = 3000
TAIL = 10000
PAST = 50000

# A case ACTION_TRIGGERED delivery shaped like the payloads of Unit21's case webhook reference; unit21_id and
# the action differ for every delivery, so none is a retry of another.
PAYLOAD = {
    "unit21_id": 0, "case_id": None, "status": "OPEN", "disposition": "ESCALATE", "object_type": "CASE",
    "change": "ACTION_TRIGGERED", "changed_by": "agent@example.com", "title": "Benchmark case",
    "description": "A case of the caseops.desk EDA benchmark", "change_time": 0, "start_date": 1661958402,
    "end_date": None,
    "entities": [{"entity_id": "u-1", "entity_type": "user", "resolution": "UNRESOLVED"}],
    "events": [{"event_id": "txn-100002891", "event_type": "transaction", "resolution": None}],
    "tags": ["bench:eda"], "instruments": [], "created_by": "agent@example.com", "watchers": [], "custom_data": {},
    "action_trigger_external_id": "", "subdisposition": [], "disposition_notes": None,
}


# -- the source under test (--serve) ------------------------------------------------------------------------------
def load_plugin(path):
    spec = importlib.util.spec_from_file_location("caseops_unit21_webhook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def serve(port, queue_size, plugin_path):
    """The plugin's main() with a consumer that drains its queue as fast as ansible-rulebook would at best."""
    plugin = load_plugin(plugin_path)
    queue = asyncio.Queue(maxsize=queue_size)
    counted = {"events": 0}

    async def drain():
        while True:
            await queue.get()
            counted["events"] += 1

    source = asyncio.ensure_future(plugin.main(queue, {"host": "127.0.0.1", "port": port}))
    consumer = asyncio.ensure_future(drain())
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([source, stopping], return_when=asyncio.FIRST_COMPLETED)
    await asyncio.sleep(0.2)  # let the last accepted deliveries reach the queue
    for task in (source, consumer, stopping):
        task.cancel()
    await asyncio.gather(source, consumer, stopping, return_exceptions=True)
    print(json.dumps({"events": counted["events"],
                      "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}),
          flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SourceProcess(object):
    """The source in a child process; the secret reaches it through its environment, never its argv."""

    def __init__(self, secret, queue_size, plugin_path):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d%s" % (self.port, WEBHOOK_PATH)
        env = dict(os.environ, UNIT21_WEBHOOK_SECRET=secret)
        self.log = tempfile.NamedTemporaryFile(prefix="bench_eda_source_", suffix=".log", delete=False)
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", "--port", str(self.port),
                                         "--queue-size", str(queue_size), "--plugin", plugin_path],
                                        env=env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise SystemExit("bench_eda: the event source exited with %d at start" % self.process.returncode)
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/health" % self.port, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.process.kill()
                raise SystemExit("bench_eda: the event source did not answer /health within 20 s")
            time.sleep(0.1)

    def cpu_seconds(self):
        """CPU time (user + system) the source has used so far, from /proc (None where there is none)."""
        try:
            with open("/proc/%d/stat" % self.process.pid) as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))

    def stop(self):
        """The source's own count of queued events, its peak memory and how much it logged."""
        self.process.send_signal(signal.SIGTERM)
        out, dummy = self.process.communicate(timeout=30)
        self.log.close()
        with open(self.log.name, errors="replace") as handle:
            logged = handle.read().splitlines()
        os.unlink(self.log.name)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        result = json.loads(lines[-1]) if lines else {}
        result.update(log_lines=len(logged), last_log_line=logged[-1] if logged else None)
        return result


# -- the clients ----------------------------------------------------------------------------------------------------
def body_template():
    """The payload as bytes with two slots (unit21_id, action id), so building a body costs one % operation."""
    payload = dict(PAYLOAD, unit21_id=424242424242, action_trigger_external_id="ACTION-525252525252")
    text = json.dumps(payload, separators=(",", ":"))
    return text.replace("424242424242", "%d").replace("525252525252", "%d").encode()


class Requests(object):
    """Every signed request of the run, built before the clock starts so that the clients cost little.

    A request is signed again when it is sent more than RESIGN_AFTER seconds after it was built (a slow
    run on a loaded machine), so it never falls outside the source's timestamp tolerance.
    """

    RESIGN_AFTER = 120

    def __init__(self, host, port, path, secret, n):
        self.key = secret.encode()
        self.template = body_template()
        self.head = ("POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                     "Content-Length: %%d\r\nunit21-signature: t=%%d,s0=%%s\r\n\r\n" % (path, host, port)).encode()
        self.t = int(time.time())
        self.built = [self.build(index, self.t) for index in range(n)]

    def build(self, index, t):
        body = self.template % (10000000 + index, index)
        signature = hmac.new(self.key, b"%d." % t + body, hashlib.sha256).hexdigest().encode()
        return self.head % (len(body), t, signature) + body

    def __getitem__(self, index):
        now = int(time.time())
        if now - self.t > self.RESIGN_AFTER:
            return self.build(index, now)
        return self.built[index]


async def client(host, port, requests, next_index, n, done, answers, sample):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for index in next_index:
            if index >= n:
                return
            writer.write(requests[index])
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                answers["closed"] = answers.get("closed", 0) + 1
                return
            start = head.lower().find(b"content-length:")
            length = int(head[start + 15:head.index(b"\r\n", start)]) if start >= 0 else 0
            answer = await reader.readexactly(length)
            status = head[9:12].decode()
            if status == "200" and b'"accepted"' in answer:
                status = "200 accepted"
            answers[status] = answers.get(status, 0) + 1
            done.append(time.perf_counter())
            if sample is not None and len(done) % sample.every == 0:
                sample.take(len(done))
    finally:
        writer.close()


class CpuSamples(object):
    """The source's CPU time after every ``every`` completed deliveries."""

    def __init__(self, source, every):
        self.source = source
        self.every = every
        self.at = {0: source.cpu_seconds()}

    def take(self, count):
        self.at[count] = self.source.cpu_seconds()


async def send_all(url, secret, n, clients, sample):
    scheme_host, dummy, path = url.partition("://")[2].partition("/")
    host, dummy, port = scheme_host.partition(":")
    port = int(port or 80)
    requests = Requests(host, port, "/" + path, secret, n)
    next_index = itertools.count()
    done = []
    answers = {}
    started = time.perf_counter()
    await asyncio.gather(*(client(host, port, requests, next_index, n, done, answers, sample)
                           for dummy in range(clients)))
    return started, done, answers


def window_step(n):
    return TAIL if n >= 2 * TAIL else max(n // 5, 1)


def rate(done, started, first, last):
    """Deliveries per second for completions first..last (1-based, inclusive)."""
    begin = started if first <= 1 else done[first - 2]
    return (last - first + 1) / max(done[last - 1] - begin, 1e-9)


def summarise(started, done, answers, n, clients, sample):
    count = len(done)
    result = {"n": n, "clients": clients, "completed": count, "answers": answers,
              "seconds": round(done[-1] - started, 2) if done else None,
              "overall_per_s": round(rate(done, started, 1, count)) if done else 0}
    tail = min(TAIL, count)
    if tail:
        result["last_window"] = tail
        result["last_window_per_s"] = round(rate(done, started, count - tail + 1, count))
    if count > PAST:
        result["past_50000_per_s"] = round(rate(done, started, PAST + 1, count))
    step = window_step(n)
    result["windows"] = []
    for first in range(1, count + 1, step):
        last = min(first + step - 1, count)
        window = {"deliveries": "%d-%d" % (first, last), "per_s": round(rate(done, started, first, last))}
        before, after = (sample.at.get(first - 1), sample.at.get(last)) if sample else (None, None)
        if before is not None and after is not None and after > before:
            # Deliveries per second of the source's own CPU time: what the source could do on one free core,
            # whatever else the machine is doing (the wall-clock rate depends on the load).
            window["source_cpu_us_per_delivery"] = round((after - before) * 1e6 / (last - first + 1))
            window["per_source_cpu_s"] = round((last - first + 1) / (after - before))
        result["windows"].append(window)
    return result


def load():
    return [round(value, 2) for value in os.getloadavg()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--n", type=int, default=60000, help="deliveries to send (default 60000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive connections (default 8)")
    parser.add_argument("--smoke", action="store_true", help="CI mode: %d deliveries, 4 clients" % SMOKE_N)
    parser.add_argument("--url", help="a running source's webhook URL (plain HTTP); default: start one")
    parser.add_argument("--secret", help="that source's secret (default: $UNIT21_WEBHOOK_SECRET)")
    parser.add_argument("--min-rate", type=float, help="fail unless the last 10,000 deliveries reach this rate")
    parser.add_argument("--queue-size", type=int, default=1,
                        help="size of the queue the started source fills (default 1, as ansible-rulebook's)")
    parser.add_argument("--plugin", default=PLUGIN_PATH,
                        help="event source file to start (default: this tree's), e.g. an older copy to compare")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args.port, args.queue_size, args.plugin))
        return 0
    if args.smoke:
        args.n, args.clients = SMOKE_N, 4
    if args.n < 1 or args.clients < 1:
        parser.error("--n and --clients must be at least 1")

    source = None
    if args.url:
        secret = args.secret or os.environ.get("UNIT21_WEBHOOK_SECRET")
        if not secret:
            parser.error("--url needs --secret or UNIT21_WEBHOOK_SECRET")
        url = args.url
    else:
        secret = secrets.token_urlsafe(15)[:20]
        source = SourceProcess(secret, args.queue_size, os.path.abspath(args.plugin))
        url = source.url
    sample = CpuSamples(source, window_step(args.n)) if source and source.cpu_seconds() is not None else None
    load_before = load()
    try:
        started, done, answers = asyncio.run(send_all(url, secret, args.n, args.clients, sample))
    finally:
        server = source.stop() if source else {}
    result = summarise(started, done, answers, args.n, args.clients, sample)
    result.update(load_before=load_before, load_after=load(), cpus=os.cpu_count())
    if source:
        result.update(events_queued=server.get("events"), source_max_rss_mb=server.get("max_rss_mb"),
                      source_log_lines=server.get("log_lines"), source_last_log_line=server.get("last_log_line"))

    problems = []
    if answers.get("200 accepted", 0) != args.n:
        problems.append("not every delivery was accepted: %s" % answers)
    if source and result["events_queued"] != args.n:
        problems.append("the source queued %s events for %d deliveries" % (result["events_queued"], args.n))
    if args.min_rate and result.get("last_window_per_s", 0) < args.min_rate:
        problems.append("the last %d deliveries ran at %d/s, under %d/s"
                        % (result["last_window"], result["last_window_per_s"], args.min_rate))
    result["ok"] = not problems
    result["problems"] = problems
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print("unit21_webhook throughput: %d deliveries, %d clients, %s s" % (args.n, args.clients, result["seconds"]))
        print("  overall            %6d deliveries/s" % result["overall_per_s"])
        print("  last %-6d        %6d deliveries/s" % (result.get("last_window", 0), result.get("last_window_per_s", 0)))
        if "past_50000_per_s" in result:
            print("  past 50,000        %6d deliveries/s" % result["past_50000_per_s"])
        for window in result["windows"]:
            cpu = ""
            if "per_source_cpu_s" in window:
                cpu = "   source CPU %4d us/delivery = %6d deliveries per CPU-second" % (
                    window["source_cpu_us_per_delivery"], window["per_source_cpu_s"])
            print("    %-13s     %6d deliveries/s%s" % (window["deliveries"], window["per_s"], cpu))
        print("  answers %s; events queued %s; source peak memory %s MB; source log lines %s"
              % (answers, result.get("events_queued", "n/a"), result.get("source_max_rss_mb", "n/a"),
                 result.get("source_log_lines", "n/a")))
        if result.get("source_last_log_line"):
            print("  last source log line: %s" % result["source_last_log_line"])
        print("  load average (1/5/15 min) before %s, after %s; %d CPUs"
              % (result["load_before"], result["load_after"], result["cpus"]))
        for problem in problems:
            print("PROBLEM: " + problem)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
