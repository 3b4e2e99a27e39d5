"""The hung-replica guard: a replica whose ``run()`` never returns is replaced while the others serve.

When a request overruns the scoring timeout the caller gets its 504 at once, but the replica's ``run()`` is
still working on it. The balancer keeps that replica busy ("overdue", ``Replica.overdue``) until the
replica answers after all, so nothing queues behind the stuck call. If it is still overdue
``replica_overrun_limit_seconds`` after the timeout fired, the guard starts a fresh replica first, and
once that one is ready kills the hung one (its ``run()`` cannot be interrupted any other way). The service
keeps its replica count throughout, and the event shows in the service's telemetry and log.
"""

from __future__ import annotations

import asyncio
import time

from jupyter_aml.serving import pool
from jupyter_aml.serving.front import READY, SUSPECT, Replica
from jupyter_aml.serving.live import Live

DEFAULT_OVERRUN_LIMIT = 60.0


def overrun_limit(config: dict[str, object]) -> float:
    value = config.get("replica_overrun_limit_seconds")
    return float(value) if isinstance(value, (int, float)) else DEFAULT_OVERRUN_LIMIT


def hung(live: Live, now: float | None = None) -> list[Replica]:
    """Replicas overdue for longer than the overrun limit, not already being replaced."""
    if live.active is None:
        return []
    now = time.monotonic() if now is None else now
    limit = overrun_limit(live.config)
    return [r for r in live.active.replicas
            if r.state in (READY, SUSPECT) and r.hung_since is not None and r not in live.replacing
            and now - r.hung_since > limit]


def check(live: Live) -> None:
    """Called by the supervisor on each tick: start the replacement of every hung replica."""
    for replica in hung(live):
        live.replacing.add(replica)
        task = asyncio.ensure_future(_replace(live, replica))
        live.tasks.add(task)
        task.add_done_callback(live.tasks.discard)


async def _replace(live: Live, replica: Replica) -> None:
    try:
        assert replica.hung_since is not None
        overdue_for = time.monotonic() - replica.hung_since
        live.log.write(f"replica {replica.index}: run() has overrun the scoring timeout by {overdue_for:.1f} s "
                       f"(limit {overrun_limit(live.config):g} s); starting a replacement")
        count = len(pool.serving(live.active)) if live.active else 0
        fresh = await pool.add(live, 1)
        if not fresh:
            live.log.write(f"replica {replica.index}: no replacement could start; it is killed anyway")
        await pool.remove(live, [replica], drain=0, grace=0.5)
        after = len(pool.serving(live.active)) if live.active else 0
        what = f"replica {fresh[0].index}" if fresh else "no replica"
        pool.record(live, "replaced", count, after,
                    f"replaced hung replica {replica.index} with {what}: run() overran the "
                    f"{live.front.timeout:g} s scoring timeout by {overdue_for:.1f} s")
    finally:
        live.replacing.discard(replica)


__all__ = ["DEFAULT_OVERRUN_LIMIT", "check", "hung", "overrun_limit"]
