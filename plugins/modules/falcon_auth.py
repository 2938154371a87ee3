#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: falcon_auth
short_description: Get a CrowdStrike Falcon API token to reuse across tasks
version_added: 0.1.0
description:
  - Requests an OAuth2 access token from the Falcon API with client credentials and returns it in RV(auth).
  - Pass RV(auth) to the O(falcon_auth) option of later Falcon tasks, for example through C(module_defaults),
    so a play of many tasks authenticates once instead of once per task. Falcon limits token requests and
    requests with bad tokens per source IP, so this matters for large plays.
  - Tokens last about 30 minutes. Modules that receive RV(auth) renew it themselves when it is about to expire
    or is refused, as long as they also have the client credentials.
  - "The token is a secret. The task must set C(no_log: true); the module refuses to run without it, so the token
    can never be displayed, not even with C(-vvvv). The registered variable still holds the token."
  - The module never reports a change. It also requests a token in check mode, since a token changes nothing on the tenant.
author:
  - caseops.desk maintainers (@caseops)
options: {}
extends_documentation_fragment:
  - caseops.desk.connection
  - caseops.desk.falcon
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The token is requested in check mode too.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action_group:
    description: Use C(group/caseops.desk.falcon) or C(group/caseops.desk.all) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - caseops.desk.falcon
      - caseops.desk.all
seealso:
  - module: caseops.desk.case_info
"""

EXAMPLES = r"""
- name: Authenticate once (credentials from FALCON_CLIENT_ID / FALCON_CLIENT_SECRET)
  caseops.desk.falcon_auth:
  register: falcon
  no_log: true

- name: Reuse the token for every Falcon task of the play
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
"""

RETURN = r"""
auth:
  description:
    - The token, ready for the O(falcon_auth) option of other modules. Contains a secret.
  returned: success
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
  returned: success
  type: int
  sample: 1799
region:
  description: The region the token endpoint reported (C(X-Cs-Region)), if any.
  returned: success
  type: str
  sample: us-1
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.caseops.desk.plugins.module_utils import falcon
from ansible_collections.caseops.desk.plugins.module_utils.args import connection_argument_spec
from ansible_collections.caseops.desk.plugins.module_utils.errors import ConfigurationError
from ansible_collections.caseops.desk.plugins.module_utils.runner import run_module

NO_LOG_REQUIRED = ("caseops.desk.falcon_auth returns a bearer token. Add 'no_log: true' to this task so Ansible never "
                   "displays it; the registered variable still holds the token for later tasks.")


def run(module, client):
    if not module.no_log:
        raise ConfigurationError(NO_LOG_REQUIRED)
    token = client.authenticate()
    return dict(
        changed=False,
        auth=dict(access_token=token.access_token, base_url=client.transport.base_url, expires_at=token.expires_at),
        expires_in=client.expires_in,
        region=client.region,
    )


def main():
    module = AnsibleModule(argument_spec=connection_argument_spec("falcon"), supports_check_mode=True)
    run_module(module, falcon.client_from_params, run)


if __name__ == "__main__":
    main()
