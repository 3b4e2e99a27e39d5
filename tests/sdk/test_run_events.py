"""What a watch delivers once: the rules that drop repeats between the REST catch-up and pushed events."""

from __future__ import annotations

from typing import Any

from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.run_events import Delivered


def metric(run_id: str, total: int, steps: list[float], name: str = "loss") -> T.MetricEvent:
    return {"type": "metric", "run_id": run_id, "name": name, "total": total, "steps": steps,
            "values": [s * 10 for s in steps], "times": [100 + s for s in steps]}


def run_event(run_id: str, status: str, parent: str | None = None) -> T.RunEvent:
    record: Any = {"id": run_id, "status": status, "parent_id": parent}
    return {"type": "run", "run": record}


def test_metric_points_are_delivered_once_by_their_index_in_the_series() -> None:
    seen = Delivered("r")
    assert seen.accept(metric("r", 3, [0, 1, 2])) is not None  # the catch-up's history
    overlap = seen.accept(metric("r", 5, [2, 3, 4]))  # a queued event repeating point 2
    assert overlap is not None and overlap["type"] == "metric"
    assert (overlap["steps"], overlap["values"], overlap["times"]) == ([3, 4], [30, 40], [103, 104])
    assert seen.accept(metric("r", 5, [4])) is None  # resent
    assert seen.accept(metric("r", 1, [0], name="acc")) is not None  # another series counts on its own


def test_log_lines_by_id_and_run_records_by_content() -> None:
    seen = Delivered("r")
    lines: list[T.LogLine] = [{"id": i, "stream": "stdout", "ts": 0.0, "text": str(i)} for i in (1, 2, 3)]
    assert seen.accept({"type": "log", "run_id": "r", "lines": lines[:2]}) is not None
    again = seen.accept({"type": "log", "run_id": "r", "lines": lines})
    assert again is not None and [line["id"] for line in again["lines"]] == [3]  # type: ignore[typeddict-item]
    assert seen.accept(run_event("r", "Running")) is not None
    assert seen.accept(run_event("r", "Running")) is None and not seen.terminal
    assert seen.accept(run_event("r", "Canceled")) is not None and seen.terminal


def test_children_are_followed_once_they_appear() -> None:
    plain = Delivered("p")
    assert plain.accept(run_event("c1", "Running", parent="p")) is not None  # passed through
    assert plain.followed == {"p"} and not plain.resubscribe

    seen = Delivered("p", children=True)
    assert seen.accept(metric("c1", 1, [0])) is None  # not followed yet (a workspace-wide stream)
    assert seen.accept(run_event("c1", "Running", parent="p")) is not None
    assert seen.followed == {"p", "c1"} and seen.resubscribe
    assert seen.accept(metric("c1", 1, [0])) is not None
    assert seen.accept(run_event("c2", "Running", parent="c1")) is not None  # a grandchild
    assert seen.accept(run_event("x", "Running", parent="elsewhere")) is None
    assert seen.accept({"type": "files", "run_id": "x", "paths": ["a"]}) is None
    assert seen.accept({"type": "files", "run_id": "c2", "paths": ["a"]}) is not None
