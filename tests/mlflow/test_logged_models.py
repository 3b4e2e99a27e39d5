"""MLflow 3 logged models with the real client: ``mlflow.sklearn.log_model`` stores the model among its run's
files, ``models:/<model_id>`` loads it back, and its record answers get, search, tags and params."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LinearRegression

from jupyter_aml.sdk.run import Run
from tests.e2e.conftest import ServiceProcess


def test_log_model_then_load_model_and_predict(mlflow_env: ServiceProcess) -> None:
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = 2 * X[:, 0] + 1
    mlflow.set_experiment("mlflow-models")
    with mlflow.start_run(run_name="fit") as run:
        mlflow.log_param("alpha", 0.5)
        info = mlflow.sklearn.log_model(LinearRegression().fit(X, y), name="model",
                                        pip_requirements=["scikit-learn"])  # no inference subprocess: fast
    assert info.model_uri == f"models:/{info.model_id}"
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert np.allclose(loaded.predict(np.array([[4.0]])), [9.0])

    client = MlflowClient()
    model = client.get_logged_model(info.model_id)
    assert model.source_run_id == run.info.run_id and model.name == "model"
    assert model.params["alpha"] == "0.5"
    client.set_logged_model_tags(info.model_id, {"quality": "good"})
    client.delete_logged_model_tag(info.model_id, "quality")
    client.set_logged_model_tags(info.model_id, {"stage": "dev"})
    client.finalize_logged_model(info.model_id, LoggedModelStatus.READY)
    model = client.get_logged_model(info.model_id)
    assert model.tags["stage"] == "dev" and "quality" not in model.tags and model.status == LoggedModelStatus.READY

    found = mlflow.search_logged_models(experiment_ids=[model.experiment_id], filter_string="name = 'model'",
                                        output_format="list")
    assert [m.model_id for m in found] == [info.model_id]
    assert mlflow.search_logged_models(experiment_ids=[model.experiment_id], filter_string="tags.stage = 'x'",
                                       output_format="list") == []
    # the run's artifacts through runs:/ resolve to the same model, and its record is not one of the run's tags
    assert np.allclose(mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict(np.array([[0.0]])), [1.0])
    assert not any(k.startswith("aml.") for k in client.get_run(run.info.run_id).data.tags)

    # lineage: the model's files are its run's outputs, as the v1 SDK sees them
    v1 = Run.get(mlflow_env.workspace("default"), run.info.run_id)
    assert f"outputs/mlflow-models/{info.model_id}/MLmodel" in v1.get_file_names()


def test_a_logged_model_needs_a_run_and_a_missing_one_is_not_found(mlflow_env: ServiceProcess) -> None:
    client = MlflowClient()
    exp = client.create_experiment("mlflow-models-bad")
    with pytest.raises(MlflowException, match="needs a source run") as caught:
        client.create_logged_model(exp, name="orphan")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException, match="not found") as missing:
        client.get_logged_model("m-0123456789abcdef0123456789abcdef")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
