"""Put runs, metrics and logs into a running service through its REST API (fast: no scripts run)."""

from __future__ import annotations

import contextlib
import math
import threading
import time
import urllib.error
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.browser.lab import LabServer

JOURNAL_BATCH = 50_000  # records per POST (the server accepts up to 100,000)


def ensure_workspace(lab: LabServer, name: str = "default") -> None:
    names = {w["name"] for w in lab.get("workspaces")["items"]}
    if name not in names:
        lab.post("workspaces", {"name": name, "description": "browser tests"})


def interactive_run(
    lab: LabServer,
    experiment: str,
    *,
    workspace: str = "default",
    display_name: str = "",
    tags: dict[str, str] | None = None,
    properties: dict[str, str] | None = None,
) -> dict[str, Any]:
    body = {
        "experiment": experiment,
        "kind": "interactive",
        "display_name": display_name,
        "tags": tags or {},
        "properties": properties or {},
    }
    return lab.post(f"workspaces/{workspace}/runs", body)  # type: ignore[no-any-return]


def set_status(lab: LabServer, run_id: str, status: str, workspace: str = "default") -> None:
    lab.post(f"workspaces/{workspace}/runs/{run_id}/status", {"status": status})


class Journal:
    """Builds journal records with increasing seq for one run."""

    def __init__(self, lab: LabServer, run_id: str, workspace: str = "default", stream: str = "seed") -> None:
        self.lab, self.run_id, self.workspace, self.stream = lab, run_id, workspace, stream
        self.seq = 0
        self.records: list[dict[str, Any]] = []

    def add(self, k: str, n: str, v: Any = None, **extra: Any) -> None:
        self.seq += 1
        rec = {"seq": self.seq, "run_id": self.run_id, "t": extra.pop("t", time.time()), "k": k, "n": n, "v": v}
        rec.update(extra)
        self.records.append(rec)
        if len(self.records) >= JOURNAL_BATCH:
            self.flush()

    def scalar(self, name: str, value: float, step: float | None = None, t: float | None = None) -> None:
        self.add("m", name, value, s=step, t=t if t is not None else time.time())

    def flush(self) -> None:
        if self.records:
            self.lab.post(
                f"workspaces/{self.workspace}/runs/{self.run_id}/journal",
                {"stream": self.stream, "records": self.records},
            )
            self.records = []


def logged_run(
    lab: LabServer,
    experiment: str,
    *,
    lr: float,
    epochs: int = 30,
    workspace: str = "default",
    display_name: str = "",
    values: dict[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """An interactive run with a loss curve, an accuracy curve, a parameter and a tag, then Completed;
    ``values`` adds metrics logged as they are (strings, bools, None: one record per list item)."""
    run = interactive_run(
        lab,
        experiment,
        workspace=workspace,
        display_name=display_name,
        tags={"optimizer": "sgd" if lr < 0.05 else "adam"},
        properties={"learning_rate": str(lr), "epochs": str(epochs)},
    )
    journal = Journal(lab, run["id"], workspace)
    t0 = time.time() - epochs
    for step in range(epochs):
        loss = 2.0 * math.exp(-lr * 8 * step) + 0.05 * math.sin(step)
        journal.scalar("loss", loss, step, t0 + step)
        journal.scalar("accuracy", 1 - loss / 2.5, step, t0 + step)
    journal.scalar("final_accuracy", 1 - loss / 2.5)
    for name, logged in (values or {}).items():
        for value in logged:
            journal.add("m", name, value)
    journal.flush()
    lab.post(
        f"workspaces/{workspace}/runs/{run['id']}/logs",
        {"lines": [{"stream": "stdout", "text": f"epoch {i}: loss ok"} for i in range(epochs)]},
    )
    set_status(lab, run["id"], "Completed", workspace)
    return run


def many_runs(lab: LabServer, experiment: str, count: int, *, workspace: str = "default", threads: int = 1) -> float:
    """``count`` interactive runs with one metric each; returns the seconds it took.

    More than one thread is faster, but the server then numbers some runs twice (see benchmarks/studio.md).
    """
    start = time.monotonic()

    def one(i: int) -> None:
        run = interactive_run(lab, experiment, workspace=workspace, tags={"batch": str(i % 10)})
        journal = Journal(lab, run["id"], workspace)
        journal.scalar("score", (i * 7919) % 1000 / 1000)
        journal.flush()
        if i % 3:
            set_status(lab, run["id"], "Completed" if i % 7 else "Failed", workspace)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    return time.monotonic() - start


@contextlib.contextmanager
def heartbeats(lab: LabServer, run_id: str, workspace: str = "default", every: float = 15) -> Iterator[None]:
    """Keep an interactive run alive (the server marks silent runs NotResponding, then Failed)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            with contextlib.suppress(OSError, urllib.error.URLError):
                lab.post(f"workspaces/{workspace}/runs/{run_id}/heartbeat", {})

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def find_big_metrics_run(lab: LabServer, experiment: str, *, metrics: int, points: int) -> dict[str, Any] | None:
    """A run left by an earlier ``big_metrics_run`` with the same sizes (benchmarks reuse their data)."""
    try:
        page = lab.get("workspaces/default/runs", experiment=experiment, status="Completed", page_size=20)
    except urllib.error.HTTPError:
        return None
    for run in page["items"]:
        if run["display_name"] == f"{metrics}x{points}":
            return run  # type: ignore[no-any-return]
    return None


def big_metrics_run(
    lab: LabServer, experiment: str, *, metrics: int, points: int, workspace: str = "default", threads: int = 2
) -> tuple[dict[str, Any], float]:
    """One run with ``metrics`` scalar series of ``points`` points each; returns (run, seconds)."""
    start = time.monotonic()
    run = interactive_run(lab, experiment, workspace=workspace, display_name=f"{metrics}x{points}")
    with heartbeats(lab, run["id"], workspace):
        _fill_metrics(lab, run, metrics, points, workspace, threads)
    set_status(lab, run["id"], "Completed", workspace)
    return run, time.monotonic() - start


def _fill_metrics(lab: LabServer, run: dict[str, Any], metrics: int, points: int, workspace: str, threads: int) -> None:

    def series(index: int) -> None:
        journal = Journal(lab, run["id"], workspace, stream=f"m{index}")
        t0 = time.time() - points
        for step in range(points):
            value = math.sin(step / 5000 + index) + 0.1 * math.sin(step * 1.7) + (1.0 if step == points // 3 else 0.0)
            journal.add("m", f"metric_{index:02d}", value, s=step, t=t0 + step)
        journal.flush()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(series, range(metrics)))
