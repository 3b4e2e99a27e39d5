from __future__ import annotations

import hashlib
from typing import Any


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def upload(aml: Any, ws: str, files: dict[str, bytes]) -> str:
    """Upload blobs and post a manifest; return the snapshot id."""
    for data in files.values():
        status, _ = await aml("PUT", f"workspaces/{ws}/blobs/{sha(data)}", raw=data)
        assert status == 201
    manifest = [{"path": p, "sha256": sha(d), "size": len(d), "mode": 0o644} for p, d in files.items()]
    status, snap = await aml("POST", f"workspaces/{ws}/snapshots", {"files": manifest})
    assert status == 201, snap
    return snap["id"]


async def interactive_run(aml: Any, ws: str = "w", experiment: str = "exp", **extra: Any) -> dict[str, Any]:
    await aml("POST", "workspaces", {"name": ws})
    status, run = await aml("POST", f"workspaces/{ws}/runs", {"experiment": experiment, "kind": "interactive", **extra})
    assert status == 201, run
    return run


def records(run_id: str, start: int, n: int, name: str = "loss") -> list[dict[str, Any]]:
    return [
        {"seq": start + i, "run_id": run_id, "t": 1000.0 + i, "k": "m", "n": name, "v": float(i), "s": i}
        for i in range(n)
    ]
