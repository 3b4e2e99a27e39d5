"""What a run's live view knows, kept apart from any widget so it can be tested without a browser.

``RunState`` is filled from REST (the catch-up) and from the push channel's typed events, in any order and
with overlaps: every ``load_*``/``apply`` call is idempotent, so an event that repeats a point or a log line
the catch-up already returned changes nothing. Each call returns the set of parts that changed
(``"run"``, ``"metric:<name>"``, ``"summary"``, ``"logs"``, ``"children"``, ``"files"``), which is what the
view re-renders.

Metric points are the service's own: a point's step is the one the server stored, and a series is merged by
point index (``MetricEvent.total``), as the contract prescribes (docs in /work/coord/contract.md, tests in
tests/core/test_event_contract.py). Nothing here renumbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.metric_values import V1_KINDS, decode_scalar
from jupyter_aml.statuses import TERMINAL_STATUSES

V1_METRIC_KINDS = frozenset(V1_KINDS.values())
VALUE_ONLY = frozenset({"s", "b", "n"})  # text, bool and None series: a value in the table, not a chart

LOG_LINES_KEPT = 2000


@dataclass
class Series:
    """One scalar metric of the run: the points a chart draws, and how many the service holds."""

    name: str
    steps: list[float] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    total: int = 0  # points the service holds, including those a downsampled history left out
    complete: bool = True  # False once an event skipped points we never saw: the next catch-up reloads

    def replace(self, steps: Iterable[float], values: Iterable[Any], times: Iterable[float], total: int) -> None:
        self.steps = [float(s) for s in steps]
        self.values = [_number(v) for v in values]
        self.times = [float(t) for t in times]
        self.total = total
        self.complete = True

    def merge(self, event: T.MetricEvent) -> bool:
        """Append the event's points this series lacks (those with index >= ``total``)."""
        first = event["total"] - len(event["steps"])  # index of the event's first point in the series
        if event["total"] <= self.total:
            return False
        skip = max(0, self.total - first)
        if first > self.total:
            self.complete = False  # points first .. total-1 were never seen
        self.steps += [float(s) for s in event["steps"][skip:]]
        self.values += [_number(v) for v in event["values"][skip:]]
        self.times += [float(t) for t in event["times"][skip:]]
        self.total = event["total"]
        return True

    @property
    def last(self) -> float | None:
        return self.values[-1] if self.values else None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class RunState:
    """The run record, its scalar metric series, log tail, child runs and output files."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.run: T.Run | None = None
        self.series: dict[str, Series] = {}
        self.summaries: dict[str, T.MetricSummary] = {}  # this run's metrics of every kind, by name
        self.logs: dict[int, T.LogLine] = {}
        self.children: dict[str, T.Run] = {}
        self.child_metrics: dict[str, dict[str, Any]] = {}
        self.files: dict[str, int | None] = {}
        self.v1_values: dict[str, tuple[str, Any, int]] = {}  # name -> (kind, latest value, values read)
        self.updated_at = time.time()
        self.error: str | None = None  # why the live feed could not reach the service, if it could not

    # -- derived ------------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return str(self.run["status"]) if self.run else "Unknown"

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def point_count(self, name: str) -> int:
        series = self.series.get(name)
        return len(series.values) if series else 0

    def needs_history(self, summary: T.MetricSummary) -> bool:
        """Whether the catch-up must read this scalar's history (events did not bring every point)."""
        series = self.series.get(summary["name"])
        return series is None or not series.complete or series.total < int(summary["count"] or 0)

    def needs_v1(self, summary: T.MetricSummary) -> bool:
        """Whether a v1 structured metric (confusion matrix...) has values the view has not read yet."""
        if summary["kind"] not in V1_METRIC_KINDS:
            return False
        known = self.v1_values.get(summary["name"])
        return known is None or known[2] < int(summary["count"] or 0)

    def value_only(self, name: str) -> bool:
        summary = self.summaries.get(name)
        return summary is not None and summary.get("value_type") in VALUE_ONLY

    def load_v1(self, history: T.MetricHistory, values: list[Any]) -> set[str]:
        """A v1 structured metric's history (``values`` decoded): the view draws its latest value."""
        if history["kind"] not in V1_METRIC_KINDS or not values:
            return set()
        self.v1_values[history["name"]] = (history["kind"], values[-1], len(values))
        return self._touch({"v1"})

    def log_tail(self, n: int = 200) -> list[T.LogLine]:
        return [self.logs[i] for i in sorted(self.logs)[-n:]]

    @property
    def last_log_id(self) -> int:
        return max(self.logs, default=0)

    def metric_rows(self) -> list[dict[str, Any]]:
        """One row per metric of the run: name, kind, count, last, min, max."""
        rows: dict[str, dict[str, Any]] = {}
        for name, item in self.summaries.items():
            last_type = item.get("last_type")
            rows[name] = {
                "name": name,
                "kind": item.get("kind", "scalar"),
                "count": item.get("count"),
                # the latest value as logged: a string, bool or None too, NaN and ±inf as floats
                "last": decode_scalar(item.get("last"), last_type) if last_type else item.get("last_value"),
                "last_type": last_type,
                "min": item.get("min"),
                "max": item.get("max"),
            }
        for name, series in self.series.items():
            finite = [v for v in series.values if v is not None]
            row = rows.setdefault(name, {"name": name, "kind": "scalar"})
            row["count"] = max(series.total, int(row.get("count") or 0))
            if finite and series.last is not None:
                row["last"] = series.last
                row["min"] = min(finite + ([row["min"]] if row.get("min") is not None else []))
                row["max"] = max(finite + ([row["max"]] if row.get("max") is not None else []))
        return [rows[k] for k in sorted(rows)]

    # -- catch-up from REST -------------------------------------------------------------------------
    def load_run(self, run: T.Run) -> set[str]:
        if run["id"] != self.run_id or run == self.run:
            return set()
        self.run = run
        return self._touch({"run"})

    def load_metric_history(self, history: T.MetricHistory) -> set[str]:
        """A scalar's ``GET .../metrics/{name}``; an older read than what events brought changes nothing."""
        if history.get("kind", "scalar") != "scalar":
            return set()
        name = history["name"]
        series = self.series.get(name)
        fresh = series is None
        if series is None:
            series = self.series[name] = Series(name)
        total = int(history["total"])
        if not fresh and series.complete and total <= series.total:
            return set()  # the events already brought every point of this read
        series.replace(history.get("steps") or [], history["values"], history.get("times") or [], total)
        return self._touch({f"metric:{name}", "summary"})

    def load_summaries(self, items: Iterable[T.MetricSummary]) -> set[str]:
        """``GET .../metrics?recursive=true``: this run's metrics of every kind and the children's last values."""
        changed: set[str] = set()
        for item in items:
            run_id, name = item["run_id"], item["name"]
            if run_id == self.run_id:
                if self.summaries.get(name) != item:
                    self.summaries[name] = item
                    changed.add("summary")
            else:
                value = item["last_value"] if item["kind"] == "scalar" else f"({item['kind']})"
                if self.child_metrics.setdefault(run_id, {}).get(name) != value:
                    self.child_metrics[run_id][name] = value
                    changed.add("children")
        return self._touch(changed)

    def load_logs(self, items: Iterable[T.LogLine]) -> set[str]:
        changed = False
        for line in items:
            line_id = int(line["id"])
            if line_id not in self.logs:
                self.logs[line_id] = line
                changed = True
        if len(self.logs) > LOG_LINES_KEPT:
            for line_id in sorted(self.logs)[: len(self.logs) - LOG_LINES_KEPT]:
                del self.logs[line_id]
        return self._touch({"logs"}) if changed else set()

    def load_children(self, items: Iterable[T.Run]) -> set[str]:
        changed: set[str] = set()
        for child in items:
            if self.children.get(child["id"]) != child:
                self.children[child["id"]] = child
                changed.add("children")
        return self._touch(changed)

    def load_files(self, items: Iterable[Mapping[str, Any]]) -> set[str]:
        """``[{path, size}]`` (GET files); a size of None keeps the one already known."""
        changed: set[str] = set()
        for item in items:
            path, size = item.get("path"), item.get("size")
            if path and (path not in self.files or (size is not None and self.files[path] != size)):
                self.files[path] = size
                changed.add("files")
        return self._touch(changed)

    # -- push events ----------------------------------------------------------------------------------
    def apply(self, event: T.AMLEvent) -> set[str]:
        """Apply one typed push event; events of other runs (and of models, web services) are ignored."""
        if event["type"] == "run":
            run = event["run"]
            if run["id"] == self.run_id:
                return self.load_run(run)
            if run.get("parent_id") == self.run_id:
                return self.load_children([run])
            return set()
        if event["type"] == "metric":
            return self._apply_metric(event)
        if event["type"] == "log" and event["run_id"] == self.run_id:
            return self.load_logs(event["lines"])
        if event["type"] == "files" and event["run_id"] == self.run_id:
            return self.load_files([{"path": p, "size": self.files.get(p)} for p in event["paths"]])
        return set()

    def _apply_metric(self, event: T.MetricEvent) -> set[str]:
        name, run_id = event["name"], event["run_id"]
        if run_id == self.run_id:
            series = self.series.get(name)
            fresh = series is None
            if series is None:
                series = self.series[name] = Series(name)
            added = series.merge(event)
            return self._touch({f"metric:{name}", "summary"}) if added or fresh else set()
        if run_id in self.children and event["values"]:
            self.child_metrics.setdefault(run_id, {})[name] = _number(event["values"][-1])
            return self._touch({"children"})
        return set()

    def _touch(self, changed: set[str]) -> set[str]:
        if changed:
            self.updated_at = time.time()
        return changed
