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
    assert metric["name"] == "loss" and metric["values"] == [0.0, 1.0, 2.0] and metric["steps"] == [0.0, 1.0, 2.0]
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


async def test_push_channel_events_parse_into_the_typed_union(aml, jp_fetch):
    """What the server publishes is what a client parsing the schema gets: one AMLEvent per data line."""
    import hashlib

    from jupyter_aml.core.events import FilesEvent, LogEvent, MetricEvent, ModelEvent, RunEvent, parse_event

    run = await interactive_run(aml)
    rid = run["id"]
    received: list = []
    buffer = bytearray()

    def on_chunk(chunk: bytes) -> None:
        buffer.extend(chunk)
        while b"\n\n" in buffer:
            block, _, rest = bytes(buffer).partition(b"\n\n")
            buffer[:] = rest
            if block.startswith(b"data: "):
                received.append(parse_event(block[6:]))

    stream = asyncio.ensure_future(jp_fetch("aml", "api", "v1", "events", params={"workspace": "w"},
                                            streaming_callback=on_chunk, request_timeout=30))
    await asyncio.sleep(0.5)
    await aml("POST", f"workspaces/w/runs/{rid}/logs", {"lines": [{"text": "hello", "stream": "stderr"}]})
    journal = [{"seq": 1, "run_id": rid, "t": 5.0, "k": "m", "n": "acc", "v": 0.5},
               {"seq": 2, "run_id": rid, "t": 6.0, "k": "m", "n": "acc", "v": 0.75}]
    await aml("POST", f"workspaces/w/runs/{rid}/journal", {"stream": "main", "records": journal})
    data = b"weights"
    digest = hashlib.sha256(data).hexdigest()
    await aml("PUT", f"workspaces/w/blobs/{digest}", raw=data)
    await aml("POST", f"workspaces/w/runs/{rid}/files",
              {"files": [{"path": "outputs/w.bin", "sha256": digest, "size": len(data)}]})
    await aml("POST", "workspaces/w/models", {"name": "net", "files": [{"path": "net.bin", "sha256": digest,
                                                                        "size": len(data)}]})
    await aml("POST", f"workspaces/w/runs/{rid}/status", {"status": "Completed"})
    wanted = {RunEvent, LogEvent, MetricEvent, FilesEvent, ModelEvent}
    for _ in range(50):
        if {type(e) for e in received} >= wanted and any(isinstance(e, RunEvent) for e in received):
            break
        await asyncio.sleep(0.1)
    stream.cancel()
    assert {type(e) for e in received} >= wanted
    log = next(e for e in received if isinstance(e, LogEvent))
    assert log.run_id == rid and log.lines[0].text == "hello" and log.lines[0].stream == "stderr"
    metric = next(e for e in received if isinstance(e, MetricEvent))
    assert (metric.name, metric.total, metric.steps, metric.values, metric.times) == ("acc", 2, [0, 1], [0.5, 0.75],
                                                                                      [5.0, 6.0])
    status, history = await aml("GET", f"workspaces/w/runs/{rid}/metrics/acc")
    assert status == 200 and (history["steps"], history["values"], history["times"]) == (
        metric.steps, metric.values, metric.times)
    files = next(e for e in received if isinstance(e, FilesEvent))
    assert files.paths == ["outputs/w.bin"]
    model = next(e for e in received if isinstance(e, ModelEvent))
    assert (model.action, model.name, model.version) == ("registered", "net", 1)
    final = [e for e in received if isinstance(e, RunEvent)][-1]
    assert final.run.id == rid and final.run.status == "Completed" and final.run.kind == "interactive"


def test_openapi_lists_the_event_union_for_the_events_route():
    from jupyter_aml.server.extension import all_routes
    from jupyter_aml.server.openapi import build_openapi

    doc = build_openapi(all_routes(), "0")
    schemas = doc["components"]["schemas"]
    union = schemas["AMLEvent"]
    assert union["discriminator"]["propertyName"] == "type"
    assert set(union["discriminator"]["mapping"]) == {"run", "log", "metric", "files", "model", "webservice", "compute"}
    for name in ("RunEvent", "LogEvent", "MetricEvent", "FilesEvent", "ModelEvent", "WebserviceEvent"):
        assert "type" in schemas[name]["required"]
    response = doc["paths"]["/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    assert response["schema"] == {"$ref": "#/components/schemas/AMLEvent"}
