"""Shared fixtures: a real Jupyter server with the extension, unauthenticated access disabled, and the
database every service of a test uses (SQLite in the test's folder, or a fresh PostgreSQL database)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.postgres import PostgresServer
from tests.procs import kill_processes_using

pytest_plugins = ["pytest_jupyter.jupyter_server"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("JUPYTER_AML_TEST_DATABASE") or "sqlite",
        help="the database the services under test use (default: $JUPYTER_AML_TEST_DATABASE or sqlite); "
        "postgresql starts a real server for the session",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"jupyter-aml database: {config.getoption('--database')}"


@pytest.fixture(scope="session")
def database_backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--database"))


@pytest.fixture(scope="session")
def postgres_server(database_backend: str) -> Iterator[PostgresServer | None]:
    if database_backend != "postgresql":
        yield None
        return
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def database_url(postgres_server: PostgresServer | None) -> Iterator[str | None]:
    """None: the service's default (SQLite in its root). Under PostgreSQL: an empty database of its own."""
    if postgres_server is None:
        yield None
        return
    name = postgres_server.new_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture
def aml_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "aml-root"
    root.mkdir()
    yield root
    kill_processes_using(root)


@pytest.fixture
def jp_server_config(aml_root: Path, database_url: str | None) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_aml": True}, "allow_unauthenticated_access": False},
        "AMLExtension": {
            "root": str(aml_root),
            "database_url": database_url or "",
            "heartbeat_interval": 1.0,
            "not_responding_after": 5.0,
            "failed_after": 10.0,
        },
    }


@pytest.fixture
def aml(jp_serverapp: Any, jp_fetch: Any) -> Any:
    """Call the REST API as the Jupyter user: ``await aml("GET", "workspaces")``; returns (status, json)."""
    from tornado.httpclient import HTTPClientError

    async def call(
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "headers": headers or {}, "params": params or {}}
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = b"{}"
        try:
            resp = await jp_fetch("aml", "api", "v1", *path.split("/"), **kwargs)
        except HTTPClientError as exc:
            assert exc.response is not None
            return exc.code, json.loads(exc.response.body or b"null")
        ctype = resp.headers.get("Content-Type", "")
        return resp.code, json.loads(resp.body) if "json" in ctype else resp.body

    return call
