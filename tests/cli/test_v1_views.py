"""``aml experiment list`` with v1's view types (archived experiments on request), and ``aml run metrics``
showing text, bool, None, int and non-finite values as they were logged."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jupyter_aml import Experiment, Workspace
from tests.cli.conftest import Outcome, Service, failed, ok

WS = "views"


@pytest.fixture(scope="module")
def workspace(service: Service) -> Workspace:
    ws = Workspace(WS, service_url=service.url, token=service.token)
    Experiment(ws, "live").set_tags({"k": "v"})
    Experiment(ws, "old").set_tags({"k": "v"})
    Experiment(ws, "old").archive()
    return ws


def names(outcome: Outcome) -> list[str]:
    return [e["name"] for e in outcome.json["items"]]


def test_experiment_list_has_v1s_view_types(aml: Callable[..., Outcome], workspace: Workspace) -> None:
    assert names(ok(aml("-w", WS, "--json", "experiment", "list"))) == ["live"]
    assert names(ok(aml("-w", WS, "--json", "experiment", "list", "--view-type", "ArchivedOnly"))) == ["old"]
    assert names(ok(aml("-w", WS, "--json", "experiment", "list", "--view-type", "All"))) == ["live", "old"]
    listed = ok(aml("-w", WS, "--json", "experiment", "list", "--include-archived")).json["items"]
    assert [e["name"] for e in listed] == ["live", "old"]
    assert listed[0]["archived_time"] is None and listed[1]["archived_time"]
    table = ok(aml("-w", WS, "experiment", "list", "--include-archived")).stdout
    assert "archived" in table and "old" in table and "live" in table
    assert "old" not in ok(aml("-w", WS, "experiment", "list")).stdout
    ok(aml("workspace", "create", "empty-views"))
    assert "no archived experiments" in ok(aml("-w", "empty-views", "experiment", "list", "--view-type",
                                                "ArchivedOnly")).stdout
    bad = failed(aml("-w", WS, "experiment", "list", "--view-type", "Archived"), code=2)
    assert "ActiveOnly, ArchivedOnly, All" in bad.stderr
    both = failed(aml("-w", WS, "experiment", "list", "--view-type", "ActiveOnly", "--include-archived"), code=2)
    assert "give one of them" in both.stderr


def test_run_metrics_show_values_as_logged(aml: Callable[..., Outcome], workspace: Workspace) -> None:
    run = Experiment(workspace, "values").start_logging()
    run.log("message", "Hello from run!")
    run.log("converged", True)
    run.log("nothing", None)
    run.log("epochs", 12)
    run.log("diverged", float("nan"))
    run.log("loss", 0.25)
    for step in range(3):
        run.log("status", f"epoch {step}")
    run.complete()
    lines = {line.split()[0]: line for line in ok(aml("-w", WS, "run", "metrics", run.id)).stdout.splitlines()
             if line.strip()}
    assert "Hello from run!" in lines["message"]
    assert " True " in lines["converged"] + " "
    assert " None " in lines["nothing"] + " "
    assert " 12 " in lines["epochs"] + " " and "12.0" not in lines["epochs"]
    assert " nan " in lines["diverged"] + " "
    assert " 0.25 " in lines["loss"] + " "
    assert "epoch 2" in lines["status"]
    history = ok(aml("-w", WS, "run", "metrics", run.id, "--name", "status")).stdout
    assert "epoch 0" in history and "epoch 1" in history and "epoch 2" in history
    flags = ok(aml("-w", WS, "run", "metrics", run.id, "--name", "converged")).stdout
    assert "True" in flags
