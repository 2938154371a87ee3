"""Every FQL filter the collection shows its users (module EXAMPLES, roles, playbooks) is one the sandbox's FQL
parser accepts, under both match modes of ':' (FIDELITY.md, Falcon F1).

Filters are found by key: ``filter`` and ``match_filter`` anywhere in a task, and facts whose name ends in
``_filter``. Templated filters are rendered with sample values first; a value that only names another variable
is skipped (that variable's own definition is checked).
"""

import ast
import glob
import os
import re

import jinja2
import pytest
import yaml

import falcon  # pylint: disable=import-error
import fql  # pylint: disable=import-error

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# Values for the variables templated filters use (none today: the escalation role no longer writes a filter).
SAMPLES = {}


class SampleUndefined(jinja2.Undefined):
    """Any variable the samples do not hold renders as a plain word."""

    def __str__(self):
        return "sample"

    def __iter__(self):
        return iter(["sample"])


TEMPLATES = jinja2.Environment(undefined=SampleUndefined)
ONLY_A_VARIABLE = re.compile(r"^\s*\{\{\s*[\w.]+\s*\}\}\s*$")


def render(text):
    return TEMPLATES.from_string(text).render(SAMPLES) if "{{" in text else text


def filters_in(node, where, found):
    """(where, filter text) for every FQL filter in a YAML tree."""
    if isinstance(node, list):
        for item in node:
            filters_in(item, where, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and (key in ("filter", "match_filter") or str(key).endswith("_filter")):
                if not ONLY_A_VARIABLE.match(value):
                    found.append((where, render(value).strip()))
            else:
                filters_in(value, where, found)
    return found


def module_examples():
    for path in sorted(glob.glob(os.path.join(REPO, "plugins", "modules", "*.py"))):
        tree = ast.parse(open(path, encoding="utf-8").read())
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and getattr(statement.targets[0], "id", None) == "EXAMPLES":
                yield "plugins/modules/%s EXAMPLES" % os.path.basename(path), yaml.safe_load(statement.value.value)


def yaml_files():
    for pattern in ("roles/*/tasks/*.yml", "roles/*/vars/*.yml", "playbooks/*.yml"):
        for path in sorted(glob.glob(os.path.join(REPO, pattern))):
            yield os.path.relpath(path, REPO), yaml.safe_load(open(path, encoding="utf-8"))


def collection_filters():
    found = []
    for where, tree in list(module_examples()) + list(yaml_files()):
        filters_in(tree, where, found)
    return found


FILTERS = collection_filters()


def test_the_filters_the_collection_shows_are_found():
    places = set(where for where, _text in FILTERS)
    assert {"plugins/modules/case_info.py EXAMPLES", "plugins/modules/case_activity_info.py EXAMPLES", "plugins/modules/case_aggregate_info.py EXAMPLES",
            "playbooks/demo.yml"} <= places, places


@pytest.mark.parametrize("colon_mode", fql.COLON_MODES)
@pytest.mark.parametrize("where, text", FILTERS)
def test_every_filter_is_accepted(where, text, colon_mode):
    fields = falcon.ACTIVITY_FILTER_FIELDS if "activity_info" in where else falcon.CASE_FILTER_FIELDS
    timestamps = falcon.ACTIVITY_TIMESTAMPS if "activity_info" in where else falcon.CASE_TIMESTAMPS
    try:
        fql.compile_filter(text, fields, timestamps, ("_all",), colon_mode=colon_mode)
    except fql.FQLError as exc:
        pytest.fail("%s: %r is refused: %s" % (where, text, exc.message))


def test_no_role_writes_an_fql_filter():
    # The escalation role has the case module compare detections (match_detections) instead of writing an FQL filter
    # of their IDs, so no input of a role reaches a filter unquoted.
    assert [where for where, _text in FILTERS if where.startswith("roles/")] == []


def test_the_check_would_catch_the_old_case_info_example():
    with pytest.raises(fql.FQLError):
        fql.compile_filter("case.title:*'phishing'*", falcon.CASE_FILTER_FIELDS)
