"""service.datasets on the real store (SQLite, or PostgreSQL with --database=postgresql), real datastores (the
workspace's blob store, a local folder, the moto S3 server) and a local http.server for URL paths."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from jupyter_aml.core import dataset_models as dm
from jupyter_aml.core import datastore_models as dsm
from jupyter_aml.core.secretbox import MASTER_KEY_ENV
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.store.tables import DatasetRow
from tests.data.s3 import S3Server

CSV = "id,score,city\n1,0.5,Oslo\n2,1.5,\n3,2.5,Rome\n"


@pytest.fixture(autouse=True)
def no_master_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> Iterator[AMLService]:
    svc = AMLService(ServiceSettings(root=tmp_path / "root", database_url=database_url))
    svc.workspaces.get_or_create("w")
    yield svc
    svc.close()


@pytest.fixture
def blob(service: AMLService) -> Path:
    """The workspace's blob store folder, with two CSV files under data/."""
    folder = service.datastores.blob_root("w")
    (folder / "data" / "more").mkdir(parents=True)
    (folder / "data" / "a.csv").write_text(CSV)
    (folder / "data" / "more" / "b.csv").write_text("id,score,city\n4,3.5,Lima\n")
    return folder


def tabular(path: str = "data/**/*.csv", store: str = "workspaceblobstore", **reader: object) -> dm.DatasetDefinition:
    return dm.DatasetDefinition.model_validate(
        {"kind": "tabular", "paths": [{"datastore": store, "path": path}], "reader": {"format": "delimited", **reader}})


def create(name: str, definition: dm.DatasetDefinition, **kw: object) -> dm.DatasetCreate:
    return dm.DatasetCreate.model_validate({"name": name, "definition": definition.model_dump(), **kw})


def count(service: AMLService) -> int:
    with service.db.read() as s:
        return len(list(s.scalars(select(DatasetRow.id))))


def test_register_versions_by_definition(service: AMLService, blob: Path) -> None:
    first = service.datasets.register("w", create("sales", tabular(), description="d", tags={"t": "1"}),
                                      created_by="alice")
    assert (first.version, first.file_count, first.kind, first.existing) == (1, 2, "tabular", False)
    assert first.total_size == len(CSV) + len("id,score,city\n4,3.5,Lima\n") and first.tags == {"t": "1"}
    with pytest.raises(Conflict, match="already a dataset registered under name 'sales'"):
        service.datasets.register("w", create("sales", tabular()))
    same = service.datasets.register("w", create("sales", tabular(), create_new_version=True))
    assert (same.version, same.id, same.existing, same.data_changed) == (1, first.id, True, False)
    # the files change, the definition does not: still version 1 (v1: a version is its definition)
    (blob / "data" / "a.csv").write_text(CSV + "9,9.5,Nice\n")
    changed = service.datasets.register("w", create("sales", tabular(), create_new_version=True))
    assert (changed.version, changed.existing, changed.data_changed) == (1, True, True)
    assert changed.fingerprint == first.fingerprint  # the version keeps what it was registered on
    second = service.datasets.register("w", create("sales", tabular(path="data/a.csv"), create_new_version=True))
    assert second.version == 2 and second.file_count == 1 and second.fingerprint != first.fingerprint
    assert [d.version for d in service.datasets.versions("w", "sales")] == [2, 1]
    assert service.datasets.get("w", "sales").version == 2
    assert service.datasets.get("w", "sales", 1).id == first.id
    assert service.datasets.get_by_id("w", first.id).version == 1
    assert [d.name for d in service.datasets.latest("w")] == ["sales"]
    with pytest.raises(NotFound):
        service.datasets.get("w", "sales", 3)
    with pytest.raises(NotFound):
        service.datasets.get_by_id("w", "no-such-id")


def test_a_glob_matching_nothing_registers_nothing(service: AMLService, blob: Path) -> None:
    with pytest.raises(NotFound, match="matches no file"):
        service.datasets.register("w", create("empty", tabular(path="nothing/**/*.csv")))
    with pytest.raises(NotFound, match="datastore"):
        service.datasets.register("w", create("empty", tabular(store="nostore")))
    with pytest.raises(InvalidInput, match="escapes"):
        service.datasets.register("w", create("empty", tabular(path="../../etc/*")))
    with pytest.raises(InvalidInput):
        service.datasets.register("w", create("empty", dm.DatasetDefinition.model_validate({
            "kind": "tabular", "paths": [{"datastore": "workspaceblobstore", "path": "data/a.csv"}],
            "reader": {}, "transformations": [{"op": "explode"}]})))
    assert count(service) == 0


def test_preview_profile_once_and_delete(service: AMLService, blob: Path) -> None:
    service.datasets.register("w", create("sales", tabular(path="data/a.csv")))
    preview = service.datasets.preview("w", "sales", rows=2)
    assert [c.name for c in preview.columns] == ["id", "score", "city"]
    assert preview.rows == [[1, 0.5, "Oslo"], [2, 1.5, None]]
    profile = service.datasets.profile("w", "sales")
    assert profile.row_count == 3
    score = next(c for c in profile.columns if c.name == "score")
    assert (score.type, score.min, score.max, score.mean, score.missing) == ("float", 0.5, 2.5, 1.5, 0)
    assert next(c for c in profile.columns if c.name == "city").missing == 1
    (blob / "data" / "a.csv").write_text("id,score,city\n7,7.0,X\n")
    again = service.datasets.profile("w", "sales")  # kept: computed once per version
    assert again.row_count == 3 and again.computed_at == profile.computed_at
    gone = service.datasets.delete("w", "sales")
    assert (gone.deleted, gone.versions) == ("sales", 1) and count(service) == 0
    assert (blob / "data" / "a.csv").exists()  # the data stays where it is
    with pytest.raises(NotFound):
        service.datasets.delete("w", "sales")


def test_transformations_and_file_datasets(service: AMLService, blob: Path) -> None:
    steps = [{"op": "filter", "expression": {"op": "gt", "args": [{"col": "score"}, {"lit": 1}]}},
             {"op": "keep_columns", "columns": ["id"]}]
    definition = tabular().model_copy(update={"transformations": steps})
    service.datasets.register("w", create("big", definition))
    assert service.datasets.preview("w", "big").rows == [[2], [3], [4]]
    files = dm.DatasetDefinition.model_validate(
        {"kind": "file", "paths": [{"datastore": "workspaceblobstore", "path": "data"}],
         "transformations": [{"op": "take", "count": 1}]})
    made = service.datasets.register("w", create("raw", files))
    assert made.file_count == 1
    assert service.datasets.preview("w", "raw").rows == [["workspaceblobstore/data/a.csv", len(CSV)]]
    with pytest.raises(InvalidInput, match="only tabular datasets have a profile"):
        service.datasets.profile("w", "raw")


def test_a_file_that_does_not_parse_names_file_and_line(service: AMLService, blob: Path) -> None:
    (blob / "data" / "bad.csv").write_text("id,score\n1,2\n3,4,5\n")
    service.datasets.register("w", create("bad", tabular(path="data/bad.csv")))
    with pytest.raises(InvalidInput, match=r"workspaceblobstore/data/bad\.csv, line 3"):
        service.datasets.preview("w", "bad")
    (blob / "data" / "typed.csv").write_text("id,n\n1,2\n2,oops\n")
    service.datasets.register("w", create("typed", tabular(path="data/typed.csv", set_column_types={
        "n": {"type": "long"}})))
    assert service.datasets.preview("w", "typed").rows == [[1, 2], [2, None]]  # as to_pandas_dataframe's default
    assert service.datasets.profile("w", "typed").columns[1].missing == 1


def test_local_folder_and_s3_datastores(service: AMLService, tmp_path: Path, s3_server: S3Server,
                                        s3_bucket: str) -> None:
    folder = tmp_path / "shared"
    (folder / "p").mkdir(parents=True)
    import pyarrow as pa

    pq.write_table(pa.table({"x": [1, 2, 3]}), folder / "p" / "x.parquet")
    service.datastores.register("w", dsm.DatastoreCreate(name="mine", kind="local", path=str(folder)), actor="a")
    service.datasets.register("w", create("pq", tabular(path="p/*.parquet", store="mine", format="parquet")))
    assert service.datasets.profile("w", "pq").columns[0].mean == 2.0
    s3_server.client().put_object(Bucket=s3_bucket, Key="in/data.csv", Body=CSV.encode())
    service.datastores.register("w", dsm.DatastoreCreate.model_validate({
        "name": "s3store", "kind": "s3", "bucket_name": s3_bucket, "endpoint_url": s3_server.endpoint_url,
        "region": s3_server.region, "access_key_id": s3_server.access_key,
        "secret_access_key": s3_server.secret_key}), actor="a")
    made = service.datasets.register("w", create("s3ds", tabular(path="in/*.csv", store="s3store")))
    assert made.file_count == 1 and len(made.fingerprint) == 64
    assert service.datasets.preview("w", "s3ds").rows[0] == [1, 0.5, "Oslo"]
    with service.db.read() as s:  # the definition names the store, never its credentials
        stored = s.scalar(select(DatasetRow).where(DatasetRow.name == "s3ds"))
        assert stored is not None and s3_server.secret_key not in str(stored.definition)


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()


def test_http_url_paths(service: AMLService, http_folder: tuple[str, Path]) -> None:
    base, folder = http_folder
    (folder / "t.csv").write_text(CSV)
    definition = dm.DatasetDefinition.model_validate(
        {"kind": "tabular", "paths": [{"url": f"{base}/t.csv"}], "reader": {}})
    made = service.datasets.register("w", create("web", definition))
    assert made.file_count == 1 and made.total_size == len(CSV)
    assert service.datasets.profile("w", "web").row_count == 3
    missing = dm.DatasetDefinition.model_validate(
        {"kind": "tabular", "paths": [{"url": f"{base}/nope.csv"}], "reader": {}})
    with pytest.raises(NotFound, match=r"nope\.csv"):
        service.datasets.register("w", create("web2", missing))
    # URLs that do not parse are bad input naming the URL, and nothing is registered
    for url, reason in (("https://[::1", "not a valid URL"), ("http://example.com:99999/t.csv", "not a valid URL"),
                        ("http://", "names no host")):
        bad = dm.DatasetDefinition.model_validate({"kind": "tabular", "paths": [{"url": url}], "reader": {}})
        with pytest.raises(InvalidInput, match=reason):
            service.datasets.register("w", create("web3", bad))
    with pytest.raises(NotFound):
        service.datasets.get("w", "web3")
