# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the built collection holds: what users need, and no test that cannot run from it.

The integration, unit, e2e, EDA and packaging tests need tests/sandbox and tools/, which are not shipped; like
ansible.eda (whose galaxy.yml build_ignore drops tests/unit and tests/integration), they stay out.
"""

import glob
import os
import subprocess
import sys
import tarfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    output = tmp_path_factory.mktemp("dist")
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-galaxy"), "collection", "build",
                    "--output-path", str(output), REPO], check=True, stdout=subprocess.PIPE)
    [tarball] = glob.glob(str(output / "caseops-desk-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        return sorted(m.name for m in archive.getmembers() if m.isfile())


def test_no_test_ships_that_needs_the_unshipped_sandbox(members):
    assert [m for m in members if m.startswith("tests/")] == ["tests/config.yml"]
    assert not [m for m in members if m.startswith(("tools/", "requirements/")) or m == "Makefile"]


def test_what_users_need_ships(members):
    for needed in ("README.md", "LICENSE", "meta/runtime.yml", "meta/ee-requirements.txt",
                   "meta/execution-environment.yml", "docs/docsite/extra-docs.yml",
                   "docs/docsite/rst/guide_eda.rst", "docs/docsite/rst/unit21_webhook_event_source.rst",
                   "extensions/eda/plugins/event_source/unit21_webhook.py", "extensions/eda/requirements.txt",
                   "extensions/awx/execution-environment-local.yml", "extensions/eda/decision-environment-local.yml",
                   "extensions/awx/credential_types/falcon.yml", "extensions/eda/credential_types/unit21_webhook.yml",
                   "playbooks/awx_credential_types.yml"):
        assert needed in members, needed
    assert not [m for m in members if m.endswith(".tar.gz")]
