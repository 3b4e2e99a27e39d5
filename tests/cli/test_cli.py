"""The ``aml`` command line against a real service: workspaces, submit, runs, snapshots, errors, db."""

from __future__ import annotations

import io
import json
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_aml.cli import main
from tests.cli.conftest import Outcome, Service, failed, ok, run_cli, write_project

WS = "clitest"
TRAIN = """\
import os, sys
from jupyter_aml.sdk import Run

run = Run.get_context()
print("args", sys.argv[1:], "FOO", os.environ.get("FOO"))
print("data", open("data/input.txt").read().strip())
for step, value in enumerate([0.9, 0.5, 0.25]):
    run.log("loss", value, step=step)
run.log("acc", 0.75)
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.txt", "w") as fh:
    fh.write("weights")
with open("notes.txt", "w") as fh:  # not under outputs/: not collected
    fh.write("scratch")
"""
FAIL = "import sys\nprint('about to fail')\nsys.exit(3)\n"
SHORT = "import time\nfor i in range(8):\n    print('step', i, flush=True)\n    time.sleep(0.15)\n"
SLOW = "import time\nfor i in range(600):\n    print('tick', i, flush=True)\n    time.sleep(0.1)\n"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-scratch")


@pytest.fixture(scope="module")
def project(scratch: Path) -> Path:
    folder = write_project(
        scratch / "project",
        {"train.py": TRAIN, "data/input.txt": "forty-two\n", "fail.py": FAIL, "slow.py": SLOW, "short.py": SHORT},
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=folder, check=True)
    subprocess.run([*git, "add", "-A"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "initial"], cwd=folder, check=True)
    return folder


def head_commit(folder: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def done(service: Service, project: Path, scratch: Path) -> tuple[Outcome, str]:
    """A run submitted with --wait that completed: (what submit printed, run id)."""
    ok(run_cli(service, "workspace", "create", WS, "--exist-ok", cwd=scratch))
    outcome = run_cli(
        service,
        "-w",
        WS,
        "run",
        "submit",
        str(project),
        "train.py",
        "--experiment",
        "train",
        "--tag",
        "team=vision",
        "--tag",
        "quick",
        "--env",
        "FOO=bar",
        "--wait",
        "--",
        "--lr",
        "0.1",
        cwd=scratch,
    )
    ok(outcome)
    listed = ok(run_cli(service, "-w", WS, "--json", "run", "list", "--experiment", "train", cwd=scratch)).json
    return outcome, listed["items"][0]["id"]


def show(aml: Callable[..., Outcome], run_id: str) -> dict[str, Any]:
    return dict(ok(aml("-w", WS, "run", "show", run_id, "--json")).json)


# -- entry points ------------------------------------------------------------------------------------------


def test_console_script_entry_point_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("jupyter-aml ")
    with pytest.raises(SystemExit) as exc:
        main(["run", "frobnicate"])
    assert exc.value.code == 2


# -- workspaces ---------------------------------------------------------------------------------------------


def test_workspace_create_list_show(aml: Callable[..., Outcome]) -> None:
    created = ok(aml("workspace", "create", "ws-a", "--description", "first one", "--json")).json
    assert created["name"] == "ws-a" and created["description"] == "first one"

    again = failed(aml("workspace", "create", "ws-a"))
    assert "ws-a" in again.stderr and "already exists" in again.stderr
    assert ok(aml("workspace", "create", "ws-a", "--exist-ok", "--json")).json["description"] == "first one"

    listed = ok(aml("--json", "workspace", "list")).json
    assert "ws-a" in [w["name"] for w in listed["items"]]
    table = ok(aml("workspace", "list", "-w", "ws-a")).stdout
    assert "ws-a" in table and "first one" in table and "*" in table  # the current workspace is marked

    # global options work before and after the command name
    assert ok(aml("--json", "workspace", "show", "ws-a")).json == created
    assert ok(aml("workspace", "show", "--json", "-w", "ws-a")).json == created
    human = ok(aml("workspace", "show", "ws-a")).stdout
    assert "first one" in human and "local" in human  # compute targets are listed

    missing = failed(aml("workspace", "show", "no-such-ws"))
    assert "no-such-ws" in missing.stderr and "hint:" in missing.stderr
    # reading a workspace never creates it
    assert "no-such-ws" not in [w["name"] for w in ok(aml("--json", "workspace", "list")).json["items"]]


def test_workspace_default_comes_from_config_walking_up(aml: Callable[..., Outcome], tmp_path: Path) -> None:
    home = tmp_path / "repo"
    home.mkdir()
    ok(aml("workspace", "create", "ws-config", "--write-config", cwd=home))
    assert json.loads((home / ".aml" / "config.json").read_text())["workspace_name"] == "ws-config"
    nested = home / "src" / "deep"
    nested.mkdir(parents=True)
    assert ok(aml("--json", "workspace", "show", cwd=nested)).json["name"] == "ws-config"
    # -w wins over the config file
    ok(aml("workspace", "create", "ws-other"))
    assert ok(aml("--json", "-w", "ws-other", "workspace", "show", cwd=nested)).json["name"] == "ws-other"


# -- submit and runs ---------------------------------------------------------------------------------------------


def test_submit_wait_streams_logs_and_reports_upload(done: tuple[Outcome, str]) -> None:
    outcome, run_id = done
    assert run_id in outcome.stdout
    assert "#1" in outcome.stdout  # run number
    assert "5 files" in outcome.stdout and "uploaded" in outcome.stdout  # the project's 5 files; .git is skipped
    assert "args ['--lr', '0.1'] FOO bar" in outcome.stdout  # script arguments after -- and --env reached the script
    assert "data forty-two" in outcome.stdout
    assert f"Run {run_id}: Completed" in outcome.stdout


def test_experiment_list(aml: Callable[..., Outcome], done: tuple[Outcome, str]) -> None:
    body = ok(aml("-w", WS, "experiment", "list", "--json")).json
    assert {"name": "train", "run_count": 1}.items() <= next(e for e in body["items"] if e["name"] == "train").items()
    assert "train" in ok(aml("-w", WS, "experiment", "list")).stdout


def test_run_show(aml: Callable[..., Outcome], done: tuple[Outcome, str], project: Path) -> None:
    _, run_id = done
    details = show(aml, run_id)
    assert details["status"] == "Completed" and details["experiment"] == "train"
    assert details["tags"] == {"team": "vision", "quick": ""}
    assert details["run_config"]["arguments"] == ["--lr", "0.1"]
    assert details["run_config"]["environment"]["env_vars"] == {"FOO": "bar"}
    human = ok(aml("-w", WS, "run", "show", run_id)).stdout
    for expected in (run_id, "Completed", "team=vision", "train.py --lr 0.1", "local", details["snapshot_id"]):
        assert expected in human
    assert details["git"]["commit"] == head_commit(project) and details["git"]["branch"] == "main"
    assert f"main {head_commit(project)}" in human


def test_run_list_filters_sorts_and_pages(
    aml: Callable[..., Outcome], project: Path, done: tuple[Outcome, str]
) -> None:
    _, run_id = done
    failing = failed(aml("-w", WS, "--json", "run", "submit", str(project), "fail.py", "-e", "broken", "--wait"))
    failed_run = failing.json["run"]  # the run record is printed even when the run did not complete
    assert failed_run["status"] == "Failed"
    assert "Failed" in failing.stderr and failed_run["id"] in failing.stderr
    assert failing.json["upload"]["file_count"] == 5

    table = ok(aml("-w", WS, "run", "list")).stdout
    assert run_id in table and failed_run["id"] in table and "Completed" in table and "local" in table

    def ids(*args: str) -> list[str]:
        return [r["id"] for r in ok(aml("-w", WS, "--json", "run", "list", *args)).json["items"]]

    assert ids("--experiment", "train") == [run_id]
    assert ids("--status", "failed") == [failed_run["id"]]  # case-insensitive status names
    assert ids("--status", "Completed", "--status", "Failed", "--sort", "created_at") == [run_id, failed_run["id"]]
    assert ids("--tag", "team=vision") == [run_id]
    assert ids("--tag", "team=other") == []
    page = ok(aml("-w", WS, "--json", "run", "list", "--limit", "1")).json
    assert len(page["items"]) == 1 and page["total"] >= 2 and page["next_page_token"]
    assert "1 of" in ok(aml("-w", WS, "run", "list", "-n", "1")).stdout

    shown = show(aml, failed_run["id"])
    assert shown["error"] and "3" in shown["error"]["message"]
    assert "error:" in ok(aml("-w", WS, "run", "show", failed_run["id"])).stdout
    logs = ok(aml("-w", WS, "run", "logs", failed_run["id"])).stdout
    assert "about to fail" in logs


def test_run_logs(aml: Callable[..., Outcome], done: tuple[Outcome, str]) -> None:
    _, run_id = done
    text = ok(aml("-w", WS, "run", "logs", run_id)).stdout
    assert "args ['--lr', '0.1'] FOO bar" in text and "data forty-two" in text
    body = ok(aml("-w", WS, "run", "logs", run_id, "--json")).json
    assert body["last_id"] == body["items"][-1]["id"]
    assert any(line["stream"] == "stdout" and line["text"] == "data forty-two" for line in body["items"])
    only_stdout = ok(aml("-w", WS, "run", "logs", run_id, "--stream", "stdout", "--json")).json["items"]
    assert only_stdout and {line["stream"] for line in only_stdout} == {"stdout"}
    started = time.monotonic()
    followed = ok(aml("-w", WS, "run", "logs", run_id, "--follow"))
    assert time.monotonic() - started < 10  # a finished run ends --follow at once
    assert "data forty-two" in followed.stdout and "Completed" in followed.stderr


def test_run_metrics(aml: Callable[..., Outcome], done: tuple[Outcome, str]) -> None:
    _, run_id = done
    summary = {m["name"]: m for m in ok(aml("-w", WS, "run", "metrics", run_id, "--json")).json["items"]}
    assert summary["loss"]["count"] == 3 and summary["loss"]["min"] == 0.25 and summary["loss"]["max"] == 0.9
    assert summary["acc"]["last_value"] == 0.75
    table = ok(aml("-w", WS, "run", "metrics", run_id)).stdout
    loss_row = next(line for line in table.splitlines() if line.split()[:1] == ["loss"])
    assert loss_row.split() == ["loss", "scalar", "3", "0.25", "0.25", "0.9"]

    history = ok(aml("-w", WS, "run", "metrics", run_id, "--name", "loss", "--json")).json
    assert history["values"] == [0.9, 0.5, 0.25] and history["steps"] == [0, 1, 2]
    values = ok(aml("-w", WS, "run", "metrics", run_id, "--name", "loss")).stdout
    assert [line.split() for line in values.splitlines()[-3:]] == [["0", "0.9"], ["1", "0.5"], ["2", "0.25"]]
    recursive = ok(aml("-w", WS, "run", "metrics", run_id, "--recursive", "--json")).json["items"]
    assert {m["run_id"] for m in recursive} == {run_id}

    unknown = failed(aml("-w", WS, "run", "metrics", run_id, "--name", "nope"))
    assert "nope" in unknown.stderr and "acc" in unknown.stderr and "loss" in unknown.stderr


def test_run_download(aml: Callable[..., Outcome], done: tuple[Outcome, str], tmp_path: Path) -> None:
    _, run_id = done
    target = tmp_path / "dl"
    got = ok(aml("-w", WS, "run", "download", run_id, "--prefix", "outputs/", "-o", str(target), "--json")).json
    assert [item["path"] for item in got["items"]] == ["outputs/model.txt"]
    assert (target / "outputs" / "model.txt").read_text() == "weights"
    assert not (target / "notes.txt").exists()
    # default target: ./RUN_ID
    ok(aml("-w", WS, "run", "download", run_id, cwd=tmp_path))
    assert (tmp_path / run_id / "outputs" / "model.txt").read_text() == "weights"
    none = failed(aml("-w", WS, "run", "download", run_id, "--prefix", "nothing/", "-o", str(tmp_path / "x")))
    assert "nothing/" in none.stderr


def test_snapshot_download(aml: Callable[..., Outcome], done: tuple[Outcome, str], tmp_path: Path) -> None:
    _, run_id = done
    by_run = tmp_path / "by-run.zip"
    info = ok(aml("-w", WS, "snapshot", "download", run_id, "-o", str(by_run), "--json")).json
    assert info["snapshot_id"] == show(aml, run_id)["snapshot_id"] and info["file_count"] == 5
    with zipfile.ZipFile(by_run) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == ["data/input.txt", "fail.py", "short.py", "slow.py", "train.py"]
        assert archive.read("train.py").decode() == TRAIN
        assert archive.read("data/input.txt") == b"forty-two\n"
    by_id = tmp_path / "by-id.zip"
    human = ok(aml("-w", WS, "snapshot", "download", info["snapshot_id"], "-o", str(by_id)))
    assert str(by_id) in human.stdout
    assert zipfile.ZipFile(io.BytesIO(by_id.read_bytes())).namelist() == zipfile.ZipFile(by_run).namelist()
    unknown = failed(aml("-w", WS, "snapshot", "download", "f" * 64, "-o", str(tmp_path / "none.zip")))
    assert "f" * 64 in unknown.stderr and not (tmp_path / "none.zip").exists()


def test_cancel(aml: Callable[..., Outcome], project: Path) -> None:
    run = ok(aml("-w", WS, "--json", "run", "submit", str(project), "slow.py", "-e", "slow")).json["run"]
    assert run["status"] not in ("Completed", "Failed", "Canceled")
    deadline = time.monotonic() + 20
    while show(aml, run["id"])["status"] != "Running" and time.monotonic() < deadline:
        time.sleep(0.2)
    canceled = ok(aml("-w", WS, "run", "cancel", run["id"]))
    assert run["id"] in canceled.stdout
    while show(aml, run["id"])["status"] != "Canceled" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert show(aml, run["id"])["status"] == "Canceled"
    assert ok(aml("-w", WS, "--json", "run", "list", "--status", "Canceled")).json["items"][0]["id"] == run["id"]


# -- bad input -------------------------------------------------------------------------------------------------


def test_bad_input_is_one_error_line(aml: Callable[..., Outcome], project: Path, done: tuple[Outcome, str]) -> None:
    unknown = failed(aml("-w", WS, "run", "show", "train_0_deadbeef"))
    assert "train_0_deadbeef" in unknown.stderr and unknown.stderr.startswith("error:")
    assert "hint:" in unknown.stderr
    as_json = failed(aml("-w", WS, "--json", "run", "logs", "train_0_deadbeef"))
    assert as_json.json["error"]["code"] == "NotFound"

    compute = failed(aml("-w", WS, "run", "submit", str(project), "train.py", "-e", "x", "--compute", "gpu"))
    assert "gpu" in compute.stderr and "available compute targets: local" in compute.stderr

    script = failed(aml("-w", WS, "run", "submit", str(project), "missing.py", "-e", "x"))
    assert "missing.py" in script.stderr and "does not exist" in script.stderr
    folder = failed(aml("-w", WS, "run", "submit", str(project / "nope"), "train.py", "-e", "x"))
    assert "nope" in folder.stderr
    # nothing was submitted by the failed attempts: not even the experiment exists
    assert "experiment 'x' not found" in failed(aml("-w", WS, "run", "list", "--experiment", "x")).stderr

    failed(aml("-w", WS, "run", "submit", str(project), "train.py", "-e", "x", "--tag", "=v"), code=2)
    failed(aml("-w", WS, "run", "submit", str(project), "train.py"), code=2)  # no --experiment
    failed(aml("-w", WS, "run", "submit", str(project), "-e", "x"), code=2)  # no SCRIPT
    failed(aml("-w", WS, "run", "list", "--status", "Sleeping"), code=2)

    unreachable = failed(aml("--url", "http://127.0.0.1:9/aml/api/v1", "--token", "t", "workspace", "list"))
    assert "cannot reach" in unreachable.stderr
    failed(aml("--url", "ftp://example.org", "workspace", "list"), code=2)


def test_runconfig_file_and_stream(aml: Callable[..., Outcome], project: Path, tmp_path: Path) -> None:
    from jupyter_aml.sdk import Environment, ScriptRunConfig

    env = Environment("saved")
    env.environment_variables["FOO"] = "from-file"
    saved = ScriptRunConfig(str(project), "train.py", ["--saved"], environment=env).save(tmp_path / "t.runconfig.json")
    args = ["--runconfig", str(saved), "-e", "cfg", "--env", "BAR=1", "--stream", "--", "--override"]
    outcome = ok(aml("-w", WS, "--json", "run", "submit", *args))
    run = outcome.json["run"]  # with --json, stdout holds only the JSON document; the streamed logs go to stderr
    assert run["status"] == "Completed"
    assert run["run_config"]["script"] == "train.py" and run["run_config"]["arguments"] == ["--override"]
    assert run["run_config"]["environment"]["env_vars"] == {"FOO": "from-file", "BAR": "1"}
    assert "args ['--override'] FOO from-file" in outcome.stderr


def test_follow_a_live_run(aml: Callable[..., Outcome], project: Path) -> None:
    run = ok(aml("-w", WS, "--json", "run", "submit", str(project), "short.py", "-e", "short", "--no-wait")).json["run"]
    assert run["status"] not in ("Completed", "Failed", "Canceled")
    followed = ok(aml("-w", WS, "run", "logs", run["id"], "--follow"))
    steps = [line for line in followed.stdout.splitlines() if line.startswith("step ")]
    assert steps == [f"step {i}" for i in range(8)]  # every line once, in order, until the end
    assert f"Run {run['id']}: Completed" in followed.stderr
    assert show(aml, run["id"])["status"] == "Completed"


# -- database ------------------------------------------------------------------------------------------------


def test_db_status_and_upgrade(aml: Callable[..., Outcome], service: Service, tmp_path: Path) -> None:
    from alembic import command

    from jupyter_aml.store.db import alembic_config, head_revision

    live = ok(aml("db", "status", "--root", str(service.root), "--json")).json
    assert live["exists"] and live["up_to_date"] and live["current"] == live["head"] is not None
    assert "up to date" in ok(aml("db", "status", "--root", str(service.root))).stdout

    fresh = tmp_path / "fresh"
    status = ok(aml("db", "status", "--root", str(fresh), "--json")).json
    assert status["exists"] is False and status["upgrade_needed"] is False
    assert not (fresh / "aml.db").exists()  # status never creates a database

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgraded = ok(aml("db", "upgrade", "--url", url, "--json")).json
    assert upgraded["before"] is None and upgraded["after"] == head_revision(url)
    command.downgrade(alembic_config(url), "base")
    assert failed(aml("db", "status", "--url", url, "--json")).json["upgrade_needed"] is True
    behind = failed(aml("db", "status", "--url", url))
    assert "out of date" in behind.stdout and "aml db upgrade" in behind.stdout
    ok(aml("db", "upgrade", "--url", url))
    assert ok(aml("db", "status", "--url", url, "--json")).json["current"] == head_revision(url)


def test_examples_project_through_the_cli(aml: Callable[..., Outcome], tmp_path: Path) -> None:
    """The examples/ training project end to end with nothing but the `aml` command."""
    repo = Path(__file__).resolve().parents[2]
    outcome = ok(
        aml(
            "-w",
            WS,
            "run",
            "submit",
            str(repo / "examples" / "train-digits"),
            "train.py",
            "--experiment",
            "digits-cli",
            "--wait",
            "--",
            "--sweep",
            "1",
            "5",
        )
    )
    assert "final accuracy" in outcome.stdout and "Completed" in outcome.stdout
    run_id = ok(aml("-w", WS, "run", "list", "--experiment", "digits-cli", "--json")).json["items"][0]["id"]
    metrics = {m["name"]: m for m in ok(aml("-w", WS, "run", "metrics", run_id, "--json")).json["items"]}
    assert {"accuracy", "final_accuracy", "class_counts", "learning_curve", "confusion"} <= set(metrics)
    assert metrics["accuracy"]["count"] == 3 and metrics["confusion"]["kind"] == "table"
    recursive = ok(aml("-w", WS, "run", "metrics", run_id, "--recursive", "--json")).json["items"]
    assert len({m["run_id"] for m in recursive}) == 3  # the run and its two sweep children
    out = tmp_path / "out"
    ok(aml("-w", WS, "run", "download", run_id, "--prefix", "outputs/", "-o", str(out)))
    assert (out / "outputs" / "model.pkl").stat().st_size > 100
    ok(aml("-w", WS, "snapshot", "download", run_id, "-o", str(tmp_path / "snap.zip")))
    assert "train.py" in zipfile.ZipFile(tmp_path / "snap.zip").namelist()
