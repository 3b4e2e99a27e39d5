"""``DataPath``: a path on a datastore, as v1's ``azureml.data.datapath.DataPath``.

``datastore.path('folder/file.csv')`` returns one, and datasets take them as paths
(``Dataset.File.from_files(path=[DataPath(ds, 'data/**')])``), as they take ``(datastore, path)`` pairs. It
only names the place: nothing is read until a dataset or a download asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput

if TYPE_CHECKING:
    from jupyter_aml.sdk.datastore import AbstractDatastore

__all__ = ["DataPath"]


class DataPath:
    """``DataPath(datastore=None, path_on_datastore=None, name=None)``."""

    def __init__(self, datastore: AbstractDatastore | None = None, path_on_datastore: str | None = None,
                 name: str | None = None) -> None:
        if datastore is None and path_on_datastore is not None:
            raise InvalidInput("a DataPath with a path needs its datastore",
                               hint="DataPath(datastore, 'folder/file.csv'), or datastore.path('folder/file.csv')")
        if path_on_datastore is not None and not isinstance(path_on_datastore, str):
            raise InvalidInput(f"path_on_datastore must be a string, not {type(path_on_datastore).__name__}")
        self._datastore = datastore
        self.path_on_datastore = path_on_datastore
        self.name = name

    @property
    def datastore(self) -> AbstractDatastore | None:
        return self._datastore

    @property
    def datastore_name(self) -> str | None:
        return self._datastore.name if self._datastore is not None else None

    def _to_pair(self) -> tuple[Any, str]:
        """``(datastore, path)``: the form datasets read."""
        return self._datastore, self.path_on_datastore or ""

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, DataPath) and other.datastore_name == self.datastore_name
                and (other.path_on_datastore or "") == (self.path_on_datastore or ""))

    def __hash__(self) -> int:
        return hash((self.datastore_name, self.path_on_datastore or ""))

    def __repr__(self) -> str:
        return f"DataPath(datastore={self.datastore_name!r}, path_on_datastore={self.path_on_datastore!r})"

    def __str__(self) -> str:
        if self.name:
            return f"$AZUREML_DATAREFERENCE_{self.name}"
        return f"{self.datastore_name}/{self.path_on_datastore or ''}"
