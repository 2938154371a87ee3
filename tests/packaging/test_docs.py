# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user documentation: the README read from Galaxy, the docsite guides, the event source's reference page.

Galaxy and Automation Hub show README.md from the tarball, where relative links point nowhere and the files
left out by build_ignore do not exist; the docsite renders only what docs/docsite/extra-docs.yml lists.
"""

import glob
import os
import re

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RST_DIR = os.path.join(REPO, "docs", "docsite", "rst")
EVENT_SOURCE = os.path.join(REPO, "extensions", "eda", "plugins", "event_source", "unit21_webhook.py")


def read(*parts):
    with open(os.path.join(REPO, *parts)) as handle:
        return handle.read()


def galaxy():
    return yaml.safe_load(read("galaxy.yml"))


def readme_links(*path):
    return re.findall(r"\]\(([^)]+)\)", read(*(path or ("README.md",))))


def test_readme_opens_with_the_source_checkout_commands():
    first_lines = read("README.md").splitlines()[:10]
    assert any(line.startswith("make demo") for line in first_lines)
    assert any(line.startswith("make test") for line in first_lines)


@pytest.mark.parametrize("page", [("README.md",), ("docs", "user_guides.md")], ids=["README", "user_guides"])
def test_links_are_absolute_and_point_at_files_of_the_repository(page):
    """README.md and the Markdown files in docs/ are what Galaxy and Automation Hub render."""
    repository = galaxy()["repository"].rstrip("/")
    links = readme_links(*page)
    assert links, "the README links the guides"
    for link in links:
        assert link.startswith("https://"), "relative link %s breaks on Galaxy" % link
        if link.startswith(repository + "/blob/main/") or link.startswith(repository + "/tree/main/"):
            path = link.split("/main/", 1)[1].split("#")[0]
            assert os.path.exists(os.path.join(REPO, path)), "%s points at a missing file" % link


def test_readme_states_install_requirements_and_versions():
    text = read("README.md")
    for needed in ("ansible-galaxy collection install caseops.desk", "pip install requests", "aiohttp",
                   "ansible-rulebook", "Java 17", "2.16", "2.21", "3.11", "3.12", "Cloudforce One Write",
                   "message-center:read", "message-center:write"):
        assert needed in text, needed
    # The runtime metadata and the README agree on the oldest ansible-core.
    runtime = yaml.safe_load(read("meta", "runtime.yml"))
    assert runtime["requires_ansible"] == ">=2.16.0"


def test_readme_names_no_file_the_tarball_leaves_out():
    ignored = set(galaxy()["build_ignore"])
    for link in readme_links():
        path = link.split("/main/", 1)[1] if "/main/" in link else ""
        assert not any(path == entry or path.startswith(entry.rstrip("*").rstrip("/") + "/")
                       for entry in ignored if not entry.startswith("*")), link


def test_every_guide_is_listed_in_extra_docs_and_has_its_label():
    extra = yaml.safe_load(read("docs", "docsite", "extra-docs.yml"))
    listed = [name for section in extra["sections"] for name in section["toctree"]]
    present = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(RST_DIR, "*.rst")))
    assert sorted(listed) == present
    for name in present:
        first = read("docs", "docsite", "rst", name + ".rst").splitlines()[0]
        assert first == ".. _ansible_collections.caseops.desk.docsite.%s:" % name


def event_source_documentation():
    source = read("extensions", "eda", "plugins", "event_source", "unit21_webhook.py")
    return yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', source, re.S).group(1))


def test_event_source_page_documents_every_argument_with_its_type_and_default():
    page = read("docs", "docsite", "rst", "unit21_webhook_event_source.rst")
    rows = re.findall(r"   \* - ``(\w+)``\n     - (\w+)\n     - (.*)\n", page)
    documented = dict((name, (kind, default)) for name, kind, default in rows)
    options = event_source_documentation()["options"]
    assert sorted(documented) == sorted(options)
    for name, option in options.items():
        kind, default = documented[name]
        assert kind == option["type"], name
        expected = "``%s``" % option["default"] if "default" in option else ""
        assert default.strip() == expected, name


@pytest.mark.parametrize("rulebook", sorted(glob.glob(os.path.join(REPO, "extensions", "eda", "rulebooks", "*.yml"))))
def test_guides_name_every_shipped_rulebook(rulebook):
    name = os.path.splitext(os.path.basename(rulebook))[0]
    assert name in read("docs", "docsite", "rst", "guide_eda.rst")
    assert name in read("README.md")


def test_galaxy_documentation_tab_lists_every_guide():
    # galaxy-importer renders the Markdown files at the top of docs/ as the collection's documentation files.
    page = read("docs", "user_guides.md")
    for path in glob.glob(os.path.join(RST_DIR, "*.rst")):
        assert "docs/docsite/rst/" + os.path.basename(path) in page
