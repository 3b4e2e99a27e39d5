"""``RunDetails``: a live view of one run in a notebook, built from standard ipywidgets 8 and plotly.

The view is thin: ``RunState`` (jupyter_aml/widgets/state.py) holds the data, ``RunFeed`` (feed.py) keeps it
current from ``Run.watch()`` (the service's push channel) in one background thread, and this module turns the parts that
changed into widget updates. It works wherever ipywidgets 8 does (JupyterLab, Notebook 7, VS Code).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import plotly.graph_objects as go

from jupyter_aml.run_names import run_short_name, run_title
from jupyter_aml.widgets import html as H
from jupyter_aml.widgets.feed import RunFeed, wait_until
from jupyter_aml.widgets.parallel import ParallelCoordinates
from jupyter_aml.widgets.state import RunState
from jupyter_aml.widgets.v1_figures import figures_html, fmt

if TYPE_CHECKING:
    from jupyter_aml.sdk.run import Run

# Resolve FigureWidget now (plotly loads it lazily, and the first load costs seconds): the first chart of a
# live run then appears as soon as its points arrive, not seconds later.
FigureWidget = go.FigureWidget

LOG_TAIL_LINES = 25  # newest at the bottom, no scrolling needed
RENDER_INTERVAL = 0.25  # seconds: at most four redraws a second, each showing everything that arrived
MAX_CHARTS = 12
ERROR_COLOR = "var(--jp-error-color1, #d32f2f)"  # the theme's, as the studio's error text
WARN_COLOR = "var(--jp-warn-color1, #f57c00)"
CHART_LAYOUT = {
    "height": 260,
    "width": 420,
    "margin": {"l": 48, "r": 12, "t": 36, "b": 36},
    "xaxis": {"title": {"text": "step"}},
    "template": "plotly_white",
    "showlegend": False,
    **H.CHART_THEME_LAYOUT,  # transparent: the theme's colours come from H.THEME_CSS
}
# ... and load the layout and trace classes a chart uses (also lazy, 0.3-0.5 s) before the first live point.
go.Figure(data=[go.Scatter(x=[0], y=[0], mode="lines+markers")], layout={**CHART_LAYOUT, "title": {"text": ""}})


class _RunBox(widgets.VBox):  # type: ignore[misc]
    """The outer widget: closing it (``widget.close()``) also stops the live feed."""

    def __init__(self, owner: RunDetails, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owner: RunDetails | None = owner

    def close(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.close()
        super().close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view, with a line that says what it shows where widgets are not drawn (a terminal, a
        notebook rendered on GitHub or by nbconvert) instead of ipywidgets' ``VBox(children=(HTML(...`` repr."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict) and self._owner is not None:
            bundle["text/plain"] = self._owner.summary()
        return bundle


class RunDetails:
    """``RunDetails(run).show()``: status, live metric charts, log tail, child runs and outputs of a run.

    Updates are pushed by the service (server-sent events), applied by a background thread that ends
    when the run ends or when ``close()`` is called.
    """

    def __init__(self, run: Run, *, live: bool = True, max_charts: int = MAX_CHARTS) -> None:
        self.run = run
        self.state = RunState(run.id)
        self.max_charts = max_charts
        self._lock = threading.RLock()
        self._closed = False
        self._pending: set[str] = set()
        self._last_render = 0.0
        self._timer: threading.Timer | None = None
        self.figures: dict[str, Any] = {}
        self.render_count = 0
        self.theme = widgets.HTML(H.THEME_CSS)  # the charts' colours follow JupyterLab's theme
        self.header = widgets.HTML(self._header_html())
        self.charts = widgets.Box(layout=widgets.Layout(display="flex", flex_flow="row wrap", width="100%"))
        self.metrics_html = widgets.HTML()
        self.v1_html = widgets.HTML()  # v1's structured metrics (widgets/v1_figures.py)
        self.children_html = widgets.HTML()
        self.parallel = ParallelCoordinates(self.state)  # a HyperDrive run's children (widgets/parallel.py)
        self.outputs_html = widgets.HTML()
        self.logs_html = widgets.HTML(self._logs_html())
        self.widget = _RunBox(
            self,
            children=[self.theme, self.header, self.charts, self.metrics_html, self.v1_html, self.children_html,
                      self.parallel.widget,
                      self.outputs_html, self.logs_html],
            layout=widgets.Layout(width="100%"),
        )
        self.widget.add_class("jp-aml-run-details")
        self.feed = RunFeed(run, self.state, self._on_change)
        if live:
            self.feed.start()

    # -- public -----------------------------------------------------------------------------------------
    def show(self) -> None:
        """Display the view in the notebook (Azure ML v1: ``RunDetails(run).show()``)."""
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def summary(self) -> str:
        """One line for front ends that do not draw widgets: which run, its status, and where to look."""
        run: Mapping[str, Any] = self.state.run or {}
        title = run_title(run) if run else f"Run {self.run.id}"
        status = run.get("status") or "status not read yet"
        return (f"{title} ({self.run.id}): {status}. The live view is a widget: open this notebook in JupyterLab "
                f"or Notebook 7 to see it; run.get_metrics() and run.get_details() read the same data here.")

    def close(self) -> None:
        """Stop the live feed and close every widget of the view."""
        if self._closed:
            return
        self._closed = True
        self.feed.stop()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._pending.clear()
            for fig in self.figures.values():
                fig.close()
            self.parallel.close()
            for child in (self.theme, self.header, self.charts, self.metrics_html, self.v1_html, self.children_html,
                          self.outputs_html, self.logs_html):
                child.close()
            box = self.widget
            if box._owner is not None:
                box._owner = None
                box.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ended and the view shows its final state (True) or ``timeout`` passed."""
        return wait_until(lambda: self.feed.finished.is_set() and not self._pending and self._timer is None,
                          1e9 if timeout is None else timeout, 0.05)

    @property
    def alive(self) -> bool:
        """Whether the background thread is still following the run."""
        return self.feed.alive

    def trace_points(self, name: str) -> int:
        """How many points the chart of metric ``name`` shows (0 when it has no chart yet)."""
        fig = self.figures.get(name)
        return len(fig.data[0].x or ()) if fig is not None and fig.data else 0

    # -- rendering ------------------------------------------------------------------------------------
    def _on_change(self, parts: set[str]) -> None:
        """From the feed thread: render now, or within RENDER_INTERVAL when the last render was just now.

        Coalescing keeps a chatty run (many metrics, fast logs) from flooding the browser with redraws.
        """
        with self._lock:
            if self._closed:
                return
            self._pending |= parts
            if self._timer is not None:
                return  # a redraw is already scheduled: it will show this too
            wait = self._last_render + RENDER_INTERVAL - time.monotonic()
            if wait <= 0:
                self._render()
            else:
                self._timer = threading.Timer(wait, self._flush)
                self._timer.name = f"aml-run-view-{self.run.id}"
                self._timer.daemon = True
                self._timer.start()

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
            if not self._closed and self._pending:
                self._render()

    def _render(self) -> None:
        parts, self._pending = self._pending, set()
        self._last_render = time.monotonic()
        self.header.value = self._header_html()  # its duration moves on with every update
        for part in sorted(parts):
            if part.startswith("metric:"):
                self._render_series(part[len("metric:"):])
        if parts & {"summary", "run"} or any(p.startswith("metric:") for p in parts):
            self.metrics_html.value = self._metrics_html()
        if "v1" in parts:
            self.v1_html.value = figures_html({k: (kind, v) for k, (kind, v, _) in self.state.v1_values.items()})
        if "children" in parts:
            self.children_html.value = self._children_html()
            self.parallel.render()
        if "files" in parts:
            self.outputs_html.value = self._outputs_html()
        if "logs" in parts or "run" in parts:
            self.logs_html.value = self._logs_html()
        self.render_count += 1

    def _render_series(self, name: str) -> None:
        series = self.state.series.get(name)
        if series is None or len(series.values) < 2 or self.state.value_only(name):
            return  # a single value, or text / bool / None values, belong in the metrics table, not in a chart
        fig = self.figures.get(name)
        if fig is None:
            if len(self.figures) >= self.max_charts:
                return
            fig = FigureWidget(
                data=[go.Scatter(x=list(series.steps), y=list(series.values), mode="lines+markers", name=name)],
                layout={**CHART_LAYOUT, "title": {"text": name}},
            )
            fig.add_class("aml-chart-card")
            self.figures[name] = fig
            # the studio's order (its summaries are sorted by name), not the order the first points came in
            self.charts.children = tuple(self.figures[n] for n in sorted(self.figures))
            return
        with fig.batch_update():
            fig.data[0].x = list(series.steps)
            fig.data[0].y = list(series.values)

    def _header_html(self) -> str:
        st = self.state
        run: Mapping[str, Any] = st.run or {}
        title = run_title(run) if run else f"Run {self.run.id}"  # "Run #N name", as the studio titles it
        experiment = run.get("experiment") or getattr(self.run.experiment, "name", "")
        duration = H.run_duration(run)
        if duration is not None and not st.terminal:
            duration = float(int(duration))  # whole seconds while it runs: the header changes once a second
        facts = [
            ("run", f"<code>{H.esc(self.run.id)}</code>"),
            ("experiment", H.esc(experiment)),
            ("compute", H.esc(run.get("compute_target") or "")),
            ("started", H.esc(H.fmt_time(run.get("start_time")))),
            ("duration", H.esc(H.fmt_duration(duration))),
        ]
        if run.get("tags"):
            facts.append(("tags", H.esc(", ".join(f"{k}={v}" for k, v in run["tags"].items()))))
        facts_html = " &nbsp;·&nbsp; ".join(f'<span style="opacity:.75">{k}</span> {v}' for k, v in facts if v)
        parts = [
            f'<div style="display:flex;gap:8px;align-items:center"><b style="font-size:14px">{H.esc(title)}</b>'
            f"{H.status_badge(st.status if run else 'Connecting')}</div>",
            f'<div style="font-size:12px">{facts_html}</div>',
        ]
        error: Mapping[str, Any] = run.get("error") or {}
        if error.get("message"):
            details = f"<pre style='white-space:pre-wrap;margin:2px 0'>{H.esc(error.get('details') or '')}</pre>" \
                if error.get("details") else ""
            parts.append(f'<div style="color:{ERROR_COLOR};font-size:12px">{H.esc(error["message"])}{details}</div>')
        if st.error:
            parts.append(f'<div style="color:{WARN_COLOR};font-size:12px">{H.esc(st.error)}</div>')
        return "".join(parts)

    def _metrics_html(self) -> str:
        rows = self.state.metric_rows()
        if not rows:
            return ""
        body = [
            [H.esc(r["name"]), H.esc(r["kind"]), H.fmt_number(r.get("count")),
             ("None" if r.get("last_type") == "n" else fmt(r.get("last"))) if r["kind"] == "scalar" else "",
             H.fmt_number(r.get("min")), H.fmt_number(r.get("max"))]
            for r in rows
        ]
        return H.section("Metrics", H.table(["name", "kind", "count", "last", "min", "max"], body))

    def _children_html(self) -> str:
        children = sorted(self.state.children.values(), key=lambda c: (c.get("number") or 0, c.get("created_at") or ""))
        if not children:
            return ""
        names: list[str] = []
        for child in children:
            for name in self.state.child_metrics.get(child["id"], {}):
                if name not in names:
                    names.append(name)
        rows = []
        for child in children:
            values = self.state.child_metrics.get(child["id"], {})
            rows.append([
                H.esc(run_short_name(child)),
                H.status_badge(str(child.get("status"))),
                H.esc(H.fmt_duration(H.run_duration(child))),
                *[H.fmt_number(values.get(n)) for n in names],
            ])
        return H.section(f"Child runs ({len(children)})", H.table(["run", "status", "duration", *names], rows))

    def _outputs_html(self) -> str:
        if not self.state.files:
            return ""
        items = "".join(
            f"<li><code>{H.esc(path)}</code>" + (f" <span style='opacity:.6'>({size:,} bytes)</span>"
                                                 if isinstance(size, int) else "") + "</li>"
            for path, size in sorted(self.state.files.items())
        )
        return H.section(f"Outputs and logs ({len(self.state.files)})",
                         f'<ul style="margin:2px 0;padding-left:18px;font-size:12px">{items}</ul>'
                         "<div style='font-size:11px;opacity:.7'>download with run.download_file(path)</div>")

    def _logs_html(self) -> str:
        lines = self.state.log_tail(LOG_TAIL_LINES)
        if not lines:
            text = "(no output yet)" if not self.state.terminal else "(no output)"
            body = f"<span style='opacity:.6'>{text}</span>"
        else:
            body = "\n".join(
                f"<span style='color:{ERROR_COLOR}'>{H.esc(line['text'])}</span>" if line.get("stream") == "stderr"
                else H.esc(line["text"])
                for line in lines
            )
        more = f" (last {LOG_TAIL_LINES} lines; run.get_logs() has them all)" if len(self.state.logs) > LOG_TAIL_LINES \
            else ""
        return H.section(
            "Log" + more,
            '<pre class="aml-log" style="font-size:11px;margin:2px 0;padding:4px;white-space:pre-wrap;'
            'background:var(--jp-layout-color2, #f5f5f5)">' + body + "</pre>",
        )

    def __repr__(self) -> str:
        return f"RunDetails(run={self.run.id!r}, status={self.state.status!r}, live={self.alive})"
