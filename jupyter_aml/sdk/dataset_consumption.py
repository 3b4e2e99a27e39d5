"""Datasets passed to a run, with v1's names: ``DatasetConsumptionConfig`` (``ds.as_named_input('train')
.as_mount()``) and ``OutputFileDatasetConfig`` (a folder the run writes, copied to a datastore, optionally
registered), and how a run's configuration carries them (core/run_data.py, agent/datasets.py).

In a script's arguments, each stands for its folder: the SDK sends ``DatasetConsumptionConfig:<name>`` (or
``OutputFileDatasetConfig:<name>``) and the agent puts the local path there. An unregistered dataset is
registered under ``anonymous-<hash of its definition>`` when the run is submitted, since a run references a
dataset version by id; the same definition is the same version.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime.names import unregistered_dataset_name

if TYPE_CHECKING:
    from jupyter_aml.sdk.dataset_base import AbstractDataset
    from jupyter_aml.sdk.workspace import Workspace

INPUT_TOKEN = "DatasetConsumptionConfig:"  # agent/datasets.py makes these the folders' paths
OUTPUT_TOKEN = "OutputFileDatasetConfig:"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(f"{what} name {name!r} must be a Python identifier (letters, digits, _; 64 at most)",
                           hint="e.g. as_named_input('train_data')")
    return name


class DatasetConsumptionConfig:
    """How a run consumes a dataset: ``direct`` (``run.input_datasets[name]`` is the dataset), ``mount`` or
    ``download`` (a file dataset's files in a local folder, whose path the script gets)."""

    def __init__(self, name: str, dataset: AbstractDataset, mode: str = "direct",
                 path_on_compute: str | None = None) -> None:
        if mode not in ("direct", "mount", "download"):
            raise InvalidInput(f"mode {mode!r} must be 'direct', 'mount' or 'download'")
        self.name = _check_name(name, "an input's")
        self.dataset = dataset
        self.mode = mode
        self.path_on_compute = path_on_compute

    def _file_only(self, how: str) -> None:
        if getattr(self.dataset, "_kind", None) != "file":
            raise InvalidInput(f"as_{how}() is for a FileDataset; a TabularDataset is read in the script",
                               hint="pass ds.as_named_input(name) and call run.input_datasets[name]"
                                    ".to_pandas_dataframe()")

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The files in a folder before the script starts (no FUSE here: they are downloaded first)."""
        self._file_only("mount")
        return DatasetConsumptionConfig(self.name, self.dataset, "mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None, overwrite: bool = False) -> DatasetConsumptionConfig:
        self._file_only("download")
        if overwrite not in (False, True):
            raise InvalidInput("overwrite must be True or False")
        return DatasetConsumptionConfig(self.name, self.dataset, "download", path_on_compute)

    def _spec(self, workspace: Workspace | None) -> dict[str, Any]:
        dataset_id = self.dataset.id
        if dataset_id is None:
            where = workspace or self.dataset.workspace
            if where is None:
                raise InvalidInput(f"input {self.name!r}: the dataset is not registered and names no workspace",
                                   hint="register it (ds.register(ws, name)) or build it on a workspace's datastore")
            dataset_id = _anonymous(self.dataset, where)
        body: dict[str, Any] = {"name": self.name, "dataset_id": dataset_id, "mode": self.mode}
        if self.path_on_compute is not None:
            body["path_on_compute"] = str(self.path_on_compute)
        return body

    def __str__(self) -> str:
        return INPUT_TOKEN + self.name

    def __repr__(self) -> str:
        return f"DatasetConsumptionConfig(name={self.name!r}, mode={self.mode!r})"


def _anonymous(dataset: AbstractDataset, workspace: Workspace) -> str:
    """Register an unregistered dataset under its definition's hash (the same definition: the same version)."""
    definition = dataset._definition
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
    body: Any = {"name": unregistered_dataset_name(digest), "definition": definition, "create_new_version": True,
                 "description": "a dataset a run used without registering it", "tags": {}}
    return str(workspace._api.register_dataset(workspace.name, body)["id"])


class OutputFileDatasetConfig:
    """A folder the script writes; when the run ends its files are copied to ``destination`` (a
    ``(datastore, 'path')``, default the workspace's blob store at ``dataset/{run-id}/{output-name}``) and,
    with ``register_on_complete(name)``, registered as the next version of a file dataset."""

    _count = 0

    def __init__(self, name: str | None = None, destination: Any = None, source: str | None = None,
                 partition_format: str | None = None) -> None:
        if source is not None:
            raise InvalidInput("OutputFileDatasetConfig(source=...) is not supported: the script writes into the "
                               "folder it is given", hint="write to the path the argument stands for")
        if partition_format is not None:
            raise InvalidInput("OutputFileDatasetConfig(partition_format=...) is not supported here",
                               hint="leave it out")
        if name is None:
            OutputFileDatasetConfig._count += 1
            name = f"output_{OutputFileDatasetConfig._count}"
        self.name = _check_name(name, "an output's")
        self.datastore, self.path = "workspaceblobstore", "dataset/{run-id}/{output-name}"
        if destination is not None:
            if not (isinstance(destination, tuple) and len(destination) == 2):
                raise InvalidInput("destination is a (datastore, 'path') pair",
                                   hint="e.g. (ws.get_default_datastore(), 'prepared/{run-id}')")
            store, path = destination
            self.datastore = str(getattr(store, "name", store))
            self.path = str(path)
        self._register: dict[str, Any] | None = None
        self._overwrite = True  # as_mount's; as_upload(overwrite=False) keeps existing files at the destination

    def register_on_complete(self, name: str, description: str | None = None,
                             tags: dict[str, str] | None = None) -> OutputFileDatasetConfig:
        """Register the written files as a file dataset when the run completes (a new version each run)."""
        if not isinstance(name, str) or not name:
            raise InvalidInput("register_on_complete needs a dataset name")
        self._register = {"register_name": name, "register_description": description or "",
                          "register_tags": {str(k): str(v) for k, v in (tags or {}).items()}}
        return self

    def as_mount(self, disable_metadata_cache: bool = False) -> OutputFileDatasetConfig:
        """v1's default: the script writes into a local folder, uploaded when the run ends (the metadata cache
        v1 could disable has no counterpart: nothing is cached)."""
        self._overwrite = True
        return self

    def as_upload(self, overwrite: bool = False, source_globs: Any = None) -> OutputFileDatasetConfig:
        if source_globs is not None:
            raise InvalidInput("as_upload(source_globs=...) is not supported: every file in the folder is uploaded")
        if overwrite not in (False, True):
            raise InvalidInput("overwrite must be True or False")
        self._overwrite = bool(overwrite)
        return self

    def as_input(self, name: str | None = None) -> StepOutputInput:
        """This output as the input of a later pipeline step (v1's default: mounted). The pipeline runs the
        producing step first and lays its files out for the reader (docs/pipelines.md)."""
        return StepOutputInput(name or self.name, self, "mount")

    def _spec(self) -> dict[str, Any]:
        return {"name": self.name, "datastore": self.datastore, "path": self.path, "overwrite": self._overwrite,
                **(self._register or {})}

    def __str__(self) -> str:
        return OUTPUT_TOKEN + self.name

    def __repr__(self) -> str:
        return f"OutputFileDatasetConfig(name={self.name!r}, destination=({self.datastore!r}, {self.path!r}))"


class StepOutputInput(DatasetConsumptionConfig):
    """An earlier pipeline step's output read by a later step (``OutputFileDatasetConfig.as_input()``,
    ``PipelineData`` in a step's ``inputs``): the producing step's run decides which files these are, so it
    exists only inside a pipeline (sdk/pipeline_steps.py makes it the step's input link)."""

    def __init__(self, name: str, output: OutputFileDatasetConfig, mode: str = "mount") -> None:
        self.name = _check_name(name, "an input's")
        self.output = output
        self.mode = mode
        self.path_on_compute = None
        self.dataset = None  # type: ignore[assignment]

    def as_mount(self, path_on_compute: str | None = None) -> StepOutputInput:
        return StepOutputInput(self.name, self.output, "mount")

    def as_download(self, path_on_compute: str | None = None, overwrite: bool = False) -> StepOutputInput:
        return StepOutputInput(self.name, self.output, "download")

    def _spec(self, workspace: Workspace | None) -> dict[str, Any]:
        raise InvalidInput(f"input {self.name!r} is another pipeline step's output: it is read only by a step of "
                           "the same pipeline", hint="pass it to a PythonScriptStep in a Pipeline, or register "
                           "the output (register_on_complete) and pass the dataset to the run")

    def __repr__(self) -> str:
        return f"StepOutputInput(name={self.name!r}, output={self.output.name!r}, mode={self.mode!r})"


def data_of(arguments: list[Any], data: dict[str, Any], output_data: dict[str, Any], workspace: Workspace | None
            ) -> tuple[list[str], list[dict[str, Any]], list[dict[str, Any]]]:
    """A run's arguments as strings, with its inputs and outputs (from the arguments and from
    ``run_config.data`` / ``output_data``) as the REST ``run_config`` carries them."""
    inputs: dict[str, DatasetConsumptionConfig] = {}
    outputs: dict[str, OutputFileDatasetConfig] = {}

    def take(item: Any) -> None:
        if isinstance(item, DatasetConsumptionConfig):
            inputs.setdefault(item.name, item)
        elif isinstance(item, OutputFileDatasetConfig):
            outputs.setdefault(item.name, item)

    for item in arguments:
        take(item)
    for key, item in data.items():
        if not isinstance(item, DatasetConsumptionConfig):
            raise InvalidInput(f"run_config.data[{key!r}] is a {type(item).__name__}, not a dataset input",
                               hint="set it to ds.as_named_input(name) (or .as_mount() / .as_download())")
        take(item)
    for key, item in output_data.items():
        if not isinstance(item, OutputFileDatasetConfig):
            raise InvalidInput(f"run_config.output_data[{key!r}] is a {type(item).__name__}, not an output",
                               hint="set it to OutputFileDatasetConfig(name=...)")
        take(item)
    args = [str(a) for a in arguments]
    return args, [i._spec(workspace) for i in inputs.values()], [o._spec() for o in outputs.values()]


def input_datasets(workspace: Workspace, run_id: str) -> dict[str, Any]:
    """v1's ``run.input_datasets``. Inside the run: a mounted or downloaded input is its local folder's path,
    an ``as_named_input`` one the dataset itself. Elsewhere: the dataset versions the run read, by name."""
    import os

    from jupyter_aml.runtime import env as E
    from jupyter_aml.sdk.dataset_base import from_record

    here = os.environ.get(E.INPUT_DATASETS) if os.environ.get(E.RUN_ID) == run_id else None
    if here:
        inputs = json.loads(here)
        return {name: item["path"] if item.get("path") else from_record(workspace, item["dataset"])
                for name, item in inputs.items()}
    return _lineage(workspace, run_id, "input")


def output_datasets(workspace: Workspace, run_id: str) -> dict[str, Any]:
    """The output folders inside the run (name -> path); elsewhere the datasets the run registered."""
    import os

    from jupyter_aml.runtime import env as E

    here = os.environ.get(E.OUTPUT_DATASETS) if os.environ.get(E.RUN_ID) == run_id else None
    if here:
        return {name: item["path"] for name, item in json.loads(here).items()}
    return _lineage(workspace, run_id, "output")


def _lineage(workspace: Workspace, run_id: str, direction: str) -> dict[str, Any]:
    from jupyter_aml.sdk.dataset_base import AbstractDataset

    items = workspace._api.run_lineage(workspace.name, run_id)["items"]
    return {e["name"]: AbstractDataset.get_by_id(workspace, e["dataset_id"]) for e in items
            if e["direction"] == direction}
