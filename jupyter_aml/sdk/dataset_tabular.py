"""``TabularDataset`` (v1's ``azureml.data.TabularDataset``): rows read with pyarrow from delimited, Parquet or
JSON-lines files, lazily transformed (``take``, ``skip``, ``random_split``, ``keep_columns``, ``drop_columns``,
``filter``), materialised by ``to_pandas_dataframe``. The profile of a registered version comes from the service
(computed there once per version); an unregistered dataset's is computed here."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_aml.data.expressions import Expression, column
from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.dataset_base import AbstractDataset

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace


@dataclass
class ColumnProfile:
    """One column of a profile, with v1's ``ColumnProfile`` attribute names."""

    column_name: str
    type: str
    count: int
    missing_count: int
    min: Any = None
    max: Any = None
    mean: float | None = None


@dataclass
class DatasetProfile:
    """v1's profile: ``row_count``, ``column_count`` and ``columns`` by name."""

    row_count: int
    column_count: int
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    fingerprint: str = ""

    @classmethod
    def from_body(cls, body: Any) -> DatasetProfile:
        columns = {c["name"]: ColumnProfile(c["name"], c["type"], c["count"], c["missing"], c.get("min"),
                                            c.get("max"), c.get("mean")) for c in body["columns"]}
        return cls(body["row_count"], body["column_count"], columns, body.get("fingerprint", ""))


def _seed(seed: int | None) -> int:
    if seed is None:  # as v1: a seed chosen now and kept in the definition, so the split stays the same
        return random.SystemRandom().randrange(2**31)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InvalidInput(f"seed must be a non-negative integer, not {seed!r}")
    return seed


def _columns(columns: str | list[str]) -> list[str]:
    names = [columns] if isinstance(columns, str) else list(columns)
    if not names or not all(isinstance(c, str) for c in names):
        raise InvalidInput("columns takes a column name or a list of them")
    return names


class TabularDataset(AbstractDataset):
    """Tabular data in files on a datastore or at URLs: read where it is, never copied into the workspace."""

    _kind = "tabular"

    # -- reading ---------------------------------------------------------------------------------------------
    def _table(self, *, limit: int | None = None, on_error: str = "fail") -> Any:
        from jupyter_aml.data.tabular import ReaderOptions, read_table
        from jupyter_aml.data.transforms import apply_table

        steps = self._definition["transformations"]
        prefix = limit is not None and all(s.get("op") in ("take", "keep_columns", "drop_columns") for s in steps)
        table = read_table([f.source for f in self._resolve()], ReaderOptions.from_dict(self._definition["reader"]),
                           limit=limit if prefix else None, on_error=on_error)
        table = apply_table(table, steps)
        return table.slice(0, limit) if limit is not None else table

    def to_pandas_dataframe(self, on_error: str = "null", out_of_range_datetime: str = "null") -> Any:
        """The rows as a pandas DataFrame (pyarrow reads, then converts). ``on_error='null'`` (v1's default)
        reads a value that does not convert to its column's type as missing; ``'fail'`` raises naming the file
        and line. Datetimes are microsecond timestamps, whose range has no out-of-range values to treat, so
        ``out_of_range_datetime`` ('null' or 'fail') changes nothing."""
        if out_of_range_datetime not in ("null", "fail"):
            raise InvalidInput(f"out_of_range_datetime {out_of_range_datetime!r} must be 'null' or 'fail'")
        return self._table(on_error=on_error).to_pandas()

    def to_arrow_table(self) -> Any:
        """The rows as a pyarrow Table, without the pandas conversion."""
        return self._table()

    def head(self, count: int) -> Any:
        """v1: ``take(count).to_pandas_dataframe()``, reading only what the first rows need."""
        return self._table(limit=int(count)).to_pandas()

    # -- transformations (each a new, unregistered dataset) ------------------------------------------------------
    def take(self, count: int) -> TabularDataset:
        return self._with_step({"op": "take", "count": count})

    def skip(self, count: int) -> TabularDataset:
        return self._with_step({"op": "skip", "count": count})

    def take_sample(self, probability: float, seed: int | None = None) -> TabularDataset:
        return self._with_step({"op": "take_sample", "probability": probability, "seed": _seed(seed)})

    def random_split(self, percentage: float, seed: int | None = None) -> tuple[TabularDataset, TabularDataset]:
        """Two datasets: about ``percentage`` of the rows, and the rest; the same seed makes the same split."""
        chosen = _seed(seed)
        return (self._with_step({"op": "random_split", "percentage": percentage, "seed": chosen, "part": 0}),
                self._with_step({"op": "random_split", "percentage": percentage, "seed": chosen, "part": 1}))

    def keep_columns(self, columns: str | list[str], validate: bool = False) -> TabularDataset:
        kept = self._with_step({"op": "keep_columns", "columns": _columns(columns)})
        if validate:
            kept._table(limit=1)
        return kept

    def drop_columns(self, columns: str | list[str]) -> TabularDataset:
        return self._with_step({"op": "drop_columns", "columns": _columns(columns)})

    def filter(self, expression: Expression) -> TabularDataset:
        """Keep the rows where ``expression`` holds: ``ds.filter(ds['age'] > 30)``, combined with ``&``, ``|``
        and ``~`` (rows where it is null are dropped)."""
        if not isinstance(expression, Expression):
            raise InvalidInput("filter takes an expression on the dataset's columns",
                               hint="e.g. ds.filter((ds['age'] > 30) & (ds['city'] == 'Oslo'))")
        return self._with_step({"op": "filter", "expression": expression.tree})

    def __getitem__(self, name: str) -> Expression:
        if not isinstance(name, str):
            raise InvalidInput("ds[...] takes a column name, for filter expressions")
        return column(name)

    def _local_preview(self, rows: int) -> dict[str, Any]:
        from jupyter_aml.data.profile import preview

        body = preview(self._table(limit=rows), rows)
        return {"columns": body["columns"], "rows": body["rows"]}

    # -- profile ---------------------------------------------------------------------------------------------
    def get_profile(self, workspace: Workspace | None = None) -> DatasetProfile:
        """A registered version's profile from the service (computed once per version); an unregistered
        dataset's computed here from its data."""
        if self._registration is not None and self._workspace is not None:
            body = self._workspace._api.dataset_profile(self._workspace.name, self._registration["name"],
                                                        self._registration["version"])
            return DatasetProfile.from_body(body)
        from jupyter_aml.data.profile import profile

        return DatasetProfile.from_body(profile(self._table()))
