"""Server routes the studio's Endpoints page needs: a test request sent through the server (a browser cannot
call the scoring URI, another origin without CORS), with the service's answer returned as data."""

from __future__ import annotations

import json

import pytest

from jupyter_aml import InferenceConfig, LocalWebservice, Model
from jupyter_aml.errors import AMLError, NotFound
from tests.serving.conftest import SCORING


@pytest.fixture(scope="module")
def ws(service):
    return service.workspace("ui-hooks")


@pytest.fixture(scope="module")
def echo(ws, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ui-echo")
    (folder / "echo.txt").write_text("echo-ui\n")
    model = Model.register(ws, folder / "echo.txt", "echo-ui")
    config = LocalWebservice.deploy_configuration(max_request_bytes=4096, scoring_timeout_ms=2000)
    svc = Model.deploy(ws, "echo-ui-svc", [model], InferenceConfig("echo.py", source_directory=SCORING), config)
    svc.wait_for_deployment()
    assert svc.state == "Healthy"
    yield svc
    svc.delete()


def send(ws, name: str, body: str, **extra) -> dict:
    return ws._client.post(ws._path("endpoints", name, "test"), {"body": body, **extra})


def test_a_test_request_goes_to_the_scoring_uri_with_the_key(ws, echo):
    result = send(ws, echo.name, json.dumps({"data": [[1, 2]]}))
    assert result["status"] == 200 and result["error"] is None and not result["truncated"]
    answer = json.loads(result["body"])
    assert answer["echo"] == {"data": [[1, 2]]} and answer["model"] == "echo-ui"
    assert result["content_type"].startswith("application/json")
    assert result["elapsed_ms"] > 0 and result["request_id"]
    assert send(ws, echo.name, '{"data": 1}', key="secondary")["status"] == 200


def test_errors_of_the_service_come_back_as_data(ws, echo):
    malformed = send(ws, echo.name, '{"data": [1, 2')
    assert malformed["status"] == 400 and "not valid JSON" in json.loads(malformed["body"])["error"]["message"]
    boom = send(ws, echo.name, json.dumps({"boom": True}))
    assert boom["status"] == 500 and json.loads(boom["body"])["error"]["code"] == "ScoringError"
    assert "secret internal detail" not in boom["body"]
    too_big = send(ws, echo.name, json.dumps({"data": "x" * 5000}))  # the service's own limit is 4096 bytes
    assert too_big["status"] == 413 and json.loads(too_big["body"])["error"]["code"] == "PayloadTooLarge"
    slow = send(ws, echo.name, json.dumps({"sleep": 4}))  # longer than the 2 s scoring timeout
    assert slow["status"] == 504 and json.loads(slow["body"])["error"]["code"] == "Timeout"
    assert send(ws, echo.name, '{"data": "still up"}')["status"] == 200


def test_telemetry_counts_test_requests(ws, echo):
    before = ws._client.get(ws._path("endpoints", echo.name, "telemetry"), params={"minutes": 10})["requests"]
    for i in range(3):
        assert send(ws, echo.name, json.dumps({"data": i}))["status"] == 200
    after = ws._client.get(ws._path("endpoints", echo.name, "telemetry"), params={"minutes": 10})
    assert after["requests"] >= before + 3 and after["points"]


def test_the_route_refuses_what_it_cannot_send(ws, echo):
    with pytest.raises(NotFound):
        send(ws, "no-such-svc", "{}")
    with pytest.raises(AMLError, match="at most"):
        send(ws, echo.name, "x" * (1024 * 1024 + 1))
    with pytest.raises(AMLError, match="key"):
        send(ws, echo.name, "{}", key="tertiary")
