"""The real MLflow client against a real ``aml serve``: fluent runs, nested runs, search, history, errors,
and the same runs read through the workspace's own v1 SDK."""

from __future__ import annotations

import math

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException

from jupyter_aml.sdk.experiment import Experiment
from tests.e2e.conftest import ServiceProcess
from tests.mlflow.conftest import tracking_uri


def _post(svc: ServiceProcess, endpoint: str, body: dict[str, object]) -> requests.Response:
    return requests.post(f"{tracking_uri(svc)}/api/2.0/mlflow/{endpoint}", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {svc.info()['token']}"})


def test_fluent_runs_land_in_the_workspace_and_the_v1_sdk_reads_them(mlflow_env: ServiceProcess) -> None:
    mlflow.set_experiment("mlflow-fluent")
    with mlflow.start_run(run_name="train") as parent:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"layers": 3, "opt": "adam"})
        for step, acc in enumerate([0.5, 0.7, 0.9]):
            mlflow.log_metric("acc", acc, step=step)
        mlflow.log_metrics({"loss": 0.25, "f1": math.nan})
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"stage": "dev"})
        with mlflow.start_run(run_name="fold-1", nested=True) as child:
            mlflow.log_metric("acc", 0.4)
    with mlflow.start_run(run_name="baseline"):
        mlflow.log_metric("acc", 0.3)
        mlflow.log_param("lr", 0.5)

    frame = mlflow.search_runs(filter_string="metrics.acc > 0.35 AND params.lr = '0.1'")
    assert list(frame["run_id"]) == [parent.info.run_id]
    row = frame.iloc[0]
    assert row["metrics.acc"] == 0.9 and row["metrics.loss"] == 0.25 and math.isnan(row["metrics.f1"])
    assert row["params.layers"] == "3" and row["tags.team"] == "vision" and row["status"] == "FINISHED"
    assert row["tags.mlflow.runName"] == "train"

    ordered = mlflow.search_runs(order_by=["metrics.acc DESC"])
    assert list(ordered["tags.mlflow.runName"]) == ["train", "fold-1", "baseline"]
    nested = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert list(nested["run_id"]) == [child.info.run_id]
    assert list(mlflow.search_runs(filter_string="attributes.run_name ILIKE 'BASE%'")["tags.mlflow.runName"]) == [
        "baseline"]

    history = MlflowClient().get_metric_history(parent.info.run_id, "acc")
    assert [(m.step, m.value) for m in history] == [(0, 0.5), (1, 0.7), (2, 0.9)]
    assert all(m.timestamp > 1_600_000_000_000 for m in history)

    ws = mlflow_env.workspace("default")
    runs = {r.id: r for r in Experiment(ws, "mlflow-fluent").get_runs()}
    assert set(runs) == {parent.info.run_id, next(iter(set(runs) - {parent.info.run_id}))}  # top-level: two
    v1 = runs[parent.info.run_id]
    assert v1.get_status() == "Completed"
    assert v1.get_metrics()["acc"] == [0.5, 0.7, 0.9]
    assert v1.get_properties()["lr"] == "0.1" and v1.get_tags()["team"] == "vision"
    assert [c.id for c in v1.get_children()] == [child.info.run_id]


def test_a_param_keeps_its_value_and_batches_keep_mlflows_limits(mlflow_env: ServiceProcess) -> None:
    client = MlflowClient()
    exp = client.create_experiment("mlflow-limits")
    run = client.create_run(exp, tags={"mlflow.runName": "limits"})
    run_id = run.info.run_id
    client.log_param(run_id, "p", "a")
    client.log_param(run_id, "p", "a")  # the same value again is fine, as in MLflow
    with pytest.raises(MlflowException, match="Changing param values is not allowed") as caught:
        client.log_param(run_id, "p", "b")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    # The client splits its own batches: a raw request shows the server's limits, in MLflow's words.
    too_many = {"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]}
    for batch, words in ((too_many, "at most 1000 metrics"),
                         ({"params": [{"key": f"k{i}", "value": "v"} for i in range(101)]}, "at most 100 params"),
                         ({"tags": [{"key": f"k{i}", "value": "v"} for i in range(101)]}, "at most 100 tags"),
                         ({"metrics": [{"key": "m", "value": "high", "timestamp": 1}]}, "valid double"),
                         ({"params": [{"key": "k", "value": "x" * 5001}]}, "exceeded length limit of 5000")):
        answer = _post(mlflow_env, "runs/log-batch", {"run_id": run_id, **batch})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE" and words in answer.json()["message"]
    with pytest.raises(MlflowException, match="Names may only contain"):
        client.log_metric(run_id, "bad\nkey", 1.0)
    client.log_batch(run_id, metrics=[Metric("m", float(i), 1_700_000_000_000 + i, i) for i in range(1000)],
                     params=[Param("q", "1")], tags=[RunTag("t", "x")])
    stored = client.get_run(run_id)
    assert stored.data.metrics["m"] == 999.0 and stored.data.params == {"p": "a", "q": "1"}
    assert len(client.get_metric_history(run_id, "m")) == 1000
    client.delete_tag(run_id, "t")
    assert "t" not in client.get_run(run_id).data.tags
    with pytest.raises(MlflowException, match="No tag with name: t"):
        client.delete_tag(run_id, "t")

    client.set_terminated(run_id, "KILLED")
    assert client.get_run(run_id).info.status == "KILLED"
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([exp]) == []
    assert [r.info.run_id for r in client.search_runs([exp], run_view_type=ViewType.DELETED_ONLY)] == [run_id]
    client.restore_run(run_id)
    assert [r.info.run_id for r in client.search_runs([exp])] == [run_id]


def test_experiments_create_search_rename_delete_restore(mlflow_env: ServiceProcess) -> None:
    client = MlflowClient()
    ids = [client.create_experiment(f"mlflow-exp-{i}", tags={"i": str(i)}) for i in range(3)]
    with pytest.raises(MlflowException, match="already exists") as caught:
        client.create_experiment("mlflow-exp-0")
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException, match="Invalid experiment name") as caught:
        client.create_experiment("/Users/me/exp")
    assert client.get_experiment(ids[1]).name == "mlflow-exp-1"
    assert client.get_experiment_by_name("nope") is None
    found = client.search_experiments(filter_string="name LIKE 'mlflow-exp-%' AND tags.i != '1'",
                                      order_by=["name DESC"])
    assert [e.name for e in found] == ["mlflow-exp-2", "mlflow-exp-0"]
    page = client.search_experiments(filter_string="name LIKE 'mlflow-exp-%'", order_by=["name"], max_results=2)
    assert [e.name for e in page] == ["mlflow-exp-0", "mlflow-exp-1"] and page.token
    rest = client.search_experiments(filter_string="name LIKE 'mlflow-exp-%'", order_by=["name"], max_results=2,
                                     page_token=page.token)
    assert [e.name for e in rest] == ["mlflow-exp-2"] and not rest.token

    client.rename_experiment(ids[0], "mlflow-exp-renamed")
    assert client.get_experiment(ids[0]).name == "mlflow-exp-renamed"
    client.set_experiment_tag(ids[0], "owner", "me")
    assert client.get_experiment(ids[0]).tags["owner"] == "me"
    client.delete_experiment(ids[2])
    assert client.get_experiment(ids[2]).lifecycle_stage == "deleted"
    assert "mlflow-exp-2" not in [e.name for e in client.search_experiments()]
    client.restore_experiment(ids[2])
    assert client.get_experiment(ids[2]).lifecycle_stage == "active"
    client.create_run("0")  # a write makes the Default experiment (a read never does)
    assert client.get_experiment("0").name == "Default"
    with pytest.raises(MlflowException, match="Cannot delete the default experiment"):
        client.delete_experiment("0")


def test_refusals_are_in_mlflows_error_shape(mlflow_service: ServiceProcess) -> None:
    base = tracking_uri(mlflow_service)
    auth = {"Authorization": f"Bearer {mlflow_service.info()['token']}"}
    answer = requests.post(f"{base}/api/2.0/mlflow/runs/create", json={}, timeout=10)
    assert answer.status_code == 403 and answer.json()["error_code"] == "PERMISSION_DENIED"
    answer = requests.post(f"{base}/api/2.0/mlflow/runs/create", json={},
                           headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert answer.status_code == 403 and "not valid" in answer.json()["message"]
    answer = requests.get(f"{base}/api/2.0/mlflow/no/such", headers=auth, timeout=10)
    assert answer.status_code == 404 and answer.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    answer = requests.post(f"{base}/api/2.0/mlflow/runs/search", data=b"{not json", headers=auth, timeout=10)
    assert answer.status_code == 400 and answer.json()["error_code"] == "BAD_REQUEST"
    answer = requests.post(f"{base}/api/2.0/mlflow/runs/search", headers=auth, timeout=10,
                           json={"experiment_ids": ["0"], "filter": "metrics.a > 1 OR metrics.b > 1"})
    assert answer.status_code == 400 and answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    answer = requests.post(f"{base}/api/2.0/mlflow/runs/log-metric", headers=auth, timeout=10,
                           json={"run_id": "nope", "key": "a", "value": 1, "timestamp": 1})
    assert answer.status_code == 404 and answer.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    requests.post(f"{base}/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}, headers=auth, timeout=10)
    answer = requests.get(f"{base}/ajax-api/2.0/mlflow/experiments/get-by-name", headers=auth, timeout=10,
                          params={"experiment_name": "Default"})
    assert answer.status_code == 200 and answer.json()["experiment"]["experiment_id"] == "0"
    assert set(answer.json()) == {"experiment"} and answer.headers["Content-Type"].startswith("application/json")


def test_a_named_workspace_has_its_own_uri(mlflow_env: ServiceProcess) -> None:
    mlflow_env.client().post("workspaces", {"name": "other-ws"})
    client = MlflowClient(tracking_uri=tracking_uri(mlflow_env, "other-ws"))
    exp = client.create_experiment("mlflow-elsewhere")
    client.create_run(exp)
    assert [e.name for e in client.search_experiments()] == ["mlflow-elsewhere"]
    assert "mlflow-elsewhere" not in [e.name for e in MlflowClient().search_experiments()]
    with pytest.raises(MlflowException) as caught:
        MlflowClient(tracking_uri=tracking_uri(mlflow_env, "missing-ws")).search_experiments()
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_a_v1_run_is_read_and_searched_from_mlflow(mlflow_env: ServiceProcess) -> None:
    ws = mlflow_env.workspace("default")
    v1 = Experiment(ws, "v1-side").start_logging(display_name="logged-by-v1")
    for step, value in enumerate([0.2, 0.6]):
        v1.log("acc", value, step=step)
    v1.log("label", "not a number")  # a string metric has no MLflow counterpart: left out, not an error
    v1.tag("source", "sdk")
    v1.add_properties({"lr": "0.01"})
    v1.complete()
    client = MlflowClient()
    exp = client.get_experiment_by_name("v1-side")
    assert exp is not None
    [found] = client.search_runs([exp.experiment_id], filter_string="metrics.acc >= 0.6 AND tags.source = 'sdk'")
    assert found.info.run_id == v1.id and found.info.status == "FINISHED" and found.info.run_name == "logged-by-v1"
    assert found.data.metrics == {"acc": 0.6} and found.data.params == {"lr": "0.01"}
    assert [m.value for m in client.get_metric_history(v1.id, "acc")] == [0.2, 0.6]
    assert client.get_metric_history(v1.id, "label") == []


def test_roles_decide_for_mlflow_callers(mlflow_env: ServiceProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_aml.app import AMLApplication

    database = next((a.split("=", 1)[1] for a in mlflow_env.extra if a.startswith("--AMLExtension.database_url=")),
                    None)
    token = AMLApplication.for_database(mlflow_env.root, database).sharing().create_token("reader-bob").token
    admin = mlflow_env.client()
    admin.post("workspaces", {"name": "shared-ws"})
    admin.put("workspaces/shared-ws/members/reader-bob", {"role": "Reader"})
    owner = MlflowClient(tracking_uri=tracking_uri(mlflow_env, "shared-ws"))
    exp = owner.create_experiment("team-exp")
    owner.create_run(exp)

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)  # bob's named token, with his role
    bob = MlflowClient(tracking_uri=tracking_uri(mlflow_env, "shared-ws"))
    assert len(bob.search_runs([exp])) == 1  # a Reader reads
    with pytest.raises(MlflowException, match="does not allow runs/submit") as caught:
        bob.create_run(exp)
    assert caught.value.error_code == "PERMISSION_DENIED"
    with pytest.raises(MlflowException) as caught:  # no role in the default workspace: it is "not found"
        MlflowClient().search_experiments()
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
