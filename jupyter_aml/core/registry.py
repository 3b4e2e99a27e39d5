"""The model registry: named, auto-versioned models, each a logical container of content-addressed files.

A model is registered from uploaded blobs or, by reference, from a run's files (which are already blobs),
recording the run as its lineage. Versions are never reused: a per-name counter only goes up. A version
that an active web service uses cannot be deleted.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session

from jupyter_aml.core import registry_models as rm
from jupyter_aml.core.events import EventSink, ModelEvent, discard
from jupyter_aml.core.models import RunFile
from jupyter_aml.core.numbers import MAX_VERSION, parse_int
from jupyter_aml.core.runs import RunService
from jupyter_aml.core.workspaces import WorkspaceService, utc, utcnow
from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.snapshot.paths import validate_relpath
from jupyter_aml.store.blobs import BlobStore
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import (
    DeploymentModelRow,
    DeploymentRow,
    ExperimentRow,
    ModelFileRow,
    ModelNameRow,
    ModelPropertyRow,
    ModelRow,
    ModelTagRow,
    RunFileRow,
    RunRow,
    WorkspaceRow,
)

MAX_SAMPLE_INPUT = rm.MAX_SAMPLE_INPUT


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``"name:3"`` -> ("name", 3); ``"name"`` -> ("name", None) meaning the latest version."""
    name, sep, version = ref.rpartition(":")
    if not sep:
        return ref, None
    return name, parse_int(version, f"the version in model reference {ref!r}", minimum=1,
                           maximum=MAX_VERSION, hint="use NAME or NAME:VERSION, e.g. digits:2")


def _kv(spec: str) -> tuple[str, str | None]:
    key, sep, value = spec.partition("=")
    if not key:
        raise InvalidInput(f"filter {spec!r} names no key", hint="use key or key=value")
    return key, (value if sep else None)


def _model_root(paths: Sequence[str], given: str | None) -> str:
    if given is not None:
        root = validate_relpath(given.rstrip("/")) if given.strip("/") else ""
        for p in paths:
            if root and p != root and not p.startswith(root + "/"):
                raise InvalidInput(f"file {p!r} is not inside the model path {root!r}")
        return root
    if len(paths) == 1:
        return paths[0]
    tops = {p.split("/", 1)[0] for p in paths}
    if len(tops) == 1 and all("/" in p for p in paths):
        return tops.pop()
    raise InvalidInput("a model of several files needs a folder", hint="register the folder that holds them")


class ModelRegistry:
    def __init__(self, db: Store, blobs: BlobStore, events: EventSink = discard) -> None:
        self.db = db
        self.blobs = blobs
        self.events = events

    def _changed(
        self, workspace: str, name: str, version: int, action: Literal["registered", "updated", "deleted"]
    ) -> None:
        """Tell the push channel (after the commit) so that open panels refetch the model."""
        self.events(workspace, ModelEvent(action=action, name=name, version=version))

    # -- registering ----------------------------------------------------------------------------------------
    def register(self, workspace: str, spec: rm.ModelCreate, *, created_by: str = "") -> rm.Model:
        if (spec.files is None) == (spec.run_id is None):
            raise InvalidInput(
                "register a model from uploaded files or from a run's files, not both or neither",
                hint="send files=[...] or run_id + run_path",
            )
        self._check_sample(spec.sample_input)
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            run_id = experiment = None
            if spec.run_id is not None:
                files, root = self._run_files(s, workspace, spec.run_id, spec.run_path)
                run = RunService.row(s, workspace, spec.run_id)
                run_id = run.id
                experiment = s.scalar(select(ExperimentRow.name).where(ExperimentRow.id == run.experiment_id))
            else:
                files = self._uploaded_files(spec.files or [])
                root = _model_root([f.path for f in files], spec.path)
            version = self._next_version(s, ws.id, spec.name)
            row = ModelRow(
                workspace_id=ws.id,
                name=spec.name,
                version=version,
                path=root,
                description=spec.description,
                framework=spec.framework,
                framework_version=spec.framework_version,
                sample_input=spec.sample_input,
                run_id=run_id,
                experiment=experiment,
                created_by=created_by,
                created_at=utcnow(),
                file_count=len(files),
                total_size=sum(f.size for f in files),
            )
            s.add(row)
            s.flush()
            s.add_all(ModelFileRow(model_id=row.id, path=f.path, sha256=f.sha256, size=f.size) for f in files)
            s.add_all(ModelTagRow(model_id=row.id, key=k, value=v) for k, v in spec.tags.items())
            s.add_all(ModelPropertyRow(model_id=row.id, key=k, value=v) for k, v in spec.properties.items())
            s.flush()
            model = self.to_models(s, ws, [row])[0]
        self._changed(workspace, model.name, model.version, "registered")
        return model

    @staticmethod
    def _check_sample(sample: Any) -> None:
        if sample is None:
            return
        try:
            size = len(json.dumps(sample))
        except (TypeError, ValueError):
            raise InvalidInput("sample_input must be JSON data", hint="e.g. {'data': [[0.0, 1.0]]}") from None
        if size > MAX_SAMPLE_INPUT:
            raise InvalidInput(f"sample_input is {size} bytes of JSON; the limit is {MAX_SAMPLE_INPUT}")

    def _uploaded_files(self, files: Sequence[rm.ModelFile]) -> list[rm.ModelFile]:
        if not files:
            raise InvalidInput("a model needs at least one file")
        clean = [f.model_copy(update={"path": validate_relpath(f.path)}) for f in files]
        if len({f.path for f in clean}) != len(clean):
            raise InvalidInput("the model lists a path twice")
        missing = self.blobs.missing(f.sha256 for f in clean)
        if missing:
            raise InvalidInput(
                f"{len(missing)} model file blobs are not uploaded, e.g. {missing[0]}",
                hint="upload the blobs (POST blobs/missing, PUT blobs/{sha256}) first",
            )
        for f in clean:
            if self.blobs.size(f.sha256) != f.size:
                raise InvalidInput(f"file {f.path!r} declares {f.size} bytes but its blob has another size")
        return clean

    def _run_files(
        self, s: Session, workspace: str, run_id: str, run_path: str | None
    ) -> tuple[list[rm.ModelFile], str]:
        if not run_path or not run_path.strip("/"):
            raise InvalidInput("model_path names no file or folder of the run", hint="e.g. outputs/model.pkl")
        RunService.row(s, workspace, run_id)
        want = validate_relpath(run_path.rstrip("/"))
        rows = list(
            s.scalars(
                select(RunFileRow)
                .where(RunFileRow.run_id == run_id)
                .where((RunFileRow.path == want) | RunFileRow.path.startswith(want + "/"))
                .order_by(RunFileRow.path)
            )
        )
        if not rows:
            names = list(s.scalars(select(RunFileRow.path).where(RunFileRow.run_id == run_id).limit(10)))
            raise NotFound(
                f"run {run_id!r} has no file or folder {want!r}",
                hint=("its files include: " + ", ".join(names)) if names else "the run has no files yet",
            )
        base = posixpath.dirname(want)
        cut = len(base) + 1 if base else 0
        files = [rm.ModelFile(path=r.path[cut:], sha256=r.sha256, size=r.size) for r in rows]
        return files, posixpath.basename(want)

    @staticmethod
    def _next_version(s: Session, workspace_id: int, name: str) -> int:
        key = (workspace_id, name)
        counter = s.get(ModelNameRow, key)
        if counter is None:
            latest = s.scalar(
                select(ModelRow.version)
                .where(ModelRow.workspace_id == workspace_id, ModelRow.name == name)
                .order_by(ModelRow.version.desc())
                .limit(1)
            )
            s.add(ModelNameRow(workspace_id=workspace_id, name=name, last_version=latest or 0))
            s.flush()
        s.execute(
            update(ModelNameRow)
            .where(ModelNameRow.workspace_id == workspace_id, ModelNameRow.name == name)
            .values(last_version=ModelNameRow.last_version + 1)
        )
        version = s.scalar(
            select(ModelNameRow.last_version).where(
                ModelNameRow.workspace_id == workspace_id, ModelNameRow.name == name
            )
        )
        assert version is not None
        return int(version)

    # -- reading --------------------------------------------------------------------------------------------
    @staticmethod
    def row(s: Session, ws: WorkspaceRow, name: str, version: int | None = None) -> ModelRow:
        query = select(ModelRow).where(ModelRow.workspace_id == ws.id, ModelRow.name == name)
        if version is not None:
            query = query.where(ModelRow.version == version)
        row = s.scalar(query.order_by(ModelRow.version.desc()).limit(1))
        if row is None:
            what = f"model {name!r}" + (f" version {version}" if version is not None else "")
            raise NotFound(f"{what} not found in workspace {ws.name!r}", hint="list models with `aml model list`")
        return row

    @staticmethod
    def row_by_ref(s: Session, ws: WorkspaceRow, ref: str) -> ModelRow:
        name, version = parse_ref(ref)
        return ModelRegistry.row(s, ws, name, version)

    def get(self, workspace: str, name: str, version: int | None = None) -> rm.Model:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            return self.to_models(s, ws, [self.row(s, ws, name, version)])[0]

    def find(
        self,
        workspace: str,
        *,
        name: str | None = None,
        tags: Sequence[str] = (),
        properties: Sequence[str] = (),
        run_id: str | None = None,
        latest: bool = False,
        limit: int = 1000,
    ) -> list[rm.Model]:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            query = select(ModelRow).where(ModelRow.workspace_id == ws.id)
            if name:
                query = query.where(ModelRow.name == name)
            if run_id:
                query = query.where(ModelRow.run_id == run_id)
            for table, specs in ((ModelTagRow, tags), (ModelPropertyRow, properties)):
                for spec in specs:
                    key, value = _kv(spec)
                    cond = and_(table.model_id == ModelRow.id, table.key == key)
                    if value is not None:
                        cond = and_(cond, table.value == value)
                    query = query.where(exists().where(cond))
            rows = list(s.scalars(query.order_by(ModelRow.name, ModelRow.version.desc()).limit(max(1, limit))))
            if latest:
                seen: set[str] = set()
                rows = [r for r in rows if not (r.name in seen or seen.add(r.name))]  # type: ignore[func-returns-value]
            return self.to_models(s, ws, rows)

    def files(self, workspace: str, name: str, version: int | None = None) -> list[RunFile]:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            row = self.row(s, ws, name, version)
            return self.file_list(s, row.id)

    @staticmethod
    def file_list(s: Session, model_id: int) -> list[RunFile]:
        rows = s.scalars(select(ModelFileRow).where(ModelFileRow.model_id == model_id).order_by(ModelFileRow.path))
        return [RunFile(path=r.path, sha256=r.sha256, size=r.size) for r in rows]

    def to_models(self, s: Session, ws: WorkspaceRow, rows: Sequence[ModelRow]) -> list[rm.Model]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        props: dict[int, dict[str, str]] = {i: {} for i in ids}
        for t in s.scalars(select(ModelTagRow).where(ModelTagRow.model_id.in_(ids))):
            tags[t.model_id][t.key] = t.value
        for p in s.scalars(select(ModelPropertyRow).where(ModelPropertyRow.model_id.in_(ids))):
            props[p.model_id][p.key] = p.value
        users: dict[int, list[str]] = {i: [] for i in ids}
        for model_id, service in s.execute(
            select(DeploymentModelRow.model_id, DeploymentRow.name)
            .join(DeploymentRow, DeploymentRow.id == DeploymentModelRow.deployment_id)
            .where(DeploymentModelRow.model_id.in_(ids))
            .order_by(DeploymentRow.name)
        ):
            users[model_id].append(service)
        run_ids = {r.run_id for r in rows if r.run_id}
        shown: dict[str, str] = {}
        if run_ids:
            shown = {i: n for i, n in s.execute(select(RunRow.id, RunRow.display_number).where(RunRow.id.in_(run_ids)))}
        return [
            rm.Model(
                id=f"{r.name}:{r.version}",
                name=r.name,
                version=r.version,
                workspace=ws.name,
                path=r.path,
                description=r.description,
                framework=r.framework,
                framework_version=r.framework_version,
                sample_input=r.sample_input,
                run_id=r.run_id,
                run_number=shown.get(r.run_id) if r.run_id else None,
                experiment=r.experiment,
                created_by=r.created_by,
                created_at=utc(r.created_at),
                file_count=r.file_count,
                total_size=r.total_size,
                tags=tags[r.id],
                properties=props[r.id],
                deployments=users[r.id],
            )
            for r in rows
        ]

    # -- changing -------------------------------------------------------------------------------------------
    def update(self, workspace: str, name: str, version: int, spec: rm.ModelUpdate) -> rm.Model:
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            row = self.row(s, ws, name, version)
            if spec.description is not None:
                row.description = spec.description
            for key in spec.remove_tags:
                tag = s.get(ModelTagRow, (row.id, key))
                if tag is not None:
                    s.delete(tag)
            for key, value in (spec.tags or {}).items():
                tag = s.get(ModelTagRow, (row.id, key))
                if tag is None:
                    s.add(ModelTagRow(model_id=row.id, key=key, value=value))
                else:
                    tag.value = value
            for key, value in (spec.properties or {}).items():
                prop = s.get(ModelPropertyRow, (row.id, key))
                if prop is None:
                    s.add(ModelPropertyRow(model_id=row.id, key=key, value=value))
                elif prop.value != value:
                    raise Conflict(
                        f"property {key!r} of model {name}:{version} is already {prop.value!r}",
                        hint="properties are add-only; use a tag for values that change",
                    )
            s.flush()
            model = self.to_models(s, ws, [row])[0]
        self._changed(workspace, name, version, "updated")
        return model

    def delete(self, workspace: str, name: str, version: int) -> None:
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            row = self.row(s, ws, name, version)
            users = list(
                s.scalars(
                    select(DeploymentRow.name)
                    .join(DeploymentModelRow, DeploymentModelRow.deployment_id == DeploymentRow.id)
                    .where(DeploymentModelRow.model_id == row.id)
                    .order_by(DeploymentRow.name)
                )
            )
            if users:
                raise Conflict(
                    f"model {name}:{version} is used by the active deployment(s) {', '.join(users)}",
                    hint="delete those web services, or update them to another model version, first",
                    details={"deployments": users},
                )
            s.delete(row)
        self._changed(workspace, name, version, "deleted")
