"""A web service's contract with its callers and its resilience, on a small echo model (fast to start)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
import requests

from jupyter_aml import Environment, InferenceConfig, LocalWebservice, Model, Webservice
from jupyter_aml.errors import Conflict
from jupyter_aml.sdk.model import WebserviceException
from tests.serving.conftest import SCORING, LoadLoop


@pytest.fixture(scope="module")
def ws(service):
    return service.workspace("svc")


@pytest.fixture(scope="module")
def echo(ws, tmp_path_factory):
    folder = tmp_path_factory.mktemp("echo-model")
    (folder / "echo.txt").write_text("echo-v1\n")
    model = Model.register(ws, folder / "echo.txt", "echo")
    env = Environment("echo-env")
    env.environment_variables["GREETING"] = "hi"
    registered = env.register(ws)
    config = LocalWebservice.deploy_configuration(replicas=2, max_request_bytes=4096, scoring_timeout_ms=3000)
    inference = InferenceConfig("echo.py", source_directory=SCORING, environment=registered)
    service = Model.deploy(ws, "echo-svc", [model], inference, config)
    service.wait_for_deployment()
    assert service.state == "Healthy"
    yield service
    service.delete()


def post(service, body=None, *, key=None, data=None, headers=None):
    key = key if key is not None else service.get_keys()[0]
    hdrs = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **(headers or {})}
    return requests.post(service.scoring_uri, json=body if data is None else None, data=data, headers=hdrs,
                         timeout=30)


def test_scoring_keys_and_probes(echo):
    resp = post(echo, {"data": [[1, 2]]})
    assert resp.status_code == 200 and resp.json()["echo"] == {"data": [[1, 2]]} and resp.json()["model"] == "echo-v1"
    assert resp.headers["x-ms-request-id"]
    assert resp.json()["greeting"] == "hi" and echo._details["inference_config"]["environment_ref"] == "echo-env:1"
    assert post(echo, {"data": 1}, key=echo.get_keys()[1]).status_code == 200  # the secondary key works too
    assert echo.run({"data": [3]})["echo"] == {"data": [3]}
    base = echo.scoring_uri.rsplit("/", 1)[0]
    assert requests.get(base + "/health/live", timeout=5).status_code == 200
    assert requests.get(base + "/health/ready", timeout=5).status_code == 200
    swagger = requests.get(echo.swagger_uri, timeout=5).json()
    assert swagger["swagger"] == "2.0" and "/score" in swagger["paths"]
    replica_port = echo.reload()._details["replicas"][0]["port"]
    around = requests.post(f"http://127.0.0.1:{replica_port}/score", json={"data": 1}, timeout=5)
    assert around.status_code == 403  # replicas answer only their load balancer


def test_a_taken_port_is_refused_at_once(ws, echo):
    with pytest.raises(Conflict, match="not available"):
        Model.deploy(ws, "port-clash", [Model(ws, "echo")], InferenceConfig("echo.py", source_directory=SCORING),
                     LocalWebservice.deploy_configuration(port=echo.port))
    assert "port-clash" not in [s.name for s in Webservice.list(ws)]


def test_bad_requests_get_clear_statuses_and_the_service_stays_up(echo):
    bad_key = post(echo, {"data": 1}, key="not-the-key")
    assert bad_key.status_code == 401 and bad_key.json()["error"]["code"] == "Unauthorized"
    no_auth = requests.post(echo.scoring_uri, json={"data": 1}, timeout=10)
    assert no_auth.status_code == 401
    malformed = post(echo, data=b'{"data": [1, 2')
    assert malformed.status_code == 400 and "not valid JSON" in malformed.json()["error"]["message"]
    too_big = post(echo, data=b'{"data": "' + b"x" * 10_000 + b'"}')
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "PayloadTooLarge"
    boom = post(echo, {"boom": True})
    assert boom.status_code == 500
    error = boom.json()["error"]
    assert error["code"] == "ScoringError" and len(error["error_id"]) == 8
    assert "secret internal detail" not in boom.text and "Traceback" not in boom.text
    slow = post(echo, {"sleep": 5})
    assert slow.status_code == 504 and slow.json()["error"]["code"] == "Timeout"
    assert post(echo, {"data": "still up"}).status_code == 200
    logs = echo.get_logs()
    assert error["error_id"] in logs and "secret internal detail" in logs and "Traceback" in logs
    with pytest.raises(WebserviceException, match="status 500"):
        echo.run({"boom": True})


def test_regenerated_key_replaces_the_old_one(echo):
    old_primary, secondary = echo.get_keys()
    echo.regen_key("Primary")
    new_primary, same_secondary = echo.get_keys()
    assert new_primary != old_primary and same_secondary == secondary
    assert post(echo, {"data": 1}, key=old_primary).status_code == 401
    assert post(echo, {"data": 1}, key=new_primary).status_code == 200
    echo.regen_key("Secondary", set_key="my-own-secondary-key-123")
    assert post(echo, {"data": 1}, key="my-own-secondary-key-123").status_code == 200


def test_a_killed_replica_is_routed_around_and_replaced(echo):
    before = {r["index"]: r["pid"] for r in echo.reload()._details["replicas"]}
    assert len(before) == 2
    key = echo.get_keys()[0]
    with LoadLoop(echo.scoring_uri, key, {"data": "load"}) as load:
        load.wait_for(10)
        os.kill(before[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            replicas = echo.reload()._details["replicas"]
            if replicas[0]["pid"] != before[0] and replicas[0]["state"] == "ready":
                break
            assert time.monotonic() < deadline, replicas
            time.sleep(0.2)
        load.wait_for(20)
    assert load.failures == []
    assert replicas[0]["restarts"] == 1 and replicas[1]["pid"] == before[1]
    pids = {r[2]["pid"] for r in load.results[-10:]}
    assert before[0] not in pids
    assert "replacing it" in echo.get_logs()


def test_a_failed_update_leaves_the_old_revision_serving(ws, echo):
    revision = echo.reload().revision
    key = echo.get_keys()[0]
    with LoadLoop(echo.scoring_uri, key, {"data": "load"}) as load:
        load.wait_for(5)
        with pytest.raises(WebserviceException, match="defines no init"):
            echo.update(inference_config=InferenceConfig("score.py", source_directory=SCORING / "broken"))
        load.wait_for(5)
    assert load.failures == []
    echo.reload()
    assert echo.revision == revision and echo.state == "Healthy"
    assert echo._details["operation"]["status"] == "Failed"
    echo.update(auth_enabled=True)  # a settings change does not report the old failure again
    echo.update(inference_config=InferenceConfig("echo.py", source_directory=SCORING))  # new code rolls out
    assert echo.reload().revision == revision + 1 and echo._details["operation"]["status"] == "Succeeded"


def test_model_in_use_cannot_be_deleted(ws, echo):
    model = Model(ws, "echo")
    with pytest.raises(Conflict, match=r"used by the active deployment.*echo-svc"):
        model.delete()
    assert Model(ws, "echo").deployments == ["echo-svc"]


def test_a_script_without_init_fails_before_any_traffic(ws, tmp_path):
    (tmp_path / "m.txt").write_text("x")
    model = Model.register(ws, tmp_path / "m.txt", "nothing")
    service = Model.deploy(ws, "broken-svc", [model], InferenceConfig("score.py", source_directory=SCORING / "broken"))
    with pytest.raises(WebserviceException, match=r"defines no init\(\) and no run\(\) function"):
        service.wait_for_deployment()
    assert service.reload().state == "Failed"
    resp = requests.post(service.scoring_uri, json={"data": 1},
                         headers={"Authorization": f"Bearer {service.get_keys()[0]}"}, timeout=10)
    assert resp.status_code == 503
    model.delete()  # a failed service is not an active deployment
    assert [s.name for s in Webservice.list(ws)] == ["broken-svc", "echo-svc"]
    service.delete()


def test_delete_lets_requests_in_flight_finish(ws):
    model = Model(ws, "echo")
    service = Model.deploy(ws, "drain-svc", [model], InferenceConfig("echo.py", source_directory=SCORING))
    service.wait_for_deployment()
    results: list[int] = []
    slow = threading.Thread(target=lambda: results.append(post(service, {"sleep": 1.5}).status_code))
    slow.start()
    time.sleep(0.5)
    service.delete()
    slow.join(30)
    assert results == [200]
    with pytest.raises(requests.ConnectionError):
        requests.post(service.scoring_uri, json={}, timeout=5)


def test_delete_during_an_update_stops_the_old_revision_too(ws, tmp_path):
    """The old revision drains after the switch; deleting the service meanwhile must still stop it."""
    (tmp_path / "echo.txt").write_text("echo-first\n")
    first = Model.register(ws, tmp_path / "echo.txt", "echo-first")
    service = Model.deploy(ws, "switch-svc", [first], InferenceConfig("echo.py", source_directory=SCORING))
    service.wait_for_deployment()
    old_pid = service.reload()._details["replicas"][0]["pid"]
    results: list[int] = []
    slow = threading.Thread(target=lambda: results.append(post(service, {"sleep": 3}).status_code))
    slow.start()
    time.sleep(0.5)
    (tmp_path / "echo.txt").write_text("echo-next\n")
    service.update(models=[Model.register(ws, tmp_path / "echo.txt", "echo-next")])
    assert post(service, {"data": 1}).json()["model"] == "echo-next"
    assert _alive(old_pid)  # still draining the slow request
    service.delete()
    slow.join(30)
    assert results == [200]
    assert not _alive(old_pid), "the old revision's replica outlived its deleted service"


def test_services_come_back_after_the_workspace_service_restarts(service, echo):
    old_pids = [r["pid"] for r in echo.reload()._details["replicas"]]
    uri = echo.scoring_uri
    service.kill9()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in old_pids):  # replicas leave with their manager
        assert time.monotonic() < deadline, "replicas outlived the service"
        time.sleep(0.1)
    service.start()
    deadline = time.monotonic() + 120
    while echo.reload().state != "Healthy" or len(echo._details["replicas"]) != 2:
        assert time.monotonic() < deadline, echo._details
        time.sleep(0.3)
    assert echo.scoring_uri == uri
    assert post(echo, {"data": "back"}).json()["echo"] == {"data": "back"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
