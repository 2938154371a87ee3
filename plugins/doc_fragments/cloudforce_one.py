# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Cloudflare Cloudforce One connection options.
    DOCUMENTATION = r"""
options:
  cloudflare_api_token:
    description:
      - A Cloudflare API token with the Cloudforce One Write permission (listing requests and messages needs Write too;
        Cloudforce One Read only allows the get, quota, types and constants calls).
      - Takes precedence over O(cloudflare_email) with O(cloudflare_api_key).
      - If not set, the environment variable E(CLOUDFLARE_API_TOKEN) is used, then E(CLOUDFLARE_TOKEN).
    type: str
  cloudflare_email:
    description:
      - The e-mail address of the Cloudflare user, for authentication with a Global API Key (legacy).
      - If not set, the environment variable E(CLOUDFLARE_EMAIL) is used.
    type: str
  cloudflare_api_key:
    description:
      - The Global API Key of that user. Use it with O(cloudflare_email).
      - If not set, the environment variable E(CLOUDFLARE_API_KEY) is used.
    type: str
  cloudflare_account_id:
    description:
      - The 32-character ID of the Cloudflare account that holds the Cloudforce One subscription.
      - If not set, the environment variable E(CLOUDFLARE_ACCOUNT_ID) is used.
    type: str
  cloudflare_base_url:
    description:
      - The API base URL. Defaults to V(https://api.cloudflare.com/client/v4); C(/client/v4) is added when missing.
      - If not set, the environment variable E(CLOUDFLARE_BASE_URL) is used.
    type: str
"""
