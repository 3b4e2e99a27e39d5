"""Computes as workspace resources over REST, on a real embedded Dask cluster: create (checked first, then
provisioned in the background), list with the configured targets, run on it, resize, refuse what cannot
work with the fix, and delete (409 while runs are on it; force cancels them)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from tests.server.helpers import upload

SLEEPER = b"import time\nprint('started', flush=True)\ntime.sleep(120)\n"
QUICK = b"print('hello from the cluster')\n"


async def until(aml: Any, path: str, ready: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        _, body = await aml("GET", path)
        if ready(body):
            return body
        await asyncio.sleep(0.25)
    raise AssertionError(f"{path} never got there: {body}")


def host_pids(root: Path) -> list[int]:
    """The cluster host processes started for computes under this service's root."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"jupyter_aml.compute.dask_host" in cmdline and str(root).encode() in cmdline:
                found.append(int(pid))
    return found


async def test_a_cluster_is_created_listed_used_resized_and_deleted(aml: Any, aml_root: Path) -> None:
    await aml("POST", "workspaces", {"name": "w"})
    status, made = await aml("POST", "workspaces/w/computes",
                             {"name": "cpu-cluster", "type": "AmlCompute", "max_nodes": 2,
                              "idle_seconds_before_scaledown": 5})
    assert status == 202 and made["state"] == "Creating" and made["origin"] == "workspace"
    assert (made["vcpus"], made["memory_gb"], made["min_nodes"], made["max_nodes"]) == (2, 7, 0, 2)
    cluster = await until(aml, "workspaces/w/computes/cpu-cluster", lambda c: c["state"] == "Running")
    assert cluster["type"] == "AmlCompute" and cluster["vm_size"] == "STANDARD_D2_V2"
    _, listing = await aml("GET", "workspaces/w/computes")
    assert [(c["name"], c["origin"]) for c in listing["items"]] == [("local", "config"), ("cpu-cluster", "workspace")]

    status, again = await aml("POST", "workspaces/w/computes", {"name": "cpu-cluster", "type": "AmlCompute"})
    assert status == 409 and "already exists" in again["error"]["message"]

    snap = await upload(aml, "w", {"quick.py": QUICK, "sleep.py": SLEEPER})
    status, run = await aml("POST", "workspaces/w/runs", {"experiment": "e", "snapshot_id": snap,
                                                           "run_config": {"script": "quick.py",
                                                                          "compute_target": "cpu-cluster"}})
    assert status == 201 and run["compute_target"] == "cpu-cluster"
    done = await until(aml, f"workspaces/w/runs/{run['id']}", lambda r: r["status"] in ("Completed", "Failed"), 90)
    assert done["status"] == "Completed", done
    _, logs = await aml("GET", f"workspaces/w/runs/{run['id']}/logs")
    assert any("hello from the cluster" in line["text"] for line in logs["items"])

    status, resized = await aml("PATCH", "workspaces/w/computes/cpu-cluster", {"max_nodes": 3})
    assert status == 200 and resized["max_nodes"] == 3 and resized["max_concurrent_runs"] == 3
    status, bad = await aml("PATCH", "workspaces/w/computes/cpu-cluster", {"min_nodes": 5})
    assert status == 400 and "max_nodes (3) is less than min_nodes (5)" in bad["error"]["message"]

    status, run = await aml("POST", "workspaces/w/runs", {"experiment": "e", "snapshot_id": snap,
                                                           "run_config": {"script": "sleep.py",
                                                                          "compute_target": "cpu-cluster"}})
    await until(aml, f"workspaces/w/runs/{run['id']}", lambda r: r["status"] == "Running", 60)
    busy = await until(aml, "workspaces/w/computes/cpu-cluster",
                       lambda c: [n for n in c["nodes"] if n["state"] == "busy" and n["run_ids"] == [run["id"]]])
    assert busy["active_runs"] == 1
    status, refused = await aml("DELETE", "workspaces/w/computes/cpu-cluster")
    assert status == 409 and "force" in refused["error"]["hint"]
    assert host_pids(aml_root)
    status, _ = await aml("DELETE", "workspaces/w/computes/cpu-cluster", params={"force": "true"})
    assert status == 200
    _, canceled = await aml("GET", f"workspaces/w/runs/{run['id']}")
    assert canceled["status"] == "Canceled"
    status, gone = await aml("GET", "workspaces/w/computes/cpu-cluster")
    assert status == 404 and "local" not in gone["error"]["message"]
    deadline = time.monotonic() + 15
    while host_pids(aml_root) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert not host_pids(aml_root)


async def test_what_cannot_work_is_refused_with_the_fix_and_nothing_is_stored(aml: Any) -> None:
    await aml("POST", "workspaces", {"name": "w"})
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"vm_size": "STANDARD_BOGUS"}, 400, "not a known size", "STANDARD_DS3_V2"),
        ({"min_nodes": 3, "max_nodes": 2}, 400, "max_nodes (2) is less than min_nodes (3)", "max_nodes >= min_nodes"),
        ({"scheduler_address": "tcp://127.0.0.1:1"}, 400, "no Dask scheduler answers", "scheduler_address"),
        ({"max_nodes": 999}, 429, "may have 32 nodes in all", "scheduler_address"),
        ({"min_nodes": -1}, 422, "min_nodes", ""),
    ]
    for fields, code, words, fix in cases:
        status, body = await aml("POST", "workspaces/w/computes", {"name": "bad-one", "type": "AmlCompute", **fields})
        assert status == code, (fields, body)
        assert words in body["error"]["message"] and fix in (body["error"].get("hint") or ""), body
    status, listing = await aml("GET", "workspaces/w/computes")
    assert [c["name"] for c in listing["items"]] == ["local"]
    status, body = await aml("GET", "workspaces/w/computes/bad-one")
    assert status == 404 and "local" not in body["error"]["message"]


async def test_the_configured_target_is_listed_and_cannot_be_changed_here(aml: Any) -> None:
    await aml("POST", "workspaces", {"name": "w"})
    status, local = await aml("GET", "workspaces/w/computes/local")
    assert status == 200 and local["origin"] == "config" and local["state"] == "Running"
    for method, path in (("DELETE", ""), ("POST", "/start"), ("PATCH", "")):
        status, body = await aml(method, f"workspaces/w/computes/local{path}", {} if method != "DELETE" else None)
        assert status == 409 and "configured for the service" in body["error"]["message"], (method, path)
    status, body = await aml("GET", "workspaces/nowhere/computes/local")
    assert status == 404
    status, sizes = await aml("GET", "workspaces/w/vm-sizes")
    d2 = next(s for s in sizes["items"] if s["name"] == "STANDARD_D2_V2")
    assert (d2["vCPUs"], d2["memoryGB"]) == (2, 7)
    status, body = await aml("POST", "workspaces/w/runs", {"experiment": "e", "kind": "script", "snapshot_id": "0" * 64,
                                                            "run_config": {"script": "x.py", "compute_target": "nope"}})
    assert status == 400 and "local" in body["error"]["hint"]
