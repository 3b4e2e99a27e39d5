"""``HyperDriveRun``: the parent run of a sweep, with v1's result methods over its children."""

from __future__ import annotations

import json
import math
import sys
import time
from typing import TYPE_CHECKING, Any

from jupyter_aml.sdk.run import Run
from jupyter_aml.sdk.run_watch import ActivityFailedError

if TYPE_CHECKING:
    from jupyter_aml.sdk.experiment import Experiment
    from jupyter_aml.sdk.hyperdrive.runconfig import HyperDriveConfig

__all__ = ["HyperDriveRun"]
_TERMINAL = ("Completed", "Failed", "Canceled")


def _best(value: Any, maximize: bool) -> float | None:
    values = value if isinstance(value, list) else [value]
    numbers = [float(v) for v in values
               if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    if not numbers:
        return None
    return max(numbers) if maximize else min(numbers)


class HyperDriveRun(Run):
    def __init__(self, experiment: Experiment, run_id: str, hyperdrive_config: HyperDriveConfig | None = None,
                 **kwargs: Any) -> None:
        super().__init__(experiment, run_id, **kwargs)
        self.hyperdrive_config = hyperdrive_config

    @property
    def type(self) -> str:
        return "hyperdrive"

    def _primary(self) -> tuple[str, bool]:
        config = json.loads(self.get_properties().get("primary_metric_config") or "{}")
        return str(config.get("name", "")), config.get("goal", "maximize") == "maximize"

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        """Every child's metrics: ``{child run id: {name: value}}`` (v1's HyperDriveRun.get_metrics)."""
        everything = super().get_metrics(name=name, recursive=True)
        children = {c.id for c in self.get_children(recursive=recursive)}
        return {run_id: metrics for run_id, metrics in everything.items() if run_id in children} | {
            c: {} for c in children if c not in everything}

    def get_hyperparameters(self) -> dict[str, str]:
        """``{child run id: its hyperparameters as JSON}``, e.g. ``{'HD_..._0': '{"--lr": 0.01}'}``."""
        return {c.id: c.get_properties().get("hyperparameters", "{}") for c in self.get_children()}

    def get_children_sorted_by_primary_metric(self, top: int = 0, reverse: bool = False,
                                              discard_no_metric: bool = False) -> list[dict[str, Any]]:
        """The children best first by their best primary metric, as dicts of ``run_id``, ``hyperparameters``,
        ``best_primary_metric`` and ``status``. ``reverse`` flips the order of the children with the metric;
        the ones without it follow them (or are left out with ``discard_no_metric``); ``top`` > 0 keeps that many."""
        metric, maximize = self._primary()
        metrics = super().get_metrics(name=metric, recursive=True)
        rows: list[dict[str, Any]] = []
        missing: list[dict[str, Any]] = []
        for child in self.get_children():
            best = _best(metrics.get(child.id, {}).get(metric), maximize)
            row = {"run_id": child.id, "hyperparameters": child.get_properties().get("hyperparameters", "{}"),
                   "best_primary_metric": best, "status": child.get_status()}
            (rows if best is not None else missing).append(row)
        rows.sort(key=lambda r: r["best_primary_metric"], reverse=maximize != reverse)
        ordered = rows + ([] if discard_no_metric else missing)
        return ordered[:top] if top > 0 else ordered

    def get_best_run_by_primary_metric(self, include_failed: bool = True, include_canceled: bool = True,
                                       include_resume_from_runs: bool = True) -> Run | None:
        """The child with the best primary metric (None when no child logged it). No child is ever resumed
        from another sweep here, so ``include_resume_from_runs`` changes nothing."""
        for row in self.get_children_sorted_by_primary_metric(discard_no_metric=True):
            if (row["status"] == "Failed" and not include_failed) or (
                    row["status"] == "Canceled" and not include_canceled):
                continue
            return Run(self.experiment, row["run_id"])
        return None

    def cancel(self) -> bool:  # type: ignore[override]
        """Cancel the sweep and every child still running (v1 answers True)."""
        super().cancel()
        return True

    def fail(self, *args: Any, **kwargs: Any) -> None:
        from jupyter_aml.errors import InvalidInput

        raise InvalidInput("fail() is not supported for a HyperDrive run (as in v1): cancel() it")

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True, poll_seconds: float = 1.0) -> dict[str, Any]:
        """Block until the sweep ends; with ``show_output``, print each child's status as it changes."""
        seen: dict[str, str] = {}
        while True:
            status = str(self._refresh()["status"])
            if show_output:
                for child in self.get_children():
                    now = child.get_status()
                    if seen.get(child.id) != now:
                        seen[child.id] = now
                        params = child.get_properties().get("hyperparameters", "")
                        print(f"{child.id} {params}: {now}", file=sys.stdout, flush=True)
            if status in _TERMINAL:
                break
            time.sleep(poll_seconds)
        details: dict[str, Any] = self.get_details()
        if show_output:
            print(f"\nHyperDrive run {self.id}: {status}, best child "
                  f"{details.get('properties', {}).get('best_child_run_id', 'none')}")
        if raise_on_error and status != "Completed":
            error = (details.get("error") or {}).get("message") or status
            raise ActivityFailedError(f"HyperDrive run {self.id} ended {status}: {error}",
                                      hint="see each child with run.get_children()", details=details.get("error"))
        return details

    def __repr__(self) -> str:
        return f"HyperDriveRun(experiment={self.experiment.name!r}, id={self.id!r})"
