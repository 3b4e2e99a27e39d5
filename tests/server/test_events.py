from __future__ import annotations

import asyncio
import json

from tests.server.helpers import interactive_run, records


async def test_push_channel_carries_status_logs_and_metrics(aml, jp_fetch):
    run = await interactive_run(aml)
    rid = run["id"]
    received: list[dict] = []

    def on_chunk(chunk: bytes) -> None:
        for block in chunk.decode().split("\n\n"):
            if block.startswith("data: "):
                received.append(json.loads(block[6:]))

    stream = asyncio.ensure_future(jp_fetch("aml", "api", "v1", "events", params={"workspace": "w", "run_id": rid},
                                            streaming_callback=on_chunk, request_timeout=30))
    await asyncio.sleep(0.5)
    await aml("POST", f"workspaces/w/runs/{rid}/logs", {"lines": [{"text": "hello"}]})
    await aml("POST", f"workspaces/w/runs/{rid}/journal", {"stream": "main", "records": records(rid, 1, 3)})
    await aml("POST", f"workspaces/w/runs/{rid}/status", {"status": "Completed"})
    for _ in range(50):
        if {e["type"] for e in received} >= {"log", "metric", "run"}:
            break
        await asyncio.sleep(0.1)
    stream.cancel()
    kinds = {e["type"] for e in received}
    assert kinds >= {"log", "metric", "run"}
    metric = next(e for e in received if e["type"] == "metric")
    assert metric["name"] == "loss" and [p[1] for p in metric["points"]] == [0.0, 1.0, 2.0]
    assert any(e["type"] == "run" and e["run"]["status"] == "Completed" for e in received)
    assert next(e for e in received if e["type"] == "log")["lines"][0]["text"] == "hello"


async def test_push_channel_announces_model_changes(aml, jp_fetch):
    """The sidebar's Models section refetches on these instead of polling."""
    import hashlib

    await aml("POST", "workspaces", {"name": "w"})
    received: list[dict] = []

    def on_chunk(chunk: bytes) -> None:
        for block in chunk.decode().split("\n\n"):
            if block.startswith("data: "):
                received.append(json.loads(block[6:]))

    stream = asyncio.ensure_future(jp_fetch("aml", "api", "v1", "events", params={"workspace": "w"},
                                            streaming_callback=on_chunk, request_timeout=30))
    await asyncio.sleep(0.5)
    data = b"weights"
    digest = hashlib.sha256(data).hexdigest()
    await aml("PUT", f"workspaces/w/blobs/{digest}", raw=data)
    status, _ = await aml("POST", "workspaces/w/models", {
        "name": "net", "files": [{"path": "net.bin", "sha256": digest, "size": len(data)}]})
    assert status == 201
    await aml("PATCH", "workspaces/w/models/net/versions/1", {"tags": {"stage": "prod"}})
    await aml("DELETE", "workspaces/w/models/net/versions/1")
    for _ in range(50):
        if len([e for e in received if e["type"] == "model"]) >= 3:
            break
        await asyncio.sleep(0.1)
    stream.cancel()
    assert [(e["action"], e["name"], e["version"]) for e in received if e["type"] == "model"] == [
        ("registered", "net", 1), ("updated", "net", 1), ("deleted", "net", 1)]
