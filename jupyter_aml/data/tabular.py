"""Reading tabular files (delimited, Parquet, JSON lines) from any fsspec filesystem into one pyarrow Table.

Shared by the service (preview, profile) and the client (``TabularDataset.to_pandas_dataframe``), so it
imports nothing of the store, the core or the SDK. Reading is pyarrow's multi-threaded readers on each file;
a local file is handed to pyarrow by path (its own native reader, no Python file object in the loop), which
keeps ``to_pandas_dataframe`` as fast as ``pandas.read_csv`` / ``pyarrow.parquet.read_table`` on the file.

A file that does not parse is an ``InvalidInput`` naming the file and the line: pyarrow's parallel reader does
not know row numbers, so only on that error path the file is read again serially (or as text) to find it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from jupyter_aml.data.partitions import PartitionFormat
from jupyter_aml.errors import InvalidInput

FORMATS = ("delimited", "parquet", "json_lines")
# v1's PromoteHeadersBehavior names (header=True is ALL_FILES_HAVE_SAME_HEADERS, header=False NO_HEADERS)
HEADERS = ("ALL_FILES_HAVE_SAME_HEADERS", "ONLY_FIRST_FILE_HAS_HEADERS", "COMBINE_ALL_FILES_HEADERS", "NO_HEADERS")
# v1's encoding names -> Python codecs
ENCODINGS = {
    "utf8": "utf8", "utf-8": "utf8", "utf8bom": "utf-8-sig", "iso88591": "iso-8859-1", "latin1": "latin-1",
    "ascii": "ascii", "utf16": "utf-16", "utf32": "utf-32", "windows1252": "cp1252",
}
# v1's DataType names -> arrow types (datetime takes strptime formats)
COLUMN_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(), "long": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
    "datetime": pa.timestamp("us"),
}
PATH_COLUMN = "Path"  # v1's include_path=True column


@dataclass(frozen=True)
class ColumnType:
    type: str
    formats: tuple[str, ...] = ()

    @classmethod
    def parse(cls, column: str, spec: Any) -> ColumnType:
        if isinstance(spec, str):
            spec = {"type": spec}
        if not isinstance(spec, Mapping) or spec.get("type") not in COLUMN_TYPES:
            raise InvalidInput(f"set_column_types[{column!r}] is not a column type",
                               hint="use DataType.to_string(), to_long(), to_float(), to_bool() or "
                                    "to_datetime(formats)")
        formats = tuple(str(f) for f in spec.get("formats") or ())
        if formats and spec["type"] != "datetime":
            raise InvalidInput(f"set_column_types[{column!r}]: only datetime columns take formats")
        return cls(str(spec["type"]), formats)


@dataclass(frozen=True)
class ReaderOptions:
    """How the files of a tabular dataset are read: v1's ``from_*_files`` arguments, as the definition keeps them."""

    format: str = "delimited"
    separator: str = ","
    header: str = "ALL_FILES_HAVE_SAME_HEADERS"
    encoding: str = "utf8"
    infer_column_types: bool = True
    set_column_types: Mapping[str, ColumnType] = field(default_factory=dict)
    support_multi_line: bool = False
    empty_as_string: bool = False
    include_path: bool = False
    partition_format: str | None = None
    invalid_lines: str = "error"  # JSON lines: 'error' or 'drop'

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ReaderOptions:
        unknown = set(raw) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise InvalidInput(f"unknown reader options: {', '.join(sorted(unknown))}")
        opts = dict(raw)
        opts["set_column_types"] = {str(k): ColumnType.parse(str(k), v)
                                    for k, v in (raw.get("set_column_types") or {}).items()}
        made = cls(**opts)
        made.check()
        return made

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "separator": self.separator, "header": self.header, "encoding": self.encoding,
            "infer_column_types": self.infer_column_types,
            "set_column_types": {k: {"type": v.type, **({"formats": list(v.formats)} if v.formats else {})}
                                 for k, v in self.set_column_types.items()},
            "support_multi_line": self.support_multi_line, "empty_as_string": self.empty_as_string,
            "include_path": self.include_path, "partition_format": self.partition_format,
            "invalid_lines": self.invalid_lines,
        }

    def check(self) -> None:
        if self.format not in FORMATS:
            raise InvalidInput(f"unknown tabular format {self.format!r}", hint="one of " + ", ".join(FORMATS))
        if len(self.separator) != 1:
            raise InvalidInput(f"separator {self.separator!r} is not one character",
                               hint="pyarrow's reader splits on a single character, e.g. ',', '\\t' or '|'")
        if self.header not in HEADERS:
            raise InvalidInput(f"header {self.header!r} is not one of v1's PromoteHeadersBehavior values",
                               hint="True, False or " + ", ".join(HEADERS))
        if self.encoding.lower() not in ENCODINGS:
            raise InvalidInput(f"encoding {self.encoding!r} is not supported",
                               hint="one of " + ", ".join(sorted(ENCODINGS)))
        if self.invalid_lines not in ("error", "drop"):
            raise InvalidInput(f"invalid_lines {self.invalid_lines!r} must be 'error' or 'drop'")
        if self.partition_format is not None:
            PartitionFormat(self.partition_format)  # raises on a bad format


@dataclass(frozen=True)
class Source:
    """One file to read: its filesystem, its path there, and the name errors and ``include_path`` show."""

    fs: fsspec.AbstractFileSystem
    path: str
    display: str


def read_table(sources: Sequence[Source], options: ReaderOptions, *, limit: int | None = None,
               on_error: str = "fail") -> pa.Table:
    """All ``sources`` as one table, in order. ``limit`` stops after that many rows (previews). ``on_error``
    is v1's ``to_pandas_dataframe(on_error=)``: 'fail' raises on a value that does not convert to its column's
    type (naming file and line), 'null' reads it as a missing value. A row that does not parse always fails."""
    options.check()
    if on_error not in ("fail", "null"):
        raise InvalidInput(f"on_error {on_error!r} must be 'null' or 'fail'")
    if not sources:
        raise InvalidInput("the dataset points at no files")
    tables: list[pa.Table] = []
    rows = 0
    first_names: list[str] | None = None
    partitions = PartitionFormat(options.partition_format) if options.partition_format else None
    for index, src in enumerate(sources):
        table = _read_one(src, options, index=index, first_names=first_names, lenient=on_error == "null")
        if index == 0:
            first_names = list(table.column_names)
        if partitions is not None:
            table = partitions.add_columns(table, src.display)
        if options.include_path:
            table = table.append_column(PATH_COLUMN, pa.array([src.display] * table.num_rows, pa.string()))
        tables.append(table)
        rows += table.num_rows
        if limit is not None and rows >= limit:
            break
    combined = _concat(tables, sources, options)
    return combined.slice(0, limit) if limit is not None else combined


def _concat(tables: list[pa.Table], sources: Sequence[Source], options: ReaderOptions) -> pa.Table:
    if len(tables) == 1:
        return tables[0]
    combine = options.header == "COMBINE_ALL_FILES_HEADERS"
    if not combine:
        first = tables[0].column_names
        for table, src in zip(tables[1:], sources[1:], strict=False):
            if table.column_names != first:
                raise InvalidInput(
                    f"{src.display} has the columns {table.column_names}, the first file {first}",
                    hint="files of one dataset need the same columns; for differing headers use "
                         "header=PromoteHeadersBehavior.COMBINE_ALL_FILES_HEADERS",
                )
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInput(f"the files' column types do not agree: {exc}",
                           hint="set the column's type with set_column_types") from None


def _read_one(src: Source, options: ReaderOptions, *, index: int, first_names: list[str] | None,
              lenient: bool = False) -> pa.Table:
    try:
        if options.format == "parquet":
            return _cast(_read_parquet(src), options, src)
        if options.format == "json_lines":
            return _cast(_read_json_lines(src, options), options, src)
        return _read_delimited(src, options, index=index, first_names=first_names, lenient=lenient)
    except FileNotFoundError:
        raise InvalidInput(f"{src.display} is not there any more",
                           hint="the dataset references files in place; restore the file or register again") from None


def _local(src: Source) -> bool:
    return isinstance(src.fs, LocalFileSystem)


def _open(src: Source) -> Any:
    """What pyarrow reads: the path itself for a local file (native I/O), else an fsspec file object."""
    return src.path if _local(src) else src.fs.open(src.path, "rb")


# -- Parquet ----------------------------------------------------------------------------------------------
def _read_parquet(src: Source) -> pa.Table:
    try:
        if _local(src):
            return pq.read_table(src.path)
        with src.fs.open(src.path, "rb") as handle:
            return pq.read_table(handle)
    except (pa.ArrowInvalid, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise InvalidInput(f"{src.display} is not a Parquet file pyarrow can read: {exc}") from None


def _cast(table: pa.Table, options: ReaderOptions, src: Source) -> pa.Table:
    """set_column_types on formats whose values arrive typed (Parquet, JSON): a cast, a failed one named."""
    for name, ctype in options.set_column_types.items():
        if name not in table.column_names:
            raise InvalidInput(f"set_column_types names {name!r}, which {src.display} does not have",
                               hint="its columns are " + ", ".join(table.column_names))
        column = table.column(name)
        try:
            if ctype.type == "datetime" and ctype.formats and pa.types.is_string(column.type):
                converted = _strptime(column, ctype.formats)
            else:
                converted = column.cast(COLUMN_TYPES[ctype.type])
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidInput(f"{src.display}: column {name!r} does not convert to {ctype.type}: {exc}") from None
        table = table.set_column(table.column_names.index(name), name, converted)
    return table


def _strptime(column: pa.ChunkedArray, formats: tuple[str, ...]) -> pa.ChunkedArray:
    result = None
    for fmt in formats:
        parsed = pc.strptime(column, format=fmt, unit="us", error_is_null=True)
        result = parsed if result is None else pc.coalesce(result, parsed)
    assert result is not None
    unparsed = pc.and_(pc.is_null(result), pc.is_valid(column))
    if pc.any(unparsed).as_py():
        first = column.filter(unparsed)[0].as_py()
        raise pa.ArrowInvalid(f"{first!r} matches none of the formats {list(formats)}")
    return result


# -- JSON lines -------------------------------------------------------------------------------------------
def _read_json_lines(src: Source, options: ReaderOptions) -> pa.Table:
    encoding = ENCODINGS[options.encoding.lower()]
    if options.invalid_lines == "error" and encoding == "utf8":
        try:
            with _binary(src) as handle:
                return pajson.read_json(handle)
        except pa.ArrowInvalid:
            pass  # read it again as text below: that names the line
    rows: list[Any] = []
    with src.fs.open(src.path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding)
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
                if not isinstance(value, dict):
                    raise ValueError("a JSON lines row is an object")
            except ValueError as exc:
                if options.invalid_lines == "drop":
                    continue
                raise InvalidInput(f"{src.display}, line {number}: not a JSON object ({exc})",
                                   hint="fix the line, or pass invalid_lines='drop'") from None
            rows.append(value)
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInput(f"{src.display}: the lines' values do not agree in type: {exc}") from None


class _binary:
    def __init__(self, src: Source) -> None:
        self.src = src
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> Any:
        if _local(self.src):
            return pa.OSFile(self.src.path, "rb")
        self.handle = self.src.fs.open(self.src.path, "rb")
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


# -- delimited --------------------------------------------------------------------------------------------
def _first_row(src: Source, options: ReaderOptions) -> list[str]:
    """The first record of a file, as text: its header, or (without one) how many columns it has."""
    encoding = ENCODINGS[options.encoding.lower()]
    with src.fs.open(src.path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(text, delimiter=options.separator)
        return next(reader, [])


def _read_delimited(src: Source, options: ReaderOptions, *, index: int, first_names: list[str] | None,
                    lenient: bool = False) -> pa.Table:
    has_header = options.header in ("ALL_FILES_HAVE_SAME_HEADERS", "COMBINE_ALL_FILES_HEADERS") or (
        options.header == "ONLY_FIRST_FILE_HAS_HEADERS" and index == 0)
    names: list[str] | None = None
    if not has_header:
        names = first_names if first_names is not None and options.header == "ONLY_FIRST_FILE_HAS_HEADERS" else [
            f"Column{i + 1}" for i in range(len(_first_row(src, options)))]
    column_types: dict[str, pa.DataType] = {}
    if not options.infer_column_types:
        for name in names or _first_row(src, options):
            column_types[name] = pa.string()
    timestamp_formats: list[str] = []
    for name, ctype in options.set_column_types.items():
        column_types[name] = COLUMN_TYPES[ctype.type]
        timestamp_formats.extend(f for f in ctype.formats if f not in timestamp_formats)
    encoding = ENCODINGS[options.encoding.lower()]
    read = pacsv.ReadOptions(column_names=names, encoding="utf8" if encoding == "utf-8-sig" else encoding)
    parse = pacsv.ParseOptions(delimiter=options.separator, newlines_in_values=options.support_multi_line)
    convert = pacsv.ConvertOptions(
        column_types=column_types, strings_can_be_null=not options.empty_as_string,
        quoted_strings_can_be_null=not options.empty_as_string,
        timestamp_parsers=timestamp_formats or None,
    )
    as_text: dict[str, pa.DataType] = {}  # lenient: columns with a value that did not convert, by target type
    while True:
        try:
            table = pacsv.read_csv(_open(src), read_options=read, parse_options=parse, convert_options=convert)
            break
        except pa.ArrowInvalid as exc:
            failed = _CONVERSION.search(str(exc)) if lenient else None
            header = names or _first_row(src, options)
            if failed is None or int(failed.group(1)) >= len(header) or header[int(failed.group(1))] in as_text:
                raise _located(src, options, read, parse, convert, exc) from None
            name = header[int(failed.group(1))]
            as_text[name] = column_types.get(name) or _ARROW_NAMES.get(failed.group(2), pa.string())
            column_types[name] = pa.string()
            convert.column_types = column_types
    for name, target in as_text.items():
        position = table.column_names.index(name)
        table = table.set_column(position, name, _coerce(table.column(name), target))
    missing = [n for n in options.set_column_types if n not in table.column_names]
    if missing:
        raise InvalidInput(f"set_column_types names {missing}, which {src.display} does not have",
                           hint="its columns are " + ", ".join(table.column_names))
    return table


_ARROW_NAMES = {"int64": pa.int64(), "double": pa.float64(), "bool": pa.bool_(), "timestamp[s]": pa.timestamp("s"),
                "timestamp[us]": pa.timestamp("us"), "timestamp[ns]": pa.timestamp("ns")}


def _coerce(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """Text to ``target``, a value that does not convert becoming null (v1's on_error='null')."""
    import pandas as pd

    series = column.to_pandas()
    if pa.types.is_integer(target) or pa.types.is_floating(target):
        numbers = pd.to_numeric(series, errors="coerce")
        if pa.types.is_integer(target):
            numbers = numbers.where(numbers.isna() | (numbers % 1 == 0)).astype("Int64")
        return pa.chunked_array([pa.array(numbers, type=target, from_pandas=True)])
    if pa.types.is_timestamp(target):
        return pa.chunked_array([pa.array(pd.to_datetime(series, errors="coerce"), from_pandas=True)]).cast(target)
    if pa.types.is_boolean(target):
        mapped = series.str.lower().map({"true": True, "false": False, "1": True, "0": False})
        return pa.chunked_array([pa.array(mapped, type=target, from_pandas=True)])
    return column


_CONVERSION = re.compile(r"In CSV column #(\d+): .*?CSV conversion error to (\S+): invalid value '(.*)'", re.S)
_ROW = re.compile(r"Row #(\d+): ")


def _located(src: Source, options: ReaderOptions, read: pacsv.ReadOptions, parse: pacsv.ParseOptions,
             convert: pacsv.ConvertOptions, exc: pa.ArrowInvalid) -> InvalidInput:
    """An InvalidInput naming the file and the line of a parse or conversion error (found on this path only)."""
    message = str(exc)
    unit = "row" if options.support_multi_line else "line"  # multi-line values: rows and lines differ
    conversion = _CONVERSION.search(message)
    if conversion:
        column, target, value = int(conversion.group(1)), conversion.group(2), conversion.group(3)
        names = read.column_names or _first_row(src, options)
        row = _conversion_row(src, read, parse, names, column, value)
        where = f", {unit} {row}" if row is not None else ""
        return InvalidInput(f"{src.display}{where}: column {column + 1} has {value!r}, which is not {target}",
                            hint="fix the value, or read the column as text: set_column_types={'col': "
                                 "DataType.to_string()} or infer_column_types=False")
    if "parse error" in message.lower():
        serial = pacsv.ReadOptions(use_threads=False, column_names=read.column_names, encoding=read.encoding)
        number = None
        try:
            pacsv.read_csv(_open(src), read_options=serial, parse_options=parse, convert_options=convert)
        except pa.ArrowInvalid as again:
            found = _ROW.search(str(again))
            number = int(found.group(1)) if found else None
        detail = _ROW.sub("", message.split("parse error: ", 1)[-1])
        where = f", {unit} {number}" if number is not None else ""
        return InvalidInput(f"{src.display}{where}: {detail}",
                            hint="every row needs the header's number of fields; quote values that hold the "
                                 "separator, and pass support_multi_line=True for quoted line breaks")
    return InvalidInput(f"{src.display}: {message}")


def _conversion_row(src: Source, read: pacsv.ReadOptions, parse: pacsv.ParseOptions, names: list[str],
                    column: int, value: str) -> int | None:
    """The 1-based line of the first ``value`` in ``column``: the file read again with every column as text."""
    header_lines = 0 if read.column_names else 1
    try:
        as_text = pacsv.read_csv(
            _open(src), read_options=read, parse_options=parse,
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False),
        )
        text = as_text.column(column)
    except (pa.ArrowInvalid, IndexError):
        return None
    hits = pc.indices_nonzero(pc.equal(text, value))
    return int(hits[0].as_py()) + 1 + header_lines if len(hits) else None


def normalise_encoding(encoding: str) -> str:
    """v1's encoding name for ``encoding``, refusing one pyarrow cannot decode."""
    key = encoding.lower().replace("_", "")
    if key not in ENCODINGS:
        raise InvalidInput(f"encoding {encoding!r} is not supported", hint="one of " + ", ".join(sorted(ENCODINGS)))
    codecs.lookup(ENCODINGS[key])
    return key
