# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module accepts exactly the connection options of the module_defaults groups it is in.

A module in group/caseops.desk.falcon must accept every falcon_* option (or a
module_defaults entry for that group would make it fail), and a module outside
a vendor's group has no business taking that vendor's credentials.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import importlib
import os

import pytest
import yaml

from ansible_collections.caseops.desk.plugins.doc_fragments import attributes
from ansible_collections.caseops.desk.plugins.module_utils import args

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
MODULES = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))


class Captured(Exception):
    pass


def argument_spec_of(name, monkeypatch):
    module = importlib.import_module("ansible_collections.caseops.desk.plugins.modules.%s" % name)
    seen = {}

    def capture(*a, **kw):
        seen.update(kw.get("argument_spec") or a[0])
        raise Captured()

    monkeypatch.setattr(module, "AnsibleModule", capture)
    with pytest.raises(Captured):
        module.main()
    return seen


def members_of_all(action_groups):
    members = set()
    for entry in action_groups["all"]:
        if isinstance(entry, dict):
            for group in entry.get("metadata", {}).get("extend_group", []):
                members.update(action_groups[group])
        else:
            members.add(entry)
    return members


def groups():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        return yaml.safe_load(handle)["action_groups"]


@pytest.mark.parametrize("name", MODULES)
def test_module_accepts_exactly_its_groups_connection_options(name, monkeypatch):
    spec = argument_spec_of(name, monkeypatch)
    action_groups = groups()
    assert name in members_of_all(action_groups)
    assert set(args.COMMON_OPTIONS) <= set(spec)
    for vendor, options in args.VENDOR_OPTIONS.items():
        member = name in action_groups[vendor]
        accepted = set(options) & set(spec)
        assert accepted == (set(options) if member else set()), "%s in group %s: %s" % (name, vendor, member)


def test_every_module_is_in_a_vendor_group():
    action_groups = groups()
    for name in MODULES:
        assert any(name in action_groups[vendor] for vendor in args.VENDOR_OPTIONS), name


@pytest.mark.parametrize("name", MODULES)
def test_documented_membership_matches_runtime(name):
    """ansible-doc shows the groups a module is in: they must be the ones meta/runtime.yml gives it."""
    module = importlib.import_module("ansible_collections.caseops.desk.plugins.modules.%s" % name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    fragments = doc.get("extends_documentation_fragment") or []
    # The module's own attributes, then those of its caseops.desk.attributes.* fragments.
    sources = [doc] + [yaml.safe_load(getattr(attributes.ModuleDocFragment, f.rsplit(".", 1)[1].upper()))
                       for f in fragments if f.startswith("caseops.desk.attributes.")]
    documented = set()
    for source in sources:
        membership = ((source.get("attributes") or {}).get("action_group") or {}).get("membership") or []
        documented.update(g.split(".")[-1] for g in membership if g != "caseops.desk.all")
    action_groups = groups()
    assert documented == set(g for g in args.VENDOR_OPTIONS if name in action_groups[g])
