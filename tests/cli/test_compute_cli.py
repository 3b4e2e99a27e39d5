"""``aml compute ...`` against a real service: real AmlCompute clusters (the embedded Dask LocalCluster), the
service's defaults and refusals as the CLI prints them, the queue with its reasons, and delete's confirmation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jupyter_aml.cli import app
from tests.cli.conftest import Outcome, Service, failed, ok, run_cli, write_project

WS = "computecli"
SLOW = "import time\nfor i in range(600):\n    print('tick', i, flush=True)\n    time.sleep(0.1)\n"


def answering(service: Service, reply: str, *args: str) -> Outcome:
    """``aml ARGS`` with ``reply`` typed at its prompt."""
    result = CliRunner().invoke(app, list(args), input=reply, env=service.env, catch_exceptions=False)
    return Outcome(result.exit_code, result.stdout, result.stderr)


def computes(aml: Callable[..., Outcome]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in ok(aml("-w", WS, "--json", "compute", "list")).json["items"]}


@pytest.fixture(scope="module", autouse=True)
def workspace(service: Service, tmp_path_factory: pytest.TempPathFactory) -> None:
    ok(run_cli(service, "workspace", "create", WS, "--exist-ok", cwd=tmp_path_factory.mktemp("ws")))


@pytest.fixture
def cleanup(aml: Callable[..., Outcome]) -> Iterator[list[str]]:
    """Names to delete (with --force) after the test, whatever it left."""
    names: list[str] = []
    yield names
    for name in names:
        aml("-w", WS, "compute", "delete", name, "--force", "--yes")
    left = set(computes(aml)) & set(names)
    assert not left, f"not deleted: {left}"


def test_create_waits_then_list_show_update(aml: Callable[..., Outcome], cleanup: list[str]) -> None:
    cleanup.append("cli-cluster")
    created = ok(aml("-w", WS, "compute", "create", "cli-cluster", "--type", "AmlCompute", "--max-nodes", "2",
                     "--tag", "team=vision", "--description", "two nodes"))
    assert "Created compute cli-cluster (AmlCompute): Running" in created.stdout

    listed = computes(aml)
    assert "local" in listed and listed["local"]["origin"] == "config"
    record = listed["cli-cluster"]
    # v1's defaults come from the service for what was not given
    assert (record["state"], record["origin"], record["vm_size"]) == ("Running", "workspace", "STANDARD_D2_V2")
    assert (record["min_nodes"], record["max_nodes"], record["idle_seconds_before_scaledown"]) == (0, 2, 1800)
    assert record["tags"] == {"team": "vision"} and record["description"] == "two nodes"

    table = ok(aml("compute", "list", "-w", WS)).stdout  # the workspace option after the command
    row = next(line for line in table.splitlines() if "cli-cluster" in line)
    assert "AmlCompute" in row and "workspace" in row and "Running" in row and "(0-2)" in row
    assert "STANDARD_D2_V2 (2 vCPU, 7 GB)" in row

    details = ok(aml("-w", WS, "compute", "show", "cli-cluster")).stdout
    assert "1800 s" in details and "team=vision" in details and "two nodes" in details
    assert ok(aml("-w", WS, "--json", "compute", "show", "cli-cluster")).json["max_nodes"] == 2

    updated = ok(aml("-w", WS, "--json", "compute", "update", "cli-cluster", "--min-nodes", "1",
                     "--idle-seconds-before-scaledown", "600")).json
    assert (updated["min_nodes"], updated["max_nodes"], updated["idle_seconds_before_scaledown"]) == (1, 2, 600)
    assert "(1-2)" in ok(aml("-w", WS, "compute", "show", "cli-cluster")).stdout
    deadline = time.monotonic() + 30  # min_nodes 1: the cluster brings up a node
    while not computes(aml)["cli-cluster"]["nodes"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert computes(aml)["cli-cluster"]["nodes"], "min_nodes 1 brought up no node"
    assert "nodes" in ok(aml("-w", WS, "compute", "show", "cli-cluster")).stdout.split("created")[1]

    too_many = failed(aml("-w", WS, "compute", "update", "cli-cluster", "--min-nodes", "3"))
    assert "max_nodes (2) is less than min_nodes (3)" in too_many.stderr and "hint:" in too_many.stderr
    assert computes(aml)["cli-cluster"]["min_nodes"] == 1
    nothing = failed(aml("-w", WS, "compute", "update", "cli-cluster"), code=2)
    assert "--min-nodes" in nothing.stderr


def test_no_wait_returns_at_once_and_json_is_the_rest_answer(aml: Callable[..., Outcome],
                                                             cleanup: list[str]) -> None:
    cleanup.append("cli-nowait")
    started = time.monotonic()
    answer = ok(aml("-w", WS, "--json", "compute", "create", "cli-nowait", "--type", "AmlCompute", "--max-nodes", "1",
                    "--vm-size", "standard_d1_v2", "--no-wait")).json
    assert time.monotonic() - started < 5
    assert answer["name"] == "cli-nowait" and answer["state"] in ("Creating", "Running")
    # any case names a size; its CPU and memory are the size's
    assert (answer["vm_size"].upper(), answer["vcpus"], answer["memory_gb"]) == ("STANDARD_D1_V2", 1.0, 3.5)
    deadline = time.monotonic() + 60
    while computes(aml)["cli-nowait"]["state"] == "Creating" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert computes(aml)["cli-nowait"]["state"] == "Running"
    again = failed(aml("-w", WS, "--json", "compute", "create", "cli-nowait", "--type", "AmlCompute"))
    assert again.json["error"]["code"] == "Conflict"


def test_wait_gives_up_after_timeout(aml: Callable[..., Outcome], cleanup: list[str]) -> None:
    cleanup.append("cli-timeout")  # created all the same: the service provisions it in the background
    gave_up = failed(aml("-w", WS, "compute", "create", "cli-timeout", "--type", "AmlCompute", "--max-nodes", "1",
                         "--timeout", "0"))
    assert "compute 'cli-timeout' is still Creating after 0 s" in gave_up.stderr
    assert "aml compute show cli-timeout" in gave_up.stderr
    assert "cli-timeout" in computes(aml)


def test_unknown_vm_size_lists_the_valid_ones(aml: Callable[..., Outcome]) -> None:
    refused = failed(aml("-w", WS, "compute", "create", "cli-badsize", "--type", "AmlCompute", "--vm-size", "HUGE"))
    assert refused.stderr.startswith("error:") and "'HUGE' is not a known size" in refused.stderr
    assert "STANDARD_D2_V2" in refused.stderr and "STANDARD_NC6" in refused.stderr  # the valid ones, in the hint
    as_json = failed(aml("-w", WS, "--json", "compute", "create", "cli-badsize", "--type", "AmlCompute",
                         "--vm-size", "HUGE"))
    assert as_json.json["error"]["code"] == "InvalidInput"
    assert "cli-badsize" not in computes(aml)


def test_vm_sizes(aml: Callable[..., Outcome]) -> None:
    sizes = {s["name"]: s for s in ok(aml("-w", WS, "--json", "compute", "vm-sizes")).json["items"]}
    assert (sizes["STANDARD_D2_V2"]["vCPUs"], sizes["STANDARD_D2_V2"]["memoryGB"]) == (2.0, 7.0)
    table = ok(aml("-w", WS, "compute", "vm-sizes")).stdout
    row = next(line for line in table.splitlines() if "STANDARD_D2_V2" in line)
    assert row.split()[:3] == ["STANDARD_D2_V2", "2", "7"]


def test_start_stop_restart_of_a_cluster_are_refused(aml: Callable[..., Outcome], cleanup: list[str]) -> None:
    cleanup.append("cli-always")
    ok(aml("-w", WS, "compute", "create", "cli-always", "--type", "AmlCompute", "--max-nodes", "1"))
    for verb in ("start", "stop", "restart"):
        refused = failed(aml("-w", WS, "compute", verb, "cli-always"))
        assert "cannot be started or stopped" in refused.stderr and "hint: it is always on" in refused.stderr
    assert computes(aml)["cli-always"]["state"] == "Running"
    configured = failed(aml("-w", WS, "--json", "compute", "stop", "local"))
    assert configured.json["error"]["code"] == "Conflict"
    assert "configured for the service" in configured.json["error"]["message"]


def test_create_that_fails_exits_1_with_the_reason(service: Service, aml: Callable[..., Outcome],
                                                   cleanup: list[str]) -> None:
    """A real provisioning failure: the service's disk holds a file where the cluster's folder must go."""
    cleanup.append("cli-fail")
    blocker = service.root / "computes" / WS / "cli-fail"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    try:
        outcome = failed(aml("-w", WS, "compute", "create", "cli-fail", "--type", "AmlCompute", "--max-nodes", "1"))
        assert "compute cli-fail (AmlCompute): Failed" in outcome.stdout and "Created" not in outcome.stdout
        assert "error: compute cli-fail failed:" in outcome.stderr and "File exists" in outcome.stderr
        assert "hint:" in outcome.stderr
        record = computes(aml)["cli-fail"]
        assert record["state"] == "Failed" and "File exists" in record["error"]
        details = ok(aml("-w", WS, "compute", "show", "cli-fail")).stdout
        assert "Failed" in details and "error: " in details and "File exists" in details
        row = next(line for line in ok(aml("-w", WS, "compute", "list")).stdout.splitlines() if "cli-fail" in line)
        assert "Failed" in row
        ok(aml("-w", WS, "compute", "delete", "cli-fail", "--yes"))
        assert "cli-fail" not in computes(aml)
    finally:
        blocker.unlink(missing_ok=True)


def test_delete_asks_unless_yes(service: Service, aml: Callable[..., Outcome], cleanup: list[str],
                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cleanup.append("cli-delete")
    monkeypatch.chdir(tmp_path)
    ok(aml("-w", WS, "compute", "create", "cli-delete", "--type", "AmlCompute", "--max-nodes", "1"))
    declined = answering(service, "n\n", "-w", WS, "compute", "delete", "cli-delete")
    assert declined.exit_code == 1 and "Delete compute 'cli-delete' of workspace 'computecli'?" in declined.stderr
    assert "cli-delete" in computes(aml)
    accepted = answering(service, "y\n", "-w", WS, "compute", "delete", "cli-delete")
    assert accepted.exit_code == 0 and "Deleted compute cli-delete" in accepted.stdout
    assert "cli-delete" not in computes(aml)
    missing = failed(aml("-w", WS, "compute", "delete", "cli-delete", "--yes"))
    assert "'cli-delete' not found" in missing.stderr and "hint:" in missing.stderr


def test_queue_reasons_and_force_delete(aml: Callable[..., Outcome], cleanup: list[str], tmp_path: Path) -> None:
    cleanup.append("cli-queue")
    project = write_project(tmp_path / "project", {"slow.py": SLOW})
    ok(aml("-w", WS, "compute", "create", "cli-queue", "--type", "AmlCompute", "--max-nodes", "1"))
    runs = [ok(aml("-w", WS, "--json", "run", "submit", str(project), "slow.py", "-e", "queue", "--compute",
                   "cli-queue")).json["run"]["id"] for _ in range(2)]
    deadline = time.monotonic() + 60
    while (computes(aml)["cli-queue"]["active_runs"] != 1 or not computes(aml)["cli-queue"]["queue"]) \
            and time.monotonic() < deadline:
        time.sleep(0.5)
    record = ok(aml("-w", WS, "--json", "compute", "show", "cli-queue")).json
    assert record["queued_runs"] == 1 and record["queue"][0]["run_id"] == runs[1]
    reason = record["queue"][0]["reason"]
    assert "node" in reason
    details = ok(aml("-w", WS, "compute", "show", "cli-queue")).stdout
    assert "waiting because" in details and reason in details and runs[1] in details
    assert "1 running of 1, 1 queued" in details
    row = next(line for line in ok(aml("-w", WS, "compute", "list")).stdout.splitlines() if "cli-queue" in line)
    assert row.split()[-1] == "1"

    refused = failed(aml("-w", WS, "compute", "delete", "cli-queue", "--yes"))
    assert "2 queued or running run(s)" in refused.stderr and "force" in refused.stderr
    assert "cli-queue" in computes(aml)
    ok(aml("-w", WS, "--json", "compute", "delete", "cli-queue", "--force", "--yes"))
    assert "cli-queue" not in computes(aml)
    for run_id in runs:
        assert ok(aml("-w", WS, "--json", "run", "show", run_id)).json["status"] == "Canceled"


def test_a_cluster_manager_is_checked_before_anything_is_stored(aml: Callable[..., Outcome]) -> None:
    refused = failed(aml("-w", WS, "compute", "create", "cli-slurm", "--type", "AmlCompute",
                         "--cluster-class", "dask_jobqueue_absent.SLURMCluster", "--cluster-kwargs", '{"cores": 1}'))
    assert "not installed" in refused.stderr and "pip install" in refused.stderr
    bad = failed(aml("-w", WS, "compute", "create", "cli-slurm", "--type", "AmlCompute",
                     "--cluster-class", "x.Y", "--cluster-kwargs", "[1]"), code=2)
    assert "must be a JSON object" in bad.stderr
    assert "cli-slurm" not in computes(aml)
