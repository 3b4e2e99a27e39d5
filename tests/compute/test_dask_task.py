"""The Dask task that runs one run's agent, on a real LocalCluster: stop kills the group, a dead worker leaves
no orphan, and a re-run after a worker's death never starts the script twice."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import distributed
import pytest

from jupyter_aml.compute.dask_task import NODE_LOST, run_agent, stop_event

PKG_PARENT = str(Path(__file__).resolve().parents[2])
SLEEPER = "import os, sys, time; open(sys.argv[1], 'a').write(f'{os.getpid()}\\n'); time.sleep(120)"


@pytest.fixture
def client() -> Iterator[distributed.Client]:
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                       host="127.0.0.1")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _pids(path: Path, count: int, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().split()) >= count:
            return [int(p) for p in path.read_text().split()]
        time.sleep(0.05)
    raise AssertionError(f"{path} never held {count} pid(s)")


def _gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.split(")")[-1].split()[0] == "Z":
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.05)
    return False


def _env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "PYTHONPATH": PKG_PARENT}


def test_stop_event_kills_the_whole_group(client: distributed.Client, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    future = client.submit(run_agent, "r-stop", [sys.executable, "-c", SLEEPER, str(pids)], _env(), str(tmp_path),
                           grace=1.0, poll=0.1, pure=False)
    (pid,) = _pids(pids, 1)
    distributed.Event(stop_event("r-stop"), client=client).set()
    assert future.result(timeout=30) == -signal.SIGTERM
    assert _gone(pid)


def test_a_dead_worker_leaves_no_orphan_and_the_rerun_refuses(client: distributed.Client, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    future = client.submit(run_agent, "r-lost", [sys.executable, "-c", SLEEPER, str(pids)], _env(), str(tmp_path),
                           pure=False)
    (pid,) = _pids(pids, 1)
    worker_pids = client.run(os.getpid)
    for worker_pid in worker_pids.values():
        os.kill(worker_pid, signal.SIGKILL)
    assert _gone(pid), "the script outlived its worker"
    # the nanny restarts the worker and the scheduler re-runs the task there (allowed-failures 3 by default):
    # the re-run must not start the script again
    assert future.result(timeout=60) == NODE_LOST
    assert len(pids.read_text().split()) == 1


def test_a_script_over_its_nodes_memory_limit_is_stopped_and_told_why(client: distributed.Client,
                                                                      tmp_path: Path) -> None:
    """Dask's monitor sees only the worker process; the task holds the script to the node's memory limit."""
    hog = "import time; block = bytearray(400 * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(60)"
    parent = f"import subprocess, sys; sys.exit(subprocess.call([sys.executable, '-c', {hog!r}]))"
    started = time.monotonic()
    future = client.submit(run_agent, "r-mem", [sys.executable, "-c", parent], _env(), str(tmp_path),
                           memory_limit=200 * 2**20, poll=0.2, pure=False)
    code = future.result(timeout=60)
    assert code != 0 and time.monotonic() - started < 30
    log = (tmp_path / "agent.log").read_text()
    assert "more than its node's limit of 0.20 GiB" in log and "larger vm_size" in log
    small = client.submit(run_agent, "r-fits", [sys.executable, "-c", "print('fits')"], _env(), str(tmp_path),
                          memory_limit=200 * 2**20, poll=0.2, pure=False)
    assert small.result(timeout=60) == 0


def test_a_script_gets_its_nodes_vcpus(client: distributed.Client, tmp_path: Path) -> None:
    """A node of a 1-vCPU size runs its script on one CPU; a size as large as the machine leaves it all."""
    machine = len(os.sched_getaffinity(0))
    assert machine >= 2, "this test needs a machine with two CPUs or more"
    probe = "import os, subprocess, sys; print(len(os.sched_getaffinity(0)), flush=True)"
    parent = f"import subprocess, sys; sys.exit(subprocess.call([sys.executable, '-c', {probe!r}]))"
    for cpus, expected in ((1, 1), (float(machine), machine), (0.5, 1)):
        log = tmp_path / f"cpus-{cpus}"
        log.mkdir()
        future = client.submit(run_agent, f"r-cpu-{cpus}", [sys.executable, "-c", parent], _env(), str(log),
                               cpus=cpus, pure=False)
        assert future.result(timeout=60) == 0
        assert (log / "agent.log").read_text().split() == [str(expected)], cpus
