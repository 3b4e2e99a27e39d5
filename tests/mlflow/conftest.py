"""One real ``aml serve`` for the MLflow tests (session-scoped: started once), and the real MLflow client
pointed at it.

The client reads its tracking URI and token from the environment (``MLFLOW_TRACKING_URI``,
``MLFLOW_TRACKING_TOKEN``), as a user's script does; the fixture sets them for the test and restores them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ServiceProcess
from tests.postgres import PostgresServer
from tests.procs import kill_processes_using


@pytest.fixture(scope="session")
def mlflow_service(tmp_path_factory: pytest.TempPathFactory,
                   postgres_server: PostgresServer | None) -> Iterator[ServiceProcess]:
    name = postgres_server.new_database() if postgres_server is not None else None
    svc = ServiceProcess(tmp_path_factory.mktemp("mlflow") / "root", extra=[],
                         database_url=postgres_server.url(name) if postgres_server and name else None)
    svc.root.mkdir()
    svc.start()
    yield svc
    svc.stop()
    kill_processes_using(svc.root)
    if postgres_server is not None and name:
        postgres_server.drop_database(name)


def tracking_uri(svc: ServiceProcess, workspace: str | None = None) -> str:
    base = f"http://127.0.0.1:{svc.port}/aml/mlflow"
    return f"{base}/workspaces/{workspace}" if workspace else base


@pytest.fixture
def mlflow_env(mlflow_service: ServiceProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceProcess]:
    """The process's MLflow client talks to the service as its administrator (the service token)."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri(mlflow_service))
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", mlflow_service.info()["token"])
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # a refusal is answered at once, never retried
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    mlflow.set_tracking_uri(tracking_uri(mlflow_service))
    yield mlflow_service
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]


__all__ = ["tracking_uri"]
