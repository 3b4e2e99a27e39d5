"""MLflow's run inputs (``runs/log-inputs``): the datasets and logged models a run read.

An MLflow dataset is a description: ``mlflow.data.from_pandas(df, name=...)`` sends a name, a digest of the
frame, its source (``{"tags": {...}}`` for code, a path, a table), a schema and a profile, and the input's tags
(``mlflow.data.context``: training, eval, ...). There are no files to point a registered dataset at, so these
are kept beside the run (``mlflow_run_inputs``), as MLflow's store keeps them, deduplicated by (name, digest)
per run with the first input's tags kept. The workspace's own lineage fits the other way round: a v1 run's
registered input datasets (``run.input_datasets``, ``dataset_runs``) are shown to MLflow as its dataset
inputs too, read-only, with source type ``aml_dataset`` and the named input as the context tag.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from jupyter_aml.core.run_views import RunReader
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import DatasetRow, DatasetRunRow, WorkspaceRow
from jupyter_aml.store.tables_mlflow import MlflowRunInputRow

CONTEXT_TAG = "mlflow.data.context"
AML_SOURCE_TYPE = "aml_dataset"


@dataclass(frozen=True)
class DatasetInput:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class RunInputs:
    datasets: list[DatasetInput] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


class MlflowInputs:
    def __init__(self, db: Store) -> None:
        self.db = db

    def log(self, workspace: str, run_id: str, datasets: Sequence[DatasetInput], models: Sequence[str]) -> None:
        """Add the inputs in one transaction; one already there (same name and digest, or model) stays as it is."""
        with self.db.session() as s:
            run = RunReader.row(s, workspace, run_id)
            have = {(r.kind, r.name, r.digest) for r in s.scalars(
                select(MlflowRunInputRow).where(MlflowRunInputRow.run_id == run.id))}
            for d in datasets:
                if ("dataset", d.name, d.digest) in have:
                    continue
                have.add(("dataset", d.name, d.digest))
                s.add(MlflowRunInputRow(run_id=run.id, kind="dataset", name=d.name, digest=d.digest,
                                        source_type=d.source_type, source=d.source, dataset_schema=d.schema,
                                        profile=d.profile, tags=dict(d.tags)))
            for model_id in models:
                if ("model", model_id, "") not in have:
                    have.add(("model", model_id, ""))
                    s.add(MlflowRunInputRow(run_id=run.id, kind="model", name=model_id, digest="", source_type="",
                                            source="", tags={}))

    def of_runs(self, run_ids: Iterable[str]) -> dict[str, RunInputs]:
        """Each run's inputs: MLflow's, in the order logged, then its registered v1 input datasets."""
        ids = list(set(run_ids))
        out = {i: RunInputs() for i in ids}
        with self.db.read() as s:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for r in s.scalars(select(MlflowRunInputRow).where(MlflowRunInputRow.run_id.in_(chunk))
                                   .order_by(MlflowRunInputRow.id)):
                    if r.kind == "model":
                        out[r.run_id].models.append(r.name)
                    else:
                        out[r.run_id].datasets.append(DatasetInput(r.name, r.digest, r.source_type, r.source,
                                                                   r.dataset_schema, r.profile, dict(r.tags)))
                rows = s.execute(select(DatasetRunRow.run_id, DatasetRunRow.name, DatasetRow, WorkspaceRow.name)
                                 .join(DatasetRow, DatasetRow.id == DatasetRunRow.dataset_id)
                                 .join(WorkspaceRow, WorkspaceRow.id == DatasetRow.workspace_id)
                                 .where(DatasetRunRow.run_id.in_(chunk), DatasetRunRow.direction == "input")
                                 .order_by(DatasetRunRow.name))
                for run_id, input_name, ds, ws_name in rows:
                    out[run_id].datasets.append(_from_registered(ds, ws_name, input_name))
        return out


def _from_registered(ds: DatasetRow, workspace: str, input_name: str) -> DatasetInput:
    """A v1 run's registered input dataset as MLflow describes a dataset (its files' fingerprint as digest)."""
    source = {"workspace": workspace, "name": ds.name, "version": ds.version, "id": ds.id}
    profile = {"kind": ds.kind, "file_count": ds.file_count, "total_size": ds.total_size}
    return DatasetInput(name=ds.name, digest=ds.fingerprint[:8], source_type=AML_SOURCE_TYPE,
                        source=json.dumps(source), profile=json.dumps(profile), tags={CONTEXT_TAG: input_name})


__all__ = ["AML_SOURCE_TYPE", "CONTEXT_TAG", "DatasetInput", "MlflowInputs", "RunInputs"]
