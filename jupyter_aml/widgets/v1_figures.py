"""v1's structured metrics as HTML for the notebook's run view (no widget imports: testable as strings).

A confusion-matrix heatmap with its row (true) and column (predicted) labels, a calibration chart for
regression predictions, a residual histogram, and the accuracy table as its per-class threshold table.
The charts are inline SVG in the theme's colours, so they draw without a network and without plotly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from jupyter_aml.widgets import html as H

W, HEIGHT = 360, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 10, 28
BRAND = "var(--jp-brand-color1, #1976d2)"
MUTED = "var(--jp-ui-font-color2, #666)"


def fmt(value: Any) -> str:
    """A value for a cell: NaN and ±inf by name, numbers compactly."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return H.fmt_number(value)


def _nums(value: Any) -> list[float]:
    if not isinstance(value, list):
        return []
    return [float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan for v in value]


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _scale(lo: float, hi: float, a: float, b: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _svg(label: str, body: str, x_label: str, y_label: str) -> str:
    bottom = HEIGHT - BOTTOM
    axes = (f'<line x1="{LEFT}" y1="{bottom}" x2="{W - RIGHT}" y2="{bottom}" stroke="{MUTED}"/>'
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="{MUTED}"/>'
            f'<text x="{(LEFT + W) / 2}" y="{HEIGHT - 4}" text-anchor="middle" font-size="10" fill="{MUTED}">'
            f"{H.esc(x_label)}</text>"
            f'<text x="10" y="{(TOP + bottom) / 2}" text-anchor="middle" font-size="10" fill="{MUTED}" '
            f'transform="rotate(-90 10 {(TOP + bottom) / 2})">{H.esc(y_label)}</text>')
    return (f'<svg role="img" aria-label="{H.esc(label)}" viewBox="0 0 {W} {HEIGHT}" width="{W}" height="{HEIGHT}">'
            f"{axes}{body}</svg>")


def confusion_matrix(name: str, value: Mapping[str, Any]) -> str:
    data = value.get("data") or {}
    labels = list(data.get("class_labels") or [])
    matrix = [_nums(row) for row in data.get("matrix") or []]
    head = "".join(f'<th style="{H.CELL_STYLE}font-weight:600">{H.esc(label)}</th>' for label in labels)
    rows = []
    for i, row in enumerate(matrix):
        total = sum(abs(v) for v in _finite(row))
        cells = []
        for cell in row:
            share = abs(cell) / total if total and math.isfinite(cell) else 0.0
            colour = f"color-mix(in srgb, {BRAND} {round(share * 85)}%, transparent)"
            text = "color:white;" if share > 0.5 else ""
            cells.append(f'<td style="{H.CELL_STYLE}text-align:center;background:{colour};{text}">{fmt(cell)}</td>')
        label = labels[i] if i < len(labels) else ""
        rows.append(f'<tr><th style="{H.CELL_STYLE}font-weight:600">{H.esc(label)}</th>{"".join(cells)}</tr>')
    return (f'<table class="aml-confusion-matrix" aria-label="Confusion matrix {H.esc(name)}" style="{H.TABLE_STYLE}">'
            f'<thead><tr><th style="{H.CELL_STYLE}">true \\ predicted</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def calibration(name: str, value: Mapping[str, Any]) -> str:
    data = value.get("data") or {}
    edges, averages = _nums(data.get("bin_edges")), _nums(data.get("bin_averages"))
    errors = _nums(data.get("bin_errors"))
    points = [((edges[i] + edges[i + 1]) / 2, a, errors[i] if i < len(errors) else math.nan)
              for i, a in enumerate(averages) if i + 1 < len(edges)]
    points = [p for p in points if math.isfinite(p[0]) and math.isfinite(p[1])]
    span = _finite(edges + [a + (e if math.isfinite(e) else 0) for _, a, e in points]
                   + [a - (e if math.isfinite(e) else 0) for _, a, e in points])
    lo, hi = (min(span), max(span)) if span else (0.0, 1.0)
    x, y = _scale(lo, hi, LEFT, W - RIGHT), _scale(lo, hi, HEIGHT - BOTTOM, TOP)
    body = [f'<line x1="{x(lo)}" y1="{y(lo)}" x2="{x(hi)}" y2="{y(hi)}" stroke="{MUTED}" stroke-dasharray="4 3"/>',
            f'<polyline fill="none" stroke="{BRAND}" stroke-width="2" '
            f'points="{" ".join(f"{x(c)},{y(a)}" for c, a, _ in points)}"/>']
    for c, a, e in points:
        if math.isfinite(e):
            body.append(f'<line x1="{x(c)}" x2="{x(c)}" y1="{y(a - e)}" y2="{y(a + e)}" stroke="{BRAND}"/>')
        body.append(f'<circle cx="{x(c)}" cy="{y(a)}" r="3" fill="{BRAND}"><title>mean {fmt(a)} ± {fmt(e)}</title>'
                    "</circle>")
    return _svg(f"Calibration chart {name}", "".join(body), "true value (bin centre)", "mean prediction")


def residuals(name: str, value: Mapping[str, Any]) -> str:
    data = value.get("data") or {}
    edges, counts = _nums(data.get("bin_edges")), _nums(data.get("bin_counts"))
    span = _finite(edges)
    lo, hi = (min(span), max(span)) if span else (0.0, 1.0)
    top = max([*_finite(counts), 0.0]) or 1.0
    x, y = _scale(lo, hi, LEFT, W - RIGHT), _scale(0.0, top, HEIGHT - BOTTOM, TOP)
    bars = []
    for i, count in enumerate(counts):
        if i + 1 < len(edges) and all(math.isfinite(v) for v in (count, edges[i], edges[i + 1])):
            left, width = x(edges[i]) + 1, max(1.0, x(edges[i + 1]) - x(edges[i]) - 2)
            bars.append(f'<rect x="{left}" width="{width}" y="{y(count)}" height="{HEIGHT - BOTTOM - y(count)}" '
                        f'fill="{BRAND}"><title>{fmt(edges[i])} to {fmt(edges[i + 1])}: {fmt(count)}</title></rect>')
    return _svg(f"Residual histogram {name}", "".join(bars), "residual", "count")


def accuracy_table(name: str, value: Mapping[str, Any]) -> str:
    data = value.get("data") or {}
    labels = list(data.get("class_labels") or [])
    thresholds = _nums(data.get("probability_thresholds"))
    rows = []
    for c, table in enumerate(data.get("probability_tables") or []):
        for t, row in enumerate((table or [])[:50]):
            label = labels[c] if c < len(labels) else c
            threshold = thresholds[t] if t < len(thresholds) else math.nan
            rows.append([H.esc(label), fmt(threshold), *[fmt(v) for v in _nums(row)]])
    return H.table(["class", "threshold", "TP", "FP", "TN", "FN"], rows, css_class="aml-accuracy-table")


FIGURES = {"confusion_matrix": confusion_matrix, "predictions": calibration, "residuals": residuals,
           "accuracy_table": accuracy_table}


def figures_html(values: Mapping[str, tuple[str, Any]]) -> str:
    """One section per v1 structured metric, ``{name: (kind, latest value)}``."""
    parts = []
    for name in sorted(values):
        kind, value = values[name]
        render = FIGURES.get(kind)
        if render is None or not isinstance(value, Mapping):
            continue
        parts.append(H.section(f"{name} ({kind.replace('_', ' ')})", render(name, value)))
    return "".join(parts)
