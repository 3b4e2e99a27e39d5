"""The parallel-coordinates chart of a HyperDrive run's children in ``RunDetails`` (plotly ``go.Parcoords``).

One axis per hyperparameter (read from each child's ``hyperparameters`` property) and a last axis for the
primary metric (the parent's ``primary_metric_config``), each line one child coloured by the metric, as v1's
widget drew it. Text and boolean values get an axis of their own ticks. The chart appears once a child has
hyperparameters and follows the run: ``render`` is called whenever the children or their metrics change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from jupyter_aml.widgets.html import CHART_THEME_LAYOUT

LAYOUT = {"height": 320, "margin": {"l": 60, "r": 60, "t": 48, "b": 24}, "template": "plotly_white",
          **CHART_THEME_LAYOUT}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _axis(label: str, values: list[Any]) -> dict[str, Any]:
    numbers = [_number(v) for v in values]
    if all(n is not None for n in numbers):
        return {"label": label, "values": numbers}
    ticks = sorted({str(v) for v in values})
    return {"label": label, "values": [ticks.index(str(v)) for v in values], "tickvals": list(range(len(ticks))),
            "ticktext": ticks}


def primary_metric(run: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """(name, goal) of a HyperDrive run's primary metric; None for any other run."""
    props = (run or {}).get("properties") or {}
    if props.get("azureml.runsource") != "hyperdrive":
        return None
    try:
        config = json.loads(props.get("primary_metric_config") or "{}")
    except ValueError:
        return None
    return (str(config["name"]), str(config.get("goal", "maximize"))) if config.get("name") else None


def chart_data(run: Mapping[str, Any] | None, children: Mapping[str, Mapping[str, Any]],
               child_metrics: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """The chart's axes and line colours, or None when there is nothing to draw."""
    primary = primary_metric(run)
    if primary is None:
        return None
    metric, goal = primary
    rows = []
    for child in sorted(children.values(), key=lambda c: c.get("number") or 0):
        try:
            params = json.loads((child.get("properties") or {}).get("hyperparameters") or "null")
        except ValueError:
            continue
        if isinstance(params, dict) and params:
            rows.append((params, _number(child_metrics.get(child["id"], {}).get(metric))))
    scored = [r for r in rows if r[1] is not None]
    if scored:
        rows = scored
    if not rows:
        return None
    names = list(dict.fromkeys(name for params, _ in rows for name in params))
    axes = [_axis(name, [params.get(name, "") for params, _ in rows]) for name in names]
    colors = [value for _, value in rows] if scored else None
    if colors is not None:
        axes.append({"label": metric, "values": colors})
    return {"metric": metric, "goal": goal, "dimensions": axes, "color": colors, "count": len(rows)}


class ParallelCoordinates:
    """The chart's widget: empty until the run is a HyperDrive run with children."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.widget = widgets.Box(layout=widgets.Layout(width="100%"))
        self.figure: Any = None
        self.data: dict[str, Any] | None = None

    def render(self) -> None:
        data = chart_data(self.state.run, self.state.children, self.state.child_metrics)
        if data is None or data == self.data:
            return
        self.data = data
        line: dict[str, Any] = {"color": data["color"], "colorscale": "Viridis", "showscale": True,
                                "reversescale": data["goal"] == "minimize",
                                "colorbar": {"title": {"text": data["metric"]}}} if data["color"] else {}
        title = {"text": f"Hyperparameters and {data['metric']} of {data['count']} child runs"}
        if self.figure is None:
            self.figure = go.FigureWidget(data=[go.Parcoords(dimensions=data["dimensions"], line=line)],
                                          layout={**LAYOUT, "title": title})
            self.widget.children = (self.figure,)
            return
        with self.figure.batch_update():
            self.figure.data[0].dimensions = data["dimensions"]
            self.figure.data[0].line = line
            self.figure.layout.title = title

    def close(self) -> None:
        if self.figure is not None:
            self.figure.close()
        self.widget.close()
