"""``DataReference``: v1's reference to a path on a datastore, as a pipeline step's (or a run's) input.

v1's intro-to-pipelines samples feed their first step with ``DataReference(datastore, data_reference_name,
path_on_datastore)``. Here it is what v1 later told users to write instead: a file dataset over that path, taken
as a named input (``Dataset.File.from_files((datastore, path)).as_named_input(name).as_mount()``), so it goes in
``inputs=[...]`` and in ``arguments`` exactly as the sample has it and the script gets a local path. Mount and
download both copy the files before the script starts (no FUSE here). ``path_on_compute`` and ``overwrite``
choose where and whether to replace, as in dataset consumption.
"""

from __future__ import annotations

from typing import Any

from jupyter_aml.errors import InvalidInput

__all__ = ["DataReference"]

_MODES = ("mount", "download")


class DataReference:
    """``DataReference(datastore, data_reference_name=None, path_on_datastore=None, mode='mount',
    path_on_compute=None, overwrite=False)``: builds the equivalent dataset input (see the module docstring)."""

    def __new__(cls, datastore: Any, data_reference_name: str | None = None, path_on_datastore: str | None = None,
                mode: str = "mount", path_on_compute: str | None = None, overwrite: bool = False) -> Any:
        from jupyter_aml.sdk.dataset import Dataset

        if datastore is None or not getattr(datastore, "name", None):
            raise InvalidInput("DataReference needs a datastore", hint="DataReference(datastore=ws.get_default_"
                               "datastore(), data_reference_name='data', path_on_datastore='folder/file')")
        if mode not in _MODES:
            raise InvalidInput(f"DataReference mode {mode!r} is not supported here: use 'mount' or 'download'",
                               hint="'upload' outputs are PipelineData or OutputFileDatasetConfig")
        name = data_reference_name or datastore.name
        dataset = Dataset.File.from_files(path=(datastore, path_on_datastore or "/"), validate=False)
        consumed = dataset.as_named_input(name)
        if mode == "download":
            return consumed.as_download(path_on_compute, overwrite=overwrite)
        return consumed.as_mount(path_on_compute)
