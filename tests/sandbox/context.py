"""Shared state, configuration and the vendor plug-in contract of the sandbox.

The sandbox is one aiohttp process that serves three vendor APIs.  The core
(``server.py``) owns the request log, fault injection, the control API and state
persistence; each vendor module (``falcon.py``, ``cloudforce_one.py``,
``unit21.py``) implements :class:`VendorAPI` and never touches the others.
"""

import json
import os
import tempfile
import time

REDACTED = "<redacted>"

# Credentials the sandbox accepts.  Defaults are documented in README.md; each
# one can be overridden by the environment variable of the same key.
CREDENTIAL_DEFAULTS = {
    "SANDBOX_FALCON_CLIENT_ID": "0123456789abcdef0123456789abcdef",
    "SANDBOX_FALCON_CLIENT_SECRET": "FalconSandboxSecret0123456789ABCDEFGHIJK",
    "SANDBOX_FALCON_MEMBER_CID": "fedcba9876543210fedcba9876543210",
    "SANDBOX_CLOUDFLARE_API_TOKEN": "SandboxCloudflareApiToken000000000000000",
    "SANDBOX_CLOUDFLARE_READONLY_API_TOKEN": "SandboxCloudflareReadOnlyToken0000000000",
    "SANDBOX_CLOUDFLARE_EMAIL": "analyst@example.com",
    "SANDBOX_CLOUDFLARE_API_KEY": "0123456789abcdef0123456789abcdef01234",
    "SANDBOX_CLOUDFLARE_ACCOUNT_ID": "023e105f4ecef8ad9ca31a8372d0c353",
    "SANDBOX_UNIT21_API_KEY": "sandbox-unit21-key-00000000000000000000",
    "SANDBOX_UNIT21_WEBHOOK_SECRET": "abcdefghij0123456789",
}

# Knobs that make time-dependent behaviour testable.
TUNING_DEFAULTS = {
    "SANDBOX_FALCON_TOKEN_TTL": 1799,        # seconds, as the real token endpoint answers
    "SANDBOX_FALCON_RATE_LIMIT": 6000,       # requests per sliding minute per account
    "SANDBOX_CLOUDFLARE_RATE_LIMIT": 1200,   # requests per 300 s per token / key
    "SANDBOX_UNIT21_RATE_LIMIT": 200,        # requests per second
}

# Text settings (not numbers), overridable by the environment variable of the same key.
SETTING_DEFAULTS = {
    "SANDBOX_FALCON_SCOPES": "message-center:read,message-center:write",  # scopes of issued Falcon tokens
    # The real token endpoint names the tenant's cloud in X-Cs-Region.  SDKs then move to that cloud's
    # public host (falconpy does even when given another base URL), which would take them away from the
    # sandbox, so the header is only sent when this names a region, e.g. "us-1".
    "SANDBOX_FALCON_REGION": "",
}


# Fidelity variants: behaviours where the vendors' real behaviour is unknown (or where a published
# behaviour has plausible alternatives).  Each is a text value; the default is the published or most
# likely behaviour, the alternatives are listed in tests/sandbox/FIDELITY.md with their sources.  A
# variant is set at start by the environment variable of the same key, and at run time through
# ``POST /_sandbox/variants`` (``POST /_sandbox/reset`` restores the start values).
# Vendors register theirs with ``declare_variant`` at import time, so each lives next to the
# behaviour it switches.
VARIANT_DEFAULTS = {}
VARIANT_CHOICES = {}


def declare_variant(name, default, choices=None):
    """Declare a fidelity variant ``name`` (``SANDBOX_...``) with its default and allowed values.

    ``choices`` None means any text is allowed (e.g. a prefix); otherwise a tuple of allowed values.
    """
    if not name.startswith("SANDBOX_"):
        raise ValueError("variant names start with SANDBOX_: %s" % name)
    VARIANT_DEFAULTS[name] = default
    VARIANT_CHOICES[name] = tuple(choices) if choices is not None else None
    return name


def _env(name, default):
    value = os.environ.get(name)
    return value if value else default


class SandboxConfig(object):
    """Credentials and tuning, read once from the environment."""

    def __init__(self, environ=None):
        environ = os.environ if environ is None else environ
        self.values = {}
        for key, default in CREDENTIAL_DEFAULTS.items():
            self.values[key] = environ.get(key) or default
        for key, default in TUNING_DEFAULTS.items():
            raw = environ.get(key)
            self.values[key] = int(raw) if raw else default
        for key, default in SETTING_DEFAULTS.items():
            self.values[key] = environ.get(key) or default
        self.environ = environ
        self.variants = {}
        self.start_variants = {}

    def __getitem__(self, key):
        if key in VARIANT_DEFAULTS:
            return self.variant(key)
        return self.values[key]

    def variant(self, name):
        """The current value of a fidelity variant (declared with ``declare_variant``)."""
        if name not in VARIANT_DEFAULTS:
            raise KeyError("undeclared sandbox variant %s" % name)
        if name not in self.start_variants:
            raw = self.environ.get(name)
            value = raw if raw is not None and raw != "" else VARIANT_DEFAULTS[name]
            self.check_variant(name, value)
            self.start_variants[name] = value
        return self.variants.get(name, self.start_variants[name])

    @staticmethod
    def check_variant(name, value):
        """Raise ValueError unless ``value`` is allowed for variant ``name``."""
        if name not in VARIANT_DEFAULTS:
            raise ValueError("unknown variant %s; known: %s" % (name, ", ".join(sorted(VARIANT_DEFAULTS))))
        if not isinstance(value, str):
            raise ValueError("variant %s takes a string, not %s" % (name, type(value).__name__))
        choices = VARIANT_CHOICES[name]
        if choices is not None and value not in choices:
            raise ValueError("variant %s must be one of %s, not %r" % (name, ", ".join(choices), value))

    def set_variants(self, values):
        """Set several variants at run time, all or none (every value is checked first)."""
        for name, value in values.items():
            self.check_variant(name, value)
        for name, value in values.items():
            self.variant(name)  # fix its start value first
            self.variants[name] = value

    def reset_variants(self):
        self.variants = {}

    def all_variants(self):
        return dict((name, self.variant(name)) for name in sorted(VARIANT_DEFAULTS))

    def secrets(self):
        """Every configured secret, so logs can redact them."""
        names = ("SANDBOX_FALCON_CLIENT_SECRET", "SANDBOX_CLOUDFLARE_API_TOKEN",
                 "SANDBOX_CLOUDFLARE_READONLY_API_TOKEN", "SANDBOX_CLOUDFLARE_API_KEY",
                 "SANDBOX_UNIT21_API_KEY", "SANDBOX_UNIT21_WEBHOOK_SECRET")
        return [self.values[n] for n in names]


class SandboxContext(object):
    """What every vendor module gets: config, its own state section, a clock, ids.

    ``state`` is one JSON-serialisable dict: ``{"falcon": {...},
    "cloudforce_one": {...}, "unit21": {...}, "counters": {...}}``.  Vendors
    keep only JSON types in their section (bytes go in as base64 strings) and
    call :meth:`changed` after every mutation so ``--state FILE`` is kept
    current.
    """

    def __init__(self, config=None, state_file=None, clock=time.time):
        self.config = config or SandboxConfig()
        self.state_file = state_file
        self.clock = clock
        self.state = {"counters": {}}
        self.vendors = {}
        self._dirty = False

    # -- vendors ---------------------------------------------------------
    def add_vendor(self, vendor):
        self.vendors[vendor.name] = vendor
        self.state.setdefault(vendor.name, vendor.empty_state())

    def section(self, vendor_name):
        return self.state[vendor_name]

    # -- time and ids ----------------------------------------------------
    def now(self):
        return self.clock()

    def next_id(self, counter):
        """A monotonically increasing integer per counter name, persisted."""
        counters = self.state.setdefault("counters", {})
        counters[counter] = counters.get(counter, 0) + 1
        self.changed()
        return counters[counter]

    # -- persistence -----------------------------------------------------
    def changed(self):
        self._dirty = True
        if self.state_file:
            self.save()

    def reset(self):
        self.state = {"counters": {}}
        for vendor in self.vendors.values():
            self.state[vendor.name] = vendor.empty_state()
        self.changed()

    def load(self):
        if not self.state_file or not os.path.exists(self.state_file):
            return
        with open(self.state_file) as handle:
            loaded = json.load(handle)
        self.state.update(loaded)
        for vendor in self.vendors.values():
            self.state.setdefault(vendor.name, vendor.empty_state())

    def save(self):
        """Write the state atomically (temp file + rename)."""
        if not self.state_file:
            return
        directory = os.path.dirname(os.path.abspath(self.state_file))
        fd, tmp = tempfile.mkstemp(prefix=".sandbox-state-", dir=directory)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.state, handle, sort_keys=True)
        os.replace(tmp, self.state_file)
        self._dirty = False


class VendorAPI(object):
    """The contract a vendor module implements.

    * ``name``: ``"falcon"``, ``"cloudforce_one"`` or ``"unit21"``.
    * ``prefixes``: URL path prefixes the vendor owns; the core uses them to tag
      log entries and to shape errors for unknown routes and injected faults.
    * ``register(app)``: add the public API routes.  Name each route with its
      vendor operationId (``app.router.add_route(method, path, handler,
      name=operation_id)``) so the request log can say which operation was hit.
    * ``register_control(app)``: optional test-only routes under
      ``/_sandbox/<name>/``.
    * ``error_response(status, message=None, headers=None)``: an
      ``aiohttp.web.Response`` in the vendor's own error envelope, used for
      injected faults and unknown routes.  For 429 it must carry the vendor's
      rate-limit headers unless ``headers`` already has them.
    * ``redact_headers`` / ``redact_form_fields``: lower-case names whose values
      the request log must never show.
    * ``on_reset()``: optional; drop in-memory runtime data that is not part of
      ``state`` (rate-limit windows, caches).  ``POST /_sandbox/reset`` calls
      it after the state sections were emptied.

    The core reads each request body once before the handler runs and leaves
    on the request: ``request["raw_body"]`` (bytes), ``request["json"]`` (parsed
    JSON body or None), ``request["json_error"]`` (str or None), ``request["form"]``
    (``{field: [values]}`` for urlencoded or multipart text fields, or None) and
    ``request["multipart"]`` (list of ``{"name", "filename", "content_type",
    "data"}`` parts, or None).  ``await request.read()``/``.json()``/``.post()``
    also keep working.
    """

    name = None
    prefixes = ()
    redact_headers = ()
    redact_form_fields = ()

    def __init__(self, ctx):
        self.ctx = ctx

    def empty_state(self):
        return {}

    def register(self, app):
        raise NotImplementedError

    def register_control(self, app):
        return None

    def error_response(self, status, message=None, headers=None):
        raise NotImplementedError

    def on_reset(self):
        return None

    def owns(self, path):
        return any(path.startswith(prefix) for prefix in self.prefixes)
