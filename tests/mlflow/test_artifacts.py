"""MLflow artifacts are the run's files, both ways: log_artifact(s), log_text and log_dict upload through the
artifact proxy, list_artifacts and download_artifacts read them, and the v1 SDK sees the same files."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import requests
from mlflow import MlflowClient

from jupyter_aml.sdk.run import Run
from tests.e2e.conftest import ServiceProcess
from tests.mlflow.conftest import tracking_uri


def test_artifacts_are_run_files(mlflow_env: ServiceProcess, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A")
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "b.txt").write_text("B")
    payload = os.urandom(300_000)
    (tmp_path / "dir" / "sub" / "c.bin").write_bytes(payload)
    mlflow.set_experiment("mlflow-artifacts")
    with mlflow.start_run() as started:
        mlflow.log_artifact(str(tmp_path / "a.txt"))
        mlflow.log_artifacts(str(tmp_path / "dir"), artifact_path="data")
        mlflow.log_text("hello", "notes/hello.txt")
        mlflow.log_dict({"a": 1}, "config.json")
    run_id = started.info.run_id
    client = MlflowClient()
    assert [(f.path, f.is_dir) for f in client.list_artifacts(run_id)] == [
        ("a.txt", False), ("config.json", False), ("data", True), ("notes", True)]
    assert [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id, "data")] == [
        ("data/b.txt", False, 1), ("data/sub", True, None)]
    down = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="data", dst_path=str(tmp_path / "o")))
    assert (down / "sub" / "c.bin").read_bytes() == payload and (down / "b.txt").read_text() == "B"
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt") == "hello"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"a": 1}

    v1 = Run.get(mlflow_env.workspace("default"), run_id)
    assert sorted(v1.get_file_names()) == ["a.txt", "config.json", "data/b.txt", "data/sub/c.bin", "notes/hello.txt"]
    assert v1.download_file("data/sub/c.bin", tmp_path / "v1.bin").read_bytes() == payload
    (tmp_path / "model.txt").write_text("weights")
    v1.upload_file("outputs/model.txt", tmp_path / "model.txt")
    assert [f.path for f in client.list_artifacts(run_id, "outputs")] == ["outputs/model.txt"]

    auth = {"Authorization": f"Bearer {mlflow_env.info()['token']}"}
    root = f"{tracking_uri(mlflow_env)}/api/2.0/mlflow-artifacts/artifacts/runs/{run_id}/artifacts"
    for method, url, code in (("DELETE", f"{root}/a.txt", "INVALID_PARAMETER_VALUE"),
                              ("PUT", f"{root}/%2E%2E/x", "INVALID_PARAMETER_VALUE"),
                              ("GET", f"{root}/nope.txt", "RESOURCE_DOES_NOT_EXIST"),
                              ("GET", root.replace(run_id, "no-such-run") + "/a.txt", "RESOURCE_DOES_NOT_EXIST"),
                              ("GET", root.replace("/runs/", "/elsewhere/"), "RESOURCE_DOES_NOT_EXIST")):
        answer = requests.request(method, url, headers=auth, data=b"x", timeout=10)
        assert answer.status_code in (400, 404) and answer.json()["error_code"] == code, (method, url, answer.text)
    assert requests.get(f"{root}/a.txt", timeout=10).status_code == 403  # no token, no file
