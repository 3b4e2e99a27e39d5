"""The compute group's pieces that hold no state: the user script, the result rows and their table, the
parsing of a script's lines, and the peer's Dask task."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common import median

# The user script: its first statement's time, an optional sleep, its last statement's time.
SLEEPER = """\
import sys, time
T0 = time.time()
print(f"BENCH_FIRST_LINE {T0!r}", flush=True)
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
print(f"BENCH_LAST_LINE {time.time()!r}", flush=True)
"""


@dataclass
class CRow:
    """One line of the compute table: our figure, the peer's (when there is one), the target (ours <= goal)."""

    key: str
    metric: str
    ours: float | None
    peer: float | None
    peer_name: str
    unit: str
    target: str
    goal: float | None
    spread: str = ""  # "min-max" of ours
    extra: dict[str, Any] = field(default_factory=dict)
    holds: bool | None = None  # a target that is not a time (D1's "0 bytes copied"): whether it held

    @property
    def ratio(self) -> float | None:
        """ours / peer: above 1 means ours takes longer (or uses more) than the peer."""
        if self.ours is None or not self.peer or not math.isfinite(self.ours) or not math.isfinite(self.peer):
            return None
        return self.ours / self.peer

    @property
    def verdict(self) -> str:
        if self.holds is not None:
            return "PASS" if self.holds else "MISSED"
        if self.goal is None:
            return ""
        if self.ours is None or math.isnan(self.ours):
            return "N/A"
        return "PASS" if self.ours <= self.goal else "MISSED"

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ratio": self.ratio, "verdict": self.verdict}


def stats(values: list[float]) -> dict[str, Any]:
    return {"median": median(values), "min": min(values, default=math.nan), "max": max(values, default=math.nan),
            "n": len(values), "values": values}


def _fmt(value: float | None, unit: str) -> str:
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "never"
    return f"{value:.3f} {unit}" if unit == "s" else f"{value:.1f} {unit}"


def render(rows: list[CRow]) -> str:
    header = ["#", "measurement", "ours (median)", "ours min-max", "peer", "peer (median)", "ours/peer", "target",
              "result"]
    body = [[r.key, r.metric, _fmt(r.ours, r.unit), r.spread or "-", r.peer_name or "-", _fmt(r.peer, r.unit),
             "-" if r.ratio is None else f"{r.ratio:.2f}x", r.target, r.verdict] for r in rows]
    widths = [max([len(h), *(len(b[i]) for b in body)]) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) + " |" for b in body]
    return "\n".join(lines)


def first_of(text: str, marker: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(marker):
            return float(line.split()[1])
    return None


def four_at_once(texts: list[str], t0: float) -> float:
    """Seconds after ``t0`` when 4 scripts were first running at the same time (from their first and last
    lines), infinity if never."""
    spans = [(first_of(t, "BENCH_FIRST_LINE") or math.nan, first_of(t, "BENCH_LAST_LINE") or math.nan)
             for t in texts]
    for start, _ in sorted(spans):
        if sum(s <= start < e for s, e in spans) >= 4:
            return start - t0
    return math.inf


def peer_task() -> Callable[..., dict[str, Any]]:
    """The peer's Dask task, made inside a function so that cloudpickle ships it by value (the workers cannot
    import the benchmarks folder)."""

    def start_script(python: str, source: str, sleep: str = "0") -> dict[str, Any]:
        import subprocess as sp
        import time as t

        started = t.time()
        proc = sp.Popen([python, "-c", source, sleep], stdout=sp.PIPE, text=True)
        assert proc.stdout is not None
        first = proc.stdout.readline()
        seen = t.time()
        last = proc.communicate()[0]
        return {"task_started": started, "first_seen": seen, "first": first, "last": last}

    return start_script
