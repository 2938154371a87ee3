# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX / EDA credential types are valid for the controller and inject what the collection reads.

Checked against the code, not a copy of it: the env var names, which options are secrets, the Falcon
clouds and the Unit21 hosts come from plugins/module_utils and the event source. The end-to-end half
(the injected environment drives real modules against the sandbox) is tests/e2e/test_awx_credentials.py.
"""

import importlib.util
import os
import re
import sys

import jinja2
import jsonschema
import pytest
from jinja2 import meta

from credential_types import REPO, check_templates, definition_paths, load, render_env

# The collection's Python code, imported the way Ansible does (ansible_collections.caseops.desk...).
COLLECTIONS_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(REPO)))
if os.path.basename(os.path.dirname(os.path.dirname(REPO))) != "ansible_collections":
    raise RuntimeError("run through tools/run_tests.py selftests, which stages the tree as ansible_collections/caseops/desk")
sys.path.insert(0, COLLECTIONS_ROOT)

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402
from ansible_collections.caseops.desk.plugins.module_utils import args, cloudforce_one, falcon, unit21  # noqa: E402
from ansible_collections.caseops.desk.plugins.module_utils.errors import CaseopsError  # noqa: E402

EVENT_SOURCE = os.path.join(REPO, "extensions", "eda", "plugins", "event_source", "unit21_webhook.py")
VENDOR_OF = {"falcon": "falcon", "cloudforce_one": "cloudforce_one", "unit21": "unit21"}
NAME_PATTERN = "^[a-zA-Z_]+[a-zA-Z0-9_]*$"

# What AWX (awx/main/fields.py) and the EDA controller accept for a custom type's inputs and injectors.
FIELD_SCHEMA = {
    "type": "object",
    "required": ["id", "label"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": NAME_PATTERN},
        "label": {"type": "string", "minLength": 1},
        "help_text": {"type": "string"},
        "type": {"enum": ["string", "boolean"]},
        "format": {"enum": ["ssh_private_key", "url"]},
        "choices": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
        "multiline": {"type": "boolean"},
        "secret": {"type": "boolean"},
        "ask_at_runtime": {"type": "boolean"},
        "default": {},
    },
}
DEFINITION_SCHEMA = {
    "type": "object",
    "required": ["name", "description", "inputs", "injectors"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 512},
        "description": {"type": "string"},
        "kind": {"enum": ["cloud", "net"]},
        "inputs": {
            "type": "object",
            "additionalProperties": False,
            "required": ["fields"],
            "properties": {
                "fields": {"type": "array", "minItems": 1, "items": FIELD_SCHEMA},
                "required": {"type": "array", "items": {"type": "string"}},
            },
        },
        "injectors": {
            "type": "object",
            "additionalProperties": False,
            "required": ["env"],
            "properties": {
                # Values: ASCII only (AWX hands them to pexpect).
                "env": {"type": "object", "additionalProperties": False,
                        "patternProperties": {NAME_PATTERN: {"type": "string", "pattern": "^[\\x00-\\x7F]*$"}}},
            },
        },
    },
}
# Names a controller refuses in an env injector (besides the ANSIBLE_ prefix).
RESERVED_ENV = {"PATH", "PYTHONPATH", "VIRTUAL_ENV", "HOME", "JOB_ID", "INVENTORY_ID", "PROJECT_REVISION",
                "REST_API_URL", "REST_API_TOKEN", "AWX_HOST", "CALLBACK_QUEUE", "CALLBACK_CONNECTION"}

DEFINITIONS = definition_paths()
IDS = ["%s/%s" % (c, os.path.splitext(os.path.basename(p))[0]) for c, p in DEFINITIONS]


def load_path(controller, path):
    return load(os.path.splitext(os.path.basename(path))[0], controller)


def fields(definition):
    return dict((field["id"], field) for field in definition["inputs"]["fields"])


def injected_fields(template):
    return meta.find_undeclared_variables(jinja2.Environment().parse(template))


def module_env_vars():
    """Env var name -> (option name, option spec) for every environment fallback of the connection options."""
    found = {}
    for group in (args.COMMON_OPTIONS, args.FALCON_OPTIONS, args.CLOUDFLARE_OPTIONS, args.UNIT21_OPTIONS):
        for name, option in group.items():
            for env_name in option.get("fallback", (None, []))[1]:
                found[env_name] = (name, option)
    return found


def test_all_four_definitions_ship():
    assert sorted(IDS) == ["awx/cloudforce_one", "awx/falcon", "awx/unit21", "eda/unit21_webhook"]


@pytest.mark.parametrize("controller,path", DEFINITIONS, ids=IDS)
def test_definition_follows_the_controller_schema(controller, path):
    definition = load_path(controller, path)
    jsonschema.validate(definition, DEFINITION_SCHEMA)
    # Job templates take custom types of kind cloud; the EDA controller has no kind.
    assert definition.get("kind") == ("cloud" if controller == "awx" else None)
    ids = [field["id"] for field in definition["inputs"]["fields"]]
    assert len(ids) == len(set(ids)), "field ids must be unique"
    assert not set(ids) & {"tower", "eda"}, "reserved namespace used as a field id"
    labels = [field["label"] for field in definition["inputs"]["fields"]]
    assert len(labels) == len(set(labels)), "labels must be unique"
    for field in definition["inputs"]["fields"]:
        if field.get("type", "string") != "string":
            assert not set(field) & {"choices", "multiline", "format", "secret"}, field["id"]
        if "default" in field:
            assert isinstance(field["default"], {"string": str, "boolean": bool}[field.get("type", "string")])
        if "choices" in field and "default" in field:
            assert field["default"] in field["choices"]
    assert set(definition["inputs"].get("required", [])) <= set(ids)
    for env_name in definition["injectors"]["env"]:
        assert not env_name.startswith("ANSIBLE_") and env_name not in RESERVED_ENV, env_name
    check_templates(definition)


@pytest.mark.parametrize("controller,path", DEFINITIONS, ids=IDS)
def test_each_env_var_takes_one_field_and_every_field_is_injected(controller, path):
    definition = load_path(controller, path)
    used = []
    for env_name, template in definition["injectors"]["env"].items():
        names = injected_fields(template)
        assert len(names) == 1, "%s should carry exactly one field, got %s" % (env_name, sorted(names))
        # Nothing but the value: a prefix or suffix would turn an empty field into a non-empty garbage value.
        assert re.match(r"^\{\{ *%s *\}\}$" % list(names)[0], template), template
        used.extend(names)
    assert sorted(used) == sorted(fields(definition)), "a field that is never injected, or injected twice"


@pytest.mark.parametrize("name", ["falcon", "cloudforce_one", "unit21"])
def test_awx_types_inject_exactly_the_vendor_env_vars_the_modules_read(name):
    definition = load(name)
    known = module_env_vars()
    vendor_options = args.VENDOR_OPTIONS[VENDOR_OF[name]]
    # The first name of each fallback is the documented one (CLOUDFLARE_TOKEN is an alias).
    expected = set(option["fallback"][1][0] for option in vendor_options.values() if "fallback" in option)
    assert set(definition["injectors"]["env"]) == expected
    for env_name, template in definition["injectors"]["env"].items():
        option_name, option = known[env_name]
        field = fields(definition)[list(injected_fields(template))[0]]
        assert bool(field.get("secret")) == bool(option.get("no_log")), \
            "%s feeds %s: secret must match the option's no_log" % (field["id"], option_name)
        if option.get("choices"):
            assert field.get("choices") == option["choices"]


def test_falcon_cloud_choices_are_the_module_clouds():
    cloud = fields(load("falcon"))["cloud"]
    assert cloud["choices"] == args.FALCON_CLOUDS == list(falcon.CLOUD_BASE_URLS)


def test_unit21_environment_help_names_every_documented_host():
    help_text = fields(load("unit21"))["base_url"]["help_text"]
    for host in unit21.DOCUMENTED_HOSTS:
        assert host in help_text


def test_eda_type_injects_the_variable_the_event_source_reads():
    spec = importlib.util.spec_from_file_location("caseops_unit21_webhook_ct", EVENT_SOURCE)
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    definition = load("unit21_webhook", "eda")
    assert list(definition["injectors"]["env"]) == [plugin.SECRET_ENV_VAR]
    assert fields(definition)["webhook_secret"]["secret"] is True
    env = render_env(definition, {"webhook_secret": "s3cr3t-from-eda"})
    assert plugin.load_config({}, environ=env)["secret"] == "s3cr3t-from-eda"


def validated(vendor, env, monkeypatch):
    """The module parameters an AnsibleModule would build from this environment (fallbacks and choices applied)."""
    for name in module_env_vars():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(args.connection_argument_spec(vendor)).validate({})
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


CLIENTS = {"falcon": falcon.client_from_params, "cloudforce_one": cloudforce_one.client_from_params,
           "unit21": unit21.client_from_params}
# Only the required fields, the way most credentials are filled in: every optional field injects "".
MINIMAL = {
    "falcon": {"client_id": "a" * 32, "client_secret": "b" * 40},
    "cloudforce_one": {"account_id": "c" * 32, "api_token": "t" * 40},
    "unit21": {"api_key": "k" * 32, "base_url": "https://sandbox1-api.unit21.com"},
}
EMPTY_WHEN_MINIMAL = {
    "falcon": ["FALCON_BASE_URL", "FALCON_CLOUD", "FALCON_MEMBER_CID"],
    "cloudforce_one": ["CLOUDFLARE_API_KEY", "CLOUDFLARE_BASE_URL", "CLOUDFLARE_EMAIL"],
    "unit21": [],
}


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_empty_optional_fields_count_as_unset(name, monkeypatch):
    definition = load(name)
    env = render_env(definition, MINIMAL[name])
    empty = sorted(k for k, v in env.items() if v == "")
    assert empty == EMPTY_WHEN_MINIMAL[name]
    params = validated(VENDOR_OF[name], env, monkeypatch)
    for env_name in empty:
        assert params[module_env_vars()[env_name][0]] is None, env_name
    client = CLIENTS[name](params)  # raises CaseopsError on a configuration the modules refuse
    assert client is not None


def test_falcon_credential_options_reach_the_client(monkeypatch):
    env = render_env(load("falcon"), dict(MINIMAL["falcon"], cloud="eu-1", member_cid="d" * 32))
    params = validated("falcon", env, monkeypatch)
    client = falcon.client_from_params(params)
    assert client.transport.base_url == falcon.CLOUD_BASE_URLS["eu-1"]
    assert client.member_cid == "d" * 32
    env = render_env(load("falcon"), dict(MINIMAL["falcon"], cloud="us-2", base_url="https://falcon-proxy.example/"))
    assert falcon.client_from_params(validated("falcon", env, monkeypatch)).transport.base_url == "https://falcon-proxy.example"


def test_cloudflare_global_api_key_alternative(monkeypatch):
    definition = load("cloudforce_one")
    env = render_env(definition, {"account_id": "c" * 32, "email": "soc@example.com", "api_key": "g" * 37})
    assert env["CLOUDFLARE_API_TOKEN"] == ""
    client = cloudforce_one.client_from_params(validated("cloudforce_one", env, monkeypatch))
    assert client.auth_headers == {"X-Auth-Email": "soc@example.com", "X-Auth-Key": "g" * 37}
    # Only the account: the module explains what to fill in instead of sending an unauthenticated request.
    env = render_env(definition, {"account_id": "c" * 32})
    with pytest.raises(CaseopsError, match="credentials are missing"):
        cloudforce_one.client_from_params(validated("cloudforce_one", env, monkeypatch))
