"""``runs/log-inputs`` with the real client (``mlflow.log_input`` of a pandas dataset, model inputs), a v1 run's
registered input dataset shown as an MLflow dataset input, and logged-model records that are not run tags."""

from __future__ import annotations

import datetime
import uuid

import mlflow
import mlflow.data
import pandas as pd
import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import LoggedModelInput
from mlflow.exceptions import MlflowException

from jupyter_aml.app import AMLApplication
from jupyter_aml.sdk.experiment import Experiment
from jupyter_aml.sdk.run import Run
from jupyter_aml.store.tables import DatasetRow, DatasetRunRow, WorkspaceRow
from tests.e2e.conftest import ServiceProcess
from tests.mlflow.conftest import tracking_uri


def test_log_input_of_a_pandas_dataset_and_model_inputs(mlflow_env: ServiceProcess) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, name="tiny", targets="y")
    mlflow.set_experiment("mlflow-inputs")
    client = MlflowClient()
    with mlflow.start_run() as producer:
        model = client.create_logged_model(producer.info.experiment_id, name="m", source_run_id=producer.info.run_id)
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_input(dataset, context="again")  # the same name and digest: kept once, with its first tags
        client.log_inputs(run.info.run_id, models=[LoggedModelInput(model.model_id)])
    inputs = client.get_run(run.info.run_id).inputs
    [given] = inputs.dataset_inputs
    assert (given.dataset.name, given.dataset.digest) == ("tiny", dataset.digest)
    assert given.dataset.source_type == dataset.source._get_source_type()
    assert given.dataset.source == dataset.source.to_json()
    assert given.dataset.schema == dataset._to_mlflow_entity().schema and '"num_rows": 3' in given.dataset.profile
    assert [(t.key, t.value) for t in given.tags] == [("mlflow.data.context", "training")]
    assert [m.model_id for m in inputs.model_inputs] == [model.model_id]
    [found] = mlflow.search_runs(filter_string=f"attributes.run_id = '{run.info.run_id}'", output_format="list")
    assert found.inputs.dataset_inputs[0].dataset.digest == dataset.digest
    # the producer's logged model is its output, and its record is none of its run's tags in the v1 SDK
    assert [o.model_id for o in client.get_run(producer.info.run_id).outputs.model_outputs] == [model.model_id]
    v1 = Run.get(mlflow_env.workspace("default"), producer.info.run_id)
    assert not any(k.startswith("aml.mlflow.") for k in v1.get_tags())

    with pytest.raises(MlflowException, match="not found") as caught:
        client.log_inputs(run.info.run_id, models=[LoggedModelInput("m-00000000000000000000000000000000")])
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    too_long = {"run_id": run.info.run_id, "datasets": [{"dataset": {"name": "n" * 501, "digest": "d",
                                                                     "source_type": "code", "source": "{}"}}]}
    answer = requests.post(f"{tracking_uri(mlflow_env)}/api/2.0/mlflow/runs/log-inputs", json=too_long, timeout=30,
                           headers={"Authorization": f"Bearer {mlflow_env.info()['token']}"})
    assert answer.status_code == 400 and answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "'name' exceeds the maximum length of 500" in answer.json()["message"]


def test_a_v1_runs_registered_input_dataset_is_an_mlflow_dataset_input(mlflow_env: ServiceProcess) -> None:
    ws = mlflow_env.workspace("default")
    v1 = Experiment(ws, "v1-inputs").start_logging()
    v1.complete()
    database = next((a.split("=", 1)[1] for a in mlflow_env.extra if a.startswith("--AMLExtension.database_url=")),
                    None)
    app = AMLApplication.for_database(mlflow_env.root, database)
    store = app.store_class(app.settings.db_url, auto_upgrade=False)
    dataset_id = str(uuid.uuid4())
    with store.session() as s:  # what submitting with labels.as_named_input("labels") records (core/run_data.py)
        ws_id = s.query(WorkspaceRow.id).filter(WorkspaceRow.name == "default").scalar()
        s.add(DatasetRow(id=dataset_id, workspace_id=ws_id, name="labels", version=2, kind="tabular", definition={},
                         definition_sha256="0" * 64, fingerprint="abcdef0123456789" * 4, file_count=1,
                         total_size=10, created_at=datetime.datetime.now(datetime.timezone.utc)))
        s.flush()
        s.add(DatasetRunRow(dataset_id=dataset_id, run_id=v1.id, direction="input", name="labels"))
    store.dispose()
    [given] = MlflowClient().get_run(v1.id).inputs.dataset_inputs
    assert (given.dataset.name, given.dataset.digest, given.dataset.source_type) == ("labels", "abcdef01",
                                                                                       "aml_dataset")
    assert '"version": 2' in given.dataset.source and [(t.key, t.value) for t in given.tags] == [
        ("mlflow.data.context", "labels")]
