"""Endpoint request telemetry: per-minute counters and a log-spaced latency histogram.

The load balancer records each request in memory (``MinuteStats``); the deployment manager flushes the
finished counters to the store every few seconds. Percentiles are read from the merged histograms, so
any time range costs one pass over its minute rows. Bucket ``i`` holds latencies up to ``BOUNDS_MS[i]``
(each bound is 2^(1/4), about 19%, above the previous one); the last bucket holds everything slower.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

BOUNDS_MS: tuple[float, ...] = tuple(0.25 * 2 ** (i / 4) for i in range(80))  # 0.25 ms .. about 200 s
BUCKETS = len(BOUNDS_MS) + 1


def bucket_of(latency_ms: float) -> int:
    return bisect.bisect_left(BOUNDS_MS, latency_ms)


@dataclass
class MinuteStats:
    minute: int
    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    latency_sum: float = 0.0
    hist: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def record(self, status: int, latency_ms: float) -> None:
        self.requests += 1
        if 400 <= status < 500:
            self.errors_4xx += 1
        elif status >= 500:
            self.errors_5xx += 1
        self.latency_sum += latency_ms
        self.hist[bucket_of(latency_ms)] += 1


def merge(hists: Iterable[Sequence[int]]) -> list[int]:
    total = [0] * BUCKETS
    for hist in hists:
        for i, count in enumerate(hist[:BUCKETS]):
            total[i] += int(count)
    return total


def percentile(hist: Sequence[int], q: float) -> float | None:
    """The q-quantile (0..1) of the latencies in ``hist``, in ms (geometric middle of its bucket)."""
    total = sum(hist)
    if total == 0:
        return None
    rank = max(1.0, q * total)
    seen = 0
    for i, count in enumerate(hist):
        seen += count
        if seen >= rank:
            if i == 0:
                return BOUNDS_MS[0] / 2
            if i >= len(BOUNDS_MS):
                return BOUNDS_MS[-1]
            return float((BOUNDS_MS[i - 1] * BOUNDS_MS[i]) ** 0.5)
    return BOUNDS_MS[-1]
