"""The embedded cluster's host process, for real: Dask configured for training runs, N runs get N nodes, the
cluster goes back to 0 nodes after its idle time, and nothing listens beyond 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import distributed
import psutil
import pytest

from jupyter_aml.compute.dask_host import NODE_RESOURCE, adapt_timing
from jupyter_aml.compute.dask_task import run_agent, stop_event

PKG_PARENT = str(Path(__file__).resolve().parents[2])
SLEEPER = "import os, sys, time; open(sys.argv[1], 'a').write(f'{os.getpid()}\\n'); time.sleep(120)"


def _until(predicate, timeout: float = 30, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.1)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    state = tmp_path / "state"
    state.mkdir()
    (state / "settings.json").write_text(json.dumps({"min_nodes": 0, "max_nodes": 2,
                                                      "idle_seconds_before_scaledown": 1}))
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_aml.compute.dask_host", "--state-dir", str(state)],
                            env={**os.environ, "PYTHONPATH": PKG_PARENT}, start_new_session=True)
    _until(lambda: (state / "host.json").exists(), what="host.json")
    address = json.loads((state / "host.json").read_text())["address"]
    yield proc, address
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_adapt_timing_multiplies_to_the_idle_time() -> None:
    for idle in (1, 3, 60, 1800):
        interval, wait_count = adapt_timing(idle)
        assert abs(interval * wait_count - idle) <= interval


def test_runs_get_one_node_each_and_the_cluster_drains_to_zero(host: tuple[subprocess.Popen[bytes], str],
                                                              tmp_path: Path) -> None:
    proc, address = host
    assert address.startswith("tcp://127.0.0.1:")
    with distributed.Client(address, timeout=10) as client:
        assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures) == 0
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": PKG_PARENT}
        pids = [tmp_path / f"p{i}" for i in range(2)]
        futures = [client.submit(run_agent, f"h{i}", [sys.executable, "-c", SLEEPER, str(pids[i])], env,
                                 str(tmp_path / f"h{i}"), grace=1.0, poll=0.1, pure=False,
                                 resources={NODE_RESOURCE: 1}) for i in range(2)]
        _until(lambda: all(p.exists() and p.read_text() for p in pids), 60, "both runs started")
        assert len(client.scheduler_info()["workers"]) == 2
        assert set(client.run(lambda: os.environ.get("OMP_NUM_THREADS")).values()) == {None}
        tree = [proc.pid] + [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        listening = {c.laddr.ip for pid in tree for c in psutil.Process(pid).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}, listening
        for i in range(2):
            distributed.Event(stop_event(f"h{i}"), client=client).set()
        assert [f.result(timeout=30) for f in futures] == [-signal.SIGTERM] * 2
        del futures
        _until(lambda: not client.scheduler_info()["workers"], 30, "scale-down to 0 nodes")


def test_nodes_asked_for_but_not_joined_show_as_starting() -> None:
    """The host tells its in-process scheduler which nodes it started that have not joined; the service's node
    view lists them as starting, then as idle once they join."""
    from jupyter_aml.compute.dask_cluster import _node_view
    from jupyter_aml.compute.dask_host import publish_starting

    cluster = distributed.LocalCluster(n_workers=0, threads_per_worker=1, processes=True, dashboard_address=None,
                                       host="127.0.0.1")
    try:
        cluster.scale(1)
        publish_starting(cluster)
        assert _node_view(cluster.scheduler) == [("0", "starting", [])]
        _until(lambda: len(cluster.scheduler.workers) == 1, what="the worker to join")
        publish_starting(cluster)
        assert _node_view(cluster.scheduler) == [("0", "idle", [])]
    finally:
        cluster.close()
