"""The autoscaling policy of a web service: how many replicas it should have. Pure: no processes, no I/O.

As dask's ``Adaptive`` keeps its policy (``recommendations``) apart from the mechanism that starts and
stops workers, this module only turns a time series of requests in flight into a desired replica count;
the deployment manager (``jupyter_aml.serving.autoscale``) samples the balancer and starts or stops
replicas. Tests drive it with a fake clock.

The rule, with Azure ML v1's AKS names:

- a replica's capacity is ``max_concurrent`` requests (``replica_max_concurrent_requests``); the target is
  ``autoscale_target_utilization`` percent of it, so with the defaults (1 request, 70 %) a replica should
  carry 0.7 requests in flight on average;
- the load is the mean of the in-flight samples over the last ``autoscale_refresh_seconds``; the replicas
  needed for it are ``ceil(load / (max_concurrent * target / 100))``, within ``min_replicas..max_replicas``;
- more replicas are needed than there are: scale up at once (at most once per refresh period);
- fewer are needed: scale down only once the need has stayed below the current count for the whole
  cool-down (``scale_down_delay``, 10 refresh periods by default), and then to the highest need seen during
  it, so a load that comes and goes does not make replicas flap.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

COOL_DOWN_PERIODS = 10  # refresh periods the load must stay low before replicas are removed


@dataclass(frozen=True)
class AutoscaleSettings:
    min_replicas: int = 1
    max_replicas: int = 10
    target_utilization: int = 70  # percent
    refresh_seconds: float = 1.0
    max_concurrent: int = 1  # requests a replica serves at once
    scale_down_delay: float | None = None  # None: COOL_DOWN_PERIODS refresh periods

    def __post_init__(self) -> None:
        if self.min_replicas < 1:
            raise ValueError(f"autoscale_min_replicas must be at least 1, not {self.min_replicas}")
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"autoscale_min_replicas ({self.min_replicas}) is more than autoscale_max_replicas "
                             f"({self.max_replicas})")
        if not 1 <= self.target_utilization <= 100:
            raise ValueError(f"autoscale_target_utilization must be 1..100 (percent), not {self.target_utilization}")
        if self.refresh_seconds <= 0 or self.max_concurrent < 1:
            raise ValueError("autoscale_refresh_seconds must be positive and max_concurrent at least 1")

    @property
    def cool_down(self) -> float:
        return self.scale_down_delay if self.scale_down_delay is not None else COOL_DOWN_PERIODS * self.refresh_seconds

    @property
    def per_replica_target(self) -> float:
        """Requests in flight one replica should carry."""
        return self.max_concurrent * self.target_utilization / 100


@dataclass(frozen=True)
class Decision:
    """What the policy recommends: ``count`` replicas (== ``current``: leave them), and why."""

    current: int
    count: int
    load: float  # mean requests in flight over the last refresh period
    reason: str

    @property
    def changes(self) -> bool:
        return self.count != self.current


class AutoscalePolicy:
    def __init__(self, settings: AutoscaleSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.samples: deque[tuple[float, float]] = deque()  # (t, requests in flight)
        self.needs: deque[tuple[float, int]] = deque()  # (t, replicas needed), over the cool-down
        self.last_change = -math.inf
        self.low_since: float | None = None  # when the need fell below the current count

    def observe(self, inflight: float) -> None:
        """One sample of the requests in flight across the service (the balancer's count)."""
        now = self.clock()
        self.samples.append((now, float(inflight)))
        horizon = now - self.settings.refresh_seconds
        while self.samples and self.samples[0][0] < horizon:
            self.samples.popleft()

    def load(self) -> float:
        horizon = self.clock() - self.settings.refresh_seconds
        window = [v for t, v in self.samples if t >= horizon]
        return sum(window) / len(window) if window else 0.0

    def needed(self, load: float) -> int:
        s = self.settings
        raw = math.ceil(load / s.per_replica_target - 1e-9) if load > 0 else 0
        return max(s.min_replicas, min(s.max_replicas, raw))

    def decide(self, current: int) -> Decision:
        """The replica count for now, given ``current`` replicas serving."""
        s, now = self.settings, self.clock()
        load = self.load()
        need = self.needed(load)
        self.needs.append((now, need))
        while self.needs and self.needs[0][0] < now - s.cool_down:
            self.needs.popleft()
        per = load / current if current else load
        if current < s.min_replicas or current > s.max_replicas:  # the settings changed under a running service
            target = max(s.min_replicas, min(s.max_replicas, current))
            return self._change(current, target, load, f"autoscale bounds are {s.min_replicas}..{s.max_replicas}")
        if need > current:
            self.low_since = None
            if now - self.last_change < s.refresh_seconds:
                return Decision(current, current, load, "waiting a refresh period after the last change")
            return self._change(current, need, load, f"{per:.1f} in flight per replica over "
                                                      f"{s.target_utilization}% target")
        if need < current:
            if self.low_since is None:
                self.low_since = now
            if now - self.low_since >= s.cool_down and now - self.last_change >= s.cool_down:
                peak = max(n for _t, n in self.needs)
                if peak < current:
                    return self._change(current, peak, load, f"{per:.1f} in flight per replica, under "
                                                             f"{s.target_utilization}% target for "
                                                             f"{s.cool_down:g} s")
            return Decision(current, current, load, "load is low; cooling down")
        self.low_since = None
        return Decision(current, current, load, "at target")

    def _change(self, current: int, count: int, load: float, reason: str) -> Decision:
        self.last_change = self.clock()
        self.low_since = None
        return Decision(current, count, load, reason)


__all__ = ["AutoscalePolicy", "AutoscaleSettings", "Decision"]
