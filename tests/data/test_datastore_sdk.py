"""v1's datastore surface through the SDK, against the real service process (``aml serve``) and a real S3
server: ``ws.get_default_datastore()`` (workspaceblobstore) and ``ws.datastores``, ``Datastore.register_s3`` /
``register_local`` / ``register_azure_blob_container``, ``Datastore(ws, name)``, ``Datastore.get``, upload,
upload_files, download (with progress bars), ``path()`` as a DataPath, set as default, unregister, and the
``azureml`` shim's names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_aml.errors import AMLError, Conflict, Forbidden, InvalidInput, NotFound
from jupyter_aml.sdk.datapath import DataPath
from jupyter_aml.sdk.datastore import AzureBlobDatastore, Datastore, LocalDatastore, S3Datastore
from tests.data.s3 import S3Server
from tests.e2e.conftest import service  # noqa: F401 - the real service process


def _tree(base: Path) -> Path:
    (base / "sub").mkdir(parents=True)
    (base / "a.csv").write_text("x,y\n1,2\n")
    (base / "sub" / "b.csv").write_text("x,y\n3,4\n")
    return base


def test_the_default_datastore_upload_and_download(service, tmp_path: Path, capsys) -> None:  # noqa: F811
    ws = service.workspace("dsk")
    ds = ws.get_default_datastore()
    assert isinstance(ds, AzureBlobDatastore) and ds.name == "workspaceblobstore"
    assert ds.datastore_type == "AzureBlob" and ds.container_name == "workspaceblobstore"
    assert list(ws.datastores) == ["workspaceblobstore"]
    ref = ds.upload(src_dir=str(_tree(tmp_path / "src")), target_path="train", overwrite=True, show_progress=True)
    assert isinstance(ref, DataPath) and ref.datastore_name == "workspaceblobstore"
    assert ref.path_on_datastore == "train"
    assert "Uploading to workspaceblobstore" in capsys.readouterr().err  # the tqdm bar
    assert [f.path for f in ds._files("train/**")] == ["train/a.csv", "train/sub/b.csv"]
    out = tmp_path / "out"
    assert ds.download(target_path=str(out), prefix="train", show_progress=False) == 2
    assert (out / "train" / "sub" / "b.csv").read_text() == "x,y\n3,4\n"
    assert ds.download(target_path=str(out), prefix="train", show_progress=False) == 0  # kept: overwrite=False
    assert ds.download(target_path=str(out), prefix="train/su", overwrite=True, show_progress=False) == 1  # v1 prefix
    # upload_files: paths relative to relative_root, under target_path
    files = [str(tmp_path / "src" / "a.csv"), str(tmp_path / "src" / "sub" / "b.csv")]
    ds.upload_files(files, relative_root=str(tmp_path), target_path="flat", show_progress=False)
    assert [f.path for f in ds._files("flat")] == ["flat/src/a.csv", "flat/src/sub/b.csv"]
    with pytest.raises(InvalidInput, match="not under relative_root"):
        ds.upload_files(files, relative_root=str(tmp_path / "src" / "sub"), show_progress=False)
    with pytest.raises(InvalidInput, match=r"escapes the datastore's root"):
        ds.upload(src_dir=str(tmp_path / "src"), target_path="../up", show_progress=False)
    with pytest.raises(NotFound, match="matches nothing"):
        ds.download(target_path=str(out), prefix="nothing/here", show_progress=False)
    assert Datastore(ws, "workspaceblobstore") == ds and Datastore(ws) == ds
    assert Datastore.get(ws, "WorkspaceBlobStore").name == "workspaceblobstore"
    with pytest.raises(NotFound, match="datastore 'nope' not found"):
        Datastore.get(ws, "nope")
    with pytest.raises(Conflict):
        ds.unregister()


def test_an_s3_datastore(service, s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:  # noqa: F811
    ws = service.workspace("dsk-s3")
    ds = Datastore.register_s3(ws, datastore_name="lake", bucket_name=s3_bucket, access_key_id=s3_server.access_key,
                               secret_access_key=s3_server.secret_key, endpoint_url=s3_server.endpoint_url,
                               region=s3_server.region, prefix="raw")
    assert isinstance(ds, S3Datastore) and ds.bucket_name == s3_bucket and ds.prefix == "raw"
    assert s3_server.secret_key not in repr(ds) and s3_server.secret_key not in repr(ds._record)
    ds.upload(src_dir=str(_tree(tmp_path / "src")), target_path="2026", show_progress=False)
    keys = sorted(o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert keys == ["raw/2026/a.csv", "raw/2026/sub/b.csv"]
    out = tmp_path / "out"
    assert ds.download(str(out), prefix="2026/sub", show_progress=True) == 1
    assert (out / "2026" / "sub" / "b.csv").read_text() == "x,y\n3,4\n"
    assert sorted(ws.datastores) == ["lake", "workspaceblobstore"]
    ws.set_default_datastore("lake")
    assert ws.get_default_datastore().name == "lake"
    ds.unregister()
    assert ws.get_default_datastore().name == "workspaceblobstore"
    assert ws.get_default_keyvault().list_secrets() == []
    secret = "Wr0ng-SDK-Secret-9876"
    with pytest.raises(Forbidden) as info:
        Datastore.register_s3(ws, "lake", s3_bucket, access_key_id=s3_server.access_key, secret_access_key=secret,
                              endpoint_url=s3_server.endpoint_url, region=s3_server.region)
    assert "lake" in str(info.value) and secret not in str(info.value)
    assert sorted(ws.datastores) == ["workspaceblobstore"]
    # no file the service wrote (its database and WAL, its log, blobs) holds either secret in plain text
    needles = (s3_server.secret_key.encode(), secret.encode())
    searched = [p for p in service.root.rglob("*") if p.is_file() and not p.is_symlink()]
    assert "service.log" in {p.name for p in searched}
    assert [p for p in searched if any(n in p.read_bytes() for n in needles)] == []
    assert any(s3_bucket.encode() in p.read_bytes() for p in searched)  # the search reaches the datastore's record


def test_a_local_datastore(service, tmp_path: Path) -> None:  # noqa: F811
    ws = service.workspace("dsk-local")
    folder = _tree(tmp_path / "shared")
    ds = Datastore.register_local(ws, "shared", str(folder))
    assert isinstance(ds, LocalDatastore) and ds.path_on_service == str(folder)
    assert [f.path for f in ds._files("**/*.csv")] == ["a.csv", "sub/b.csv"]
    os.symlink(tmp_path, folder / "out-link")
    with pytest.raises(InvalidInput, match="symbolic link"):
        ds.download(str(tmp_path / "dl"), prefix="out-link", show_progress=False)
    assert ds.path("sub/b.csv") == DataPath(ds, "sub/b.csv")
    with pytest.raises(AMLError):
        Datastore.register_local(ws, "missing", str(tmp_path / "nope"))
    assert Datastore.register_local(ws, "made", str(tmp_path / "made"), create_if_not_exists=True).name == "made"


def test_azure_blob_is_refused_until_adlfs_is_installed(service) -> None:  # noqa: F811
    ws = service.workspace("dsk-blob")
    with pytest.raises(InvalidInput, match="pip install adlfs"):
        Datastore.register_azure_blob_container(ws, "blob", container_name="data", account_name="acct",
                                                account_key="a2V5")
    assert list(ws.datastores) == ["workspaceblobstore"]


def test_the_v1_names_from_the_azureml_shim(service) -> None:  # noqa: F811
    from azureml.core import Datastore as V1Datastore
    from azureml.core.datastore import Datastore as V1Datastore2
    from azureml.data.abstract_datastore import AbstractDatastore
    from azureml.data.azure_storage_datastore import AbstractAzureStorageDatastore
    from azureml.data.azure_storage_datastore import AzureBlobDatastore as V1Blob
    from azureml.data.datapath import DataPath as V1DataPath

    assert V1Datastore is V1Datastore2 is Datastore and V1DataPath is DataPath and V1Blob is AzureBlobDatastore
    ds = V1Datastore.get_default(service.workspace("dsk-v1"))
    assert isinstance(ds, AbstractAzureStorageDatastore) and isinstance(ds, AbstractDatastore)
