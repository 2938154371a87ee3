# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipped AWX / EDA credential type definitions, and a replay of what the controllers do with them.

Shared by the static checks (selftests stage) and the end-to-end runs (e2e stage).

The replay is our own code, written from these facts of the controllers' sources (read, not copied):

AWX (github.com/ansible/awx):
- awx/main/fields.py, CredentialTypeInputField.schema/validate: a field takes only id, label, type
  (string|boolean), format, choices (non-empty, unique strings), help_text, multiline, secret, ask_at_runtime
  (``default`` and the ``url`` format came later); ids match ^[a-zA-Z_]+[a-zA-Z0-9_]*$, are unique and not
  "tower"; choices/multiline/format/secret only on string fields.
- awx/main/fields.py, CredentialTypeInjectorField: injector kinds env, extra_vars, file; env and extra_vars keys
  match the same name pattern; every template renders with StrictUndefined over the declared fields (each
  "EXAMPLE") plus the ``tower`` namespace.
- awx/main/fields.py, CredentialInputField.validate: every submitted input that is empty (falsy) is replaced by
  CredentialType.default_for_field (awx/main/models/credential.py): the first choice for a choice field, else ""
  (False for booleans). Then JSON Schema draft 4 over the inputs, choices as ``enum`` and with a format checker
  (format_url: a scheme and a host are required, so "" fails); a required field whose value is falsy is refused.
- awx/main/models/credential.py, CredentialType.inject_credential: the template namespace holds only non-empty
  stored inputs (missing booleans are False); env and extra_vars templates render in Jinja's
  ImmutableSandboxedEnvironment with the default Undefined, so an absent field renders as "".

eda-server (github.com/ansible/eda-server), src/aap_eda/core/utils/credentials.py:
- SUPPORTED_KEYS_IN_INJECTORS: ["extra_vars"] in early releases, {"env", "extra_vars", "file"} later;
  validate_injectors wants at least one supported kind and renders each template (NativeTemplate,
  StrictUndefined) over _default_context (the first choice, else the default, else "" / True for booleans).
- validate_schema: ids are \\w+ and must not start with "EDA_" (any case); type string or boolean.
- validate_inputs: a required field must not be blank; choices and formats are checked only on a non-empty value.
- RESERVED_EXTRA_VAR_KEYS (later releases): "ansible" and "eda" cannot be injected as extra vars.
"""

import glob
import os
import re
import urllib.parse

import jsonschema
import yaml
from jinja2 import StrictUndefined
from jinja2.nativetypes import NativeEnvironment
from jinja2.sandbox import ImmutableSandboxedEnvironment

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX_DIR = os.path.join(REPO, "extensions", "awx", "credential_types")
EDA_DIR = os.path.join(REPO, "extensions", "eda", "credential_types")

NAME_PATTERN = "^[a-zA-Z_]+[a-zA-Z0-9_]*$"
# The field keys the first controllers with custom credential types accept (see the module docstring).
OLDEST_AWX_FIELD_KEYS = {"id", "label", "type", "format", "choices", "help_text", "multiline", "secret",
                         "ask_at_runtime"}
OLDEST_AWX_FORMATS = {"ssh_private_key"}
AWX_INJECTOR_KINDS = {"env", "extra_vars", "file"}
EDA_INJECTOR_KINDS = {"early": {"extra_vars"}, "current": {"env", "extra_vars", "file"}}
EDA_RESERVED_EXTRA_VARS = {"ansible", "eda"}


class Refused(Exception):
    """The controller would refuse this credential type or credential; the message says why."""


def definition_paths():
    """(controller, path) for every shipped definition: 'awx' (job templates) or 'eda' (rulebook activations)."""
    return ([("awx", p) for p in sorted(glob.glob(os.path.join(AWX_DIR, "*.yml")))]
            + [("eda", p) for p in sorted(glob.glob(os.path.join(EDA_DIR, "*.yml")))])


def load(name, controller="awx"):
    directory = AWX_DIR if controller == "awx" else EDA_DIR
    with open(os.path.join(directory, name + ".yml")) as handle:
        return yaml.safe_load(handle)


def fields_of(definition):
    return definition["inputs"].get("fields", [])


# -- AWX ------------------------------------------------------------------------------------------------
def awx_check_type(definition, oldest=True):
    """Refused unless AWX accepts the type; ``oldest`` holds it to the keys of the first versions."""
    seen = set()
    for field in fields_of(definition):
        keys = set(field)
        if not {"id", "label"} <= keys:
            raise Refused("a field needs id and label: %s" % field)
        allowed = OLDEST_AWX_FIELD_KEYS if oldest else OLDEST_AWX_FIELD_KEYS | {"default"}
        if keys - allowed:
            raise Refused("%s: keys %s" % (field["id"], sorted(keys - allowed)))
        if not re.match(NAME_PATTERN, field["id"]):
            raise Refused("%s is an invalid variable name" % field["id"])
        if field["id"] == "tower" or field["id"] in seen:
            raise Refused("reserved or duplicate field id %s" % field["id"])
        seen.add(field["id"])
        kind = field.get("type", "string")
        if kind not in ("string", "boolean"):
            raise Refused("%s: type %s" % (field["id"], kind))
        if kind != "string" and keys & {"choices", "multiline", "format", "secret"}:
            raise Refused("%s: string-only keys on a %s field" % (field["id"], kind))
        if "format" in field and field["format"] not in (OLDEST_AWX_FORMATS if oldest else {"ssh_private_key", "url"}):
            raise Refused("%s: format %s" % (field["id"], field["format"]))
        if "choices" in field:
            choices = field["choices"]
            if not choices or len(set(choices)) != len(choices) or not all(isinstance(c, str) for c in choices):
                raise Refused("%s: choices must be non-empty unique strings" % field["id"])
    for name in definition["inputs"].get("required", []):
        if name not in seen:
            raise Refused("required field %s is not defined" % name)
    injectors = definition.get("injectors", {})
    if set(injectors) - AWX_INJECTOR_KINDS:
        raise Refused("injector kinds %s" % sorted(set(injectors) - AWX_INJECTOR_KINDS))
    namespace = dict((field["id"], "EXAMPLE") for field in fields_of(definition))
    namespace["tower"] = type("TowerNamespace", (), {"filename": None})()
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind in ("env", "extra_vars"):
        for name, template in injectors.get(kind, {}).items():
            if not re.match(NAME_PATTERN, name):
                raise Refused("%s is not a valid %s name" % (name, kind))
            try:
                env.from_string(template).render(**namespace)
            except Exception as exc:  # UndefinedError, TemplateSyntaxError, SecurityError
                raise Refused("%s uses an undefined field (%s)" % (name, exc))


def awx_default_for_field(definition, field_id):
    for field in fields_of(definition):
        if field["id"] == field_id:
            if "choices" in field:
                return field["choices"][0]
            return {"string": "", "boolean": False}[field.get("type", "string")]
    return None


def _awx_format_checker():
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("url")
    def url(value):  # pylint: disable=unused-variable
        parsed = urllib.parse.urlparse(value)
        if not parsed.scheme or not parsed.netloc:
            raise jsonschema.exceptions.FormatError("Invalid URL: %r" % value)
        return True

    @checker.checks("ssh_private_key")
    def ssh_private_key(value):  # pylint: disable=unused-variable
        return True  # not used by our types

    return checker


def awx_save_credential(definition, submitted):
    """The inputs AWX stores for a credential created with ``submitted``, or Refused with the field errors."""
    stored = dict(submitted)
    for name in [key for key, value in stored.items() if not value]:
        default = awx_default_for_field(definition, name)
        if default is not None:
            stored[name] = default
    properties = {}
    for field in fields_of(definition):
        prop = dict(field)
        if field.get("choices"):
            prop["enum"] = list(field["choices"])
        properties[field["id"]] = prop
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    errors = {}
    for error in jsonschema.Draft4Validator(schema, format_checker=_awx_format_checker()).iter_errors(stored):
        errors[error.schema.get("id", "inputs")] = error.message
    for name in definition["inputs"].get("required", []):
        if not stored.get(name):
            errors[name] = "required for %s" % definition["name"]
    if errors:
        raise Refused(errors)
    return stored


def awx_inject(definition, stored):
    """(env, extra_vars) a job gets from a credential whose stored inputs are ``stored``."""
    namespace = {}
    for name, value in stored.items():
        if isinstance(value, bool) or len(value):
            namespace[name] = value
    for field in fields_of(definition):
        if field.get("type") == "boolean" and field["id"] not in stored:
            namespace[field["id"]] = False
    env = ImmutableSandboxedEnvironment()
    injectors = definition.get("injectors", {})
    return (dict((k, env.from_string(t).render(**namespace)) for k, t in injectors.get("env", {}).items()),
            dict((k, env.from_string(t).render(**namespace)) for k, t in injectors.get("extra_vars", {}).items()))


def render_env(definition, inputs):
    """The environment a job gets from a credential created with these inputs (saved, then injected)."""
    return awx_inject(definition, awx_save_credential(definition, inputs))[0]


# -- eda-server --------------------------------------------------------------------------------------------
def eda_check_type(definition, release):
    """Refused unless an EDA controller of ``release`` ('early' or 'current') accepts the type."""
    supported = EDA_INJECTOR_KINDS[release]
    ids = [field.get("id") for field in fields_of(definition)]
    if not ids or len(ids) != len(set(ids)):
        raise Refused("fields must exist and be unique")
    context = {}
    for field in fields_of(definition):
        if field["id"].upper().startswith("EDA_") or not re.match(r"^\w+$", field["id"]):
            raise Refused("%s: invalid id" % field["id"])
        if field.get("type", "string") not in ("string", "boolean"):
            raise Refused("%s: type" % field["id"])
        context[field["id"]] = True if field.get("type") == "boolean" else ""
        if field.get("default"):
            context[field["id"]] = field["default"]
        if field.get("choices"):
            context[field["id"]] = field["choices"][0]
    injectors = definition.get("injectors", {})
    # Stricter than validate_injectors, which only wants one supported kind: an unsupported kind would be
    # stored but never injected, so the activation would silently miss the secret.
    if not injectors or set(injectors) - supported:
        raise Refused("injectors must use only %s, got %s" % (sorted(supported), sorted(injectors)))
    env = NativeEnvironment(undefined=StrictUndefined)
    for kind in injectors:
        for name, template in injectors[kind].items():
            if kind == "extra_vars" and name in EDA_RESERVED_EXTRA_VARS:
                raise Refused("extra var %s is reserved" % name)
            try:
                result = env.from_string(template).render(**context)
            except Exception as exc:
                raise Refused("%s refers to an undefined key (%s)" % (name, exc))
            # A template that is only one undefined name renders natively to the Undefined object itself.
            if isinstance(result, StrictUndefined):
                raise Refused("%s refers to an undefined key (%s)" % (name, template))


def eda_save_credential(definition, submitted):
    errors = {}
    for field in fields_of(definition):
        value = submitted.get(field["id"])
        if field["id"] in definition["inputs"].get("required", []) and (value is None or not str(value).strip()):
            errors[field["id"]] = "Cannot be blank"
        elif value and field.get("choices") and value not in field["choices"]:
            errors[field["id"]] = "Must be one of the choices"
    if errors:
        raise Refused(errors)
    return dict(submitted)


def eda_extra_vars(definition, stored):
    env = ImmutableSandboxedEnvironment()
    return dict((k, env.from_string(t).render(**stored))
                for k, t in definition.get("injectors", {}).get("extra_vars", {}).items())
