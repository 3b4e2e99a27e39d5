"""A cluster configured with c.AMLExtension.computes (an existing Dask deployment: a real `dask scheduler` and
`dask worker`) is brought up at start, listed in every workspace as origin "config", and runs scripts."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.compute.test_dask_external import deployment  # noqa: F401 - the fixture: scheduler + worker processes
from tests.server.helpers import upload


@pytest.fixture
def jp_server_config(aml_root: Path, database_url: str | None, deployment: str) -> dict[str, Any]:  # noqa: F811
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_aml": True}, "allow_unauthenticated_access": False},
        "AMLExtension": {
            "root": str(aml_root), "database_url": database_url or "", "heartbeat_interval": 1.0,
            "computes": [{"name": "shared-dask", "type": "AmlCompute", "scheduler_address": deployment,
                          "max_nodes": 1}],
        },
    }


async def test_a_configured_cluster_is_up_listed_and_runs(aml: Any, jp_serverapp: Any) -> None:
    await jp_serverapp._post_start()  # what the server's loop runs at start (pytest-jupyter only starts the app)
    await aml("POST", "workspaces", {"name": "w"})
    deadline = time.monotonic() + 30
    while True:
        _, listing = await aml("GET", "workspaces/w/computes")
        shared = next(c for c in listing["items"] if c["name"] == "shared-dask")
        if shared["state"] == "Running" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert (shared["origin"], shared["type"], shared["state"]) == ("config", "AmlCompute", "Running")
    snap = await upload(aml, "w", {"t.py": b"print('on the shared deployment')\n"})
    _, run = await aml("POST", "workspaces/w/runs", {"experiment": "e", "snapshot_id": snap,
                                                     "run_config": {"script": "t.py", "compute_target": "shared-dask"}})
    deadline = time.monotonic() + 90
    while run["status"] not in ("Completed", "Failed") and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        _, run = await aml("GET", f"workspaces/w/runs/{run['id']}")
    assert run["status"] == "Completed", run
    status, body = await aml("DELETE", "workspaces/w/computes/shared-dask")
    assert status == 409 and "configured" in body["error"]["message"]
