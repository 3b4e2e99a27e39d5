"""HTML fragments for the run view and the runs tables (no widget imports: testable as plain strings)."""

from __future__ import annotations

import html
import math
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

STATUS_COLORS = {
    "Completed": "#2e7d32",
    "Failed": "#c62828",
    "Canceled": "#616161",
    "Running": "#1565c0",
    "NotResponding": "#ef6c00",
}
TABLE_STYLE = (
    "border-collapse:collapse;font-size:12px;margin:4px 0;"
    "color:var(--jp-ui-font-color1, inherit);"
)
CELL_STYLE = "padding:2px 8px;border-bottom:1px solid var(--jp-border-color2, #ddd);text-align:left;"


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def status_badge(status: str) -> str:
    color = STATUS_COLORS.get(status, "#8d6e00")
    return (
        f'<span class="aml-status" style="background:{color};color:white;border-radius:3px;padding:1px 6px;'
        f'font-size:11px">{esc(status)}</span>'
    )


def fmt_number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return esc(value)
    if isinstance(value, float) and not math.isfinite(value):
        return esc(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e12):
        return str(int(value))
    return f"{value:.4g}"


def fmt_duration(seconds: Any) -> str:
    if seconds is None:
        return ""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def parse_time(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def run_duration(run: Mapping[str, Any]) -> float | None:
    """Seconds since the start, up to now for a run still going (the record's value is as of its reading)."""
    start = parse_time(run.get("start_time"))
    if start is not None and run.get("end_time") is None:
        return max(0.0, time.time() - start)
    if run.get("duration_seconds") is not None:
        return float(run["duration_seconds"])
    if start is None:
        return None
    end = parse_time(run.get("end_time")) or time.time()
    return max(0.0, end - start)


def fmt_time(value: Any) -> str:
    stamp = parse_time(value)
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S") if stamp is not None else ""


def table(columns: list[str], rows: list[list[str]], *, css_class: str = "aml-table") -> str:
    """``rows`` hold HTML already escaped."""
    head = "".join(f'<th style="{CELL_STYLE}font-weight:600">{esc(c)}</th>' for c in columns)
    body = "".join("<tr>" + "".join(f'<td style="{CELL_STYLE}">{cell}</td>' for cell in row) + "</tr>" for row in rows)
    return (f'<table class="{css_class}" style="{TABLE_STYLE}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def section(title: str, body: str) -> str:
    return f'<div style="margin-top:6px"><div style="font-weight:600;font-size:13px">{esc(title)}</div>{body}</div>'
