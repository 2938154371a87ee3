# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # CrowdStrike Falcon API connection options.
    DOCUMENTATION = r"""
options:
  falcon_client_id:
    description:
      - The OAuth2 client ID of a Falcon API client.
      - Create the API client in the Falcon console (Support and resources, API clients and keys) with the
        Message Center Read scope, and Message Center Write for modules that create cases, comments or attachments.
      - If not set, the environment variable E(FALCON_CLIENT_ID) is used.
      - The alias O(client_id) is the option's name in the C(crowdstrike.falcon) collection.
    type: str
    aliases: [client_id]
  falcon_client_secret:
    description:
      - The secret of the Falcon API client.
      - If not set, the environment variable E(FALCON_CLIENT_SECRET) is used.
      - The alias O(client_secret) is the option's name in the C(crowdstrike.falcon) collection.
    type: str
    aliases: [client_secret]
  falcon_cloud:
    description:
      - The Falcon cloud of your tenant. Each cloud has its own API host.
      - When neither this, E(FALCON_CLOUD) nor O(falcon_base_url) is set, the module starts at us-1 and follows the
        region the token endpoint reports (autodiscovery). Gov clouds cannot be discovered; set them explicitly.
      - If not set, the environment variable E(FALCON_CLOUD) is used.
      - The alias O(cloud) is the option's name in the C(crowdstrike.falcon) collection.
    type: str
    choices: [us-1, us-2, eu-1, us-gov-1, us-gov-2, us-3]
    aliases: [cloud]
  falcon_base_url:
    description:
      - The API base URL, for example V(https://api.eu-1.crowdstrike.com). Overrides O(falcon_cloud).
      - Use it for a proxy or gateway in front of the API, or for a local test server.
      - If not set, the environment variable E(FALCON_BASE_URL) is used.
    type: str
  falcon_member_cid:
    description:
      - For Flight Control (MSSP) parent tenants, the CID of the child tenant to act on.
      - If not set, the environment variable E(FALCON_MEMBER_CID) is used.
      - The alias O(member_cid) is the option's name in the C(crowdstrike.falcon) collection.
    type: str
    aliases: [member_cid]
  falcon_auth:
    description:
      - A token obtained once with M(caseops.desk.falcon_auth), so that a play of many Falcon tasks authenticates once.
      - Pass the module's RV(caseops.desk.falcon_auth#module:auth) result unchanged, or the C(auth) result of
        C(crowdstrike.falcon.auth), which names the token's cloud in O(falcon_auth.cloud) instead of its base URL.
      - The token is used while it is valid. When it is about to expire or the API refuses it, a new one is requested
        with O(falcon_client_id) and O(falcon_client_secret) if they are set; otherwise the module fails and says so.
    type: dict
    suboptions:
      access_token:
        description:
          - The bearer token.
        type: str
        required: true
      base_url:
        description:
          - The API base URL the token was issued for. Used unless O(falcon_base_url) is set.
        type: str
      cloud:
        description:
          - The Falcon cloud the token was issued on, as C(crowdstrike.falcon.auth) returns it. Its API URL is used
            unless O(falcon_base_url) or O(falcon_auth.base_url) is set.
        type: str
        choices: [us-1, us-2, eu-1, us-gov-1, us-gov-2, us-3]
      expires_at:
        description:
          - When the token expires, in seconds since the epoch.
        type: float
"""
