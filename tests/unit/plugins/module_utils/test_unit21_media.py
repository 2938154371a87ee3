# -*- coding: utf-8 -*-
# Copyright: (c) 2026, caseops.desk maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit21Client.link_media against a real local HTTP server: the body, and what is (never) sent twice."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible_collections.caseops.desk.plugins.module_utils import errors, unit21
from ansible_collections.caseops.desk.tests.unit.conftest import Answer

KEY = "unit-test-unit21-key-000000000000"
PATH = "/v1/cases/100001/link-media"
MEDIA = [{"media": base64.b64encode(b"hello").decode("ascii"), "name": "note.txt", "media_type": "IMAGE_FACE_IMAGE",
          "custom_data": {"source": "unit test"}}]


def client(server, max_retries=2):
    u21 = unit21.client_from_params(dict(unit21_base_url=server.url, unit21_api_key=KEY, max_retries=max_retries))
    u21.transport.retry.sleep = lambda seconds: None
    return u21


def error(status, code, message="x"):
    return Answer(status, {"error_code": code, "message": message}, {"Retry-After": "0"})


def test_the_base64_json_form_is_put_once(server):
    server.script = [Answer(200, {})]
    assert client(server).link_media(100001, MEDIA) == {}
    assert len(server.requests) == 1
    sent = server.requests[0]
    assert sent["method"] == "PUT" and sent["path"] == PATH
    assert sent["headers"]["u21-key"] == KEY
    assert sent["headers"]["Content-Type"] == "application/json"
    assert json.loads(sent["body"].decode("utf-8")) == MEDIA


def test_an_empty_answer_is_an_empty_result(server):
    server.script = [Answer(200, None)]
    assert client(server).link_media("100001", MEDIA) == {}


@pytest.mark.parametrize("status, code", [(429, "rate_limit_exceeded"), (423, "locked"), (503, "service_unavailable")])
def test_answers_that_say_nothing_was_done_are_retried(server, status, code):
    server.script = [error(status, code), Answer(200, {})]
    recovered = []
    assert client(server).link_media(100001, MEDIA, recover=lambda: recovered.append(1)) == {}
    assert [r["path"] for r in server.requests] == [PATH, PATH]
    assert recovered == []


@pytest.mark.parametrize("answer", [Answer(drop=True), error(502, "bad_gateway"), error(504, "gateway_timeout")],
                         ids=["dropped", "502", "504"])
def test_an_ambiguous_failure_asks_recover_and_is_not_resent(server, answer):
    server.script = [answer, Answer(200, {})]
    assert client(server).link_media(100001, MEDIA, recover=lambda: "unknown") == {"recovered": "unknown"}
    assert len(server.requests) == 1


@pytest.mark.parametrize("answer", [Answer(drop=True), error(502, "bad_gateway")], ids=["dropped", "502"])
def test_without_recover_an_ambiguous_failure_is_an_error_and_not_resent(server, answer):
    server.script = [answer, Answer(200, {})]
    with pytest.raises(errors.AmbiguousWriteError) as caught:
        client(server).link_media(100001, MEDIA)
    assert "It may have been applied, so it was not sent again" in caught.value.msg
    assert len(server.requests) == 1


def test_a_read_timeout_is_ambiguous_too(server):
    server.script = [Answer(200, {}, delay=1.5)]
    u21 = unit21.client_from_params(dict(unit21_base_url=server.url, unit21_api_key=KEY, timeout=0.5, max_retries=2))
    assert u21.link_media(100001, MEDIA, recover=lambda: "unknown") == {"recovered": "unknown"}
    assert len(server.requests) == 1


@pytest.mark.parametrize("status, code, exception", [
    (404, "resource_not_found", errors.NotFoundError),
    (400, "invalid_input", errors.ApiError),
    (403, "forbidden", errors.AccessDeniedError),
])
def test_refusals_are_not_retried_and_say_why(server, status, code, exception):
    server.script = [Answer(status, {"error_code": code, "message": "media note.txt refused"})]
    with pytest.raises(exception) as caught:
        client(server).link_media(100001, MEDIA, recover=lambda: pytest.fail("recover asked"))
    assert "[%s] media note.txt refused" % code in caught.value.msg
    assert len(server.requests) == 1
    if status == 403:
        assert "write access to cases" in caught.value.msg


@pytest.mark.parametrize("value", ["ext-1", "1/../2", ""])
def test_only_numeric_ids_reach_the_url(server, value):
    with pytest.raises(errors.InvalidInputError):
        client(server).link_media(value, MEDIA)
    assert server.requests == []


def test_the_key_never_shows_in_an_error(server):
    server.script = [Answer(400, {"error_code": "invalid_input", "message": "bad key %s" % KEY})]
    with pytest.raises(errors.ApiError) as caught:
        client(server).link_media(100001, MEDIA)
    assert KEY not in repr(caught.value.to_fail_kwargs())
