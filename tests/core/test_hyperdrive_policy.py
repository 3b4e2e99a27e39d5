"""HyperDrive's early termination policies on made-up primary-metric series (core/hyperdrive_policy.py)."""

from __future__ import annotations

import pytest

from jupyter_aml.core.hyperdrive_policy import Trial, eligible_interval, evaluate


def ended(name: str, props: dict, goal: str, trials: list[Trial]) -> dict[str, str]:
    return {t.run_id: t.reason for t in evaluate(name, props, goal, "acc", trials)}


def test_eligible_intervals_follow_evaluation_interval_and_delay() -> None:
    assert eligible_interval(0, 1, 0) is None
    assert eligible_interval(3, 1, 0) == 3
    assert eligible_interval(5, 2, 0) == 4
    assert eligible_interval(3, 1, 5) is None and eligible_interval(5, 1, 5) == 5
    assert eligible_interval(7, 3, 5) == 6 and eligible_interval(5, 3, 5) is None


def test_bandit_slack_factor_maximize_uses_v1s_formula() -> None:
    # v1's example: best 0.8, slack_factor 0.2 -> a run whose best Y has Y * 1.2 < 0.8 ends (Y < 0.667)
    trials = [Trial("best", [0.5, 0.8], False), Trial("close", [0.6, 0.7], True), Trial("far", [0.6, 0.65], True)]
    out = ended("Bandit", {"slack_factor": 0.2}, "maximize", trials)
    assert set(out) == {"far"}
    assert "BanditPolicy(slack_factor=0.2" in out["far"] and "0.65" in out["far"] and "0.666667" in out["far"]
    assert "best run best's 0.8" in out["far"]


def test_bandit_slack_amount_and_minimize() -> None:
    trials = [Trial("a", [1.0, 0.5], True), Trial("b", [1.0, 0.9], True), Trial("c", [1.0, 0.55], True)]
    assert set(ended("Bandit", {"slack_amount": 0.1}, "minimize", trials)) == {"b"}
    assert set(ended("Bandit", {"slack_factor": 0.5}, "minimize", trials)) == {"b"}  # 0.9 > 0.5 * 1.5
    assert ended("Bandit", {"slack_factor": 1.0}, "minimize", trials) == {}


def test_bandit_compares_at_the_runs_latest_interval_only_with_runs_that_reached_it() -> None:
    # "fast" is judged at interval 3, where it is alone; "slow" at interval 1, where it leads (0.5 > 0.1)
    trials = [Trial("fast", [0.1, 0.9, 0.95], True), Trial("slow", [0.5], True)]
    assert ended("Bandit", {"slack_factor": 0.1}, "maximize", trials) == {}
    # once "slow" reaches interval 3 it is compared with "fast"'s best up to 3 (0.95)
    trials = [Trial("fast", [0.1, 0.9, 0.95], True), Trial("slow", [0.5, 0.5, 0.6], True)]
    out = ended("Bandit", {"slack_factor": 0.1}, "maximize", trials)
    assert set(out) == {"slow"} and "at interval 3" in out["slow"]
    # delay_evaluation holds the policy back until interval 4
    assert ended("Bandit", {"slack_factor": 0.1, "delay_evaluation": 4}, "maximize", trials) == {}


def test_bandit_never_ends_finished_runs_or_runs_without_values() -> None:
    trials = [Trial("done", [0.1], False), Trial("new", [], True), Trial("top", [0.9], True)]
    assert ended("Bandit", {"slack_factor": 0.1}, "maximize", trials) == {}


def test_median_stopping_against_running_averages() -> None:
    trials = [Trial("a", [0.2, 0.4, 0.6], False), Trial("b", [0.3, 0.5, 0.7], False),
              Trial("c", [0.1, 0.1, 0.2], True), Trial("d", [0.5, 0.6, 0.8], True)]
    # running averages at 3: a 0.4, b 0.5, c 0.133, d 0.633 -> median 0.45; c's best 0.2 is below
    out = ended("MedianStopping", {"evaluation_interval": 1}, "maximize", trials)
    assert set(out) == {"c"} and "median of 4 runs' running averages" in out["c"] and "0.45" in out["c"]
    assert ended("MedianStopping", {"delay_evaluation": 4}, "maximize", trials) == {}


def test_median_stopping_minimize() -> None:
    trials = [Trial("a", [1.0, 0.8], True), Trial("b", [1.0, 0.9], True), Trial("c", [3.0, 2.5], True)]
    assert set(ended("MedianStopping", {}, "minimize", trials)) == {"c"}


def test_truncation_selection_cuts_the_lowest_percentage() -> None:
    trials = [Trial(f"r{i}", [v], True) for i, v in enumerate([0.1, 0.5, 0.9, 0.3])]
    out = ended("TruncationSelection", {"truncation_percentage": 50}, "maximize", trials)
    assert set(out) == {"r0", "r3"} and "lowest 50% (2 of 4 runs)" in out["r0"]
    assert set(ended("TruncationSelection", {"truncation_percentage": 25}, "minimize", trials)) == {"r2"}
    assert ended("TruncationSelection", {"truncation_percentage": 20}, "maximize", trials) == {}  # 4 * 20% < 1


def test_truncation_selection_can_leave_finished_runs_out() -> None:
    trials = [Trial("done-low", [0.1], False), Trial("mid", [0.5], True), Trial("top", [0.9], True)]
    assert set(ended("TruncationSelection", {"truncation_percentage": 34}, "maximize", trials)) == set()
    props = {"truncation_percentage": 50, "exclude_finished_jobs": True}
    assert set(ended("TruncationSelection", props, "maximize", trials)) == {"mid"}
    assert set(ended("TruncationSelection", {"truncation_percentage": 50}, "maximize", trials)) == set()


@pytest.mark.parametrize("name", ["Default"])
def test_no_termination_ends_nothing(name: str) -> None:
    assert ended(name, {}, "maximize", [Trial("a", [0.0] * 9, True), Trial("b", [1.0] * 9, True)]) == {}
