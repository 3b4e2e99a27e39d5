"""``Datastore``: named connections to storage, with Azure ML v1's names (``azureml.core.Datastore``).

``ws.get_default_datastore()`` is the workspace's own ``workspaceblobstore`` (a folder the service keeps for
the workspace) until another is made the default; ``Datastore.register_s3`` connects an S3-compatible bucket
(AWS, MinIO, Ceph), ``Datastore.register_local`` a folder on the service's machine, and
``Datastore.register_azure_blob_container`` an Azure Blob container (through adlfs, refused while it is not
installed). Credentials go to the workspace's key vault on the service and are never printed, logged or kept
on the object. ``upload``, ``upload_files`` and ``download`` show tqdm progress bars; ``path()`` gives a
``DataPath`` for datasets.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.datapath import DataPath
from jupyter_aml.sdk.datastore_files import Transfer, pairs_of_files, pairs_of_folder

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace

__all__ = ["AbstractAzureStorageDatastore", "AbstractDatastore", "AzureBlobDatastore", "Datastore",
           "LocalDatastore", "S3Datastore"]


class AbstractDatastore:
    """What every datastore kind has: its name, type and workspace, its files, and its place as default."""

    def __init__(self, workspace: Workspace, record: T.Datastore | dict[str, Any]) -> None:
        self.workspace = workspace
        self._record = dict(record)
        self._transfer = Transfer(self)

    @property
    def name(self) -> str:
        return str(self._record["name"])

    @property
    def datastore_type(self) -> str:
        """v1's type name: ``AzureBlob`` (workspaceblobstore and Azure Blob), ``S3``, ``LocalFolder``."""
        return str(self._record["datastore_type"])

    @property
    def kind(self) -> str:
        return str(self._record["kind"])

    @property
    def is_default(self) -> bool:
        return bool(self._record.get("is_default"))

    @property
    def description(self) -> str:
        return str(self._record.get("description") or "")

    @property
    def location(self) -> str:
        """Where the files are, without credentials: the folder, ``s3://bucket/prefix``, ``abfs://container``."""
        return str(self._record.get("location") or "")

    def get_details(self) -> dict[str, Any]:
        """The datastore's record as the service keeps it (never its credentials)."""
        return {k: v for k, v in self._record.items() if v is not None}

    def set_as_default(self) -> None:
        """Make this the workspace's default datastore (``ws.get_default_datastore()``)."""
        self._record = dict(self.workspace._api.set_default_datastore(self.workspace.name, self.name))

    def unregister(self) -> None:
        """Remove the datastore and its credentials from the workspace; its files stay where they are."""
        self.workspace._api.delete_datastore(self.workspace.name, self.name)

    # -- files --------------------------------------------------------------------------------------------
    def path(self, path: str | None = None, data_reference_name: str | None = None) -> DataPath:
        """A ``DataPath`` naming ``path`` on this datastore (v1 returned a DataReference; datasets take both)."""
        return DataPath(self, path, name=data_reference_name)

    def upload(self, src_dir: str | os.PathLike[str], target_path: str | None = None, overwrite: bool = False,
               show_progress: bool = True) -> DataPath:
        """Upload a folder's files (recursively) under ``target_path`` (the root when None); files already there
        are kept unless ``overwrite``. Returns the DataPath of ``target_path``."""
        pairs = pairs_of_folder(Path(src_dir), target_path or "")
        self._transfer.upload(pairs, overwrite=overwrite, show_progress=show_progress)
        return self.path(target_path)

    def upload_files(self, files: list[str | os.PathLike[str]], relative_root: str | os.PathLike[str] | None = None,
                     target_path: str | None = None, overwrite: bool = False, show_progress: bool = True) -> DataPath:
        """Upload the given files under ``target_path``, each at its path relative to ``relative_root`` (by
        default the folder that holds them all)."""
        pairs = pairs_of_files(files, relative_root, target_path or "")
        self._transfer.upload(pairs, overwrite=overwrite, show_progress=show_progress)
        return self.path(target_path)

    def download(self, target_path: str | os.PathLike[str], prefix: str | None = None, overwrite: bool = False,
                 show_progress: bool = True) -> int:
        """Download the files under ``prefix`` (a folder, a file, a glob or a name's start; all when None) into
        ``target_path``, keeping their paths on the datastore. Local files are kept unless ``overwrite``.
        Returns the number of files downloaded, as v1."""
        return len(self._transfer.download(prefix, Path(target_path), overwrite=overwrite,
                                           show_progress=show_progress))

    def _files(self, pattern: str = "") -> list[Any]:
        """The files a glob, folder or file names (``storage.FileInfo``: path, size, fingerprint)."""
        return self._transfer.list_files(pattern)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, datastore_type={self.datastore_type!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, AbstractDatastore) and other.name.lower() == self.name.lower()
                and other.workspace == self.workspace)

    def __hash__(self) -> int:
        return hash((self.workspace.name, self.name.lower()))


class AbstractAzureStorageDatastore(AbstractDatastore):
    """v1's base of the Azure storage kinds."""

    @property
    def account_name(self) -> str:
        """The storage account (``local`` for the workspace's own store: a folder the service keeps)."""
        return str(self._record.get("account_name") or "local")

    @property
    def protocol(self) -> str:
        return str(self._record.get("protocol") or "https")

    @property
    def endpoint(self) -> str:
        return str(self._record.get("endpoint") or "core.windows.net")


class AzureBlobDatastore(AbstractAzureStorageDatastore):
    """An Azure Blob container, or the workspace's own ``workspaceblobstore``."""

    @property
    def container_name(self) -> str:
        return str(self._record.get("container_name") or self.name)


class S3Datastore(AbstractDatastore):
    """An S3-compatible bucket (AWS S3, MinIO, Ceph, ...)."""

    @property
    def bucket_name(self) -> str:
        return str(self._record["bucket_name"])

    @property
    def prefix(self) -> str | None:
        return self._record.get("prefix")

    @property
    def endpoint_url(self) -> str | None:
        return self._record.get("endpoint_url")

    @property
    def region(self) -> str | None:
        return self._record.get("region")


class LocalDatastore(AbstractDatastore):
    """A folder on the service's machine."""

    @property
    def path_on_service(self) -> str:
        return str(self._record["path"])


_CLASSES: dict[str, type[AbstractDatastore]] = {"workspaceblobstore": AzureBlobDatastore, "azure_blob":
                                                AzureBlobDatastore, "s3": S3Datastore, "local": LocalDatastore}


def datastore_of(workspace: Workspace, record: T.Datastore | dict[str, Any]) -> AbstractDatastore:
    return _CLASSES.get(str(record["kind"]), AbstractDatastore)(workspace, record)


def _unsupported(**given: Any) -> None:
    """v1 arguments about Azure plumbing that has no counterpart here: refused when set, never ignored."""
    for name, value in given.items():
        if value not in (None, False):
            raise InvalidInput(f"{name} is not supported here (there is no Azure resource behind a datastore)",
                               hint=f"leave {name} out")


class Datastore:
    """``Datastore(workspace, name=None)``: the named datastore, or the default one; v1's factory class."""

    def __new__(cls, workspace: Workspace, name: str | None = None) -> Any:
        return cls.get(workspace, name) if name is not None else cls.get_default(workspace)

    @staticmethod
    def get(workspace: Workspace, datastore_name: str) -> AbstractDatastore:
        return datastore_of(workspace, workspace._api.get_datastore(workspace.name, datastore_name))

    @staticmethod
    def get_default(workspace: Workspace) -> AbstractDatastore:
        listing = workspace._api.list_datastores(workspace.name)
        record = next(d for d in listing["items"] if d["name"] == listing["default"])
        return datastore_of(workspace, record)

    @staticmethod
    def list(workspace: Workspace) -> list[AbstractDatastore]:
        listing = workspace._api.list_datastores(workspace.name)
        return [datastore_of(workspace, d) for d in listing["items"]]

    @staticmethod
    def _register(workspace: Workspace, body: dict[str, Any]) -> AbstractDatastore:
        clean = {k: v for k, v in body.items() if v is not None}
        record = workspace._api.register_datastore(workspace.name, cast(T.DatastoreCreate, clean))
        return datastore_of(workspace, record)

    @staticmethod
    def register_azure_blob_container(
        workspace: Workspace, datastore_name: str, container_name: str, account_name: str,
        sas_token: str | None = None, account_key: str | None = None, protocol: str | None = None,
        endpoint: str | None = None, overwrite: bool = False, create_if_not_exists: bool = False,
        skip_validation: bool = False, blob_cache_timeout: int | None = None, grant_workspace_access: bool = False,
        subscription_id: str | None = None, resource_group: str | None = None,
    ) -> AbstractDatastore:
        """Register an Azure Blob container (read through adlfs, which the service and this client need)."""
        if importlib.util.find_spec("adlfs") is None:
            raise InvalidInput(
                f"datastore {datastore_name!r}: Azure Blob containers are read through adlfs, which is not "
                "installed here", hint="pip install adlfs (in the service's and this environment), or register "
                "an S3-compatible store with Datastore.register_s3")
        _unsupported(blob_cache_timeout=blob_cache_timeout, grant_workspace_access=grant_workspace_access,
                     subscription_id=subscription_id, resource_group=resource_group)
        return Datastore._register(workspace, {
            "name": datastore_name, "kind": "azure_blob", "container_name": container_name,
            "account_name": account_name, "sas_token": sas_token, "account_key": account_key,
            "protocol": protocol, "endpoint": endpoint, "overwrite": overwrite,
            "create_if_not_exists": create_if_not_exists, "skip_validation": skip_validation})

    @staticmethod
    def register_s3(
        workspace: Workspace, datastore_name: str, bucket_name: str, access_key_id: str | None = None,
        secret_access_key: str | None = None, endpoint_url: str | None = None, region: str | None = None,
        prefix: str | None = None, overwrite: bool = False, create_if_not_exists: bool = False,
        skip_validation: bool = False,
    ) -> AbstractDatastore:
        """Register an S3-compatible bucket (``endpoint_url`` for MinIO, Ceph and the like; keys or neither)."""
        return Datastore._register(workspace, {
            "name": datastore_name, "kind": "s3", "bucket_name": bucket_name, "access_key_id": access_key_id,
            "secret_access_key": secret_access_key, "endpoint_url": endpoint_url, "region": region,
            "prefix": prefix, "overwrite": overwrite, "create_if_not_exists": create_if_not_exists,
            "skip_validation": skip_validation})

    @staticmethod
    def register_local(
        workspace: Workspace, datastore_name: str, path: str | os.PathLike[str], overwrite: bool = False,
        create_if_not_exists: bool = False,
    ) -> AbstractDatastore:
        """Register a folder on the service's machine (absolute; it must exist unless create_if_not_exists)."""
        return Datastore._register(workspace, {
            "name": datastore_name, "kind": "local", "path": os.fspath(path), "overwrite": overwrite,
            "create_if_not_exists": create_if_not_exists})
