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
