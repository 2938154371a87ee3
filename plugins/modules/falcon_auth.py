#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: falcon_auth
short_description: Get a CrowdStrike Falcon API token to reuse across tasks
version_added: 1.0.0
description:
  - Requests an OAuth2 access token from the Falcon API with client credentials and returns it in RV(auth).
  - Pass RV(auth) to the O(falcon_auth) option of later Falcon tasks, for example through C(module_defaults),
    so a play of many tasks authenticates once instead of once per task. Falcon limits token requests and
    requests with bad tokens per source IP, so this matters for large plays.
  - Tokens last about 30 minutes. Modules that receive RV(auth) renew it themselves when it is about to expire
    or is refused, as long as they also have the client credentials.
  - "The token is a secret. The task must set C(no_log: true); the module refuses to run without it, so the token
    can never be displayed, not even with C(-vvvv). The registered variable still holds the token."
  - Getting a token never reports a change. It also happens in check mode, since a token changes nothing on the tenant.
  - Other modules also accept the C(auth) result of C(crowdstrike.falcon.auth) in O(falcon_auth), and the Falcon
    connection options also answer to that collection's names (O(client_id), O(client_secret), O(cloud), O(member_cid)).
  - With O(state=absent), the module revokes the token passed in O(falcon_auth), for example at the end of a play.
    It first checks with one read whether the API still accepts the token, so revoking a token that is already
    revoked or expired reports no change.
author:
  - caseops.desk maintainers (@caseops)
options:
  state:
    description:
      - V(present) requests a new token and returns it in RV(auth).
      - V(absent) revokes the token given in O(falcon_auth). Revoking needs O(falcon_client_id) and
        O(falcon_client_secret), the credentials the token was issued to. C(no_log) is not required, since nothing
        secret is returned.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.falcon
  - caseops.desk.attributes.falcon_group
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The token is requested in check mode too; with O(state=absent), check mode reports whether the token
      would be revoked without revoking it.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
seealso:
  - module: caseops.desk.case_info
"""

EXAMPLES = r"""
- name: Authenticate once (credentials from FALCON_CLIENT_ID / FALCON_CLIENT_SECRET)
  caseops.desk.falcon_auth:
  register: falcon
  no_log: true

- name: Reuse the token for every Falcon task of the play (the block below)
  module_defaults:
    group/caseops.desk.falcon:
      falcon_auth: "{{ falcon.auth }}"
  block:
    - name: Open support cases
      caseops.desk.case_info:
        filter: "case.status:['1','2']"

- name: Authenticate against an EU tenant on behalf of a child CID
  caseops.desk.falcon_auth:
    falcon_cloud: eu-1
    falcon_member_cid: "{{ child_cid }}"
  register: falcon_child
  no_log: true

- name: A token from the crowdstrike.falcon collection works too ({access_token, cloud})
  crowdstrike.falcon.auth:
  register: cs_falcon
  no_log: true

- name: Read cases with it (the cloud is turned into its API URL)
  caseops.desk.case_info:
    falcon_auth: "{{ cs_falcon.auth }}"
    filter: "case.status:'1'"

- name: Revoke the token when the play is done
  caseops.desk.falcon_auth:
    state: absent
    falcon_auth: "{{ falcon.auth }}"
"""

RETURN = r"""
auth:
  description:
    - The token, ready for the O(falcon_auth) option of other modules. Contains a secret.
  returned: O(state=present)
  type: dict
  contains:
    access_token:
      description: The bearer token.
      type: str
      returned: success
    base_url:
      description: The API base URL the token is valid for (after region autodiscovery).
      type: str
      returned: success
      sample: https://api.crowdstrike.com
    expires_at:
      description: When the token expires, in seconds since the epoch.
      type: float
      returned: success
      sample: 1795671234.5
expires_in:
  description: Seconds the token is valid for, as the token endpoint said.
  returned: O(state=present)
  type: int
  sample: 1799
region:
  description: The region the token endpoint reported (C(X-Cs-Region)), if any.
  returned: O(state=present)
  type: str
  sample: us-1
revoked:
  description: Whether the token was revoked (in check mode, would be). False when it was already revoked or expired.
  returned: O(state=absent)
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import falcon
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import ConfigurationError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

NO_LOG_REQUIRED = ("caseops.desk.falcon_auth returns a bearer token. Add 'no_log: true' to this task so Ansible never "
                   "displays it; the registered variable still holds the token for later tasks.")


def run(module, client):
    if module.params["state"] == "absent":
        return revoke(module, client)
    if not module.no_log:
        raise ConfigurationError(NO_LOG_REQUIRED)
    token = client.authenticate()
    return dict(
        changed=False,
        auth=dict(access_token=token.access_token, base_url=client.base_url, expires_at=token.expires_at),
        expires_in=client.expires_in,
        region=client.region,
    )


def revoke(module, client):
    token = client.token
    if token is None:
        raise ConfigurationError("state=absent revokes the token given in falcon_auth: pass the auth result of an "
                                 "earlier caseops.desk.falcon_auth task.")
    if not client.can_authenticate:
        raise ConfigurationError(falcon.REVOKE_NEEDS_CREDENTIALS)
    if token.expires_at is not None and token.expires_at <= client.clock():
        return dict(changed=False, revoked=False)
    if not client.token_is_active(token.access_token):
        return dict(changed=False, revoked=False)
    if not module.check_mode:
        client.revoke(token.access_token)
    return dict(changed=True, revoked=True)


def module_kwargs():
    """AnsibleModule's arguments: main() and the in-process action plugin (plugin_utils/in_process.py) use them."""
    argument_spec = connection_argument_spec("falcon")
    argument_spec.update(state=dict(type="str", choices=["present", "absent"], default="present"))
    return dict(argument_spec=argument_spec, supports_check_mode=True)


build_client = falcon.client_from_params


def main():
    run_module(AnsibleModule(**module_kwargs()), build_client, run)


if __name__ == "__main__":
    main()
