"""Shared fixtures: a real Jupyter server with the extension, unauthenticated access disabled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.procs import kill_processes_using

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def aml_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "aml-root"
    root.mkdir()
    yield root
    kill_processes_using(root)


@pytest.fixture
def jp_server_config(aml_root: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_aml": True}, "allow_unauthenticated_access": False},
        "AMLExtension": {
            "root": str(aml_root),
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
