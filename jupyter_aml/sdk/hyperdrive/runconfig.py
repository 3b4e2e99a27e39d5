"""``HyperDriveConfig``: what a sweep runs (a ScriptRunConfig), over which space, judged by which metric.

Submitting it (``Experiment(ws, name).submit(hd_config)``, which hands itself to ``_submit`` as v1's configs
do) snapshots the source folder once and creates the HyperDrive parent run with the configuration in its
properties; the workspace service then runs the sweep (core/hyperdrive.py), so closing the notebook does not
stop it.
"""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.config import ScriptRunConfig
from jupyter_aml.sdk.hyperdrive.policy import EarlyTerminationPolicy, NoTerminationPolicy
from jupyter_aml.sdk.hyperdrive.sampling import BayesianParameterSampling, GridParameterSampling, HyperParameterSampling

if TYPE_CHECKING:
    from jupyter_aml.sdk.experiment import Experiment
    from jupyter_aml.sdk.hyperdrive.run import HyperDriveRun

__all__ = ["HyperDriveConfig", "PrimaryMetricGoal"]

MAX_PROPERTY_CHARS = 5000  # a run property's limit
_UNSUPPORTED = {
    "estimator": "Estimators were deprecated in v1 and are not provided: pass run_config=ScriptRunConfig(...)",
    "pipeline": "HyperDrive over a pipeline is not provided here: sweep a ScriptRunConfig (run_config=...)",
    "resume_from": "resuming from earlier HyperDrive runs (warm start) is not provided here",
    "resume_child_runs": "resuming child runs is not provided here",
    "custom_run_id": "custom run ids are not provided here: the service names every run",
    "debug_flag": "debug_flag is not provided here",
}


class PrimaryMetricGoal(str, Enum):
    """Whether the primary metric is better when larger or smaller."""

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"


def _goal(value: Any) -> str:
    text = value.value if isinstance(value, PrimaryMetricGoal) else str(value)
    if text.upper() not in ("MAXIMIZE", "MINIMIZE"):
        raise InvalidInput(f"primary_metric_goal is PrimaryMetricGoal.MAXIMIZE or MINIMIZE, not {value!r}")
    return text.lower()


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return value


class HyperDriveConfig:
    def __init__(
        self,
        hyperparameter_sampling: HyperParameterSampling,
        primary_metric_name: str,
        primary_metric_goal: PrimaryMetricGoal | str,
        max_total_runs: int,
        max_concurrent_runs: int | None = None,
        max_duration_minutes: float = 10080,
        policy: EarlyTerminationPolicy | None = None,
        estimator: Any = None,
        run_config: ScriptRunConfig | None = None,
        resume_from: Any = None,
        resume_child_runs: Any = None,
        pipeline: Any = None,
        debug_flag: Any = None,
        custom_run_id: Any = None,
    ) -> None:
        given = {"estimator": estimator, "pipeline": pipeline, "resume_from": resume_from,
                 "resume_child_runs": resume_child_runs, "custom_run_id": custom_run_id, "debug_flag": debug_flag}
        for name, value in given.items():
            if value is not None:
                raise InvalidInput(f"HyperDriveConfig({name}=...) is not supported", hint=_UNSUPPORTED[name])
        if not isinstance(run_config, ScriptRunConfig):
            raise InvalidInput("HyperDriveConfig needs run_config=ScriptRunConfig(...): the script each child runs",
                               hint="HyperDriveConfig(run_config=src, hyperparameter_sampling=..., ...)")
        if not isinstance(hyperparameter_sampling, HyperParameterSampling):
            raise InvalidInput("hyperparameter_sampling is a RandomParameterSampling, GridParameterSampling or "
                               f"BayesianParameterSampling, not {type(hyperparameter_sampling).__name__}")
        if not isinstance(primary_metric_name, str) or not primary_metric_name:
            raise InvalidInput("primary_metric_name names the metric the children log, e.g. 'accuracy'")
        policy = policy if policy is not None else NoTerminationPolicy()
        if not isinstance(policy, EarlyTerminationPolicy):
            raise InvalidInput(f"policy is an early termination policy, not {type(policy).__name__}")
        if isinstance(hyperparameter_sampling, BayesianParameterSampling) and not isinstance(
                policy, NoTerminationPolicy):
            raise InvalidInput(f"Bayesian sampling does not support early termination policies "
                               f"({type(policy).__name__} was given)", hint="use policy=None or NoTerminationPolicy()")
        self.run_config = run_config
        self.hyperparameter_sampling = hyperparameter_sampling
        self.primary_metric_name = primary_metric_name
        self.primary_metric_goal = _goal(primary_metric_goal)
        self.max_total_runs = _whole("max_total_runs", max_total_runs, 1, 1000)
        self.max_concurrent_runs = _whole("max_concurrent_runs", max_concurrent_runs, 1, 100) \
            if max_concurrent_runs is not None else min(self.max_total_runs, 100)
        if (isinstance(max_duration_minutes, bool) or not isinstance(max_duration_minutes, (int, float))
                or not math.isfinite(max_duration_minutes) or max_duration_minutes <= 0):
            raise InvalidInput(f"max_duration_minutes must be a number > 0, not {max_duration_minutes!r}")
        self.max_duration_minutes = float(max_duration_minutes)
        self.policy = policy
        if isinstance(hyperparameter_sampling, GridParameterSampling):
            size = math.prod(len(e[1][0]) for e in hyperparameter_sampling.parameter_space.values())
            self.max_total_runs = min(self.max_total_runs, size)  # v1: the sweep ends with the grid
        self.properties()  # refuse an oversized space now, not at submit

    @property
    def estimator(self) -> None:
        return None

    def properties(self) -> dict[str, str]:
        """The parent run's properties, under v1's names."""
        def dump(value: Any) -> str:
            return json.dumps(value, separators=(",", ":"), sort_keys=True)

        props = {
            "azureml.runsource": "hyperdrive",
            "runTemplate": "HyperDrive",
            "generator_config": dump(self.hyperparameter_sampling.to_json()),
            "primary_metric_config": dump({"name": self.primary_metric_name, "goal": self.primary_metric_goal}),
            "policy_config": dump(self.policy.to_json()),
            "max_total_jobs": str(self.max_total_runs),
            "max_concurrent_jobs": str(self.max_concurrent_runs),
            "max_duration_minutes": dump(self.max_duration_minutes),
        }
        for key, value in props.items():
            if len(value) > MAX_PROPERTY_CHARS:
                raise InvalidInput(f"the sweep's {key} is {len(value)} characters; a run keeps at most "
                                   f"{MAX_PROPERTY_CHARS}", hint="use fewer choices (a range as randint/quniform)")
        return props

    def _submit(self, experiment: Experiment, tags: dict[str, Any] | None = None, *, display_name: str = "",
                properties: dict[str, Any] | None = None, progress: bool = True, **_kwargs: Any) -> HyperDriveRun:
        """``Experiment.submit(hd_config)``: one snapshot, then the parent run; the service makes the children."""
        from jupyter_aml.sdk.hyperdrive.run import HyperDriveRun
        from jupyter_aml.sdk.submit import git_info, upload_snapshot

        src = self.run_config
        computes = experiment.workspace.compute_targets
        if src.compute_target not in computes:
            raise InvalidInput(f"compute target {src.compute_target!r} does not exist",
                               hint="available compute targets: " + ", ".join(sorted(computes)))
        ws = experiment.workspace
        upload = upload_snapshot(ws._api, ws.name, src.source_directory, script=src.script, progress=progress)
        own = {k: str(v) for k, v in (properties or {}).items()}
        body: T.RunCreate = {
            "experiment": experiment.name,
            "kind": "interactive",
            "snapshot_id": upload.snapshot_id,
            "run_config": cast(T.RunConfig, rest_run_config(src)),
            "tags": {k: str(v) for k, v in (tags or {}).items()},
            "properties": {**own, **self.properties()},
            "git": cast("T.GitInfo | None", git_info(src.source_directory)),
            "display_name": display_name or f"HD_{experiment.name}",
        }
        details = ws._api.create_run(ws.name, body)
        run = HyperDriveRun(experiment, details["id"], hyperdrive_config=self, _details=details)
        run.snapshot_upload = upload
        return run

    def __repr__(self) -> str:
        return (f"HyperDriveConfig({type(self.hyperparameter_sampling).__name__}, primary_metric_name="
                f"{self.primary_metric_name!r}, goal={self.primary_metric_goal}, max_total_runs={self.max_total_runs})")


def rest_run_config(src: ScriptRunConfig) -> dict[str, Any]:
    """The REST ``run_config`` of a ScriptRunConfig (a method here; v1's ``run_config`` attribute elsewhere)."""
    made = getattr(src, "_rest_run_config", None) or getattr(src, "run_config", None)
    if callable(made):
        return dict(made())
    raise InvalidInput("this ScriptRunConfig cannot give its REST run configuration")
