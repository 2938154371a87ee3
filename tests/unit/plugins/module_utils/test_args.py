# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options: environment fallbacks and the doc fragments that describe them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
import yaml

from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible_collections.caseops.desk.plugins.doc_fragments import cloudforce_one, connection, falcon as falcon_doc, unit21
from ansible_collections.caseops.desk.plugins.module_utils import args
from ansible_collections.caseops.desk.plugins.module_utils.errors import ConfigurationError, InvalidInputError

FRAGMENTS = {
    "common": (connection, args.COMMON_OPTIONS),
    "falcon": (falcon_doc, args.FALCON_OPTIONS),
    "cloudforce_one": (cloudforce_one, args.CLOUDFLARE_OPTIONS),
    "unit21": (unit21, args.UNIT21_OPTIONS),
}


def test_empty_environment_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("FALCON_CLIENT_ID", "")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "   ")
    monkeypatch.setenv("CLOUDFLARE_TOKEN", "from-second-name")
    with pytest.raises(AnsibleFallbackNotFound):
        args.nonempty_env_fallback("FALCON_CLIENT_ID")
    assert args.nonempty_env_fallback("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_TOKEN") == "from-second-name"


@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_doc_fragment_names_exactly_the_environment_variables_of_each_option(name):
    module, options = FRAGMENTS[name]
    documented = yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION)["options"]
    assert sorted(documented) == sorted(options)
    for option, spec in options.items():
        text = " ".join(documented[option]["description"])
        mentioned = re.findall(r"If not set, the environment variables? (.*?)(?:\.\s|\.$)", text)
        in_docs = set(re.findall(r"E\(([A-Z0-9_]+)\)", mentioned[0])) if mentioned else set()
        in_code = set(spec["fallback"][1]) if "fallback" in spec else set()
        assert in_docs == in_code, option


def test_secrets_are_no_log():
    spec = args.connection_argument_spec("falcon", "cloudforce_one", "unit21")
    for name in ("falcon_client_secret", "cloudflare_api_token", "cloudflare_api_key", "unit21_api_key"):
        assert spec[name]["no_log"] is True
    assert spec["falcon_auth"]["options"]["access_token"]["no_log"] is True


def test_common_options_always_vendor_options_on_request():
    assert set(args.connection_argument_spec()) == set(args.COMMON_OPTIONS)
    assert set(args.connection_argument_spec("unit21")) == set(args.COMMON_OPTIONS) | set(args.UNIT21_OPTIONS)


def test_option_names_never_collide_between_vendors():
    names = [n for group in (args.COMMON_OPTIONS, args.FALCON_OPTIONS, args.CLOUDFLARE_OPTIONS, args.UNIT21_OPTIONS) for n in group]
    assert len(names) == len(set(names))


def test_param_treats_blank_strings_as_unset(monkeypatch):
    monkeypatch.delenv("FALCON_CLIENT_ID", raising=False)
    assert args.param({"falcon_client_id": ""}, "falcon_client_id") is None
    monkeypatch.setenv("FALCON_CLIENT_ID", "from-env")
    assert args.param({"falcon_client_id": " "}, "falcon_client_id") == "from-env"
    assert args.param({"falcon_client_id": "given"}, "falcon_client_id") == "given"
    assert args.param({"a": ""}, "a") is None
    assert args.param({"a": " \t"}, "a") is None
    assert args.param({"a": "x"}, "a") == "x"
    assert args.param({}, "a") is None


@pytest.mark.parametrize("params, message", [
    ({"timeout": 0}, "timeout must be a positive"),
    ({"max_retries": -1}, "max_retries must be 0 or more"),
    ({"retry_max_time": -5}, "retry_max_time must be 0 or more"),
])
def test_transport_options_reject_nonsense(params, message):
    with pytest.raises(ConfigurationError) as caught:
        args.transport_options(params)
    assert message in caught.value.msg


def test_transport_options_map_retries_to_attempts():
    options = args.transport_options({"max_retries": 2, "retry_max_time": 9.5, "validate_certs": False, "ca_path": ""})
    assert options["retry"].max_attempts == 3
    assert options["retry"].max_total_seconds == 9.5
    assert options["validate_certs"] is False
    assert options["ca_path"] is None


def test_options_of_another_provider_are_refused_by_name():
    owners = {"type": ["falcon"], "status": ["unit21"], "title": ["falcon", "unit21"]}
    args.check_provider_options({"type": None, "status": "OPEN", "title": "x"}, "unit21", owners)
    with pytest.raises(InvalidInputError) as err:
        args.check_provider_options({"type": "fc:contact", "status": "OPEN", "title": "x"}, "unit21", owners)
    assert str(err.value) == "type does not apply to provider unit21: type is for falcon."


def test_an_option_left_at_its_default_counts_as_not_given():
    owners = {"match_status": ["falcon"]}
    args.check_provider_options({"match_status": "any"}, "unit21", owners, defaults={"match_status": "any"})
    with pytest.raises(InvalidInputError, match="match_status does not apply"):
        args.check_provider_options({"match_status": "open"}, "unit21", owners, defaults={"match_status": "any"})


# -- credential hygiene -----------------------------------------------------------------------------------------
# Every option whose value goes into a header, a form field or a URL, with a valid value and its environment variables.
CONNECTION_VALUES = {
    "falcon_client_id": "0123456789abcdef0123456789abcdef",
    "falcon_client_secret": "FalconSecret0123456789abcdefABCDEF",
    "falcon_member_cid": "fedcba9876543210fedcba9876543210",
    "cloudflare_api_token": "CloudflareToken_0123456789abcdef",
    "cloudflare_email": "analyst@example.com",
    "cloudflare_api_key": "0123456789abcdef0123456789abcdef01234",
    "cloudflare_account_id": "023e105f4ecef8ad9ca31a8372d0c353",
    "unit21_api_key": "Unit21Key0123456789abcdef",
    "falcon_base_url": "https://api.us-2.crowdstrike.com",
    "cloudflare_base_url": "https://api.cloudflare.com/client/v4",
    "unit21_base_url": "https://sandbox1-api.unit21.com",
}
SURROUNDINGS = ["%s\n", "%s\r\n", "%s\r", "   %s", "\t%s\t", " \t%s \n"]
INSIDE = [("\n", "a line feed"), ("\r", "a carriage return"), ("\t", "a tab"), ("\x00", "a NUL byte"),
          ("\x7f", "U+007F"), ("\x1b", "U+001B"), ("\u2028", "U+2028")]


def test_every_credential_and_url_option_is_checked():
    assert set(CONNECTION_VALUES) | {"falcon_auth.access_token", "falcon_auth.base_url"} == \
        set(args.CREDENTIAL_OPTIONS) | set(args.URL_OPTIONS)
    for name in CONNECTION_VALUES:
        assert args._ENV_FALLBACKS[name], name


@pytest.mark.parametrize("name", sorted(CONNECTION_VALUES))
@pytest.mark.parametrize("surrounding", SURROUNDINGS)
def test_surrounding_whitespace_is_stripped_from_the_option(name, surrounding):
    assert args.param({name: surrounding % CONNECTION_VALUES[name]}, name) == CONNECTION_VALUES[name]


@pytest.mark.parametrize("name", sorted(CONNECTION_VALUES))
@pytest.mark.parametrize("surrounding", SURROUNDINGS)
def test_surrounding_whitespace_is_stripped_from_the_environment_variable(name, surrounding, monkeypatch):
    for variable in args._ENV_FALLBACKS[name]:
        monkeypatch.delenv(variable, raising=False)
    variable = args._ENV_FALLBACKS[name][-1]
    monkeypatch.setenv(variable, surrounding % CONNECTION_VALUES[name])
    # Left blank in the task: the environment applies.
    assert args.param({name: ""}, name) == CONNECTION_VALUES[name]
    # Not given at all: AnsibleModule put the environment's value in params as it was.
    assert args.param({name: args.nonempty_env_fallback(*args._ENV_FALLBACKS[name])}, name) == CONNECTION_VALUES[name]


@pytest.mark.parametrize("name", sorted(CONNECTION_VALUES))
@pytest.mark.parametrize("char, described", INSIDE)
def test_a_control_character_inside_is_refused_naming_the_option_and_variable_never_the_value(name, char, described):
    value = CONNECTION_VALUES[name]
    dirty = "  " + value[:10] + char + value[10:] + "\n"
    with pytest.raises(InvalidInputError) as caught:
        args.param({name: dirty}, name)
    message = caught.value.msg
    assert name in message and described in message
    for variable in args._ENV_FALLBACKS[name]:
        assert variable in message
    assert value[:6] not in message and value[-6:] not in message
    assert str(len(value)) not in message  # not even the length


@pytest.mark.parametrize("char, described", INSIDE[:3])
def test_a_control_character_from_the_environment_is_refused_too(char, described, monkeypatch):
    monkeypatch.setenv("UNIT21_API_KEY", "Unit21Key" + char + "0123456789\n")
    with pytest.raises(InvalidInputError) as caught:
        args.param({"unit21_api_key": ""}, "unit21_api_key")
    assert "unit21_api_key (or the environment variable UNIT21_API_KEY)" in caught.value.msg
    assert described in caught.value.msg
    assert "Unit21Key" not in caught.value.msg


def test_falcon_auth_fields_are_cleaned_under_their_full_name():
    auth = {"access_token": "  token-value-0123\n", "base_url": "https://api.eu-1.crowdstrike.com/\n"}
    assert args.param(auth, "access_token", within="falcon_auth") == "token-value-0123"
    assert args.param(auth, "base_url", within="falcon_auth") == "https://api.eu-1.crowdstrike.com/"
    with pytest.raises(InvalidInputError) as caught:
        args.param({"access_token": "token\nvalue"}, "access_token", within="falcon_auth")
    assert "falcon_auth.access_token contains a line feed" in caught.value.msg
    assert "token" not in caught.value.msg.replace("access_token", "")


def test_other_options_are_left_as_given():
    assert args.param({"ca_path": " /etc/ca.pem "}, "ca_path") == " /etc/ca.pem "
    assert args.param({"title": "two\nlines"}, "title") == "two\nlines"


@pytest.mark.parametrize("params, option", [
    ({"title": "a\x00b"}, "title"),
    ({"tags": ["ok", "b\x00d"]}, "tags[1]"),
    ({"custom_data": {"outer": {"in\x00ner": 1}}}, "custom_data.outer.in\\0ner"),
    ({"custom_data": {"outer": [{"k": "v\x00"}]}}, "custom_data.outer[0].k"),
    ({"falcon_client_id": "id\x00"}, "falcon_client_id (or the environment variable FALCON_CLIENT_ID)"),
])
def test_a_nul_byte_anywhere_is_refused_naming_the_option(params, option):
    params = dict(params, other="fine", number=3)
    with pytest.raises(InvalidInputError) as caught:
        args.refuse_nul(params)
    assert caught.value.msg.startswith(option + " contains a NUL byte")


def test_no_nul_no_error():
    args.refuse_nul({"title": "fine", "tags": ["a"], "custom_data": {"k": [1, None, "x"]}, "n": None})


def test_secret_variants_are_the_stripped_no_log_values():
    params = {"falcon_client_secret": " secret-1\n", "unit21_api_key": "\tkey-2", "falcon_client_id": " not-secret\n",
              "cloudflare_api_token": "   ", "falcon_auth": {"access_token": "tok-3\r\n", "base_url": None}}
    assert sorted(args.secret_variants(params)) == ["key-2", "secret-1", "tok-3"]
