"""``aml run metrics``: a run's metric summaries, or the values of one metric."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import RunIdArg, emit_json, get_run, out
from jupyter_aml.runtime import api_types as T


def run_metrics(
    run_id: RunIdArg,
    name: Annotated[
        str | None, typer.Option("--name", "-m", metavar="METRIC", help="Print this metric's values.")
    ] = None,
    recursive: Annotated[bool, typer.Option("--recursive", help="Include child runs' metrics.")] = False,
) -> None:
    """A table of a run's metrics (name, kind, count, last, min, max), or one metric's values."""
    from jupyter_aml.errors import NotFound
    from jupyter_aml.sdk.run import Run

    run = get_run(run_id)
    summaries = run.get_metric_summaries(recursive=recursive)
    if name is None:
        if c.STATE.json:
            emit_json({"items": summaries})
            return
        _summary_table(summaries, recursive)
        return
    matches = [m for m in summaries if m["name"] == name]
    if not matches:
        known = sorted({m["name"] for m in summaries})
        raise NotFound(
            f"run {run.id!r} has no metric {name!r}",
            hint=("its metrics: " + ", ".join(known)) if known else "the run has logged no metrics",
        )
    # A child's series is read through its own Run (same experiment: Run(experiment, id) asks nothing).
    histories: list[dict[str, Any]] = [
        {**(run if m["run_id"] == run.id else Run(run.experiment, m["run_id"])).get_metric_history(name),
         "run_id": m["run_id"]}
        for m in matches
    ]
    if c.STATE.json:
        if recursive:
            emit_json({"items": histories})
        else:
            body = dict(histories[0])
            body.pop("run_id")
            emit_json(body)
        return
    for history in histories:
        _print_history(history, show_run=recursive)


def _summary_table(items: list[T.MetricSummary], recursive: bool) -> None:
    console = out()
    if not items:
        console.print("[dim]no metrics[/dim]")
        return
    columns = (["run"] if recursive else []) + ["name", "kind", "count", "last", "min", "max"]
    table = Table(*columns, box=None, header_style="bold")
    for m in items:
        cells = [
            escape(m["name"]),
            m["kind"],
            str(m["count"]),
            escape(as_logged(m)),
            c.number(m.get("min")),
            c.number(m.get("max")),
        ]
        table.add_row(*([escape(m["run_id"])] if recursive else []), *cells)
    console.print(table)


NON_FINITE = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}


def as_logged(summary: T.MetricSummary) -> str:
    """A metric's latest value as the script logged it, by its value type (``last_type``): a string as
    itself, True / False, None, an int without a decimal point, a non-finite float as nan / inf (as Python
    prints them). A summary without a type (a table, rows) has no single value: its numeric ``last_value``."""
    kind = summary.get("last_type")
    if kind is None:
        return c.number(summary.get("last_value"))
    return typed_value(kind, summary.get("last"))


def typed_value(kind: str | None, value: Any) -> str:
    """One scalar value by its value type (f, i, b, n, s; None: a float, as the REST payload says)."""
    if kind == "n":
        return "None"
    if kind == "b":
        return str(bool(value))
    if kind == "s":
        return str(value)
    if kind in ("f", None) and isinstance(value, str):
        return NON_FINITE.get(value, value)
    return c.number(value)


def _print_history(history: dict[str, Any], *, show_run: bool) -> None:
    console = out()
    title = f"{history['name']} ({history['kind']})" + (f" of run {history['run_id']}" if show_run else "")
    console.print(f"[bold]{escape(title)}[/bold]")
    values = history.get("values") or []
    if history["kind"] == "scalar":
        table = Table("step", "value", box=None, header_style="bold")
        types = history.get("types") or [None] * len(values)
        for step, value, kind in zip(history.get("steps") or [], values, types, strict=False):
            table.add_row(c.number(int(step) if float(step).is_integer() else step), escape(typed_value(kind, value)))
        console.print(table)
        if history.get("downsampled"):
            console.print(f"[dim]downsampled from {history.get('total')} points[/dim]")
        return
    if history["kind"] == "row" and values and all(isinstance(v, dict) for v in values):
        columns = list(dict.fromkeys(k for v in values for k in v))
        table = Table(*columns, box=None, header_style="bold")
        for v in values:
            table.add_row(*(escape(c.number(v.get(col))) for col in columns))
        console.print(table)
        return
    if history["kind"] == "table" and values and isinstance(values[-1], dict):
        data = values[-1]
        columns = list(data)
        table = Table(*columns, box=None, header_style="bold")
        for i in range(max((len(v) for v in data.values() if isinstance(v, list)), default=0)):
            table.add_row(*(escape(c.number(data[col][i] if i < len(data[col]) else None)) for col in columns))
        console.print(table)
        return
    for value in values:
        console.print(escape(c.number(value)), soft_wrap=True)

