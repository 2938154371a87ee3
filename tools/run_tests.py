# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole test suite, stage by stage (``make test``), and the quick development check (``make check``).

    python tools/run_tests.py [STAGE ...] [--core 2.16 --core 2.21] [--jobs N] [--shards N] [--show-logs]
    python tools/run_tests.py --check [--targets "case request"]
    python tools/run_tests.py --sandbox-stop

Stages: sanity units selftests integration conformance e2e eda docs lint demo bench.
The stages become jobs (sanity and units: one per ansible-core version; integration: --shards per
version (default 2), each with a share of the targets; build: the collection tarball that e2e, eda,
docs and lint share) that run --jobs at a time (default 4: integration mostly waits, so four fill the
2 cores of the reference machine), longest first. Every job runs even when another failed (a job whose
input failed reports that); each writes its output to build/logs/<job>.log, printed in full with
--show-logs or when only one job runs, else its tail when it fails. The summary at the end lists
every job with its start, time and result; the exit status is 1 if any failed.

--check (``make check``) runs, on the newest ansible-core only: sanity on the files changed since
the merge-base with main plus untracked files, the unit tests, and the integration targets given
with --targets against one long-lived sandbox that later checks reuse (``make sandbox-stop``).

ansible-test needs the collection under ansible_collections/caseops/desk, and refuses a symlink,
so the tree (tracked and untracked-but-not-ignored files) is copied to
<tmp>/caseops-desk-<hash>/ansible_collections/caseops/desk first; each ansible-test job gets its
own copy (<tmp>/caseops-desk-<hash>-<job>/...), since ansible-test keeps its venvs and results
inside the tree.
"""

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, "build")
LOGS = os.path.join(BUILD, "logs")
# Outside the checkout: inside it, ansible-test would ask the enclosing git repository for the file list,
# and build/ is ignored there.
STAGE_ROOT = os.environ.get("CASEOPS_STAGE_DIR") or os.path.join(
    tempfile.gettempdir(), "caseops-desk-%s" % hashlib.sha1(REPO.encode()).hexdigest()[:8])
COLLECTION_PATH = os.path.join("ansible_collections", "caseops", "desk")
STAGED = os.path.join(STAGE_ROOT, COLLECTION_PATH)
# Where the tarball is built and installed; the demo stage gives tools/demo.py its own, so it cannot
# disturb the stages that use the shared one.
INSTALL_ROOT = os.environ.get("CASEOPS_INSTALL_DIR") or BUILD
DIST = os.path.join(INSTALL_ROOT, "dist")
INSTALLED = os.path.join(INSTALL_ROOT, "installed")
PYTHON_LINKS = os.path.join(BUILD, "pythons")
CHECK_SANDBOX_DIR = os.path.join(BUILD, "check-sandbox")
# The vendor API documents next to the checkout (CASEOPS_API_DIR for a git worktree elsewhere).
API_DIR = os.environ.get("CASEOPS_API_DIR") or os.path.normpath(os.path.join(REPO, "..", "shared", "api"))

sys.path.insert(0, os.path.join(REPO, "tools"))
# pylint: disable-next=wrong-import-position,import-error
from sandbox_process import LongLivedSandbox, connection_env, control, cpu_seconds, start_sandbox  # noqa: E402

# ansible-core version -> (virtual environment, controller Python)
CORES = {
    "2.16": (os.path.join(REPO, ".venv-core2.16"), "3.11"),
    "2.21": (os.path.join(REPO, ".venv"), "3.12"),
}
NEWEST_CORE = max(CORES, key=lambda v: tuple(int(p) for p in v.split(".")))
TOOLS_VENV = CORES[NEWEST_CORE][0]
# Jobs at once, and integration jobs per ansible-core version (CONTRIBUTING.md, "How the runner fits the suite").
DEFAULT_JOBS = 4
DEFAULT_SHARDS = 2
STAGES = ("sanity", "units", "selftests", "integration", "conformance", "e2e", "eda", "docs", "lint", "demo", "bench")
PER_CORE = ("sanity", "units", "integration")
NEEDS_BUILD = ("e2e", "eda", "docs", "lint")
# Longest first, so the two cores' integration runs start at once and short jobs fill the gaps.
PRIORITY = ("integration", "sanity", "demo", "e2e", "build", "docs", "eda", "units", "lint", "bench", "selftests",
            "conformance")
# The venv with ansible-rulebook for the eda stage: the tools venv (dev.txt pins it); overridable for a trial venv.
EDA_VENV = os.environ.get("CASEOPS_EDA_VENV") or TOOLS_VENV
MODULES = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py")))


class StageFailed(Exception):
    pass


# -- output: each job writes to its own log file; the main thread prints whole blocks ------------------
_OUTPUT = threading.local()
_PRINT_LOCK = threading.Lock()


def output():
    """The stream of the job running in this thread (stdout outside a job)."""
    return getattr(_OUTPUT, "stream", None) or sys.stdout


def log(message):
    stream = output()
    stream.write("==> %s\n" % message)
    stream.flush()


def say(message):
    """A line on the console, whole, between other jobs' lines."""
    with _PRINT_LOCK:
        print("==> %s" % message, flush=True)


def add_cpu(seconds):
    """Count CPU seconds toward the job running in this thread: a load-independent measure of its work."""
    _OUTPUT.cpu = getattr(_OUTPUT, "cpu", 0.0) + seconds


def run(command, cwd=STAGED, env=None, check=True, capture=False):
    log("$ %s" % " ".join(command))
    stream = output()
    stream.flush()
    process = subprocess.Popen(command, cwd=cwd, env=env, text=True, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE if capture else stream, stderr=subprocess.STDOUT)
    captured = None
    if capture:
        with process.stdout:
            captured = process.stdout.read()
    # wait4, not wait: it also gives the CPU time of the command and every process it waited for.
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    add_cpu(usage.ru_utime + usage.ru_stime)
    result = subprocess.CompletedProcess(command, process.returncode, captured)
    if capture:
        stream.write(captured)
        stream.flush()
    if check and result.returncode != 0:
        raise StageFailed("%s exited %d" % (os.path.basename(command[0]), result.returncode))
    return result


def core_env(core):
    """PATH with the core's venv first and real interpreters (not pyenv shims) for ansible-test."""
    venv = CORES[core][0]
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.join(venv, "bin"), PYTHON_LINKS, env.get("PATH", "")])
    env.pop("PYENV_VERSION", None)
    return env


def tools_bin(name):
    return os.path.join(TOOLS_VENV, "bin", name)


# -- preparation ---------------------------------------------------------------
def tracked_files():
    """What git would commit: tracked and untracked-but-not-ignored files that exist."""
    listing = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                             stdout=subprocess.PIPE).stdout.decode().split("\0")
    return [rel for rel in listing if rel and os.path.lexists(os.path.join(REPO, rel))]


def stage_tree(staged=STAGED):
    """Copy the working tree (what git would commit) to the ansible_collections layout."""
    if os.path.isdir(staged):
        # A clean copy is the honest default: nothing left from an earlier run.
        shutil.rmtree(staged)
    os.makedirs(staged)
    for rel in tracked_files():
        target = os.path.join(staged, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(REPO, rel), target, follow_symlinks=False)


def sync_tree(staged):
    """Bring a kept staged tree up to date with the working tree: copy what differs, drop what is gone.

    tests/output/ stays, so ansible-test reuses the venvs it made there (make check, run after run).
    """
    wanted = set(tracked_files())
    for rel in sorted(wanted):
        source, target = os.path.join(REPO, rel), os.path.join(staged, rel)
        src, dst = os.lstat(source), (os.lstat(target) if os.path.lexists(target) else None)
        if dst is None or dst.st_size != src.st_size or dst.st_mtime_ns != src.st_mtime_ns:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if dst is not None:
                os.remove(target)
            shutil.copy2(source, target, follow_symlinks=False)
    for root, dirs, files in os.walk(staged):
        rel_root = os.path.relpath(root, staged)
        if rel_root == os.path.join("tests", "output"):
            dirs[:] = []
            continue
        for name in files:
            rel = os.path.normpath(os.path.join(rel_root, name))
            if rel not in wanted and not rel.startswith(os.path.join("tests", "output") + os.sep):
                os.remove(os.path.join(root, name))


def job_tree(job_id):
    return os.path.join("%s-%s" % (STAGE_ROOT, job_id), COLLECTION_PATH)


def link_pythons():
    """A folder of python3.X links to real interpreters, so ansible-test never meets a pyenv shim."""
    os.makedirs(PYTHON_LINKS, exist_ok=True)
    candidates = glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3.*")) + glob.glob("/usr/bin/python3.*")
    for path in sorted(candidates):
        name = os.path.basename(path)
        if not name.count(".") == 1 or not name[len("python3."):].isdigit():
            continue
        link = os.path.join(PYTHON_LINKS, name)
        if not os.path.exists(link):
            try:
                os.symlink(os.path.realpath(path), link)
            except FileExistsError:
                pass  # another run made it meanwhile


def install_get_pip_standin(core):
    """ansible-test fetches get-pip from a host that may be unreachable; give it an offline stand-in."""
    venv = CORES[core][0]
    code = ("import re, ansible_test, os; src = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', "
            "'python_requirements.py')).read(); print(re.search(r\"default_packages = dict\\(\\s*pip='([0-9.]+)'\", src).group(1))")
    version = subprocess.run([os.path.join(venv, "bin", "python"), "-c", code], check=True, text=True,
                             stdout=subprocess.PIPE).stdout.strip()
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    target = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))
    shutil.copyfile(os.path.join(REPO, "tools", "get_pip_standin.py"), target)


def request_log(core, shard=None):
    """The JSON-lines request log of one core's integration run (of one shard of it), read by the conformance stage."""
    return os.path.join(BUILD, "sandbox-requests-core%s%s.jsonl" % (core, "" if shard is None else "-%d" % shard))


def integration_targets():
    # CASEOPS_TARGETS="case case_info" runs only those targets (while working on them).
    return os.environ.get("CASEOPS_TARGETS", "").split()


def all_integration_targets():
    """Every integration target that ansible-test would run (not those marked hidden or disabled)."""
    root = os.path.join(REPO, "tests", "integration", "targets")
    targets = []
    for name in sorted(os.listdir(root)):
        aliases = os.path.join(root, name, "aliases")
        words = open(aliases).read().split() if os.path.exists(aliases) else []
        if os.path.isdir(os.path.join(root, name)) and not {"hidden", "disabled", "unsupported"} & set(words):
            targets.append(name)
    return targets


# Wall seconds of each integration target on ansible-core 2.21 on this 2-core machine: the weights that spread the
# targets over the shards. Much of a target's time is waiting (retry back-off, settle windows, delayed faults), not
# CPU, which is why shards side by side pay off. A target missing here counts as the median. Measured one target at a
# time (each includes ansible-test's start, about 8 s), before the fault matrix of issue 13 landed, with:
#   CASEOPS_TARGETS=<target> tools/run_tests.py integration --core 2.21 --shards 1
TARGET_SECONDS = {
    "case": 95.3, "case_activity": 48.0, "case_activity_info": 11.0, "case_aggregate_info": 26.8,
    "case_attachment": 61.6, "case_attachment_unit21": 49.8, "case_info": 19.2, "case_info_unit21": 16.5,
    "case_unit21": 22.1, "falcon_auth": 12.4, "in_process": 11.1, "request": 66.5, "request_info": 11.4,
    "request_message": 63.3, "request_message_info": 13.6, "role_case_bridge": 46.1,
    "role_cloudforce_one_followup": 20.6, "role_falcon_detection_escalation": 66.8, "role_unit21_case_triage": 26.4,
}


def shard_targets(targets, shards):
    """Split the targets into at most `shards` lists of about equal weight (longest first, each to the lightest)."""
    known = sorted(TARGET_SECONDS.values())
    default = known[len(known) // 2] if known else 1.0
    weighed = sorted(targets, key=lambda target: (-TARGET_SECONDS.get(target, default), target))
    count = max(1, min(shards, len(targets)))
    lists = [[] for _shard in range(count)]
    weights = [0.0] * count
    for target in weighed:
        lightest = weights.index(min(weights))
        lists[lightest].append(target)
        weights[lightest] += TARGET_SECONDS.get(target, default)
    # ansible-test runs its targets in the order given; keep the alphabetical order of a full run.
    return [sorted(names) for names in lists]


# -- stages (each gets its Job: .core, .tree) ----------------------------------------
def stage_sanity(job):
    python = ["--python", CORES[job.core][1]] if job.args.get("python_only") else []
    run(["ansible-test", "sanity", "--venv", "--color", "no"] + python + job.args.get("paths", []),
        cwd=job.tree, env=core_env(job.core))


def stage_units(job):
    run(["ansible-test", "units", "--venv", "--python", CORES[job.core][1], "--color", "no"], cwd=job.tree,
        env=core_env(job.core))


def stage_selftests(job):
    run([tools_bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/sandbox/tests", "tests/conformance", "tests/packaging"],
        cwd=job.tree, env=dict(os.environ, CASEOPS_API_DIR=API_DIR))


def stage_integration(job):
    """ansible-test integration on this shard's targets against a sandbox of its own, its requests logged for conformance."""
    path = job.args["request_log"]
    if os.path.exists(path):
        os.remove(path)
    with start_sandbox(tools_bin("python"), log_file=path, name="sandbox-%s" % job.id) as sandbox:
        write_integration_config(job.tree, sandbox.url)
        log("sandbox at %s, request log %s, targets: %s" % (
            sandbox.url, os.path.relpath(path, REPO), " ".join(job.args["targets"])))
        run_integration(job, job.args["targets"])
    add_cpu(sandbox.cpu_seconds)


def run_integration(job, targets):
    run(["ansible-test", "integration", "--venv", "--python", CORES[job.core][1], "--color", "no"] + targets,
        cwd=job.tree, env=core_env(job.core))


def write_integration_config(tree, url):
    config = dict(("sandbox_" + k.lower(), v) for k, v in connection_env(url).items())
    config["sandbox_url"] = url
    path = os.path.join(tree, "tests", "integration", "integration_config.yml")
    with open(path, "w") as handle:
        json.dump(config, handle, indent=2, sort_keys=True)  # JSON is YAML


def stage_conformance(job):
    """Every core's integration request log against the vendor OpenAPI documents."""
    # Every vendor must appear in the log of a full run; a CASEOPS_TARGETS subset may touch only one.
    vendors = [] if integration_targets() else ["falcon", "cloudforce_one", "unit21"]
    required = [arg for vendor in vendors for arg in ("--require-vendor", vendor)]
    failed = []
    for core in job.cores:
        path = request_log(core)
        shard_logs = job.args.get("shard_logs", {}).get(core)
        if shard_logs:
            # One log a core, as conformance and the docs know it: the shards' logs joined.
            missing = [p for p in shard_logs if not os.path.exists(p)]
            if missing:
                failed.append("no request log of ansible-core %s's integration shard(s) (%s)" % (
                    core, ", ".join(os.path.relpath(p, REPO) for p in missing)))
                continue
            with open(path, "w") as joined:
                for shard_log in shard_logs:
                    with open(shard_log) as part:
                        shutil.copyfileobj(part, joined)
        if not os.path.exists(path):
            failed.append("no request log of ansible-core %s's integration run (%s)" % (core, os.path.relpath(path, REPO)))
            continue
        result = run([tools_bin("python"), os.path.join(REPO, "tests", "conformance", "check_conformance.py"),
                      "--log", path, "--api-dir", API_DIR] + required, cwd=REPO, check=False)
        if result.returncode == 3:
            return "skipped: %s is absent (outside this team's CI)" % API_DIR
        if result.returncode != 0:
            failed.append("ansible-core %s's requests break the vendor OpenAPI documents" % core)
    if failed:
        raise StageFailed("; ".join(failed))
    return "passed (%s)" % ", ".join("core %s" % core for core in job.cores)


def build_and_install(tree=STAGED):
    run([tools_bin("ansible-galaxy"), "collection", "build", "--force", "--output-path", DIST], cwd=tree)
    tarball = sorted(glob.glob(os.path.join(DIST, "caseops-desk-*.tar.gz")))[-1]
    shutil.rmtree(INSTALLED, ignore_errors=True)
    os.makedirs(INSTALL_ROOT, exist_ok=True)
    run([tools_bin("ansible-galaxy"), "collection", "install", "--force", "-p", INSTALLED, tarball], cwd=INSTALL_ROOT)
    return tarball


def stage_build(job):
    """The tarball and its installation, once, for e2e, eda, docs and lint."""
    return "passed (%s)" % os.path.basename(build_and_install(job.tree))


def installed_env():
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = INSTALLED
    env["PATH"] = os.pathsep.join([os.path.join(TOOLS_VENV, "bin"), env.get("PATH", "")])
    return env


def stage_e2e(job):
    with start_sandbox(tools_bin("python"), name="sandbox-e2e") as sandbox:
        env = installed_env()
        env["CASEOPS_SANDBOX_URL"] = sandbox.url
        run([tools_bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.join(REPO, "tests", "e2e")], cwd=REPO, env=env)
    add_cpu(sandbox.cpu_seconds)


def java_home():
    """JAVA_HOME for ansible-rulebook's rule engine (a JVM): the environment's, else the java on PATH."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    return os.path.dirname(os.path.dirname(os.path.realpath(java))) if java else None


def stage_eda(job):
    """The EDA event source: its pytest suite, then the example rulebooks under the real ansible-rulebook."""
    rulebook = os.path.join(EDA_VENV, "bin", "ansible-rulebook")
    if not os.path.exists(rulebook):
        raise StageFailed("%s is missing: install requirements/dev.txt into %s" % (rulebook, EDA_VENV))
    if not java_home():
        raise StageFailed("ansible-rulebook needs Java 17 or newer (java on PATH or JAVA_HOME)")
    python = os.path.join(EDA_VENV, "bin", "python")
    tests = os.path.join(REPO, "tests", "eda")
    run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.join(tests, "test_unit21_webhook.py"),
         os.path.join(tests, "test_polling_sources.py"), os.path.join(tests, "test_plugin_docs.py")], cwd=REPO)
    with start_sandbox(tools_bin("python"), name="sandbox-eda") as sandbox:
        env = installed_env()
        env.update(connection_env(sandbox.url))
        env["PATH"] = os.pathsep.join([os.path.join(EDA_VENV, "bin"), env["PATH"]])
        env.update(CASEOPS_SANDBOX_URL=sandbox.url, CASEOPS_ANSIBLE_RULEBOOK=rulebook, JAVA_HOME=java_home())
        began = time.monotonic()
        run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.join(tests, "test_rulebook_e2e.py"),
             os.path.join(tests, "test_polling_rulebooks_e2e.py")], cwd=REPO, env=env)
        seconds = time.monotonic() - began
    add_cpu(sandbox.cpu_seconds)
    return "passed (rulebook end-to-end %.1f s)" % seconds


def stage_docs(job):
    env = installed_env()
    for module in MODULES:
        result = run([tools_bin("ansible-doc"), "caseops.desk.%s" % module], cwd=BUILD, env=env, capture=True)
        if "WARNING" in result.stdout or "ERROR" in result.stdout:
            raise StageFailed("ansible-doc caseops.desk.%s printed a warning or error" % module)
    # Roles: their meta/argument_specs.yml is their documentation page.
    for role in sorted(os.listdir(os.path.join(job.tree, "roles"))):
        result = run([tools_bin("ansible-doc"), "-t", "role", "caseops.desk.%s" % role], cwd=BUILD, env=env, capture=True)
        # ansible-core 2.21 warns about its own internal _protomatter collection when it lists roles: not ours.
        problems = [line for line in result.stdout.splitlines()
                    if ("WARNING" in line or "ERROR" in line) and "ansible_collections/ansible/_protomatter" not in line]
        if problems or "options" not in result.stdout.lower():
            raise StageFailed("ansible-doc -t role caseops.desk.%s printed a warning or error, or no options" % role)
    run([tools_bin("antsibull-docs"), "lint-collection-docs", "--plugin-docs", "."], cwd=job.tree, env=env)
    run([tools_bin("antsibull-changelog"), "lint"], cwd=job.tree)
    # ansible-doc does not read EDA plugins: check the event source's DOCUMENTATION/EXAMPLES against its code.
    run([tools_bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         os.path.join(REPO, "tests", "eda", "test_plugin_docs.py")], cwd=REPO)


def stage_lint(job):
    # From the collection root with no paths, as pre-commit hooks and importers run it (.ansible-lint says what to skip):
    # playbooks, roles, rulebooks and the test playbooks and targets alike.
    run([tools_bin("ansible-lint"), "--profile", "production"], cwd=job.tree, env=installed_env())


def stage_bench(job):
    """`make bench` in its smoke mode (one round, small numbers): keeps the benchmark working; not a timed test."""
    run([tools_bin("python"), os.path.join(REPO, "tools", "bench.py"), "--smoke"], cwd=REPO)


def stage_demo(job):
    """`make demo`, as a newcomer runs it: it must finish with a clean recap."""
    # Its own staged tree and installation, so it cannot disturb the jobs that share build/installed.
    env = dict(os.environ, CASEOPS_STAGE_DIR=os.path.dirname(os.path.dirname(os.path.dirname(job.tree))),
               CASEOPS_INSTALL_DIR=os.path.join(BUILD, "demo"))
    result = run([tools_bin("python"), os.path.join(REPO, "tools", "demo.py")], cwd=REPO, env=env, capture=True,
                 check=False)
    if result.returncode != 0 or "failed=0" not in result.stdout or "unreachable=0" not in result.stdout:
        raise StageFailed("the demo did not finish cleanly")


# -- jobs and the scheduler -------------------------------------------------------
class Job(object):
    """One stage on one core (or on none): what it runs in, what it waits for, how it ended."""

    def __init__(self, stage, core=None, needs=(), after=(), tree=STAGED, lock=None, cores=(), prefix="", shard=None,
                 **args):
        # needs: jobs whose output this one uses (it is not run if one failed); after: jobs it only waits for.
        # shard: (number, count) when the stage's work on this core is split over several jobs.
        self.stage, self.core, self.needs, self.after, self.tree, self.lock = stage, core, list(needs), list(after), tree, lock
        self.cores, self.args, self.shard = list(cores), args, shard
        self.id = prefix + (stage if core is None else "%s-core%s" % (stage, core))
        self.name = stage if core is None else "%s %s" % (stage, core)
        if shard is not None:
            self.id += "-%d" % shard[0]
            self.name += " [%d/%d]" % shard
        self.log_path = os.path.join(LOGS, "%s.log" % self.id)
        self.func = args.pop("func", None) or globals()["stage_" + stage]
        self.started = self.seconds = self.cpu = None
        self.outcome = None

    @property
    def failed(self):
        return self.outcome is not None and self.outcome.startswith("FAILED")


def run_job(job, stream_to_console):
    began = time.monotonic()
    blocked = [need.name for need in job.needs if need.failed]
    if blocked:
        job.outcome = "FAILED: not run, %s failed" % ", ".join(blocked)
        job.seconds = 0.0
        return
    with open(job.log_path, "w") as handle:
        _OUTPUT.stream = sys.stdout if stream_to_console else handle
        _OUTPUT.cpu = 0.0
        try:
            note = job.func(job)
            job.outcome = note or "passed"
        except (StageFailed, RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            job.outcome = "FAILED: %s" % exc
        except Exception as exc:  # pylint: disable=broad-except  # a bug in a stage must not hide the others' results
            job.outcome = "FAILED: %s: %s" % (type(exc).__name__, exc)
        finally:
            _OUTPUT.stream = None
            job.cpu = _OUTPUT.cpu
    job.seconds = time.monotonic() - began


def tail(path, lines):
    with open(path, errors="replace") as handle:
        return "".join(handle.readlines()[-lines:])


def schedule(jobs, workers, show_logs, started):
    """Run jobs, at most `workers` at once, in list order as their inputs finish; returns when all ended."""
    alone = len(jobs) == 1
    os.makedirs(LOGS, exist_ok=True)
    pending, running, done = list(jobs), {}, threading.Condition()

    def worker(job):
        try:
            run_job(job, alone)
        finally:
            with done:
                running.pop(job.id, None)
                done.notify()

    with done:
        while pending or running:
            held = {job.lock for job in running.values() if job.lock}
            ready = [job for job in pending
                     if all(other.outcome is not None for other in job.needs + job.after) and job.lock not in held]
            if ready and len(running) < workers:
                job = ready[0]
                pending.remove(job)
                job.started = time.monotonic() - started
                running[job.id] = job
                say("[%6.1f s] start %s%s" % (job.started, job.name,
                                              "" if alone else " (output: %s)" % os.path.relpath(job.log_path, REPO)))
                threading.Thread(target=worker, args=(job,), daemon=True).start()
                continue
            done.wait(1.0)
            report_finished(jobs, alone, show_logs, started)
    report_finished(jobs, alone, show_logs, started)


def report_finished(jobs, alone, show_logs, started):
    for job in jobs:
        if job.outcome is not None and job.seconds is not None and not getattr(job, "reported", False):
            job.reported = True
            report(job, alone, show_logs, started)


def report(job, alone, show_logs, started):
    with _PRINT_LOCK:
        if not alone and os.path.exists(job.log_path) and (show_logs or job.failed):
            body = tail(job.log_path, 10 ** 9 if show_logs else 150)
            print("---- %s: %s%s\n%s---- end of %s" % (
                job.name, "" if show_logs else "last lines of ", os.path.relpath(job.log_path, REPO), body, job.name))
        print("==> [%6.1f s] %s %s in %.1f s (%.1f CPU s)" % (time.monotonic() - started, job.name, job.outcome,
                                                              job.seconds or 0.0, job.cpu or 0.0), flush=True)


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def summarise(jobs, started, path, load_at_start):
    """The table of jobs. CPU seconds count the job's commands and sandbox: its work, whatever else loads the machine."""
    lines = ["", "%-24s %7s %8s %8s  %s" % ("job", "start", "seconds", "cpu s", "result")]
    lines += ["%-24s %7.1f %8.1f %8.1f  %s" % (job.name, job.started or 0.0, job.seconds or 0.0, job.cpu or 0.0, job.outcome)
              for job in jobs]
    lines.append("%-24s %7s %8.1f %8.1f  (wall clock; CPU seconds of all jobs)" % (
        "total", "", time.monotonic() - started, sum(job.cpu or 0.0 for job in jobs)))
    lines.append("%s at the start, %s at the end (%d CPUs)" % (load_at_start, load(), os.cpu_count() or 0))
    summary = "\n".join(lines)
    print(summary, flush=True)
    with open(path, "w") as handle:
        handle.write(summary + "\n")


def integration_jobs(core, shards):
    """One job per shard of the core's integration targets, each in a tree and with a sandbox of its own."""
    lists = shard_targets(integration_targets() or all_integration_targets(), shards)
    jobs = []
    for number, targets in enumerate(lists, 1):
        shard = (number, len(lists)) if len(lists) > 1 else None
        suffix = "-%d" % number if shard else ""
        jobs.append(Job("integration", core, tree=job_tree("integration-core%s%s" % (core, suffix)), shard=shard,
                        targets=targets, request_log=request_log(core, number if shard else None)))
    return jobs


def suite_jobs(stages, cores, shards=1):
    """The jobs of the chosen stages, in the order the scheduler prefers them."""
    jobs, by_stage = [], {}
    for stage in stages:
        if stage == "integration":
            for core in cores:
                shard_jobs = integration_jobs(core, shards)
                jobs.extend(shard_jobs)
                by_stage.setdefault(stage, []).extend(shard_jobs)
        elif stage in PER_CORE:
            for core in cores:
                job = Job(stage, core, tree=job_tree("%s-core%s" % (stage, core)),
                          # Both cores' sanity share ~/.ansible/test/venv; one creates its venvs at a time.
                          lock="sanity-venvs" if stage == "sanity" else None)
                jobs.append(job)
                by_stage.setdefault(stage, []).append(job)
        elif stage == "conformance":
            continue  # below, once the integration jobs exist
        else:
            # lint and the self-tests write into their tree (caches): not into the one build and docs read.
            jobs.append(Job(stage, tree=job_tree(stage) if stage in ("selftests", "lint", "demo") else STAGED))
    if "conformance" in stages:
        # It reads the integration jobs' request logs (an earlier run's without them), even after a failure.
        integration = by_stage.get("integration", [])
        shard_logs = {}
        for job in integration:
            if job.shard:
                shard_logs.setdefault(job.core, []).append(job.args["request_log"])
        jobs.append(Job("conformance", after=integration, cores=cores, shard_logs=shard_logs))
    if any(stage in NEEDS_BUILD for stage in stages):
        build = Job("build")
        jobs.append(build)
        for job in jobs:
            if job.stage in NEEDS_BUILD:
                job.needs.append(build)
    # The cores' first shards, then their second ones, ...: the cores' work starts side by side.
    jobs.sort(key=lambda job: (PRIORITY.index(job.stage), job.shard[0] if job.shard else 0, job.core or ""))
    return jobs


def prepare_trees(jobs, fresh=True):
    """The main staged tree, then a copy for each job that runs in a tree of its own."""
    if fresh:
        stage_tree()
    for tree in sorted({job.tree for job in jobs} - {STAGED}):
        if fresh:
            shutil.rmtree(tree, ignore_errors=True)
            shutil.copytree(STAGED, tree, symlinks=True)
        else:
            sync_tree(tree)


# -- make check ---------------------------------------------------------------------
def changed_files():
    """(paths, base): files changed since the merge-base with main (or origin/main), plus untracked ones."""
    for ref in ("main", "origin/main"):
        base = subprocess.run(["git", "merge-base", "HEAD", ref], cwd=REPO, text=True, check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip()
        if base:
            break
    else:
        return None, None
    changed = subprocess.run(["git", "diff", "--name-only", "--no-renames", "-z", base], cwd=REPO, check=True,
                             stdout=subprocess.PIPE).stdout.decode().split("\0")
    untracked = subprocess.run(["git", "ls-files", "-o", "--exclude-standard", "-z"], cwd=REPO, check=True,
                               stdout=subprocess.PIPE).stdout.decode().split("\0")
    paths = sorted({p for p in changed + untracked if p and os.path.isfile(os.path.join(REPO, p))})
    return paths, base


def stage_check_integration(job):
    """The named targets against the long-lived sandbox, reset first."""
    sandbox = LongLivedSandbox(tools_bin("python"), CHECK_SANDBOX_DIR)
    url, note = sandbox.ensure()
    log(note)
    control(url, "POST", "/_sandbox/reset")
    write_integration_config(job.tree, url)
    cpu_before = cpu_seconds(sandbox.pid)
    try:
        run_integration(job, job.args["targets"])
    finally:
        add_cpu(cpu_seconds(sandbox.pid) - cpu_before)
    return "passed (%s)" % note


def check_jobs(targets):
    """Longest first: integration, sanity, units; each in a kept tree of its own (ansible-test reuses its venvs)."""
    core, jobs = NEWEST_CORE, []
    if targets:
        jobs.append(Job("integration", core, tree=job_tree("check-integration"), prefix="check-",
                        func=stage_check_integration, targets=targets))
    else:
        say("no T=...: no integration targets (make check T=\"case request\")")
    paths, base = changed_files()
    if paths is None:
        jobs.append(Job("sanity", core, tree=job_tree("check-sanity"), prefix="check-", python_only=True))
        say("no main branch to compare with: sanity runs on the whole collection")
    elif paths:
        jobs.append(Job("sanity", core, tree=job_tree("check-sanity"), prefix="check-", python_only=True, paths=paths))
        say("sanity on %d file(s) changed since %s or untracked: %s" % (len(paths), base[:10], " ".join(paths)))
    else:
        say("no file changed since %s: no sanity" % base[:10])
    jobs.append(Job("units", core, tree=job_tree("check-units"), prefix="check-"))
    return jobs


# -- main --------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("stages", nargs="*", metavar="STAGE", help=", ".join(STAGES))
    parser.add_argument("--core", action="append", choices=sorted(CORES), help="ansible-core versions (default: all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("CASEOPS_JOBS", str(DEFAULT_JOBS))),
                        help="jobs at once (default %d, or CASEOPS_JOBS)" % DEFAULT_JOBS)
    parser.add_argument("--shards", type=int, default=int(os.environ.get("CASEOPS_SHARDS", str(DEFAULT_SHARDS))),
                        help="integration jobs per ansible-core version (default %d, or CASEOPS_SHARDS)" % DEFAULT_SHARDS)
    parser.add_argument("--show-logs", action="store_true", help="print every job's whole output when it ends")
    parser.add_argument("--check", action="store_true", help="the quick check: changed-file sanity, units, --targets")
    parser.add_argument("--targets", default="", help="with --check: integration targets, space-separated")
    parser.add_argument("--sandbox-stop", action="store_true", help="stop the long-lived sandbox of --check")
    options = parser.parse_args()
    if options.sandbox_stop:
        print(LongLivedSandbox(tools_bin("python"), CHECK_SANDBOX_DIR).stop())
        return 0
    if options.jobs < 1 or options.shards < 1:
        parser.error("--jobs and --shards must be 1 or more")

    started, load_at_start = time.monotonic(), load()
    os.makedirs(BUILD, exist_ok=True)
    link_pythons()
    if options.check:
        if options.stages or options.core:
            parser.error("--check takes no stages and no --core: it runs ansible-core %s" % NEWEST_CORE)
        cores = [NEWEST_CORE]
        jobs = check_jobs(options.targets.split())
        summary = os.path.join(BUILD, "check-summary.txt")
    else:
        stages = options.stages or list(STAGES)
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            parser.error("unknown stage(s) %s; choose from %s" % (", ".join(unknown), ", ".join(STAGES)))
        cores = options.core or sorted(CORES)
        jobs = suite_jobs(stages, cores, options.shards)
        summary = os.path.join(BUILD, "test-summary.txt")
    for core in cores:
        install_get_pip_standin(core)
    prepare_trees(jobs, fresh=not options.check)
    say("staged the collection (%.1f s); %d job(s), %d at a time" % (time.monotonic() - started, len(jobs), options.jobs))

    schedule(jobs, options.jobs, options.show_logs, started)
    summarise(jobs, started, summary, load_at_start)
    return 1 if any(job.failed for job in jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
