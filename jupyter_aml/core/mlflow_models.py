"""MLflow 3 logged models kept in the workspace's own tables: each one lives in its source run.

A logged model is a record of its run (the tag ``aml.mlflow.loggedModel.<model_id>``, holding the model's
name, status, tags and params as JSON) and a folder of that run's files (``outputs/mlflow-models/<model_id>``).
So its lineage is its run: the studio shows the files among the run's outputs, the v1 SDK registers them with
``run.register_model(model_path="outputs/mlflow-models/<id>")``, and no second store exists. The tag is written
here, not through the v1 tag route, because a model's record may be longer than a v1 tag value may be.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from jupyter_aml.core.run_views import RunReader
from jupyter_aml.core.workspaces import WorkspaceService
from jupyter_aml.errors import NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import RunRow, RunTagRow

TAG_PREFIX = "aml.mlflow.loggedModel."
FILES_PREFIX = "outputs/mlflow-models"


@dataclass(frozen=True)
class LoggedModelRecord:
    run_id: str
    experiment_id: int  # the workspace's experiment id of the run
    data: dict[str, Any]  # name, status, tags, params, times ... as the MLflow layer writes them


class LoggedModels:
    def __init__(self, db: Store) -> None:
        self.db = db

    def create(self, workspace: str, run_id: str, model_id: str, data: dict[str, Any]) -> LoggedModelRecord:
        with self.db.session() as s:
            row = RunReader.row(s, workspace, run_id)
            s.add(RunTagRow(run_id=row.id, key=TAG_PREFIX + model_id, value=json.dumps(data)))
            return LoggedModelRecord(row.id, row.experiment_id, data)

    def get(self, workspace: str, model_id: str) -> LoggedModelRecord:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            hit = s.execute(select(RunTagRow.run_id, RunTagRow.value, RunRow.experiment_id)
                            .join(RunRow, RunRow.id == RunTagRow.run_id)
                            .where(RunTagRow.key == TAG_PREFIX + model_id, RunRow.workspace_id == ws.id)).first()
        if hit is None:
            raise NotFound(f"Logged model with ID '{model_id}' not found")
        return LoggedModelRecord(hit[0], hit[2], json.loads(hit[1]))

    def update(self, workspace: str, model_id: str,
               change: Callable[[dict[str, Any]], None]) -> LoggedModelRecord:
        """Apply ``change`` to the model's record in one write transaction (no lost update)."""
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            hit = s.execute(select(RunTagRow, RunRow.experiment_id)
                            .join(RunRow, RunRow.id == RunTagRow.run_id)
                            .where(RunTagRow.key == TAG_PREFIX + model_id, RunRow.workspace_id == ws.id)).first()
            if hit is None:
                raise NotFound(f"Logged model with ID '{model_id}' not found")
            tag, experiment_id = hit
            data = json.loads(tag.value)
            change(data)
            tag.value = json.dumps(data)
            return LoggedModelRecord(tag.run_id, experiment_id, data)

    def of_experiments(self, workspace: str, experiment_ids: Iterable[int]) -> list[LoggedModelRecord]:
        ids = list(set(experiment_ids))
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            rows = s.execute(select(RunTagRow.run_id, RunTagRow.value, RunRow.experiment_id)
                             .join(RunRow, RunRow.id == RunTagRow.run_id)
                             .where(RunRow.workspace_id == ws.id, RunRow.experiment_id.in_(ids),
                                    RunTagRow.key.startswith(TAG_PREFIX, autoescape=True)))
            return [LoggedModelRecord(r, e, json.loads(v)) for r, v, e in rows]


__all__ = ["FILES_PREFIX", "TAG_PREFIX", "LoggedModelRecord", "LoggedModels"]
