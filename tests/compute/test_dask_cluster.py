"""DaskClusterBackend with the real agent, the fake service and an embedded cluster (a real LocalCluster in
its detached host process): a run completes, cancel stops it, and a killed node fails it without a re-run."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_aml.compute.dask_cluster import DaskClusterBackend
from jupyter_aml.errors import InvalidInput
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import Exits, make_job


async def _until(predicate: Any, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.1)


def _backend(tmp_path: Path) -> DaskClusterBackend:
    return DaskClusterBackend("cpu-cluster", state_dir=str(tmp_path / "cluster"), min_nodes=0, max_nodes=2,
                              idle_seconds_before_scaledown=1)


def _environ(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")


def test_a_run_completes_on_a_node_and_the_cluster_drains(service: FakeService, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_TOKEN", "the-servers-secret")
    monkeypatch.setenv("AML_SERVICE_TOKEN", "the-services-secret")
    service.state.add_run("d1", files={"t.py": b"print('hello from a node')"}, script="t.py")

    async def main() -> None:
        backend = _backend(tmp_path)
        await backend.provision()
        assert backend.state() == "Running" and backend.slots() == 2
        assert backend.waiting_reason(2) == "waiting for a node of 'cpu-cluster': 2 of 2 busy"
        exits = Exits()
        await backend.start(make_job(service, "d1", tmp_path), exits)
        await asyncio.wait_for(exits.event.wait(), 90)
        assert exits.calls == [("d1", 0)]
        host = int(json.loads((tmp_path / "cluster" / "host.json").read_text())["pid"])
        workers = list((await backend._client.run(os.getpid)).values())
        for pid in [host, *workers]:
            assert not [v for v in _environ(pid) if v.startswith((b"JUPYTER_TOKEN=", b"AML_SERVICE_TOKEN="))]
        def aml_events(dask_scheduler: Any) -> list[str]:
            return [str(k) for k in dask_scheduler.extensions["events"]._events if str(k).startswith("aml-")]

        assert await backend._client.run_on_scheduler(aml_events) == []  # no Event left behind per run
        await _until(lambda: backend.nodes() == [], 30)
        await backend.destroy()

    asyncio.run(main())
    assert service.state.status_sequence("d1")[-1] == "Completed"
    assert "hello from a node" in service.state.log_text("stdout")


def test_a_cluster_manager_class_starts_the_cluster_with_its_kwargs(service: FakeService, tmp_path: Path) -> None:
    """cluster_class is how SLURMCluster or KubeCluster are named; distributed's own LocalCluster, named the same
    way, shows the mechanism for real: the host builds the class with cluster_kwargs, adapts it, and its workers
    offer one node each from the environment the host gives them."""
    service.state.add_run("d4", files={"t.py": b"print('hello from a managed cluster')"}, script="t.py")

    async def main() -> list[tuple[str, int | None]]:
        backend = DaskClusterBackend(
            "managed", state_dir=str(tmp_path / "managed"), max_nodes=1, idle_seconds_before_scaledown=1,
            cluster_class="distributed:LocalCluster",
            cluster_kwargs={"n_workers": 0, "threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
                            "dashboard_address": None, "name": "from-kwargs"})
        await backend.check()
        await backend.provision()
        exits = Exits()
        await backend.start(make_job(service, "d4", tmp_path), exits)
        await asyncio.wait_for(exits.event.wait(), 90)
        await backend.destroy()
        return exits.calls

    assert asyncio.run(main()) == [("d4", 0)]
    assert "hello from a managed cluster" in service.state.log_text("stdout")


def test_a_cluster_manager_whose_package_is_missing_is_refused_with_the_fix(tmp_path: Path) -> None:
    backend = DaskClusterBackend("slurm", state_dir=str(tmp_path), cluster_class="dask_jobqueue_absent.SLURMCluster")
    with pytest.raises(InvalidInput) as caught:
        asyncio.run(backend.check())
    assert "not installed" in caught.value.message and "pip install" in (caught.value.hint or "")
    with pytest.raises(InvalidInput, match="not both"):
        DaskClusterBackend("x", state_dir=str(tmp_path), cluster_class="distributed:LocalCluster",
                           scheduler_address="tcp://127.0.0.1:1")


def test_cancel_stops_the_run_and_a_lost_node_fails_the_next(service: FakeService, tmp_path: Path) -> None:
    sleeper = b"import time\nprint('ready', flush=True)\ntime.sleep(300)\n"
    service.state.add_run("d2", files={"t.py": sleeper}, script="t.py")
    service.state.add_run("d3", files={"t.py": sleeper}, script="t.py")

    async def main() -> tuple[Exits, Exits]:
        backend = _backend(tmp_path)
        await backend.provision()
        canceled, lost = Exits(), Exits()
        await backend.start(make_job(service, "d2", tmp_path), canceled)
        await _until(lambda: "ready" in service.state.log_text("stdout"))
        await backend.cancel("d2")
        await asyncio.wait_for(canceled.event.wait(), 60)
        await backend.start(make_job(service, "d3", tmp_path), lost)
        await _until(lambda: service.state.log_text("stdout").count("ready") >= 2)
        workers = await backend._client.run(os.getpid)
        for pid in workers.values():
            os.kill(pid, signal.SIGKILL)
        await asyncio.wait_for(lost.event.wait(), 60)
        await backend.destroy()
        return canceled, lost

    canceled, lost = asyncio.run(main())
    assert canceled.calls == [("d2", 0)]
    assert service.state.status_sequence("d2")[-1] == "Canceled"
    assert lost.calls == [("d3", None)]  # the queue fails it: its node died
    assert service.state.log_text("stdout").count("ready") == 2  # d3 never started twice
