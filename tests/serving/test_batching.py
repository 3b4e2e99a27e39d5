"""Dynamic batching with real replica processes and a real Docker engine behind the real balancer.

The batching script (scoring/batching/score.py) answers each request with its own number and the size of the
batch it came in, so concurrent callers show their requests merged while each gets its own answer; a bad body
stays its caller's 400, a run_batch() returning one answer too many fails only its batch's callers, collected
data keeps one record per caller under its request id, and a batch that never returns is handled by the
hung-replica guard. The wire format and the settings' checks are in test_batching_unit.py."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from jupyter_aml import InferenceConfig, LocalWebservice, Model
from jupyter_aml.sdk.dataset import Dataset
from jupyter_aml.sdk.webservice import WebserviceException
from tests.serving.conftest import SCORING

BATCHING = SCORING / "batching"


def concurrently(svc, bodies: list, ids: list[str] | None = None) -> list[requests.Response]:
    """POST every body at once from its own thread (a barrier lines them up); the responses in order."""
    key = svc.get_keys()[0]
    out: list[requests.Response | None] = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def one(i: int) -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        if ids is not None:
            headers["x-ms-request-id"] = ids[i]
        data = bodies[i] if isinstance(bodies[i], str) else None
        barrier.wait(10)
        out[i] = requests.post(svc.scoring_uri, data=data, json=None if data is not None else bodies[i],
                               headers=headers, timeout=30)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(40)
    assert all(r is not None for r in out)
    return [r for r in out if r is not None]


@pytest.fixture(scope="module")
def ws(service):
    return service.workspace("batching")


@pytest.fixture(scope="module")
def model(ws, tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch-model")
    (folder / "m.txt").write_text("batch\n")
    return Model.register(ws, folder / "m.txt", "batch-model")


def test_concurrent_requests_are_merged_and_every_caller_gets_its_own_answer(ws, model):
    config = LocalWebservice.deploy_configuration(replicas=2, max_batch_size=8, max_batch_wait_ms=100,
                                                  scoring_timeout_ms=1500, replica_overrun_limit_seconds=1)
    config.collect_model_data = True
    svc = Model.deploy(ws, "batched", [model], InferenceConfig("score.py", source_directory=BATCHING), config)
    try:
        svc.wait_for_deployment()
        assert svc.state == "Healthy", svc.get_logs()
        assert "run_batch() takes up to 8 requests at once" in svc.get_logs()

        # 8 callers at once, and one whose body is not JSON: merged, each answered with its own number
        ids = [f"merge-{i}" for i in range(8)] + ["merge-bad"]
        answers = concurrently(svc, [{"n": i} for i in range(8)] + ["not json"], ids)
        assert [a.status_code for a in answers] == [200] * 8 + [400]
        assert "not valid JSON" in answers[8].json()["error"]["message"]
        assert [a.json()["n"] for a in answers[:8]] == list(range(8))
        assert [a.json()["doubled"] for a in answers[:8]] == [2 * i for i in range(8)]
        assert [a.headers["x-ms-request-id"] for a in answers] == ids
        assert max(a.json()["batch"] for a in answers[:8]) >= 4, [a.json()["batch"] for a in answers[:8]]
        counted = svc.get_telemetry()["batching"]
        assert counted["requests"] == 9 and counted["largest"] >= 4 and counted["batches"] <= 5, counted

        # one answer too many: that batch's callers get a 500 saying so; nobody gets another's answer
        answers = concurrently(svc, [{"n": 100 + i, "wrong_count": i == 0} for i in range(4)])
        assert answers[0].status_code == 500
        for i, answer in enumerate(answers):
            if answer.status_code == 500:
                error = answer.json()["error"]
                assert error["code"] == "ScoringError" and "run_batch() returned" in error["message"], error
                assert "answers for a batch of" in error["message"] and error["error_id"]
            else:
                assert answer.status_code == 200 and answer.json()["n"] == 100 + i
        assert "run_batch() returned" in svc.get_logs()

        # each caller's input and output recorded on its own, under its own request id
        store = ws.get_default_datastore()
        deadline = time.monotonic() + 30
        while (svc.get_telemetry().get("data_collection") or {}).get("rows", 0) < 16:
            assert time.monotonic() < deadline, svc.get_telemetry().get("data_collection")
            time.sleep(0.5)
        prefix = "modeldata/default/default/batching/batched/batch-model/1"
        inputs = Dataset.Tabular.from_delimited_files(path=(store, f"{prefix}/inputs/**/data.csv"))
        outputs = Dataset.Tabular.from_delimited_files(path=(store, f"{prefix}/predictions/**/data.csv"))
        got_in = {c: n for c, n in zip(*(inputs.to_pandas_dataframe()[k] for k in ("$aml_dc_correlation_id", "n")),
                                       strict=True) if str(c).startswith("merge-")}
        frame = outputs.to_pandas_dataframe()
        got_out = {c: d for c, d in zip(frame["$aml_dc_correlation_id"], frame["doubled"], strict=True)
                   if str(c).startswith("merge-")}
        assert got_in == {f"merge-{i}": i for i in range(8)}
        assert got_out == {f"merge-{i}": 2 * i for i in range(8)}

        # a batch that never returns: its caller gets a 504, the other replica serves, the hung one is replaced
        key = {"Authorization": f"Bearer {svc.get_keys()[0]}"}
        started = time.monotonic()
        stuck = requests.post(svc.scoring_uri, json={"n": 1, "sleep": 3600}, headers=key, timeout=30)
        assert stuck.status_code == 504 and time.monotonic() - started < 5
        started = time.monotonic()
        assert requests.post(svc.scoring_uri, json={"n": 2}, headers=key, timeout=30).json()["n"] == 2
        assert time.monotonic() - started < 1.0
        deadline = time.monotonic() + 30
        while not any(e["kind"] == "replaced" for e in svc.get_telemetry()["events"]):
            assert time.monotonic() < deadline, svc.get_logs()
            time.sleep(0.2)
    finally:
        svc.delete()


def test_a_script_without_run_batch_fails_a_batching_deployment_with_what_to_write(ws, model):
    config = LocalWebservice.deploy_configuration(max_batch_size=4)
    svc = Model.deploy(ws, "not-batching", [model], InferenceConfig("echo.py", source_directory=SCORING), config)
    try:
        with pytest.raises(WebserviceException, match=r"max_batch_size=4\) but entry script echo.py defines no "
                                                      r"run_batch\(\) function"):
            svc.wait_for_deployment()
    finally:
        svc.delete()


def test_a_docker_replica_batches_too(service, tmp_path):
    from jupyter_aml import Environment
    from jupyter_aml.sdk.webservice import AciWebservice
    from tests.serving.docker_env import ensure_engine, python_base_image

    base = python_base_image(ensure_engine())
    ws = service.workspace("batchdocker")
    (tmp_path / "m.txt").write_text("batch\n")
    model = Model.register(ws, tmp_path / "m.txt", "batch-model")
    env = Environment("batch-env")
    env.docker.base_image = base
    config = AciWebservice.deploy_configuration(max_batch_size=16, max_batch_wait_ms=100)
    svc = Model.deploy(ws, "batched-docker", [model],
                       InferenceConfig("score.py", source_directory=BATCHING, environment=env), config)
    try:
        svc.wait_for_deployment()
        assert svc.state == "Healthy", svc.get_logs()
        answers = concurrently(svc, [{"n": i} for i in range(10)] + ["{broken"])
        assert [a.status_code for a in answers] == [200] * 10 + [400]
        assert [a.json()["n"] for a in answers[:10]] == list(range(10))
        assert max(a.json()["batch"] for a in answers[:10]) >= 5, [a.json()["batch"] for a in answers[:10]]
    finally:
        svc.delete()
