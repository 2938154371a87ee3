# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipped AWX / EDA credential type definitions, and how a controller turns a credential into env vars.

Shared by the static checks (selftests stage) and the end-to-end runs (e2e stage).
"""

import glob
import os

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX_DIR = os.path.join(REPO, "extensions", "awx", "credential_types")
EDA_DIR = os.path.join(REPO, "extensions", "eda", "credential_types")


def definition_paths():
    """(controller, path) for every shipped definition: 'awx' (job templates) or 'eda' (rulebook activations)."""
    return ([("awx", p) for p in sorted(glob.glob(os.path.join(AWX_DIR, "*.yml")))]
            + [("eda", p) for p in sorted(glob.glob(os.path.join(EDA_DIR, "*.yml")))])


def load(name, controller="awx"):
    directory = AWX_DIR if controller == "awx" else EDA_DIR
    with open(os.path.join(directory, name + ".yml")) as handle:
        return yaml.safe_load(handle)


def render_env(definition, inputs):
    """The environment a job gets from a credential with these inputs.

    As the controller does it: the templates see the credential's inputs (boolean fields
    default to False); a field left empty is not in the namespace and renders as "".
    """
    namespace = dict(inputs)
    for field in definition["inputs"].get("fields", []):
        if field.get("type") == "boolean" and field["id"] not in namespace:
            namespace[field["id"]] = False
    env = ImmutableSandboxedEnvironment()
    return dict((name, env.from_string(template).render(**namespace))
                for name, template in definition["injectors"].get("env", {}).items())


def check_templates(definition):
    """Render every injector template as the controller validates it on save: only declared fields exist."""
    namespace = dict((field["id"], "EXAMPLE") for field in definition["inputs"].get("fields", []))
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind in ("env", "extra_vars"):
        for name, template in definition["injectors"].get(kind, {}).items():
            env.from_string(template).render(**namespace)
