"""HyperDrive's v1 classes refuse what v1 refused, before anything is submitted (jupyter_aml/sdk/hyperdrive)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_aml.sdk.hyperdrive as hd
from jupyter_aml import ScriptRunConfig
from jupyter_aml.errors import InvalidInput
from jupyter_aml.widgets.parallel import chart_data

SHIM = Path(__file__).resolve().parents[2] / "jupyter_aml" / "_shim"


@pytest.fixture
def src(tmp_path: Path) -> ScriptRunConfig:
    (tmp_path / "train.py").write_text("print('hi')\n")
    return ScriptRunConfig(tmp_path, "train.py")


def config(src: ScriptRunConfig, sampling: hd.HyperParameterSampling, **kw: object) -> hd.HyperDriveConfig:
    args: dict = {"run_config": src, "hyperparameter_sampling": sampling, "primary_metric_name": "acc",
                  "primary_metric_goal": hd.PrimaryMetricGoal.MAXIMIZE, "max_total_runs": 4, **kw}
    return hd.HyperDriveConfig(**args)


def test_parameter_expressions_keep_v1s_shape() -> None:
    assert hd.choice(1, 2) == hd.choice([1, 2]) == hd.choice(range(1, 3)) == ["choice", [[1, 2]]]
    assert hd.loguniform(-6, -1) == ["loguniform", [-6, -1]]
    assert hd.quniform(0, 1, 0.1) == ["quniform", [0, 1, 0.1]]
    assert hd.randint(5) == ["randint", [5]]
    for bad in (lambda: hd.choice(), lambda: hd.uniform(1, 0), lambda: hd.normal(0, 0), lambda: hd.randint(0),
                lambda: hd.qnormal(0, 1, -1), lambda: hd.choice([[1]]), lambda: hd.uniform(0, float("nan"))):
        with pytest.raises(InvalidInput):
            bad()


def test_bad_spaces_and_combinations_are_refused_as_in_v1(src: ScriptRunConfig) -> None:
    with pytest.raises(InvalidInput, match="Grid sampling supports only choice: '--lr' is uniform"):
        hd.GridParameterSampling({"--lr": hd.uniform(0, 1)})
    with pytest.raises(InvalidInput, match="Bayesian sampling supports only choice, uniform, quniform"):
        hd.BayesianParameterSampling({"--lr": hd.loguniform(-3, 0)})
    bayes = hd.BayesianParameterSampling({"--lr": hd.uniform(0, 1)})
    with pytest.raises(InvalidInput, match="Bayesian sampling does not support early termination policies"):
        config(src, bayes, policy=hd.BanditPolicy(slack_factor=0.1))
    assert config(src, bayes, policy=hd.NoTerminationPolicy()).policy.to_json()["name"] == "Default"
    with pytest.raises(InvalidInput, match="exactly one of slack_factor and slack_amount"):
        hd.BanditPolicy()
    with pytest.raises(InvalidInput, match="truncation_percentage must be from 1 to 99"):
        hd.TruncationSelectionPolicy(100)
    with pytest.raises(InvalidInput, match="Estimators were deprecated"):
        config(src, bayes, estimator=object())
    with pytest.raises(InvalidInput, match="needs run_config=ScriptRunConfig"):
        hd.HyperDriveConfig(hyperparameter_sampling=bayes, primary_metric_name="acc",
                            primary_metric_goal="MAXIMIZE", max_total_runs=2)
    with pytest.raises(InvalidInput, match="primary_metric_goal"):
        config(src, bayes, primary_metric_goal="BIGGER")
    with pytest.raises(InvalidInput, match="max_total_runs must be a whole number from 1 to 1000"):
        config(src, bayes, max_total_runs=0)
    with pytest.raises(InvalidInput, match="unknown sampling properties"):
        hd.RandomParameterSampling({"--lr": hd.uniform(0, 1)}, properties={"rng": 1})
    with pytest.raises(InvalidInput, match="characters; a run keeps at most 5000"):
        config(src, hd.RandomParameterSampling({"--c": hd.choice(list(range(2000)))}))


def test_the_parent_properties_use_v1s_names(src: ScriptRunConfig) -> None:
    cfg = config(src, hd.GridParameterSampling({"--a": hd.choice(1, 2)}, properties={"seed": 4}),
                 policy=hd.MedianStoppingPolicy(evaluation_interval=2), max_concurrent_runs=2, max_total_runs=9)
    props = cfg.properties()
    assert cfg.max_total_runs == 2  # a grid of 2 ends the sweep
    assert props["azureml.runsource"] == "hyperdrive" and props["max_total_jobs"] == "2"
    assert json.loads(props["generator_config"]) == {"name": "GRID", "parameter_space": {"--a": ["choice", [[1, 2]]]},
                                                     "properties": {"seed": 4}}
    assert json.loads(props["policy_config"]) == {"name": "MedianStopping",
                                                  "properties": {"evaluation_interval": 2, "delay_evaluation": 0}}
    assert json.loads(props["primary_metric_config"]) == {"name": "acc", "goal": "maximize"}


def test_the_azureml_shim_gives_every_name() -> None:
    code = ("from azureml.train.hyperdrive import (HyperDriveConfig, HyperDriveRun, PrimaryMetricGoal, BanditPolicy,"
            " MedianStoppingPolicy, TruncationSelectionPolicy, NoTerminationPolicy, RandomParameterSampling,"
            " GridParameterSampling, BayesianParameterSampling, choice, uniform, loguniform, normal, lognormal,"
            " quniform, qloguniform, qnormal, randint)\n"
            "from azureml.train.hyperdrive.parameter_expressions import choice as c2\n"
            "from azureml.train.hyperdrive.sampling import RandomParameterSampling as R2\n"
            "from azureml.train.hyperdrive.policy import BanditPolicy as B2\n"
            "from azureml.train.hyperdrive.runconfig import HyperDriveConfig as H2\n"
            "from azureml.train.hyperdrive.run import HyperDriveRun as D2, PrimaryMetricGoal as G2\n"
            "import jupyter_aml.sdk.hyperdrive as hd\n"
            "assert c2 is hd.choice and H2 is HyperDriveConfig and G2 is PrimaryMetricGoal and D2 is HyperDriveRun\n"
            "print(loguniform(-6, -1))\n")
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(SHIM), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['loguniform', [-6, -1]]"


def test_the_widget_chart_data_has_an_axis_per_hyperparameter_and_the_metric() -> None:
    parent = {"properties": {"azureml.runsource": "hyperdrive",
                             "primary_metric_config": '{"name": "acc", "goal": "minimize"}'}}
    children = {f"c{i}": {"id": f"c{i}", "number": i,
                          "properties": {"hyperparameters": json.dumps({"--lr": lr, "--opt": opt})}}
                for i, (lr, opt) in enumerate([(0.1, "adam"), (0.01, "sgd"), (0.5, "adam")])}
    data = chart_data(parent, children, {"c0": {"acc": 0.3}, "c1": {"acc": 0.2}})
    assert data is not None and data["count"] == 2  # only the children with the metric, once some have it
    lr, opt, acc = data["dimensions"]
    assert lr == {"label": "--lr", "values": [0.1, 0.01]} and acc["values"] == [0.3, 0.2]
    assert opt["ticktext"] == ["adam", "sgd"] and opt["values"] == [0, 1]
    assert chart_data({"properties": {}}, children, {}) is None  # not a HyperDrive run
    assert chart_data(parent, children, {})["count"] == 3  # no metric yet: the hyperparameters alone
