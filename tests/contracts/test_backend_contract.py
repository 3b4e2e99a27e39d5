"""The contract every compute backend passes, with the real agent and the fake service: a run's logs and exit
come back, cancel leaves no process of the run, a restarted service finds a run again, a lost node fails the
run without a second start, and capacity is reported so the queue can explain a wait."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

from jupyter_aml.compute.base import ComputeBackend
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import Exits, make_job
from tests.contracts.kits import BackendKit, marked_processes

PRINTER = b"""import sys
code, name = int(sys.argv[1]), sys.argv[2]
print(f"first line of {name}", flush=True)
print(f"second line of {name}")
print(f"an error line of {name}", file=sys.stderr)
sys.exit(code)
"""
# Two children that ignore SIGTERM (one left the script's process group); the pids are written once both
# ignore it, to a pid file and to stdout (the service sees stdout whatever the backend).
TREE = b"""import os, subprocess, sys, time
mark = sys.argv[1]
stubborn = ("import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "open(f'ready-{os.getpid()}', 'w').close(); time.sleep(120)")
kids = [subprocess.Popen([sys.executable, "-c", stubborn, mark]),
        subprocess.Popen([sys.executable, "-c", stubborn, mark], start_new_session=True)]
while not all(os.path.exists(f"ready-{kid.pid}") for kid in kids):
    time.sleep(0.02)
pids = [os.getpid()] + [kid.pid for kid in kids]
with open("pids", "w") as f:
    f.write(" ".join(map(str, pids)))
print("pids", *pids, flush=True)
time.sleep(120)
"""
SLEEPER = b"""import sys, time
print("started", flush=True)
time.sleep(float(sys.argv[1]))
print("finished", flush=True)
"""
TICKER = b"""import sys, time
print("start-marker", sys.argv[1], flush=True)
for i in range(300):
    print("tick", i, flush=True)
    time.sleep(0.2)
"""


def new_run(service: FakeService, kit: BackendKit, script: bytes, *args: str) -> str:
    """A run of its own id (Dask keeps per-run events on a scheduler the kit's tests share)."""
    run_id = f"{kit.name}-{uuid.uuid4().hex[:8]}"
    args = tuple(a.replace("{run}", run_id) for a in args)
    service.state.add_run(run_id, files={"t.py": script}, script="t.py", arguments=list(args))
    return run_id


async def until(predicate: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.05)


async def exited(exits: Exits, timeout: float, service: FakeService, run_id: str) -> None:
    """Wait for on_exit; a timeout says what the run itself reported meanwhile."""
    try:
        await asyncio.wait_for(exits.event.wait(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"on_exit was not called within {timeout:g} s; the run reported "
                             f"{service.state.status_sequence(run_id)}") from None


def stdout(service: FakeService) -> list[str]:
    return service.state.log_text("stdout")


def final(service: FakeService, run_id: str) -> dict[str, Any]:
    bodies = [body for rid, body in service.state.statuses if rid == run_id]
    assert bodies, f"run {run_id} reported no status"
    return bodies[-1]


def test_start_streams_logs_and_reports_the_exit(backend_factory: BackendKit, service: FakeService,
                                                 tmp_path: Path) -> None:
    ok = new_run(service, backend_factory, PRINTER, "0", "{run}")
    bad = new_run(service, backend_factory, PRINTER, "3", "{run}")

    async def main() -> tuple[Exits, Exits]:
        backend = await backend_factory.build()
        try:
            exits = {ok: Exits(), bad: Exits()}
            infos = {rid: await backend.start(make_job(service, rid, tmp_path), exits[rid]) for rid in exits}
            for rid, exit_ in exits.items():  # both at once: every kit holds two runs
                await exited(exit_, 60, service, rid)
            for rid, info in infos.items():
                assert not await backend.is_alive(rid, info), f"{rid} ended but is_alive says it runs"
                await backend.cancel(rid)  # safe on a run that ended
            return exits[ok], exits[bad]
        finally:
            await backend.shutdown()

    ok_exit, bad_exit = asyncio.run(main())
    # on_exit has the agent's code: 0 once it delivered the final status, whatever the script's code was
    assert ok_exit.calls == [(ok, 0)]
    assert bad_exit.calls == [(bad, 0)]
    assert final(service, ok)["status"] == "Completed"
    assert final(service, bad)["status"] == "Failed" and final(service, bad)["exit_code"] == 3
    lines = stdout(service)
    for rid in (ok, bad):
        mine = [line for line in lines if line.endswith(f" of {rid}")]
        assert mine == [f"first line of {rid}", f"second line of {rid}"], lines
        assert f"an error line of {rid}" in service.state.log_text("stderr")


def test_cancel_kills_the_whole_tree(backend_factory: BackendKit, service: FakeService, tmp_path: Path) -> None:
    mark = f"contract-tree-{uuid.uuid4().hex[:8]}"
    run_id = new_run(service, backend_factory, TREE, mark)

    async def main() -> tuple[Exits, dict[str, Any], list[int], float]:
        backend = await backend_factory.build()
        try:
            exits = Exits()
            info = await backend.start(make_job(service, run_id, tmp_path), exits)
            await until(lambda: any(line.startswith("pids ") for line in stdout(service)), 60, "the script's pids")
            pids = [int(p) for p in next(x for x in stdout(service) if x.startswith("pids ")).split()[1:]]
            assert backend_factory.live_pids(pids, info) == pids, "the tree is not up before the cancel"
            assert len(marked_processes(mark)) >= 3
            t0 = time.monotonic()
            await backend.cancel(run_id)
            await exited(exits, 30, service, run_id)
            took = time.monotonic() - t0
            assert not await backend.is_alive(run_id, info), "a canceled run is still alive"
            return exits, info, pids, took
        finally:
            await backend.shutdown()

    exits, info, pids, took = asyncio.run(main())
    assert exits.calls and exits.calls[0][0] == run_id and len(exits.calls) == 1
    assert took < 20, f"cancel took {took:.1f} s to end the run"
    pid_file = Path(str(info.get("run_dir", ""))) / "wd" / "pids"
    if pid_file.is_file():  # the run's folder is visible from here (host backends)
        assert [int(p) for p in pid_file.read_text().split()] == pids
    end = time.monotonic() + 10
    while (backend_factory.live_pids(pids, info) or marked_processes(mark)) and time.monotonic() < end:
        time.sleep(0.1)
    assert backend_factory.live_pids(pids, info) == [], "processes of the canceled run are left"
    assert marked_processes(mark) == [], "processes of the canceled run are left"
    assert final(service, run_id)["status"] == "Canceled"


def test_a_restarted_service_reattaches_to_a_running_run(backend_factory: BackendKit, service: FakeService,
                                                         tmp_path: Path) -> None:
    run_id = new_run(service, backend_factory, SLEEPER, "5")

    async def first_service() -> dict[str, Any]:
        backend = await backend_factory.build()
        info = await backend.start(make_job(service, run_id, tmp_path), Exits())
        await until(lambda: "started" in stdout(service), 60, "the script to start")
        await backend.shutdown()  # the service stops; the run must not
        return info

    info = asyncio.run(first_service())  # that event loop and backend object are gone now

    async def second_service() -> tuple[Exits, bool]:
        backend = await backend_factory.build()
        try:
            assert await backend.is_alive(run_id, info)
            exits = Exits()
            assert await backend.reattach(run_id, info, exits)
            assert "finished" not in stdout(service), "the run ended before the reattach: lengthen it"
            await exited(exits, 20, service, run_id)  # the script sleeps 5 s
            return exits, await backend.is_alive(run_id, info)
        finally:
            await backend.shutdown()

    exits, alive_after = asyncio.run(second_service())
    assert len(exits.calls) == 1 and exits.calls[0][0] == run_id
    assert exits.calls[0][1] in (0, None)  # None: a backend that can only see the agent is gone
    assert not alive_after
    assert "finished" in stdout(service)
    assert final(service, run_id)["status"] == "Completed"


def test_a_lost_node_fails_the_run_without_a_second_start(backend_factory: BackendKit, service: FakeService,
                                                          tmp_path: Path) -> None:
    mark = f"contract-loss-{uuid.uuid4().hex[:8]}"
    run_id = new_run(service, backend_factory, TICKER, mark)

    async def main() -> tuple[Exits, float]:
        backend = await backend_factory.build()
        try:
            exits = Exits()
            info = await backend.start(make_job(service, run_id, tmp_path), exits)
            await until(lambda: any(x.startswith("tick ") for x in stdout(service)), 60, "the script to run")
            t0 = time.monotonic()
            await backend_factory.kill_node(backend, run_id, info)
            await exited(exits, 60, service, run_id)
            took = time.monotonic() - t0
            await asyncio.sleep(3)  # time enough for a re-run to show itself
            assert not await backend.is_alive(run_id, info), "a run whose node was lost is still alive"
            return exits, took
        finally:
            await backend.shutdown()

    exits, took = asyncio.run(main())
    assert len(exits.calls) == 1 and exits.calls[0][0] == run_id, exits.calls
    assert backend_factory.lost_code_ok(exits.calls[0][1]), f"on_exit code {exits.calls[0][1]} for a lost node"
    assert took < 60
    assert [x for x in stdout(service) if x.startswith("start-marker")] == [f"start-marker {mark}"]
    assert service.state.status_sequence(run_id).count("Running") == 1
    end = time.monotonic() + 10
    while marked_processes(mark) and time.monotonic() < end:
        time.sleep(0.1)
    assert marked_processes(mark) == [], "the script outlived its node"


def test_capacity_is_reported_for_the_queue(backend_factory: BackendKit) -> None:
    async def main() -> ComputeBackend:
        backend = await backend_factory.build()
        await backend.shutdown()
        return backend

    backend = asyncio.run(main())
    assert backend.slots() == backend_factory.slots
    assert backend.state() == "Running" and backend.ready()
    reason = backend.waiting_reason(backend.slots())
    assert reason.strip(), "an empty reason for a waiting run"
    assert backend.name in reason, f"the reason does not name the compute: {reason!r}"
    assert f"{backend.slots()} of {backend.slots()}" in reason, reason
    assert backend.describe()["name"] == backend.name
