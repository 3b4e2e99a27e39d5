"""Datasets in runs: inputs laid out on the target, outputs copied to a datastore and registered, lineage.

A run's configuration names its inputs (a registered dataset version, by id, and how the script gets it) and
its outputs (a folder the script writes, with a destination on a datastore). Everything is checked at submit,
so a run never starts with an input that does not exist or an output that cannot be written.

The agent on the target is stdlib-only and may be on another machine, so it never reads storage itself: it
asks this service for each input's files (their layout is the one ``FileDataset.download`` uses,
data/layout.py) and streams them through the run's own route; an output's files go up as blobs, as
``./outputs`` do, and this service copies them to the destination. When the run ends Completed, each output
with a ``register_name`` becomes the next version of a file dataset. Lineage rows (``dataset_runs``) record
both directions, for the run page and the dataset page.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from typing import IO

from sqlalchemy import select

from jupyter_aml.core import dataset_models as dm
from jupyter_aml.core import models
from jupyter_aml.core import run_data_models as rd
from jupyter_aml.core.datasets import DatasetRegistry
from jupyter_aml.core.events import Event, RunEvent
from jupyter_aml.core.models import RunStatus
from jupyter_aml.core.run_views import RunReader
from jupyter_aml.core.scheduler import Scheduler
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.workspaces import WorkspaceService
from jupyter_aml.data import storage
from jupyter_aml.data.layout import relative_paths
from jupyter_aml.data.sources import ResolvedFile
from jupyter_aml.errors import AMLError, Conflict, InvalidInput, NotFound
from jupyter_aml.store.tables import DatasetRow, DatasetRunRow, RunRow

log = logging.getLogger(__name__)
COPY_CHUNK = 8 << 20


def destination(template: str, run_id: str, name: str) -> str:
    """An output's folder on its datastore: v1's ``{run-id}`` and ``{output-name}`` filled in."""
    return template.replace("{run-id}", run_id).replace("{output-name}", name).strip("/")


class RunData:
    def __init__(self, service: AMLService, scheduler: Scheduler) -> None:
        self.service = service
        self._loop: asyncio.AbstractEventLoop | None = None
        self._registering: set[asyncio.Future[list[dm.Dataset]]] = set()
        scheduler.submit_checks.append(self.check_spec)
        scheduler.created_hooks.append(self.record_inputs)
        service.subscribe(self._on_event)

    # -- submit ----------------------------------------------------------------------------------------
    def check_spec(self, workspace: str, spec: models.RunCreate) -> None:
        """Refuse inputs and outputs that cannot work, before the run exists."""
        config = spec.run_config
        if config is None or not (config.inputs or config.outputs):
            return
        names = [i.name for i in config.inputs] + [o.name for o in config.outputs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise InvalidInput(f"the run's inputs and outputs use the name(s) {twice} more than once",
                               hint="give each as_named_input(...) and OutputFileDatasetConfig(name=...) its own name")
        for item in config.inputs:
            dataset = self.service.datasets.get_by_id(workspace, item.dataset_id)
            if item.mode != "direct" and dataset.kind != "file":
                raise InvalidInput(f"input {item.name!r}: dataset {dataset.name!r} is tabular, so it cannot be "
                                   f"given as_{item.mode}()", hint=f"pass ds.as_named_input({item.name!r}) and read "
                                   "it with run.input_datasets[...].to_pandas_dataframe()")
            if item.path_on_compute is not None:
                _check_relative(item.path_on_compute, f"input {item.name!r}: path_on_compute")
        for out in config.outputs:
            loc = self.service.datastores.location(workspace, out.datastore)
            storage.resolve(loc, destination(out.path, "run-id", out.name) or ".")  # refuses '..', absolute

    def record_inputs(self, workspace: str, run: models.Run) -> None:
        """Lineage, dataset -> run: written as the run is created."""
        config = run.run_config
        if config is None or not config.inputs:
            return
        with self.service.db.session() as s:
            for item in config.inputs:
                if s.get(DatasetRunRow, (item.dataset_id, run.id, "input", item.name)) is None:
                    s.add(DatasetRunRow(dataset_id=item.dataset_id, run_id=run.id, direction="input", name=item.name))

    # -- what the agent fetches ------------------------------------------------------------------------
    def _config(self, workspace: str, run_id: str) -> models.RunConfig:
        run = self.service.runs.get(workspace, run_id)
        if run.run_config is None:
            raise NotFound(f"run {run_id!r} has no run configuration, so no inputs or outputs")
        return run.run_config

    def _files(self, workspace: str, dataset: dm.Dataset) -> list[tuple[ResolvedFile, str]]:
        from jupyter_aml.data.transforms import apply_list

        definition = dataset.definition.model_dump(mode="json")
        files = apply_list(self.service.datasets.resolve(workspace, definition), definition["transformations"])
        return relative_paths(definition["paths"], files)

    def inputs(self, workspace: str, run_id: str) -> rd.RunInputList:
        items = []
        for item in self._config(workspace, run_id).inputs:
            dataset = self.service.datasets.get_by_id(workspace, item.dataset_id)
            files = [rd.RunInputFile(path=rel, size=f.info.size, url=_presigned(f))
                     for f, rel in self._files(workspace, dataset)] if item.mode != "direct" else []
            items.append(rd.RunInput(name=item.name, mode=item.mode, path_on_compute=item.path_on_compute,
                                     dataset_id=dataset.id, dataset_name=dataset.name,
                                     dataset_version=dataset.version, kind=dataset.kind, files=files,
                                     dataset=dataset))
        return rd.RunInputList(items=items)

    def open_input(self, workspace: str, run_id: str, name: str, path: str) -> tuple[IO[bytes], int]:
        """One file of a ``mount``/``download`` input, by its path in the input's layout."""
        item = next((i for i in self._config(workspace, run_id).inputs if i.name == name), None)
        if item is None or item.mode == "direct":
            raise NotFound(f"run {run_id!r} has no mounted or downloaded input {name!r}")
        dataset = self.service.datasets.get_by_id(workspace, item.dataset_id)
        for resolved, rel in self._files(workspace, dataset):
            if rel == path:
                return resolved.source.fs.open(resolved.source.path, "rb"), resolved.info.size
        raise NotFound(f"input {name!r} of run {run_id!r} has no file {path!r}")

    def write_output(self, workspace: str, run_id: str, name: str, body: rd.RunOutputFiles) -> rd.RunOutputWritten:
        """Copy an output's uploaded blobs to its destination folder on its datastore."""
        out = next((o for o in self._config(workspace, run_id).outputs if o.name == name), None)
        if out is None:
            raise NotFound(f"run {run_id!r} has no output {name!r}")
        missing = [f.path for f in body.files if not self.service.blobs.has(f.sha256)]
        if missing:
            raise InvalidInput(f"output {name!r}: the blobs of {missing[:5]} were not uploaded",
                               hint="upload each file's blob (PUT blobs/{sha256}) first")
        loc = self.service.datastores.location(workspace, out.datastore)
        folder = destination(out.path, run_id, name)
        targets = []
        for f in body.files:
            _check_relative(f.path, f"output {name!r}: file")
            targets.append(f"{folder}/{f.path}" if folder else f.path)
        if not out.overwrite:  # checked before anything is written: all of the files land, or none
            there = [t for t in targets if storage.exists(loc, t)]
            if there:
                raise Conflict(f"output {name!r}: {there[:5]} already exist on datastore {out.datastore!r}",
                               hint="pass as_upload(overwrite=True), or a destination with {run-id} in it")
        for f, target in zip(body.files, targets, strict=True):
            with self.service.blobs.open(f.sha256) as src, storage.open_file(loc, target, "wb") as dst:
                shutil.copyfileobj(src, dst, COPY_CHUNK)
        return rd.RunOutputWritten(name=name, datastore=out.datastore, path=folder, files=len(body.files))

    # -- lineage ---------------------------------------------------------------------------------------
    def lineage(self, workspace: str, *, run_id: str | None = None, dataset_name: str | None = None
                ) -> rd.LineageList:
        with self.service.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            query = (select(DatasetRunRow, DatasetRow).join(DatasetRow, DatasetRow.id == DatasetRunRow.dataset_id)
                     .where(DatasetRow.workspace_id == ws.id))
            if run_id is not None:
                RunReader.row(s, workspace, run_id)  # NotFound for a run that is not the workspace's
                query = query.where(DatasetRunRow.run_id == run_id)
            if dataset_name is not None:
                DatasetRegistry.row(s, ws, dataset_name)  # NotFound for a name never registered
                query = query.where(DatasetRow.name == dataset_name)
            rows = s.execute(query.join(RunRow, RunRow.id == DatasetRunRow.run_id)
                             .order_by(RunRow.created_at, DatasetRunRow.direction)).all()
            return rd.LineageList(items=[rd.LineageEntry(
                run_id=link.run_id, dataset_id=ds.id, dataset_name=ds.name, dataset_version=ds.version,
                direction=link.direction, name=link.name) for link, ds in rows])  # type: ignore[arg-type]

    # -- registering outputs when a run completes ----------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    def stop(self) -> None:
        self._loop = None

    def _on_event(self, workspace: str, event: Event) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or not isinstance(event, RunEvent):
            return
        run = event.run
        if run.status != RunStatus.COMPLETED or run.run_config is None:
            return
        if any(o.register_name for o in run.run_config.outputs):
            loop.call_soon_threadsafe(self._schedule_register, workspace, run)

    def _schedule_register(self, workspace: str, run: models.Run) -> None:
        task = asyncio.ensure_future(asyncio.to_thread(self.register_outputs, workspace, run))
        self._registering.add(task)
        task.add_done_callback(self._registering.discard)

    def register_outputs(self, workspace: str, run: models.Run) -> list[dm.Dataset]:
        """Each output with a ``register_name`` becomes a file dataset version (once per run)."""
        assert run.run_config is not None
        made = []
        for out in run.run_config.outputs:
            if not out.register_name:
                continue
            with self.service.db.read() as s:
                done = s.scalar(select(DatasetRunRow).where(DatasetRunRow.run_id == run.id,
                                                            DatasetRunRow.direction == "output",
                                                            DatasetRunRow.name == out.name))
            if done is not None:
                continue
            folder = destination(out.path, run.id, out.name)
            spec = dm.DatasetCreate.model_validate({
                "name": out.register_name, "description": out.register_description, "tags": out.register_tags,
                "create_new_version": True,
                "definition": {"kind": "file", "paths": [{"datastore": out.datastore,
                                                           "path": f"{folder}/**" if folder else "**"}]},
            })
            try:
                dataset = self.service.datasets.register(workspace, spec, created_by=run.submitter)
            except AMLError as exc:  # e.g. the script wrote nothing there: the run stays Completed, and says why
                log.warning("run %s: output %r was not registered as dataset %r: %s", run.id, out.name,
                            out.register_name, exc)
                continue
            with self.service.db.session() as s:
                if s.get(DatasetRunRow, (dataset.id, run.id, "output", out.name)) is None:
                    s.add(DatasetRunRow(dataset_id=dataset.id, run_id=run.id, direction="output", name=out.name))
            made.append(dataset)
        return made


PRESIGNED_SECONDS = 3600


def _presigned(resolved: ResolvedFile) -> str | None:
    """A GET URL for one object of an S3-compatible store, signed with the datastore's credentials: the agent
    reads it straight from the store. None for the other stores (their files stream through this service)."""
    fs = resolved.source.fs
    if resolved.datastore is None or "s3" not in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
        return None
    try:
        return str(fs.sign(resolved.source.path, expiration=PRESIGNED_SECONDS))
    except (NotImplementedError, ValueError, OSError):  # a store that cannot sign: stream it instead
        return None


def _check_relative(path: str, what: str) -> None:
    parts = path.replace("\\", "/").split("/")
    if path.startswith("/") or ".." in parts or not path.strip():
        raise InvalidInput(f"{what} {path!r} must be a relative path inside the run's folder, without '..'")


__all__ = ["RunData", "destination"]
