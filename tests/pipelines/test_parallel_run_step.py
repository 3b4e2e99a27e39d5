"""ParallelRunStep (sdk/pipeline_parallel.py, sdk/parallel_run_driver.py) in a real pipeline on a real service:
a FileDataset of 20 files in mini-batches of 5 over 2 local processes and over 2 nodes of an AmlCompute (Dask
LocalCluster) cluster, rows appended to parallel_run_step.txt, and error_threshold counting failed files."""

from __future__ import annotations

import time
from pathlib import Path

from azureml.core import Dataset
from azureml.pipeline.core import Pipeline, PipelineData
from azureml.pipeline.steps import ParallelRunConfig, ParallelRunStep

from tests.e2e.conftest import write_script

ENTRY = """
import os, time

def init():
    global rank
    rank = os.environ["RANK"]

def run(mini_batch):
    time.sleep(0.6)  # long enough that every process gets mini-batches
    rows = []
    for path in mini_batch:
        name = os.path.basename(path)
        if name.startswith("bad"):
            raise ValueError("cannot score " + name)
        rows.append(f"{name} {int(open(path).read()) * 2} rank{rank}")
    return rows
"""
TABULAR = """
def run(frame):  # a TabularDataset's mini-batch: a pandas DataFrame of some of its rows
    return frame.assign(double=frame.x * 2)[["name", "double"]]
"""


def _files(folder: Path, good: int, bad: int = 0) -> Path:
    folder.mkdir(parents=True)
    for i in range(good):
        (folder / f"f{i:02d}.txt").write_text(str(i))
    for i in range(bad):
        (folder / f"bad{i:02d}.txt").write_text("0")
    return folder


def _cluster(service, ws_name: str, name: str, nodes: int) -> None:
    client = service.client()
    client.post(f"workspaces/{ws_name}/computes", {"name": name, "type": "AmlCompute", "max_nodes": nodes,
                                                   "idle_seconds_before_scaledown": 60})
    deadline = time.monotonic() + 120
    while client.get(f"workspaces/{ws_name}/computes/{name}")["state"] != "Running":
        assert time.monotonic() < deadline, "the cluster did not start"
        time.sleep(0.3)


def _rows(run, step: str, output: str, tmp_path: Path) -> list[list[str]]:
    found = run.find_step_run(step)[0].get_output_data(output).download(str(tmp_path / step))
    return [line.split() for line in (Path(found) / "parallel_run_step.txt").read_text().splitlines()]


def test_mini_batches_fan_out_over_processes_and_nodes_and_failures_count(service, tmp_path: Path) -> None:
    ws = service.workspace("batch")
    _cluster(service, "batch", "cpu-cluster", 2)
    store = ws.get_default_datastore()
    store.upload(src_dir=str(_files(tmp_path / "good", 20)), target_path="good", show_progress=False)
    store.upload(src_dir=str(_files(tmp_path / "mixed", 15, bad=5)), target_path="mixed", show_progress=False)
    good = Dataset.File.from_files(path=[(store, "good/**")]).register(ws, "good-files")
    mixed = Dataset.File.from_files(path=[(store, "mixed/**")]).register(ws, "mixed-files")
    src = write_script(tmp_path / "src", ENTRY, "score.py")
    write_script(src, TABULAR, "table.py")
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "rows.csv").write_text("name,x\n" + "".join(f"r{i},{i}\n" for i in range(30)))
    store.upload(src_dir=str(tmp_path / "csv"), target_path="csv", show_progress=False)
    table = Dataset.Tabular.from_delimited_files(path=[(store, "csv/rows.csv")])

    def step(name: str, dataset, target: str, nodes: int, processes: int, threshold: int, entry: str = "score.py",
             size: int | str = 5, **kw) -> ParallelRunStep:
        config = ParallelRunConfig(environment=None, entry_script=entry, source_directory=str(src),
                                   mini_batch_size=size, error_threshold=threshold, output_action="append_row",
                                   compute_target=target, node_count=nodes, process_count_per_node=processes, **kw)
        return ParallelRunStep(name, config, inputs=[dataset.as_named_input("files")], output=PipelineData(name))

    steps = [step("local", good, "local", 1, 2, 0),
             step("cluster", good, "cpu-cluster", 2, 1, 0),
             step("tolerant", mixed, "local", 1, 2, 5, run_max_try=2),  # 5 bad files: 5 is not more than 5
             step("strict", mixed, "local", 1, 1, 4, run_max_try=1),
             step("table", table, "local", 1, 2, 0, entry="table.py", size="200B")]
    run = Pipeline(ws, steps).submit("batch", continue_on_step_failure=True)
    assert run.wait_for_completion(show_output=False, timeout_seconds=240, raise_on_error=False) == "Failed"
    assert run.get_step_states() == {"local": "Completed", "cluster": "Completed", "tolerant": "Completed",
                                     "strict": "Failed", "table": "Completed"}

    expected = {f"f{i:02d}.txt": str(i * 2) for i in range(20)}
    for name in ("local", "cluster"):
        rows = _rows(run, name, name, tmp_path)
        assert {r[0]: r[1] for r in rows} == expected and len(rows) == 20  # every file once
        assert {r[2] for r in rows} == {"rank0", "rank1"}, rows  # both processes (nodes) took mini-batches
    cluster_run = run.find_step_run("cluster")[0]
    assert ws._api.get_run(ws.name, cluster_run.id)["compute_target"] == "cpu-cluster"

    tolerant = _rows(run, "tolerant", "tolerant", tmp_path)
    assert sorted(r[0] for r in tolerant) == [f"f{i:02d}.txt" for i in range(15)]
    logs = "\n".join(line["text"] for line in run.find_step_run("tolerant")[0].get_logs())
    assert "mini-batch 0 failed (try 1 of 2); trying it again" in logs
    assert "4 mini-batches (20 items) over 2 processes: 3 succeeded, 1 failed, 5 failed items" in logs

    table_rows = _rows(run, "table", "table", tmp_path)
    assert sorted(table_rows, key=lambda r: int(r[1])) == [[f"r{i}", str(i * 2)] for i in range(30)]
    table_logs = "\n".join(line["text"] for line in run.find_step_run("table")[0].get_logs())
    assert "30 items in " in table_logs and "30 items in 1 mini-batches" not in table_logs  # split by size

    error = run.find_step_run("strict")[0].get_details()["error"]["message"]
    assert error == ("process rank 0 (node 0): ParallelRunStepError: 5 failed items is more than error_threshold=4; "
                     "the first error: ValueError: cannot score bad00.txt at score.py:14 in run"), error
