# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every module, with their environment fallbacks.

A module accepts the common options plus those of the vendors it talks to.
Option names carry the vendor (``falcon_*``, ``cloudflare_*``, ``unit21_*``),
so a module that serves two vendors (``case`` for Falcon and Unit21) takes both
sets without one name meaning two things, and one ``module_defaults`` block
with ``group/caseops.desk.falcon``, ``.cloudforce_one`` and ``.unit21`` entries
(plus ``.all`` for the common options) configures every module.  The doc
fragments in ``plugins/doc_fragments/`` document exactly these options
(sanity's validate-modules and a unit test keep them in step).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import unicodedata

from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible_collections.caseops.desk.plugins.module_utils.errors import ConfigurationError, InvalidInputError

FALCON_CLOUDS = ["us-1", "us-2", "eu-1", "us-gov-1", "us-gov-2", "us-3"]


def nonempty_env_fallback(*names):
    """Like ``env_fallback``, but an empty variable counts as unset.

    AWX credential types and ``lookup('env', ...)`` easily produce empty
    strings; sending those as credentials only earns a confusing 401.
    """
    for name in names:
        value = os.environ.get(name)
        if value is not None and value.strip() != "":
            return value
    raise AnsibleFallbackNotFound


def _env(*names):
    return (nonempty_env_fallback, list(names))


COMMON_OPTIONS = dict(
    timeout=dict(type="float", default=30.0, fallback=_env("CASEOPS_TIMEOUT")),
    validate_certs=dict(type="bool", default=True, fallback=_env("CASEOPS_VALIDATE_CERTS")),
    ca_path=dict(type="path", fallback=_env("CASEOPS_CA_PATH")),
    max_retries=dict(type="int", default=4, fallback=_env("CASEOPS_MAX_RETRIES")),
    retry_max_time=dict(type="float", default=120.0, fallback=_env("CASEOPS_RETRY_MAX_TIME")),
)

# The aliases are crowdstrike.falcon's option names, so its users' module_defaults and tasks carry over; none of
# them is the name of another option (tests/unit/plugins/modules/test_falcon_compat.py).
FALCON_OPTIONS = dict(
    falcon_client_id=dict(type="str", aliases=["client_id"], fallback=_env("FALCON_CLIENT_ID")),
    falcon_client_secret=dict(type="str", no_log=True, aliases=["client_secret"], fallback=_env("FALCON_CLIENT_SECRET")),
    falcon_cloud=dict(type="str", choices=FALCON_CLOUDS, aliases=["cloud"], fallback=_env("FALCON_CLOUD")),
    falcon_base_url=dict(type="str", fallback=_env("FALCON_BASE_URL")),
    falcon_member_cid=dict(type="str", aliases=["member_cid"], fallback=_env("FALCON_MEMBER_CID")),
    falcon_auth=dict(
        type="dict", no_log=False,
        options=dict(
            access_token=dict(type="str", no_log=True, required=True),
            base_url=dict(type="str"),
            # crowdstrike.falcon.auth returns {access_token, cloud}: the cloud names the token's API host.
            cloud=dict(type="str", choices=FALCON_CLOUDS),
            expires_at=dict(type="float"),
        ),
    ),
)

CLOUDFLARE_OPTIONS = dict(
    cloudflare_api_token=dict(type="str", no_log=True, fallback=_env("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_TOKEN")),
    cloudflare_email=dict(type="str", fallback=_env("CLOUDFLARE_EMAIL")),
    cloudflare_api_key=dict(type="str", no_log=True, fallback=_env("CLOUDFLARE_API_KEY")),
    cloudflare_account_id=dict(type="str", fallback=_env("CLOUDFLARE_ACCOUNT_ID")),
    cloudflare_base_url=dict(type="str", fallback=_env("CLOUDFLARE_BASE_URL")),
)

UNIT21_OPTIONS = dict(
    unit21_api_key=dict(type="str", no_log=True, fallback=_env("UNIT21_API_KEY")),
    unit21_base_url=dict(type="str", fallback=_env("UNIT21_BASE_URL")),
)


_ENV_FALLBACKS = dict(
    (name, option["fallback"][1])
    for group in (COMMON_OPTIONS, FALCON_OPTIONS, CLOUDFLARE_OPTIONS, UNIT21_OPTIONS)
    for name, option in group.items() if "fallback" in option
)

_NO_LOG_OPTIONS = tuple(
    [name for group in (FALCON_OPTIONS, CLOUDFLARE_OPTIONS, UNIT21_OPTIONS)
     for name, option in group.items() if option.get("no_log")]
) + tuple("falcon_auth.%s" % name for name, option in FALCON_OPTIONS["falcon_auth"]["options"].items() if option.get("no_log"))


VENDOR_OPTIONS = {"falcon": FALCON_OPTIONS, "cloudforce_one": CLOUDFLARE_OPTIONS, "unit21": UNIT21_OPTIONS}

# Values that go into HTTP headers, form fields and URLs as given: surrounding whitespace (a pasted trailing newline,
# a leading space from a template) is stripped, and a control character left inside is refused before any request,
# naming the option but never the value.  falcon_auth's fields are named as falcon_auth.<field>.
CREDENTIAL_OPTIONS = frozenset([
    "falcon_client_id", "falcon_client_secret", "falcon_member_cid", "falcon_auth.access_token",
    "cloudflare_api_token", "cloudflare_email", "cloudflare_api_key", "cloudflare_account_id",
    "unit21_api_key",
])
URL_OPTIONS = frozenset(["falcon_base_url", "falcon_auth.base_url", "cloudflare_base_url", "unit21_base_url"])


def option_label(name):
    """How messages name an option: with its environment variables when it has any."""
    names = _ENV_FALLBACKS.get(name)
    if not names:
        return name
    return "%s (or the environment variable %s)" % (name, " or ".join(names))


def _control_character(text):
    """The first control character or line break in ``text`` (C0, DEL, C1, U+2028/2029), or None."""
    for char in text:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            return char
    return None


def _describe_character(char):
    names = {"\x00": "a NUL byte", "\t": "a tab", "\n": "a line feed (newline)", "\r": "a carriage return"}
    return names.get(char) or "the control character U+%04X" % ord(char)


def clean_connection_value(name, value):
    """A credential or URL option's value with surrounding whitespace stripped; InvalidInputError for a control character.

    The error names the option and its environment variable, never the value
    (not even its length or the character's position).
    """
    if not isinstance(value, str) or (name not in CREDENTIAL_OPTIONS and name not in URL_OPTIONS):
        return value
    text = value.strip()
    char = _control_character(text)
    if char is not None:
        what = "a URL" if name in URL_OPTIONS else "a credential"
        raise InvalidInputError(
            "%s contains %s inside the value (surrounding whitespace is removed, but not characters within it); %s "
            "cannot contain control characters or line breaks. Re-enter the value without them." % (
                option_label(name), _describe_character(char), what))
    return text


def nul_option(params, prefix=""):
    """The name of the first option whose value holds a NUL byte anywhere (keys, lists, nested dicts), or None."""
    if isinstance(params, dict):
        for key, value in params.items():
            shown = str(key).replace("\x00", "\\0")
            name = "%s.%s" % (prefix, shown) if prefix else shown
            if shown != str(key):
                return name
            found = nul_option(value, name)
            if found:
                return found
    elif isinstance(params, (list, tuple)):
        for index, value in enumerate(params):
            found = nul_option(value, "%s[%d]" % (prefix, index))
            if found:
                return found
    elif isinstance(params, str) and "\x00" in params:
        return prefix
    elif isinstance(params, bytes) and b"\x00" in params:
        return prefix
    return None


def nul_message(option):
    return ("%s contains a NUL byte (\\0): no API this collection talks to accepts one, and Ansible cannot log it. "
            "Remove it from the value." % option_label(option))


def refuse_nul(params):
    """InvalidInputError naming the first option that holds a NUL byte."""
    option = nul_option(params)
    if option:
        raise InvalidInputError(nul_message(option))


def connection_argument_spec(*vendors):
    """The common options plus those of ``vendors``, for a module's argument_spec."""
    spec = {}
    for group in [COMMON_OPTIONS] + [VENDOR_OPTIONS[vendor] for vendor in vendors]:
        for name, option in group.items():
            spec[name] = dict(option)
    return spec


def param(params, name, within=None):
    """A parameter's value; an empty or blank string counts as unset.

    Unset means what it means for an option that was not given at all: the
    environment fallback applies.  So ``falcon_client_id: ""`` (say from an
    empty lookup) still picks up E(FALCON_CLIENT_ID).  Credentials and URLs
    come back stripped and checked (:func:`clean_connection_value`).
    ``within`` names the dict option ``params`` belongs to (``falcon_auth``).
    """
    qualified = "%s.%s" % (within, name) if within else name
    value = params.get(name)
    if not (isinstance(value, str) and value.strip() == ""):
        return clean_connection_value(qualified, value)
    fallback = _ENV_FALLBACKS.get(qualified)
    if fallback:
        try:
            return clean_connection_value(qualified, nonempty_env_fallback(*fallback))
        except AnsibleFallbackNotFound:
            pass
    return None


def secret_variants(params):
    """The stripped values of every no_log connection option present in ``params``.

    Ansible masks a no_log value exactly as it was given; once stripped, the
    value the request used differs (no trailing newline), so it is added too.
    """
    found = []
    for name in _NO_LOG_OPTIONS:
        container, field = (params.get(name.split(".")[0]), name.split(".")[1]) if "." in name else (params, name)
        value = container.get(field) if isinstance(container, dict) else None
        if isinstance(value, str) and value.strip():
            found.append(value.strip())
    return found


def transport_options(params):
    """Keyword arguments for :class:`Transport` from the common options, checked."""
    # Imported here so args.py stays importable without requests.
    from ansible_collections.caseops.desk.plugins.module_utils.transport import RetryPolicy

    timeout = params.get("timeout")
    timeout = 30.0 if timeout is None else timeout
    max_retries = params.get("max_retries")
    max_retries = 4 if max_retries is None else max_retries
    retry_max_time = params.get("retry_max_time")
    retry_max_time = 120.0 if retry_max_time is None else retry_max_time
    if timeout <= 0:
        raise ConfigurationError("timeout must be a positive number of seconds, got %s." % timeout)
    if max_retries < 0:
        raise ConfigurationError("max_retries must be 0 or more, got %s." % max_retries)
    if retry_max_time < 0:
        raise ConfigurationError("retry_max_time must be 0 or more seconds, got %s." % retry_max_time)
    return dict(
        timeout=float(timeout),
        validate_certs=params.get("validate_certs", True) is not False,
        ca_path=param(params, "ca_path"),
        retry=RetryPolicy(max_attempts=1 + max_retries, max_total_seconds=retry_max_time),
    )


def check_provider_options(params, provider, owners, defaults=None):
    """Refuse options that belong to another provider, before any request.

    ``owners`` maps an option name to the providers it applies to; an option
    counts as given when it is neither None nor its default (``defaults``).
    A module serving two case systems takes both sets of options, and a
    silently ignored option would make a task do something else than it says.
    """
    defaults = defaults or {}
    foreign = sorted(name for name, providers in owners.items()
                     if provider not in providers and params.get(name) not in (None, defaults.get(name)))
    if foreign:
        raise InvalidInputError("%s %s not apply to provider %s: %s." % (
            ", ".join(foreign), "does" if len(foreign) == 1 else "do", provider,
            "; ".join("%s is for %s" % (name, " and ".join(owners[name])) for name in foreign)))
