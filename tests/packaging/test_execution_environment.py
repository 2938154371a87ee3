# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's EE metadata and the shipped execution / decision environment definitions.

The first checks need nothing but the tree. The others run ansible-builder itself (requirements/dev.txt
pins it): `introspect` reads meta/execution-environment.yml as it does inside an image build, and
`create` validates a definition against the builder's v3 schema and writes the build context
(no container engine needed).
"""

import ast
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFINITIONS = {
    "execution": os.path.join(REPO, "extensions", "awx", "execution-environment.yml"),
    "execution-local": os.path.join(REPO, "extensions", "awx", "execution-environment-local.yml"),
    "decision": os.path.join(REPO, "extensions", "eda", "decision-environment.yml"),
    "decision-local": os.path.join(REPO, "extensions", "eda", "decision-environment-local.yml"),
}
DE_REQUIREMENTS = os.path.join(REPO, "extensions", "eda", "requirements.txt")
LOCAL_TARBALL = "caseops-desk.tar.gz"
# Import name -> the requirement that brings it, for the third-party imports of the shipped code
# (urllib3 is a dependency of requests). Modules and module_utils: every EE. The event source: the DE only.
MODULE_DISTRIBUTIONS = {"requests": "requests", "urllib3": "requests"}
EVENT_SOURCE_DISTRIBUTIONS = {"aiohttp": "aiohttp"}


def read_yaml(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def requirement_names(path):
    with open(path) as handle:
        lines = [line.split("#")[0].strip() for line in handle]
    return sorted(re.split(r"[<>=!~;\[ ]", line)[0].lower() for line in lines if line)


def third_party_imports(*area):
    """Top-level modules imported by the Python files under ``area``, minus the stdlib and Ansible."""
    found = {}
    for path in glob.glob(os.path.join(REPO, *(area + ("**", "*.py"))), recursive=True):
        with open(path) as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("ansible", "ansible_collections", "__future__"):
                    found.setdefault(top, os.path.relpath(path, REPO))
    return found


def test_collection_ee_metadata_points_at_existing_files():
    meta = read_yaml(os.path.join(REPO, "meta", "execution-environment.yml"))
    for key in ("python", "system"):
        assert os.path.isfile(os.path.join(REPO, meta["dependencies"][key])), meta["dependencies"][key]


def test_every_module_import_is_a_collection_requirement_and_nothing_more():
    meta = read_yaml(os.path.join(REPO, "meta", "execution-environment.yml"))
    listed = requirement_names(os.path.join(REPO, meta["dependencies"]["python"]))
    imports = third_party_imports("plugins")
    assert sorted(imports) == sorted(MODULE_DISTRIBUTIONS), "new third-party import: %s" % imports
    # Every execution environment gets these: exactly what the modules import, so the job EE has no aiohttp.
    assert listed == sorted(set(MODULE_DISTRIBUTIONS.values()))


def test_every_event_source_import_is_a_decision_environment_requirement():
    imports = third_party_imports("extensions", "eda", "plugins")
    assert sorted(imports) == sorted(EVENT_SOURCE_DISTRIBUTIONS), "new third-party import: %s" % imports
    listed = requirement_names(DE_REQUIREMENTS)
    assert listed == sorted(["ansible-rulebook"] + list(EVENT_SOURCE_DISTRIBUTIONS.values()))


@pytest.mark.parametrize("kind", sorted(DEFINITIONS))
def test_environment_definitions_install_this_collection(kind):
    definition = read_yaml(DEFINITIONS[kind])
    assert definition["version"] == 3
    collections = definition["dependencies"]["galaxy"]["collections"]
    if kind.endswith("-local"):
        assert collections == [{"name": "collections/" + LOCAL_TARBALL, "type": "file"}]
        assert definition["additional_build_files"] == [{"src": LOCAL_TARBALL, "dest": "collections"}]
    else:
        assert [c["name"] for c in collections] == ["caseops.desk"]
    # Apart from the local path, the two variants of an environment are the same.
    twin = read_yaml(DEFINITIONS[kind.replace("-local", "")])
    assert dict(definition["dependencies"], galaxy=None) == dict(twin["dependencies"], galaxy=None)
    assert definition["images"] == twin["images"]
    if kind.startswith("decision"):
        assert definition["dependencies"]["python"] == "requirements.txt"
        assert any(line.startswith("java-17") for line in definition["dependencies"]["system"])
    else:
        # The collection's own requirements come in through introspection; a job EE needs nothing more.
        assert "python" not in definition["dependencies"] and "system" not in definition["dependencies"]


# -- with ansible-builder ------------------------------------------------------------------------
def builder(*arguments, cwd=None):
    result = subprocess.run([sys.executable, "-m", "ansible_builder"] + list(arguments), cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    assert result.returncode == 0, result.stdout
    return result.stdout


def test_builder_introspection_finds_only_requests(tmp_path):
    target = tmp_path / "ansible_collections" / "caseops" / "desk"
    target.mkdir(parents=True)
    shutil.copytree(os.path.join(REPO, "meta"), str(target / "meta"))
    shutil.copy(os.path.join(REPO, "galaxy.yml"), str(target))
    output = builder("introspect", "--sanitize", str(tmp_path))
    found = yaml.safe_load(output[output.index("---"):])
    assert sorted(re.split(r"[<>=! ]", line)[0] for line in found["python"]) == ["requests"]
    assert all("from collection caseops.desk" in line for line in found["python"])
    assert found["system"] == []


def build_context(definition_path, context):
    builder("create", "-f", definition_path, "-c", str(context), "--output-filename", "Containerfile")
    with open(os.path.join(str(context), "Containerfile")) as handle:
        return handle.read()


@pytest.fixture(scope="module")
def built_tarball(tmp_path_factory):
    """The collection built from this tree, as a user builds it for the local-tarball path."""
    output = tmp_path_factory.mktemp("dist")
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-galaxy"), "collection", "build",
                    "--output-path", str(output), REPO], check=True, stdout=subprocess.PIPE)
    [tarball] = glob.glob(str(output / "caseops-desk-*.tar.gz"))
    return tarball


@pytest.mark.parametrize("kind", sorted(DEFINITIONS))
def test_ansible_builder_creates_the_build_context(kind, tmp_path, built_tarball):
    source = DEFINITIONS[kind]
    if kind.endswith("-local"):
        # As the definition's header says: the tarball next to the definition, under its fixed name.
        workdir = tmp_path / "definition"
        shutil.copytree(os.path.dirname(source), str(workdir))
        shutil.copy(built_tarball, str(workdir / LOCAL_TARBALL))
        source = str(workdir / os.path.basename(source))
    context = tmp_path / "context"
    containerfile = build_context(source, context)
    assert "ansible-galaxy collection install" in containerfile
    requirements = read_yaml(str(context / "_build" / "requirements.yml"))
    names = [c["name"] for c in requirements["collections"]]
    if kind.endswith("-local"):
        # ansible-galaxy runs in /build, where _build/ is copied: the relative name points at the copied tarball.
        copied = context / "_build" / names[0]
        assert copied.exists() and copied.read_bytes() == open(built_tarball, "rb").read()
    else:
        assert names == ["caseops.desk"]
    python_requirements = context / "_build" / "requirements.txt"
    listed = requirement_names(str(python_requirements)) if python_requirements.exists() else []
    if kind.startswith("decision"):
        assert {"ansible-rulebook", "aiohttp"} <= set(listed)
        assert "java-17-openjdk-devel" in (context / "_build" / "bindep.txt").read_text()
    else:
        assert "aiohttp" not in listed
