"""The SDK surface a user touches, against the real service."""

from __future__ import annotations

import json

import pytest

from jupyter_aml import Environment, Experiment, Run, ScriptRunConfig, Workspace
from jupyter_aml.errors import NotFound
from jupyter_aml.sdk.run import ActivityFailedError
from tests.e2e.conftest import wait_status, write_script


def test_config_files_are_found_walking_up(service, tmp_path, monkeypatch):
    ws = service.workspace("cfg")
    written = ws.write_config(tmp_path / "project")
    assert json.loads(written.read_text())["workspace_name"] == "cfg"
    deep = tmp_path / "project" / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.setenv("JUPYTER_AML_URL", service.info()["url"])
    monkeypatch.setenv("JUPYTER_AML_TOKEN", service.info()["token"])
    assert Workspace.from_config(deep).name == "cfg"
    azure = tmp_path / "azure"
    (azure / ".azureml").mkdir(parents=True)
    (azure / ".azureml" / "config.json").write_text(json.dumps({"workspace_name": "legacy"}))
    assert Workspace.from_config(azure).name == "legacy"
    with pytest.raises(NotFound, match="no workspace config"):
        Workspace.from_config(tmp_path / "nowhere-else")


def test_runconfig_roundtrip(tmp_path):
    src = write_script(tmp_path / "proj", "print(1)\n", "train.py")
    env = Environment("tiny")
    env.environment_variables["MODE"] = "fast"
    config = ScriptRunConfig(src, "train.py", ["--lr", 0.1], environment=env)
    path = config.save()
    assert path == src / ".aml" / "train.runconfig.json"
    loaded = ScriptRunConfig.load(path)
    assert loaded.source_directory == str(src.resolve()) and loaded.arguments == ["--lr", "0.1"]
    assert loaded.environment.environment_variables == {"MODE": "fast"}


def test_files_tags_properties_and_failures(service, tmp_path):
    ws = service.workspace()
    run = Experiment(ws, "files").start_logging()
    (tmp_path / "folder" / "sub").mkdir(parents=True)
    (tmp_path / "folder" / "a.txt").write_text("A")
    (tmp_path / "folder" / "sub" / "b.txt").write_text("B")
    run.upload_file("notes/readme.txt", tmp_path / "folder" / "a.txt")
    assert run.upload_folder("data", tmp_path / "folder") == ["data/a.txt", "data/sub/b.txt"]
    assert sorted(run.get_file_names()) == ["data/a.txt", "data/sub/b.txt", "notes/readme.txt"]
    assert run.download_file("data/sub/b.txt", tmp_path / "out.txt").read_text() == "B"
    run.tag("stage", "dev")
    run.set_tags({"team": "red"})
    run.add_properties({"dataset": "digits"})
    assert run.get_tags() == {"stage": "dev", "team": "red"} and run.get_properties() == {"dataset": "digits"}

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.plot([1, 2, 3])
    run.log_image("curve", plot=plt)
    run.fail(error_details="diverged")
    details = run.get_details()
    assert details["status"] == "Failed" and details["error"]["message"] == "diverged"
    assert run.get_metrics()["curve"]["path"] == "logs/images/curve.png"
    assert "logs/images/curve.png" in run.get_file_names()
    assert Run.get(ws, run.id).get_status() == "Failed"


def test_an_interactive_run_reads_what_it_just_logged(service):
    """No flush() between run.log and the read: the run's own queued points are sent first."""
    run = Experiment(service.workspace(), "read-own").start_logging()
    for step in range(5):
        run.log("loss", 1.0 / (step + 1))
    run.log("note", "hello")
    assert run.get_metrics() == {"loss": [1.0, 0.5, 1 / 3, 0.25, 0.2], "note": "hello"}
    assert run.get_metric_history("loss")["values"][-1] == 0.2
    run.complete()


def test_wait_for_completion_streams_output_and_raises_on_failure(service, tmp_path, capsys):
    src = write_script(tmp_path / "src", "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\n"
                                         "sys.exit(4)\n")
    run = Experiment(service.workspace(), "wait").submit(ScriptRunConfig(src, "script.py"))
    with pytest.raises(ActivityFailedError, match="Failed"):
        run.wait_for_completion(show_output=True)
    out, err = capsys.readouterr()
    assert "to stdout" in out and "to stderr" in err


def test_pip_environment_is_built_once_and_reused(service, tmp_path):
    src = write_script(tmp_path / "src", "import six, sys\nprint('six', six.__version__, sys.prefix)\n")
    (src / "requirements.txt").write_text("six==1.16.0\n")
    env = Environment.from_pip_requirements("with-six", src / "requirements.txt")
    exp = Experiment(service.workspace(), "envs")
    first = exp.submit(ScriptRunConfig(src, "script.py", environment=env))
    assert first.wait_for_completion()["status"] == "Completed"
    second = exp.submit(ScriptRunConfig(src, "script.py", environment=env))
    assert second.wait_for_completion()["status"] == "Completed"
    first_lines = [x["text"] for x in first.get_logs()]
    second_lines = [x["text"] for x in second.get_logs()]
    prefix = next(x for x in first_lines if x.startswith("six 1.16.0")).split()[-1]
    assert str(service.root) in prefix  # a venv under the service's environment cache, not this interpreter
    assert any(x.startswith("six 1.16.0") and x.endswith(prefix) for x in second_lines)  # the same venv
    assert any("build" in x.lower() for x in first_lines)
    assert not any("building" in x.lower() for x in second_lines)


def test_cancel_a_queued_run_never_starts_it(service, tmp_path):
    src = write_script(tmp_path / "src", "import time\ntime.sleep(30)\n")
    exp = Experiment(service.workspace(), "queue")
    busy = [exp.submit(ScriptRunConfig(src, "script.py")) for _ in range(4)]  # fills max_concurrent_runs=4
    queued = exp.submit(ScriptRunConfig(src, "script.py"))
    assert queued.get_status() == "Queued"
    queued.cancel()
    assert queued.get_status() == "Canceled" and queued._refresh()["start_time"] is None
    for run in busy:
        run.cancel()
        assert wait_status(run, {"Canceled"}) == "Canceled"
