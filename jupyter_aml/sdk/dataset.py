"""``Dataset`` with Azure ML v1's names: ``Dataset.File.from_files``, ``Dataset.Tabular.from_delimited_files`` /
``from_parquet_files`` / ``from_json_lines_files``, ``Dataset.get_by_name`` / ``get_by_id``, and ``DataType``.

Every argument of the v1 factories is implemented or refused with a message saying so (``from_sql_query`` and
the dataframe registrations are not here). ``validate=True`` (v1's default) lists the files now, so a glob that
matches nothing fails at once, and for a tabular dataset also reads its first row.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.dataset_base import AbstractDataset, DatasetNotFound, parse_paths
from jupyter_aml.sdk.dataset_file import FileDataset, MountContext
from jupyter_aml.sdk.dataset_tabular import ColumnProfile, DatasetProfile, TabularDataset

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace

__all__ = ["AbstractDataset", "ColumnProfile", "DataType", "Dataset", "DatasetNotFound", "DatasetProfile",
           "FileDataset", "FileDatasetFactory", "MountContext", "PromoteHeadersBehavior", "TabularDataset",
           "TabularDatasetFactory"]

_ENCODINGS = ("utf8", "iso88591", "latin1", "ascii", "utf16", "utf32", "utf8bom", "windows1252")


class DataType:
    """v1's column types for ``set_column_types``: ``DataType.to_long()``, ``to_datetime(formats)``, ..."""

    def __init__(self, kind: str, formats: list[str] | None = None) -> None:
        self.kind = kind
        self.formats = list(formats or [])

    def to_spec(self) -> dict[str, Any]:
        return {"type": self.kind, **({"formats": self.formats} if self.formats else {})}

    def __repr__(self) -> str:
        return f"DataType.to_{self.kind}({self.formats or ''})"

    @staticmethod
    def to_string() -> DataType:
        return DataType("string")

    @staticmethod
    def to_long() -> DataType:
        return DataType("long")

    @staticmethod
    def to_float(decimal_mark: str = ".") -> DataType:
        if decimal_mark != ".":
            raise InvalidInput("to_float(decimal_mark=...) other than '.' is not supported here",
                               hint="read the column as text and convert it in pandas")
        return DataType("float")

    @staticmethod
    def to_bool() -> DataType:
        return DataType("bool")

    @staticmethod
    def to_datetime(formats: str | list[str] | None = None) -> DataType:
        """``formats``: strptime formats such as '%Y-%m-%d %H:%M:%S', tried in order; none: ISO 8601."""
        return DataType("datetime", [formats] if isinstance(formats, str) else formats)


class PromoteHeadersBehavior(enum.IntEnum):
    """v1's header option: which files have a header row."""

    NO_HEADERS = 0
    ONLY_FIRST_FILE_HAS_HEADERS = 1
    COMBINE_ALL_FILES_HEADERS = 2
    ALL_FILES_HAVE_SAME_HEADERS = 3


def _column_types(set_column_types: dict[str, Any] | None) -> dict[str, Any]:
    out = {}
    for name, kind in (set_column_types or {}).items():
        if isinstance(kind, DataType):
            out[name] = kind.to_spec()
        elif isinstance(kind, str) and kind in ("string", "long", "float", "bool", "datetime"):
            out[name] = {"type": kind}
        else:
            raise InvalidInput(f"set_column_types[{name!r}] is {kind!r}, not a DataType",
                               hint="e.g. {'age': DataType.to_long(), 'when': DataType.to_datetime('%Y-%m-%d')}")
    return out


def _header(header: Any) -> str:
    if header is True:
        return "ALL_FILES_HAVE_SAME_HEADERS"
    if header is False:
        return "NO_HEADERS"
    if isinstance(header, PromoteHeadersBehavior):
        return header.name
    raise InvalidInput(f"header {header!r} is not True, False or a PromoteHeadersBehavior")


def _tabular(path: Any, reader: dict[str, Any], validate: bool) -> TabularDataset:
    paths, workspace = parse_paths(path)
    definition = {"kind": "tabular", "paths": paths, "reader": reader, "transformations": []}
    from jupyter_aml.data.tabular import ReaderOptions

    ReaderOptions.from_dict(reader)  # bad options fail here, not at the first read
    dataset = TabularDataset(definition, workspace)
    if validate:
        dataset._table(limit=1)
    return dataset


class TabularDatasetFactory:
    """v1's ``Dataset.Tabular``."""

    @staticmethod
    def from_delimited_files(path: Any, validate: bool = True, include_path: bool = False,
                             infer_column_types: bool = True, set_column_types: dict[str, Any] | None = None,
                             separator: str = ",", header: Any = True, partition_format: str | None = None,
                             support_multi_line: bool = False, empty_as_string: bool = False,
                             encoding: str = "utf8") -> TabularDataset:
        if encoding not in _ENCODINGS:
            raise InvalidInput(f"encoding {encoding!r} is not one of v1's", hint="one of " + ", ".join(_ENCODINGS))
        return _tabular(path, {
            "format": "delimited", "separator": separator, "header": _header(header), "encoding": encoding,
            "infer_column_types": bool(infer_column_types), "set_column_types": _column_types(set_column_types),
            "support_multi_line": bool(support_multi_line), "empty_as_string": bool(empty_as_string),
            "include_path": bool(include_path), "partition_format": partition_format,
        }, validate)

    @staticmethod
    def from_parquet_files(path: Any, validate: bool = True, include_path: bool = False,
                           set_column_types: dict[str, Any] | None = None,
                           partition_format: str | None = None) -> TabularDataset:
        return _tabular(path, {"format": "parquet", "include_path": bool(include_path),
                               "set_column_types": _column_types(set_column_types),
                               "partition_format": partition_format}, validate)

    @staticmethod
    def from_json_lines_files(path: Any, validate: bool = True, include_path: bool = False,
                              set_column_types: dict[str, Any] | None = None, partition_format: str | None = None,
                              invalid_lines: str = "error", encoding: str = "utf8") -> TabularDataset:
        if encoding not in _ENCODINGS:
            raise InvalidInput(f"encoding {encoding!r} is not one of v1's", hint="one of " + ", ".join(_ENCODINGS))
        return _tabular(path, {"format": "json_lines", "include_path": bool(include_path),
                               "set_column_types": _column_types(set_column_types),
                               "partition_format": partition_format, "invalid_lines": invalid_lines,
                               "encoding": encoding}, validate)

    @staticmethod
    def from_sql_query(*args: Any, **kwargs: Any) -> TabularDataset:
        raise InvalidInput("Dataset.Tabular.from_sql_query is not supported here (no SQL datastores)",
                           hint="export the query's result to Parquet or CSV on a datastore and read that")

    @staticmethod
    def register_pandas_dataframe(dataframe: Any, target: Any, name: str, description: str | None = None,
                                  tags: dict[str, str] | None = None, show_progress: bool = True) -> TabularDataset:
        """v1: write ``dataframe`` as Parquet to a new GUID folder under ``target`` (a ``Datastore``, a
        ``(datastore, 'folder')`` pair or a ``DataPath``), then register a dataset over it as the next version
        of ``name``."""
        import tempfile
        import uuid
        from pathlib import Path

        store, base = (target, "") if getattr(target, "upload_files", None) is not None and not isinstance(
            target, tuple) else _store_and_path(target)
        if store.workspace is None:
            raise InvalidInput("the target datastore knows no workspace")
        folder = "/".join(p for p in (base.strip("/"), str(uuid.uuid4())) if p)
        with tempfile.TemporaryDirectory() as tmp:
            part = Path(tmp) / "part-00000.parquet"
            dataframe.to_parquet(part, index=False)
            store.upload_files([str(part)], relative_root=tmp, target_path=folder, overwrite=True,
                               show_progress=show_progress)
        dataset = TabularDatasetFactory.from_parquet_files(path=(store, f"{folder}/*.parquet"))
        return dataset.register(store.workspace, name, description=description, tags=tags, create_new_version=True)


def _store_and_path(target: Any) -> tuple[Any, str]:
    if isinstance(target, tuple) and len(target) == 2:
        return target[0], str(target[1])
    datastore = getattr(target, "datastore", None)
    if datastore is not None:  # a DataPath
        return datastore, str(getattr(target, "path_on_datastore", "") or "")
    raise InvalidInput("target is a Datastore, a (datastore, 'folder') pair or a DataPath")


class FileDatasetFactory:
    """v1's ``Dataset.File``."""

    @staticmethod
    def from_files(path: Any, validate: bool = True, partition_format: str | None = None,
                   is_file: bool = False) -> FileDataset:
        """Files on datastores (``(datastore, 'folder/**/*.png')``, a ``DataPath``) or at http(s) URLs. A folder
        means every file under it. ``is_file`` is a hint v1 uses to skip a check: listing does that check here."""
        if partition_format is not None:
            raise InvalidInput("from_files(partition_format=...) is not supported here: file datasets have no "
                               "partition columns to filter on",
                               hint="use Dataset.Tabular with partition_format to get the partitions as columns")
        paths, workspace = parse_paths(path)
        dataset = FileDataset({"kind": "file", "paths": paths, "reader": None, "transformations": []}, workspace)
        if validate:
            dataset._resolve()
        return dataset


class Dataset:
    """v1's ``azureml.core.Dataset``: the factories and the registered datasets of a workspace."""

    File = FileDatasetFactory
    Tabular = TabularDatasetFactory

    @staticmethod
    def get_by_name(workspace: Workspace, name: str, version: int | str = "latest") -> AbstractDataset:
        return AbstractDataset.get_by_name(workspace, name, version)

    @staticmethod
    def get_by_id(workspace: Workspace, id: str) -> AbstractDataset:
        return AbstractDataset.get_by_id(workspace, id)

    @staticmethod
    def get_all(workspace: Workspace) -> dict[str, AbstractDataset]:
        return AbstractDataset.get_all(workspace)

