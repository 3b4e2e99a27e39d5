"""v1's ``partition_format``: columns taken from each file's path.

``'{state}/{city}/{PartitionDate:yyyy/MM/dd}/data.csv'`` reads ``state`` and ``city`` as string columns and
``PartitionDate`` as a datetime column from paths such as ``sales/WA/Seattle/2020/01/31/data.csv``. As in v1,
the format runs from the first partition key to the end of the path, so it is matched against the path's end.
"""

from __future__ import annotations

import re
from datetime import datetime

import pyarrow as pa

from jupyter_aml.errors import InvalidInput

_KEY = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")
_DATE_PARTS = {"yyyy": r"(?P<{k}__Y>\d{{4}})", "MM": r"(?P<{k}__m>\d{{2}})", "dd": r"(?P<{k}__d>\d{{2}})",
               "HH": r"(?P<{k}__H>\d{{2}})", "mm": r"(?P<{k}__M>\d{{2}})", "ss": r"(?P<{k}__S>\d{{2}})"}
_DATE_TOKEN = re.compile("|".join(_DATE_PARTS))


class PartitionFormat:
    def __init__(self, fmt: str) -> None:
        self.format = fmt
        self.keys: list[str] = []
        self.dates: set[str] = set()
        pattern, pos = "", 0
        for found in _KEY.finditer(fmt):
            pattern += self._literal(fmt[pos:found.start()])
            key, date = found.group(1), found.group(2)
            if key in self.keys:
                raise InvalidInput(f"partition_format names {key!r} twice")
            self.keys.append(key)
            if date is None:
                pattern += rf"(?P<{key}>[^/]+)"
            else:
                self.dates.add(key)
                pattern += self._date(key, date)
            pos = found.end()
        pattern += self._literal(fmt[pos:])
        if not self.keys:
            raise InvalidInput(f"partition_format {fmt!r} names no partition key",
                               hint="e.g. '{state}/{PartitionDate:yyyy/MM/dd}/data.csv'")
        self.regex = re.compile(r"(?:^|/)" + pattern.lstrip("/") + "$")

    @staticmethod
    def _literal(text: str) -> str:
        """Literal path text, where ``*`` and ``**`` match as they do in globs."""
        out = ""
        for part in re.split(r"(\*\*|\*)", text):
            out += ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
        return out

    def _date(self, key: str, spec: str) -> str:
        out, pos = "", 0
        seen = set()
        for token in _DATE_TOKEN.finditer(spec):
            out += re.escape(spec[pos:token.start()])
            if token.group(0) in seen:
                raise InvalidInput(f"partition_format: {{{key}:{spec}}} repeats {token.group(0)}")
            seen.add(token.group(0))
            out += _DATE_PARTS[token.group(0)].format(k=key)
            pos = token.end()
        out += re.escape(spec[pos:])
        if "yyyy" not in seen:
            raise InvalidInput(f"partition_format: {{{key}:{spec}}} has no yyyy",
                               hint="datetime keys use yyyy, MM, dd, HH, mm and ss, e.g. {{date:yyyy/MM/dd}}")
        return out

    def values(self, path: str) -> dict[str, str | datetime]:
        found = self.regex.search(path.replace("\\", "/"))
        if found is None:
            raise InvalidInput(f"{path} does not match partition_format {self.format!r}",
                               hint="the format runs from the first partition key to the end of the path")
        groups = found.groupdict()
        out: dict[str, str | datetime] = {}
        for key in self.keys:
            if key in self.dates:
                def part(p: str, default: int, key: str = key) -> int:
                    value = groups.get(f"{key}__{p}")
                    return int(value) if value is not None else default
                try:
                    out[key] = datetime(part("Y", 1), part("m", 1), part("d", 1), part("H", 0), part("M", 0),
                                        part("S", 0))
                except ValueError as exc:
                    raise InvalidInput(f"{path}: partition {key!r} is not a date ({exc})") from None
            else:
                out[key] = groups[key]
        return out

    def add_columns(self, table: pa.Table, path: str) -> pa.Table:
        for key, value in self.values(path).items():
            if key in table.column_names:
                raise InvalidInput(f"partition key {key!r} is also a column of {path}",
                                   hint="name the partition key differently")
            kind = pa.timestamp("us") if isinstance(value, datetime) else pa.string()
            table = table.append_column(key, pa.array([value] * table.num_rows, kind))
        return table
