# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The redactor: every form a secret can take in a message is masked, and masking comes before any cut."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.caseops.desk.plugins.module_utils.errors import REDACTED, ApiError, Redactor, describe_errors

# Secrets as users paste them: a trailing newline, a carriage return, leading spaces, tabs, quotes, URL-unsafe characters.
SECRETS = [
    "Unit21Key0123456789abcdef\n",
    "CloudflareToken_0123456789\r\n",
    "   FalconSecret0123456789",
    "\tTabbed/Secret+Value=0123\t",
    "quote'and\"double0123",
    "back\\slash%percent 0123",
]


def b64(text):
    return base64.b64encode(text.encode()).decode()


def forms_of(secret):
    """The forms the redactor promises to mask, listed here independently of its implementation."""
    found = set()
    for value in (secret, secret.strip(), secret.lstrip(), secret.rstrip()):
        found.update([
            value,                                  # raw
            repr(value)[1:-1],                      # Python repr, as requests quotes a refused header value
            json.dumps(value)[1:-1],                # JSON string
            value.encode("unicode_escape").decode(),  # \n, \t, \r, \\ escaped
            quote(value, safe=""), quote(value), quote_plus(value),  # URL-encoded
            b64(value),
        ])
    return found


@pytest.mark.parametrize("secret", SECRETS)
def test_every_form_of_a_secret_is_masked(secret):
    redact = Redactor([secret])
    for form in forms_of(secret):
        text = "before %s after" % form
        masked = redact(text)
        assert form not in masked, "form %r survived" % form
        assert secret.strip() not in masked
        assert masked.startswith("before ") and masked.endswith(" after")


@pytest.mark.parametrize("secret", SECRETS)
def test_a_secret_in_a_python_repr_of_a_header_is_masked(secret):
    """What requests says about a header value it refuses: the repr of the value."""
    message = "Invalid leading whitespace, reserved character(s), or return character(s) in header value: %r" % secret
    masked = Redactor([secret])(message)
    assert secret.strip() not in masked
    assert repr(secret) not in masked and repr(secret)[1:-1] not in masked
    assert REDACTED in masked


def test_escaped_quote_forms_are_masked():
    secret = "it's\"both'kinds"
    redact = Redactor([secret])
    for form in ("it\\'s\"both\\'kinds", "it's\\\"both'kinds", "it\\'s\\\"both\\'kinds"):
        assert redact("x %s y" % form) == "x %s y" % REDACTED


def test_lower_case_percent_encoding_is_masked():
    secret = "a/b+c d\n"
    encoded = quote(secret, safe="").lower()
    assert encoded.startswith("a%2fb")
    assert Redactor([secret])("q=" + encoded) == "q=" + REDACTED


def test_basic_auth_of_id_and_secret_is_masked_for_every_whitespace_variant():
    redact = Redactor()
    redact.add_basic_auth(" client-id\n", "client-secret-value\t")
    for user in (" client-id\n", "client-id"):
        for secret in ("client-secret-value\t", "client-secret-value"):
            header = "Authorization: Basic %s" % b64("%s:%s" % (user, secret))
            assert redact(header) == "Authorization: Basic %s" % REDACTED
    assert "client-secret-value" not in redact("secret is client-secret-value")


def test_the_longest_form_is_masked_whole():
    inner = "abcd1234"
    outer = "xx-abcd1234-yy"
    assert Redactor([inner, outer])("v=%s" % outer) == "v=%s" % REDACTED


def test_short_and_blank_values_are_not_secrets():
    redact = Redactor(["abc", "  \n", "", None, 12345])
    assert redact("abc 12345") == "abc 12345"


def test_nested_structures_are_redacted():
    redact = Redactor(["topsecretvalue"])
    value = {"msg": "has topsecretvalue", "list": ["topsecretvalue", 1], "topsecretvalue": ("a", "topsecretvalue")}
    assert redact(value) == {"msg": "has " + REDACTED, "list": [REDACTED, 1], REDACTED: ["a", REDACTED]}


@pytest.mark.parametrize("offset", range(990, 1001))
def test_a_secret_across_the_cut_does_not_show_in_part(offset):
    secret = "StraddlingSecret0123456789"
    text = "x" * offset + secret + "y" * 200
    cut = Redactor([secret]).cut(text, 1000)
    assert len(cut) <= 1000
    # No piece of the secret of 4 characters or more survives, wherever the cut falls.
    for size in range(4, len(secret) + 1):
        for start in range(0, len(secret) - size + 1):
            assert secret[start:start + size] not in cut
    assert cut.startswith("x" * offset)


def test_cutting_before_redacting_would_leak_the_head_of_the_secret():
    """Why the order matters: the same text cut first keeps a prefix that no longer matches the secret."""
    secret = "StraddlingSecret0123456789"
    text = "x" * 990 + secret
    assert secret[:10] in Redactor([secret])(text[:1000])
    assert secret[:10] not in Redactor([secret]).cut(text, 1000)


def test_cut_redacts_forms_that_reach_the_kept_part_even_in_a_long_text():
    secret = "line\nbreak-secret"
    escaped = "line\\nbreak-secret"
    text = "y" * 495 + escaped + "z" * 100000
    cut = Redactor([secret]).cut(text, 500)
    assert "line" not in cut and cut == "y" * 495 + REDACTED[:5]


def test_fail_kwargs_are_redacted():
    secret = "another\tsecret"
    err = ApiError("failed with %r" % secret, status=400, body="body has another\\tsecret", url="https://x/?k=another%09secret")
    kwargs = err.to_fail_kwargs(Redactor([secret]))
    assert "another" not in json.dumps(kwargs)


def test_describe_errors_nests_only_the_named_key():
    entries = [{"code": 6003, "message": "Invalid request headers", "error_chain": [{"code": 6111, "message": "bad"}]},
               {"message": "no code"}]
    assert describe_errors(entries) == "[6003] Invalid request headers; no code"
    assert describe_errors(entries, "error_chain") == "[6003] Invalid request headers ([6111] bad); no code"
