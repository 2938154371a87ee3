"""A small Falcon Query Language (FQL) parser and evaluator for the sandbox.

Supported syntax::

    field:'value'   field:"value"   field:value          match (see "match modes" below)
    field:!'value'                                       no match
    field:>'v'  >=  <  <=                                comparisons (numbers, instants, else text)
    field:~'part'   field:!~'part'                       text match ignoring case, spaces and punctuation
    field:*'ab*'    field:!*'ab*'                        wildcard match of the whole value (case-insensitive)
    field:'ab*'                                          ``*`` inside a ``:`` value is a wildcard
    field:['a','b']                                      exactly one of the listed values (case included)
    a + b           a , b           ( ... )              AND, OR, grouping (AND binds tighter)

Match modes of ``:`` on text (FIDELITY.md, Falcon F1): ``partial`` (the published behaviour, the
default) matches when the value occurs anywhere in the field, ignoring case; ``exact`` (the old
assumption, kept as a variant) matches only the whole value, case included.  Numbers compare as
numbers and timestamps as instants in both modes; the list form is exact in both.

Timestamps (for the fields named as such) compare as instants: RFC 3339 with
``Z`` or an offset, a bare date, or ``now`` / ``now-7d`` (units s, m, h, d, w).

Usage::

    flt = compile_filter("case.status:'1'+case.title:~'vpn'", allowed_fields, colon_mode="partial")
    flt.matches(lambda field: values_of(record, field))   # getter returns a list

The getter returns every value of the field for one record (arrays give all
their elements, a missing field gives ``[]``); a positive test matches when
any value matches, a negated one when none does.
"""

import datetime
import re

_OPERATORS = ("!~", "!*", ">=", "<=", "!", ">", "<", "~", "*")
_NEGATED = {"!": ":", "!~": "~", "!*": "*"}
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_BARE = re.compile(r"[^\s+,()\[\]'\"]+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$")
_RELATIVE = re.compile(r"^now(?:\s*([+-])\s*(\d+)\s*([smhdw]))?$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
COLON_MODES = ("partial", "exact")


class FQLError(ValueError):
    """A filter that cannot be parsed or uses a field that is not allowed."""

    def __init__(self, message, position=None):
        super().__init__(message)
        self.message = message
        self.position = position


# -- instants ----------------------------------------------------------------
def parse_instant(text, now=None):
    """Epoch seconds for an RFC 3339 timestamp, a date, or ``now[-+]N<unit>``; None if it is none of those."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        return None
    text = text.strip()
    relative = _RELATIVE.match(text)
    if relative:
        base = now if now is not None else datetime.datetime.now(datetime.timezone.utc).timestamp()
        if not relative.group(1):
            return float(base)
        delta = int(relative.group(2)) * _UNIT_SECONDS[relative.group(3).lower()]
        return float(base - delta if relative.group(1) == "-" else base + delta)
    match = _ISO.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                                   int((fraction or "0")[:6].ljust(6, "0")), tzinfo=parse_zone(zone))
    except ValueError:
        return None
    return moment.timestamp()


def parse_zone(text):
    """A fixed-offset tzinfo for ``Z``, ``+02:00``, ``-0500`` or ``+02``."""
    if not text or text in ("Z", "z"):
        return datetime.timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return datetime.timezone(sign * datetime.timedelta(minutes=minutes))


def as_number(value):
    """A float for numbers and numeric strings, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return float(value)
    return None


def as_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def text_key(value):
    """What ``~`` compares: the text in lower case without spaces and punctuation."""
    return _NOT_ALNUM.sub("", as_text(value)).lower()


def wildcard_regex(pattern, anchored=True, ignore_case=False, normalise=None):
    """A compiled regex for a value in which ``*`` matches any run of characters."""
    parts = pattern.split("*")
    if normalise is not None:
        parts = [normalise(part) for part in parts]
    body = ".*".join(re.escape(part) for part in parts)
    if anchored:
        body = "^" + body + "$"
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


# -- syntax tree ---------------------------------------------------------------
class Comparison(object):
    """``field:<op>value`` or ``field:<op>[values]``."""

    def __init__(self, field, op, values, position, is_list=False):
        self.field = field
        self.op = op
        self.values = values
        self.position = position
        self.is_list = is_list
        self.targets = []


class AllOf(object):
    def __init__(self, children):
        self.children = children


class AnyOf(object):
    def __init__(self, children):
        self.children = children


class _Parser(object):
    """Recursive descent over the filter text; every error names its position."""

    def __init__(self, text):
        self.text = text
        self.pos = 0

    def parse(self):
        self._skip_ws()
        if self.pos >= len(self.text):
            raise FQLError("invalid filter: the filter is empty", 0)
        node = self._or()
        self._skip_ws()
        if self.pos < len(self.text):
            raise self._unexpected()
        return node

    # grammar -----------------------------------------------------------------
    def _or(self):
        children = [self._and()]
        while self._accept(","):
            children.append(self._and())
        return children[0] if len(children) == 1 else AnyOf(children)

    def _and(self):
        children = [self._term()]
        while self._accept("+"):
            children.append(self._term())
        return children[0] if len(children) == 1 else AllOf(children)

    def _term(self):
        self._skip_ws()
        if self._accept("("):
            node = self._or()
            if not self._accept(")"):
                raise self._unexpected("expected ')'")
            return node
        return self._comparison()

    def _comparison(self):
        self._skip_ws()
        start = self.pos
        match = _FIELD.match(self.text, self.pos)
        if not match:
            raise self._unexpected("expected a field name")
        field = match.group(0)
        self.pos = match.end()
        self._skip_ws()
        if not self._accept(":"):
            raise self._unexpected("expected ':' after field '%s'" % field)
        op = self._operator()
        self._skip_ws()
        if self._peek() == "[":
            return Comparison(field, op, self._list(), start, is_list=True)
        return Comparison(field, op, [self._scalar()], start)

    def _operator(self):
        self._skip_ws()
        for op in _OPERATORS:
            if self.text.startswith(op, self.pos):
                after = self.text[self.pos + len(op):].lstrip()
                # A leading '*' is the wildcard operator only before a quote or list; else it is part of a bare value.
                if op in ("*", "!*") and after[:1] not in ("'", '"', "["):
                    if op == "!*":
                        self.pos += 1
                        return "!"
                    return ":"
                self.pos += len(op)
                return op
        return ":"

    def _list(self):
        self._accept("[")
        values = [self._scalar()]
        while self._accept(","):
            values.append(self._scalar())
        if not self._accept("]"):
            raise self._unexpected("expected ']'")
        return values

    def _scalar(self):
        self._skip_ws()
        quote = self._peek()
        if quote in ("'", '"'):
            return self._quoted(quote)
        match = _BARE.match(self.text, self.pos)
        if not match:
            raise self._unexpected("expected a value")
        self.pos = match.end()
        return match.group(0)

    def _quoted(self, quote):
        start = self.pos
        self.pos += 1
        chars = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                chars.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                return "".join(chars)
            chars.append(char)
            self.pos += 1
        raise FQLError("invalid filter: unterminated string starting at position %d" % start, start)

    # helpers -----------------------------------------------------------------
    def _peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _skip_ws(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _accept(self, char):
        self._skip_ws()
        if self.text.startswith(char, self.pos):
            self.pos += len(char)
            return True
        return False

    def _unexpected(self, expectation=None):
        if self.pos >= len(self.text):
            found = "end of filter"
        else:
            found = "'%s'" % self.text[self.pos]
        message = "invalid filter: unexpected %s at position %d" % (found, self.pos)
        if expectation:
            message += " (%s)" % expectation
        return FQLError(message, self.pos)


def parse(text):
    """The syntax tree of a filter; raises FQLError."""
    if not isinstance(text, str):
        raise FQLError("invalid filter: a filter must be a string", 0)
    return _Parser(text).parse()


# -- evaluation ------------------------------------------------------------------
class Filter(object):
    """A parsed, checked filter; ``matches(getter)`` evaluates it for one record."""

    def __init__(self, text, allowed_fields=None, timestamp_fields=(), fulltext_fields=(), now=None,
                 colon_mode="partial"):
        if colon_mode not in COLON_MODES:
            raise ValueError("colon_mode must be one of %s, not %r" % (", ".join(COLON_MODES), colon_mode))
        self.colon_mode = colon_mode
        self.text = text
        self.allowed_fields = allowed_fields
        self.timestamp_fields = set(timestamp_fields)
        self.fulltext_fields = set(fulltext_fields)
        self.now = now
        self.tree = parse(text)
        self._check(self.tree)

    def fields(self):
        """Every field the filter mentions."""
        found = []
        self._walk(self.tree, found)
        return found

    def matches(self, getter):
        return self._eval(self.tree, getter)

    # checking -----------------------------------------------------------------
    def _walk(self, node, found):
        if isinstance(node, Comparison):
            found.append(node.field)
            return
        for child in node.children:
            self._walk(child, found)

    def _check(self, node):
        if not isinstance(node, Comparison):
            for child in node.children:
                self._check(child)
            return
        if self.allowed_fields is not None and node.field not in self.allowed_fields:
            raise FQLError("invalid filter: field '%s' at position %d is not supported; allowed fields: %s"
                           % (node.field, node.position, ", ".join(sorted(self.allowed_fields))), node.position)
        if node.is_list and node.op in (">", ">=", "<", "<="):
            raise FQLError("invalid filter: operator '%s' at position %d cannot take a list" % (node.op, node.position),
                           node.position)
        node.targets = [self._target(node, value) for value in node.values]

    def _target(self, node, value):
        """Pre-compute what each literal is compared as."""
        target = {"text": value, "number": as_number(value), "instant": None, "pattern": None, "partial": False,
                  "normalised": False}
        if node.field in self.timestamp_fields and node.op in (":", "!", ">", ">=", "<", "<=") and "*" not in value:
            target["instant"] = parse_instant(value, self.now() if self.now else None)
            if target["instant"] is None:
                raise FQLError("invalid filter: '%s' for field '%s' at position %d is not a timestamp"
                               % (value, node.field, node.position), node.position)
        if node.field in self.fulltext_fields:
            target["pattern"] = wildcard_regex(value, anchored=False, ignore_case=True)
        elif node.op in ("~", "!~"):
            target["pattern"] = wildcard_regex(value, anchored=False, normalise=text_key)
            target["normalised"] = True
        elif node.op in ("*", "!*"):
            target["pattern"] = wildcard_regex(value, ignore_case=True)
        elif node.is_list:
            pass  # ['v'] is an exact match in both modes (FIDELITY.md, Falcon F1)
        elif self.colon_mode == "partial":
            target["pattern"] = wildcard_regex(value, anchored=False, ignore_case=True)
            target["partial"] = True
        elif "*" in value:
            target["pattern"] = wildcard_regex(value)
        return target

    # evaluating ---------------------------------------------------------------
    def _eval(self, node, getter):
        if isinstance(node, AllOf):
            return all(self._eval(child, getter) for child in node.children)
        if isinstance(node, AnyOf):
            return any(self._eval(child, getter) for child in node.children)
        candidates = getter(node.field)
        positive = _NEGATED.get(node.op, node.op)
        hit = any(self._compare(node.field, positive, candidate, target)
                  for candidate in candidates for target in node.targets)
        return not hit if node.op in _NEGATED else hit

    def _compare(self, field, op, candidate, target):
        numeric = target["number"] is not None and as_number(candidate) is not None
        if target["partial"] and op == ":" and (target["instant"] is not None or numeric):
            target = dict(target, pattern=None)   # numbers and instants compare as such in both modes
        if target["pattern"] is not None and op in (":", "~", "*"):
            text = text_key(candidate) if target["normalised"] else as_text(candidate)
            return target["pattern"].search(text) is not None
        left, right = self._operands(field, candidate, target)
        if left is None:
            return False
        if op == ":":
            return left == right
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
        if op == "<":
            return left < right
        return left <= right

    def _operands(self, field, candidate, target):
        """Both sides as instants, numbers or text, whichever fits the field and the literal."""
        if target["instant"] is not None:
            return parse_instant(candidate), target["instant"]
        number = as_number(candidate)
        if number is not None and target["number"] is not None:
            return number, target["number"]
        return as_text(candidate), target["text"]


def compile_filter(text, allowed_fields=None, timestamp_fields=(), fulltext_fields=(), now=None, colon_mode="partial"):
    """A :class:`Filter`; raises FQLError for bad syntax, unknown fields and bad timestamps."""
    return Filter(text, allowed_fields, timestamp_fields, fulltext_fields, now, colon_mode)
