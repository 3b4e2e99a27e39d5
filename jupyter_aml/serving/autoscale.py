"""Autoscaling, the mechanism: sample the balancer, ask the policy, start or stop replicas.

The policy (``jupyter_aml.serving.autoscale_policy``) decides how many replicas a service needs; this task,
one per autoscaled service, feeds it the balancer's count of scoring requests being handled (requests
waiting for a replica included, overdue ones not: their callers already had a 504) several times per
refresh period, asks it once per period, and carries its answer out with ``jupyter_aml.serving.pool``.
Each change is a scaling event ("scaled from 1 to 3 replicas: 2.4 in flight per replica over 70%
target") kept for the endpoint's telemetry and page.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from jupyter_aml.core import registry_models as rm
from jupyter_aml.errors import InvalidInput
from jupyter_aml.serving import pool
from jupyter_aml.serving.autoscale_policy import AutoscalePolicy, AutoscaleSettings
from jupyter_aml.serving.batching import capacity
from jupyter_aml.serving.live import Live

log = logging.getLogger("jupyter_aml.serving")

SAMPLES_PER_REFRESH = 10
IDLE_CHECK = 0.5  # how often a service without autoscaling looks whether it was turned on


def check_bounds(config: dict[str, Any]) -> None:
    """The bounds must fit together: an ``InvalidInput`` (400) saying which, before anything is stored. (Not a
    validator of the contract model: the OpenAPI document cannot say it, so a schema-valid body must not 422.)"""
    low, high = int(config.get("autoscale_min_replicas", 1)), int(config.get("autoscale_max_replicas", 10))
    if low > high:
        raise InvalidInput(f"autoscale_min_replicas ({low}) is more than autoscale_max_replicas ({high})",
                           hint="give a minimum at most the maximum")


def check_update(config: dict[str, Any], spec: rm.DeploymentUpdate, name: str) -> None:
    """An update's autoscale settings, merged with the service's ``config``, must make sense together."""
    config = {**config, **{k: v for k in rm.IN_PLACE_SCALING if (v := getattr(spec, k)) is not None}}
    check_bounds(config)
    bounds = [k for k in rm.IN_PLACE_SCALING[1:5] if getattr(spec, k) is not None]
    if bounds and not config["autoscale_enabled"]:
        raise InvalidInput(f"{', '.join(bounds)} has no effect: web service {name!r} does not autoscale",
                           hint="add autoscale_enabled=True to the update")
    if config["autoscale_enabled"] and spec.replicas is not None:
        raise InvalidInput("replicas (num_replicas) cannot be set on an autoscaled web service",
                           hint="set autoscale_min_replicas / autoscale_max_replicas, or "
                                "update(autoscale_enabled=False, num_replicas=N)")


def settings_of(config: dict[str, Any]) -> AutoscaleSettings | None:
    if not config.get("autoscale_enabled"):
        return None
    return AutoscaleSettings(
        min_replicas=int(config.get("autoscale_min_replicas", 1)),
        max_replicas=int(config.get("autoscale_max_replicas", 10)),
        target_utilization=int(config.get("autoscale_target_utilization", 70)),
        refresh_seconds=float(config.get("autoscale_refresh_seconds", 1.0)),
        max_concurrent=capacity(config))  # a batching replica takes max_batch_size requests per batch


def initial_replicas(config: dict[str, Any], running: int | None) -> int:
    """How many replicas a new revision starts with: the fixed count, or under autoscaling the count the
    service runs now (an update under load keeps its capacity) within the bounds, else the minimum."""
    settings = settings_of(config)
    if settings is None:
        return int(config.get("replicas", 1))
    return max(settings.min_replicas, min(settings.max_replicas, running or settings.min_replicas))


async def run(live: Live) -> None:
    """The autoscaler of one service, until it is closed."""
    policy: AutoscalePolicy | None = None
    while not live.closed:
        settings = settings_of(live.config)
        if settings is None:
            policy = None
            await asyncio.sleep(IDLE_CHECK)
            continue
        if policy is None or policy.settings != settings:
            policy = AutoscalePolicy(settings)
        period = settings.refresh_seconds
        for _ in range(SAMPLES_PER_REFRESH):
            await asyncio.sleep(period / SAMPLES_PER_REFRESH)
            policy.observe(live.front.active)
        try:
            await _step(live, policy)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("autoscaling web service %s failed", live.name)


async def _step(live: Live, policy: AutoscalePolicy) -> None:
    revision = live.active
    if revision is None or (live.rollout is not None and not live.rollout.done()) or live.adding:
        return  # a rollout or a scale-up is under way: decide again once it is done
    current = len(pool.serving(revision))
    decision = policy.decide(current)
    if not decision.changes:
        return
    if decision.count > current:
        live.log.write(f"scaling up: starting {decision.count - current} replica(s) ({decision.reason})")
        added = await pool.add(live, decision.count - current)
        after = len(pool.serving(revision))
        if added:
            pool.record(live, "scale_up", current, after,
                        f"scaled from {current} to {after} replicas: {decision.reason}")
    else:
        leaving = pool.pick_idlest(revision, current - decision.count)
        after = current - len(leaving)
        pool.record(live, "scale_down", current, after, f"scaled from {current} to {after} replicas: {decision.reason}")
        await pool.remove(live, leaving, drain=live.front.timeout + 1)


__all__ = ["check_bounds", "check_update", "initial_replicas", "run", "settings_of"]
