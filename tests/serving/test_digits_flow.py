"""The whole model workflow: train through the run loop, register from the run, deploy, score as an Azure ML
v1 client would, roll out version 2 under load without a failed request, read the telemetry, delete."""

from __future__ import annotations

import pytest
import requests
from sklearn.datasets import load_digits

from jupyter_aml import Experiment, InferenceConfig, LocalWebservice, Model, ScriptRunConfig
from jupyter_aml.errors import Conflict
from tests.e2e.conftest import REPO
from tests.serving.conftest import SCORING, LoadLoop


def test_train_register_deploy_update_delete(service):
    ws = service.workspace("digits")
    config = ScriptRunConfig(source_directory=REPO / "examples" / "train-digits", script="train.py")
    run = Experiment(ws, "digits").submit(config)
    assert run.wait_for_completion()["status"] == "Completed"

    v1 = run.register_model("digits", model_path="outputs/model.pkl", model_framework=Model.Framework.SCIKITLEARN,
                            tags={"accuracy": run.get_metrics()["final_accuracy"]},
                            sample_input={"data": [[0.0] * 64]})
    assert (v1.version, v1.run_id) == (1, run.id)

    inference = InferenceConfig(entry_script="score.py", source_directory=SCORING)
    svc = Model.deploy(ws, "digits-svc", [v1], inference, LocalWebservice.deploy_configuration(replicas=1))
    svc.wait_for_deployment(show_output=True)
    assert svc.state == "Healthy" and svc.models[0].id == "digits:1"

    digits = load_digits()
    images, labels = (digits.data[:20] / 16.0).tolist(), digits.target[:20].tolist()
    key = svc.get_keys()[0]
    resp = requests.post(svc.scoring_uri, json={"data": images},
                         headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}, timeout=30)
    assert resp.status_code == 200, resp.text
    predictions = resp.json()["predictions"]
    assert sum(p == y for p, y in zip(predictions, labels, strict=True)) >= 18 and resp.json()["version"] == 1
    assert requests.get(svc.swagger_uri, timeout=10).json()["definitions"]["ServiceInput"]["example"] == {
        "data": [[0.0] * 64]}

    v2 = run.register_model("digits", model_path="outputs/model.pkl")
    with LoadLoop(svc.scoring_uri, key, {"data": images[:2]}) as load:
        load.wait_for(10)
        svc.update(models=[v2])
        load.wait_for(20)
    assert load.failures == [], load.failures[:3]
    versions = [body["version"] for _, _, body in load.results]
    first_v2 = versions.index(2)
    assert set(versions[:first_v2]) == {1} and set(versions[first_v2:]) == {2}  # a clean switch
    assert svc.reload().revision == 2 and svc.models[0].id == "digits:2"

    v1.delete()  # no longer used
    with pytest.raises(Conflict, match="used by the active deployment"):
        v2.delete()

    telemetry = svc.get_telemetry()
    assert telemetry["requests"] >= len(load.results) + 1
    assert telemetry["errors_5xx"] == 0 and telemetry["latency_ms_p50"] > 0
    assert telemetry["latency_ms_p99"] >= telemetry["latency_ms_p50"] and telemetry["points"]

    svc.delete()
    assert not _listening(svc.scoring_uri)
    v2.delete()


def _listening(uri: str) -> bool:
    try:
        requests.get(uri.replace("/score", "/health/live"), timeout=2)
        return True
    except requests.ConnectionError:
        return False
