"""Pydantic models of the dataset payloads: a definition (what a dataset points at and how it is read), a
registration, a registered version, its profile and a preview."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, field_validator, model_validator

from jupyter_aml.core.models import Strict, StrMap, _check_str_map

# v1 names datasets freely ("diabetes dataset" in its tutorial): spaces inside, never at either end
DATASET_NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9 _.-]{0,248}[A-Za-z0-9_.-])?$"
DATASTORE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$"
DatasetName = Annotated[str, Field(pattern=DATASET_NAME_PATTERN)]
MAX_PREVIEW_ROWS = 1000


class DatasetPath(Strict):
    """One path of a dataset: a glob on a datastore (``{"datastore": "workspaceblobstore", "path":
    "data/**/*.csv"}``) or an http(s) URL (``{"url": "https://..."}``)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"datastore": {"type": "string"}, "url": {"type": "null"}}, "required": ["datastore"]},
        {"properties": {"url": {"type": "string"}, "datastore": {"type": "null"}, "path": {"type": "null"}},
         "required": ["url"]},
    ]})
    datastore: str | None = Field(default=None, pattern=DATASTORE_NAME_PATTERN)
    path: str | None = Field(default=None, max_length=1024)
    url: str | None = Field(default=None, max_length=4096, pattern=r"^https?://")
    # a datastore path that may match no file: a pipeline step's output the step left empty is an empty input
    # of the next step, as in v1, not "matches no file" (a user's path keeps the error: a typo is not empty data)
    optional: bool = False

    @model_validator(mode="after")
    def _one_form(self) -> DatasetPath:
        if (self.datastore is None) == (self.url is None) or (self.url is not None and self.path is not None):
            raise ValueError("a dataset path is either datastore + path or url")
        return self


class ColumnTypeSpec(Strict):
    type: Literal["string", "long", "float", "bool", "datetime"]
    formats: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=20)


class ReaderSpec(Strict):
    """How a tabular dataset's files are read: v1's ``from_delimited_files`` / ``from_parquet_files`` /
    ``from_json_lines_files`` arguments (jupyter_aml/data/tabular.py reads them)."""

    format: Literal["delimited", "parquet", "json_lines"] = "delimited"
    separator: str = Field(default=",", min_length=1, max_length=1)
    header: Literal["ALL_FILES_HAVE_SAME_HEADERS", "ONLY_FIRST_FILE_HAS_HEADERS", "COMBINE_ALL_FILES_HEADERS",
                    "NO_HEADERS"] = "ALL_FILES_HAVE_SAME_HEADERS"
    encoding: Literal["utf8", "utf-8", "utf8bom", "iso88591", "latin1", "ascii", "utf16", "utf32",
                      "windows1252"] = "utf8"
    infer_column_types: StrictBool = True
    set_column_types: dict[str, ColumnTypeSpec] = Field(default_factory=dict, max_length=1000)
    support_multi_line: StrictBool = False
    empty_as_string: StrictBool = False
    include_path: StrictBool = False
    partition_format: str | None = Field(default=None, min_length=1, max_length=1024)
    invalid_lines: Literal["error", "drop"] = "error"


class DatasetDefinition(Strict):
    """What a dataset is: its kind, its paths, how its files are read, and its transformations (steps such as
    ``{"op": "take", "count": 10}``; see jupyter_aml/data/transforms.py). Two equal definitions are one version."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"kind": {"const": "tabular"}, "reader": {"type": "object"}}, "required": ["reader"]},
        {"properties": {"kind": {"const": "file"}, "reader": {"type": "null"}}},
    ]})
    kind: Literal["file", "tabular"]
    paths: list[DatasetPath] = Field(min_length=1, max_length=1000)
    reader: ReaderSpec | None = None
    transformations: list[dict[str, Any]] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _reader_for_tabular(self) -> DatasetDefinition:
        if self.kind == "tabular" and self.reader is None:
            raise ValueError("a tabular dataset needs its reader options (the file format)")
        if self.kind == "file" and self.reader is not None:
            raise ValueError("a file dataset has no reader options")
        return self


class DatasetCreate(Strict):
    """Register a dataset: ``create_new_version`` false (v1's default) refuses a name already registered; true
    makes the next version, unless the latest version has this very definition, which is then returned."""

    name: DatasetName
    definition: DatasetDefinition
    description: str = Field(default="", max_length=5000)
    tags: StrMap = Field(default_factory=dict)
    create_new_version: StrictBool = False

    _tags = field_validator("tags")(_check_str_map)


class DatasetUpdate(Strict):
    """Change a version's description and tags in place (v1's ``update``, ``add_tags``, ``remove_tags``); its
    definition never changes (that is a new version)."""

    description: str | None = Field(default=None, max_length=5000)
    tags: StrMap | None = Field(default=None, description="replaces every tag")
    add_tags: StrMap = Field(default_factory=dict, description="set these tags (after tags)")
    remove_tags: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(default_factory=list,
                                                                                  max_length=1000)

    _tags = field_validator("tags", "add_tags")(_check_str_map)


class Dataset(Strict):
    id: str
    name: str
    version: int
    workspace: str
    kind: Literal["file", "tabular"]
    definition: DatasetDefinition
    description: str
    tags: dict[str, str]
    fingerprint: str = Field(description="sha256 over the files' names, sizes and mtimes/ETags at registration")
    file_count: int
    total_size: int
    created_by: str
    created_at: datetime
    existing: bool = Field(default=False, description="register answered an existing version (same definition)")
    data_changed: bool = Field(default=False, description="register: the files changed since this version was "
                                                          "registered (the version still points at them)")


class DatasetList(Strict):
    items: list[Dataset]


class ColumnProfile(Strict):
    name: str
    type: str
    arrow_type: str
    count: int
    missing: int
    min: Any = None
    max: Any = None
    mean: float | None = None


class DatasetProfile(Strict):
    name: str
    version: int
    row_count: int
    column_count: int
    columns: list[ColumnProfile]
    fingerprint: str = Field(description="the files' fingerprint the profile was computed on")
    computed_at: datetime


class PreviewColumn(Strict):
    name: str
    type: str


class DatasetPreview(Strict):
    """The first rows, read by the service: a tabular dataset's rows, or a file dataset's files (path, size)."""

    name: str
    version: int
    columns: list[PreviewColumn]
    rows: list[list[Any]]
    row_count: int


class DatasetDeleted(Strict):
    deleted: str
    versions: int
