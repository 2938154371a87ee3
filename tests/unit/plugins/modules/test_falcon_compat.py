# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""crowdstrike.falcon users: its option names work as aliases, and its auth result works as falcon_auth.

crowdstrike.falcon (plugins/module_utils/common_args.py) names the options client_id, client_secret,
member_cid and cloud, and its auth module returns auth: {access_token, cloud} with cloud one of
us-1, us-2, eu-1, us-gov-1.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.caseops.desk.plugins.module_utils import args, falcon
from ansible_collections.caseops.desk.tests.unit.plugins.modules.test_groups import MODULES, argument_spec_of, groups

CROWDSTRIKE_NAMES = {"client_id": "falcon_client_id", "client_secret": "falcon_client_secret",
                     "cloud": "falcon_cloud", "member_cid": "falcon_member_cid"}
ENV = ("FALCON_CLIENT_ID", "FALCON_CLIENT_SECRET", "FALCON_CLOUD", "FALCON_MEMBER_CID", "FALCON_BASE_URL",
       "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_TOKEN", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY", "CLOUDFLARE_ACCOUNT_ID",
       "CLOUDFLARE_BASE_URL", "UNIT21_API_KEY", "UNIT21_BASE_URL")


@pytest.fixture(autouse=True)
def no_connection_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def names_of(spec):
    """Every name a task may use for the options of ``spec``: option names and their aliases."""
    found = []
    for name, option in spec.items():
        found.append(name)
        found.extend(option.get("aliases", []))
    return found


def test_the_falcon_options_carry_crowdstrike_falcons_names_as_aliases():
    for alias, option in CROWDSTRIKE_NAMES.items():
        assert args.FALCON_OPTIONS[option]["aliases"] == [alias]


def test_no_alias_is_the_name_of_another_services_option():
    others = names_of(args.COMMON_OPTIONS) + names_of(args.CLOUDFLARE_OPTIONS) + names_of(args.UNIT21_OPTIONS)
    assert not set(CROWDSTRIKE_NAMES) & set(others)


@pytest.mark.parametrize("name", MODULES)
def test_every_name_a_module_takes_means_one_option(name, monkeypatch):
    names = names_of(argument_spec_of(name, monkeypatch))
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    assert not duplicates, "%s: %s" % (name, duplicates)


# One module_defaults block for the three services, Falcon's entries under crowdstrike.falcon's names.
MODULE_DEFAULTS = {
    "falcon": {"client_id": "cs-client", "client_secret": "cs-secret", "cloud": "eu-1", "member_cid": "child-cid"},
    "cloudforce_one": {"cloudflare_api_token": "cf-token", "cloudflare_account_id": "c" * 32},
    "unit21": {"unit21_api_key": "u21-key", "unit21_base_url": "https://sandbox1-api.unit21.com"},
    "all": {"timeout": 45},
}


@pytest.mark.parametrize("name", MODULES)
def test_one_module_defaults_block_configures_every_module(name, monkeypatch):
    spec = argument_spec_of(name, monkeypatch)
    action_groups = groups()
    params = dict(MODULE_DEFAULTS["all"])
    for vendor in ("falcon", "cloudforce_one", "unit21"):
        if name in action_groups[vendor]:
            params.update(MODULE_DEFAULTS[vendor])
    result = ArgumentSpecValidator(spec).validate(params)
    # Only a module's own required options may be missing: no connection option is refused or ambiguous.
    unrelated = [m for m in result.error_messages if "missing" not in m and "required" not in m]
    assert not unrelated, unrelated
    validated = result.validated_parameters
    assert validated["timeout"] == 45
    if name in action_groups["falcon"]:
        client = falcon.client_from_params(validated)
        assert (client.client_id, client.client_secret, client.member_cid) == ("cs-client", "cs-secret", "child-cid")
        assert client.transport.base_url == falcon.CLOUD_BASE_URLS["eu-1"]


def validate_falcon(params):
    result = ArgumentSpecValidator(args.connection_argument_spec("falcon")).validate(params)
    return result


def test_falcon_auth_takes_the_result_of_crowdstrike_falcon_auth():
    result = validate_falcon({"falcon_auth": {"access_token": "cs-token", "cloud": "us-2"}})
    assert not result.error_messages, result.error_messages
    client = falcon.client_from_params(result.validated_parameters)
    assert client.token.access_token == "cs-token"
    assert client.transport.base_url == "https://api.us-2.crowdstrike.com"
    assert client.autodiscover is False  # the token belongs to that cloud


@pytest.mark.parametrize("cloud", ["us-1", "us-2", "eu-1", "us-gov-1"])
def test_every_crowdstrike_cloud_maps_to_its_base_url(cloud):
    client = falcon.client_from_params({"falcon_auth": {"access_token": "t", "cloud": cloud}})
    assert client.transport.base_url == falcon.CLOUD_BASE_URLS[cloud]


def test_an_explicit_base_url_wins_over_the_tokens_cloud():
    params = {"falcon_base_url": "https://falcon-proxy.example", "falcon_auth": {"access_token": "t", "cloud": "eu-1"}}
    assert falcon.client_from_params(params).transport.base_url == "https://falcon-proxy.example"
    params = {"falcon_auth": {"access_token": "t", "cloud": "eu-1", "base_url": "https://api.us-2.crowdstrike.com"}}
    assert falcon.client_from_params(params).transport.base_url == "https://api.us-2.crowdstrike.com"


def test_an_unknown_cloud_in_the_token_is_refused_with_the_choices():
    result = validate_falcon({"falcon_auth": {"access_token": "t", "cloud": "mars-1"}})
    assert result.error_messages
    message = " ".join(result.error_messages)
    assert "cloud" in message and "us-gov-2" in message and "mars-1" in message


def test_the_token_stays_out_of_logs():
    result = validate_falcon({"falcon_auth": {"access_token": "cs-token-value", "cloud": "us-1"},
                              "client_secret": "cs-secret-value"})
    assert {"cs-token-value", "cs-secret-value"} <= result._no_log_values  # pylint: disable=protected-access


def test_both_an_option_and_its_alias_is_reported():
    result = validate_falcon({"falcon_cloud": "eu-1", "cloud": "us-2"})
    # ansible-core keeps one value and warns; it must not be silently merged into something else.
    assert result.validated_parameters["falcon_cloud"] in ("eu-1", "us-2")
    assert result._warnings or result.error_messages  # pylint: disable=protected-access
