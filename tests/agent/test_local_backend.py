"""LocalProcessBackend with the real agent and the fake service."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from jupyter_aml.compute.local import LocalProcessBackend
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import Exits, make_job, pid_gone, wait_for

SPAWNER = b"""
import os, subprocess, sys, time
kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
open("pids", "w").write(f"{kid.pid} {daemon.pid}")
print("ready", flush=True)
time.sleep(300)
"""


def run_processes(run_id: str) -> list[int]:
    """Host pids of every live process carrying the run's id (under bubblewrap the script's own pids are
    those of its pid namespace, so the tree is found by its environment instead)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and not pid_gone(int(proc.name)):
            try:
                if f"AML_RUN_ID={run_id}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


async def _until(predicate: Any, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.05)


def test_start_reports_exit_and_logs(service: FakeService, tmp_path: Path) -> None:
    service.state.add_run("l1", files={"t.py": b"print('hi')"}, script="t.py")
    job = make_job(service, "l1", tmp_path)

    async def main() -> dict[str, Any]:
        backend = LocalProcessBackend("local", agent_env={"AML_HEARTBEAT_INTERVAL": "0.5"})
        exits = Exits()
        info = await backend.start(job, exits)
        await asyncio.wait_for(exits.event.wait(), 60)
        assert exits.calls == [("l1", 0)]
        assert not await backend.is_alive("l1", info)
        await backend.shutdown()
        return info

    info = asyncio.run(main())
    assert info["pid"] == info["pgid"] and info["host"] == socket.gethostname()
    run_dir = tmp_path / "work" / "l1"
    assert json.loads((run_dir / "agent.json").read_text())["pid"] == info["pid"]
    assert "agent done (exit 0)" in (run_dir / "agent.log").read_text()
    assert service.state.status_sequence("l1")[-1] == "Completed"
    assert "hi" in service.state.log_text("stdout")


def test_cancel_kills_the_whole_tree(service: FakeService, tmp_path: Path) -> None:
    service.state.add_run("l2", files={"t.py": SPAWNER}, script="t.py")
    job = make_job(service, "l2", tmp_path)
    pids_file = tmp_path / "work" / "l2" / "wd" / "pids"

    async def main() -> tuple[list[int], Exits, dict[str, Any]]:
        backend = LocalProcessBackend("local", grace_period=10)
        exits = Exits()
        info = await backend.start(job, exits)
        await _until(lambda: "ready" in service.state.log_text("stdout"))
        assert await backend.is_alive("l2", info)
        pids = [int(p) for p in pids_file.read_text().split()]
        assert len(run_processes("l2")) >= 4  # agent, script, its child and its setsid'd daemon (+ bwrap)
        t0 = time.monotonic()
        await backend.cancel("l2")
        assert time.monotonic() - t0 < 10
        await asyncio.wait_for(exits.event.wait(), 30)
        await backend.cancel("l2")  # safe on an ended run
        return pids, exits, info

    pids, exits, info = asyncio.run(main())
    assert len(pids) == 2
    wait_for(lambda: not run_processes("l2") and pid_gone(info["pid"]), 10, "the whole tree to be gone")
    assert exits.calls == [("l2", 0)]
    assert service.state.status_sequence("l2")[-1] == "Canceled"


def test_agent_outlives_the_backend_and_can_be_found_again(service: FakeService, tmp_path: Path) -> None:
    script = b"import time\nprint('ready', flush=True)\ntime.sleep(300)\n"
    service.state.add_run("l3", files={"t.py": script}, script="t.py")
    job = make_job(service, "l3", tmp_path)

    async def first_service() -> dict[str, Any]:
        backend = LocalProcessBackend("local")
        info = await backend.start(job, Exits())
        await _until(lambda: "ready" in service.state.log_text("stdout"))
        await backend.shutdown()
        return info

    info = asyncio.run(first_service())  # that event loop and backend are gone now

    async def second_service() -> Exits:
        backend = LocalProcessBackend("local", grace_period=5)
        assert await backend.is_alive("l3", info)
        assert not await backend.is_alive("other-run", info)
        assert not await backend.is_alive("l3", {**info, "host": "elsewhere"})
        assert not await backend.is_alive("l3", {"pid": os.getpid()})
        exits = Exits()
        assert await backend.reattach("l3", info, exits, poll=0.1)
        await backend.cancel("l3")
        await asyncio.wait_for(exits.event.wait(), 30)
        return exits

    exits = asyncio.run(second_service())
    assert exits.calls == [("l3", None)]
    assert pid_gone(info["pid"])
    assert service.state.status_sequence("l3")[-1] == "Canceled"
