"""A tabular dataset's profile: row count, and per column its type, missing values, min, max and mean.

Computed with pyarrow.compute in one pass per column over the whole table; the service computes it once per
dataset version and keeps it (the values are JSON: datetimes as ISO text, non-finite numbers as None).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# v1's DataType names, for the column types a profile and a preview show
_KINDS = (
    (pa.types.is_boolean, "bool"), (pa.types.is_integer, "long"), (pa.types.is_floating, "float"),
    (pa.types.is_decimal, "float"), (pa.types.is_timestamp, "datetime"), (pa.types.is_date, "datetime"),
    (pa.types.is_string, "string"), (pa.types.is_large_string, "string"),
)


def type_name(kind: pa.DataType) -> str:
    return next((name for test, name in _KINDS if test(kind)), str(kind))


def _json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def column_profile(name: str, column: pa.ChunkedArray) -> dict[str, Any]:
    kind = column.type
    if pa.types.is_floating(kind):  # NaN is a missing value here, as pandas counts it
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, kind), column)
    out: dict[str, Any] = {
        "name": name, "type": type_name(kind), "arrow_type": str(kind), "count": len(column) - column.null_count,
        "missing": column.null_count, "min": None, "max": None, "mean": None,
    }
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    ordered = numeric or pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_string(kind) \
        or pa.types.is_large_string(kind) or pa.types.is_boolean(kind)
    if ordered and out["count"]:
        bounds = pc.min_max(column)
        out["min"], out["max"] = _json(bounds["min"].as_py()), _json(bounds["max"].as_py())
    if (numeric or pa.types.is_boolean(kind)) and out["count"]:
        out["mean"] = _json(pc.mean(column, skip_nulls=True).as_py())
    return out


def profile(table: pa.Table) -> dict[str, Any]:
    """The profile of ``table``: ``{"row_count", "column_count", "columns": [{name, type, missing, min, ...}]}``."""
    return {
        "row_count": table.num_rows,
        "column_count": table.num_columns,
        "columns": [column_profile(name, table.column(name)) for name in table.column_names],
    }


def preview(table: pa.Table, rows: int) -> dict[str, Any]:
    """The first ``rows`` rows as JSON: column names and v1 types, then the rows as lists."""
    head = table.slice(0, rows)
    columns = [{"name": n, "type": type_name(head.schema.field(n).type)} for n in head.column_names]
    data = [[_json(v) for v in row.values()] for row in head.to_pylist()]
    return {"columns": columns, "rows": data, "row_count": head.num_rows}
