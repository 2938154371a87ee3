# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX / EDA credential types: accepted by the controllers, survive empty fields, inject what the code reads.

The controllers' validation and injection are replayed by credential_types.py (its docstring cites where in AWX
and eda-server each rule comes from), on every type, with filled, empty and omitted optional fields.

Checked against the code, not a copy of it: the env var names, which options are secrets, the Falcon
clouds and the Unit21 hosts come from plugins/module_utils and the event source. The end-to-end half
(the injected environment drives real modules against the sandbox) is tests/e2e/test_awx_credentials.py.
"""

import importlib.util
import os
import re
import sys

import jinja2
import pytest
import yaml
from jinja2 import meta

from credential_types import (REPO, Refused, awx_check_type, awx_inject, awx_save_credential, definition_paths,
                              eda_check_type, eda_extra_vars, eda_save_credential, load, render_env)

# The collection's Python code, imported the way Ansible does (ansible_collections.caseops.desk...).
COLLECTIONS_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(REPO)))
if os.path.basename(os.path.dirname(os.path.dirname(REPO))) != "ansible_collections":
    raise RuntimeError("run through tools/run_tests.py selftests, which stages the tree as ansible_collections/caseops/desk")
sys.path.insert(0, COLLECTIONS_ROOT)

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402
from ansible_collections.caseops.desk.plugins.module_utils import args, cloudforce_one, falcon, unit21  # noqa: E402
from ansible_collections.caseops.desk.plugins.module_utils.errors import CaseopsError  # noqa: E402

EVENT_SOURCE = os.path.join(REPO, "extensions", "eda", "plugins", "event_source", "unit21_webhook.py")
RULEBOOKS = os.path.join(REPO, "extensions", "eda", "rulebooks")
VENDOR_OF = {"falcon": "falcon", "cloudforce_one": "cloudforce_one", "unit21": "unit21"}
# Names a controller refuses in an env injector (besides the ANSIBLE_ prefix).
RESERVED_ENV = {"PATH", "PYTHONPATH", "VIRTUAL_ENV", "HOME", "JOB_ID", "INVENTORY_ID", "PROJECT_REVISION",
                "REST_API_URL", "REST_API_TOKEN", "AWX_HOST", "CALLBACK_QUEUE", "CALLBACK_CONNECTION"}
AUTODISCOVER = "autodiscover"

DEFINITIONS = definition_paths()
IDS = ["%s/%s" % (c, os.path.splitext(os.path.basename(p))[0]) for c, p in DEFINITIONS]
AWX_NAMES = ["cloudforce_one", "falcon", "unit21"]


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


# -- the replay catches what the controllers refuse --------------------------------------------------------
SYNTHETIC = {
    "name": "Synthetic",
    "kind": "cloud",
    "inputs": {"fields": [{"id": "key", "label": "Key", "type": "string", "secret": True},
                          {"id": "url", "label": "URL", "type": "string", "format": "url"},
                          {"id": "region", "label": "Region", "type": "string", "choices": ["a", "b"]}],
               "required": ["key"]},
    "injectors": {"env": {"S_KEY": "{{ key }}", "S_URL": "{{ url }}", "S_REGION": "{{ region }}"}},
}


def test_replay_refuses_an_empty_optional_url_field_and_stores_an_empty_choice_as_the_first():
    with pytest.raises(Refused, match="url"):
        awx_save_credential(SYNTHETIC, {"key": "k", "url": "", "region": ""})
    stored = awx_save_credential(SYNTHETIC, {"key": "k", "region": ""})
    assert stored["region"] == "a"
    assert awx_inject(SYNTHETIC, stored)[0] == {"S_KEY": "k", "S_URL": "", "S_REGION": "a"}
    with pytest.raises(Refused, match="required"):
        awx_save_credential(SYNTHETIC, {"key": ""})
    with pytest.raises(Refused, match="format"):
        awx_check_type(SYNTHETIC)  # `url` is not a format the oldest controllers know
    awx_check_type(SYNTHETIC, oldest=False)


def test_replay_refuses_env_injectors_on_early_eda_controllers():
    definition = {"name": "E", "inputs": {"fields": [{"id": "s", "label": "S", "type": "string", "secret": True}]},
                  "injectors": {"env": {"S": "{{ s }}"}}}
    with pytest.raises(Refused, match="extra_vars"):
        eda_check_type(definition, "early")
    eda_check_type(definition, "current")
    with pytest.raises(Refused, match="reserved"):
        eda_check_type({"name": "E", "inputs": definition["inputs"], "injectors": {"extra_vars": {"eda": "{{ s }}"}}},
                       "current")
    with pytest.raises(Refused, match="undefined"):
        eda_check_type({"name": "E", "inputs": definition["inputs"], "injectors": {"extra_vars": {"x": "{{ t }}"}}},
                       "early")


# -- every shipped type ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", AWX_NAMES)
def test_awx_type_imports_into_the_oldest_controllers(name):
    definition = load(name)
    awx_check_type(definition, oldest=True)
    assert definition["kind"] == "cloud"  # job templates take custom types of kind cloud
    assert set(definition["injectors"]) == {"env"}
    labels = [field["label"] for field in definition["inputs"]["fields"]]
    assert len(labels) == len(set(labels)), "labels must be unique"
    for env_name in definition["injectors"]["env"]:
        assert not env_name.startswith("ANSIBLE_") and env_name not in RESERVED_ENV, env_name
        assert re.match("^[\\x00-\\x7F]*$", definition["injectors"]["env"][env_name])  # AWX hands env to pexpect


@pytest.mark.parametrize("release", ["early", "current"])
def test_eda_type_imports_into_every_eda_controller(release):
    definition = load("unit21_webhook", "eda")
    eda_check_type(definition, release)
    assert "kind" not in definition  # the EDA controller has no kind


@pytest.mark.parametrize("controller,path", DEFINITIONS, ids=IDS)
def test_each_injected_value_carries_one_field_and_every_field_is_injected(controller, path):
    definition = load(os.path.splitext(os.path.basename(path))[0], controller)
    used = []
    for kind in ("env", "extra_vars"):
        for name, template in definition["injectors"].get(kind, {}).items():
            names = injected_fields(template)
            assert len(names) == 1, "%s should carry exactly one field, got %s" % (name, sorted(names))
            field = fields(definition)[list(names)[0]]
            env = jinja2.sandbox.ImmutableSandboxedEnvironment()
            # Nothing but the value: a prefix or suffix would turn an empty field into a non-empty garbage value.
            values = [v for v in field.get("choices", ["some-value"]) if v != AUTODISCOVER]
            for value in values:
                assert env.from_string(template).render(**{field["id"]: value}) == value
            assert env.from_string(template).render() == ""
            if AUTODISCOVER in field.get("choices", []):
                assert env.from_string(template).render(**{field["id"]: AUTODISCOVER}) == ""
            used.extend(names)
    assert sorted(used) == sorted(fields(definition)), "a field that is never injected, or injected twice"


@pytest.mark.parametrize("name", AWX_NAMES)
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
            assert [c for c in field.get("choices") if c != AUTODISCOVER] == option["choices"]


def test_falcon_cloud_choices_are_autodiscover_then_the_module_clouds():
    cloud = fields(load("falcon"))["cloud"]
    # First: a controller stores an empty choice field as its first choice.
    assert cloud["choices"] == [AUTODISCOVER] + args.FALCON_CLOUDS
    assert args.FALCON_CLOUDS == list(falcon.CLOUD_BASE_URLS)


def test_unit21_environment_help_names_every_documented_host():
    help_text = fields(load("unit21"))["base_url"]["help_text"]
    for host in unit21.DOCUMENTED_HOSTS:
        assert host in help_text


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
# Only the required fields, the way most credentials are filled in.
MINIMAL = {
    "falcon": {"client_id": "a" * 32, "client_secret": "b" * 40},
    "cloudforce_one": {"account_id": "c" * 32, "api_token": "t" * 40},
    "unit21": {"api_key": "k" * 32, "base_url": "https://sandbox1-api.unit21.com"},
}
# Every field, with values the modules accept.
FILLED = {
    "falcon": dict(MINIMAL["falcon"], cloud="eu-1", member_cid="d" * 32, base_url="https://falcon-proxy.example"),
    "cloudforce_one": dict(MINIMAL["cloudforce_one"], email="soc@example.com", api_key="g" * 37,
                           base_url="https://cf-proxy.example/client/v4"),
    "unit21": dict(MINIMAL["unit21"]),
}
EMPTY_WHEN_MINIMAL = {
    "falcon": ["FALCON_BASE_URL", "FALCON_CLOUD", "FALCON_MEMBER_CID"],
    "cloudforce_one": ["CLOUDFLARE_API_KEY", "CLOUDFLARE_BASE_URL", "CLOUDFLARE_EMAIL"],
    "unit21": [],
}


def submitted(name, how):
    """The inputs a client submits: only the required fields ('omitted'), every optional field as "" ('empty'),
    or every field filled ('filled')."""
    if how == "filled":
        return dict(FILLED[name])
    inputs = dict(MINIMAL[name])
    if how == "empty":
        for field_id in fields(load(name)):
            inputs.setdefault(field_id, "")
    return inputs


@pytest.mark.parametrize("how", ["omitted", "empty"])
@pytest.mark.parametrize("name", AWX_NAMES)
def test_empty_optional_fields_are_accepted_and_count_as_unset(name, how, monkeypatch):
    definition = load(name)
    stored = awx_save_credential(definition, submitted(name, how))  # Refused would fail the test
    env, extra_vars = awx_inject(definition, stored)
    assert extra_vars == {}
    empty = sorted(k for k, v in env.items() if v == "")
    assert empty == EMPTY_WHEN_MINIMAL[name]
    params = validated(VENDOR_OF[name], env, monkeypatch)
    for env_name in empty:
        assert params[module_env_vars()[env_name][0]] is None, env_name
    client = CLIENTS[name](params)  # raises CaseopsError on a configuration the modules refuse
    assert client is not None
    if name == "falcon":
        # An empty cloud must not become us-1: EU and us-2 tenants rely on autodiscovery.
        assert stored.get("cloud", AUTODISCOVER) == AUTODISCOVER
        assert client.autodiscover is True


@pytest.mark.parametrize("name", AWX_NAMES)
def test_filled_fields_are_accepted_and_injected_unchanged(name, monkeypatch):
    definition = load(name)
    inputs = submitted(name, "filled")
    env, _extra_vars = awx_inject(definition, awx_save_credential(definition, inputs))
    for env_name, template in definition["injectors"]["env"].items():
        assert env[env_name] == inputs[list(injected_fields(template))[0]], env_name
    assert CLIENTS[name](validated(VENDOR_OF[name], env, monkeypatch)) is not None


def test_every_falcon_cloud_choice_reaches_the_client(monkeypatch):
    definition = load("falcon")
    for cloud in fields(definition)["cloud"]["choices"]:
        env = render_env(definition, dict(MINIMAL["falcon"], cloud=cloud))
        client = falcon.client_from_params(validated("falcon", env, monkeypatch))
        if cloud == AUTODISCOVER:
            assert env["FALCON_CLOUD"] == "" and client.autodiscover is True
        else:
            assert client.transport.base_url == falcon.CLOUD_BASE_URLS[cloud] and client.autodiscover is False


@pytest.mark.parametrize("name", AWX_NAMES)
def test_a_missing_required_field_is_refused_by_the_controller(name):
    definition = load(name)
    for required in definition["inputs"]["required"]:
        with pytest.raises(Refused, match=required):
            awx_save_credential(definition, dict(MINIMAL[name], **{required: ""}))


# -- EDA: the secret travels as an extra variable into the rulebooks' source arguments -----------------------
def event_source():
    spec = importlib.util.spec_from_file_location("caseops_unit21_webhook_ct", EVENT_SOURCE)
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    return plugin


def webhook_sources():
    """(rulebook, source arguments) of every caseops.desk.unit21_webhook source in the shipped rulebooks."""
    found = []
    for path in sorted(os.listdir(RULEBOOKS)):
        with open(os.path.join(RULEBOOKS, path)) as handle:
            for ruleset in yaml.safe_load(handle):
                for source in ruleset["sources"]:
                    if "caseops.desk.unit21_webhook" in source:
                        found.append((path, source["caseops.desk.unit21_webhook"]))
    return found


def test_every_rulebook_passes_the_credential_extra_var_to_the_source():
    definition = load("unit21_webhook", "eda")
    [extra_var] = list(definition["injectors"]["extra_vars"])
    sources = webhook_sources()
    assert len(sources) == 3
    for path, arguments in sources:
        assert arguments.get("secret") == "{{ %s | default('') }}" % extra_var, path


def test_eda_credential_secret_reaches_the_event_source():
    plugin = event_source()
    definition = load("unit21_webhook", "eda")
    extra_vars = eda_extra_vars(definition, eda_save_credential(definition, {"webhook_secret": "s3cr3t-from-eda"}))
    env = jinja2.Environment()
    for path, arguments in webhook_sources():
        # As ansible-rulebook does: the source's arguments are templates over the variables (--vars / -e).
        rendered = dict((k, env.from_string(v).render(**extra_vars) if isinstance(v, str) else v)
                        for k, v in arguments.items() if k == "secret")
        assert plugin.load_config(rendered, environ={})["secret"] == "s3cr3t-from-eda", path
        # Outside a controller there is no extra var: the environment variable takes over.
        rendered = dict(secret=env.from_string(arguments["secret"]).render())
        assert plugin.load_config(rendered, environ={plugin.SECRET_ENV_VAR: "from-env"})["secret"] == "from-env"
        with pytest.raises(ValueError, match=plugin.SECRET_ENV_VAR):
            plugin.load_config(rendered, environ={})
    with pytest.raises(Refused, match="webhook_secret"):
        eda_save_credential(definition, {"webhook_secret": "  "})


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
