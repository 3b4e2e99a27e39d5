"""v1's run surface on a submitted run, against the real service: identity and names, details with log files,
logs, snapshot, environment, listing, ScriptRun, download_files and get_context outside a run."""

from __future__ import annotations

import os
import time
import urllib.parse
import warnings
import zipfile

import pytest

from jupyter_aml import Environment, Experiment, Run, ScriptRunConfig
from jupyter_aml.errors import InvalidInput, NotFound, ServiceUnavailable
from jupyter_aml.sdk.offline import OfflineRun
from jupyter_aml.sdk.run import RunEnvironmentException
from jupyter_aml.sdk.script_run import ScriptRun
from tests.e2e.conftest import write_script

SCRIPT = """
import os, sys
from jupyter_aml import Run
run = Run.get_context()
print("hello from stdout")
print("trouble on stderr", file=sys.stderr)
os.makedirs("outputs/sub", exist_ok=True)
os.makedirs("logs", exist_ok=True)
open("outputs/a.txt", "w").write("A")
open("outputs/sub/b.txt", "w").write("B")
open("logs/extra.log", "w").write("extra log line\\n")
run.log("loss", 0.5)
"""

DETAIL_KEYS = {"runId", "target", "status", "startTimeUtc", "endTimeUtc", "properties", "inputDatasets",
               "outputDatasets", "runDefinition", "logFiles", "submittedBy"}


@pytest.fixture
def submitted(service, tmp_path):
    ws = service.workspace("v1runs")
    src = write_script(tmp_path / "proj", SCRIPT, "train.py")
    env = Environment("v1-env")
    env.environment_variables["MODE"] = "v1"
    exp = Experiment(ws, "v1-runs")
    run = exp.submit(ScriptRunConfig(src, "train.py", environment=env), tags={"stage": "dev"}, progress=False)
    run.wait_for_completion(raise_on_error=True)
    return ws, exp, run, src


def test_a_submitted_run_has_v1s_identity_names_and_type(submitted):
    ws, exp, run, src = submitted
    assert isinstance(run, ScriptRun) and isinstance(run, Run)
    assert run.directory == str(src)
    assert run.type == "azureml.scriptrun" and run.number == 1 and run.experiment is exp
    assert run.id.startswith("v1-runs_") and run.name == run.display_name == run.id
    run.display_name = "first try"
    run.description = "a v1 notebook's run"
    again = Run.get(ws, run.id)  # a fresh object: the names were stored, not just kept in this one
    assert isinstance(again, ScriptRun)
    assert again.display_name == again.name == "first try" and again.description == "a v1 notebook's run"
    assert again.get_details()["displayName"] == "first try"


def test_details_have_v1s_keys_and_downloadable_log_files(submitted, tmp_path, monkeypatch):
    ws, _, run, _ = submitted
    details = run.get_details()
    assert set(details) >= DETAIL_KEYS
    assert details["runId"] == run.id and details["status"] == "Completed" and details["target"] == "local"
    assert details["inputDatasets"] == [] and details["outputDatasets"] == []
    logs = details["logFiles"]
    assert "azureml-logs/70_driver_log.txt" in logs and "logs/extra.log" in logs
    base = ws._client.base_url
    assert all(url.startswith(base + "/workspaces/v1runs/runs/") for url in logs.values())
    # the URL is one the SDK's own client fetches
    url = urllib.parse.urlsplit(logs["azureml-logs/70_driver_log.txt"])
    path = url.path[len(urllib.parse.urlsplit(base).path):]
    body = ws._client.request("GET", path, params=urllib.parse.parse_qsl(url.query))
    text = body.decode() if isinstance(body, bytes) else str(body)
    assert "hello from stdout" in text and "trouble on stderr" in text

    with_logs = run.get_details_with_logs()
    assert with_logs["runId"] == run.id
    assert "hello from stdout" in with_logs["logFiles"]["azureml-logs/70_driver_log.txt"]
    assert with_logs["logFiles"]["logs/extra.log"] == "extra log line\n"

    paths = run.get_all_logs(tmp_path / "all-logs")
    assert sorted(os.path.relpath(p, tmp_path / "all-logs") for p in paths) == sorted(logs)
    driver = tmp_path / "all-logs" / "azureml-logs" / "70_driver_log.txt"
    assert "hello from stdout" in driver.read_text()
    monkeypatch.chdir(tmp_path)
    default = run.get_all_logs()
    assert all(p.startswith(str(tmp_path / run.id)) for p in default) and len(default) == len(logs)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(InvalidInput, match="not a directory"):
        run.get_all_logs(tmp_path / "a-file")


def test_snapshot_environment_and_submitted_run(submitted, tmp_path, monkeypatch):
    ws, _, run, _ = submitted
    snapshot_id = run.get_snapshot_id()
    assert snapshot_id == run.get_details()["snapshotId"]
    zipped = run.restore_snapshot(path=tmp_path / "restored")
    assert zipped.endswith(".zip") and os.path.dirname(zipped) == str(tmp_path / "restored")
    assert "train.py" in zipfile.ZipFile(zipped).namelist()
    named = run.restore_snapshot(snapshot_id, path=tmp_path / "named.zip")
    assert named == str(tmp_path / "named.zip") and zipfile.is_zipfile(named)
    monkeypatch.chdir(tmp_path)
    assert os.path.dirname(os.path.abspath(run.restore_snapshot())) == str(tmp_path)

    env = run.get_environment()
    assert isinstance(env, Environment) and env.name == "v1-env" and env.environment_variables == {"MODE": "v1"}
    interactive = Experiment(ws, "v1-runs").start_logging()
    with pytest.raises(NotFound, match="no environment"):
        interactive.get_environment()
    interactive.complete()

    monkeypatch.setattr(Run, "_context", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        offline = Run.get_submitted_run()
    assert isinstance(offline, OfflineRun) and any(w.category is DeprecationWarning for w in caught)


def test_get_context_refuses_outside_a_run_without_allow_offline(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("AML_", "AZUREML_")):
            monkeypatch.delenv(name)
    monkeypatch.setattr(Run, "_context", None)
    with pytest.raises(RunEnvironmentException) as caught:
        Run.get_context(allow_offline=False)
    assert "Failed to load a submitted run, if outside of an execution context, use experiment.start_logging" \
        in str(caught.value)
    offline = Run.get_context()
    assert isinstance(offline, OfflineRun)  # allow_offline=True, the default, still works
    details = offline.get_details()  # v1's keys, nothing fetched
    assert set(details) >= DETAIL_KEYS and details["logFiles"] == {} and details["runId"] == offline.id


def test_run_list_and_get_runs_filter_as_v1(submitted):
    _, exp, run, _ = submitted
    other = exp.start_logging()
    other.tag("stage", "prod")
    child = other.child_run("kid")
    child.complete()
    other.complete()
    listed = Run.list(exp)
    assert not isinstance(listed, list) and hasattr(listed, "__next__")  # a generator, as v1's
    assert [r.id for r in listed] == [other.id, run.id]
    assert [r.id for r in Run.list(exp, tags="stage")] == [other.id, run.id]
    assert [r.id for r in Run.list(exp, tags={"stage": "dev"})] == [run.id]
    assert [r.id for r in Run.list(exp, type="azureml.scriptrun")] == [run.id]
    assert [r.id for r in Run.list(exp, status="Completed", tags={"stage": "prod"})] == [other.id]
    assert {r.id for r in Run.list(exp, include_children=True)} == {run.id, other.id, child.id}
    assert [r.id for r in exp.get_runs(type="azureml.scriptrun")] == [run.id]
    assert [r.id for r in exp.get_runs(tags={"stage": "prod"}, include_children=True)] == [other.id]
    assert other.type == "interactive" and child.type == "azureml.scriptrun"
    assert isinstance(next(exp.get_runs(type="azureml.scriptrun")), ScriptRun)  # a generator, as in v1


def test_download_files_as_v1(submitted, tmp_path):
    _, _, run, _ = submitted
    outputs = sorted(n for n in run.get_file_names() if n.startswith("outputs/"))
    assert outputs == ["outputs/a.txt", "outputs/sub/b.txt"]
    got = run.download_files(prefix="outputs/", output_directory=tmp_path / "kept")
    assert sorted(p.relative_to(tmp_path / "kept").as_posix() for p in got) == outputs
    run.download_files(prefix="outputs/", output_directory=tmp_path / "stripped", append_prefix=False,
                       batch_size=1)
    assert (tmp_path / "stripped" / "a.txt").read_text() == "A"
    assert (tmp_path / "stripped" / "sub" / "b.txt").read_text() == "B"
    assert not (tmp_path / "stripped" / "outputs").exists()
    run.download_files(prefix="outputs/", output_directory=tmp_path / "mapped", output_paths=["one.txt", "two.txt"])
    assert (tmp_path / "mapped" / "one.txt").read_text() == "A" and (tmp_path / "mapped" / "two.txt").read_text() == "B"
    everything = run.download_files(output_directory=tmp_path / "all", timeout_seconds=60)
    assert {p.relative_to(tmp_path / "all").as_posix() for p in everything} == set(run.get_file_names())
    with pytest.raises(InvalidInput, match="output_paths has 1 paths but 2 run files"):
        run.download_files(prefix="outputs/", output_paths=["only-one.txt"])
    with pytest.raises(InvalidInput, match="batch_size"):
        run.download_files(batch_size=0)
    with pytest.raises(ServiceUnavailable, match=r"timed out after 0 s: 0 of \d+ files"):
        run.download_files(output_directory=tmp_path / "late", timeout_seconds=0)


def test_a_sweeps_parent_comes_back_as_a_hyperdrive_run(service):
    from jupyter_aml.sdk.hyperdrive.run import HyperDriveRun

    ws = service.workspace("v1sweep")
    exp = Experiment(ws, "sweep")
    parent = exp.start_logging()
    parent.add_properties({"azureml.runsource": "hyperdrive"})
    plain = exp.start_logging()
    time.sleep(1.0)  # the service sees the label; without a sweep configuration it drives (and fails) nothing
    assert parent.get_status() == "Running"
    found = Run.get(ws, parent.id)
    assert isinstance(found, HyperDriveRun) and found.type == "hyperdrive"
    assert {r.id: r.type for r in Run.list(exp)} == {parent.id: "hyperdrive", plain.id: "interactive"}
    assert [r.id for r in Run.list(exp, type="hyperdrive")] == [parent.id]
    parent.complete()
    plain.complete()


def test_experiment_from_directory_reads_the_folders_config(service, tmp_path, monkeypatch):
    import json

    info = service.info()
    monkeypatch.setenv("JUPYTER_AML_URL", info["url"])
    monkeypatch.setenv("JUPYTER_AML_TOKEN", info["token"])
    project = tmp_path / "project"
    (project / ".azureml").mkdir(parents=True)
    (project / ".azureml" / "config.json").write_text(json.dumps(
        {"workspace_name": "fromdir", "experiment_name": "from-folder"}))
    exp = Experiment.from_directory(project)
    assert exp.name == "from-folder" and exp.workspace.name == "fromdir"
    assert exp.id and Experiment.list(exp.workspace)[0].name == "from-folder"  # created on first use
    (project / ".azureml" / "config.json").write_text(json.dumps({"workspace_name": "fromdir"}))
    with pytest.raises(NotFound, match="no experiment_name"):
        Experiment.from_directory(project)
