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
    "decision": os.path.join(REPO, "extensions", "eda", "decision-environment.yml"),
}
# Import name -> the listed requirement that brings it, for the third-party imports of the shipped code
# (urllib3 is a dependency of requests).
DISTRIBUTIONS = {"requests": "requests", "urllib3": "requests", "aiohttp": "aiohttp"}


def read_yaml(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def requirement_names(path):
    with open(path) as handle:
        lines = [line.split("#")[0].strip() for line in handle]
    return sorted(re.split(r"[<>=!~;\[ ]", line)[0].lower() for line in lines if line)


def third_party_imports():
    """Top-level modules imported by the plugins and the EDA event source, minus the stdlib and Ansible."""
    found = {}
    paths = glob.glob(os.path.join(REPO, "plugins", "**", "*.py"), recursive=True)
    paths += glob.glob(os.path.join(REPO, "extensions", "eda", "plugins", "**", "*.py"), recursive=True)
    for path in paths:
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


def test_every_third_party_import_is_an_ee_requirement():
    meta = read_yaml(os.path.join(REPO, "meta", "execution-environment.yml"))
    listed = requirement_names(os.path.join(REPO, meta["dependencies"]["python"]))
    imports = third_party_imports()
    assert sorted(imports) == sorted(DISTRIBUTIONS), "new third-party import: %s" % imports
    for name, where in imports.items():
        assert DISTRIBUTIONS[name] in listed, "%s (imported by %s) is missing from meta/ee-requirements.txt" % (name, where)


@pytest.mark.parametrize("kind", sorted(DEFINITIONS))
def test_environment_definitions_install_this_collection(kind):
    definition = read_yaml(DEFINITIONS[kind])
    assert definition["version"] == 3
    names = [c["name"] for c in definition["dependencies"]["galaxy"]["collections"]]
    assert names == ["caseops.desk"]
    # The collection's own requirements come in through introspection, not by repeating them here.
    assert not set(DISTRIBUTIONS) & set(definition["dependencies"].get("python", []))
    if kind == "decision":
        assert "ansible-rulebook" in definition["dependencies"]["python"]
        assert any(line.startswith("java-") for line in definition["dependencies"]["system"])


# -- with ansible-builder ------------------------------------------------------------------------
def builder(*arguments, cwd=None):
    pytest.importorskip("ansible_builder", reason="ansible-builder is not installed in this venv (requirements/dev.txt pins it)")
    result = subprocess.run([sys.executable, "-m", "ansible_builder"] + list(arguments), cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    assert result.returncode == 0, result.stdout
    return result.stdout


def test_builder_introspection_finds_the_collection_requirements(tmp_path):
    target = tmp_path / "ansible_collections" / "caseops" / "desk"
    target.mkdir(parents=True)
    shutil.copytree(os.path.join(REPO, "meta"), str(target / "meta"))
    shutil.copy(os.path.join(REPO, "galaxy.yml"), str(target))
    output = builder("introspect", "--sanitize", str(tmp_path))
    found = yaml.safe_load(output[output.index("---"):])
    assert sorted(re.split(r"[<>=! ]", line)[0] for line in found["python"]) == ["aiohttp", "requests"]
    assert all("from collection caseops.desk" in line for line in found["python"])
    assert found["system"] == []


def build_context(definition_path, context):
    builder("create", "-f", definition_path, "-c", str(context), "--output-filename", "Containerfile")
    with open(os.path.join(str(context), "Containerfile")) as handle:
        return handle.read()


@pytest.mark.parametrize("kind", sorted(DEFINITIONS))
def test_builder_accepts_the_definition(kind, tmp_path):
    containerfile = build_context(DEFINITIONS[kind], tmp_path / "context")
    assert "ansible-galaxy collection install" in containerfile
    requirements = read_yaml(str(tmp_path / "context" / "_build" / "requirements.yml"))
    assert [c["name"] for c in requirements["collections"]] == ["caseops.desk"]
    if kind == "decision":
        with open(str(tmp_path / "context" / "_build" / "requirements.txt")) as handle:
            assert "ansible-rulebook" in handle.read()


def test_builder_accepts_the_tarball_variant_described_in_the_definition(tmp_path):
    """The comment in execution-environment.yml says how to build from a local tarball: that edit works."""
    with open(DEFINITIONS["execution"]) as handle:
        text = handle.read()
    comment = re.search(r"replace the galaxy section with:\n((?:#   .*\n)+)# and add:\n((?:#   .*\n)+)", text)
    galaxy = yaml.safe_load("".join(line[4:] + "\n" for line in comment.group(1).splitlines()))
    extra = yaml.safe_load("".join(line[4:] + "\n" for line in comment.group(2).splitlines()))
    definition = yaml.safe_load(text)
    definition["dependencies"].update(galaxy)
    definition.update(extra)
    tarball = extra["additional_build_files"][0]["src"]
    (tmp_path / tarball).write_bytes(b"stand-in for the built collection")
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump(definition))
    build_context(str(tmp_path / "execution-environment.yml"), tmp_path / "context")
    copied = tmp_path / "context" / "_build" / "collections" / tarball
    assert copied.exists()
    # ansible-galaxy runs in /build, where _build/ is copied: the relative name must point at the copy.
    name = read_yaml(str(tmp_path / "context" / "_build" / "requirements.yml"))["collections"][0]["name"]
    assert (tmp_path / "context" / "_build" / name).exists()
