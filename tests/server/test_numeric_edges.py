"""Integers that arrive as text: each out-of-contract form is a 4xx naming the problem, never a 500."""

from __future__ import annotations

import base64

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_aml.core.numbers import parse_int
from jupyter_aml.errors import InvalidInput
from tests.server.helpers import interactive_run


@pytest.mark.parametrize("text", ["²", "\u0661\u0662", "1_000", " 1", "1e3", "+1", "", "9" * 20])
def test_only_ascii_digits_in_int64_are_integers(text):
    with pytest.raises(InvalidInput):
        parse_int(text, "x")


def test_the_range_is_part_of_the_message():
    with pytest.raises(InvalidInput, match="between 1 and 10"):
        parse_int("11", "the version", minimum=1, maximum=10)
    assert parse_int("-3", "x") == -3 and parse_int("10", "x", maximum=10) == 10


async def test_numeric_edges_answer_4xx(aml):
    run = await interactive_run(aml)
    rid = run["id"]
    huge_token = base64.urlsafe_b64encode(f"o:{10**30}".encode()).decode()
    cases = [
        ("GET", f"workspaces/w/runs/{rid}/logs", {"after": "1e30"}),
        ("GET", f"workspaces/w/runs/{rid}/logs", {"after": str(10**30)}),
        ("GET", f"workspaces/w/runs/{rid}/logs", {"after": "\u0661\u0662"}),
        ("GET", "workspaces/w/runs", {"page_token": huge_token}),
        ("GET", "workspaces/w/runs", {"page_size": str(2**63)}),
        ("GET", "workspaces/w/models/m/versions/²", None),
        ("GET", f"workspaces/w/models/m/versions/{10**30}", None),
        ("GET", "workspaces/w/environments/e/versions/\u0661", None),
    ]
    for method, path, params in cases:
        status, body = await aml(method, path, params=params or {})
        assert 400 <= status < 500, (path, params, status, body)
        assert status == 404 or "integer" in body["error"]["message"] or "between" in body["error"]["message"] \
            or "page_token" in body["error"]["message"], (path, body)
    status, body = await aml("POST", "gc", {"grace_seconds": 1e300})
    assert status == 422, body


async def test_a_method_a_route_does_not_have_is_405_with_allow(aml, jp_fetch):
    run = await interactive_run(aml)
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("aml", "api", "v1", "workspaces", "w", "runs", run["id"], "heartbeat", method="DELETE")
    response = caught.value.response
    assert caught.value.code == 405 and response is not None
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed == {"POST"}
    assert b"DELETE is not a method" in response.body
