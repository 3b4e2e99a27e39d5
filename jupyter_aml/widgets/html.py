"""HTML fragments for the run view and the runs tables (no widget imports: testable as plain strings)."""

from __future__ import annotations

import html
import math
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jupyter_aml.statuses import status_color

TABLE_STYLE = (
    "border-collapse:collapse;font-size:12px;margin:4px 0;"
    "color:var(--jp-ui-font-color1, inherit);"
)
CELL_STYLE = "padding:2px 8px;border-bottom:1px solid var(--jp-border-color2, #ddd);text-align:left;"


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def status_badge(status: str) -> str:
    """The studio's badge (components.tsx ``StatusBadge``): a coloured dot and border, the text in the theme's
    font colour. The classes pick up style/base.css where the extension is loaded; the inline style is the
    same rule, for front ends without it."""
    status = status or "Unknown"
    color = status_color(status)
    return (
        f'<span class="aml-status jp-aml-StatusBadge jp-aml-status-{esc(status.lower())}" data-status="{esc(status)}" '
        f'title="Status: {esc(status)}" style="display:inline-flex;align-items:center;gap:3px;padding:0 4px;'
        f"border:1px solid {color};border-radius:8px;color:var(--jp-ui-font-color1, inherit);"
        f'font-size:var(--jp-ui-font-size0, 11px);line-height:16px;white-space:nowrap">'
        f'<span class="jp-aml-StatusBadge-dot" aria-hidden="true" style="width:7px;height:7px;border-radius:50%;'
        f'background:{color}"></span>{esc(status)}</span>'
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


# The live view's charts follow JupyterLab's theme, light or dark, and switch with it at once: plotly draws
# on a transparent paper (CHART_THEME_LAYOUT) and these rules give its text, grid and lines the theme's
# colours (plotly writes inline colours; !important wins over them). Scoped to the view's box.
THEME_CSS = """<style>
.jp-aml-run-details .js-plotly-plot .main-svg text { fill: var(--jp-ui-font-color1, #212121) !important;
  text-shadow: none !important; }
.jp-aml-run-details .js-plotly-plot .gridlayer path,
.jp-aml-run-details .js-plotly-plot .zerolinelayer path { stroke: var(--jp-border-color2, #e0e0e0) !important; }
.jp-aml-run-details .js-plotly-plot .scatterlayer .js-line { stroke: var(--jp-brand-color1, #1976d2) !important; }
.jp-aml-run-details .js-plotly-plot .scatterlayer .point { fill: var(--jp-brand-color1, #1976d2) !important; }
.jp-aml-run-details .js-plotly-plot .parcoords .axis path,
.jp-aml-run-details .js-plotly-plot .parcoords .axis line { stroke: var(--jp-ui-font-color2, #616161) !important; }
.jp-aml-run-details .js-plotly-plot .modebar-btn path { fill: var(--jp-ui-font-color2, #616161) !important; }
.jp-aml-run-details .js-plotly-plot .modebar { background: transparent !important; }
.jp-aml-run-details .aml-chart-card { border: 1px solid var(--jp-border-color2, #e0e0e0); border-radius: 2px;
  margin: 0 8px 8px 0; background: var(--jp-layout-color1, #fff); }
</style>"""
CHART_THEME_LAYOUT = {
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "modebar": {"bgcolor": "rgba(0,0,0,0)"},
}
