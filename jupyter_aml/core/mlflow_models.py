"""MLflow 3 logged models kept in the workspace's own tables: each one lives in its source run.

A logged model is a record of its run (a row of ``mlflow_logged_models``, holding the model's name, status,
tags and params as JSON) and a folder of that run's files (``outputs/mlflow-models/<model_id>``). So its
lineage is its run: the studio shows the files among the run's outputs, the v1 SDK registers them with
``run.register_model(model_path="outputs/mlflow-models/<id>")``, and no second store exists. The record is not
one of the run's tags (it was, as ``aml.mlflow.loggedModel.<id>``, until migration 0015 moved them), so the
studio and v1's ``run.get_tags()`` do not show it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from jupyter_aml.core.run_views import RunReader
from jupyter_aml.core.workspaces import WorkspaceService
from jupyter_aml.errors import Conflict, NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import ModelNameRow, ModelRow, RunRow
from jupyter_aml.store.tables_mlflow import MlflowLoggedModelRow

TAG_PREFIX = "aml.mlflow.loggedModel."  # where records were before migration 0015
FILES_PREFIX = "outputs/mlflow-models"
Row = MlflowLoggedModelRow


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
            s.add(Row(model_id=model_id, run_id=row.id, data=json.dumps(data)))
            return LoggedModelRecord(row.id, row.experiment_id, data)

    def run_of(self, model_id: str) -> str | None:
        """The source run of a model id (ids are random, so unique across workspaces): what a run's token
        is checked against before the model is read in the caller's workspace."""
        with self.db.read() as s:
            found: str | None = s.scalar(select(Row.run_id).where(Row.model_id == model_id))
            return found

    def get(self, workspace: str, model_id: str) -> LoggedModelRecord:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            hit = s.execute(select(Row.run_id, Row.data, RunRow.experiment_id)
                            .join(RunRow, RunRow.id == Row.run_id)
                            .where(Row.model_id == model_id, RunRow.workspace_id == ws.id)).first()
        if hit is None:
            raise NotFound(f"Logged model with ID '{model_id}' not found")
        return LoggedModelRecord(hit[0], hit[2], json.loads(hit[1]))

    def update(self, workspace: str, model_id: str,
               change: Callable[[dict[str, Any]], None]) -> LoggedModelRecord:
        """Apply ``change`` to the model's record in one write transaction (no lost update)."""
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            hit = s.execute(select(Row, RunRow.experiment_id)
                            .join(RunRow, RunRow.id == Row.run_id)
                            .where(Row.model_id == model_id, RunRow.workspace_id == ws.id)).first()
            if hit is None:
                raise NotFound(f"Logged model with ID '{model_id}' not found")
            rec, experiment_id = hit
            data = json.loads(rec.data)
            change(data)
            rec.data = json.dumps(data)
            return LoggedModelRecord(rec.run_id, experiment_id, data)

    def of_experiments(self, workspace: str, experiment_ids: Iterable[int]) -> list[LoggedModelRecord]:
        ids = list(set(experiment_ids))
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            rows = s.execute(select(Row.run_id, Row.data, RunRow.experiment_id)
                             .join(RunRow, RunRow.id == Row.run_id)
                             .where(RunRow.workspace_id == ws.id, RunRow.experiment_id.in_(ids)))
            return [LoggedModelRecord(r, e, json.loads(v)) for r, v, e in rows]

    def of_runs(self, run_ids: Iterable[str]) -> dict[str, list[str]]:
        """The model ids each run logged (MLflow's ``run.outputs.model_outputs``), oldest first."""
        ids = list(set(run_ids))
        found: dict[str, list[tuple[int, str]]] = {i: [] for i in ids}
        with self.db.read() as s:
            for start in range(0, len(ids), 500):
                for run_id, model_id, data in s.execute(select(Row.run_id, Row.model_id, Row.data)
                                                        .where(Row.run_id.in_(ids[start:start + 500]))):
                    found[run_id].append((int(json.loads(data).get("created", 0)), model_id))
        return {k: [m for _, m in sorted(v)] for k, v in found.items()}


class RegistryNames:
    """What MLflow's registry needs of model names beyond ``core/registry.py``: a name with no version yet
    (``registered-models/create`` before ``model-versions/create``) and renaming every version of a name."""

    def __init__(self, db: Store) -> None:
        self.db = db

    def ensure(self, workspace: str, name: str) -> bool:
        """Reserve the name (its version counter); False if it was there already."""
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            if s.get(ModelNameRow, (ws.id, name)) is not None or s.scalar(
                    select(ModelRow.id).where(ModelRow.workspace_id == ws.id, ModelRow.name == name).limit(1)):
                return False
            s.add(ModelNameRow(workspace_id=ws.id, name=name, last_version=0))
            return True

    def names(self, workspace: str) -> list[str]:
        """Every registered name: those with versions and those only reserved."""
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            found = set(s.scalars(select(ModelRow.name).where(ModelRow.workspace_id == ws.id)))
            found.update(s.scalars(select(ModelNameRow.name).where(ModelNameRow.workspace_id == ws.id)))
            return sorted(found)

    def exists(self, workspace: str, name: str) -> bool:
        return name in self.names(workspace)

    def forget(self, workspace: str, name: str) -> None:
        """Drop a name with no version left (its counter): MLflow's delete of a registered model."""
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            if s.scalar(select(ModelRow.id).where(ModelRow.workspace_id == ws.id, ModelRow.name == name).limit(1)):
                raise Conflict(f"model {name!r} still has versions")
            s.execute(delete(ModelNameRow).where(ModelNameRow.workspace_id == ws.id, ModelNameRow.name == name))

    def rename(self, workspace: str, name: str, new_name: str) -> None:
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            taken = s.get(ModelNameRow, (ws.id, new_name)) is not None or s.scalar(
                select(ModelRow.id).where(ModelRow.workspace_id == ws.id, ModelRow.name == new_name).limit(1))
            if taken:
                raise Conflict(f"Registered Model (name={new_name}) already exists.")
            s.execute(update(ModelRow).where(ModelRow.workspace_id == ws.id, ModelRow.name == name)
                      .values(name=new_name))
            s.execute(update(ModelNameRow).where(ModelNameRow.workspace_id == ws.id, ModelNameRow.name == name)
                      .values(name=new_name))


__all__ = ["FILES_PREFIX", "TAG_PREFIX", "LoggedModelRecord", "LoggedModels", "RegistryNames"]
