"""Datasets inside real runs (core/run_data.py, agent/datasets.py), against the real service and a real S3
server: ``as_named_input(...).as_mount()`` / ``as_download()`` as script arguments and through
``run_config.data``, ``run.input_datasets`` in the script (a folder, or the dataset itself), an
``OutputFileDatasetConfig`` copied to its destination and registered on completion, lineage both ways, and
what is refused at submit."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.sdk import Dataset, Datastore, Experiment, OutputFileDatasetConfig, Run, ScriptRunConfig
from tests.data.s3 import S3Server
from tests.e2e.conftest import service, wait_status, write_script  # noqa: F401 - the real service process

SCRIPT = """
import argparse, os, sys
from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--mounted")
parser.add_argument("--downloaded")
parser.add_argument("--out")
args = parser.parse_args()
run = Run.get_context()
for label, folder in (("mounted", args.mounted), ("downloaded", args.downloaded)):
    names = sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)
    print(label, names)
print("same folder:", run.input_datasets["raw"] == args.mounted)
table = run.input_datasets["table"].to_pandas_dataframe()
print("rows", len(table), "sum", int(table["x"].sum()))
print("from run_config.data:", sorted(os.listdir(run.input_datasets["extra"])))
with open(os.path.join(args.out, "summary.txt"), "w") as f:
    f.write(f"rows={len(table)}\\n")
os.makedirs(os.path.join(args.out, "deep"), exist_ok=True)
with open(os.path.join(args.out, "deep", "more.txt"), "w") as f:
    f.write("more\\n")
print("AZUREML_DATAREFERENCE_out" in os.environ)
from azureml.core import Dataset
ws = run.experiment.workspace  # v1 scripts also look datasets up by name, with the run's own token
print("by name:", Dataset.get_by_name(ws, "raw files").to_path())
"""


def _lines(run) -> list[str]:
    return [line["text"] for line in run.get_logs()]


def _data(folder: Path) -> Path:
    (folder / "part" / "2024").mkdir(parents=True)
    (folder / "part" / "a.csv").write_text("x,y\n1,2\n3,4\n")
    (folder / "part" / "2024" / "b.csv").write_text("x,y\n5,6\n")
    return folder


def test_inputs_outputs_and_lineage_in_a_real_run(service, tmp_path: Path, s3_server: S3Server,  # noqa: F811
                                                  s3_bucket: str) -> None:
    ws = service.workspace("dsrun")
    blob = ws.get_default_datastore()
    blob.upload(src_dir=str(_data(tmp_path / "src")), target_path="raw", show_progress=False)
    s3 = Datastore.register_s3(ws, "lake", s3_bucket, access_key_id=s3_server.access_key,
                               secret_access_key=s3_server.secret_key, endpoint_url=s3_server.endpoint_url,
                               region=s3_server.region)
    s3.upload(src_dir=str(_data(tmp_path / "lake")), target_path="lake", show_progress=False)

    raw = Dataset.File.from_files(path=[(blob, "raw/part/**")]).register(ws, "raw files")  # v1 names have spaces
    table = Dataset.Tabular.from_delimited_files(path=[(s3, "lake/part/**/*.csv")]).register(ws, "lake-table")
    extra = Dataset.File.from_files(path=[(s3, "lake/part/a.csv")])  # never registered: anonymous at submit
    output = OutputFileDatasetConfig(name="out", destination=(blob, "prepared/{run-id}")).register_on_complete(
        "prepared", description="what the run wrote", tags={"stage": "prep"})

    src = ScriptRunConfig(
        source_directory=str(write_script(tmp_path / "proj", SCRIPT)), script="script.py",
        arguments=["--mounted", raw.as_named_input("raw").as_mount(),
                   "--downloaded", raw.as_named_input("raw_copy").as_download(), "--out", output])
    # v1's other way in: run_config.data (a tabular input rides as itself, a file input as its folder)
    src.run_config.data = {"extra": extra.as_named_input("extra").as_download(), "table": table.as_named_input("table")}
    run = Experiment(ws, "with-data").submit(src)
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=180) == "Completed", \
        "\n".join(_lines(run)[-40:])
    text = "\n".join(_lines(run))
    assert "mounted ['2024/b.csv', 'a.csv']" in text and "downloaded ['2024/b.csv', 'a.csv']" in text
    assert "same folder: True" in text
    assert "rows 3 sum 9" in text  # the tabular input, read from S3 inside the script
    assert "from run_config.data: ['a.csv']" in text
    # moto with IAM authentication takes no presigned URLs: the agent streams through the service instead
    print(text)
    assert "the object store refused a presigned URL for 'a.csv'" in text and "1 file(s), 12 bytes" in text
    assert "input 'raw' (raw files:1, mount): 2 file(s)" in text
    assert "by name: ['/2024/b.csv', '/a.csv']" in text  # the blob store: through the run's route
    assert any(line.strip() == "True" for line in _lines(run))  # v1's AZUREML_DATAREFERENCE_<name> is set

    # the output landed on its datastore and became a dataset version, with lineage both ways
    files = sorted(f.path for f in blob._files(f"prepared/{run.id}/**"))
    assert files == [f"prepared/{run.id}/deep/more.txt", f"prepared/{run.id}/summary.txt"]
    prepared = _eventually(lambda: Dataset.get_by_name(ws, "prepared"))
    assert prepared.tags == {"stage": "prep"} and sorted(prepared.to_path()) == ["/deep/more.txt", "/summary.txt"]
    seen = Run(Experiment(ws, "with-data"), run.id)
    assert sorted(seen.input_datasets) == ["extra", "raw", "raw_copy", "table"]
    assert seen.input_datasets["table"].name == "lake-table"
    extra = seen.input_datasets["extra"]  # unregistered: saved with an id only, as in v1, and not listed
    assert extra.name is None and extra.version is None and extra.id
    assert "extra" not in Dataset.get_all(ws) and not any(n.startswith("anonymous-") for n in Dataset.get_all(ws))
    saved_name = ws._api.get_dataset_by_id(ws.name, extra.id)["name"]
    assert _eventually(lambda: seen.output_datasets["out"]).name == "prepared"
    lineage = ws._api.dataset_lineage(ws.name, "raw files")["items"]
    assert sorted((e["run_id"], e["direction"], e["name"]) for e in lineage) == [
        (run.id, "input", "raw"), (run.id, "input", "raw_copy")]
    written = ws._api.dataset_lineage(ws.name, "prepared")["items"]
    assert [(e["run_id"], e["direction"], e["name"]) for e in written] == [(run.id, "output", "out")]
    by_run = ws._api.run_lineage(ws.name, run.id)["items"]
    assert sorted((e["dataset_name"], e["direction"], e["name"]) for e in by_run) == [
        (saved_name, "input", "extra"), ("lake-table", "input", "table"),
        ("prepared", "output", "out"), ("raw files", "input", "raw"), ("raw files", "input", "raw_copy")]
    with pytest.raises(NotFound, match="not-a-run"):  # a run the workspace does not have: 404, not an empty list
        ws._api.run_lineage(ws.name, "not-a-run")


def _eventually(get, timeout: float = 30):
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            return get()
        except (NotFound, KeyError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_what_cannot_work_is_refused_at_submit(service, tmp_path: Path) -> None:  # noqa: F811
    ws = service.workspace("dsbad")
    blob = ws.get_default_datastore()
    blob.upload(src_dir=str(_data(tmp_path / "src")), target_path="raw", show_progress=False)
    table = Dataset.Tabular.from_delimited_files(path=[(blob, "raw/part/*.csv")]).register(ws, "t")
    folder = str(write_script(tmp_path / "proj", "print('never')\n"))
    with pytest.raises(InvalidInput, match="as_mount\\(\\) is for a FileDataset"):
        table.as_named_input("t").as_mount()
    exp = Experiment(ws, "bad-data")
    gone = Dataset.File.from_files(path=[(blob, "raw/part/a.csv")]).register(ws, "gone")
    src = ScriptRunConfig(folder, "script.py", arguments=[gone.as_named_input("gone").as_mount()])
    gone.unregister_all_versions()
    with pytest.raises(NotFound, match="no dataset with id"):
        exp.submit(src)
    twice = ScriptRunConfig(folder, "script.py", arguments=[table.as_named_input("same"),
                                                           OutputFileDatasetConfig(name="same")])
    with pytest.raises(InvalidInput, match="more than once"):
        exp.submit(twice)
    nowhere = ScriptRunConfig(folder, "script.py", arguments=[OutputFileDatasetConfig(
        name="o", destination=(blob, "../outside/{run-id}"))])
    with pytest.raises(InvalidInput, match="escapes"):
        exp.submit(nowhere)
    with pytest.raises(NotFound, match="experiment 'bad-data' not found"):  # no run was created, nor its experiment
        list(Run.list(exp))


def test_an_s3_input_is_read_straight_from_the_store_with_a_presigned_url(service, tmp_path: Path) -> None:  # noqa: F811
    """moto without IAM authentication takes presigned URLs, as S3 and MinIO do: the agent reads the objects
    itself, and the service streams nothing."""
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    moto.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="k", aws_secret_access_key="s",
                     region_name="us-east-1").create_bucket(Bucket="open-bucket")
        ws = service.workspace("dspresigned")
        store = Datastore.register_s3(ws, "open", "open-bucket", access_key_id="k", secret_access_key="s",
                                      endpoint_url=endpoint, region="us-east-1")
        store.upload(src_dir=str(_data(tmp_path / "lake")), target_path="lake", show_progress=False)
        files = Dataset.File.from_files(path=[(store, "lake/part/**")])
        script = "import os, sys\nprint('got', sorted(os.listdir(sys.argv[1])))\n"
        src = ScriptRunConfig(str(write_script(tmp_path / "proj", script)), "script.py",
                              arguments=[files.as_named_input("lake").as_download()])
        run = Experiment(ws, "presigned").submit(src)
        assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=180) == "Completed", \
            "\n".join(_lines(run)[-30:])
        text = "\n".join(_lines(run))
        assert "got ['2024', 'a.csv']" in text
        assert "2 read straight from the object store" in text and "refused a presigned URL" not in text
    finally:
        moto.stop()


def test_as_upload_without_overwrite_keeps_what_is_at_the_destination(service, tmp_path: Path) -> None:  # noqa: F811
    ws = service.workspace("dsupload")
    blob = ws.get_default_datastore()
    folder = str(write_script(tmp_path / "proj", "import sys, os\nopen(os.path.join(sys.argv[1], 'r.txt'), 'w')"
                                                 ".write('x')\n"))
    exp = Experiment(ws, "upload")

    def once(overwrite: bool) -> Run:
        out = OutputFileDatasetConfig(name="o", destination=(blob, "fixed")).as_upload(overwrite=overwrite)
        run = exp.submit(ScriptRunConfig(folder, "script.py", arguments=[out]))
        wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=120)
        return run

    assert once(False).get_status() == "Completed"
    refused = once(False)  # fixed/r.txt is there now
    assert refused.get_status() == "Failed"
    assert "already exist on datastore 'workspaceblobstore'" in "\n".join(_lines(refused))
    assert once(True).get_status() == "Completed"
