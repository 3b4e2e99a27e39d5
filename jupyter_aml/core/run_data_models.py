"""REST payloads of datasets in runs (core/run_data.py): what a run's agent fetches and sends, and lineage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from jupyter_aml.core.dataset_models import Dataset
from jupyter_aml.core.models import RunFile, Strict


class RunInputFile(BaseModel):
    path: str  # where the file goes under the input's folder (data/layout.py)
    size: int
    # an object store's presigned GET URL (valid for an hour): the agent reads the file from the store itself,
    # as fast as the store serves it; without one, it streams the file through the run's input route
    url: str | None = None


class RunInput(BaseModel):
    """One dataset a run reads: which version, how, and (for ``mount``/``download``) its files."""

    name: str
    mode: Literal["mount", "download", "direct"]
    path_on_compute: str | None = None
    dataset_id: str
    dataset_name: str
    dataset_version: int
    kind: Literal["file", "tabular"]
    files: list[RunInputFile] = Field(default_factory=list)
    dataset: Dataset  # the version's record: ``run.input_datasets[name]`` in a script is built from it


class RunInputList(BaseModel):
    items: list[RunInput]


class RunOutputFiles(Strict):
    """The files a run wrote into an output's folder, already uploaded as blobs (as ``./outputs`` is)."""

    files: list[RunFile] = Field(max_length=100_000)


class RunOutputWritten(BaseModel):
    name: str
    datastore: str
    path: str  # the destination folder on the datastore, ``{run-id}`` and ``{output-name}`` filled in
    files: int


class LineageEntry(BaseModel):
    """A dataset version a run read (``input``) or wrote (``output``), under the run's name for it."""

    run_id: str
    dataset_id: str
    dataset_name: str
    dataset_version: int
    direction: Literal["input", "output"]
    name: str


class LineageList(BaseModel):
    items: list[LineageEntry]
