"""Tables of runs and their metrics for a notebook: ``runs_table(runs)`` renders as HTML, ``.to_pandas()``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from jupyter_aml.run_names import run_number
from jupyter_aml.widgets import html as H

if TYPE_CHECKING:
    from jupyter_aml.sdk.run import Run

BASE_COLUMNS = ["run", "experiment", "status", "created", "duration", "compute", "tags"]


class RunsTable:
    """Rows of ``{column: value}``; shown as an HTML table, convertible to a pandas DataFrame."""

    def __init__(self, columns: list[str], rows: list[dict[str, Any]], metric_columns: list[str],
                 numbers: dict[str, str] | None = None) -> None:
        self.columns = columns
        self.numbers = numbers or {}  # run id -> "#N" (shown before the run's name)
        self.rows = rows
        self.metric_columns = metric_columns

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def column(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]

    def best(self, metric: str, *, maximize: bool = True) -> dict[str, Any] | None:
        """The row with the best value of ``metric``."""
        scored = [row for row in self.rows if isinstance(row.get(metric), (int, float))]
        if not scored:
            return None
        return (max if maximize else min)(scored, key=lambda row: row[metric])

    def to_pandas(self) -> Any:
        import pandas as pd  # optional: only for users who want a DataFrame

        return pd.DataFrame(self.rows, columns=self.columns).set_index("id")

    def _repr_html_(self) -> str:
        if not self.rows:
            return "<i>no runs</i>"
        shown = [c for c in self.columns if c != "id"]
        body = []
        for row in self.rows:
            cells = []
            for col in shown:
                value = row.get(col)
                if col == "run":
                    label = " ".join(p for p in (self.numbers.get(row["id"], ""),
                                                 "" if value == row["id"] else str(value)) if p)
                    cells.append(f"{H.esc(label or value)}<br>"
                                 f"<code style='font-size:10px;opacity:.7'>{H.esc(row['id'])}</code>")
                elif col == "status":
                    cells.append(H.status_badge(str(value)))
                elif col == "duration":
                    cells.append(H.esc(H.fmt_duration(value)))
                elif col == "created":
                    cells.append(H.esc(H.fmt_time(value)))
                elif col == "tags":
                    cells.append(H.esc(", ".join(f"{k}={v}" for k, v in (value or {}).items())))
                else:
                    cells.append(H.fmt_number(value))
            body.append(cells)
        return H.table(shown, body, css_class="aml-runs-table")

    def __repr__(self) -> str:
        return f"RunsTable({len(self.rows)} runs, metrics={self.metric_columns})"


def records_table(
    runs: Iterable[Run], metrics: list[str] | None = None, *, max_metrics: int = 8, refresh: bool = False,
) -> RunsTable:
    """The one table of runs: each run's record with the last value of each scalar metric.

    ``refresh`` reads each run's record again (current status and duration); without it the record the
    ``Run`` came with (e.g. from ``Workspace.list_runs``) is shown."""
    rows: list[dict[str, Any]] = []
    numbers: dict[str, str] = {}  # run id -> "#N": the HTML names a run "#N name", as the studio does
    metric_names: list[str] = list(metrics or [])
    for run in runs:
        rec = run.get_record(refresh=refresh)
        numbers[rec["id"]] = run_number(rec)
        values: dict[str, Any] = {}
        for item in run.get_metric_summaries():
            if item["kind"] == "scalar":
                values[item["name"]] = item["last_value"]
                if metrics is None and item["name"] not in metric_names:
                    metric_names.append(item["name"])
        rows.append({
            "id": rec["id"],
            "run": rec.get("display_name") or rec["id"],
            "experiment": rec.get("experiment"),
            "status": rec.get("status"),
            "created": rec.get("created_at"),
            "duration": H.run_duration(rec),
            "compute": rec.get("compute_target"),
            "tags": rec.get("tags") or {},
            **{f"m:{k}": v for k, v in values.items()},
        })
    metric_names = metric_names[:max_metrics] if metrics is None else metric_names
    for row in rows:
        for name in metric_names:
            row[name] = row.get(f"m:{name}")
        for key in [k for k in row if k.startswith("m:")]:
            del row[key]
    return RunsTable(["id", *BASE_COLUMNS, *metric_names], rows, metric_names, numbers)


def runs_table(runs: Iterable[Run], metrics: list[str] | None = None) -> RunsTable:
    """Compare runs (``Run`` objects, e.g. ``parent.get_children()``) by their metrics' last values."""
    # current status and duration, not the record cached at submit time
    return records_table(runs, metrics, refresh=True)
