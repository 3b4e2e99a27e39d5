"""Growing and shrinking the replica set of the revision taking traffic, and the service's scaling events.

The mechanism shared by autoscaling (``jupyter_aml.serving.autoscale``) and the hung-replica guard
(``jupyter_aml.serving.guard``): a replica is added by starting it beside the others and letting the balancer
route to it once it answers ``/health/ready``; one is removed by marking it draining (the balancer sends it
nothing more), waiting for its requests in flight, then stopping it. The others serve throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from typing import Literal

from jupyter_aml.core import registry_models as rm
from jupyter_aml.serving.backends import ReplicaFailed
from jupyter_aml.serving.front import DEAD, DRAINING, READY, Replica, Revision
from jupyter_aml.serving.live import MAX_EVENTS, Live, new_events

STOP_GRACE = 10.0


def record(live: Live, kind: Literal["scale_up", "scale_down", "replaced"], before: int, after: int,
           message: str) -> None:
    """Keep a scaling event for the endpoint's telemetry and page, and write it to the service log."""
    live.events.append(rm.ScalingEvent(t=datetime.datetime.now(datetime.timezone.utc), kind=kind,
                                       from_replicas=before, to_replicas=after, message=message))
    live.log.write(message)


def serving(revision: Revision) -> list[Replica]:
    """The replicas that count for the service: not the ones being removed."""
    return [r for r in revision.replicas if r.state not in (DRAINING, DEAD)]


def _next_index(revision: Revision) -> int:
    return max((r.index for r in revision.replicas), default=-1) + 1


async def add(live: Live, count: int) -> list[Replica]:
    """Start ``count`` more replicas of the active revision; return those that became ready."""
    revision, launcher, prepared = live.active, live.launcher, live.prepared
    if revision is None or launcher is None or prepared is None or count <= 0:
        return []
    fresh = []
    for _ in range(count):
        replica = Replica(_next_index(revision), revision.number)
        revision.replicas.append(replica)
        live.adding.add(replica)
        fresh.append(replica)
    timeout = float(prepared.plan.deployment_config.get("startup_timeout_seconds", 300))

    async def one(replica: Replica) -> bool:
        try:
            await asyncio.wait_for(live.start(live, launcher, prepared, replica), timeout)
            return True
        except (ReplicaFailed, asyncio.TimeoutError) as exc:
            live.log.write(f"replica {replica.index} could not be started: {getattr(exc, 'message', 'timed out')}")
            await _stop(revision, [replica], drain=0)
            return False
        finally:
            live.adding.discard(replica)

    ok = await asyncio.gather(*(one(r) for r in fresh))
    return [r for r, good in zip(fresh, ok, strict=True) if good]


def pick_idlest(revision: Revision, count: int) -> list[Replica]:
    """The replicas to remove: ready ones with the fewest requests in flight, the newest first."""
    ready = [r for r in revision.replicas if r.state == READY]
    ready.sort(key=lambda r: (r.inflight, -r.index))
    return ready[:count]


async def remove(live: Live, replicas: list[Replica], *, drain: float, grace: float = STOP_GRACE) -> None:
    """Stop routing to ``replicas``, let their requests finish (up to ``drain`` s), stop them, forget them."""
    revision = live.active
    if revision is None or not replicas:
        return
    await _stop(revision, replicas, drain=drain, grace=grace)
    live.front.notify()


async def _stop(revision: Revision, replicas: list[Replica], *, drain: float, grace: float = STOP_GRACE) -> None:
    for replica in replicas:
        replica.state = DRAINING
    deadline = time.monotonic() + drain
    while any(r.inflight > max(0, r.overdue) for r in replicas) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    await asyncio.gather(*(r.handle.terminate(grace) for r in replicas if r.handle), return_exceptions=True)
    for replica in replicas:
        replica.state = DEAD
        if replica.pool is not None:
            replica.pool.close()
        with contextlib.suppress(ValueError):
            revision.replicas.remove(replica)


def restart(live: Live, revision: Revision, replica: Replica) -> None:
    """Start a replica that exited or stopped answering again, in its place (with backoff when it keeps
    crashing)."""
    live.restarting.add(replica.index)
    if replica.pool is not None:
        replica.pool.close()
    now = time.time()
    replica.crash_times = [t for t in replica.crash_times if now - t < 60] + [now]
    delay = 0.0 if len(replica.crash_times) <= 1 else min(30.0, 0.5 * 2 ** (len(replica.crash_times) - 2))

    async def again() -> None:
        try:
            if replica.handle is not None:
                await replica.handle.terminate(0.5)  # reap the process, remove the container
            while live.active is revision and not live.closed and replica in revision.replicas:
                if delay:
                    live.log.write(f"replica {replica.index} keeps crashing; waiting {delay:.1f} s")
                    await asyncio.sleep(delay)
                try:
                    assert live.launcher is not None and live.prepared is not None
                    await asyncio.wait_for(live.start(live, live.launcher, live.prepared, replica), 300)
                    replica.restarts += 1
                    live.log.write(f"replica {replica.index} of revision {revision.number} replaced")
                    return
                except (ReplicaFailed, asyncio.TimeoutError) as exc:
                    live.log.write(f"replica {replica.index} could not be restarted: "
                                   f"{getattr(exc, 'message', 'timed out')}")
                    if replica.handle is not None:
                        replica.handle.kill()
                    await asyncio.sleep(max(delay, 2.0))
        finally:
            live.restarting.discard(replica.index)

    task = asyncio.ensure_future(again())
    live.tasks.add(task)
    task.add_done_callback(live.tasks.discard)


__all__ = ["MAX_EVENTS", "add", "new_events", "pick_idlest", "record", "remove", "restart", "serving"]
