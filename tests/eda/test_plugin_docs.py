# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source's DOCUMENTATION and EXAMPLES say what the code does (run by the eda and docs stages)."""

import glob
import os
import re

import pytest
import yaml

from eda_helpers import PLUGIN_PATH, REPO, plugin

TYPES = {int: "int", str: "str"}


def documentation():
    return yaml.safe_load(plugin.DOCUMENTATION)


def test_documentation_is_yaml_with_the_keys_automation_hub_renders():
    doc = documentation()
    assert set(doc) >= {"short_description", "description", "options", "version_added", "author"}
    assert all(isinstance(line, str) for line in doc["description"])
    for name, option in doc["options"].items():
        assert option.get("description"), name
        assert option.get("type") in ("str", "int", "path"), name


def test_every_argument_is_documented_with_its_type_and_default():
    options = documentation()["options"]
    assert set(options) == set(plugin.DEFAULTS)
    for name, default in plugin.DEFAULTS.items():
        assert options[name].get("default") == default, name
        expected = "int" if name in plugin.INT_ARGS else ("path" if name.endswith("file") else "str")
        assert options[name]["type"] == expected, name


def test_every_setting_the_code_reads_is_an_argument():
    with open(PLUGIN_PATH) as handle:
        source = handle.read()
    read = set(re.findall(r'config\["([a-z_]+)"\]', source))
    assert read and read <= set(plugin.DEFAULTS)


def sources_of(rulebooks):
    for rulebook in rulebooks:
        for source in rulebook["sources"]:
            if "caseops.desk.unit21_webhook" in source:
                yield source["caseops.desk.unit21_webhook"]


def test_examples_and_rulebooks_use_documented_arguments_only():
    options = set(documentation()["options"])
    found = list(sources_of(yaml.safe_load(plugin.EXAMPLES)))
    for path in glob.glob(os.path.join(REPO, "extensions", "eda", "rulebooks", "*.yml")):
        with open(path) as handle:
            found.extend(sources_of(yaml.safe_load(handle)))
    assert len(found) >= 4
    for args in found:
        assert set(args) <= options, args


def test_meta_extensions_declares_the_event_source_folder():
    with open(os.path.join(REPO, "meta", "extensions.yml")) as handle:
        extensions = yaml.safe_load(handle)["extensions"]
    folders = [entry["args"]["ext_dir"] for entry in extensions]
    assert "eda/plugins/event_source" in folders
    for folder in folders:
        assert os.path.isdir(os.path.join(REPO, "extensions", folder)), folder


# -- the polling sources --------------------------------------------------------------------------------------------
from polling_helpers import load_source  # noqa: E402  pylint: disable=wrong-import-position

POLLING = dict((name, load_source(name)) for name in ("falcon_message_center", "cloudforce_one"))
DOC_TYPES = {int: "int", float: "float", str: "str", bool: "bool", list: "list"}


@pytest.mark.parametrize("name", sorted(POLLING))
def test_polling_source_documents_every_argument_with_type_and_default(name):
    source = POLLING[name]
    doc = yaml.safe_load(source.DOCUMENTATION)
    assert set(doc) >= {"short_description", "description", "options", "version_added", "author"}
    assert set(doc["options"]) == set(source.DEFAULTS)
    for option, spec in doc["options"].items():
        assert spec.get("description"), option
        assert spec["type"] == DOC_TYPES[source.TYPES[option]], option
        default = source.DEFAULTS[option]
        if default is None:
            assert "default" not in spec, option
        else:
            assert spec.get("default") == default, option
    assert doc["options"]["changes"]["choices"] == list(source.CHANGES)


@pytest.mark.parametrize("name", sorted(POLLING))
def test_polling_source_examples_and_rulebooks_use_documented_arguments_only(name):
    source = POLLING[name]
    options = set(yaml.safe_load(source.DOCUMENTATION)["options"])
    rulebooks = list(yaml.safe_load(source.EXAMPLES))
    for path in glob.glob(os.path.join(REPO, "extensions", "eda", "rulebooks", "*.yml")):
        with open(path) as handle:
            rulebooks.extend(yaml.safe_load(handle))
    found = [src["caseops.desk." + name] for rulebook in rulebooks for src in rulebook["sources"]
             if "caseops.desk." + name in src]
    assert found
    for args in found:
        assert set(args) <= options, args
        # Every literal value (not a rulebook variable) passes the source's own checks.
        literal = dict((k, v) for k, v in args.items() if "{{" not in str(v))
        source.event_polling.load_config(source.SOURCE, literal, source.DEFAULTS, source.TYPES, source.CHANGES)
