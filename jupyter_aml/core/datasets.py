"""Registered datasets: named, versioned definitions of data that stays where it is.

A version holds the definition (kind, paths as ``(datastore, glob)`` or http(s) URLs, reader options,
transformations) and a fingerprint of the files it pointed at when registered (names, sizes, mtimes or
ETags), never a copy. As in v1, a version *is* its definition: registering the definition of the latest
version again returns that version (and says whether its files changed since), a changed definition makes the
next version, and ``create_new_version=False`` on a registered name is a Conflict. The files are resolved
before anything is written, so a glob that matches nothing (or a store that refuses) leaves nothing behind.

The profile is computed once per version, on first request, by reading the data here, and kept with the
fingerprint it was computed on. Reading goes through jupyter_aml/data with the datastores' locations, which
``locations`` (the datastore registry) hands out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_aml.core import dataset_models as dm
from jupyter_aml.core.workspaces import WorkspaceService, utc, utcnow
from jupyter_aml.data import profile as profiling
from jupyter_aml.data import sources, transforms
from jupyter_aml.data.storage import StoreLocation
from jupyter_aml.data.tabular import ReaderOptions, read_table
from jupyter_aml.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from jupyter_aml.runtime.names import is_unregistered_dataset
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import DatasetRow, WorkspaceRow

LocationResolver = Callable[[str, str], StoreLocation]  # (workspace, datastore name) -> where its files are
# steps that keep the first rows first: a preview may stop reading after its rows
_PREFIX_STEPS = ("take", "keep_columns", "drop_columns")


def _no_datastores(workspace: str, name: str) -> StoreLocation:
    raise ServiceUnavailable(f"datastore {name!r}: this service has no datastore registry",
                             hint="datastore paths need the datastore service; use an http(s) URL")


def normalised(definition: dm.DatasetDefinition) -> dict[str, Any]:
    """The definition as stored and hashed; the reader options and steps are checked on the way."""
    body = definition.model_dump(mode="json")
    for path in body["paths"]:  # only where set: the definitions stored before it existed keep their hash
        if not path.get("optional"):
            path.pop("optional", None)
    sources.check_paths(body["paths"])
    if body["reader"] is not None:
        ReaderOptions.from_dict(body["reader"])
    transforms.check_steps(body["transformations"], kind=body["kind"])
    return body


class DatasetRegistry:
    def __init__(self, db: Store, locations: LocationResolver | None = None) -> None:
        self.db = db
        self.locations: LocationResolver = locations or _no_datastores

    # -- the data --------------------------------------------------------------------------------------------
    def resolve(self, workspace: str, definition: dict[str, Any]) -> list[sources.ResolvedFile]:
        """The files a definition points at now (NotFound naming a path that matches nothing)."""
        return sources.resolve(definition["paths"], lambda name: self.locations(workspace, name))

    def read(self, workspace: str, definition: dict[str, Any], *, limit: int | None = None,
             files: list[sources.ResolvedFile] | None = None) -> Any:
        """A tabular definition's data as a pyarrow Table, transformations applied (``files``: resolved already)."""
        if definition["kind"] != "tabular":
            raise InvalidInput("a file dataset has no table", hint="read its files: download or mount it")
        files = files if files is not None else self.resolve(workspace, definition)
        steps = definition["transformations"]
        prefix_only = all(step.get("op") in _PREFIX_STEPS for step in steps)
        # as to_pandas_dataframe's default (v1's on_error='null'): a value that does not convert is missing; a
        # row that does not parse still fails, naming the file and line
        table = read_table([f.source for f in files], ReaderOptions.from_dict(definition["reader"]),
                           limit=limit if prefix_only else None, on_error="null")
        table = transforms.apply_table(table, steps)
        return table.slice(0, limit) if limit is not None else table

    # -- registering -----------------------------------------------------------------------------------------
    def register(self, workspace: str, spec: dm.DatasetCreate, *, created_by: str = "") -> dm.Dataset:
        definition = normalised(spec.definition)
        digest = sources.definition_hash(definition)
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            latest = self._latest(s, ws.id, spec.name)
            if latest is not None and not spec.create_new_version:
                raise Conflict(
                    f"there is already a dataset registered under name {spec.name!r} (version {latest.version})",
                    hint="register with create_new_version=True to make a new version of it",
                )
        files = transforms.apply_list(self.resolve(workspace, definition), definition["transformations"]) \
            if definition["kind"] == "file" else self.resolve(workspace, definition)
        fingerprint = sources.fingerprint(files)
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            latest = self._latest(s, ws.id, spec.name)
            if latest is not None and not spec.create_new_version:
                raise Conflict(f"dataset {spec.name!r} was registered meanwhile",
                               hint="register with create_new_version=True")
            if latest is not None and latest.definition_sha256 == digest:
                return self._model(ws, latest, existing=True, data_changed=latest.fingerprint != fingerprint)
            row = DatasetRow(
                id=str(uuid.uuid4()), workspace_id=ws.id, name=spec.name,
                version=(latest.version + 1) if latest is not None else 1, kind=definition["kind"],
                definition=definition, definition_sha256=digest, fingerprint=fingerprint, file_count=len(files),
                total_size=sum(f.info.size for f in files), description=spec.description, tags=dict(spec.tags),
                created_by=created_by, created_at=utcnow(),
            )
            s.add(row)
            try:
                s.flush()
            except IntegrityError:
                raise Conflict(f"another version of dataset {spec.name!r} was registered at the same time",
                               hint="register again") from None
            return self._model(ws, row)

    # -- reading ---------------------------------------------------------------------------------------------
    @staticmethod
    def _latest(s: Session, workspace_id: int, name: str) -> DatasetRow | None:
        return s.scalar(select(DatasetRow).where(DatasetRow.workspace_id == workspace_id, DatasetRow.name == name)
                        .order_by(DatasetRow.version.desc()).limit(1))

    @classmethod
    def row(cls, s: Session, ws: WorkspaceRow, name: str, version: int | None = None) -> DatasetRow:
        query = select(DatasetRow).where(DatasetRow.workspace_id == ws.id, DatasetRow.name == name)
        if version is not None:
            query = query.where(DatasetRow.version == version)
        row = s.scalar(query.order_by(DatasetRow.version.desc()).limit(1))
        if row is None:
            what = f"dataset {name!r}" + (f" version {version}" if version is not None else "")
            raise NotFound(f"{what} is not registered in workspace {ws.name!r}",
                           hint="list datasets with `aml dataset list`")
        return row

    @staticmethod
    def _model(ws: WorkspaceRow, row: DatasetRow, *, existing: bool = False, data_changed: bool = False) -> dm.Dataset:
        return dm.Dataset(
            id=row.id, name=row.name, version=row.version, workspace=ws.name, kind=row.kind,  # type: ignore[arg-type]
            definition=dm.DatasetDefinition.model_validate(row.definition), description=row.description,
            tags=dict(row.tags or {}), fingerprint=row.fingerprint, file_count=row.file_count,
            total_size=row.total_size, created_by=row.created_by, created_at=utc(row.created_at),
            existing=existing, data_changed=data_changed,
        )

    def get(self, workspace: str, name: str, version: int | None = None) -> dm.Dataset:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            return self._model(ws, self.row(s, ws, name, version))

    def get_by_id(self, workspace: str, dataset_id: str) -> dm.Dataset:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            row = s.scalar(select(DatasetRow).where(DatasetRow.workspace_id == ws.id, DatasetRow.id == dataset_id))
            if row is None:
                raise NotFound(f"no dataset with id {dataset_id!r} in workspace {ws.name!r}",
                               hint="list datasets with `aml dataset list`")
            return self._model(ws, row)

    def latest(self, workspace: str) -> list[dm.Dataset]:
        """The latest version of every registered name, by name (not the datasets runs saved unregistered:
        v1 lists registered datasets only; those stay reachable by id and in lineage)."""
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            newest = (select(DatasetRow.name, func.max(DatasetRow.version).label("v"))
                      .where(DatasetRow.workspace_id == ws.id).group_by(DatasetRow.name).subquery())
            rows = s.scalars(select(DatasetRow).join(newest, (DatasetRow.name == newest.c.name)
                                                     & (DatasetRow.version == newest.c.v))
                             .where(DatasetRow.workspace_id == ws.id).order_by(DatasetRow.name))
            return [self._model(ws, r) for r in rows if not is_unregistered_dataset(r.name)]

    def versions(self, workspace: str, name: str) -> list[dm.Dataset]:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            self.row(s, ws, name)
            rows = s.scalars(select(DatasetRow).where(DatasetRow.workspace_id == ws.id, DatasetRow.name == name)
                             .order_by(DatasetRow.version.desc()))
            return [self._model(ws, r) for r in rows]

    # -- profile and preview ----------------------------------------------------------------------------
    def profile(self, workspace: str, name: str, version: int | None = None) -> dm.DatasetProfile:
        """The version's profile: computed on first request from the data, then kept."""
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            row = self.row(s, ws, name, version)
            if row.kind != "tabular":
                raise InvalidInput(f"dataset {name!r} is a file dataset: only tabular datasets have a profile")
            dataset_id, definition, kept = row.id, row.definition, row.profile
            if kept is not None:
                return self._profile(row, kept)
        files = self.resolve(workspace, definition)
        computed = profiling.profile(self.read(workspace, definition, files=files))
        with self.db.session() as s:
            stored = s.get(DatasetRow, dataset_id)
            if stored is None:
                raise NotFound(f"dataset {name!r} was unregistered while its profile was computed")
            if stored.profile is None:
                stored.profile, stored.profiled_at = computed, utcnow()
                stored.profile_fingerprint = sources.fingerprint(files)
            s.flush()
            return self._profile(stored, stored.profile)

    @staticmethod
    def _profile(row: DatasetRow, body: dict[str, Any]) -> dm.DatasetProfile:
        return dm.DatasetProfile(
            name=row.name, version=row.version, row_count=body["row_count"], column_count=body["column_count"],
            columns=[dm.ColumnProfile(**c) for c in body["columns"]], fingerprint=row.profile_fingerprint or "",
            computed_at=utc(row.profiled_at or row.created_at),
        )

    def preview(self, workspace: str, name: str, version: int | None = None, *, rows: int = 20) -> dm.DatasetPreview:
        if not 1 <= rows <= dm.MAX_PREVIEW_ROWS:
            raise InvalidInput(f"a preview has 1 to {dm.MAX_PREVIEW_ROWS} rows, not {rows}")
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            row = self.row(s, ws, name, version)
            definition, number = row.definition, row.version
        if definition["kind"] == "file":
            files = transforms.apply_list(self.resolve(workspace, definition), definition["transformations"])
            body: dict[str, Any] = {
                "columns": [{"name": "Path", "type": "string"}, {"name": "Size", "type": "long"}],
                "rows": [[f.display, f.info.size] for f in files[:rows]], "row_count": min(rows, len(files)),
            }
        else:
            body = profiling.preview(self.read(workspace, definition, limit=rows), rows)
        return dm.DatasetPreview(name=name, version=number, **body)

    def update(self, workspace: str, name: str, version: int | None, spec: dm.DatasetUpdate) -> dm.Dataset:
        """The version's description and tags, changed in place; its definition stays."""
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            row = self.row(s, ws, name, version)
            tags = dict(spec.tags) if spec.tags is not None else dict(row.tags or {})
            tags.update(spec.add_tags)
            for key in spec.remove_tags:
                tags.pop(key, None)
            row.tags = tags
            if spec.description is not None:
                row.description = spec.description
            s.flush()
            return self._model(ws, row)

    # -- unregistering ----------------------------------------------------------------------------------------
    def delete(self, workspace: str, name: str) -> dm.DatasetDeleted:
        """v1's ``unregister_all_versions``: the registrations go, the data stays where it is."""
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            self.row(s, ws, name)
            gone = s.execute(delete(DatasetRow).where(DatasetRow.workspace_id == ws.id, DatasetRow.name == name))
            return dm.DatasetDeleted(deleted=name, versions=int(getattr(gone, "rowcount", 0) or 0))
