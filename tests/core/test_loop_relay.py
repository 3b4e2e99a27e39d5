"""LoopRelay: calls from worker threads reach the loop in order, a burst costs one wake-up, none is lost."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone

from jupyter_aml.core import models
from jupyter_aml.core.events import MetricEvent, RunEvent
from jupyter_aml.core.loop_relay import LoopRelay


async def test_a_burst_from_a_thread_is_one_wakeup_and_keeps_its_order() -> None:
    loop = asyncio.get_running_loop()
    relay = LoopRelay(loop)
    seen: list[int] = []
    done = asyncio.Event()

    def publish() -> None:  # the loop is blocked in to_thread's await until all 100 are queued
        for i in range(100):
            relay(seen.append, i)
        relay(done.set)

    await asyncio.to_thread(publish)
    await asyncio.wait_for(done.wait(), 5)
    assert seen == list(range(100))
    assert relay.wakeups <= 2  # one per burst (a drain may start while the burst is still being queued)


async def test_calls_after_a_drain_schedule_a_new_one_and_a_failing_call_spares_the_rest() -> None:
    loop = asyncio.get_running_loop()
    errors: list[object] = []
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx.get("exception")))
    relay = LoopRelay(loop)
    seen: list[str] = []

    def boom() -> None:
        raise ValueError("bad subscriber")

    for round_ in range(3):
        gate = threading.Event()
        relay(seen.append, f"a{round_}")
        relay(boom)
        relay(seen.append, f"b{round_}")
        relay(gate.set)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if gate.is_set():
                break
    assert seen == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert relay.wakeups == 3
    assert len(errors) == 3 and all(isinstance(e, ValueError) for e in errors)


def test_a_closed_loop_drops_the_calls_without_raising() -> None:
    loop = asyncio.new_event_loop()
    loop.close()
    relay = LoopRelay(loop)
    relay(print, "never")
    relay(print, "never again")  # not stuck as 'scheduled'
    assert relay.wakeups == 2


def _run(run_id: str, *, parent_id: str | None = None, props: dict[str, str] | None = None,
         status: str = "Running") -> RunEvent:
    now = datetime.now(timezone.utc)
    return RunEvent(run=models.Run(
        id=run_id, number=1, experiment="e", workspace="w", parent_id=parent_id, root_id=parent_id or run_id,
        kind="interactive", display_name=run_id, display_number="1", description="",
        status=models.RunStatus(status), created_at=now, start_time=None, end_time=None, duration_seconds=None,
        heartbeat_at=None, submitter="u", compute_target=None, run_config=None, snapshot_id=None, git=None,
        error=None, exit_code=None, tags={}, properties=props or {}))


def test_the_drivers_hop_onto_the_loop_only_for_events_they_act_on() -> None:
    """Asked on the publishing thread: a run nobody drives costs no hop (it was two per event)."""
    from jupyter_aml.core.hyperdrive import HyperDriveService
    from jupyter_aml.core.pipelines import PipelineService

    pipelines = object.__new__(PipelineService)
    sweeps = object.__new__(HyperDriveService)
    for driver in (pipelines, sweeps):
        driver._driven = {}
    plain, metric = _run("r1"), MetricEvent(run_id="r1", name="loss", total=1, steps=[0], values=[1.0], times=[0.0])
    assert not pipelines._concerns(plain) and not sweeps._concerns(plain)
    assert not pipelines._concerns(metric) and not sweeps._concerns(metric)
    sweep = {"azureml.runsource": "hyperdrive", "generator_config": "{}"}
    assert sweeps._concerns(_run("p", props=sweep))  # a new sweep to adopt
    assert not sweeps._concerns(_run("p", props=sweep, status="Completed"))
    assert not pipelines._concerns(_run("p", props=sweep))
    pipelines._driven = {"p": object()}  # type: ignore[dict-item]
    sweeps._driven = {"p": object()}  # type: ignore[dict-item]
    assert pipelines._concerns(_run("p")) and pipelines._concerns(_run("c", parent_id="p"))
    assert not pipelines._concerns(_run("c", parent_id="other"))
    assert sweeps._concerns(metric)  # a child's primary metric may wake its sweep
