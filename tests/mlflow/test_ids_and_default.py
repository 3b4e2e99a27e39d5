"""A v1 run whose id holds a dot (its experiment is ``exp.v2``) is reachable from the MLflow client under an
MLflow-safe form of its id; and reading MLflow's default experiment ``"0"`` never creates it."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from jupyter_aml.mlflow_api.ids import RunIds, decode, to_mlflow
from jupyter_aml.sdk.experiment import Experiment
from tests.e2e.conftest import ServiceProcess
from tests.mlflow.conftest import tracking_uri


def test_the_mlflow_form_of_a_run_id_reads_back() -> None:
    for raw in ("exp.v2_1765000000_ab12cd34", "a-b.c--d.._1_2", "x.y"):
        safe = to_mlflow(raw)
        assert "." not in safe and decode(safe) == raw
    assert to_mlflow("plain-exp_1_ab") == "plain-exp_1_ab"  # no dot: the same id in both APIs
    assert decode("plain-exp_1_ab") is None and decode("a-2e-b-c") is None  # a bare '-' is not the encoded form
    ids = RunIds(lambda run_id: run_id == "a.b_1")
    assert ids.from_mlflow("a-2e-b_1") == "a.b_1"
    assert ids.from_mlflow("a-2e-c_1") == "a-2e-c_1"  # decodes to no run: the id as it is


def test_a_v1_run_with_a_dot_in_its_id_is_reachable_from_mlflow(mlflow_env: ServiceProcess) -> None:
    ws = mlflow_env.workspace("default")
    v1 = Experiment(ws, "exp.v2").start_logging(display_name="dotted")
    v1.log("acc", 0.5, step=0)
    v1.flush()  # stored before the MLflow client logs the next point (an interactive run ships in the background)
    assert "." in v1.id
    client = MlflowClient()
    exp = client.get_experiment_by_name("exp.v2")
    assert exp is not None
    [found] = client.search_runs([exp.experiment_id])
    safe = found.info.run_id
    assert safe == to_mlflow(v1.id) and found.info.artifact_uri == f"mlflow-artifacts:/runs/{safe}/artifacts"
    assert client.get_run(safe).info.run_name == "dotted"  # the client's run-id check passes
    [by_id] = client.search_runs([exp.experiment_id], filter_string=f"attributes.run_id = '{safe}'")
    assert by_id.info.run_id == safe
    mlflow.set_experiment(experiment_id=exp.experiment_id)
    with mlflow.start_run(run_id=safe):  # the fluent API resumes it
        mlflow.log_metric("acc", 0.75, step=1)
        mlflow.log_text("hello", "notes.txt")
        with mlflow.start_run(nested=True) as child:
            mlflow.log_param("fold", "1")
    assert [m.value for m in client.get_metric_history(safe, "acc")] == [0.5, 0.75]
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == safe
    assert [f.path for f in client.list_artifacts(safe)] == ["notes.txt"]
    assert client.download_artifacts(safe, "notes.txt", dst_path=None)
    nested = client.search_runs([exp.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{safe}'")
    assert [r.info.run_id for r in nested] == [child.info.run_id]
    # the v1 side keeps its own id and sees what MLflow logged
    v1_run = next(r for r in Experiment(ws, "exp.v2").get_runs() if r.id == v1.id)
    assert v1_run.get_metrics()["acc"] == [0.5, 0.75] and "notes.txt" in v1_run.get_file_names()
    assert [c.id for c in v1_run.get_children()] == [child.info.run_id.replace("-2d-", "-").replace("-2e-", ".")]


def test_reading_experiment_0_never_creates_it(mlflow_env: ServiceProcess) -> None:
    mlflow_env.client().post("workspaces", {"name": "fresh-ws"})
    client = MlflowClient(tracking_uri=tracking_uri(mlflow_env, "fresh-ws"))
    with pytest.raises(MlflowException) as caught:
        client.get_experiment("0")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_experiment_by_name("Default") is None
    assert client.search_runs(["0"]) == []  # no Default yet: no runs, and still none made
    assert client.search_experiments() == []
    client.create_run("0")  # a write makes it, as MLflow's server has it from the start
    assert client.get_experiment("0").name == "Default"
    assert len(client.search_runs(["0"])) == 1
