"""Check requests recorded by the sandbox against the vendor API documents.

The sandbox (tests/sandbox) records every request it receives.  This module
matches each vendor request to exactly one operation of that vendor's
OpenAPI 3.0 or Swagger 2.0 document and reports every way the request breaks
the document: routing, path/query/header parameters, credentials, content type
and body.

Bugs in the documents are corrected only through KNOWN_SPEC_DEVIATIONS.  A
request that passes only because of such a correction is reported as
"tolerated", so the corrections stay visible.  Responses are not checked.
"""

import copy
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, unquote

from jsonschema import Draft4Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT4

SKIP_MESSAGE = "../shared/api not found: conformance needs the team's API documents; outside this team's CI it is skipped"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
UNMATCHED = "(no such operation)"


class VendorInfo(NamedTuple):
    document: str
    base_path: str


# Where each vendor's document lives and the prefix the sandbox serves it under.
VENDORS = {
    "falcon": VendorInfo("falcon_message_center.openapi.json", ""),
    "cloudforce_one": VendorInfo("cloudforce_one.openapi.json", "/client/v4"),
    "unit21": VendorInfo("unit21.openapi.json", "/v1"),
}

# Used only when an entry carries no vendor (e.g. a request the sandbox could not route).
VENDOR_PATH_PREFIXES = (
    ("/_sandbox/", "control"),
    ("/client/v4/", "cloudforce_one"),
    ("/v1/", "unit21"),
    ("/message-center/", "falcon"),
    ("/oauth2/", "falcon"),
)

# The token endpoints are not part of the Message Center extract.  This is
# falcon_message_center.md section 4.1 restated as Swagger 2.0, so the same
# checks apply: token takes client_id + client_secret (+ optional member_cid)
# as a urlencoded form and no credentials; revoke takes the form field token
# (+ optional client_id) and an Authorization (basic) header.
FALCON_OAUTH2_PATHS = {
    "/oauth2/token": {"post": {
        "operationId": "oauth2AccessToken",
        "consumes": ["application/x-www-form-urlencoded"],
        "security": [],
        "parameters": [
            {"name": "client_id", "in": "formData", "type": "string", "required": True},
            {"name": "client_secret", "in": "formData", "type": "string", "required": True},
            {"name": "member_cid", "in": "formData", "type": "string", "required": False},
        ],
    }},
    "/oauth2/revoke": {"post": {
        "operationId": "oauth2RevokeToken",
        "consumes": ["application/x-www-form-urlencoded"],
        "security": [{"basicAuth": []}],
        "parameters": [
            {"name": "token", "in": "formData", "type": "string", "required": True},
            {"name": "client_id", "in": "formData", "type": "string", "required": False},
        ],
    }},
}
FALCON_OAUTH2_SECURITY = {"basicAuth": {"type": "basic"}}


class Deviation(NamedTuple):
    """A known bug in a vendor document and how the checker corrects it.

    ``operation`` is an operationId or "*" (every operation of the vendor).
    ``target`` is a JSON pointer into the vendor document, or "rule:<name>" for
    corrections that are not a document edit.  ``fix`` says what is done there:
    ("remove_items", [...]) drops list items, ("set", value) replaces the value,
    ("add_security", requirement) adds an accepted credential alternative, and
    ("path_schema", [names], schema) gives the named path parameters that schema.
    """

    vendor: str
    operation: str
    target: str
    reason: str
    fix: tuple


ENTITY_ID_CHARACTERS = r"^[-_:.@a-zA-Z0-9!#$%&'*+/=?^`{]+$"

KNOWN_SPEC_DEVIATIONS = (
    Deviation(
        "falcon", "CreateCaseV2", "/definitions/messagecenter.CaseCreationRequestV2/required",
        "falcon_message_center.md 1.2: the required list is stricter than any SDK; falconpy and PSFalcon send only the keys the caller set, "
        "so detections, incidents, malware_submission_id and recon_rule_type may be left out",
        ("remove_items", ["detections", "incidents", "malware_submission_id", "recon_rule_type"])),
    Deviation(
        "falcon", "CreateCaseV2", "/definitions/messages.Alert/required",
        "falcon_message_center.md 1.2: PSFalcon sends detections as [{\"id\": ...}] only, without product and url",
        ("remove_items", ["product", "url"])),
    Deviation(
        "falcon", "CreateCaseV2", "/definitions/messages.Incident/required",
        "falcon_message_center.md 1.2: PSFalcon sends incidents as [{\"id\": ...}] only, without url",
        ("remove_items", ["url"])),
    Deviation(
        "falcon", "AggregateCases", "/definitions/msa.AggregateQueryRequest/required",
        "falcon_message_center.md 1.2 (AggregateCases): almost every field is marked required, but falconpy's aggregate_payload sends "
        "only what the caller sets",
        ("set", [])),
    Deviation(
        "falcon", "QueryCasesIdsByFilter", "/paths/~1message-center~1queries~1cases~1v1/get/parameters/3/type",
        "falcon_message_center.md 1.2: offset is typed integer since the 2025-10-17 spec and string before it; accept both",
        ("set", ["integer", "string"])),
    Deviation(
        "falcon", "QueryActivityByCaseID", "/paths/~1message-center~1queries~1case-activities~1v1/get/parameters/3/type",
        "falcon_message_center.md 1.2: offset takes the same parameters as QueryCasesIdsByFilter, integer now and string before; accept both",
        ("set", ["integer", "string"])),
    Deviation(
        "cloudforce_one", "*", "rule:security",
        "cloudforce_one.md 1 and 2 (Auth): every operation declares only api_email + api_key, yet the docs list API-token permissions "
        "(Cloudforce One Read/Write) for them; a bearer token is accepted too",
        ("add_security", {"api_token": []})),
    Deviation(
        "cloudforce_one", "*", "rule:path-parameters",
        "cloudforce_one.md 1: request_id and priority_id are UUIDs, but the shared uuid schema declares only maxLength 36, so a "
        "readable id such as RFI-2022-000001 would pass; they are checked as format uuid (asset_id keeps the schema: asset ids are "
        "integers, 1.5 #3)",
        ("path_schema", ["request_id", "priority_id"], {"type": "string", "format": "uuid", "maxLength": 36})),
    Deviation(
        "unit21", "*", "/components/parameters/unit21_id/schema/type",
        "unit21.md 2.7 and 2.8 #4: unit21_id is Unit21's numeric id (schemas/unit21Id is an integer, webhooks send integers), but the "
        "path parameter is typed string, which would let an external case_id through; it is checked as an integer",
        ("set", "integer")),
    Deviation(
        "unit21", "create_case", "/components/schemas/Cases/required",
        "unit21.md 2.1 and 2.8 #1: created_at is required but is not a property; Unit21's own Postman request omits it",
        ("remove_items", ["created_at"])),
    Deviation(
        "unit21", "*", "/components/schemas/entityId/pattern",
        "Found in unit21.openapi.json (not in the notes): the pattern lacks the [...]+ of a character class and has ^ mid-string, so it "
        "matches no string at all; it is replaced by the character set the description lists",
        ("set", ENTITY_ID_CHARACTERS)),
    Deviation(
        "unit21", "link_media_to_case", "/components/schemas/linkMediaJSON/items/required",
        "unit21.md 2.5 and 2.8 #5: linkMediaJSON puts required [media, name] on the array, where JSON Schema ignores it; it is meant "
        "for each item",
        ("set", ["media", "name"])),
    Deviation(
        "unit21", "link_media_to_case", "/paths/~1cases~1{unit21_id}~1link-media/put/requestBody/content",
        "unit21.md 2.5 and 2.8 #5: the multipart variant is declared under application/json, so any JSON object passes the oneOf; "
        "a JSON body is an array of linkMediaJSON items, and multipart/form-data carries freely named file parts, each with an "
        "optional same-name text part holding JSON metadata",
        ("set", {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/linkMediaJSON/items"}}},
                 "multipart/form-data": {"x-caseops-media-parts": True}})),
)


def deviation_id(index):
    """Stable short name of a table row, used in reports and the README."""
    return "D%d" % (index + 1)


class Violation(NamedTuple):
    seq: int | None
    vendor: str
    method: str
    path: str
    operation: str | None
    check: str
    message: str

    def __str__(self):
        return "seq %s: %s %s [%s %s] %s: %s" % (self.seq, self.method, self.path, self.vendor, self.operation or "-", self.check, self.message)


class Tolerance(NamedTuple):
    seq: int | None
    vendor: str
    operation: str
    deviation: str
    check: str
    message: str

    def __str__(self):
        return "seq %s: [%s %s] %s tolerates %s: %s" % (self.seq, self.vendor, self.operation, self.deviation, self.check, self.message)


class ApiDirMissing(FileNotFoundError):
    """The API documents directory does not exist (conformance is skipped)."""


# ---------------------------------------------------------------------------
# Formats.  Only these are checked; unknown ones ("key-value pair", "URL",
# "double") are annotations, as JSON Schema allows.  No optional jsonschema
# extras are needed.

FORMATS = FormatChecker(formats=())
RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _valid_date(text):
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@FORMATS.checks("date-time")
def _is_date_time(value):
    if not isinstance(value, str):
        return True
    match = RFC3339.fullmatch(value)
    if not match or not _valid_date(match.group(1)):
        return False
    hour, minute, second = int(match.group(2)), int(match.group(3)), int(match.group(4))
    offset_ok = match.group(6) is None or (int(match.group(6)) < 24 and int(match.group(7)) < 60)
    return hour < 24 and minute < 60 and second <= 60 and offset_ok


@FORMATS.checks("date")
def _is_date(value):
    return not isinstance(value, str) or (re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None and _valid_date(value))


@FORMATS.checks("uuid")
def _is_uuid(value):
    return not isinstance(value, str) or UUID.fullmatch(value) is not None


def _int_range_check(bits):
    limit = 2 ** (bits - 1)

    def check(value):
        if isinstance(value, bool) or not isinstance(value, int):
            return True
        return -limit <= value < limit
    return check


FORMATS.checks("int32")(_int_range_check(32))
FORMATS.checks("int64")(_int_range_check(64))


def _reject_read_only(validator, value, instance, schema):
    # OAS 3.0 / Swagger 2.0: readOnly values "SHOULD NOT be sent as part of the request".
    if value is True:
        yield ValidationError("readOnly value %s must not be sent in a request" % _short(repr(instance), 80))


ParamValidator = Draft4Validator
BodyValidator = validators.extend(Draft4Validator, {"readOnly": _reject_read_only})


def _short(text, limit=240):
    text = str(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# ---------------------------------------------------------------------------
# JSON pointer helpers.

def _pointer(*parts):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _split_pointer(pointer):
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def _get(doc, pointer):
    node = doc
    for part in _split_pointer(pointer):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _apply_fix(doc, pointer, fix):
    parts = _split_pointer(pointer)
    parent = _get(doc, _pointer(*parts[:-1]))
    key = int(parts[-1]) if isinstance(parent, list) else parts[-1]
    if fix[0] == "set":
        parent[key] = copy.deepcopy(fix[1])
    elif fix[0] == "remove_items":
        parent[key] = [item for item in parent[key] if item not in fix[1]]
    else:
        raise ValueError("unknown fix %r for %s" % (fix[0], pointer))


# ---------------------------------------------------------------------------
# Documents and operations.

@dataclass
class Param:
    name: str
    location: str           # path, query, header or form
    required: bool
    schema_pointer: str | None      # None for Swagger file fields
    is_file: bool | None = None     # True: file part only; False: text only; None: either (OAS multipart)


@dataclass
class Media:
    schema_pointer: str | None = None   # JSON bodies
    fields: dict | None = None          # form bodies: {name: Param}
    media_parts: bool = False       # Unit21 link-media multipart (see KNOWN_SPEC_DEVIATIONS)
    extra_fields: bool = False      # the form schema allows undeclared fields


@dataclass
class Body:
    required: bool
    media: dict


@dataclass
class Operation:
    vendor: str
    operation_id: str
    method: str
    template: str
    params: list
    body: Body | None
    security: list          # alternatives; each a list of ("header"|"query", name)


# Swagger 2.0 keys of a non-body parameter that are JSON Schema validation keywords
# (collectionFormat is not, but is kept so array values can be split; validators ignore it).
SWAGGER_PARAM_SCHEMA_KEYS = ("type", "format", "items", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                             "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "multipleOf", "collectionFormat")
SCHEMA_IN_PARAM = "x-caseops-schema"
OVERRIDES = "x-caseops-path-schemas"


def _swagger_param_schemas(doc):
    """Give each Swagger non-body parameter a schema object the validator can point at."""
    holders = [doc.get("parameters", {}).values()]
    for item in doc.get("paths", {}).values():
        holders.append(item.get("parameters", []))
        holders.extend(op.get("parameters", []) for m, op in item.items() if m in HTTP_METHODS)
    for params in holders:
        for param in params:
            if "$ref" not in param and param.get("in") != "body" and param.get("type") != "file":
                param[SCHEMA_IN_PARAM] = {k: v for k, v in param.items() if k in SWAGGER_PARAM_SCHEMA_KEYS}


def _walk(node, visit):
    if isinstance(node, dict):
        visit(node)
        for key, value in node.items():
            if key not in ("example", "examples", "x-example"):
                _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def _convert_nullable(node):
    # OAS 3.0 "nullable: true" is not JSON Schema; express it as a null type.
    if node.get("nullable") is not True:
        return
    del node["nullable"]
    if "enum" in node and None not in node["enum"]:
        node["enum"] = node["enum"] + [None]
    if isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    elif "type" not in node:
        rest = dict(node)
        node.clear()
        node["anyOf"] = [{"type": "null"}, rest]


class ApiDocument:
    """One vendor document with a chosen set of deviations applied."""

    def __init__(self, vendor, raw, deviations):
        doc = copy.deepcopy(raw)
        self.extra_security, self.path_schemas = [], {}
        for dev in deviations:
            if dev.fix[0] == "add_security":
                self.extra_security.append(dev.fix[1])
            elif dev.fix[0] == "path_schema":
                # Kept inside the document so the validators can point at it.
                for name in dev.fix[1]:
                    doc.setdefault(OVERRIDES, {})[name] = copy.deepcopy(dev.fix[2])
                    self.path_schemas[name] = _pointer(OVERRIDES, name)
            else:
                _apply_fix(doc, dev.target, dev.fix)
        self.vendor = vendor
        self.doc = doc
        self.swagger = "swagger" in doc
        if self.swagger:
            _swagger_param_schemas(doc)
        _walk(doc, _convert_nullable)
        _walk(doc, self._drop_read_only_required)
        self.uri = "urn:caseops-conformance:%s" % vendor
        self.registry = Registry().with_resource(self.uri, DRAFT4.create_resource(doc))
        self._validators = {}
        self.operations = self._build_operations()

    # -- schema access ------------------------------------------------------

    def resolve(self, node, pointer):
        """Follow local $refs; return the target and its pointer."""
        for _hop in range(32):   # a bound, in case of a $ref cycle
            ref = node.get("$ref") if isinstance(node, dict) else None
            if not (isinstance(ref, str) and ref.startswith("#/")):
                break
            pointer = ref[1:]
            node = _get(self.doc, pointer)
        return node, pointer

    def _drop_read_only_required(self, node):
        # OAS 3.0: a readOnly property listed as required is required in responses only.
        props, required = node.get("properties"), node.get("required")
        if not isinstance(props, dict) or not isinstance(required, list):
            return
        keep = []
        for name in required:
            prop = props.get(name)
            target = self.resolve(prop, "")[0] if isinstance(prop, dict) else prop
            if not (isinstance(target, dict) and target.get("readOnly") is True):
                keep.append(name)
        node["required"] = keep

    def schema_at(self, pointer):
        return self.resolve(_get(self.doc, pointer), pointer)[0]

    def errors(self, pointer, instance, where, cls):
        key = (pointer, cls)
        if key not in self._validators:
            ref = {"$ref": self.uri + "#" + quote(pointer, safe="/~")}
            self._validators[key] = cls(ref, registry=self.registry, format_checker=FORMATS)
        found = sorted(self._validators[key].iter_errors(instance), key=lambda e: ([str(p) for p in e.absolute_path], e.message))
        return [_describe_error(error, where) for error in found]

    # -- operations ---------------------------------------------------------

    def _build_operations(self):
        ops = {}
        for template, item in self.doc.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method not in HTTP_METHODS:
                    continue
                base = _pointer("paths", template)
                raw = [(p, base + _pointer("parameters", i)) for i, p in enumerate(shared)]
                raw += [(p, base + _pointer(method, "parameters", i)) for i, p in enumerate(op.get("parameters", []))]
                params = self._params(raw)
                body = self._swagger_body(op, raw) if self.swagger else self._oas_body(op, base + _pointer(method, "requestBody"))
                ops[(method.upper(), template)] = Operation(
                    self.vendor, op.get("operationId") or "%s %s" % (method.upper(), template), method.upper(), template,
                    params, body, self._security(op))
        return ops

    def _params(self, raw):
        merged = {}
        for param, pointer in raw:
            param, pointer = self.resolve(param, pointer)
            location = param.get("in")
            if location in ("body", "formData"):
                continue
            if self.swagger:
                schema_pointer = pointer + _pointer(SCHEMA_IN_PARAM)
            else:
                schema_pointer = pointer + "/schema" if "schema" in param else None
            if location == "path" and param["name"] in self.path_schemas:
                schema_pointer = self.path_schemas[param["name"]]
            # Operation-level parameters override path-level ones of the same name and location.
            merged[(location, param["name"])] = Param(param["name"], location, bool(param.get("required")), schema_pointer)
        return list(merged.values())

    def _swagger_body(self, op, raw):
        consumes = [c.lower() for c in op.get("consumes", self.doc.get("consumes", ["application/json"]))]
        fields, body = {}, None
        for param, pointer in raw:
            param, pointer = self.resolve(param, pointer)
            if param.get("in") == "body":
                body = Body(bool(param.get("required")), {c: Media(schema_pointer=pointer + "/schema") for c in consumes})
            elif param.get("in") == "formData":
                is_file = param.get("type") == "file"
                fields[param["name"]] = Param(param["name"], "form", bool(param.get("required")),
                                              None if is_file else pointer + _pointer(SCHEMA_IN_PARAM), is_file)
        if fields:
            body = Body(any(f.required for f in fields.values()), {c: Media(fields=fields) for c in consumes})
        return body

    def _oas_body(self, op, pointer):
        if "requestBody" not in op:
            return None
        request_body, pointer = self.resolve(op["requestBody"], pointer)
        media = {}
        for media_type, content in request_body.get("content", {}).items():
            schema_pointer = pointer + _pointer("content", media_type, "schema")
            if content.get("x-caseops-media-parts"):
                media[media_type.lower()] = Media(media_parts=True)
            elif _is_form(media_type):
                media[media_type.lower()] = self._oas_form(schema_pointer)
            else:
                media[media_type.lower()] = Media(schema_pointer=schema_pointer)
        return Body(bool(request_body.get("required")), media)

    def _oas_form(self, schema_pointer):
        schema, pointer = self.resolve(_get(self.doc, schema_pointer), schema_pointer)
        parts = [(schema, pointer)]
        parts += [self.resolve(sub, pointer + _pointer("allOf", i)) for i, sub in enumerate(schema.get("allOf", []))]
        fields, extra = {}, False
        for part, part_pointer in parts:
            required = part.get("required", [])
            extra = extra or bool(part.get("additionalProperties"))
            for name in part.get("properties", {}):
                fields[name] = Param(name, "form", name in required, part_pointer + _pointer("properties", name))
        return Media(fields=fields, extra_fields=extra)

    def _security(self, op):
        requirements = op.get("security", self.doc.get("security", []))
        schemes = self.doc.get("securityDefinitions", {}) if self.swagger else self.doc.get("components", {}).get("securitySchemes", {})
        alternatives = [[_credential_slot(schemes.get(name, {})) for name in requirement] for requirement in requirements]
        if alternatives:
            alternatives += [[_credential_slot(schemes.get(name, {})) for name in extra] for extra in self.extra_security]
        return alternatives


def _credential_slot(scheme):
    """Where a security scheme's credential travels: ("header"|"query", name)."""
    if scheme.get("type") == "apiKey":
        where, name = scheme.get("in", "header"), scheme.get("name", "")
        return (where, name.lower() if where == "header" else name)   # the log lower-cases header names
    return ("header", "authorization")   # http bearer/basic, oauth2, openIdConnect, Swagger basic


def _is_form(media_type):
    return media_type.lower() in ("application/x-www-form-urlencoded", "multipart/form-data")


def _is_json(media_type):
    media_type = media_type.lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _describe_error(error, where):
    location = where
    for part in error.absolute_path:
        location += "[%d]" % part if isinstance(part, int) else ".%s" % part
    message = "%s: %s" % (location, _short(error.message))
    if error.context:
        message += " (closest: %s)" % _short(best_match(error.context).message, 160)
    return message


# ---------------------------------------------------------------------------
# Routing.

@dataclass
class Route:
    template: str
    regex: re.Pattern
    names: list
    specificity: tuple
    methods: dict = field(default_factory=dict)   # METHOD -> operationId


def _compile_route(base_path, template):
    names, parts = [], []
    for segment in template.strip("/").split("/"):
        pieces = re.split(r"\{([^}]+)\}", segment)
        regex = ""
        for i, piece in enumerate(pieces):
            if i % 2:
                names.append(piece)
                regex += "([^/]+)"
            else:
                regex += re.escape(piece)
        parts.append(regex)
    # Literal segments sort before templated ones: /requests/new beats /requests/{request_id}.
    specificity = tuple(1 if "{" in s else 0 for s in template.strip("/").split("/"))
    return Route(template, re.compile(re.escape(base_path) + "/" + "/".join(parts)), names, specificity)


# ---------------------------------------------------------------------------
# Request checks.  Each returns a list of (check, message) findings.

def _coerce(text, types):
    """Query, path and form values are strings; read them as the declared type."""
    for kind in types:
        if kind == "integer" and re.fullmatch(r"-?\d+", text):
            return int(text)
        if kind == "number" and re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
            return float(text)
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
    return text


def _schema_types(api, schema):
    schema = api.resolve(schema, "")[0]
    kinds = schema.get("type")
    if kinds is None:
        for sub in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
            kinds = _schema_types(api, sub)
            if kinds:
                break
    return [kinds] if isinstance(kinds, str) else list(kinds or [])


def _check_values(api, param, values, check):
    if param.schema_pointer is None:
        return []
    schema = api.schema_at(param.schema_pointer)
    types = _schema_types(api, schema)
    label = "%s parameter %r" % (check, param.name) if check != "form" else "form field %r" % param.name
    if "array" in types:
        # Repeated values form the array; Swagger's default collectionFormat (csv) also splits one value.
        if api.swagger and len(values) == 1 and schema.get("collectionFormat", "csv") == "csv":
            values = values[0].split(",")
        item_types = _schema_types(api, schema.get("items", {}))
        instance = [_coerce(v, item_types) for v in values]
    elif len(values) > 1:
        return [(check, "%s was given %d times but is not an array" % (label, len(values)))]
    else:
        instance = _coerce(values[0], types)
    return [(check, message) for message in api.errors(param.schema_pointer, instance, label, ParamValidator)]


def _check_path(api, op, route, match):
    findings = []
    declared = {p.name: p for p in op.params if p.location == "path"}
    for name, raw in zip(route.names, match.groups()):
        if name in declared:
            findings += _check_values(api, declared[name], [unquote(raw)], "path")
    return findings


def _as_list(values):
    if values is None:
        return []
    return [values] if isinstance(values, str) else list(values)


def _check_query(api, op, query):
    findings = []
    declared = {p.name: p for p in op.params if p.location == "query"}
    credentials = {name for alt in op.security for where, name in alt if where == "query"}
    for name in sorted(query):
        if name not in declared and name not in credentials:
            findings.append(("query", "unknown query parameter %r" % name))
    for param in declared.values():
        values = _as_list(query.get(param.name))
        if not values:
            if param.required:
                findings.append(("query", "required query parameter %r is missing" % param.name))
            continue
        findings += _check_values(api, param, [str(v) for v in values], "query")
    return findings


def _check_headers(api, op, headers):
    findings = []
    for param in op.params:
        # OAS: declared Accept, Content-Type and Authorization header parameters are ignored.
        if param.location != "header" or param.name.lower() in ("accept", "content-type", "authorization"):
            continue
        value = headers.get(param.name.lower())
        if value is None:
            if param.required:
                findings.append(("header", "required header %r is missing" % param.name))
        elif value != "<redacted>":
            findings += _check_values(api, param, [value], "header")
    return findings


def _present(slot, headers, query):
    where, name = slot
    value = headers.get(name) if where == "header" else (_as_list(query.get(name)) or [None])[0]
    return value not in (None, "")   # values are redacted: presence is what counts


def _check_security(op, headers, query):
    if not op.security or any(not alt for alt in op.security):
        return []
    if any(all(_present(slot, headers, query) for slot in alt) for alt in op.security):
        return []
    wanted = " or ".join(" + ".join("%s %s" % (name, where) for where, name in alt) for alt in op.security)
    return [("auth", "no credentials: expected %s" % wanted)]


def _has_body(entry):
    return bool(entry.get("body_size")) or entry.get("json") is not None or bool(entry.get("json_error")) \
        or bool(entry.get("form")) or bool(entry.get("files"))


def _match_media(media, content_type):
    if content_type in media:
        return media[content_type]
    major = content_type.split("/")[0]
    return media.get(major + "/*") or media.get("*/*")


def _check_body(api, op, entry):
    content_type = (entry.get("content_type") or "").lower()
    if op.body is None:
        if _has_body(entry):
            return [("body", "the operation takes no request body, but %s bytes (%s) were sent" % (entry.get("body_size"), content_type or "no type"))]
        return []
    if not _has_body(entry):
        return [("body", "a request body is required but none was sent")] if op.body.required else []
    findings = []
    if entry.get("json_error"):
        findings.append(("body", "the body is not valid JSON: %s" % _short(entry["json_error"])))
    if not content_type:
        findings.append(("content-type", "a body was sent without a Content-Type"))
        return findings
    media = _match_media(op.body.media, content_type)
    if media is None:
        accepted = ", ".join(sorted(op.body.media)) or "nothing"
        findings.append(("content-type", "Content-Type %s is not accepted; the operation consumes %s" % (content_type, accepted)))
        return findings
    if media.media_parts:
        return findings + _check_media_parts(entry)
    if media.fields is not None:
        return findings + _check_form(api, media, entry)
    if media.schema_pointer is not None and not entry.get("json_error"):
        if not _is_json(content_type):
            return findings   # raw (non-JSON) payloads are only checked for their type
        findings += [("body", message) for message in api.errors(media.schema_pointer, entry.get("json"), "body", BodyValidator)]
    return findings


def _file_counts(entry):
    counts = {}
    for part in entry.get("files") or []:
        counts[part.get("field")] = counts.get(part.get("field"), 0) + 1
    return counts


def _check_form(api, media, entry):
    form, files = entry.get("form") or {}, _file_counts(entry)
    findings = []
    if not media.extra_fields:
        findings += [("form", "unknown form field %r" % name) for name in sorted(set(form) | set(files)) if name not in media.fields]
    for name, param in media.fields.items():
        texts, parts = _as_list(form.get(name)), files.get(name, 0)
        if param.is_file is True:
            if parts > 1:
                findings.append(("form", "file part %r was sent %d times" % (name, parts)))
            elif not parts and texts:
                findings.append(("form", "form field %r must be a file part but was sent as text" % name))
            elif not parts and param.required:
                findings.append(("form", "required file part %r is missing" % name))
            continue
        if parts and param.is_file is False:
            findings.append(("form", "form field %r was sent as a file part; the document declares a text field" % name))
        elif not texts and not parts and param.required:
            findings.append(("form", "required form field %r is missing" % name))
        if texts:
            findings += _check_values(api, param, texts, "form")
    return findings


def _check_media_parts(entry):
    files, form = _file_counts(entry), entry.get("form") or {}
    findings = [] if files else [("form", "no file part: at least one media file is needed")]
    for name, values in sorted(form.items()):
        if name not in files:
            findings.append(("form", "text field %r has no file part of the same name (metadata must describe a file)" % name))
        for value in _as_list(values):
            try:
                ok = isinstance(json.loads(value), dict)
            except ValueError:
                ok = False
            if not ok:
                findings.append(("form", "metadata for %r is not a JSON object" % name))
    return findings


# ---------------------------------------------------------------------------
# The checker.

@dataclass
class OperationStats:
    vendor: str
    operation: str
    method: str
    template: str
    requests: int = 0
    violations: int = 0
    tolerated: int = 0


@dataclass
class Report:
    operations: dict = field(default_factory=dict)   # (vendor, operation) -> OperationStats
    violations: list = field(default_factory=list)
    tolerated: list = field(default_factory=list)
    ignored: int = 0                                 # control (sandbox API) entries

    @property
    def ok(self):
        return not self.violations

    def requests_for(self, vendor):
        return sum(s.requests for s in self.operations.values() if s.vendor == vendor)

    def vendor_requests(self):
        """Requests that belong to one of the three vendor APIs."""
        return sum(self.requests_for(vendor) for vendor in VENDORS)


class Checker:
    """Loads the three vendor documents and checks recorded requests against them."""

    def __init__(self, api_dir, deviations=KNOWN_SPEC_DEVIATIONS):
        api_dir = Path(api_dir)
        if not api_dir.is_dir():
            raise ApiDirMissing("%s (%s)" % (SKIP_MESSAGE, api_dir))
        self.deviations = tuple(deviations)
        self._raw = {vendor: self._load(api_dir / info.document, vendor) for vendor, info in VENDORS.items()}
        self._documents = {}
        self._routes = {vendor: self._index(vendor) for vendor in VENDORS}

    @staticmethod
    def _load(path, vendor):
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
        if vendor == "falcon":
            doc["paths"].update(copy.deepcopy(FALCON_OAUTH2_PATHS))
            doc.setdefault("securityDefinitions", {}).update(FALCON_OAUTH2_SECURITY)
        return doc

    def document(self, vendor, indices=()):
        """The vendor document with the given KNOWN_SPEC_DEVIATIONS rows applied (cached)."""
        key = (vendor, tuple(sorted(indices)))
        if key not in self._documents:
            self._documents[key] = ApiDocument(vendor, self._raw[vendor], [self.deviations[i] for i in key[1]])
        return self._documents[key]

    def _index(self, vendor):
        routes = {}
        for (method, template), op in self.document(vendor).operations.items():
            route = routes.setdefault(template, _compile_route(VENDORS[vendor].base_path, template))
            route.methods[method] = op.operation_id
        return list(routes.values())

    def deviations_for(self, vendor, operation_id):
        return [i for i, dev in enumerate(self.deviations) if dev.vendor == vendor and dev.operation in ("*", operation_id)]

    # -- routing ------------------------------------------------------------

    def route(self, vendor, method, path):
        """Return (route, match, problem); problem is None when exactly one operation matches."""
        found = [(r, r.regex.fullmatch(path)) for r in self._routes[vendor]]
        found = [(r, m) for r, m in found if m]
        if not found:
            return None, None, "no such operation: no %s path matches %s%s" % (vendor, path, self._removed_hint(vendor, method, path))
        found.sort(key=lambda rm: rm[0].specificity)
        if len(found) > 1 and found[0][0].specificity == found[1][0].specificity:
            names = ", ".join(candidate.template for candidate, unused in found)
            return None, None, "ambiguous path: %s matches %s equally well" % (path, names)
        route, match = found[0]
        if method not in route.methods:
            return route, match, "no such operation: %s is not defined for %s (only %s)" % (method, route.template, ", ".join(sorted(route.methods)))
        return route, match, None

    def _removed_hint(self, vendor, method, path):
        for name, removed in self._raw[vendor].get("x-removed-operations", {}).items():
            if removed.get("method") == method and VENDORS[vendor].base_path + removed.get("path", "") == path:
                return " (%s was removed from the API: %s)" % (name, removed.get("removed", "see the document"))
        return ""

    # -- checking -----------------------------------------------------------

    def vendor_of(self, entry):
        vendor = entry.get("vendor")
        if vendor:
            return vendor
        path = entry.get("path") or ""
        return next((name for prefix, name in VENDOR_PATH_PREFIXES if path.startswith(prefix)), "unknown")

    def examine(self, entry):
        """Return (operation id or None, violations, tolerances) for one log entry; None for control entries."""
        vendor = self.vendor_of(entry)
        if vendor == "control":
            return None
        method, path = (entry.get("method") or "").upper(), entry.get("path") or ""

        def violation(operation, check, message):
            return Violation(entry.get("seq"), vendor, method, path, operation, check, message)

        if vendor not in VENDORS:
            return None, [violation(None, "vendor", "request matches no vendor API (vendor %r)" % vendor)], []
        route, match, problem = self.route(vendor, method, path)
        if problem:
            return None, [violation(None, "operation", problem)], []
        operation_id = route.methods[method]
        strict = self._findings(vendor, (), method, route, match, entry)
        indices = self.deviations_for(vendor, operation_id)
        if not indices:
            return operation_id, [violation(operation_id, *f) for f in strict], []
        relaxed = self._findings(vendor, indices, method, route, match, entry)
        singles = {}

        def responsible(finding):
            # The first single deviation that removes the finding; else they only do it together.
            for index in indices:
                if index not in singles:
                    singles[index] = self._findings(vendor, (index,), method, route, match, entry)
                if finding not in singles[index]:
                    return deviation_id(index)
            return "+".join(deviation_id(i) for i in indices)

        tolerances = [Tolerance(entry.get("seq"), vendor, operation_id, responsible(f), *f) for f in strict if f not in relaxed]
        return operation_id, [violation(operation_id, *f) for f in relaxed], tolerances

    def _findings(self, vendor, indices, method, route, match, entry):
        api = self.document(vendor, indices)
        op = api.operations[(method, route.template)]
        headers = {str(k).lower(): v for k, v in (entry.get("headers") or {}).items()}
        query = entry.get("query") or {}
        return (_check_path(api, op, route, match) + _check_query(api, op, query) + _check_headers(api, op, headers)
                + _check_security(op, headers, query) + _check_body(api, op, entry))

    def check_entry(self, entry):
        """Violations of one log entry (tolerated deviations are not violations)."""
        result = self.examine(entry)
        return [] if result is None else result[1]

    def check_log(self, entries):
        report = Report()
        for entry in entries:
            result = self.examine(entry)
            if result is None:
                report.ignored += 1
                continue
            operation_id, violations, tolerances = result
            vendor = self.vendor_of(entry)
            key = (vendor, operation_id or UNMATCHED)
            if key not in report.operations:
                report.operations[key] = OperationStats(vendor, key[1], *self._describe_operation(vendor, operation_id))
            stats = report.operations[key]
            stats.requests += 1
            stats.violations += len(violations)
            stats.tolerated += len(tolerances)
            report.violations += violations
            report.tolerated += tolerances
        return report

    def _describe_operation(self, vendor, operation_id):
        if vendor in VENDORS and operation_id:
            for op in self.document(vendor).operations.values():
                if op.operation_id == operation_id:
                    return op.method, VENDORS[vendor].base_path + op.template
        return "-", "-"


def load_log(path):
    """Entries of a sandbox request log: {"requests": [...]}, a JSON list, or JSON lines."""
    text = Path(path).read_text(encoding="utf-8")
    stripped = text.strip()
    if not stripped:
        return []
    try:
        data = json.loads(stripped)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("requests"), list):
        return data["requests"]
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]   # a JSON-lines log holding a single entry
    return [json.loads(line) for line in stripped.splitlines() if line.strip()]
