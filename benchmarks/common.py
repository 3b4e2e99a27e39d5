"""Shared helpers for the benchmarks: ports, child processes, statistics, result rows.

Stdlib only, so that the MLflow-side worker (which runs in MLflow's own venv) can import it too.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / ".work"


# -- statistics ------------------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    data = sorted(values)
    if not data:
        return math.nan
    mid = len(data) // 2
    return float(data[mid]) if len(data) % 2 else (data[mid - 1] + data[mid]) / 2.0


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Call ``fn`` ``repeat`` times; return the wall times in seconds and the last result."""
    times: list[float] = []
    result: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


# -- network ----------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return bool(200 <= resp.status < 300)
    except (urllib.error.URLError, OSError, ValueError):
        return False


# -- child processes --------------------------------------------------------------------------------------
class Child:
    """A child process in its own session; ``stop()`` signals exactly that process group (by id)."""

    def __init__(self, name: str, cmd: list[str], *, log: Path, cwd: Path, env: dict[str, str]) -> None:
        self.name = name
        self.cmd = cmd
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pgid = self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the child's process group, then SIGKILL whatever is left after ``grace`` seconds."""
        with contextlib.suppress(ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
            os.killpg(self.pgid, signal.SIGTERM)
            self.proc.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signal.SIGKILL)  # stragglers in the group (workers, agents)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


# -- results ----------------------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the result table."""

    scenario: str
    metric: str
    ours: float | None
    mlflow: float | None
    unit: str
    target: str  # human readable, e.g. ">= 100x" or "<= 150 ms"
    kind: str  # "ratio_ge" (ours/mlflow >= goal), "ratio_le_time" (mlflow_time/ours_time >= goal),
    # "abs_le" (ours <= goal), "abs_ge" (ours >= goal), "abs_eq" (ours == goal),
    # "info" (no target; times still get a ratio)
    goal: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.mlflow is None:
            return None
        if self.kind == "ratio_ge":
            return self.ours / self.mlflow if self.mlflow else math.inf
        if self.kind == "ratio_le_time" or (self.kind == "info" and self.unit in ("ms", "s")):
            return self.mlflow / self.ours if self.ours else math.inf
        return None

    @property
    def verdict(self) -> str:
        if self.kind == "info" or self.goal is None:
            return ""
        if self.kind in ("ratio_ge", "ratio_le_time"):
            ratio = self.ratio
            if ratio is None:
                return "N/A"
            return "PASS" if ratio >= self.goal else "MISS"
        if self.ours is None:
            return "N/A"
        if self.kind == "abs_le":
            return "PASS" if self.ours <= self.goal else "MISS"
        if self.kind == "abs_ge":
            return "PASS" if self.ours >= self.goal else "MISS"
        if self.kind == "abs_eq":
            return "PASS" if self.ours == self.goal else "MISS"
        return ""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio"] = self.ratio
        out["verdict"] = self.verdict
        return out


def fmt_num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if unit in ("B", "files") or (float(value).is_integer() and abs(value) >= 1000) or abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def render_table(rows: list[Row]) -> str:
    header = ["#", "measurement", "ours", "MLflow", "ratio", "target", "result"]
    body: list[list[str]] = []
    for row in rows:
        ratio = row.ratio
        body.append(
            [
                row.scenario,
                row.metric,
                fmt_num(row.ours, row.unit),
                fmt_num(row.mlflow, row.unit),
                "-" if ratio is None else (f"{ratio:,.1f}x" if ratio < 1000 else f"{ratio:,.0f}x"),
                row.target,
                row.verdict,
            ]
        )
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(header)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for r in body:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return "\n".join(lines)


def emit_result(payload: dict[str, Any]) -> None:
    """How a worker process hands its result back: one ``BENCH_RESULT {json}`` line on stdout."""
    sys.stdout.write("BENCH_RESULT " + json.dumps(payload) + "\n")
    sys.stdout.flush()


def parse_result(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        if line.startswith("BENCH_RESULT "):
            return dict(json.loads(line[len("BENCH_RESULT ") :]))
    raise RuntimeError("worker printed no BENCH_RESULT line")


def metric_value(i: int) -> float:
    """The value logged at step ``i`` on both sides: a noisy decreasing curve (full-precision floats)."""
    return 1.0 / (1.0 + i * 1e-4) + 0.01 * math.sin(i * 0.37)
