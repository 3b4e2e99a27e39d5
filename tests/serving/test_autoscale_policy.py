"""The autoscaling policy alone, on a fake clock: when it adds replicas, when it removes them, and its bounds."""

from __future__ import annotations

import pytest

from jupyter_aml.serving.autoscale_policy import AutoscalePolicy, AutoscaleSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def feed(policy: AutoscalePolicy, clock: Clock, inflight: float, seconds: float, step: float = 0.1) -> None:
    for _ in range(round(seconds / step)):
        clock.now += step
        policy.observe(inflight)


def make(**kw: object) -> tuple[AutoscalePolicy, Clock]:
    clock = Clock()
    return AutoscalePolicy(AutoscaleSettings(**kw), clock), clock  # type: ignore[arg-type]


def test_scales_up_at_once_to_what_the_load_needs_and_says_why():
    policy, clock = make()
    feed(policy, clock, 0.5, 1.0)
    assert policy.decide(1).count == 1  # 0.5 in flight: under 70 % of one replica
    feed(policy, clock, 2.4, 1.0)
    decision = policy.decide(1)
    assert decision.count == 4 and decision.changes  # ceil(2.4 / 0.7)
    assert decision.reason == "2.4 in flight per replica over 70% target"


def test_never_above_the_maximum_nor_below_the_minimum():
    policy, clock = make(min_replicas=2, max_replicas=5)
    feed(policy, clock, 32, 1.0)
    assert policy.decide(2).count == 5
    feed(policy, clock, 0, 60.0)
    for _ in range(30):
        feed(policy, clock, 0, 1.0)
        assert policy.decide(5).count in (5, 2)
    assert policy.decide(2).count == 2


def test_scales_down_only_after_the_cool_down_and_to_the_peak_of_it():
    policy, clock = make(refresh_seconds=1.0)  # cool-down: 10 refresh periods
    feed(policy, clock, 6.0, 1.0)
    assert policy.decide(1).count == 9
    feed(policy, clock, 1.2, 1.0)  # the load falls to 2 replicas' worth
    downs = []
    for second in range(1, 15):
        decision = policy.decide(9)
        if decision.changes:
            downs.append((second, decision.count))
            break
        feed(policy, clock, 1.2, 1.0)
    assert downs and downs[0][1] == 2 and downs[0][0] >= 9  # not before the cool-down ends


def test_a_load_that_comes_and_goes_does_not_make_replicas_flap():
    policy, clock = make(refresh_seconds=1.0)
    feed(policy, clock, 2.0, 1.0)
    assert policy.decide(1).count == 3
    changes = 0
    for second in range(30):  # a burst every 4 s: the need never stays low for a whole cool-down
        feed(policy, clock, 2.0 if second % 4 == 0 else 0.1, 1.0)
        changes += policy.decide(3).changes
    assert changes == 0


def test_target_utilization_and_concurrency_set_the_capacity_of_a_replica():
    policy, clock = make(target_utilization=50, max_concurrent=4)  # 2 requests per replica
    feed(policy, clock, 7.0, 1.0)
    assert policy.decide(1).count == 4
    policy, clock = make(target_utilization=100)
    feed(policy, clock, 3.0, 1.0)
    assert policy.decide(3).count == 3  # exactly at target: no change


def test_waits_a_refresh_period_between_scale_ups():
    policy, clock = make(refresh_seconds=2.0)
    feed(policy, clock, 2.0, 2.0)
    assert policy.decide(1).count == 3
    feed(policy, clock, 5.0, 0.5)
    assert not policy.decide(3).changes
    feed(policy, clock, 5.0, 2.0)
    assert policy.decide(3).count == 8


def test_new_bounds_apply_to_a_running_service():
    policy, clock = make(min_replicas=3, max_replicas=4)
    feed(policy, clock, 0.0, 1.0)
    assert policy.decide(1).count == 3
    assert policy.decide(6).count == 4


@pytest.mark.parametrize(("kw", "match"), [
    ({"min_replicas": 4, "max_replicas": 2}, "more than autoscale_max_replicas"),
    ({"min_replicas": -1}, "at least 1"),
    ({"target_utilization": 0}, "1..100"),
    ({"target_utilization": 101}, "1..100"),
])
def test_bad_settings_are_clear_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        AutoscaleSettings(**kw)
