"""The sandbox core: one aiohttp app serving every vendor API, plus the control API.

The core owns what all vendors share: reading the request body once, the
request log, fault injection, the ``/_sandbox/`` control routes and state
persistence.  Vendor modules plug in through :class:`context.VendorAPI`.
"""

import argparse
import asyncio
import email.message
import email.utils
import importlib
import io
import json
import re
import signal
import sys
import traceback
import urllib.parse

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

from context import REDACTED, VARIANT_CHOICES, SandboxConfig, SandboxContext

# (module, class) of every vendor; a module that does not exist yet is skipped with a warning.
VENDOR_MODULES = (("falcon", "FalconAPI"), ("cloudforce_one", "CloudforceOneAPI"), ("unit21", "Unit21API"))
CONTROL_PREFIX = "/_sandbox/"
# Big enough that an oversize upload reaches the vendor handler and gets the vendor's own 400.
CLIENT_MAX_SIZE = 40 * 1024 * 1024
ALWAYS_REDACTED_HEADERS = ("authorization", "proxy-authorization", "x-auth-key", "u21-key", "cookie")
SECRETISH_FIELD = re.compile(r"secret|password|passwd|token|api[_-]?key|credential", re.IGNORECASE)
FAULT_ACTIONS = ("respond", "drop", "commit_then_drop", "delay")
BASE64_BLOB = re.compile(r"^[A-Za-z0-9+/=\s]{512,}$")


def warn(message):
    print("sandbox: %s" % message, file=sys.stderr, flush=True)


# -- request bodies ----------------------------------------------------------------
def media_type(header):
    """``application/json`` from ``application/json; charset=utf-8``; None when absent."""
    if not header:
        return None
    return header.split(";", 1)[0].strip().lower() or None


def header_param(header, name):
    """One parameter of a structured header (``boundary``, ``name``, ``filename``), RFC 2231 aware."""
    message = email.message.Message()
    message["X"] = header
    value = message.get_param(name, header="X")
    if value is None:
        return None
    return email.utils.collapse_rfc2231_value(value)


def parse_multipart(body, content_type):
    """The parts of a multipart body: ``[{"name", "filename", "content_type", "headers", "data"}]``."""
    boundary = header_param(content_type, "boundary")
    if not boundary:
        raise ValueError("multipart body without a boundary parameter")
    delimiter = b"--" + boundary.encode("latin-1")
    position = body.find(delimiter)
    if position < 0:
        raise ValueError("multipart body without its boundary")
    parts = []
    position += len(delimiter)
    while not body.startswith(b"--", position):
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise ValueError("multipart body ends inside a boundary line")
        part, position = _read_part(body, line_end + 2, delimiter)
        parts.append(part)
    return parts


def _read_part(body, start, delimiter):
    """One part starting after its boundary line; returns (part, position after the next boundary)."""
    if body.startswith(b"\r\n", start):
        head, data_start = b"", start + 2
    else:
        head_end = body.find(b"\r\n\r\n", start)
        if head_end < 0:
            raise ValueError("multipart part without the blank line after its headers")
        head, data_start = body[start:head_end], head_end + 4
    data_end = body.find(b"\r\n" + delimiter, data_start)
    if data_end < 0:
        raise ValueError("multipart part without a closing boundary")
    headers = CIMultiDict()
    for line in head.decode("utf-8", "replace").split("\r\n"):
        if ":" in line:
            name, value = line.split(":", 1)
            headers.add(name.strip(), value.strip())
    disposition = headers.get("Content-Disposition", "")
    part = {
        "name": header_param(disposition, "name") if disposition else None,
        "filename": header_param(disposition, "filename") if disposition else None,
        "content_type": headers.get("Content-Type"),
        "headers": headers,
        "data": body[data_start:data_end],
    }
    return part, data_end + 2 + len(delimiter)


def _post_compat(parts):
    """What ``await request.post()`` would have returned, so handlers may use either API."""
    out = MultiDict()
    for part in parts:
        if part["name"] is None:
            continue
        if part["filename"] is not None:
            out.add(part["name"], web.FileField(part["name"], part["filename"], io.BytesIO(part["data"]),
                                                part["content_type"] or "application/octet-stream",
                                                CIMultiDictProxy(part["headers"])))
        else:
            out.add(part["name"], part["data"].decode("utf-8", "replace"))
    return MultiDictProxy(out)


async def read_body(request):
    """Read and parse the body once; leave every form of it on the request for handlers and the log."""
    raw = await request.read()
    declared = media_type(request.headers.get("Content-Type"))
    request["raw_body"] = raw
    request["json"] = None
    request["json_error"] = None
    request["form"] = None
    request["multipart"] = None
    request["multipart_error"] = None
    if declared == "application/json" or (declared or "").endswith("+json"):
        if raw.strip():
            try:
                request["json"] = json.loads(raw.decode("utf-8"))
            except ValueError as exc:
                request["json_error"] = str(exc)
    elif declared is None and raw.strip():
        # No declared type: take the body as JSON when it is JSON, without calling it an error otherwise.
        try:
            request["json"] = json.loads(raw.decode("utf-8"))
        except ValueError:
            pass
    elif declared == "application/x-www-form-urlencoded":
        request["form"] = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    elif declared == "multipart/form-data":
        try:
            parts = parse_multipart(raw, request.headers.get("Content-Type"))
        except ValueError as exc:
            request["multipart_error"] = str(exc)
            parts = []
        request["multipart"] = parts
        request["form"] = {}
        for part in parts:
            if part["name"] is not None and part["filename"] is None:
                request["form"].setdefault(part["name"], []).append(part["data"].decode("utf-8", "replace"))
        request._post = _post_compat(parts)  # pylint: disable=protected-access


# -- the request log -------------------------------------------------------------------
class RequestLog(object):
    """Every request in order, with secrets redacted; optionally appended to a JSON-lines file."""

    def __init__(self, secrets, log_file=None):
        # Also their URL-encoded spellings (the raw path keeps percent-encoding); longest first, so a
        # secret that contains another is replaced whole.
        spellings = set()
        for secret in secrets:
            if secret and len(secret) >= 4:
                spellings.update((secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)))
        self.secrets = sorted(spellings, key=len, reverse=True)
        self.log_file = log_file
        self.entries = []
        self.seq = 0
        self.redact_headers = set(ALWAYS_REDACTED_HEADERS)
        self.redact_fields = set()

    def clear(self):
        # seq keeps counting, so a --log-file never holds two entries with one seq.
        self.entries = []

    def entry_for(self, request, vendor_tag, started):
        return {
            "seq": None,
            "time": started,
            "vendor": vendor_tag,
            "operation": request.match_info.route.name,
            "method": request.method,
            "path": request.rel_url.raw_path,
            "query": self._fields(dict((k, request.query.getall(k)) for k in request.query.keys())),
            "headers": self._headers(request),
            "content_type": media_type(request.headers.get("Content-Type")),
            "body_size": len(request.get("raw_body") or b""),
            # Control calls may carry a secret in JSON (e.g. a webhook secret); vendor bodies are kept as sent.
            "json": self._json_fields(request.get("json")) if vendor_tag == "control" else request.get("json"),
            "json_error": request.get("json_error"),
            "form": self._fields(request.get("form")),
            "files": self._files(request.get("multipart")),
            "status": None,
            "fault": None,
        }

    def append(self, entry):
        # Numbered when appended, so seq order is log order even when a slow request finishes late.
        self.seq += 1
        entry["seq"] = self.seq
        entry = self.scrub(entry)
        self.entries.append(entry)
        if self.log_file:
            with open(self.log_file, "a") as handle:
                handle.write(json.dumps(entry, sort_keys=True) + "\n")
        return entry

    def select(self, since=0, vendor=None):
        return [e for e in self.entries if e["seq"] > since and (vendor is None or e["vendor"] == vendor)]

    # redaction ---------------------------------------------------------------------
    def _headers(self, request):
        headers = {}
        for name, value in request.headers.items():
            name = name.lower()
            if name in self.redact_headers:
                value = REDACTED
            headers[name] = headers[name] + ", " + value if name in headers else value
        return headers

    def _fields(self, fields):
        if fields is None:
            return None
        return dict((name, [REDACTED] * len(values) if self._secret_field(name) else list(values))
                    for name, values in fields.items())

    def _json_fields(self, value):
        if isinstance(value, dict):
            return dict((k, REDACTED if self._secret_field(str(k)) and isinstance(v, str) else self._json_fields(v))
                        for k, v in value.items())
        if isinstance(value, list):
            return [self._json_fields(v) for v in value]
        return value

    def _secret_field(self, name):
        return name.lower() in self.redact_fields or SECRETISH_FIELD.search(name) is not None

    @staticmethod
    def _files(parts):
        if parts is None:
            return None
        return [{"field": p["name"], "filename": p["filename"], "content_type": p["content_type"], "size": len(p["data"])}
                for p in parts if p["filename"] is not None]

    def scrub(self, value):
        """The value with every configured secret replaced, wherever it occurs."""
        if isinstance(value, str):
            for secret in self.secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return dict((self.scrub(k), self.scrub(v)) for k, v in value.items())
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value


# -- faults ------------------------------------------------------------------------------
class FaultError(ValueError):
    pass


class FaultRule(object):
    """One injected failure: which requests it matches, what happens, and how many times."""

    def __init__(self, rule_id, spec):
        if not isinstance(spec, dict):
            raise FaultError("a fault rule must be a JSON object")
        match = spec.get("match") or {}
        if not isinstance(match, dict):
            raise FaultError("'match' must be an object")
        self.id = rule_id
        self.method = _optional_str(match, "method")
        self.path = _optional_str(match, "path")
        self.path_regex = _optional_str(match, "path_regex")
        self.vendor = _optional_str(match, "vendor")
        try:
            self._regex = re.compile(self.path_regex) if self.path_regex else None
        except re.error as exc:
            raise FaultError("'path_regex' is not a valid regular expression: %s" % exc)
        self.action = spec.get("action")
        if self.action not in FAULT_ACTIONS:
            raise FaultError("'action' must be one of %s" % ", ".join(FAULT_ACTIONS))
        self.status = _int_in(spec, "status", 500, 100, 599)
        self.headers = spec.get("headers") or {}
        if not isinstance(self.headers, dict):
            raise FaultError("'headers' must be an object")
        self.headers = dict((str(k), str(v)) for k, v in self.headers.items())
        self.body = spec.get("body")
        self.delay = spec.get("delay", 0)
        if isinstance(self.delay, bool) or not isinstance(self.delay, (int, float)) or self.delay < 0:
            raise FaultError("'delay' must be a number of seconds >= 0")
        self.count = _int_in(spec, "count", 1, 1, None)
        self.remaining = self.count

    def matches(self, request, vendor_tag):
        if self.remaining <= 0:
            return False
        if self.method and self.method.upper() != request.method:
            return False
        if self.path and self.path != request.path:
            return False
        if self._regex and not self._regex.search(request.path):
            return False
        return not self.vendor or self.vendor == vendor_tag

    def as_dict(self):
        given = (("method", self.method), ("path", self.path), ("path_regex", self.path_regex), ("vendor", self.vendor))
        match = dict((k, v) for k, v in given if v)
        return {"id": self.id, "match": match, "action": self.action, "status": self.status, "headers": self.headers,
                "body": self.body, "delay": self.delay, "count": self.count, "remaining": self.remaining}


def _optional_str(spec, key):
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        raise FaultError("'match.%s' must be a string" % key)
    return value


def _int_in(spec, key, default, low, high):
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise FaultError("'%s' must be an integer %s" % (key, "from %d to %d" % (low, high) if high else ">= %d" % low))
    return value


class FaultRules(object):
    def __init__(self):
        self.rules = []
        self.counter = 0

    def add(self, spec):
        self.counter += 1
        rule = FaultRule("fault-%d" % self.counter, spec)
        self.rules.append(rule)
        return rule

    def take(self, request, vendor_tag):
        """The first live rule matching the request, with one use consumed; None if none."""
        for rule in self.rules:
            if rule.matches(request, vendor_tag):
                rule.remaining -= 1
                return rule
        return None

    def remove(self, rule_id):
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def clear(self):
        self.rules = []


# -- the core ---------------------------------------------------------------------------------
class SandboxCore(object):
    """Vendors, request log, faults and the state they share."""

    def __init__(self, ctx, log_file=None):
        self.ctx = ctx
        self.vendors = []
        self.log = RequestLog(ctx.config.secrets(), log_file)
        self.faults = FaultRules()

    def load_vendors(self, modules=VENDOR_MODULES):
        for module_name, class_name in modules:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                warn("vendor module %s.py not found: its API is not served" % module_name)
                continue
            self.add_vendor(getattr(module, class_name)(self.ctx))

    def add_vendor(self, vendor):
        self.vendors.append(vendor)
        self.ctx.add_vendor(vendor)
        self.log.redact_headers.update(h.lower() for h in vendor.redact_headers)
        self.log.redact_fields.update(f.lower() for f in vendor.redact_form_fields)

    def vendor_for(self, path):
        for vendor in self.vendors:
            if vendor.owns(path):
                return vendor
        return None

    def reset(self):
        self.ctx.reset()
        self.ctx.config.reset_variants()
        self.faults.clear()
        self.log.clear()
        for vendor in self.vendors:
            vendor.on_reset()

    # responses the core makes -----------------------------------------------------------------
    @staticmethod
    def plain_error(status, message):
        return web.json_response({"error": message, "status": status}, status=status)

    def fault_response(self, rule, vendor):
        if rule.body is not None:
            return web.json_response(rule.body, status=rule.status, headers=rule.headers)
        if vendor is not None:
            return vendor.error_response(rule.status, headers=dict(rule.headers))
        response = self.plain_error(rule.status, "injected fault %s" % rule.id)
        response.headers.update(rule.headers)
        return response

    async def call_handler(self, request, handler, vendor):
        unmatched = request.match_info.http_exception
        if unmatched is not None:
            if vendor is not None:
                return vendor.error_response(404)
            return self.plain_error(unmatched.status, unmatched.reason)
        try:
            return await handler(request)
        except web.HTTPException as exc:
            return web.Response(status=exc.status, text=exc.text, headers=exc.headers)
        except Exception:  # pylint: disable=broad-except
            # A handler bug must still produce a logged answer, not a dropped connection.
            warn("handler for %s %s failed:\n%s" % (request.method, request.path, traceback.format_exc()))
            if vendor is not None:
                return vendor.error_response(500)
            return self.plain_error(500, "internal sandbox error")


CORE_KEY = web.AppKey("sandbox_core", SandboxCore)


def vendor_tag_of(core, path):
    if path.startswith(CONTROL_PREFIX):
        return "control", None
    vendor = core.vendor_for(path)
    return (vendor.name if vendor else None), vendor


async def _read_body_or_413(request):
    """Read the body; the 413 exception when it is over ``client_max_size``, else None."""
    try:
        await read_body(request)
    except web.HTTPRequestEntityTooLarge as exc:
        request["raw_body"] = b""
        return exc
    return None


async def _answer(core, request, handler, vendor, rule, too_large):
    """The response to send: the handler's, a fault's, or None when the connection is to be dropped unprocessed."""
    if too_large is not None:
        return vendor.error_response(413) if vendor else core.plain_error(413, too_large.text)
    if rule is not None and rule.action == "drop":
        return None
    if rule is not None and rule.action == "respond":
        return core.fault_response(rule, vendor)
    return await core.call_handler(request, handler, vendor)


def _drop(request):
    """Close the connection without a byte of response; the client sees it closed."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)  # never sent: the transport is gone


@web.middleware
async def sandbox_middleware(request, handler):
    """For every request: tag the vendor, read the body, apply faults, handle, log."""
    core = request.app[CORE_KEY]
    started = core.ctx.now()
    tag, vendor = vendor_tag_of(core, request.path)
    too_large = await _read_body_or_413(request)
    entry = core.log.entry_for(request, tag, started)
    rule = None if tag == "control" or too_large else core.faults.take(request, tag)
    if rule is not None:
        entry["fault"] = {"id": rule.id, "action": rule.action}
        if rule.delay:
            await asyncio.sleep(rule.delay)
    response = await _answer(core, request, handler, vendor, rule, too_large)
    dropped = rule is not None and rule.action in ("drop", "commit_then_drop")
    entry["status"] = None if dropped else response.status
    core.log.append(entry)
    return _drop(request) if dropped else response


# -- control API -------------------------------------------------------------------------------
def _json_body(request):
    """The request's JSON body, or a 400 response explaining why there is none."""
    if request.get("json_error"):
        return None, web.json_response({"error": "invalid JSON body: %s" % request["json_error"]}, status=400)
    return request.get("json"), None


async def control_health(request):
    core = request.app[CORE_KEY]
    return web.json_response({"ok": True, "vendors": [v.name for v in core.vendors]})


async def control_reset(request):
    request.app[CORE_KEY].reset()
    return web.json_response({"ok": True})


async def control_requests(request):
    core = request.app[CORE_KEY]
    try:
        since = int(request.query.get("since", "0"))
    except ValueError:
        return web.json_response({"error": "'since' must be an integer"}, status=400)
    if request.query.get("limit") == "0":
        # Just the newest sequence number: what a test remembers before it counts the requests a task sends.
        return web.json_response({"requests": [], "last_seq": core.log.seq})
    return web.json_response({"requests": core.log.select(since, request.query.get("vendor")), "last_seq": core.log.seq})


async def control_clear_requests(request):
    request.app[CORE_KEY].log.clear()
    return web.json_response({"ok": True})


async def control_save(request):
    ctx = request.app[CORE_KEY].ctx
    if not ctx.state_file:
        return web.json_response({"error": "no --state file was given"}, status=400)
    ctx.save()
    return web.json_response({"ok": True, "state_file": ctx.state_file})


def elide_blobs(value):
    """The state with long base64 strings replaced by a note of their size."""
    if isinstance(value, str) and BASE64_BLOB.match(value):
        return "<%d base64 characters elided>" % len(value)
    if isinstance(value, dict):
        return dict((k, elide_blobs(v)) for k, v in value.items())
    if isinstance(value, list):
        return [elide_blobs(v) for v in value]
    return value


async def control_state(request):
    state = request.app[CORE_KEY].ctx.state
    if request.query.get("full") not in ("1", "true", "yes"):
        state = elide_blobs(state)
    return web.json_response(state)


async def control_add_fault(request):
    spec, error = _json_body(request)
    if error:
        return error
    try:
        rule = request.app[CORE_KEY].faults.add(spec)
    except FaultError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(rule.as_dict(), status=201)


async def control_list_faults(request):
    return web.json_response({"faults": [r.as_dict() for r in request.app[CORE_KEY].faults.rules]})


async def control_clear_faults(request):
    request.app[CORE_KEY].faults.clear()
    return web.json_response({"ok": True})


async def control_delete_fault(request):
    if not request.app[CORE_KEY].faults.remove(request.match_info["fault_id"]):
        return web.json_response({"error": "no fault %s" % request.match_info["fault_id"]}, status=404)
    return web.json_response({"ok": True})


async def control_variants(request):
    choices = dict((name, list(values) if values is not None else None) for name, values in VARIANT_CHOICES.items())
    return web.json_response({"variants": request.app[CORE_KEY].ctx.config.all_variants(), "choices": choices})


async def control_set_variants(request):
    spec, error = _json_body(request)
    if error:
        return error
    if not isinstance(spec, dict):
        return web.json_response({"error": "the body must be an object of variant names to values"}, status=400)
    config = request.app[CORE_KEY].ctx.config
    try:
        config.set_variants(spec)
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"variants": config.all_variants()})


CONTROL_ROUTES = (
    ("GET", "/_sandbox/health", control_health, "control.health"),
    ("POST", "/_sandbox/reset", control_reset, "control.reset"),
    ("GET", "/_sandbox/requests", control_requests, "control.requests"),
    ("DELETE", "/_sandbox/requests", control_clear_requests, "control.clear_requests"),
    ("POST", "/_sandbox/save", control_save, "control.save"),
    ("GET", "/_sandbox/state", control_state, "control.state"),
    ("POST", "/_sandbox/faults", control_add_fault, "control.add_fault"),
    ("GET", "/_sandbox/faults", control_list_faults, "control.list_faults"),
    ("DELETE", "/_sandbox/faults", control_clear_faults, "control.clear_faults"),
    ("DELETE", "/_sandbox/faults/{fault_id}", control_delete_fault, "control.delete_fault"),
    ("GET", "/_sandbox/variants", control_variants, "control.variants"),
    ("POST", "/_sandbox/variants", control_set_variants, "control.set_variants"),
)


def build_app(core):
    app = web.Application(middlewares=[sandbox_middleware], client_max_size=CLIENT_MAX_SIZE)
    app[CORE_KEY] = core
    for method, path, handler, name in CONTROL_ROUTES:
        app.router.add_route(method, path, handler, name=name)
    for vendor in core.vendors:
        vendor.register(app)
        vendor.register_control(app)
    return app


# -- process ----------------------------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python tests/sandbox", description="Local emulator of the vendor APIs.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--state", metavar="FILE", help="load state from FILE at start and keep it saved there")
    parser.add_argument("--log-file", metavar="FILE", help="append every request-log entry to FILE as JSON lines")
    return parser.parse_args(argv)


def url_for(address):
    host, port = address[0], address[1]
    if ":" in host:
        host = "[%s]" % host
    return "http://%s:%d" % (host, port)


async def serve(core, host, port):
    """Serve until SIGTERM or SIGINT, then save the state."""
    runner = web.AppRunner(build_app(core), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # The URL line is the readiness signal, so it is printed only once the socket listens.
    print("SANDBOX_URL=%s" % url_for(runner.addresses[0]), flush=True)
    await stop.wait()
    await runner.cleanup()
    core.ctx.save()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    ctx = SandboxContext(SandboxConfig(), state_file=args.state)
    core = SandboxCore(ctx, log_file=args.log_file)
    core.load_vendors()
    ctx.load()
    asyncio.run(serve(core, args.host, args.port))
    return 0
