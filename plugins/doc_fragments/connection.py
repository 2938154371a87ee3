# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # HTTP behaviour shared by every module of the collection.
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds to wait for the service to answer a request (the read timeout).
      - Connecting gives up after 10 seconds, or after O(timeout) when that is shorter.
      - If not set, the environment variable E(CASEOPS_TIMEOUT) is used.
    type: float
    default: 30.0
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the service.
      - Only set this to V(false) against a test server you control.
      - If not set, the environment variable E(CASEOPS_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM file) to verify the service's certificate with, for example a corporate TLS-inspecting proxy's CA.
      - If not set, the environment variable E(CASEOPS_CA_PATH) is used. Without either, the system CA store is used,
        or the bundle named by E(REQUESTS_CA_BUNDLE).
    type: path
  max_retries:
    description:
      - How many times a request is retried after HTTP 423, 429, 502, 503, 504, a refused connection, a timeout or a dropped connection.
      - The wait before each retry is the one the service asks for (C(Retry-After), Falcon's C(X-RateLimit-RetryAfter),
        Unit21's C(X-RateLimit-Reset)), or exponential backoff with jitter when it asks for none.
      - A request that creates something is never sent twice blindly. After a failure that hides whether it was applied,
        the module looks the object up first and only sends again when it is not there.
      - If not set, the environment variable E(CASEOPS_MAX_RETRIES) is used.
    type: int
    default: 4
  retry_max_time:
    description:
      - The most seconds one request may spend waiting between retries. When the service asks for a longer wait,
        the module fails at once with a message that says so instead of sleeping.
      - If not set, the environment variable E(CASEOPS_RETRY_MAX_TIME) is used.
    type: float
    default: 120.0
notes:
  - "Modules run on the controller (C(hosts: localhost) or C(delegate_to: localhost)) and talk to the vendor APIs over HTTPS."
  - Proxies are taken from the standard environment variables E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) of the controller.
  - Connection options carry their service in their name (C(falcon_*), C(cloudflare_*), C(unit21_*)). Set them for many tasks
    with one C(module_defaults) block holding C(group/caseops.desk.falcon), C(group/caseops.desk.cloudforce_one) and
    C(group/caseops.desk.unit21) entries, and the options above under C(group/caseops.desk.all).
  - An option or environment variable that is set but empty counts as unset.
requirements:
  - python >= 3.11 (the versions tested on the controller are 3.11 and 3.12)
  - requests >= 2.25.0
"""
