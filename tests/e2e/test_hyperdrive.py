"""HyperDrive end to end: real sweeps through the SDK's v1 names, a real service process and real child runs.

The service drives each sweep (core/hyperdrive.py), so these tests only submit and read back: a grid on
local compute never runs more than max_concurrent_runs children at once, a bandit policy cancels a bad child
with its reason, a bayesian sweep of a quadratic improves on its first (random) points, a sweep survives a
kill -9 of the service, and a sweep runs its children on an AmlCompute cluster.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import jupyter_aml.sdk.hyperdrive as hd
from jupyter_aml import Experiment, ScriptRunConfig
from jupyter_aml.widgets import RunDetails
from jupyter_aml.widgets.feed import wait_until
from tests.e2e.conftest import ServiceProcess, wait_status, write_script

SCRIPT = """\
import argparse, time
from azureml.core import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float, default=0.0)
p.add_argument("--y", type=float, default=0.0)
p.add_argument("--steps", type=int, default=3)
p.add_argument("--sleep", type=float, default=0.2)
a = p.parse_args()
run = Run.get_context()
steps = a.steps if a.x >= 0.5 else a.steps * 20  # a bad child would run long: the bandit must stop it
for i in range(steps):
    run.log("accuracy", a.x + a.y / 100 + i / 1000)
    time.sleep(a.sleep)
run.log("loss", (a.x - 1.0) ** 2 + (a.y + 2.0) ** 2)
print("done", a.x, a.y, flush=True)
"""


def _parse(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _children(service: ServiceProcess, run_id: str) -> list[dict[str, Any]]:
    return list(service.client().get(f"workspaces/e2e/runs/{run_id}/children")["items"])


def _max_overlap(children: list[dict[str, Any]]) -> int:
    """The most children that were running at one moment, from their start and end times."""
    edges = []
    for c in children:
        if c.get("start_time"):
            edges += [(_parse(c["start_time"]), 1), (_parse(c["end_time"]), -1)]
    running = peak = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        running += step
        peak = max(peak, running)
    return peak


def _src(tmp_path: Path, *args: str, target: str = "local") -> ScriptRunConfig:
    return ScriptRunConfig(write_script(tmp_path / "src", SCRIPT, "train.py"), "train.py", list(args),
                           compute_target=target)


def test_a_grid_of_four_runs_two_at_a_time_and_reports_v1_results(service: ServiceProcess, tmp_path: Path) -> None:
    ws = service.workspace()
    config = hd.HyperDriveConfig(
        run_config=_src(tmp_path, "--steps", "3"),
        hyperparameter_sampling=hd.GridParameterSampling({"--x": hd.choice(0.6, 0.9), "y": hd.choice([1, 2])}),
        policy=None, primary_metric_name="accuracy", primary_metric_goal=hd.PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=10, max_concurrent_runs=2)
    assert config.max_total_runs == 4  # the grid has 4 points
    run = Experiment(ws, "hd-grid").submit(config)
    assert isinstance(run, hd.HyperDriveRun)
    details = run.wait_for_completion(show_output=True)
    assert details["status"] == "Completed"

    children = _children(service, run.id)
    assert len(children) == 4 and {c["status"] for c in children} == {"Completed"}
    assert _max_overlap(children) <= 2
    points = sorted((json.loads(c["properties"]["hyperparameters"])["--x"],
                     json.loads(c["properties"]["hyperparameters"])["y"]) for c in children)
    assert points == [(0.6, 1), (0.6, 2), (0.9, 1), (0.9, 2)]
    for c in children:  # v1 appends the sampled values to the base arguments
        params = json.loads(c["properties"]["hyperparameters"])
        assert c["run_config"]["arguments"] == ["--steps", "3", "--x", repr(params["--x"]), "--y", str(params["y"])]
        assert c["compute_target"] == "local" and c["parent_id"] == run.id

    ranked = run.get_children_sorted_by_primary_metric()
    assert [set(r) for r in ranked] == [{"run_id", "hyperparameters", "best_primary_metric", "status"}] * 4
    assert [json.loads(r["hyperparameters"])["--x"] for r in ranked][:2] == [0.9, 0.9]
    assert ranked[0]["best_primary_metric"] >= ranked[-1]["best_primary_metric"]
    assert run.get_children_sorted_by_primary_metric(top=1, reverse=True)[0]["run_id"] == ranked[-1]["run_id"]
    best = run.get_best_run_by_primary_metric()
    assert best is not None and best.id == ranked[0]["run_id"]
    assert run.get_properties()["best_child_run_id"] == best.id
    metrics = run.get_metrics()
    assert set(metrics) == {c["id"] for c in children} and len(metrics[best.id]["accuracy"]) == 3
    assert set(run.get_hyperparameters()) == set(metrics)
    assert json.loads(run.get_properties()["primary_metric_config"]) == {"name": "accuracy", "goal": "maximize"}

    view = RunDetails(run)  # the widget's parallel-coordinates chart: one axis per hyperparameter + the metric
    assert wait_until(lambda: view.parallel.figure is not None and view.parallel.data["count"] == 4, 20)
    dims = view.parallel.figure.data[0].dimensions
    assert [d.label for d in dims] == ["--x", "y", "accuracy"]
    assert sorted(dims[0].values) == [0.6, 0.6, 0.9, 0.9] and max(dims[2].values) == ranked[0]["best_primary_metric"]
    view.close()


@pytest.mark.parametrize("policy, named", [
    (hd.BanditPolicy(slack_factor=0.2, evaluation_interval=1, delay_evaluation=2),
     ["BanditPolicy(slack_factor=0.2", "the slack of the best run"]),
    (hd.MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=2),
     ["MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=2)", "running averages"]),
    (hd.TruncationSelectionPolicy(truncation_percentage=50, delay_evaluation=2),
     ["TruncationSelectionPolicy(truncation_percentage=50", "among the lowest 50% (1 of 2 runs)"]),
], ids=["bandit", "median", "truncation"])
def test_a_policy_cancels_the_bad_child_with_its_reason(service: ServiceProcess, tmp_path: Path, policy: Any,
                                                        named: list[str]) -> None:
    config = hd.HyperDriveConfig(
        run_config=_src(tmp_path, "--steps", "8", "--sleep", "0.4"),
        hyperparameter_sampling=hd.GridParameterSampling({"--x": hd.choice(0.9, 0.1)}),
        policy=policy, primary_metric_name="accuracy", primary_metric_goal="MAXIMIZE", max_total_runs=2,
        max_concurrent_runs=2)
    run = Experiment(service.workspace(), "hd-policy").submit(config)
    assert run.wait_for_completion()["status"] == "Completed"
    by_x = {json.loads(c["properties"]["hyperparameters"])["--x"]: c for c in _children(service, run.id)}
    assert by_x[0.9]["status"] == "Completed"
    bad = by_x[0.1]
    assert bad["status"] == "Canceled", bad
    for text in named:
        assert text in bad["error"]["message"]
    assert _parse(bad["end_time"]) - _parse(bad["start_time"]) < 30  # it would have run 64 s


def test_a_bayesian_sweep_of_a_quadratic_improves_on_its_first_points(service: ServiceProcess,
                                                                       tmp_path: Path) -> None:
    space = {"--x": hd.uniform(-4, 4), "--y": hd.uniform(-4, 4)}
    config = hd.HyperDriveConfig(
        run_config=_src(tmp_path, "--steps", "1", "--sleep", "0"),
        hyperparameter_sampling=hd.BayesianParameterSampling(space, properties={"seed": 11}),
        primary_metric_name="loss", primary_metric_goal=hd.PrimaryMetricGoal.MINIMIZE,
        max_total_runs=14, max_concurrent_runs=1)
    run = Experiment(service.workspace(), "hd-bayes").submit(config)
    assert run.wait_for_completion()["status"] == "Completed"
    children = sorted(_children(service, run.id), key=lambda c: c["number"])
    assert len(children) == 14
    losses = {row["run_id"]: row["best_primary_metric"] for row in run.get_children_sorted_by_primary_metric()}
    ordered = [losses[c["id"]] for c in children]
    first = min(ordered[:4])  # the random start-up points (2 per dimension)
    assert min(ordered[4:]) < first, ordered
    assert min(ordered) < 1.5, ordered  # near the minimum (1, -2) of a bowl 8 wide


def test_a_sweep_resumes_after_the_service_is_killed(service: ServiceProcess, tmp_path: Path) -> None:
    config = hd.HyperDriveConfig(
        run_config=_src(tmp_path, "--steps", "4", "--sleep", "0.5"),
        hyperparameter_sampling=hd.RandomParameterSampling({"--x": hd.uniform(0.5, 1.0)}, properties={"seed": 3}),
        policy=hd.MedianStoppingPolicy(delay_evaluation=100),
        primary_metric_name="accuracy", primary_metric_goal="MAXIMIZE", max_total_runs=4, max_concurrent_runs=1)
    run = Experiment(service.workspace(), "hd-restart").submit(config)
    deadline = time.monotonic() + 120
    while len(_children(service, run.id)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    service.kill9()
    service.start()
    run.experiment.workspace._client = service.client()
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=180) == "Completed"
    children = _children(service, run.id)
    assert len(children) == 4
    xs = [json.loads(c["properties"]["hyperparameters"])["--x"] for c in children]
    assert len(set(xs)) == 4 and all(0.5 <= x <= 1.0 for x in xs)
    assert sum(c["status"] == "Completed" for c in children) >= 3  # at most the one running at the kill is lost


def test_cancel_ends_the_sweep_and_its_children(service: ServiceProcess, tmp_path: Path) -> None:
    config = hd.HyperDriveConfig(
        run_config=_src(tmp_path, "--steps", "200", "--sleep", "0.3"),
        hyperparameter_sampling=hd.RandomParameterSampling({"--x": hd.uniform(0.6, 1.0)}),
        primary_metric_name="accuracy", primary_metric_goal="MAXIMIZE", max_total_runs=6, max_concurrent_runs=2)
    run = Experiment(service.workspace(), "hd-cancel").submit(config)
    deadline = time.monotonic() + 120
    while not any(c["status"] == "Running" for c in _children(service, run.id)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run.cancel() is True
    assert wait_status(run, {"Canceled"}, timeout=10) == "Canceled"
    time.sleep(3)  # the sweep must not start more children
    children = _children(service, run.id)
    assert len(children) == 2 and {c["status"] for c in children} == {"Canceled"}


def test_max_duration_minutes_ends_the_sweep(service: ServiceProcess, tmp_path: Path) -> None:
    config = hd.HyperDriveConfig(
        run_config=_src(tmp_path, "--steps", "300", "--sleep", "0.2"),
        hyperparameter_sampling=hd.RandomParameterSampling({"--x": hd.uniform(0.6, 1.0)}),
        primary_metric_name="accuracy", primary_metric_goal="MAXIMIZE", max_total_runs=5, max_concurrent_runs=1,
        max_duration_minutes=0.1)
    run = Experiment(service.workspace(), "hd-duration").submit(config)
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=90) == "Completed"
    children = _children(service, run.id)
    assert len(children) == 1 and children[0]["status"] == "Canceled"
    assert "max_duration_minutes=0.1" in children[0]["error"]["message"]


def test_a_sweep_on_a_compute_cluster(service: ServiceProcess, tmp_path: Path) -> None:
    client = service.client()
    client.post("workspaces", {"name": "e2e"})
    client.post("workspaces/e2e/computes", {"name": "hd-cluster", "type": "AmlCompute", "max_nodes": 2,
                                            "idle_seconds_before_scaledown": 30})
    deadline = time.monotonic() + 120
    while client.get("workspaces/e2e/computes/hd-cluster")["state"] != "Running" and time.monotonic() < deadline:
        time.sleep(0.3)
    config = hd.HyperDriveConfig(
        run_config=_src(tmp_path, "--steps", "2", target="hd-cluster"),
        hyperparameter_sampling=hd.GridParameterSampling({"--x": hd.choice(0.7, 0.8, 0.9)}),
        primary_metric_name="accuracy", primary_metric_goal="MAXIMIZE", max_total_runs=3, max_concurrent_runs=2)
    run = Experiment(service.workspace(), "hd-cluster").submit(config)
    assert run.wait_for_completion()["status"] == "Completed"
    children = _children(service, run.id)
    assert len(children) == 3 and {c["status"] for c in children} == {"Completed"}
    assert {c["compute_target"] for c in children} == {"hd-cluster"}
    assert _max_overlap(children) <= 2


def test_a_bad_sweep_configuration_is_refused_before_anything_is_stored(service: ServiceProcess,
                                                                         tmp_path: Path) -> None:
    ws = service.workspace()
    good = hd.HyperDriveConfig(
        run_config=_src(tmp_path), hyperparameter_sampling=hd.GridParameterSampling({"--x": hd.choice(0.6)}),
        primary_metric_name="accuracy", primary_metric_goal="MAXIMIZE", max_total_runs=1)
    props = good.properties()
    props["generator_config"] = json.dumps({"name": "GRID", "parameter_space": {"--x": ["uniform", [0, 1]]}})
    from jupyter_aml.sdk.submit import upload_snapshot

    snapshot = upload_snapshot(ws._api, ws.name, tmp_path / "src", script="train.py", progress=False).snapshot_id
    body = {"experiment": "hd-bad", "kind": "interactive", "snapshot_id": snapshot, "properties": props,
            "run_config": {"script": "train.py"}}
    try:
        service.client().post("workspaces/e2e/runs", body)
    except Exception as exc:  # the SDK's typed error for a 400
        assert "Grid sampling supports only choice" in str(exc)
        assert getattr(exc, "status", 400) == 400
    else:
        raise AssertionError("a grid over uniform was accepted")
    experiments = service.client().get("workspaces/e2e/experiments")["items"]
    assert "hd-bad" not in [e["name"] for e in experiments]  # not even the experiment was made


def test_the_sweep_fails_only_when_every_child_failed(service: ServiceProcess, tmp_path: Path) -> None:
    failing = ScriptRunConfig(write_script(tmp_path / "bad", "import sys\nsys.exit(3)\n", "train.py"), "train.py")
    config = hd.HyperDriveConfig(
        run_config=failing, hyperparameter_sampling=hd.GridParameterSampling({"--x": hd.choice(1, 2)}),
        primary_metric_name="accuracy", primary_metric_goal="MAXIMIZE", max_total_runs=2, max_concurrent_runs=2)
    run = Experiment(service.workspace(), "hd-failing").submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed" and "every child run failed" in details["error"]["message"]
    assert {c["status"] for c in _children(service, run.id)} == {"Failed"}
    assert run.get_best_run_by_primary_metric() is None
    assert run.get_children_sorted_by_primary_metric(discard_no_metric=True) == []
    assert [r["best_primary_metric"] for r in run.get_children_sorted_by_primary_metric()] == [None, None]
