"""The SDK's public queries (what the CLI, magics and widgets use) against a real service process."""

from __future__ import annotations

import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from jupyter_aml import Experiment, Model, Workspace
from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.sdk.queries import RunPage
from tests.e2e.conftest import ServiceProcess


class CountingClient(ServiceClient):
    """The real transport, counting the requests it sends."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str, path: str, **kw: Any) -> Any:
        self.calls.append((method, path))
        return super().request(method, path, **kw)


def _workspace(svc: ServiceProcess, name: str = "q") -> tuple[Workspace, CountingClient]:
    info = svc.info()
    client = CountingClient(info["url"], info["token"])
    return Workspace(name, client=client), client


def test_get_metrics_is_one_request_with_v1_shapes(service: ServiceProcess) -> None:
    ws, client = _workspace(service)
    run = Experiment(ws, "metrics").start_logging()
    run.log("once", 0.5)
    for i in range(3):
        run.log("loss", 1.0 / (i + 1))
    run.log_list("xs", [1, 2, 3])
    run.log_row("curve", epoch=1, acc=0.5)
    run.log_row("curve", epoch=2, acc=0.7)
    run.log_table("tbl", {"a": [1, 2], "b": [3, 4]})
    child = run.child_run("child")
    child.log("child_metric", 7)
    run.flush()
    client.calls.clear()
    metrics = run.get_metrics()
    assert client.calls == [("GET", f"/workspaces/q/runs/{run.id}/metric-values")]
    assert metrics == {
        "once": 0.5,
        "loss": [1.0, 0.5, 1.0 / 3],
        "xs": [1, 2, 3],
        "curve": {"epoch": [1, 2], "acc": [0.5, 0.7]},
        "tbl": {"a": [1, 2], "b": [3, 4]},
    }
    client.calls.clear()
    assert run.get_metrics("loss") == {"loss": [1.0, 0.5, 1.0 / 3]}
    assert run.get_metrics("curve") == {"curve": {"epoch": [1, 2], "acc": [0.5, 0.7]}}
    assert run.get_metrics("missing") == {}
    assert len(client.calls) == 3  # one each
    client.calls.clear()
    tree = run.get_metrics(recursive=True)
    assert len(client.calls) == 1
    assert tree[child.id] == {"child_metric": 7} and tree[run.id]["once"] == 0.5

    summaries = {s["name"]: s for s in run.get_metric_summaries()}
    assert summaries["loss"]["count"] == 3 and summaries["loss"]["kind"] == "scalar"
    history = run.get_metric_history("loss")
    assert history["steps"] == [0.0, 1.0, 2.0] and history["values"] == [1.0, 0.5, 1.0 / 3]
    assert run.get_metric_history("loss", max_points=10)["total"] == 3
    run.complete()


def test_list_runs_pages_filters_and_iterates(service: ServiceProcess) -> None:
    ws, _ = _workspace(service)
    exp = Experiment(ws, "paging")
    runs = []
    for i in range(5):
        run = exp.start_logging(tags={"i": str(i), "even": str(i % 2 == 0)})
        runs.append(run)
        if i == 0:
            run.child_run("kid").complete()
        if i % 2 == 0:
            run.complete()
        else:
            run.fail("no")

    first = ws.list_runs("paging", page_size=2)
    assert isinstance(first, RunPage) and len(first.items) == 2 and first.total == 5 and first.next_page_token
    assert [r.id for r in first.items] == [runs[4].id, runs[3].id]  # newest first
    second = ws.list_runs("paging", page_size=2, page_token=first.next_page_token)
    assert [r.id for r in second.items] == [runs[2].id, runs[1].id]
    assert first.records[0]["id"] == runs[4].id and first.items[0].get_record()["status"] == "Completed"

    assert [r.id for r in ws.iter_runs("paging", page_size=2)] == [r.id for r in reversed(runs)]
    assert len(list(ws.iter_runs("paging", include_children=True))) == 6
    assert len(list(ws.iter_runs("paging", limit=3, page_size=2))) == 3
    pages = list(ws.iter_run_pages("paging", limit=3, page_size=2))
    assert [len(p.items) for p in pages] == [2, 1] and pages[-1].next_page_token  # more match
    assert list(ws.iter_run_pages("paging", limit=10))[-1].next_page_token is None
    assert {r.id for r in ws.list_runs("paging", status="Failed").items} == {runs[1].id, runs[3].id}
    assert [r.id for r in ws.list_runs("paging", tags={"i": "2"}).items] == [runs[2].id]
    assert ws.list_runs("paging", order_by="number").items[0].id == runs[0].id
    assert [r.id for r in ws.list_runs(parent_id=runs[0].id).items] != []
    with pytest.raises(InvalidInput):
        ws.list_runs(page_size=0)
    assert ws.get_run(runs[2].id).get_record()["tags"]["i"] == "2"
    with pytest.raises(NotFound):
        ws.get_run("nope")
    assert [r.id for r in exp.get_runs()] == [r.id for r in reversed(runs)]

    summaries = {e.name: e for e in ws.list_experiment_summaries()}
    assert summaries["paging"].run_count == 5 and summaries["paging"].created_at  # top-level runs, the table's rows
    assert summaries["paging"].child_run_count == 1


def test_details_logs_snapshot_and_model_files(service: ServiceProcess, tmp_path: Path) -> None:
    ws, _ = _workspace(service)
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text("print('hi')\n")
    run = Experiment(ws, "details").start_logging(snapshot_directory=src, display_name="nice")
    details = run.get_details()
    for key in ("runId", "status", "number", "displayName", "kind", "createdTimeUtc", "snapshotId", "exitCode",
                "workspace", "description"):
        assert key in details, key
    assert details["displayName"] == "nice" and details["kind"] == "interactive"

    info = run.get_snapshot_info()
    assert info["file_count"] == 1 and info["id"] == details["snapshotId"]
    target = run.download_snapshot(tmp_path)
    assert zipfile.ZipFile(target).namelist() == ["train.py"]
    assert ws.get_snapshot_info(info["id"])["total_size"] == len("print('hi')\n")

    ws._api.post_logs(ws.name, run.id, {"lines": [{"text": f"line {i}"} for i in range(7)]})
    lines = run.get_logs()
    assert [line["text"] for line in lines] == [f"line {i}" for i in range(7)]
    cursor = lines.next_cursor
    page, next_cursor = run.get_log_page(limit=3)
    assert [line["text"] for line in page] == ["line 0", "line 1", "line 2"]
    assert run.get_logs(limit=3).next_cursor == next_cursor
    rest, end = run.get_log_page(after=next_cursor)
    assert len(rest) == 4 and end == cursor
    assert run.get_log_page(after=cursor) == ([], cursor)

    model_file = tmp_path / "model.pkl"
    model_file.write_bytes(b"weights")
    model = Model.register(ws, model_file, "m")
    assert model.get_file_names() == ["model.pkl"] and model.get_files()[0]["size"] == 7
    run.complete()


def test_watch_catches_up_then_follows_until_the_run_ends(service: ServiceProcess) -> None:
    ws, _ = _workspace(service)
    run = Experiment(ws, "watch").start_logging()
    run.log("loss", 3.0)
    run.log("loss", 2.0)
    run.flush()

    def train() -> None:
        time.sleep(1.0)
        for value in (1.0, 0.5):
            run.log("loss", value)
        run.flush()
        ws._api.post_logs(ws.name, run.id, {"lines": [{"text": "epoch done"}]})
        time.sleep(0.5)
        run.complete()

    worker = threading.Thread(target=train)
    worker.start()
    events = list(run.watch(timeout=60))
    worker.join()
    kinds = [e["type"] for e in events]
    assert kinds[0] == "metric" or kinds[0] == "run"
    points: list[tuple[float, float]] = []
    for event in events:
        if event["type"] == "metric":
            points += list(zip(event["steps"], event["values"], strict=True))
    assert points == [(0.0, 3.0), (1.0, 2.0), (2.0, 1.0), (3.0, 0.5)]  # each point once, server steps
    logs = [line["text"] for e in events if e["type"] == "log" for line in e["lines"]]
    assert logs == ["epoch done"]
    statuses = [e["run"]["status"] for e in events if e["type"] == "run" and e["run"]["id"] == run.id]
    assert statuses[0] == "Running" and statuses[-1] == "Completed"
    assert list(run.watch(timeout=5))[-1]["type"] == "run"  # an ended run: its state, then the end


def test_watch_ends_at_its_timeout(service: ServiceProcess) -> None:
    ws, _ = _workspace(service)
    run = Experiment(ws, "watch-timeout").start_logging()
    t0 = time.monotonic()
    events = list(run.watch(timeout=2))
    assert 1.5 < time.monotonic() - t0 < 10
    assert [e["type"] for e in events] == ["run"]
    run.complete()


def test_watch_reconnects_and_catches_up_after_a_service_restart(service: ServiceProcess) -> None:
    ws, _ = _workspace(service)
    run = Experiment(ws, "watch-restart").start_logging()
    run.log("loss", 1.0)
    run.flush()
    events: list[Any] = []
    watcher = threading.Thread(target=lambda: events.extend(run.watch(timeout=120)))
    watcher.start()
    deadline = time.monotonic() + 20
    while not any(e["type"] == "metric" for e in events) and time.monotonic() < deadline:
        time.sleep(0.1)
    service.kill9()  # the stream breaks; the watch keeps retrying
    time.sleep(1.0)
    service.start()
    run.log("loss", 0.5)  # shipped once the service is back, delivered by the new stream or its catch-up
    run.flush(60)
    run.complete()
    watcher.join(60)
    assert not watcher.is_alive()
    points = [(s, v) for e in events if e["type"] == "metric" for s, v in zip(e["steps"], e["values"], strict=True)]
    assert points == [(0.0, 1.0), (1.0, 0.5)]
    assert [e["run"]["status"] for e in events if e["type"] == "run"][-1] == "Completed"


def test_watch_with_children_follows_child_runs_created_later(service: ServiceProcess) -> None:
    ws, _ = _workspace(service)
    parent = Experiment(ws, "watch-children").start_logging()
    early = parent.child_run("early")
    early.log("acc", 0.1)
    parent.flush()
    events: list[Any] = []
    watcher = threading.Thread(target=lambda: events.extend(parent.watch(timeout=60, children=True)))
    watcher.start()
    time.sleep(1.0)
    late = parent.child_run("late")  # appears while the watch runs: it resubscribes to follow it
    time.sleep(1.0)
    for value in (0.5, 0.6):
        late.log("acc", value)
    early.log("acc", 0.2)
    parent.flush()
    late.complete()
    early.complete()
    time.sleep(0.5)
    parent.complete()
    watcher.join(60)
    assert not watcher.is_alive()
    points: dict[str, list[float]] = {}
    for e in events:
        if e["type"] == "metric":
            points.setdefault(e["run_id"], []).extend(e["values"])
    assert points == {early.id: [0.1, 0.2], late.id: [0.5, 0.6]}
    finals = {e["run"]["id"]: e["run"]["status"] for e in events if e["type"] == "run"}
    assert finals == {parent.id: "Completed", early.id: "Completed", late.id: "Completed"}


def test_watch_close_from_another_thread_ends_it_at_once(service: ServiceProcess) -> None:
    ws, _ = _workspace(service)
    run = Experiment(ws, "watch-close").start_logging()
    events = run.watch()
    first = next(events)  # the catch-up: the run's record
    assert first["type"] == "run" and events.connected.wait(10)
    t0 = time.monotonic()
    threading.Timer(0.5, events.close).start()
    assert list(events) == [] and time.monotonic() - t0 < 5
    assert events.closed and not events.connected.is_set()
    run.complete()


def test_an_ended_interactive_run_takes_no_more_values(service: ServiceProcess) -> None:
    from jupyter_aml.errors import AMLError

    ws, _ = _workspace(service)
    done = Experiment(ws, "ended").start_logging()
    done.log("x", 1)
    done.complete()
    with pytest.raises(AMLError, match="has ended"):
        done.log("x", 2)
    canceled = Experiment(ws, "ended").start_logging()
    canceled.cancel()  # from its own notebook: the session ends at once, no heartbeat needed
    assert canceled._shipper is not None and canceled._shipper.stopped
    assert canceled.get_status() == "Canceled"
    with pytest.raises(AMLError, match="has ended"):
        canceled.log("x", 1)
    assert done.get_metrics() == {"x": 1}


def test_environment_records_come_from_the_registry(service: ServiceProcess) -> None:
    from jupyter_aml import Environment

    ws, _ = _workspace(service)
    env = Environment("rec")
    env.environment_variables["MODE"] = "fast"
    with pytest.raises(InvalidInput, match="not registered"):
        env.get_record()
    record = env.register(ws).get_record()
    assert record["name"] == "rec" and record["version"] == 1 and record["spec_hash"]
    assert Environment.get(ws, "rec").get_record()["spec_hash"] == record["spec_hash"]
    assert [e["name"] for e in ws.list_environments()] == ["rec"]
    assert [e["version"] for e in ws.list_environments("rec")] == [1]
