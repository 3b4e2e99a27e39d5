"""Logging into a run (the journal: no network on the training thread) and reading its metrics back."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import AMLError, InvalidInput, NotFound
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.metric_values import decode_nested, decode_scalars
from jupyter_aml.sdk.run_base import RunBase

READ_FLUSH_SECONDS = 30.0  # a read waits this long at most for this process's own queued points

if TYPE_CHECKING:
    from jupyter_aml.runtime.journal import JournalWriter


class RunCanceledError(AMLError):
    """Logging into a run that was canceled elsewhere (the studio, REST, ``aml run cancel``)."""

    code = "RunCanceled"


def rows_to_table(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """``log_row`` rows -> ``{column: [values]}`` (a missing cell is None), as Azure's get_metrics shows."""
    table: dict[str, list[Any]] = {}
    for index, row in enumerate(rows):
        for key, value in row.items():
            table.setdefault(key, [None] * index).append(value)
        for column in table.values():
            if len(column) < index + 1:
                column.append(None)
    return table


def decoded(history: T.MetricHistory) -> list[Any]:
    """A history's values as they were logged: ints, bools, None, strings, and NaN / ±inf as floats
    (the REST answer carries those as "NaN" / "Infinity" / "-Infinity": docs/runs-and-metrics.md)."""
    values = list(history["values"])
    if history["kind"] == "scalar":
        types = history.get("types")
        return decode_scalars(values, list(types) if types is not None else None)
    for index in history.get("nonfinite") or ():
        if 0 <= index < len(values):
            values[index] = decode_nested(values[index])
    return values


def v1_value(history: T.MetricHistory) -> Any:
    """A series as Azure v1's get_metrics returns it: a scalar logged once is the value, several a list;
    rows become a table; one list, table, image or v1 structured value (confusion matrix...) is that item."""
    kind, values = history["kind"], decoded(history)
    if kind == "scalar":
        return values[0] if len(values) == 1 else values
    if kind == "row":
        return rows_to_table(values)
    if len(values) == 1:
        return values[0]
    return values


class RunMetrics(RunBase):
    # -- logging ----------------------------------------------------------------------------------------
    def _sink(self) -> JournalWriter:
        shipper = self._shipper
        if shipper is not None and shipper.ended:
            raise RunCanceledError(
                f"run {self.id} no longer takes logged values: {shipper.ended}",
                hint="start a new run with Experiment.start_logging()",
            )
        if shipper is not None and shipper.stopped:
            raise AMLError(
                f"run {self.id} has ended (complete(), fail() or cancel() was called): it takes no more values",
                hint="start a new run with Experiment.start_logging()",
            )
        if self._journal is None:
            raise AMLError(
                f"run {self.id} has no journal to log into",
                hint="log from inside the run's script, or use Experiment.start_logging()",
            )
        return self._journal

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        self._sink().log_metric(self.id, name, value, step, description or None)

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        self._sink().log_list(self.id, name, value, description or None)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        self._sink().log_row(self.id, name, kwargs, description)

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        self._sink().log_table(self.id, name, value, description or None)

    def log_accuracy_table(self, name: str, value: dict[str, Any] | str, description: str = "") -> None:
        """v1's accuracy table: ``{"schema_type": "accuracy_table", "schema_version": "1.0.0", "data":
        {"probability_tables", "percentile_tables", "probability_thresholds", "percentile_thresholds",
        "class_labels"}}``; each table holds one ``[tp, fp, tn, fn]`` row per threshold, one table per class."""
        self._sink().log_v1(self.id, name, "accuracy_table", value, description or None)

    def log_confusion_matrix(self, name: str, value: dict[str, Any] | str, description: str = "") -> None:
        """v1's confusion matrix: ``{"schema_type": "confusion_matrix", "schema_version": "1.0.0", "data":
        {"class_labels": [...], "matrix": [[...], ...]}}`` (one row and one column per label)."""
        self._sink().log_v1(self.id, name, "confusion_matrix", value, description or None)

    def log_predictions(self, name: str, value: dict[str, Any] | str, description: str = "") -> None:
        """v1's regression predictions (a calibration chart): ``data`` holds ``bin_averages``,
        ``bin_errors``, ``bin_counts`` (one per bin) and ``bin_edges`` (one more)."""
        self._sink().log_v1(self.id, name, "predictions", value, description or None)

    def log_residuals(self, name: str, value: dict[str, Any] | str, description: str = "") -> None:
        """v1's residuals histogram: ``data`` holds ``bin_edges`` and ``bin_counts`` (one fewer)."""
        self._sink().log_v1(self.id, name, "residuals", value, description or None)

    def log_image(
        self, name: str, path: str | os.PathLike[str] | None = None, plot: Any = None, description: str = ""
    ) -> None:
        if (path is None) == (plot is None):
            raise InvalidInput("log_image needs exactly one of path= or plot=")
        sink = self._sink()
        if plot is not None:
            buffer = io.BytesIO()
            figure = plot.gcf() if hasattr(plot, "gcf") else plot
            figure.savefig(buffer, format="png")
            data = buffer.getvalue()
            rel = f"logs/images/{name}.png"
        else:
            source = Path(path)  # type: ignore[arg-type]
            if not source.is_file():
                raise InvalidInput(f"image file {str(source)!r} does not exist")
            data = source.read_bytes()
            rel = f"logs/images/{name}{source.suffix or '.png'}"
        sha = self._upload_bytes(rel, data)
        sink.log_image(self.id, name, sha, rel, description or None)

    def flush(self, timeout_seconds: float = 300) -> None:
        """Wait until everything logged so far is acknowledged (interactive runs)."""
        if self._shipper is not None:
            self._shipper.flush(timeout_seconds)

    def _own_writes_in(self) -> None:
        """A run logging from this process (``start_logging``) reads what it logged: its shipper sends the
        points still queued before the read, as if ``flush()`` had been called."""
        if self._shipper is not None:
            self._shipper.flush(READ_FLUSH_SECONDS)

    # -- reading -----------------------------------------------------------------------------------------
    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        """``{name: value}`` (a list when logged more than once); with ``recursive``, ``{run_id: {...}}``.

        One request: the service returns every series with all its values (or the one series asked for)."""
        self._own_writes_in()
        if name is not None and not recursive:
            try:
                return {name: v1_value(self._api.metric_history(self._ws, self.id, name))}
            except NotFound:
                return {}
        out: dict[str, dict[str, Any]] = {}
        for history in self._api.metric_values(self._ws, self.id, recursive=recursive)["items"]:
            if name is None or history["name"] == name:
                out.setdefault(history["run_id"], {})[history["name"]] = v1_value(history)
        if recursive:
            return out
        return out.get(self.id, {})

    def get_metric_summaries(self, recursive: bool = False) -> list[T.MetricSummary]:
        """Each series' kind, count, last value, last step, minimum and maximum (no values)."""
        self._own_writes_in()
        return list(self._api.metric_summaries(self._ws, self.id, recursive=recursive)["items"])

    def get_metric_history(self, name: str, max_points: int | None = None) -> T.MetricHistory:
        """One series with its steps, values and times; scalars downsampled to ``max_points`` keeping
        each bucket's minimum and maximum. The values are decoded as they were logged (ints, strings,
        bools, None, NaN and ±inf as floats)."""
        self._own_writes_in()
        history = self._api.metric_history(self._ws, self.id, name, max_points=max_points)
        history["values"] = decoded(history)
        return history
