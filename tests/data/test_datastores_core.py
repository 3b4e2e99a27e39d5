"""Datastores on the real store (SQLite, or PostgreSQL with --database=postgresql) and a real S3 server:
workspaceblobstore on first use, local folders, S3 stores with credentials in the key vault, the default,
and registrations that fail leaving nothing behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from jupyter_aml.core import datastore_models as dm
from jupyter_aml.core.datastores import secret_name
from jupyter_aml.core.secretbox import MASTER_KEY_ENV
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.data import storage
from jupyter_aml.errors import Conflict, Forbidden, InvalidInput, NotFound
from jupyter_aml.store.tables import ActivityRow, DatastoreRow, SecretRow
from tests.data.s3 import S3Server


@pytest.fixture(autouse=True)
def no_master_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> Iterator[AMLService]:
    svc = AMLService(ServiceSettings(root=tmp_path / "root", database_url=database_url))
    svc.workspaces.get_or_create("w")
    yield svc
    svc.close()


def s3_spec(server: S3Server, bucket: str, **extra: object) -> dm.DatastoreCreate:
    body = {"name": "my_s3", "kind": "s3", "bucket_name": bucket, "endpoint_url": server.endpoint_url,
            "region": server.region, "access_key_id": server.access_key, "secret_access_key": server.secret_key,
            **extra}
    return dm.DatastoreCreate.model_validate(body)


def create(**body: object) -> dm.DatastoreCreate:
    return dm.DatastoreCreate.model_validate(body)


def rows(service: AMLService) -> list[str]:
    with service.db.read() as s:
        return sorted(s.scalars(select(DatastoreRow.name)))


def secrets(service: AMLService) -> list[str]:
    with service.db.read() as s:
        return sorted(s.scalars(select(SecretRow.name)))


def test_workspaceblobstore_is_made_on_first_use_and_is_the_default(service: AMLService, tmp_path: Path) -> None:
    listing = service.datastores.list("w")
    assert [d.name for d in listing.items] == ["workspaceblobstore"] and listing.default == "workspaceblobstore"
    blob = listing.items[0]
    assert blob.is_default and blob.datastore_type == "AzureBlob" and not blob.has_credentials
    with service.db.read() as s:  # reading wrote nothing: reads never wait for the database's writer
        assert s.scalar(select(DatastoreRow.id)) is None
    folder = service.datastores.blob_root("w")
    loc = service.datastores.location("w", "workspaceblobstore")
    assert folder == tmp_path / "root" / "datastores" / "w" / "workspaceblobstore" and folder.is_dir()
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    src = tmp_path / "f.csv"
    src.write_text("a\n1\n")
    assert storage.upload(loc, src, "in", overwrite=False) == ["in/f.csv"]
    assert (folder / "in" / "f.csv").read_text() == "a\n1\n"
    assert service.datastores.default("w").name == "workspaceblobstore"
    with pytest.raises(Conflict):
        service.datastores.delete("w", "workspaceblobstore")
    with pytest.raises(Conflict):
        service.datastores.register("w", create(name="WorkspaceBlobStore", kind="local",
                                                            path=str(tmp_path)), actor="alice")


def test_s3_credentials_live_in_the_key_vault_not_the_row(service: AMLService, s3_server: S3Server,
                                                          s3_bucket: str, tmp_path: Path) -> None:
    ds = service.datastores.register("w", s3_spec(s3_server, s3_bucket, prefix="data/"), actor="alice")
    assert ds.datastore_type == "S3" and ds.has_credentials and ds.location == f"s3://{s3_bucket}/data"
    assert s3_server.secret_key not in ds.model_dump_json()
    with service.db.read() as s:
        row = s.scalar(select(DatastoreRow).where(DatastoreRow.name == "my_s3"))
        assert row is not None
        assert s3_server.secret_key not in json.dumps(row.config) and s3_server.access_key not in json.dumps(row.config)
        sealed = s.scalar(select(SecretRow.value).where(SecretRow.name == secret_name("my_s3")))
        assert sealed and s3_server.secret_key not in sealed
    loc = service.datastores.location("w", "my_s3", actor="alice")
    assert loc.options["secret"] == s3_server.secret_key and loc.root == f"{s3_bucket}/data"
    src = tmp_path / "x.txt"
    src.write_text("hello")
    storage.upload(loc, src, "", overwrite=False)
    assert s3_server.client().get_object(Bucket=s3_bucket, Key="data/x.txt")["Body"].read() == b"hello"
    with service.db.read() as s:
        reads = s.scalars(select(ActivityRow).where(ActivityRow.action == "secrets/getvalue")).all()
    assert [(r.user, r.target) for r in reads] == [("alice", "datastore-my-s3")]
    # case-insensitive, as v1's names
    assert service.datastores.get("w", "MY_S3").name == "my_s3"
    with pytest.raises(Conflict, match="already exists"):
        service.datastores.register("w", s3_spec(s3_server, s3_bucket, name="My_S3"), actor="alice")


def test_wrong_credentials_name_the_store_and_leave_nothing(service: AMLService, s3_server: S3Server,
                                                            s3_bucket: str) -> None:
    service.datastores.list("w")
    before_rows, before_secrets = rows(service), secrets(service)
    wrong = "Wr0ng-Secret-Key-That-Must-Not-Leak"
    with pytest.raises(Forbidden) as info:
        service.datastores.register("w", s3_spec(s3_server, s3_bucket, secret_access_key=wrong), actor="alice")
    text = str(info.value) + json.dumps(info.value.to_dict())
    assert "my_s3" in text and s3_bucket in text and wrong not in text
    with pytest.raises(NotFound) as missing:
        service.datastores.register("w", s3_spec(s3_server, "no-such-bucket-here"), actor="alice")
    assert "my_s3" in str(missing.value)
    assert rows(service) == before_rows and secrets(service) == before_secrets
    with pytest.raises(NotFound):
        service.datastores.get("w", "my_s3")


def test_skip_validation_and_create_if_not_exists(service: AMLService, s3_server: S3Server) -> None:
    spec = s3_spec(s3_server, "made-by-register", create_if_not_exists=True)
    service.datastores.register("w", spec, actor="alice")
    assert "made-by-register" in [b["Name"] for b in s3_server.client().list_buckets()["Buckets"]]
    lazy = s3_spec(s3_server, "not-there-yet", name="lazy", skip_validation=True)
    assert service.datastores.register("w", lazy, actor="alice").name == "lazy"


def test_local_folders(service: AMLService, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("a")
    ds = service.datastores.register("w", create(name="local_data", kind="local", path=str(data)),
                                     actor="alice")
    assert ds.datastore_type == "LocalFolder" and ds.path == str(data) and not ds.has_credentials
    assert secrets(service) == []
    loc = service.datastores.location("w", "local_data")
    assert [f.path for f in storage.list_files(loc, "**")] == ["a.txt"]
    with pytest.raises(NotFound, match="not an existing folder"):
        service.datastores.register("w", create(name="gone", kind="local", path=str(tmp_path / "no")),
                                    actor="alice")
    made = service.datastores.register("w", create(name="made", kind="local",
                                                               path=str(tmp_path / "new"), create_if_not_exists=True),
                                       actor="alice")
    assert made.name == "made" and (tmp_path / "new").is_dir()
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(InvalidInput, match="cannot create the folder"):
        service.datastores.register("w", create(name="under_file", kind="local", path=str(tmp_path / "a-file" / "x"),
                                                create_if_not_exists=True), actor="alice")
    for bad in ("relative/path", str(tmp_path / "root"), str(tmp_path / "root" / "datastores"), str(tmp_path), "/"):
        with pytest.raises(InvalidInput):
            service.datastores.register("w", create(name="bad", kind="local", path=bad), actor="alice")
    assert "bad" not in rows(service)


def test_default_datastore(service: AMLService, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    service.datastores.register("w", create(name="other", kind="local", path=str(tmp_path / "other")),
                                actor="alice")
    assert service.datastores.set_default("w", "OTHER").is_default
    listing = service.datastores.list("w")
    assert listing.default == "other" and [d.name for d in listing.items if d.is_default] == ["other"]
    service.datastores.delete("w", "other", actor="alice")
    assert service.datastores.default("w").name == "workspaceblobstore"
    with pytest.raises(NotFound, match="datastore 'nope' not found"):
        service.datastores.set_default("w", "nope")


def test_delete_leaves_no_secret_behind(service: AMLService, s3_server: S3Server, s3_bucket: str,
                                        tmp_path: Path) -> None:
    service.datastores.register("w", s3_spec(s3_server, s3_bucket), actor="alice")
    assert secrets(service) == ["datastore-my-s3"]
    service.datastores.delete("w", "my_s3", actor="alice")
    assert secrets(service) == [] and "my_s3" not in rows(service)
    # overwrite an S3 store with a local one: its credentials go too
    service.datastores.register("w", s3_spec(s3_server, s3_bucket), actor="alice")
    service.datastores.register("w", create(name="my_s3", kind="local", path=str(tmp_path / "x"),
                                                        create_if_not_exists=True, overwrite=True), actor="alice")
    assert secrets(service) == [] and service.datastores.get("w", "my_s3").kind == "local"


def test_a_users_own_secret_of_that_name_is_not_taken_over(service: AMLService, tmp_path: Path,
                                                            s3_server: S3Server, s3_bucket: str) -> None:
    service.keyvault.set_secret("w", "datastore-my-s3", "mine", actor="bob")
    with pytest.raises(Conflict, match="no datastore owns"):
        service.datastores.register("w", s3_spec(s3_server, s3_bucket), actor="alice")
    assert service.keyvault.get_secret("w", "datastore-my-s3") == "mine"


def test_azure_blob_needs_adlfs(service: AMLService) -> None:
    spec = create(name="blob", kind="azure_blob", container_name="data", account_name="acct",
                              account_key="a2V5", skip_validation=True)
    with pytest.raises(InvalidInput, match="pip install adlfs") as info:
        service.datastores.register("w", spec, actor="alice")
    assert "blob" in str(info.value) and "a2V5" not in str(info.value)
    assert secrets(service) == [] and "blob" not in rows(service)


def test_bad_registrations_are_clear(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="bucket_name\n  Extra inputs are not permitted"):
        dm.DatastoreCreate.model_validate({"name": "x", "kind": "local", "path": "/tmp", "bucket_name": "bkt"})
    with pytest.raises(ValidationError, match=r"s3\.bucket_name\n  Field required"):
        dm.DatastoreCreate.model_validate({"name": "x", "kind": "s3"})
    with pytest.raises(ValidationError, match="account_key or sas_token"):
        dm.DatastoreCreate.model_validate({"name": "x", "kind": "azure_blob", "container_name": "c",
                                           "account_name": "acct", "account_key": "k", "sas_token": "s"})
    with pytest.raises(ValidationError, match="both access_key_id and secret_access_key"):
        dm.DatastoreCreate.model_validate({"name": "x", "kind": "s3", "bucket_name": "bkt", "access_key_id": "k"})
    with pytest.raises(ValidationError):
        dm.DatastoreCreate.model_validate({"name": "has-dash", "kind": "local", "path": "/tmp"})
    spec = dm.DatastoreCreate.model_validate({"name": "x", "kind": "s3", "bucket_name": "bkt",
                                              "access_key_id": "k", "secret_access_key": "TOPSECRET"})
    assert "TOPSECRET" not in repr(spec) and "TOPSECRET" not in spec.model_dump_json()
    with pytest.raises(ValidationError) as info:  # an error never quotes what it was given
        dm.DatastoreCreate.model_validate({"name": "x", "kind": "s3", "bucket_name": "bkt", "access_key_id": "k",
                                           "secret_access_key": "TOPSECRET" * 1000})
    assert "TOPSECRET" not in str(info.value)
