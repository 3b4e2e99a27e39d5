"""What every v1 dataset shares (``azureml.data.abstract_dataset.AbstractDataset``): its definition, its
registration (``name``, ``version``, ``id``, ``description``, ``tags``), ``register``, ``get_by_name``,
``get_by_id`` and the reading of its files straight from their storage.

A dataset object is its definition (a JSON document: kind, paths, reader options, transformations), the one
the service stores for a version. The client reads the data itself: for each datastore it asks the datastore
route for the store's fsspec location (credentials included, a recorded secret read) and reads through
jupyter_aml/data; http(s) URLs are read with fsspec's http file system. pyarrow, pandas and fsspec are imported
on first read only, so importing the SDK stays cheap inside any run.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from jupyter_aml.errors import Conflict, Forbidden, InvalidInput, NotFound, UserError
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.names import is_unregistered_dataset

if TYPE_CHECKING:
    from jupyter_aml.data.sources import ResolvedFile
    from jupyter_aml.data.storage import StoreLocation
    from jupyter_aml.sdk.workspace import Workspace

D = TypeVar("D", bound="AbstractDataset")


class DatasetNotFound(NotFound):
    """No registered dataset of this name, version or id."""

    code = "NotFound"


# -- paths ------------------------------------------------------------------------------------------------
def _one_path(item: Any) -> tuple[dict[str, Any], Workspace | None]:
    """One of v1's path forms as a definition path: ``(datastore, 'glob')``, a ``DataPath``, an http(s) URL."""
    if isinstance(item, str):
        if item.startswith(("http://", "https://")):
            return {"url": item}, None
        if "://" in item:
            raise InvalidInput(f"{item!r}: only http(s) URLs are read directly",
                               hint="register the store as a datastore and pass (datastore, 'path')")
        raise InvalidInput(
            f"{item!r} is a local path; a dataset references data on a datastore or at an http(s) URL",
            hint="upload it first (datastore.upload(src_dir=...)), or register its folder as a local datastore "
                 "(Datastore.register_local) and pass (datastore, 'path/**')",
        )
    if isinstance(item, tuple) and len(item) == 2:
        store, path = item
        name = getattr(store, "name", None)
        if not isinstance(name, str) or not isinstance(path, str):
            raise InvalidInput("a (datastore, path) pair takes a Datastore and a path string",
                               hint="e.g. (ws.get_default_datastore(), 'data/**/*.csv')")
        return {"datastore": name, "path": path}, getattr(store, "workspace", None)
    store_name = getattr(item, "datastore_name", None)
    if store_name is not None:  # v1's DataPath (ds.path('x'))
        datastore = getattr(item, "_datastore", None) or getattr(item, "datastore", None)
        return ({"datastore": str(store_name), "path": str(getattr(item, "path_on_datastore", "") or "")},
                getattr(datastore, "workspace", None))
    raise InvalidInput(f"{type(item).__name__} is not a dataset path",
                       hint="pass (datastore, 'path'), a DataPath (datastore.path('x')) or an http(s) URL, or a list")


def parse_paths(path: Any) -> tuple[list[dict[str, Any]], Workspace | None]:
    """v1's ``path`` argument (one path or a list) as definition paths, and the workspace its datastores name."""
    items = path if isinstance(path, list) else [path]
    if not items:
        raise InvalidInput("path is an empty list", hint="give at least one path")
    paths, workspace = [], None
    for item in items:
        one, ws = _one_path(item)
        paths.append(one)
        workspace = workspace or ws
    return paths, workspace


def check_known(kwargs: dict[str, Any], what: str) -> None:
    if kwargs:
        raise InvalidInput(f"{what} does not take {', '.join(sorted(kwargs))} here",
                           hint="see docs/v1-compatibility.md (Datasets) for the arguments it takes")


class ThroughService(UserError):
    """The client cannot read this datastore itself (a folder on the service's machine it does not see, or no
    ``datastores/listsecrets``): its files come through the service instead."""


def store_location(workspace: Workspace, datastore: str) -> StoreLocation:
    """The datastore's fsspec location, credentials included, from the datastore route (a recorded read).
    ``ThroughService`` when a folder datastore is not reachable from here, or its location is not ours to read."""
    from jupyter_aml.data.storage import StoreLocation

    try:
        body = cast(dict[str, Any], workspace._api.datastore_location(workspace.name, datastore))
    except Forbidden:
        if workspace._api.get_datastore(workspace.name, datastore)["kind"] in ("workspaceblobstore", "local"):
            raise ThroughService(f"datastore {datastore!r}: no datastores/listsecrets") from None
        raise Forbidden(f"reading datastore {datastore!r} from the SDK needs its credentials (datastores/listsecrets)",
                        hint="ask for a role that has it (Contributor, Data Scientist), or preview the dataset: "
                             "the service reads it for datasets/read") from None
    loc = StoreLocation(body["protocol"], body["root"], dict(body.get("options") or {}))
    if body.get("reachable_from") == "service-host" and not os.path.isdir(loc.root):
        raise ThroughService(f"datastore {datastore!r} is a folder on the service's machine ({loc.root})")
    return loc


def mirror(workspace: Workspace, datastore: str, patterns: list[str]) -> StoreLocation:
    """A local folder with the files ``patterns`` name on ``datastore``, fetched through the service's file
    routes (``datastores/read``): how a client reads a folder datastore it cannot reach. A glob that matches
    nothing is the service's ``NotFound``."""
    from jupyter_aml.data.storage import StoreLocation

    folder = Path(tempfile.mkdtemp(prefix="aml-dataset-files-"))
    api = workspace._api
    for pattern in patterns:
        for item in api.datastore_files(workspace.name, datastore, pattern)["items"]:
            target = folder.joinpath(*item["path"].split("/"))
            if not target.resolve().is_relative_to(folder.resolve()):
                raise InvalidInput(f"{item['path']!r} of datastore {datastore!r} would land outside {folder}")
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                api.download_datastore_file(workspace.name, datastore, item["path"], str(target))
    return StoreLocation("file", str(folder))


# -- the dataset ------------------------------------------------------------------------------------------
class AbstractDataset:
    """A dataset: a definition, and (once registered) its name, version and id in a workspace."""

    _kind = ""

    def __init__(self, definition: dict[str, Any], workspace: Workspace | None = None,
                 registration: T.Dataset | None = None) -> None:
        self._definition = definition
        self._workspace = workspace
        self._registration = registration
        self._locations: dict[str, StoreLocation] = {}

    # -- registration attributes (v1: None until registered) -----------------------------------------------
    @property
    def name(self) -> str | None:
        return self._registration["name"] if self._registration and self._is_registered() else None

    @property
    def version(self) -> int | None:
        return self._registration["version"] if self._registration and self._is_registered() else None

    def _is_registered(self) -> bool:
        """A run's unregistered input is saved with an id only (v1's saved dataset): no name, no version."""
        return self._registration is not None and not is_unregistered_dataset(self._registration["name"])

    @property
    def id(self) -> str | None:
        return self._registration["id"] if self._registration else None

    @property
    def description(self) -> str | None:
        return self._registration.get("description") if self._registration else None

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._registration.get("tags") or {}) if self._registration else {}

    @property
    def workspace(self) -> Workspace | None:
        return self._workspace

    @property
    def data_changed(self) -> bool:
        """Registering again found the files changed since this version was registered (it points at them)."""
        return bool(self._registration and self._registration.get("data_changed"))

    @property
    def definition(self) -> dict[str, Any]:
        return copy.deepcopy(self._definition)

    def as_named_input(self, name: str) -> Any:
        """v1's run input: ``run.input_datasets[name]`` in the script is this dataset (``.as_mount()`` /
        ``.as_download()`` on the result give a file dataset's folder instead): sdk/dataset_consumption.py."""
        from jupyter_aml.sdk.dataset_consumption import DatasetConsumptionConfig

        return DatasetConsumptionConfig(name, self)

    def __repr__(self) -> str:
        what = f"name={self.name!r}, version={self.version}" if self._registration else "unregistered"
        paths = [p.get("url") or f"{p['datastore']}:{p.get('path', '')}" for p in self._definition["paths"]]
        return f"{type(self).__name__}({what}, paths={paths})"

    def _with_step(self: D, step: dict[str, Any]) -> D:
        """A new, unregistered dataset: this definition plus one transformation (v1's lazy steps)."""
        definition = self.definition
        definition["transformations"].append(step)
        return type(self)(definition, self._workspace)

    # -- reading ---------------------------------------------------------------------------------------------
    def _location_of(self) -> Callable[[str], StoreLocation]:
        def location(datastore: str) -> StoreLocation:
            if self._workspace is None:
                raise InvalidInput(f"datastore {datastore!r}: this dataset knows no workspace")
            if datastore not in self._locations:
                try:
                    self._locations[datastore] = store_location(self._workspace, datastore)
                except ThroughService:
                    patterns = [str(p.get("path") or "") for p in self._definition["paths"]
                                if p.get("datastore") == datastore]
                    loc = mirror(self._workspace, datastore, patterns)
                    weakref.finalize(self, shutil.rmtree, loc.root, True)
                    self._locations[datastore] = loc
            return self._locations[datastore]

        return location

    def _resolve(self) -> list[ResolvedFile]:
        """The files the paths name now, transformations not applied."""
        from jupyter_aml.data import sources

        return sources.resolve(self._definition["paths"], self._location_of())

    def preview(self, rows: int = 20) -> dict[str, Any]:
        """jupyter-aml: the first rows (a file dataset: its first files) as ``{"columns", "rows"}``; read by the
        service for a registered version (what the studio shows), here for an unregistered dataset."""
        if self._registration is not None and self._workspace is not None:
            body = self._workspace._api.dataset_preview(self._workspace.name, self._registration["name"],
                                                        self._registration["version"], rows=rows)
            return {"columns": list(body["columns"]), "rows": list(body["rows"])}
        return self._local_preview(rows)

    def _local_preview(self, rows: int) -> dict[str, Any]:
        raise NotImplementedError

    # -- registering -----------------------------------------------------------------------------------------
    def register(self: D, workspace: Workspace, name: str, description: str | None = None,
                 tags: dict[str, str] | None = None, create_new_version: bool = False) -> D:
        """Register this definition as ``name`` (v1's default ``create_new_version=False`` refuses a name already
        registered); with ``create_new_version=True``, the latest version is returned when its definition is
        this one, else the next version is made."""
        body: T.DatasetCreate = {"name": name, "definition": cast(T.DatasetDefinition, self._definition),
                                 "description": description or "", "tags": dict(tags or {}),
                                 "create_new_version": bool(create_new_version)}
        try:
            record = workspace._api.register_dataset(workspace.name, body)
        except Conflict as exc:
            raise Conflict(exc.message, hint=exc.hint) from None
        if record.get("data_changed"):
            warnings.warn(
                f"dataset {name!r} version {record['version']} has this definition; its files changed since it was "
                "registered, and it points at them as they are now (a version is its definition, as in v1)",
                stacklevel=2,
            )
        return cast(D, from_record(workspace, record))

    def _update(self: D, body: T.DatasetUpdate) -> D:
        if self._workspace is None or self._registration is None:
            raise InvalidInput("this dataset is not registered", hint="register it first")
        record = self._workspace._api.update_dataset(self._workspace.name, self._registration["name"],
                                                     self._registration["version"], body)
        self._registration = record
        return self

    def add_tags(self: D, tags: dict[str, str] | None = None) -> D:
        """v1: add (or change) tags of this registered version, in place."""
        return self._update({"add_tags": dict(tags or {})})

    def remove_tags(self: D, tags: list[str] | None = None) -> D:
        """v1: remove the named tags of this registered version, in place."""
        return self._update({"remove_tags": list(tags or [])})

    def update(self: D, description: str | None = None, tags: dict[str, str] | None = None) -> D:
        """v1: change this registered version's description and (replacing them) tags in place; the definition
        stays (a changed definition is a new version)."""
        body: T.DatasetUpdate = {}
        if description is not None:
            body["description"] = description
        if tags is not None:
            body["tags"] = dict(tags)
        return self._update(body)

    def unregister_all_versions(self) -> None:
        """v1: unregister every version of this dataset's name; the data stays where it is."""
        if self._workspace is None or self.name is None:
            raise InvalidInput("this dataset is not registered")
        self._workspace._api.delete_dataset(self._workspace.name, self.name)

    @staticmethod
    def get_by_name(workspace: Workspace, name: str, version: int | str = "latest") -> AbstractDataset:
        try:
            return from_record(workspace, workspace._api.get_dataset(workspace.name, name, version))
        except NotFound as exc:
            raise DatasetNotFound(exc.message, hint=exc.hint) from None

    @staticmethod
    def get_by_id(workspace: Workspace, id: str) -> AbstractDataset:
        try:
            return from_record(workspace, workspace._api.get_dataset_by_id(workspace.name, id))
        except NotFound as exc:
            raise DatasetNotFound(exc.message, hint=exc.hint) from None

    @staticmethod
    def get_all(workspace: Workspace) -> dict[str, AbstractDataset]:
        """The latest version of every registered dataset, by name (also ``ws.datasets``)."""
        return {r["name"]: from_record(workspace, r) for r in workspace._api.list_datasets(workspace.name)["items"]}


def from_record(workspace: Workspace, record: T.Dataset) -> AbstractDataset:
    """The TabularDataset or FileDataset a registered version is."""
    from jupyter_aml.sdk.dataset_file import FileDataset
    from jupyter_aml.sdk.dataset_tabular import TabularDataset

    cls: type[AbstractDataset] = TabularDataset if record["kind"] == "tabular" else FileDataset
    return cls(cast(dict[str, Any], copy.deepcopy(record["definition"])), workspace, record)
