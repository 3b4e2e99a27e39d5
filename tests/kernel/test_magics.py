"""The %aml_* magics in a real kernel against a real service: each form, and refusals that submit nothing."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.e2e.conftest import wait_status
from tests.kernel.conftest import Kernel, run_count

WIDGET = "application/vnd.jupyter.widget-view+json"


def load(kernel: Kernel) -> None:
    assert kernel.run("%load_ext jupyter_aml").status == "ok"


def run_record(ws, run_id: str) -> dict:
    return ws._client.get(ws._path("runs", run_id))


def snapshot_files(ws, record: dict) -> dict[str, str]:
    snap = ws._client.get(ws._path("snapshots", record["snapshot_id"]))
    return {f["path"]: f["sha256"] for f in snap["files"]}


def test_help_and_refusals_submit_nothing(kernel, workspace):
    load(kernel)
    (kernel.folder / "train.py").write_text("print('hi')\n")
    help_reply = kernel.run("%aml_submit --help")
    assert help_reply.status == "ok"
    assert help_reply.stdout.startswith("usage: %aml_submit")
    for option in ("--experiment", "--compute", "--environment", "--tag", "--workspace", "--parameter"):
        assert option in help_reply.stdout
    assert "usage: %aml_runs" in kernel.run("%aml_runs --help").stdout
    assert "usage: %aml_show" in kernel.run("%aml_show -h").stdout

    ws = f"-w {workspace.name}"
    refusals = {
        f"%aml_submit --bogus train.py {ws}": "unrecognized arguments: --bogus",
        f"%aml_submit missing.py {ws}": "script 'missing.py' not found",
        f"%aml_submit {ws}": "which script?",
        f"%aml_submit train.py -p lr 0.1 {ws}": "-p/--parameter is for notebooks",
        f"%aml_submit train.py --tag novalue {ws}": "--tag wants KEY=VALUE",
        f"%aml_submit train.py -c nowhere {ws}": "compute target 'nowhere' does not exist",
        f"%aml_submit train.py --environment nothere.txt {ws}": "neither an Environment",
        f"%aml_submit train.py -e 'bad name!' {ws}": "experiment name 'bad name!' is not valid",
        "%aml_submit train.py -w 'bad ws!'": "invalid request: name",  # refused by the service
        f"%%aml_submit train.py {ws}\nprint(1)": "the cell is the script",
        f"%%aml_submit {ws}\n   \n": "the cell is empty",
        "%aml_runs --limit 0": "--limit must be between 1 and 500",
        f"%aml_show no-such-run {ws}": "not found",
    }
    for line, message in refusals.items():
        reply = kernel.run(line)
        assert reply.status == "error", line
        assert reply.error["ename"] == "UsageError", (line, reply.error)
        first, _, hint = reply.error["evalue"].partition("\n")
        assert message in first, (line, first)
        assert hint.startswith("hint: "), (line, reply.error["evalue"])
        assert "Traceback" not in reply.stderr
    assert run_count(workspace) == 0
    assert sorted(p.name for p in kernel.folder.iterdir()) == ["train.py"]


def test_line_magic_submits_the_folder_with_arguments_and_tags(kernel, workspace):
    load(kernel)
    (kernel.folder / "helper.py").write_text("SCALE = 2\n")
    (kernel.folder / "train.py").write_text(
        "import sys\nfrom helper import SCALE\nfrom jupyter_aml import Run\n"
        "run = Run.get_context()\nrun.log('lr', float(sys.argv[2]) * SCALE)\nprint('args', sys.argv[1:])\n"
    )
    reply = kernel.run(
        f"r = %aml_submit train.py -w {workspace.name} -e lines -t owner=me -t stage=dev -n first --wait "
        "-- --lr 0.25 --name 'a b'\nprint('@@', r.id)"
    )
    assert reply.status == "ok", reply.text
    assert WIDGET in reply.mimes()  # the live view
    run_id = next(ln.split()[1] for ln in reply.stdout.splitlines() if ln.startswith("@@"))
    record = run_record(workspace, run_id)
    assert record["status"] == "Completed"
    assert record["experiment"] == "lines" and record["display_name"] == "first"
    assert record["tags"] == {"owner": "me", "stage": "dev"}
    assert record["run_config"]["script"] == "train.py"
    assert record["run_config"]["arguments"] == ["--lr", "0.25", "--name", "a b"]
    assert set(snapshot_files(workspace, record)) == {"train.py", "helper.py"}
    metrics = workspace._client.get(workspace._path("runs", run_id, "metrics"))["items"]
    assert {m["name"]: m["last_value"] for m in metrics} == {"lr": 0.5}
    logs = "\n".join(line["text"] for line in workspace._client.get(workspace._path("runs", run_id, "logs"))["items"])
    assert "args ['--lr', '0.25', '--name', 'a b']" in logs

    # %aml_runs lists it with its metric; %aml_show opens its view
    table = kernel.run(f"%aml_runs lines -w {workspace.name}")
    assert table.status == "ok", table.text
    html = next(o["data"]["text/html"] for o in table.outputs if "text/html" in o["data"])
    assert run_id in html and "<th" in html and ">lr<" in html and "owner=me" in html
    show = kernel.run(f"%aml_show {run_id} -w {workspace.name}")
    assert show.status == "ok" and WIDGET in show.mimes()


def test_cell_magic_submits_the_body_and_leaves_no_file(kernel, workspace):
    load(kernel)
    (kernel.folder / "helper.py").write_text("def twice(x):\n    return 2 * x\n")
    before = sorted(p.name for p in kernel.folder.iterdir())
    body = (
        "import sys\nfrom helper import twice\nfrom jupyter_aml import Run\n"
        "run = Run.get_context()\nfor i in range(int(sys.argv[2])):\n    run.log('y', twice(i), step=i)\n"
    )
    reply = kernel.run(f"%%aml_submit -w {workspace.name} -e cells --wait -- --n 3\n{body}")
    assert reply.status == "ok", reply.text
    assert WIDGET in reply.mimes()
    run_id = kernel.value("_.id")
    record = run_record(workspace, run_id)
    assert record["status"] == "Completed"
    script = record["run_config"]["script"]
    assert script.startswith("_aml_cell_") and script.endswith(".py")
    files = snapshot_files(workspace, record)
    assert set(files) == {"helper.py", script}
    assert workspace._client.get(workspace._path("blobs", files[script])).decode() == body
    points = workspace._client.get(workspace._path("runs", run_id, "metrics", "y"))
    assert points["values"] == [0, 2, 4]
    assert sorted(p.name for p in kernel.folder.iterdir()) == before

    # a failure while snapshotting (too many files) removes the cell's script too, and submits nothing
    count = run_count(workspace)
    kernel.run("import os; os.environ['JUPYTER_AML_SNAPSHOT_MAX_FILES'] = '1'")
    failed = kernel.run(f"%%aml_submit -w {workspace.name} -e cells\nprint('never')\n")
    assert failed.status == "error" and failed.error["ename"] == "UsageError"
    assert sorted(p.name for p in kernel.folder.iterdir()) == before
    assert run_count(workspace) == count


def write_notebook(path, cells, parameters_at=None):
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    if parameters_at is not None:
        nb.cells[parameters_at].metadata["tags"] = ["parameters"]
    nbformat.write(nb, path)


def test_notebook_form_runs_the_notebook_with_parameters(kernel, workspace, tmp_path):
    load(kernel)
    write_notebook(kernel.folder / "train.ipynb", [
        new_markdown_cell("# train"),
        new_code_cell("lr = 0.1\nname = 'default'"),
        new_code_cell("from jupyter_aml import Run\nrun = Run.get_context()\nrun.log('lr', lr)\n"
                      "run.log('name_len', len(name))\nfor i in range(3):\n    run.log('loss', 1 / (i + 1))\n"
                      "print('trained', name, lr)"),
    ], parameters_at=1)
    write_notebook(kernel.folder / "broken.ipynb", [
        new_code_cell("from jupyter_aml import Run\nRun.get_context().log('before', 1)"),
        new_code_cell("raise ValueError('boom in a cell')"),
        new_code_cell("print('never reached')"),
    ])
    reply = kernel.run(
        f"ok_run = %aml_submit train.ipynb -w {workspace.name} -e notebooks -p lr 0.5 -p name hello\n"
        f"bad_run = %aml_submit broken.ipynb -w {workspace.name} -e notebooks -p unused 1\n"
        "print('@@', ok_run.id, bad_run.id)"
    )
    assert reply.status == "ok", reply.text
    ok_id, bad_id = next(ln.split()[1:] for ln in reply.stdout.splitlines() if ln.startswith("@@"))
    client = workspace._client

    from jupyter_aml import Run

    ok, bad = Run.get(workspace, ok_id), Run.get(workspace, bad_id)
    assert wait_status(ok, {"Completed", "Failed", "Canceled"}, timeout=120) == "Completed", ok.get_logs()[-20:]
    assert ok._refresh()["run_config"]["arguments"] == ["--parameters", json.dumps({"lr": 0.5, "name": "hello"})]
    assert ok.get_metrics() == {"lr": 0.5, "name_len": 5, "loss": [1.0, 0.5, 1 / 3]}
    assert "outputs/train.ipynb" in ok.get_file_names()
    executed = nbformat.reads(ok.download_file("outputs/train.ipynb", tmp_path / "train.ipynb").read_text(), 4)
    assert [c.metadata.get("tags", []) for c in executed.cells[1:3]] == [["parameters"], ["injected-parameters"]]
    assert "lr = 0.5" in executed.cells[2].source and "name = 'hello'" in executed.cells[2].source
    assert executed.cells[3].outputs[0]["text"] == "trained hello 0.5\n"
    logs = "\n".join(line["text"] for line in ok.get_logs())
    assert "trained hello 0.5" in logs  # cell output streamed into the run's logs

    assert wait_status(bad, {"Completed", "Failed", "Canceled"}, timeout=120) == "Failed"
    assert bad.get_metrics() == {"before": 1}
    assert "outputs/broken.ipynb" in bad.get_file_names()  # the executed notebook is kept on failure too
    failed = nbformat.reads(bad.download_file("outputs/broken.ipynb", tmp_path / "broken.ipynb").read_text(), 4)
    assert failed.cells[0].metadata["tags"] == ["injected-parameters"]  # no parameters cell: at the top
    assert failed.cells[2].outputs[0]["ename"] == "ValueError"
    assert "boom in a cell" in "\n".join(line["text"] for line in bad.get_logs())
    message = client.get(workspace._path("runs", bad_id))["error"]["message"]
    assert message == "ValueError: boom in a cell at broken.ipynb:1 in cell 3"


def test_line_magic_submits_to_a_compute_cluster_and_a_wrong_name_lists_every_target(kernel, workspace):
    """%aml_submit --compute NAME sends the folder to a workspace's own cluster (a real embedded Dask cluster),
    and an unknown name is refused with every target of the workspace listed."""
    workspace._client.post(workspace._path("computes"), {"name": "kcluster", "type": "AmlCompute", "max_nodes": 1,
                                                         "idle_seconds_before_scaledown": 5})
    load(kernel)
    (kernel.folder / "train.py").write_text("from jupyter_aml import Run\nRun.get_context().log('on', 1.0)\n")
    try:
        refused = kernel.run(f"%aml_submit train.py -w {workspace.name} --compute nowhere")
        assert refused.error is not None and "available: kcluster, local" in refused.error["evalue"]
        reply = kernel.run(f"r = %aml_submit train.py -w {workspace.name} -e clusters --compute kcluster --wait "
                           "--no-widget\nprint('@@', r.id)")
        assert reply.status == "ok", reply.text
        run_id = next(ln.split()[1] for ln in reply.stdout.splitlines() if ln.startswith("@@"))
        record = run_record(workspace, run_id)
        assert (record["status"], record["compute_target"]) == ("Completed", "kcluster")
    finally:
        workspace._client.delete(workspace._path("computes", "kcluster"), params={"force": "true"})
