"""An existing Dask deployment, stood in for by `dask scheduler` and `dask worker` processes: the same run
goes there through scheduler_address; an address that does not answer is refused with the fix."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_aml.compute.dask_cluster import DaskClusterBackend
from jupyter_aml.errors import ComputeUnavailable
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import Exits, make_job

PKG_PARENT = str(Path(__file__).resolve().parents[2])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": PKG_PARENT, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    dask = [os.path.join(os.path.dirname(sys.executable), "dask")]
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", "127.0.0.1:0"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    time.sleep(1.0)
    procs.append(subprocess.Popen([*dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                   "--resources", "node=1", "--dashboard-address", "127.0.0.1:0", "--name", "w0"],
                                  env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))
    yield address
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


def test_a_run_goes_to_an_existing_deployment(service: FakeService, tmp_path: Path, deployment: str) -> None:
    service.state.add_run("x1", files={"t.py": b"print('on the deployment')"}, script="t.py")

    async def main() -> Exits:
        backend = DaskClusterBackend("slurm", state_dir=str(tmp_path / "c"), scheduler_address=deployment,
                                     max_nodes=1)
        await backend.check()
        await backend.provision()
        exits = Exits()
        await backend.start(make_job(service, "x1", tmp_path), exits)
        await asyncio.wait_for(exits.event.wait(), 90)
        deadline = time.monotonic() + 10  # the node list is polled each second
        while [n.name for n in backend.nodes()] != ["w0"]:
            assert time.monotonic() < deadline, f"nodes: {backend.nodes()}"
            await asyncio.sleep(0.1)
        await backend.destroy()
        return exits

    assert asyncio.run(main()).calls == [("x1", 0)]
    assert "on the deployment" in service.state.log_text("stdout")


def test_an_address_that_does_not_answer_is_refused(tmp_path: Path) -> None:
    backend = DaskClusterBackend("nowhere", state_dir=str(tmp_path / "c"),
                                 scheduler_address=f"tcp://127.0.0.1:{_free_port()}", connect_timeout=2)
    with pytest.raises(ComputeUnavailable, match="no Dask scheduler answers") as caught:
        asyncio.run(backend.check())
    assert "scheduler_address" in str(caught.value)
