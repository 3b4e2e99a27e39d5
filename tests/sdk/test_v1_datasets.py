"""v1 dataset code against a real service process: the workspace's blob store, a local-folder datastore, the
moto S3 server and a local http.server; the client reads the storage itself with the datastore's location."""

from __future__ import annotations

import functools
import http.server
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jupyter_aml.errors import Conflict, Forbidden, InvalidInput, NotFound
from jupyter_aml.sdk.dataset import Dataset, DataType, FileDataset, PromoteHeadersBehavior, TabularDataset
from jupyter_aml.sdk.datastore import Datastore
from tests.data.conftest import s3_bucket, s3_server  # noqa: F401 - the S3 fixtures
from tests.data.s3 import S3Server

TITANIC = "PassengerId,Survived,Pclass,Name,Age,Fare\n" + "".join(
    f"{i},{i % 2},{1 + i % 3},Name {i},{20 + i % 50},{7.25 + i}\n" for i in range(1, 201))

TUTORIAL = """
from azureml.core import Workspace, Dataset, Datastore

ws = Workspace.from_config()
datastore = ws.get_default_datastore()
datastore.upload(src_dir=data_folder, target_path='titanic', overwrite=True, show_progress=False)

titanic_ds = Dataset.Tabular.from_delimited_files(path=[(datastore, 'titanic/titanic.csv')])
titanic_ds = titanic_ds.register(workspace=ws, name='titanic_ds', description='titanic training data')

titanic_ds = Dataset.get_by_name(ws, name='titanic_ds')
df = titanic_ds.to_pandas_dataframe()
train_ds, test_ds = titanic_ds.random_split(percentage=0.8, seed=223)
train_df = train_ds.to_pandas_dataframe()
test_df = test_ds.to_pandas_dataframe()
"""


@pytest.fixture
def ws(service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    info = service.info()  # the service as a notebook finds it
    monkeypatch.setenv("JUPYTER_AML_URL", info["url"])
    monkeypatch.setenv("JUPYTER_AML_TOKEN", info["token"])
    workspace = service.workspace("e2e")
    workspace.write_config(tmp_path / "cfg")
    monkeypatch.chdir(tmp_path / "cfg")
    return workspace


def blob_folder(service: Any) -> Path:
    return Path(service.root) / "datastores" / "e2e" / "workspaceblobstore"


def test_v1_tutorial_runs_unchanged(ws: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "titanic.csv").write_text(TITANIC)
    scope: dict[str, Any] = {"data_folder": str(data)}
    exec(compile(TUTORIAL, "tutorial", "exec"), scope)
    df, train_df, test_df = scope["df"], scope["train_df"], scope["test_df"]
    pd.testing.assert_frame_equal(df, pd.read_csv(data / "titanic.csv"))
    assert len(train_df) + len(test_df) == 200 and 140 <= len(train_df) <= 180
    assert not set(train_df.PassengerId) & set(test_df.PassengerId)
    again = Dataset.get_by_name(ws, "titanic_ds").random_split(0.8, seed=223)[0].to_pandas_dataframe()
    pd.testing.assert_frame_equal(again, train_df)  # the same seed splits the same way
    assert isinstance(scope["titanic_ds"], TabularDataset) and scope["titanic_ds"].version == 1


def test_registration_versions_and_lookups(ws: Any, service: Any) -> None:
    folder = blob_folder(service) / "sales"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("id,amount,city\n1,10.5,Oslo\n2,,Rome\n3,30.0,Lima\n")
    store = Datastore.get(ws, "workspaceblobstore")
    ds = Dataset.Tabular.from_delimited_files(path=(store, "sales/*.csv"),
                                              set_column_types={"id": DataType.to_string()})
    assert ds.name is None and ds.id is None
    v1 = ds.register(ws, "sales", description="d", tags={"team": "x"})
    assert (v1.name, v1.version, v1.description, v1.tags) == ("sales", 1, "d", {"team": "x"}) and v1.id
    with pytest.raises(Conflict, match="already a dataset registered"):
        ds.register(ws, "sales")
    assert ds.register(ws, "sales", create_new_version=True).version == 1  # same definition, same version
    (folder / "a.csv").write_text("id,amount,city\n1,10.5,Oslo\n")
    with pytest.warns(UserWarning, match="files changed"):
        assert ds.register(ws, "sales", create_new_version=True).version == 1
    v2 = ds.filter(ds["amount"] > 5).keep_columns(["id", "amount"]).register(ws, "sales", create_new_version=True)
    assert v2.version == 2
    assert Dataset.get_by_name(ws, "sales", version=1).id == v1.id
    assert Dataset.get_by_id(ws, v1.id).version == 1
    assert list(ws.datasets) == ["sales"] and ws.datasets["sales"].version == 2
    frame = Dataset.get_by_name(ws, "sales").to_pandas_dataframe()
    assert frame.to_dict("list") == {"id": ["1"], "amount": [10.5]}
    profile = v1.get_profile()
    assert profile.row_count == 1 and profile.columns["amount"].mean == 10.5
    with pytest.raises(NotFound):
        Dataset.get_by_name(ws, "sales", version=7)
    v1.add_tags({"stage": "raw"}).remove_tags(["team"])
    assert Dataset.get_by_id(ws, v1.id).tags == {"stage": "raw"}
    assert v1.update(description="sales, v1", tags={"only": "this"}).description == "sales, v1"
    assert Dataset.get_by_name(ws, "sales", 1).tags == {"only": "this"}
    with pytest.raises(InvalidInput, match="not registered"):
        ds.add_tags({"x": "y"})
    v2.unregister_all_versions()
    assert ws.datasets == {}


def test_a_glob_matching_nothing_is_an_error_and_registers_nothing(ws: Any) -> None:
    store = Datastore.get(ws, "workspaceblobstore")
    with pytest.raises(NotFound, match="matches no file"):
        Dataset.File.from_files(path=[(store, "nothing/**")])
    lazy = Dataset.File.from_files(path=[(store, "nothing/**")], validate=False)
    with pytest.raises(NotFound, match="matches no file"):
        lazy.register(ws, "nothing")
    assert ws.datasets == {}
    with pytest.raises(InvalidInput, match="local path"):
        Dataset.File.from_files(path="/etc/passwd")
    with pytest.raises(InvalidInput, match="partition_format"):
        Dataset.File.from_files(path=[(store, "x")], partition_format="{a}/x")
    with pytest.raises(InvalidInput, match="not supported"):
        Dataset.Tabular.from_sql_query("select 1")


def test_file_dataset_to_path_download_and_mount(ws: Any, service: Any, tmp_path: Path) -> None:
    folder = blob_folder(service) / "imgs"
    (folder / "cats").mkdir(parents=True)
    (folder / "cats" / "a.png").write_bytes(b"A")
    (folder / "dogs" ).mkdir()
    (folder / "dogs" / "b.png").write_bytes(b"BB")
    (folder / "notes.txt").write_text("n")
    store = ws.get_default_datastore()
    files = Dataset.File.from_files(path=(store, "imgs/**/*.png"))
    assert isinstance(files, FileDataset) and files.to_path() == ["/cats/a.png", "/dogs/b.png"]
    registered = files.register(ws, "images")
    got = Dataset.get_by_name(ws, "images")
    assert isinstance(got, FileDataset) and got.id == registered.id
    local = got.download(target_path=tmp_path / "dl")
    assert sorted(Path(p).relative_to(tmp_path / "dl").as_posix() for p in local) == ["cats/a.png", "dogs/b.png"]
    with pytest.raises(Conflict, match="exists already"):
        got.download(target_path=tmp_path / "dl")
    assert len(got.download(target_path=tmp_path / "dl", overwrite=True)) == 2
    with got.mount() as context:
        mounted = Path(context.mount_point)
        assert (mounted / "dogs" / "b.png").read_bytes() == b"BB"
        assert (mounted / "dogs" / "b.png").is_symlink()  # a local file: linked, not copied
    assert not mounted.exists()
    context = got.mount(mount_point=tmp_path / "mnt")  # v1's start()/stop(), the folder known before start
    assert context.mount_point == str(tmp_path / "mnt")
    context.start()
    assert sorted(os.listdir(tmp_path / "mnt")) == ["cats", "dogs"]
    with pytest.raises(Conflict, match="not empty"):
        got.mount(mount_point=tmp_path / "mnt").start()
    context.stop()
    assert not (tmp_path / "mnt").exists()
    whole = Dataset.File.from_files(path=store.path("imgs"))  # a DataPath to a folder: every file under it
    assert whole.to_path() == ["/cats/a.png", "/dogs/b.png", "/notes.txt"]
    assert whole.take(1).to_path() == ["/cats/a.png"]
    first, rest = whole.random_split(0.5, seed=1)
    assert sorted(first.to_path() + rest.to_path()) == whole.to_path()


def test_local_folder_datastore_and_readers(ws: Any, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "2020" / "01").mkdir(parents=True)
    (shared / "2020" / "01" / "x.tsv").write_text("a\tb\n1\tp\n2\tq\n")
    (shared / "rows.jsonl").write_text('{"k": 1}\n{"k": 2}\n')
    store = Datastore.register_local(ws, "shared", str(shared))
    tsv = Dataset.Tabular.from_delimited_files(
        path=(store, "2020/**/*.tsv"), separator="\t", header=PromoteHeadersBehavior.ALL_FILES_HAVE_SAME_HEADERS,
        include_path=True, partition_format="{year}/{month}/x.tsv")
    frame = tsv.to_pandas_dataframe()
    assert list(frame.columns) == ["a", "b", "year", "month", "Path"] and frame.year.tolist() == ["2020", "2020"]
    assert tsv.take(1).to_pandas_dataframe().a.tolist() == [1] and tsv.skip(1).head(5).a.tolist() == [2]
    jl = Dataset.Tabular.from_json_lines_files(path=(store, "rows.jsonl"))
    assert jl.to_pandas_dataframe().k.tolist() == [1, 2]
    assert jl.get_profile().columns["k"].max == 2  # unregistered: computed here
    (shared / "bad.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(InvalidInput, match=r"shared/bad\.csv, line 3"):
        Dataset.Tabular.from_delimited_files(path=(store, "bad.csv"))


def test_s3_datastore_read_directly(ws: Any, s3_server: S3Server, s3_bucket: str) -> None:  # noqa: F811
    client = s3_server.client()
    client.put_object(Bucket=s3_bucket, Key="data/part-1.csv", Body=b"x,y\n1,2\n")
    client.put_object(Bucket=s3_bucket, Key="data/part-2.csv", Body=b"x,y\n3,4\n")
    store = Datastore.register_s3(ws, "lake", bucket_name=s3_bucket, access_key_id=s3_server.access_key,
                                  secret_access_key=s3_server.secret_key, endpoint_url=s3_server.endpoint_url,
                                  region=s3_server.region)
    table = Dataset.Tabular.from_delimited_files(path=[(store, "data/*.csv")]).register(ws, "lake_rows")
    assert Dataset.get_by_name(ws, "lake_rows").to_pandas_dataframe().x.tolist() == [1, 3]
    client.put_object(Bucket=s3_bucket, Key="data/part-1.csv", Body=b"x,y\n5,6\n")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert table.register(ws, "lake_rows", create_new_version=True).version == 1
    assert any("files changed" in str(w.message) for w in seen)
    files = Dataset.File.from_files(path=(store, "data/"))
    with files.mount() as context:
        mounted = Path(context.mount_point)
        assert sorted(os.listdir(mounted)) == ["part-1.csv", "part-2.csv"]
        assert not (mounted / "part-1.csv").is_symlink()  # not on this machine: downloaded
        assert (mounted / "part-1.csv").read_text() == "x,y\n5,6\n"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "www"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()


def test_http_urls(ws: Any, web: tuple[str, Path], tmp_path: Path) -> None:
    base, folder = web
    (folder / "iris.csv").write_text("sepal,species\n5.1,setosa\n6.2,virginica\n")
    iris = Dataset.Tabular.from_delimited_files(path=f"{base}/iris.csv")
    assert iris.to_pandas_dataframe().species.tolist() == ["setosa", "virginica"]
    registered = iris.register(ws, "iris")
    assert Dataset.get_by_name(ws, "iris").filter(registered["species"] == "setosa").to_pandas_dataframe().sepal \
        .tolist() == [5.1]
    files = Dataset.File.from_files(path=[f"{base}/iris.csv"])
    assert files.to_path() == ["/iris.csv"]
    assert Path(files.download(tmp_path / "web")[0]).read_text().startswith("sepal")


def test_a_reader_reads_folder_datastores_through_the_service(ws: Any, service: Any) -> None:
    from jupyter_aml.core.service import AMLService
    from jupyter_aml.core.settings import ServiceSettings
    from jupyter_aml.sdk.workspace import Workspace

    folder = blob_folder(service) / "shared"
    folder.mkdir(parents=True)
    (folder / "r.csv").write_text("a,b\n1,x\n2,y\n")
    Dataset.Tabular.from_delimited_files(path=(ws.get_default_datastore(), "shared/*.csv")).register(ws, "readable")
    ws._api.http.put("workspaces/e2e/members/rita", {"role": "Reader"})
    admin = AMLService(ServiceSettings(root=Path(service.root)))  # the service's own store: a token for rita
    token = admin.sharing.create_token("rita").token
    admin.close()
    reader_ws = Workspace("e2e", service_url=service.info()["url"], token=token)
    ds = Dataset.get_by_name(reader_ws, "readable")
    assert ds.to_pandas_dataframe().b.tolist() == ["x", "y"]  # no credentials: the files came through the service
    assert ds.preview(1)["rows"] == [[1, "x"]] and ds.get_profile().row_count == 2
    with pytest.raises(Forbidden, match="does not allow datasets/write"):
        ds.register(reader_ws, "readable", create_new_version=True)


def test_the_v1_import_paths() -> None:
    import azureml.core
    import azureml.data
    from azureml.core.dataset import Dataset as CoreDataset
    from azureml.data.abstract_dataset import AbstractDataset
    from azureml.data.dataset_factory import DataType as FactoryDataType
    from azureml.data.dataset_factory import FileDatasetFactory, TabularDatasetFactory
    from azureml.data.dataset_type_definitions import PromoteHeadersBehavior as Headers
    from azureml.data.file_dataset import FileDataset as ShimFile
    from azureml.data.tabular_dataset import TabularDataset as ShimTabular

    assert azureml.core.Dataset is CoreDataset is Dataset
    assert azureml.data.FileDataset is ShimFile is FileDataset and issubclass(ShimFile, AbstractDataset)
    assert azureml.data.TabularDataset is ShimTabular is TabularDataset
    assert azureml.data.DataType is FactoryDataType is DataType and Headers is PromoteHeadersBehavior
    assert Dataset.File is FileDatasetFactory and Dataset.Tabular is TabularDatasetFactory
    assert DataType.to_datetime("%Y").to_spec() == {"type": "datetime", "formats": ["%Y"]}
    with pytest.raises(InvalidInput, match="decimal_mark"):
        DataType.to_float(decimal_mark=",")


def test_register_pandas_dataframe(ws: Any) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    store = ws.get_default_datastore()
    first = Dataset.Tabular.register_pandas_dataframe(frame, (store, "frames"), "frame", description="df",
                                                      show_progress=False)
    assert first.version == 1 and first.description == "df"
    pd.testing.assert_frame_equal(Dataset.get_by_name(ws, "frame").to_pandas_dataframe(), frame)
    again = Dataset.Tabular.register_pandas_dataframe(frame.head(1), store, "frame", show_progress=False)
    assert again.version == 2 and len(again.to_pandas_dataframe()) == 1  # a new GUID folder: a new definition
