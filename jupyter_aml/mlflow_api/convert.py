"""The workspace's records in MLflow's JSON, and MLflow's request fields read with MLflow's refusals.

The mapping (docs/mlflow.md):

- an experiment is an experiment; its MLflow id is its stable numeric id as a string, except that MLflow's
  default experiment ``"0"`` is the workspace's experiment named ``Default``;
- a run is a run (its MLflow run id is the v1 run id); params are its properties, tags its tags; the
  ``mlflow.runName`` tag is its display name and ``mlflow.parentRunId`` its parent (a child run);
- MLflow's statuses: Queued/Preparing/Starting are SCHEDULED, Running/Finalizing/NotResponding RUNNING,
  Completed FINISHED, Failed FAILED, Canceled KILLED;
- a deleted run (MLflow deletes softly) carries the tag ``aml.mlflow.lifecycle_stage=deleted``, which the
  studio shows and MLflow's views answer as ``lifecycle_stage`` rather than as a tag.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from jupyter_aml.core import models
from jupyter_aml.core.mlflow_inputs import RunInputs
from jupyter_aml.core.mlflow_support import LatestMetric
from jupyter_aml.mlflow_api.errors import invalid
from jupyter_aml.mlflow_api.ids import to_mlflow

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
RUN_NAME_TAG = "mlflow.runName"
PARENT_TAG = "mlflow.parentRunId"
USER_TAG = "mlflow.user"
LIFECYCLE_TAG = "aml.mlflow.lifecycle_stage"
ACTIVE, DELETED = "active", "deleted"
HIDDEN_TAGS = frozenset({LIFECYCLE_TAG})
LOGGED_MODEL_TAGS = "aml.mlflow.loggedModel."  # a logged model's record (core/mlflow_models.py), not a run tag

S = models.RunStatus
TO_MLFLOW: dict[models.RunStatus, str] = {
    S.QUEUED: "SCHEDULED", S.PREPARING: "SCHEDULED", S.STARTING: "SCHEDULED",
    S.RUNNING: "RUNNING", S.FINALIZING: "RUNNING", S.NOT_RESPONDING: "RUNNING",
    S.COMPLETED: "FINISHED", S.FAILED: "FAILED", S.CANCELED: "KILLED",
}
FROM_MLFLOW: dict[str, models.RunStatus] = {
    "RUNNING": S.RUNNING, "SCHEDULED": S.QUEUED, "FINISHED": S.COMPLETED, "FAILED": S.FAILED, "KILLED": S.CANCELED,
}


def millis(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def from_millis(value: int | None) -> datetime | None:
    """A client's time in milliseconds since the epoch; one no calendar date has is refused, not a 500."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise invalid(f"Invalid time {value}: milliseconds since the epoch, between the years 1 and 9999") from None


def kv(mapping: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


# -- experiments -----------------------------------------------------------------------------------------
def experiment_id(exp: models.Experiment) -> str:
    return DEFAULT_EXPERIMENT_ID if exp.name == DEFAULT_EXPERIMENT_NAME else exp.id


def experiment_json(exp: models.Experiment, workspace: str) -> dict[str, Any]:
    created = millis(exp.created_at)
    return {
        "experiment_id": experiment_id(exp),
        "name": exp.name,
        "artifact_location": f"mlflow-artifacts:/experiments/{exp.id}",
        "lifecycle_stage": DELETED if exp.archived_time is not None else ACTIVE,
        "creation_time": created,
        "last_update_time": millis(exp.archived_time) or created,
        "tags": kv(exp.tags),
    }


# -- runs ------------------------------------------------------------------------------------------------
def run_tags(run: models.Run) -> dict[str, str]:
    """The run's tags as MLflow shows them: its own, plus its name and parent, minus the lifecycle marker."""
    tags = {k: v for k, v in run.tags.items() if k not in HIDDEN_TAGS and not k.startswith(LOGGED_MODEL_TAGS)}
    tags[RUN_NAME_TAG] = run.display_name
    if run.parent_id:
        tags[PARENT_TAG] = to_mlflow(run.parent_id)
    tags.setdefault(USER_TAG, run.submitter)
    return tags


def lifecycle(run: models.Run) -> str:
    return DELETED if run.tags.get(LIFECYCLE_TAG) == DELETED else ACTIVE


def run_info(run: models.Run, exp_id: str) -> dict[str, Any]:
    mlflow_id = to_mlflow(run.id)  # mlflow_api/ids.py: an id with a dot in MLflow's form
    info: dict[str, Any] = {
        "run_id": mlflow_id,
        "run_uuid": mlflow_id,
        "run_name": run.display_name,
        "experiment_id": exp_id,
        "user_id": run.submitter,
        "status": TO_MLFLOW[run.status],
        "start_time": millis(run.start_time or run.created_at),
        "artifact_uri": f"mlflow-artifacts:/runs/{mlflow_id}/artifacts",  # mlflow_api/artifacts.py
        "lifecycle_stage": lifecycle(run),
    }
    if run.end_time is not None:
        info["end_time"] = millis(run.end_time)
    return info


def run_json(run: models.Run, exp_id: str, metrics: Mapping[str, LatestMetric],
             inputs: RunInputs | None = None, outputs: Sequence[str] = ()) -> dict[str, Any]:
    ended = millis(run.end_time) or millis(run.start_time) or 0
    body: dict[str, Any] = {
        "info": run_info(run, exp_id),
        "data": {
            "metrics": [{"key": k, "value": metric_value(m.value), "timestamp": ended, "step": int(m.step)}
                        for k, m in metrics.items()],
            "params": kv(run.properties),
            "tags": kv(run_tags(run)),
        },
        "inputs": inputs_json(inputs) if inputs is not None else {},
    }
    if outputs:
        body["outputs"] = {"model_outputs": [{"model_id": m, "step": 0} for m in outputs]}
    return body


def inputs_json(inputs: RunInputs) -> dict[str, Any]:
    """MLflow's ``RunInputs``: ``dataset_inputs`` (each a dataset and the input's tags) and ``model_inputs``."""
    out: dict[str, Any] = {}
    if inputs.datasets:
        out["dataset_inputs"] = []
        for d in inputs.datasets:
            dataset: dict[str, Any] = {"name": d.name, "digest": d.digest, "source_type": d.source_type,
                                       "source": d.source}
            if d.schema is not None:
                dataset["schema"] = d.schema
            if d.profile is not None:
                dataset["profile"] = d.profile
            out["dataset_inputs"].append({"tags": kv(d.tags), "dataset": dataset})
    if inputs.models:
        out["model_inputs"] = [{"model_id": m} for m in inputs.models]
    return out


def metric_value(value: float) -> float | str:
    """A double as protobuf's JSON writes it: NaN and the infinities as strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


# -- request fields --------------------------------------------------------------------------------------
def text(req: Mapping[str, Any], name: str, *, required: bool = True, default: str = "") -> str:
    value = req.get(name)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None or value == "":
        if required:
            raise invalid(f"Missing value for required parameter '{name}'. See the API docs for more "
                          "information about request parameters.")
        return default
    if not isinstance(value, str):
        raise invalid(f"Invalid value {value!r} for parameter '{name}' supplied: it must be a string")
    return value


def integer(req: Mapping[str, Any], name: str, *, default: int | None = None) -> int | None:
    value = req.get(name)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise invalid(f"Invalid value {value!r} for parameter '{name}' supplied: it must be an integer")
    if isinstance(value, int):
        number = value
    elif (isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit() and len(value) < 20) or (
            isinstance(value, float) and value.is_integer()):
        number = int(value)
    else:
        raise invalid(f"Invalid value {value!r} for parameter '{name}' supplied: it must be an integer")
    if not -(1 << 63) <= number < (1 << 63):
        raise invalid(f"Invalid value {value!r} for parameter '{name}' supplied: it is outside int64")
    return number


def strings(req: Mapping[str, Any], name: str) -> list[str]:
    value = req.get(name)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, str) for i in items):
        raise invalid(f"Invalid value {value!r} for parameter '{name}' supplied: it must be a list of strings")
    return list(items)


def objects(req: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    value = req.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise invalid(f"Invalid value for parameter '{name}' supplied: it must be a list of objects")
    return value


def run_id_of(req: Mapping[str, Any]) -> str:
    """``run_id``, or the deprecated ``run_uuid`` older clients send."""
    found = req.get("run_id") or req.get("run_uuid")
    return text({"run_id": found}, "run_id")


def metric_number(value: Any) -> float | None:
    """A stored scalar as MLflow's double (NaN and the infinities from their stored names, a bool as 0/1); None
    for a value MLflow has no number for (a string or None metric of a v1 run)."""
    if isinstance(value, bool | int | float):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(str(value).replace("Infinity", "inf"))
    return None
