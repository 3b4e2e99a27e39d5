"""Step reuse: a step's cache key, the earlier run that has it, and where a step's outputs are.

A step is reused when every part of its key is unchanged: the snapshot (its source folder's manifest hash),
the script and its arguments (parameters filled in), the parameter values it uses, the environment's hash,
the settings that do not depend on the compute (kind, time limit, distribution, outputs' destinations, the
registered datasets it reads) and the content fingerprint of each input (names, sizes and mtimes or ETags of
its files, as a dataset version's fingerprint is). The compute target is not part of the key: the same step
on another target gives the same outputs. The parts are kept on the step run, so a user sees why a step was
or was not reused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from jupyter_aml.core.models import DataOutput, RunConfig, RunStatus
from jupyter_aml.core.pipelines_models import PipelineStepSpec, StepOutputLocation
from jupyter_aml.core.run_data import destination
from jupyter_aml.core.workspaces import WorkspaceService, utcnow
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import PipelineReuseRow, RunRow

MAX_PARTS_CHARS = 5000  # a run property's limit


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def key_parts(step: PipelineStepSpec, run_config: RunConfig, parameters: dict[str, Any],
              input_fingerprints: dict[str, str]) -> dict[str, Any]:
    """What the key is made of; ``run_config`` is the step's, parameters filled in, pipeline inputs not yet
    added (they are in ``input_fingerprints``, by the name the step reads them under)."""
    return {
        "snapshot": step.snapshot_id,
        "script": run_config.script,
        "arguments": list(run_config.arguments),
        "parameters": dict(sorted(parameters.items())),
        "environment": digest(run_config.environment.model_dump(mode="json")),
        "settings": {
            "kind": step.kind,
            "max_run_duration_seconds": run_config.max_run_duration_seconds,
            "distributed": run_config.distributed.model_dump(mode="json") if run_config.distributed else None,
            "outputs": [o.model_dump(mode="json") for o in run_config.outputs],
            "datasets": [i.model_dump(mode="json") for i in run_config.inputs],
        },
        "inputs": dict(sorted(input_fingerprints.items())),
    }


def parts_property(parts: dict[str, Any]) -> str:
    """The parts as a run property (5000 characters at most: long arguments are kept as their hash)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    if len(text) <= MAX_PARTS_CHARS:
        return text
    short = dict(parts, arguments="sha256:" + digest(parts["arguments"]))
    text = json.dumps(short, sort_keys=True, default=str)
    return text if len(text) <= MAX_PARTS_CHARS else json.dumps({"key_parts": "too long to keep"})


def find_reusable(db: Store, workspace: str, key: str) -> str | None:
    """The newest step run with this key that ended Completed (None when there is none)."""
    with db.read() as s:
        ws = WorkspaceService.row(s, workspace)
        return s.scalar(
            select(PipelineReuseRow.run_id).join(RunRow, RunRow.id == PipelineReuseRow.run_id)
            .where(PipelineReuseRow.workspace_id == ws.id, PipelineReuseRow.reuse_key == key,
                   RunRow.status == RunStatus.COMPLETED.value)
            .order_by(PipelineReuseRow.created_at.desc()).limit(1))


def record(db: Store, workspace: str, key: str, run_id: str) -> None:
    """A new step run under its key (found by later submissions once it has Completed)."""
    with db.session() as s:
        ws = WorkspaceService.row(s, workspace)
        s.add(PipelineReuseRow(run_id=run_id, workspace_id=ws.id, reuse_key=key, created_at=utcnow()))


def output_locations(outputs: list[DataOutput], run_id: str) -> list[StepOutputLocation]:
    """Where a step run's outputs are (a reused step's: its original run's)."""
    return [StepOutputLocation(name=o.name, datastore=o.datastore,
                               path_on_datastore=destination(o.path, run_id, o.name)) for o in outputs]
