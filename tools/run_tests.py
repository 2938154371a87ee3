# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole test suite, stage by stage (``make test`` runs every stage).

    python tools/run_tests.py [STAGE ...] [--core 2.16 --core 2.21]

Stages: sanity units selftests integration conformance e2e eda docs lint demo.
Every stage runs even when an earlier one failed; the summary at the end lists
each stage with its time and result, and the exit status is 1 if any failed.

ansible-test needs the collection under ansible_collections/caseops/desk, and
refuses a symlink, so the tree (tracked and untracked-but-not-ignored files) is
copied to <tmp>/caseops-desk-<hash>/ansible_collections/caseops/desk first.
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
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, "build")
# Outside the checkout: inside it, ansible-test would ask the enclosing git repository for the file list,
# and build/ is ignored there.
STAGE_ROOT = os.environ.get("CASEOPS_STAGE_DIR") or os.path.join(
    tempfile.gettempdir(), "caseops-desk-%s" % hashlib.sha1(REPO.encode()).hexdigest()[:8])
STAGED = os.path.join(STAGE_ROOT, "ansible_collections", "caseops", "desk")
INSTALLED = os.path.join(BUILD, "installed")
PYTHON_LINKS = os.path.join(BUILD, "pythons")
SANDBOX_LOG = os.path.join(BUILD, "sandbox-requests.jsonl")
API_DIR = os.path.normpath(os.path.join(REPO, "..", "shared", "api"))

sys.path.insert(0, os.path.join(REPO, "tools"))
from sandbox_process import connection_env, start_sandbox  # noqa: E402  pylint: disable=wrong-import-position,import-error

# ansible-core version -> (virtual environment, controller Python)
CORES = {
    "2.16": (os.path.join(REPO, ".venv-core2.16"), "3.11"),
    "2.21": (os.path.join(REPO, ".venv"), "3.12"),
}
TOOLS_VENV = CORES["2.21"][0]
STAGES = ("sanity", "units", "selftests", "integration", "conformance", "e2e", "eda", "docs", "lint", "demo")
# The venv with ansible-rulebook for the eda stage: the tools venv (dev.txt pins it); overridable for a trial venv.
EDA_VENV = os.environ.get("CASEOPS_EDA_VENV") or TOOLS_VENV
MODULES = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py")))


class StageFailed(Exception):
    pass


def log(message):
    print("==> %s" % message, flush=True)


def run(command, cwd=STAGED, env=None, check=True, capture=False):
    log("$ %s" % " ".join(command))
    result = subprocess.run(command, cwd=cwd, env=env, text=True, check=False,
                            stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None)
    if capture:
        print(result.stdout, end="", flush=True)
    if check and result.returncode != 0:
        raise StageFailed("%s exited %d" % (command[0], result.returncode))
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
def stage_tree():
    """Copy the working tree (what git would commit) to the ansible_collections layout."""
    if os.path.isdir(STAGED):
        # Keep ansible-test's output between runs only if asked; a clean copy is the honest default.
        shutil.rmtree(STAGED)
    os.makedirs(STAGED)
    listing = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                             stdout=subprocess.PIPE).stdout.decode().split("\0")
    for rel in filter(None, listing):
        source = os.path.join(REPO, rel)
        if not os.path.lexists(source):
            continue  # deleted but not yet committed
        target = os.path.join(STAGED, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


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
            os.symlink(os.path.realpath(path), link)


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


# -- stages ----------------------------------------------------------------------
def stage_sanity(cores):
    for core in cores:
        run(["ansible-test", "sanity", "--venv", "--color", "no"], env=core_env(core))


def stage_units(cores):
    for core in cores:
        run(["ansible-test", "units", "--venv", "--python", CORES[core][1], "--color", "no"], env=core_env(core))


def stage_selftests(cores):
    run([tools_bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/sandbox/tests", "tests/conformance", "tests/packaging"],
        env=dict(os.environ, CASEOPS_API_DIR=API_DIR))


def stage_integration(cores):
    if os.path.exists(SANDBOX_LOG):
        os.remove(SANDBOX_LOG)
    with start_sandbox(tools_bin("python"), log_file=SANDBOX_LOG) as sandbox:
        write_integration_config(sandbox.url)
        for core in cores:
            sandbox.control("POST", "/_sandbox/reset")
            # CASEOPS_TARGETS="case case_info" runs only those targets (while working on them).
            targets = os.environ.get("CASEOPS_TARGETS", "").split()
            run(["ansible-test", "integration", "--venv", "--python", CORES[core][1], "--color", "no"] + targets,
                env=core_env(core))


def write_integration_config(url):
    config = dict(("sandbox_" + k.lower(), v) for k, v in connection_env(url).items())
    config["sandbox_url"] = url
    path = os.path.join(STAGED, "tests", "integration", "integration_config.yml")
    with open(path, "w") as handle:
        json.dump(config, handle, indent=2, sort_keys=True)  # JSON is YAML


def stage_conformance(cores):
    if not os.path.exists(SANDBOX_LOG):
        raise StageFailed("no sandbox request log: run the integration stage first")
    # Every vendor must appear in the log of a full run; a CASEOPS_TARGETS subset may touch only one.
    vendors = [] if os.environ.get("CASEOPS_TARGETS", "").split() else ["falcon", "cloudforce_one", "unit21"]
    required = [arg for vendor in vendors for arg in ("--require-vendor", vendor)]
    result = run([tools_bin("python"), os.path.join(REPO, "tests", "conformance", "check_conformance.py"),
                  "--log", SANDBOX_LOG, "--api-dir", API_DIR] + required, cwd=REPO, check=False)
    if result.returncode == 3:
        return "skipped: %s is absent (outside this team's CI)" % API_DIR
    if result.returncode != 0:
        raise StageFailed("requests that break the vendor OpenAPI documents (see above)")
    return None


def build_and_install():
    dist = os.path.join(BUILD, "dist")
    run([tools_bin("ansible-galaxy"), "collection", "build", "--force", "--output-path", dist], cwd=STAGED)
    tarball = sorted(glob.glob(os.path.join(dist, "caseops-desk-*.tar.gz")))[-1]
    shutil.rmtree(INSTALLED, ignore_errors=True)
    run([tools_bin("ansible-galaxy"), "collection", "install", "--force", "-p", INSTALLED, tarball], cwd=BUILD)
    return tarball


def installed_env():
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = INSTALLED
    env["PATH"] = os.pathsep.join([os.path.join(TOOLS_VENV, "bin"), env.get("PATH", "")])
    return env


def stage_e2e(cores):
    build_and_install()
    with start_sandbox(tools_bin("python")) as sandbox:
        env = installed_env()
        env["CASEOPS_SANDBOX_URL"] = sandbox.url
        run([tools_bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.join(REPO, "tests", "e2e")], cwd=REPO, env=env)


def java_home():
    """JAVA_HOME for ansible-rulebook's rule engine (a JVM): the environment's, else the java on PATH."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    return os.path.dirname(os.path.dirname(os.path.realpath(java))) if java else None


def stage_eda(cores):
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
    build_and_install()
    with start_sandbox(tools_bin("python")) as sandbox:
        env = installed_env()
        env.update(connection_env(sandbox.url))
        env["PATH"] = os.pathsep.join([os.path.join(EDA_VENV, "bin"), env["PATH"]])
        env.update(CASEOPS_SANDBOX_URL=sandbox.url, CASEOPS_ANSIBLE_RULEBOOK=rulebook, JAVA_HOME=java_home())
        began = time.monotonic()
        run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.join(tests, "test_rulebook_e2e.py"),
             os.path.join(tests, "test_polling_rulebooks_e2e.py")], cwd=REPO, env=env)
        return "passed (rulebook end-to-end %.1f s)" % (time.monotonic() - began)


def stage_docs(cores):
    build_and_install()
    env = installed_env()
    for module in MODULES:
        result = run([tools_bin("ansible-doc"), "caseops.desk.%s" % module], cwd=BUILD, env=env, capture=True)
        if "WARNING" in result.stdout or "ERROR" in result.stdout:
            raise StageFailed("ansible-doc caseops.desk.%s printed a warning or error" % module)
    # Roles: their meta/argument_specs.yml is their documentation page.
    for role in sorted(os.listdir(os.path.join(STAGED, "roles"))):
        result = run([tools_bin("ansible-doc"), "-t", "role", "caseops.desk.%s" % role], cwd=BUILD, env=env, capture=True)
        # ansible-core 2.21 warns about its own internal _protomatter collection when it lists roles: not ours.
        problems = [line for line in result.stdout.splitlines()
                    if ("WARNING" in line or "ERROR" in line) and "ansible_collections/ansible/_protomatter" not in line]
        if problems or "options" not in result.stdout.lower():
            raise StageFailed("ansible-doc -t role caseops.desk.%s printed a warning or error, or no options" % role)
    run([tools_bin("antsibull-docs"), "lint-collection-docs", "--plugin-docs", "."], env=env)
    run([tools_bin("antsibull-changelog"), "lint"])
    # ansible-doc does not read EDA plugins: check the event source's DOCUMENTATION/EXAMPLES against its code.
    run([tools_bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         os.path.join(REPO, "tests", "eda", "test_plugin_docs.py")], cwd=REPO)


def stage_lint(cores):
    build_and_install()
    targets = [p for p in ("playbooks", "roles", "extensions/eda/rulebooks") if os.path.isdir(os.path.join(STAGED, p))]
    run([tools_bin("ansible-lint"), "--profile", "production"] + targets, env=installed_env())


def stage_demo(cores):
    """`make demo`, as a newcomer runs it: it must finish with a clean recap."""
    result = run([tools_bin("python"), os.path.join(REPO, "tools", "demo.py")], cwd=REPO, capture=True, check=False)
    if result.returncode != 0 or "failed=0" not in result.stdout or "unreachable=0" not in result.stdout:
        raise StageFailed("the demo did not finish cleanly")


# -- main --------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="*", metavar="STAGE", help=", ".join(STAGES))
    parser.add_argument("--core", action="append", choices=sorted(CORES), help="ansible-core versions (default: all)")
    options = parser.parse_args()
    stages = options.stages or list(STAGES)
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        parser.error("unknown stage(s) %s; choose from %s" % (", ".join(unknown), ", ".join(STAGES)))
    cores = options.core or sorted(CORES)

    started = time.monotonic()
    stage_tree()
    link_pythons()
    for core in cores:
        install_get_pip_standin(core)
    log("staged the collection at %s (%.1f s)" % (STAGED, time.monotonic() - started))

    results = []
    for name in stages:
        began = time.monotonic()
        log("stage %s (ansible-core %s)" % (name, ", ".join(cores)))
        try:
            note = globals()["stage_" + name](cores)
            outcome = note or "passed"
        except (StageFailed, RuntimeError, subprocess.CalledProcessError) as exc:
            outcome = "FAILED: %s" % exc
        results.append((name, time.monotonic() - began, outcome))

    lines = ["", "stage          seconds  result"]
    lines += ["%-14s %7.1f  %s" % row for row in results]
    lines.append("%-14s %7.1f" % ("total", time.monotonic() - started))
    summary = "\n".join(lines)
    print(summary, flush=True)
    with open(os.path.join(BUILD, "test-summary.txt"), "w") as handle:
        handle.write(summary + "\n")
    return 1 if any(r[2].startswith("FAILED") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
