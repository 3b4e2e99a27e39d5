"""``Workspace.get_mlflow_tracking_uri()``: v1's name for this workspace's MLflow URI, which also hands a plain
``mlflow`` client the workspace object's token when ``MLFLOW_TRACKING_TOKEN`` is unset."""

from __future__ import annotations

import os

import mlflow
import pytest
from mlflow import MlflowClient

from tests.e2e.conftest import ServiceProcess
from tests.mlflow.conftest import tracking_uri


def test_the_tracking_uri_is_the_workspaces_and_brings_its_token(mlflow_service: ServiceProcess,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    ws = mlflow_service.workspace("default")
    uri = ws.get_mlflow_tracking_uri()
    assert uri == tracking_uri(mlflow_service)
    assert mlflow_service.workspace("team-a").get_mlflow_tracking_uri() == tracking_uri(mlflow_service, "team-a")
    try:
        mlflow.set_tracking_uri(uri)
        assert MlflowClient().get_experiment("0").name == "Default"  # authenticated by the token it set
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "mine")
    ws.get_mlflow_tracking_uri()
    assert os.environ["MLFLOW_TRACKING_TOKEN"] == "mine"  # a token already set is left alone
