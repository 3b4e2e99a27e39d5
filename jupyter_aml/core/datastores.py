"""Datastores: named connections to storage, per workspace, with their credentials in the workspace's key vault.

A datastore's record (``datastores`` table) says where its files are and never how to get in: credentials
(an S3 key pair, an Azure account key or SAS token) are one key-vault secret per datastore,
``datastore-<name>``, so they are sealed at rest, never returned by a route and every read of them is in the
activity log. Every kind is reached through the one fsspec layer (``jupyter_aml.data.storage``):

- ``workspaceblobstore``: the workspace's own storage, ``<root>/datastores/<workspace>/workspaceblobstore``,
  made on first use and the default until another is set (v1's default datastore);
- ``local``: an existing absolute folder on the service's machine (never the service's root or a folder that
  holds it: that would hand out the master key);
- ``s3``: an S3-compatible bucket (AWS, MinIO, Ceph...) through s3fs;
- ``azure_blob``: an Azure Blob container through adlfs, refused with the package to install while it is not.

Registering lists the store once first (unless ``skip_validation``): wrong credentials or a wrong address fail
then, with an error naming the datastore and never the secret, and leave nothing behind (no row, no secret).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_aml.core import datastore_models as dm
from jupyter_aml.core.roots import make_private_dir
from jupyter_aml.core.workspaces import WorkspaceService, utc, utcnow
from jupyter_aml.data import storage
from jupyter_aml.data.storage import StoreLocation
from jupyter_aml.errors import AMLError, Conflict, InvalidInput, NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import DatastoreRow, WorkspaceRow

SECRET_PREFIX = "datastore-"


class Vault(Protocol):
    """What datastores use of the key vault (core/keyvault.py)."""

    def set_secret(self, workspace: str, name: str, value: str, *, actor: str | None = None) -> None: ...
    def get_secret(self, workspace: str, name: str, *, actor: str | None = None) -> str: ...
    def delete_secret(self, workspace: str, name: str, *, actor: str | None = None) -> None: ...
    def exists(self, workspace: str, name: str) -> bool: ...


def secret_name(datastore: str) -> str:
    """The key-vault secret holding a datastore's credentials. Datastore names have no '-' and vault names no
    '_', so mapping one to the other keeps names apart; both are case-insensitive."""
    return SECRET_PREFIX + datastore.lower().replace("_", "-")


def datastore_not_found(workspace: str, name: str, known: list[str]) -> NotFound:
    return NotFound(f"datastore {name!r} not found in workspace {workspace!r}",
                    hint=("registered datastores: " + ", ".join(sorted(known))) if known else
                    "register one with Datastore.register_s3(...) / register_local(...) or `aml datastore register`")


@dataclass(frozen=True)
class _Spec:
    """A registration split into what the record keeps and what the key vault keeps."""

    config: dict[str, Any]
    credentials: dict[str, str]


def _split(spec: dm.AnyDatastoreCreate) -> _Spec:
    config: dict[str, Any] = {}
    credentials: dict[str, str] = {}
    for field in dm.KIND_FIELDS[spec.kind]:
        value = getattr(spec, field)
        if value is None:
            continue
        if field in dm.CREDENTIAL_FIELDS:
            credentials[field] = value.get_secret_value()
        else:
            config[field] = value
    if spec.kind == "local":
        config["path"] = str(Path(config["path"]))
    if spec.kind == "s3" and config.get("prefix"):
        config["prefix"] = "/".join(p for p in str(config["prefix"]).split("/") if p)
        storage.resolve(StoreLocation("s3", "bucket", {}), config["prefix"])  # no '..' in the prefix either
    return _Spec(config, credentials)


def location_of(kind: str, config: dict[str, Any], credentials: dict[str, str], blob_root: Path) -> StoreLocation:
    """The fsspec location of a datastore from its record and its credentials."""
    if kind == "workspaceblobstore":
        return StoreLocation("file", str(blob_root), {})
    if kind == "local":
        return StoreLocation("file", str(config["path"]), {})
    if kind == "s3":
        root = str(config["bucket_name"]) + (f"/{config['prefix']}" if config.get("prefix") else "")
        options: dict[str, Any] = {}
        if credentials:
            options.update(key=credentials["access_key_id"], secret=credentials["secret_access_key"])
        else:
            options["anon"] = True
        if config.get("endpoint_url"):
            options["endpoint_url"] = config["endpoint_url"]
        if config.get("region"):
            options["client_kwargs"] = {"region_name": config["region"]}
        return StoreLocation("s3", root, options)
    if kind == "azure_blob":
        account = str(config["account_name"])
        options = {"account_name": account}
        if config.get("endpoint") or config.get("protocol"):
            options["account_host"] = f"{account}.blob.{config.get('endpoint') or 'core.windows.net'}"
        if config.get("protocol") == "http":
            raise InvalidInput("an Azure Blob datastore over plain http is not supported here",
                               hint="use protocol='https' (the default)")
        options.update(credentials)  # account_key or sas_token (adlfs's own option names)
        if not credentials:
            options["anon"] = True
        return StoreLocation("abfs", str(config["container_name"]), options)
    raise InvalidInput(f"unknown datastore kind {kind!r}")


def _named(exc: AMLError, name: str) -> AMLError:
    """The storage layer's error, prefixed with the datastore it was about (its message holds no secret)."""
    exc.message = f"datastore {name!r} was not registered: {exc.message}"
    exc.args = (exc.message,)
    return exc


class DatastoreService:
    def __init__(self, db: Store, vault: Vault, root: Path, *, on_change: Callable[[str], None] | None = None) -> None:
        self.db = db
        self.vault = vault
        self.root = root
        self._on_change = on_change

    # -- the workspace's own store ------------------------------------------------------------------------
    def blob_root(self, workspace: str) -> Path:
        return self.root / "datastores" / workspace / dm.WORKSPACE_BLOB_STORE

    def _blob_folder(self, workspace: str) -> Path:
        folder = self.blob_root(workspace)
        make_private_dir(folder.parent.parent)
        make_private_dir(folder.parent)
        make_private_dir(folder)
        return folder

    @staticmethod
    def _builtin(ws: WorkspaceRow, *, default: bool) -> DatastoreRow:
        """workspaceblobstore as it is before its record is written (by the first write to the workspace's
        datastores): reads never write, so they never wait for the database's writer."""
        return DatastoreRow(workspace_id=ws.id, name=dm.WORKSPACE_BLOB_STORE, name_key=dm.WORKSPACE_BLOB_STORE,
                            kind="workspaceblobstore", config={}, has_secret=False, is_default=default,
                            description="the workspace's own storage", created_by="jupyter-aml",
                            created_at=ws.created_at)

    def _ensure_builtin(self, workspace: str) -> None:
        """Before a write: workspaceblobstore's record (the default if none is set)."""
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            if s.scalar(select(DatastoreRow.id).where(DatastoreRow.workspace_id == ws.id,
                                                      DatastoreRow.name_key == dm.WORKSPACE_BLOB_STORE)):
                return
        self._blob_folder(workspace)
        try:
            with self.db.session() as s:
                ws = WorkspaceService.row(s, workspace)
                has_default = s.scalar(select(DatastoreRow.id).where(DatastoreRow.workspace_id == ws.id,
                                                                     DatastoreRow.is_default.is_(True)))
                row = self._builtin(ws, default=not has_default)
                row.created_at = utcnow()
                s.add(row)
        except IntegrityError:
            pass  # made by a concurrent first use

    # -- reads: never a write -----------------------------------------------------------------------------
    def list(self, workspace: str) -> dm.DatastoreList:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            rows = list(s.scalars(select(DatastoreRow).where(DatastoreRow.workspace_id == ws.id)))
            if not any(r.name_key == dm.WORKSPACE_BLOB_STORE for r in rows):
                rows.append(self._builtin(ws, default=not any(r.is_default for r in rows)))
            items = [self._model(workspace, r) for r in sorted(rows, key=lambda r: r.name_key)]
        default = next((d.name for d in items if d.is_default), dm.WORKSPACE_BLOB_STORE)
        return dm.DatastoreList(items=items, default=default)

    def get(self, workspace: str, name: str) -> dm.Datastore:
        with self.db.read() as s:
            return self._model(workspace, self._row(s, workspace, name, builtin=True))

    def default(self, workspace: str) -> dm.Datastore:
        listing = self.list(workspace)
        return next(d for d in listing.items if d.name == listing.default)

    def location(self, workspace: str, name: str, *, actor: str | None = None) -> StoreLocation:
        """The fsspec location with credentials: a key-vault read (recorded there, as ``actor``) when the
        datastore has any."""
        with self.db.read() as s:
            row = self._row(s, workspace, name, builtin=True)
            kind, config, has_secret, real_name = row.kind, dict(row.config), row.has_secret, row.name
        if kind == "workspaceblobstore":
            self._blob_folder(workspace)
        credentials: dict[str, str] = {}
        if has_secret:
            try:
                credentials = json.loads(self.vault.get_secret(workspace, secret_name(real_name), actor=actor))
            except NotFound:
                raise NotFound(f"the credentials of datastore {real_name!r} are missing from the key vault of "
                               f"workspace {workspace!r}", hint="register the datastore again with overwrite=True "
                               "and its credentials") from None
        return location_of(kind, config, credentials, self.blob_root(workspace))

    def storage_location(self, workspace: str, name: str, *, actor: str | None = None) -> dm.StorageLocation:
        ds = self.get(workspace, name)
        loc = self.location(workspace, name, actor=actor)
        return dm.StorageLocation(name=ds.name, protocol=loc.protocol, root=loc.root, options=loc.options,
                                  reachable_from="service-host" if loc.protocol == "file" else "anywhere")

    # -- writes -------------------------------------------------------------------------------------------
    def register(self, workspace: str, body: dm.DatastoreCreate | dm.AnyDatastoreCreate, *,
                 actor: str) -> dm.Datastore:
        spec = body.root if isinstance(body, dm.DatastoreCreate) else body
        key = spec.name.lower()
        if key == dm.WORKSPACE_BLOB_STORE:
            raise Conflict(f"{dm.WORKSPACE_BLOB_STORE} is the workspace's own storage and cannot be registered",
                           hint="pick another name for your datastore")
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            existing = s.scalar(select(DatastoreRow).where(DatastoreRow.workspace_id == ws.id,
                                                           DatastoreRow.name_key == key))
            old = (existing.name, existing.has_secret) if existing is not None else None
        if old is not None and not spec.overwrite:
            raise Conflict(f"datastore {old[0]!r} already exists in workspace {workspace!r}",
                           hint="pass overwrite=True to replace it, or pick another name")
        parts = _split(spec)
        loc = location_of(spec.kind, parts.config, parts.credentials, self.blob_root(workspace))
        try:
            self._validate(spec, loc)
        except AMLError as exc:
            raise _named(exc, spec.name) from None
        secret = secret_name(spec.name)
        if old is None and self.vault.exists(workspace, secret):
            raise Conflict(f"the key vault of workspace {workspace!r} already holds a secret {secret!r} that no "
                           "datastore owns",
                           hint=f"delete that secret or pick another datastore name than {spec.name!r}")
        self._ensure_builtin(workspace)  # the store checked out: now the workspace's datastores are written
        if parts.credentials:
            self.vault.set_secret(workspace, secret, json.dumps(parts.credentials), actor=actor)
        try:
            model = self._write(workspace, spec, parts, replace=old is not None, actor=actor)
        except BaseException:
            if parts.credentials and old is None:
                self._forget_secret(workspace, secret, actor)
            raise
        if old is not None and old[1] and not parts.credentials:
            self._forget_secret(workspace, secret, actor)  # the new kind has none: the old ones go
        self._changed(workspace)
        return model

    def _validate(self, spec: dm.AnyDatastoreCreate, loc: StoreLocation) -> None:
        storage.check_protocol(loc.protocol)
        if isinstance(spec, dm.LocalDatastoreCreate):
            self._check_local(Path(spec.path), create=spec.create_if_not_exists)
        elif spec.create_if_not_exists and spec.kind == "s3":
            storage.make_bucket(loc)
        if not spec.skip_validation or spec.kind == "local":
            storage.probe(loc)

    def _check_local(self, path: Path, *, create: bool) -> None:
        if not path.is_absolute():
            raise InvalidInput(f"a local datastore's path must be absolute, not {str(path)!r}",
                               hint="give the full path of the folder, e.g. /data/projects/x")
        real, root = path.resolve(), self.root.resolve()
        if real == root or real.is_relative_to(root) or root.is_relative_to(real):
            raise InvalidInput(f"{path} is (or holds) the service's own root, which keeps its secrets",
                               hint="register a folder outside the service root; workspaceblobstore is the "
                               "workspace's own storage")
        if create:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InvalidInput(f"cannot create the folder {path}: {exc.strerror or type(exc).__name__}",
                                   hint="create it yourself, or give a folder the service's user may create") from None

    def _write(self, workspace: str, spec: dm.AnyDatastoreCreate, parts: _Spec, *, replace: bool,
               actor: str) -> dm.Datastore:
        try:
            with self.db.session() as s:
                ws = WorkspaceService.row(s, workspace)
                row = s.scalar(select(DatastoreRow).where(DatastoreRow.workspace_id == ws.id,
                                                          DatastoreRow.name_key == spec.name.lower()))
                if row is not None and not replace:
                    raise Conflict(f"datastore {row.name!r} already exists in workspace {workspace!r}",
                                   hint="pass overwrite=True to replace it, or pick another name")
                if row is None:
                    row = DatastoreRow(workspace_id=ws.id, name_key=spec.name.lower(), is_default=False,
                                       created_by=actor, created_at=utcnow())
                    s.add(row)
                row.name, row.kind, row.config = spec.name, spec.kind, parts.config
                row.has_secret, row.description = bool(parts.credentials), spec.description
                s.flush()
                return self._model(workspace, row)
        except IntegrityError:
            raise Conflict(f"datastore {spec.name!r} was registered by another request meanwhile",
                           hint="get it with Datastore.get(ws, name), or pass overwrite=True") from None

    def set_default(self, workspace: str, name: str) -> dm.Datastore:
        self._ensure_builtin(workspace)
        with self.db.session() as s:
            row = self._row(s, workspace, name)
            s.execute(update(DatastoreRow).where(DatastoreRow.workspace_id == row.workspace_id,
                                                 DatastoreRow.id != row.id).values(is_default=False)
                      .execution_options(synchronize_session=False))
            row.is_default = True
            s.flush()
            model = self._model(workspace, row)
        self._changed(workspace)
        return model

    def delete(self, workspace: str, name: str, *, actor: str | None = None) -> None:
        """Unregister: the record and its credentials go, the files stay (as in v1). The workspace's own
        store cannot go; deleting the default makes workspaceblobstore the default again."""
        self._ensure_builtin(workspace)
        with self.db.session() as s:
            row = self._row(s, workspace, name)
            if row.kind == "workspaceblobstore":
                raise Conflict(f"{dm.WORKSPACE_BLOB_STORE} is the workspace's own storage and cannot be deleted")
            real_name, had_secret, was_default = row.name, row.has_secret, row.is_default
            workspace_id = row.workspace_id
            s.delete(row)
            if was_default:
                s.execute(update(DatastoreRow).where(DatastoreRow.workspace_id == workspace_id,
                                                     DatastoreRow.name_key == dm.WORKSPACE_BLOB_STORE)
                          .values(is_default=True).execution_options(synchronize_session=False))
        if had_secret:
            self._forget_secret(workspace, secret_name(real_name), actor)
        self._changed(workspace)

    # -- helpers ------------------------------------------------------------------------------------------
    def _forget_secret(self, workspace: str, secret: str, actor: str | None) -> None:
        with contextlib.suppress(NotFound):
            self.vault.delete_secret(workspace, secret, actor=actor)

    def _changed(self, workspace: str) -> None:
        if self._on_change is not None:
            self._on_change(workspace)

    def _row(self, s: Session, workspace: str, name: str, *, builtin: bool = False) -> DatastoreRow:
        """The datastore's record; with ``builtin``, workspaceblobstore before its record is written too."""
        ws = WorkspaceService.row(s, workspace)
        row: DatastoreRow | None = s.scalar(select(DatastoreRow).where(DatastoreRow.workspace_id == ws.id,
                                                                       DatastoreRow.name_key == name.lower()))
        if row is None and builtin and name.lower() == dm.WORKSPACE_BLOB_STORE:
            has_default = s.scalar(select(DatastoreRow.id).where(DatastoreRow.workspace_id == ws.id,
                                                                 DatastoreRow.is_default.is_(True)))
            return self._builtin(ws, default=not has_default)
        if row is None:
            known = list(s.scalars(select(DatastoreRow.name).where(DatastoreRow.workspace_id == ws.id)))
            known += [] if dm.WORKSPACE_BLOB_STORE in (k.lower() for k in known) else [dm.WORKSPACE_BLOB_STORE]
            raise datastore_not_found(workspace, name, known)
        return row

    def _model(self, workspace: str, row: DatastoreRow) -> dm.Datastore:
        config = dict(row.config or {})
        loc = location_of(row.kind, config, {}, self.blob_root(workspace)) if row.kind != "azure_blob" else None
        where = loc.describe() if loc is not None else f"abfs://{config.get('container_name')}"
        created: datetime = utc(row.created_at)
        return dm.Datastore(name=row.name, kind=row.kind, datastore_type=dm.DATASTORE_TYPES[row.kind],
                            is_default=row.is_default, description=row.description or "", location=where,
                            has_credentials=row.has_secret, created_by=row.created_by, created_at=created,
                            **{k: v for k, v in config.items() if k in dm.Datastore.model_fields})
