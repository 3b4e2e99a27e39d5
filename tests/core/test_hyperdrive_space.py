"""A sweep's stored configuration and how points are drawn (core/hyperdrive_space.py, hyperdrive_bayes.py)."""

from __future__ import annotations

import json
import math
import random
import statistics

import pytest

from jupyter_aml.core.hyperdrive_space import SweepConfig, as_arguments, draw
from jupyter_aml.errors import InvalidInput


def props(space: dict, name: str = "RANDOM", policy: dict | None = None, **extra: str) -> dict[str, str]:
    return {
        "generator_config": json.dumps({"name": name, "parameter_space": space, "properties": {"seed": 5}}),
        "primary_metric_config": json.dumps({"name": "acc", "goal": "maximize"}),
        "policy_config": json.dumps(policy or {"name": "Default", "properties": {}}),
        "max_total_jobs": "8", "max_concurrent_jobs": "2", "max_duration_minutes": "60", **extra,
    }


def test_v1_semantics_of_each_expression() -> None:
    rng = random.Random(1)
    logs = [draw(["loguniform", [-6, -1]], rng) for _ in range(2000)]
    assert all(math.exp(-6) <= v <= math.exp(-1) for v in logs)  # the bounds are exponents
    assert abs(statistics.fmean(math.log(v) for v in logs) + 3.5) < 0.1
    assert {draw(["randint", [3]], rng) for _ in range(200)} == {0, 1, 2}
    assert all(v in (0.25, 0.5, 0.75, 1.0) for v in (draw(["quniform", [0.2, 1.0, 0.25]], rng) for _ in range(200)))
    assert all(v > 0 for v in (draw(["lognormal", [0, 1]], rng) for _ in range(200)))
    assert abs(statistics.fmean(draw(["normal", [10, 2]], rng) for _ in range(4000)) - 10) < 0.2
    assert draw(["qnormal", [10, 2, 5]], rng) % 5 == 0
    assert draw(["qloguniform", [0, 3, 2]], rng) % 2 == 0
    assert draw(["choice", [["a", "b"]]], rng) in ("a", "b")


def test_random_points_are_a_function_of_seed_and_index() -> None:
    cfg = SweepConfig.from_properties(props({"--lr": ["uniform", [0, 1]], "--b": ["choice", [[1, 2]]]}))
    assert cfg.point(3) == cfg.point(3) and cfg.point(3) != cfg.point(4)


def test_grid_enumerates_in_order_and_bounds_the_total() -> None:
    cfg = SweepConfig.from_properties(props({"a": ["choice", [[1, 2]]], "b": ["choice", [["x", "y", "z"]]]},
                                            name="GRID"))
    assert [cfg.point(i) for i in range(6)][:3] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"}]
    assert cfg.total_runs() == 6


def test_bad_spaces_are_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="Grid sampling supports only choice expressions; 'lr' is uniform"):
        SweepConfig.from_properties(props({"lr": ["uniform", [0, 1]]}, name="GRID"))
    with pytest.raises(InvalidInput, match="Bayesian sampling supports only choice, quniform, uniform"):
        SweepConfig.from_properties(props({"lr": ["loguniform", [-3, 0]]}, name="BAYESIANOPTIMIZATION"))
    bandit = {"name": "Bandit", "properties": {"slack_factor": 0.1}}
    with pytest.raises(InvalidInput, match="Bayesian sampling does not support early termination policies"):
        SweepConfig.from_properties(props({"lr": ["uniform", [0, 1]]}, name="BAYESIANOPTIMIZATION", policy=bandit))
    with pytest.raises(InvalidInput, match="uniform needs min_value < max_value"):
        SweepConfig.from_properties(props({"lr": ["uniform", [1, 0]]}))
    with pytest.raises(InvalidInput, match="exactly one of slack_factor and slack_amount"):
        SweepConfig.from_properties(props({"lr": ["uniform", [0, 1]]}, policy={"name": "Bandit", "properties": {}}))
    with pytest.raises(InvalidInput, match="needs the properties"):
        SweepConfig.from_properties({"generator_config": "{}"})
    with pytest.raises(InvalidInput, match="max_total_runs"):
        SweepConfig.from_properties(props({"lr": ["uniform", [0, 1]]}, max_total_jobs="0"))


def test_the_stored_form_round_trips() -> None:
    cfg = SweepConfig.from_properties(props({"--lr": ["uniform", [0, 1]]}))
    assert SweepConfig.from_properties(cfg.to_properties()) == cfg


def test_sampled_values_become_v1_arguments() -> None:
    assert as_arguments({"--lr": 0.01, "batch": 16, "--opt": "adam"}) == ["--lr", "0.01", "--batch", "16",
                                                                          "--opt", "adam"]


def test_bayesian_suggestions_move_toward_the_optimum() -> None:
    cfg = SweepConfig.from_properties(props({"x": ["uniform", [-5, 5]], "k": ["quniform", [0, 4, 1]]},
                                            name="BAYESIANOPTIMIZATION"))
    history: list[tuple[dict, float]] = []
    for index in range(24):
        point = cfg.point(index, history)
        assert -5 <= point["x"] <= 5 and point["k"] in (0, 1, 2, 3, 4)
        history.append((point, -((point["x"] - 2) ** 2) - abs(point["k"] - 3)))  # maximize: best at (2, 3)
    values = [v for _, v in history]
    assert max(values[4:]) > max(values[:4]) and max(values) > -0.5
