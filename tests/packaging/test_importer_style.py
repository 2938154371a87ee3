# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Automation Hub's importer rules that ansible-test sanity does not apply: code style, version.

galaxy-importer (Automation Hub configuration) runs flake8 on plugins/ with ``--select E,F,W``, which turns on
both W503 and W504 (a line break before, and after, a binary operator); ansible-test's pep8 test ignores them.
Their warnings are shown on the collection's page, so an expression that spans lines must break elsewhere
(between arguments, or through a name for a part). flake8 is not a dependency of this project, so the rules are
checked here with the standard library's tokenizer.
"""

import glob
import io
import os
import tokenize

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# pycodestyle's rule: an operator token, except these symbols, or the keywords "and" / "or".
NOT_BINARY = set("()[]{},:.;@=%~") | {"...", "->", ":="}


def is_binary_operator(token_type, text):
    return (token_type == tokenize.OP or text in ("and", "or")) and text not in NOT_BINARY


def line_breaks_around_operators(source):
    """(line, code) for each line break before (W503) or after (W504) a binary operator, as pycodestyle finds them."""
    found = []
    previous_type, previous_text, previous_start = None, None, None
    line_break, unary_context = False, True
    for token_type, text, start, _end, _line in tokenize.generate_tokens(io.StringIO(source).readline):
        if token_type == tokenize.COMMENT:
            continue
        if ("\n" in text or "\r" in text) and token_type != tokenize.STRING:
            line_break = True
            continue
        if line_break and not unary_context:
            if is_binary_operator(token_type, text) and not is_binary_operator(previous_type, previous_text):
                found.append((start[0], "W503"))
            if is_binary_operator(previous_type, previous_text) and not is_binary_operator(token_type, text):
                found.append((previous_start[0], "W504"))
        unary_context = text in "([{,;"
        line_break = False
        previous_type, previous_text, previous_start = token_type, text, start
    return found


def test_the_checker_finds_what_flake8_calls_w503_and_w504():
    source = ("x = (a\n     + b)\ny = (a +\n     b)\nz = [\n    -1,\n    *rest]\nw = (p\n     and q)\n"
              "v = ('%s'\n     % n)\n")
    assert line_breaks_around_operators(source) == [(2, "W503"), (3, "W504"), (9, "W503")]


def shipped_python_files():
    ignored = yaml.safe_load(open(os.path.join(REPO, "galaxy.yml")))["build_ignore"]
    files = sorted(glob.glob(os.path.join(REPO, "plugins", "**", "*.py"), recursive=True)
                   + glob.glob(os.path.join(REPO, "extensions", "**", "*.py"), recursive=True))
    return [path for path in files if not any(os.path.relpath(path, REPO).startswith(i.rstrip("*")) for i in ignored)]


@pytest.mark.parametrize("path", shipped_python_files(), ids=lambda path: os.path.relpath(path, REPO))
def test_no_line_break_around_a_binary_operator(path):
    with open(path) as handle:
        found = line_breaks_around_operators(handle.read())
    assert not found, "%s: the importer flags a line break before (W503) or after (W504) a binary operator: %s" % (
        os.path.relpath(path, REPO), ", ".join("line %d %s" % item for item in found))


def test_version_is_one_or_later():
    """Automation Hub's importer (REQUIRE_V1_OR_GREATER) refuses a collection below 1.0.0."""
    version = yaml.safe_load(open(os.path.join(REPO, "galaxy.yml")))["version"]
    major = int(str(version).split(".", maxsplit=1)[0])
    assert major >= 1, "galaxy.yml version %s: Automation Hub accepts 1.0.0 or later" % version
