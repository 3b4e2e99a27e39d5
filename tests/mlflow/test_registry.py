"""MLflow's model registry with the real client on the workspace's own registry: register_model, aliases,
stages, search with filters, models:/ URIs, and the v1 SDK seeing the same models both ways."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LinearRegression

from jupyter_aml.sdk.model import Model
from tests.e2e.conftest import ServiceProcess


def test_register_model_aliases_search_and_the_v1_sdk(mlflow_env: ServiceProcess, tmp_path: object) -> None:
    X = np.array([[0.0], [1.0], [2.0]])
    mlflow.set_experiment("mlflow-registry")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(LinearRegression().fit(X, 3 * X[:, 0]), name="model",
                                        pip_requirements=["scikit-learn"])
    client = MlflowClient()
    v1 = mlflow.register_model(info.model_uri, "reg-digits", tags={"team": "ml"})
    v2 = mlflow.register_model(info.model_uri, "reg-digits")
    assert (v1.version, v2.version) == ("1", "2") and v1.tags == {"team": "ml"}

    client.set_registered_model_alias("reg-digits", "champion", "1")
    assert client.get_model_version_by_alias("reg-digits", "champion").version == "1"
    client.set_registered_model_alias("reg-digits", "champion", "2")  # an alias moves
    assert client.get_model_version_by_alias("reg-digits", "champion").version == "2"
    assert client.get_registered_model("reg-digits").aliases == {"champion": "2"}
    for uri in ("models:/reg-digits/1", "models:/reg-digits@champion"):
        assert np.allclose(mlflow.pyfunc.load_model(uri).predict(np.array([[2.0]])), [6.0])

    # stages (deprecated in MLflow 3) are the version tag mlflow.stage, hidden from its tags
    assert client.transition_model_version_stage("reg-digits", "2", "production").current_stage == "Production"
    assert client.get_model_version("reg-digits", "2").tags == {}
    assert [v.version for v in client.get_latest_versions("reg-digits")] == ["2"]
    client.set_model_version_tag("reg-digits", "1", "validated", "yes")
    client.delete_model_version_tag("reg-digits", "1", "team")
    assert client.get_model_version("reg-digits", "1").tags == {"validated": "yes"}
    client.update_model_version("reg-digits", "1", description="first")
    assert client.get_model_version("reg-digits", "1").description == "first"
    found = client.search_model_versions("name = 'reg-digits' AND tags.validated = 'yes'")
    assert [v.version for v in found] == ["1"]
    client.set_registered_model_tag("reg-digits", "owner", "me")  # on its latest version: v1 tags are per version
    assert [m.name for m in client.search_registered_models("name LIKE 'reg-%' AND tags.owner = 'me'")] == [
        "reg-digits"]
    assert client.search_registered_models("tags.owner = 'nobody'") == []

    # the v1 SDK sees the same versions, with the run as lineage
    ws = mlflow_env.workspace("default")
    model = Model(ws, "reg-digits")
    assert model.version == 2 and model.run_id == info.run_id and model.tags["owner"] == "me"
    # ... and a model registered through the v1 SDK is a registered model to MLflow
    weights = tmp_path / "w.txt"  # type: ignore[operator]
    weights.write_text("1 2 3")
    Model.register(ws, model_path=str(weights), model_name="v1-only", tags={"kind": "txt"})
    listed = {m.name: m for m in client.search_registered_models()}
    assert "v1-only" in listed and listed["v1-only"].latest_versions[0].tags == {"kind": "txt"}

    local = mlflow.artifacts.download_artifacts("models:/v1-only/1", dst_path=str(tmp_path / "dl"))  # type: ignore[operator]
    assert (Path(local) / "w.txt").read_text() == "1 2 3"  # the files Model.download() gives, via MLflow

    client.rename_registered_model("v1-only", "v1-renamed")
    assert Model(ws, "v1-renamed").version == 1
    client.delete_model_version("reg-digits", "1")
    with pytest.raises(MlflowException) as caught:
        client.get_model_version("reg-digits", "1")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as taken:
        client.create_registered_model("reg-digits")
    assert taken.value.error_code == "RESOURCE_ALREADY_EXISTS"
    client.delete_registered_model("v1-renamed")
    assert "v1-renamed" not in {m.name for m in client.search_registered_models()}


def test_registry_refusals_are_mlflows_errors(mlflow_env: ServiceProcess) -> None:
    client = MlflowClient()
    client.create_registered_model("reg-empty")
    with pytest.raises(MlflowException, match="no version yet") as no_version:
        client.set_registered_model_tag("reg-empty", "k", "v")
    assert no_version.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException, match="Unsupported model version source") as source:
        client.create_model_version("reg-empty", "s3://bucket/model")
    assert source.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as missing:
        client.get_model_version_by_alias("reg-empty", "nope")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as unknown:
        client.get_registered_model("reg-never")
    assert unknown.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException, match="Invalid attribute key") as bad_filter:
        client.search_registered_models("version = '1'")
    assert bad_filter.value.error_code == "INVALID_PARAMETER_VALUE"
    assert [m.name for m in client.search_registered_models("name = 'reg-empty'")] == ["reg-empty"]
    client.delete_registered_model("reg-empty")
    assert client.search_registered_models("name = 'reg-empty'") == []
