"""What a run's live view knows, kept apart from any widget so it can be tested without a browser.

``RunState`` is filled from REST (the catch-up) and from the push channel's events, in any order and with
overlaps: every ``load_*``/``apply`` call is idempotent, so an event that repeats a point or a log line the
catch-up already returned changes nothing. Each call returns the set of parts that changed
(``"run"``, ``"metric:<name>"``, ``"summary"``, ``"logs"``, ``"children"``, ``"files"``), which is what the
view re-renders.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from jupyter_aml.statuses import TERMINAL_STATUSES

LOG_LINES_KEPT = 2000


@dataclass
class Series:
    """One scalar metric of the run: the points a chart draws."""

    name: str
    steps: list[float] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    total: int = 0  # points logged, including those a downsampled history left out
    downsampled_until: float = -math.inf  # points at or before this time were covered by a downsampled history
    seen: set[tuple[float, float | None]] = field(default_factory=set)

    def add(self, step: float | None, value: float | None, t: float) -> bool:
        key = (float(t), value)
        if key in self.seen or t <= self.downsampled_until:
            return False
        self.seen.add(key)
        # Points logged without a step are numbered by their position, as the service numbers them.
        self.steps.append(float(self.total) if step is None or step < 0 else float(step))
        self.values.append(value)
        self.times.append(float(t))
        self.total += 1
        return True

    @property
    def last(self) -> float | None:
        return self.values[-1] if self.values else None


def _number(value: Any) -> float | None:
    if value is None:
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
        self.run: dict[str, Any] = {}
        self.series: dict[str, Series] = {}
        self.summaries: dict[str, dict[str, Any]] = {}  # this run's metrics of every kind, by name
        self.logs: dict[int, dict[str, Any]] = {}
        self.children: dict[str, dict[str, Any]] = {}
        self.child_metrics: dict[str, dict[str, Any]] = {}
        self.files: dict[str, int | None] = {}
        self.updated_at = time.time()
        self.error: str | None = None  # why the live feed could not reach the service, if it could not

    # -- derived ------------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return str(self.run.get("status") or "Unknown")

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def point_count(self, name: str) -> int:
        series = self.series.get(name)
        return len(series.values) if series else 0

    def log_tail(self, n: int = 200) -> list[dict[str, Any]]:
        return [self.logs[i] for i in sorted(self.logs)[-n:]]

    @property
    def last_log_id(self) -> int:
        return max(self.logs, default=0)

    def metric_rows(self) -> list[dict[str, Any]]:
        """One row per metric of the run: name, kind, count, last, min, max."""
        rows: dict[str, dict[str, Any]] = {}
        for name, item in self.summaries.items():
            rows[name] = {
                "name": name,
                "kind": item.get("kind", "scalar"),
                "count": item.get("count"),
                "last": item.get("last_value"),
                "min": item.get("min"),
                "max": item.get("max"),
            }
        for name, series in self.series.items():
            finite = [v for v in series.values if v is not None]
            row = rows.setdefault(name, {"name": name, "kind": "scalar"})
            row["count"] = max(series.total, int(row.get("count") or 0))
            if finite:
                row["last"] = series.last
                row["min"] = min(finite + ([row["min"]] if row.get("min") is not None else []))
                row["max"] = max(finite + ([row["max"]] if row.get("max") is not None else []))
        return [rows[k] for k in sorted(rows)]

    # -- catch-up from REST -------------------------------------------------------------------------
    def load_run(self, run: dict[str, Any]) -> set[str]:
        if run.get("id") != self.run_id or run == self.run:
            return set()
        self.run = dict(run)
        return self._touch({"run"})

    def load_metric_history(self, name: str, payload: dict[str, Any]) -> set[str]:
        """``GET .../metrics/{name}`` for a scalar: ``{steps, values, times, total, downsampled}``."""
        if payload.get("kind", "scalar") != "scalar":
            return set()
        series = self.series.get(name)
        fresh = series is None
        if series is None:
            series = self.series[name] = Series(name)
        steps, values, times = payload.get("steps") or [], payload.get("values") or [], payload.get("times") or []
        if payload.get("downsampled") and times:
            # A thinned history replaces what we have: it covers every point up to its last time.
            series.steps, series.values, series.times = [float(s) for s in steps], [_number(v) for v in values], \
                [float(t) for t in times]
            series.seen = {(t, v) for t, v in zip(series.times, series.values, strict=False)}
            series.total = int(payload.get("total") or len(values))
            series.downsampled_until = series.times[-1]
            return self._touch({f"metric:{name}", "summary"})
        history = [(float(t), float(s), _number(v)) for s, v, t in zip(steps, values, times, strict=False)]
        keys = {(t, v) for t, _, v in history}
        extra = [
            (t, s, v) for s, v, t in zip(series.steps, series.values, series.times, strict=False) if (t, v) not in keys
        ]
        merged = sorted(history + extra, key=lambda point: point[0])  # stable: equal times keep their order
        seen = keys | {(t, v) for t, _, v in extra}
        if seen == series.seen and not fresh:
            return set()
        series.times = [t for t, _, _ in merged]
        series.steps = [s for _, s, _ in merged]
        series.values = [v for _, _, v in merged]
        series.seen = seen
        series.total = max(series.total, int(payload.get("total") or 0), len(merged))
        return self._touch({f"metric:{name}", "summary"})

    def load_summaries(self, items: list[dict[str, Any]]) -> set[str]:
        """``GET .../metrics?recursive=true``: this run's metrics of every kind and the children's last values."""
        changed: set[str] = set()
        for item in items:
            run_id, name = item.get("run_id"), item.get("name")
            if not name:
                continue
            if run_id == self.run_id:
                if self.summaries.get(name) != item:
                    self.summaries[name] = dict(item)
                    changed.add("summary")
            elif run_id:
                value = item.get("last_value") if item.get("kind", "scalar") == "scalar" else f"({item.get('kind')})"
                if self.child_metrics.setdefault(run_id, {}).get(name) != value:
                    self.child_metrics[run_id][name] = value
                    changed.add("children")
        return self._touch(changed)

    def load_logs(self, items: list[dict[str, Any]]) -> set[str]:
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

    def load_children(self, items: list[dict[str, Any]]) -> set[str]:
        changed: set[str] = set()
        for child in items:
            if child.get("id") and self.children.get(child["id"]) != child:
                self.children[child["id"]] = dict(child)
                changed.add("children")
        return self._touch(changed)

    def load_files(self, items: list[dict[str, Any]]) -> set[str]:
        changed: set[str] = set()
        for item in items:
            path, size = item.get("path"), item.get("size")
            if path and (path not in self.files or (size is not None and self.files[path] != size)):
                self.files[path] = size
                changed.add("files")
        return self._touch(changed)

    # -- push events ----------------------------------------------------------------------------------
    def apply(self, event: dict[str, Any]) -> set[str]:
        """Apply one push-channel event; events of other runs are ignored."""
        kind = event.get("type")
        if kind == "run":
            run = event.get("run") or {}
            if run.get("id") == self.run_id:
                return self.load_run(run)
            if run.get("parent_id") == self.run_id:
                return self.load_children([run])
            return set()
        if kind == "metric":
            name = str(event.get("name"))
            if event.get("run_id") == self.run_id:
                series = self.series.get(name)
                fresh = series is None
                if series is None:
                    series = self.series[name] = Series(name)
                added = False
                for point in event.get("points") or []:
                    step, value, t = point[0], _number(point[1]), float(point[2])
                    added = series.add(step, value, t) or added
                return self._touch({f"metric:{name}", "summary"}) if added or fresh else set()
            if event.get("run_id") in self.children and event.get("points"):
                value = _number(event["points"][-1][1])
                self.child_metrics.setdefault(event["run_id"], {})[name] = value
                return self._touch({"children"})
            return set()
        if kind == "log" and event.get("run_id") == self.run_id:
            return self.load_logs(event.get("lines") or [])
        if kind == "files" and event.get("run_id") == self.run_id:
            return self.load_files([{"path": p, "size": self.files.get(p)} for p in event.get("paths") or []])
        return set()

    def _touch(self, changed: set[str]) -> set[str]:
        if changed:
            self.updated_at = time.time()
        return changed
