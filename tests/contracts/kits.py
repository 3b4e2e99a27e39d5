"""One kit per compute backend the contract suite runs against: it builds the backend (again, with the same
settings, as after a service restart), loses a node the way that backend loses one, tells which of a run's
processes still live, and tears down what it started.

``KITS`` is the factory's table. A backend joins the suite with one entry there; the Docker instance joins on
its own as soon as ``jupyter_aml.compute.docker_instance`` exists.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_aml.compute.base import ComputeBackend
from tests.agent.helpers import pid_gone

PKG_PARENT = str(Path(__file__).resolve().parents[2])


def marked_processes(marker: str) -> list[int]:
    """Live host pids whose command line holds ``marker`` (a container's processes are host processes too)."""
    needle = marker.encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline and not pid_gone(int(proc.name)):
            found.append(int(proc.name))
    return found


def run_pid_views(run_dir: str) -> set[int]:
    """Every pid by which a live process of the run in ``run_dir`` (its AML_* variables name the folder) knows
    itself: its host pid, or its pid in the innermost PID namespace (a sandboxed run's view)."""
    marker = f"={run_dir}".encode() if run_dir else b"AML_RUN_ID="
    views: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker not in (proc / "environ").read_bytes() or pid_gone(int(proc.name)):
                continue
            status = (proc / "status").read_text()
        except OSError:
            continue
        nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [proc.name])
        views.add(int(nspid[-1]))
    return views


class BackendKit(abc.ABC):
    """What the contract tests need from one backend beyond the ComputeBackend interface itself."""

    name: str  # the param id
    compute_name = "contract"
    slots = 2  # what every kit configures: two runs at once

    def __init__(self, root: Path) -> None:
        self.root = root

    def setup(self) -> None:  # noqa: B027 - optional: start a deployment shared by the kit's tests
        """Start what the kit's tests share (a Dask deployment, an engine check)."""

    @abc.abstractmethod
    def construct(self) -> ComputeBackend:
        """A new backend object; every call gives the same settings (a restarted service's view)."""

    async def build(self) -> ComputeBackend:
        """A new backend object, checked and provisioned as the service does at its start."""
        backend = self.construct()
        await backend.check()
        await backend.provision()
        return backend

    @abc.abstractmethod
    async def kill_node(self, backend: ComputeBackend, run_id: str, info: dict[str, Any]) -> None:
        """Lose the node that runs ``run_id`` abruptly (SIGKILL, docker kill)."""

    def lost_code_ok(self, code: int | None) -> bool:
        """The on_exit code of a run whose node was lost: None (the queue fails it)."""
        return code is None

    def live_pids(self, pids: list[int], info: dict[str, Any]) -> list[int]:
        """Which of the pids a run's script reported (in its own view) still run. Under the bubblewrap runner a
        run has a PID namespace of its own, so its pids are matched through each run process's NSpid."""
        seen = run_pid_views(str(info.get("run_dir") or ""))
        return [pid for pid in pids if pid in seen]

    def teardown(self) -> None:  # noqa: B027 - optional
        """Stop what ``setup`` or the first ``build`` started."""


class LocalKit(BackendKit):
    """``local``: the agent is a process of this machine; "losing the node" is a SIGKILL of the agent."""

    name = "local"

    def construct(self) -> ComputeBackend:
        from jupyter_aml.compute.local import LocalProcessBackend

        return LocalProcessBackend(self.compute_name, max_concurrent_runs=self.slots, grace_period=10)

    async def kill_node(self, backend: ComputeBackend, run_id: str, info: dict[str, Any]) -> None:
        os.kill(int(info["pid"]), signal.SIGKILL)

    def lost_code_ok(self, code: int | None) -> bool:
        return code is not None and code != 0  # the killed agent's own code (-9)


def _dask() -> Any:
    import distributed

    return distributed


async def kill_dask_worker(address: str, key: str) -> int:
    """SIGKILL the worker process that is processing ``key``; its pid."""
    dask = _dask()
    async with dask.Client(address, asynchronous=True, timeout=10) as client:
        def processing_on(dask_scheduler: Any, key: str) -> str | None:
            task = dask_scheduler.tasks.get(key)
            return None if task is None or task.processing_on is None else str(task.processing_on.address)

        worker = await client.run_on_scheduler(processing_on, key=key)
        assert worker is not None, f"no worker processes {key}"
        pids = await client.run(os.getpid, workers=[worker])
        pid = int(pids[worker])
    os.kill(pid, signal.SIGKILL)
    return pid


class DaskKit(BackendKit):
    """AmlCompute on Dask; losing the node is a kill -9 of the worker process running the run's task."""

    async def kill_node(self, backend: ComputeBackend, run_id: str, info: dict[str, Any]) -> None:
        await kill_dask_worker(str(info["scheduler"]), str(info["key"]))


class DaskEmbeddedKit(DaskKit):
    """AmlCompute with its own LocalCluster host process in a state_dir (started by the first build)."""

    name = "dask-embedded"

    def construct(self) -> ComputeBackend:
        from jupyter_aml.compute.dask_cluster import DaskClusterBackend

        # Workers idle for 30 s before they leave, so the kit's tests mostly find one up.
        return DaskClusterBackend(self.compute_name, state_dir=str(self.root / "cluster"), min_nodes=0,
                                  max_nodes=self.slots, idle_seconds_before_scaledown=30)

    def teardown(self) -> None:
        host_file = self.root / "cluster" / "host.json"
        if not host_file.exists():
            return
        pid = int(json.loads(host_file.read_text())["pid"])

        async def destroy() -> None:
            backend = self.construct()
            await backend.destroy()

        asyncio.run(destroy())
        deadline = time.monotonic() + 20
        while not pid_gone(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not pid_gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # the host runs in a session of its own
            raise AssertionError(f"the cluster host {pid} did not stop on destroy()")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DaskExternalKit(DaskKit):
    """AmlCompute on an existing deployment: a ``dask scheduler`` and a ``dask worker`` (two worker processes)
    started as processes of their own, with Dask's defaults (allowed-failures 3: the scheduler itself would
    re-run a task whose worker died, so the backend's own guard against a second start is what is tested)."""

    name = "dask-external"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.address = ""
        self.procs: list[subprocess.Popen[bytes]] = []

    def setup(self) -> None:
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
        env["PYTHONPATH"] = PKG_PARENT
        dask = os.path.join(os.path.dirname(sys.executable), "dask")
        log = open(self.root / "deployment.log", "ab")  # noqa: SIM115 - the processes keep it
        with log:
            self.procs.append(subprocess.Popen(
                [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address",
                 "127.0.0.1:0"], env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT))
            self.procs.append(subprocess.Popen(
                [dask, "worker", self.address, "--host", "127.0.0.1", "--nworkers", "2", "--nthreads", "1",
                 "--resources", "node=1", "--dashboard-address", "127.0.0.1:0", "--name", "w"],
                env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT))
        client = _dask().Client(self.address, timeout=30)
        try:
            client.wait_for_workers(self.slots, timeout=60)
        finally:
            client.close()

    def construct(self) -> ComputeBackend:
        from jupyter_aml.compute.dask_cluster import DaskClusterBackend

        return DaskClusterBackend(self.compute_name, state_dir=str(self.root / "state"),
                                  scheduler_address=self.address, max_nodes=self.slots)

    def teardown(self) -> None:
        for proc in reversed(self.procs):  # workers first, then the scheduler
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class InstanceKit(BackendKit):
    """ComputeInstance: one Docker container; losing the node is ``docker kill`` of that container (the agent info
    names it as ``container``). The pids a script reports are the container's own, so they are looked up inside
    it. A build after a lost node starts the instance again, as a user would."""

    name = "instance"

    def setup(self) -> None:
        from tests.serving.docker_env import ensure_engine, python_base_image  # fails in CI without an engine

        self.docker = ensure_engine()
        self.image = python_base_image(self.docker)

    def construct(self) -> ComputeBackend:
        from jupyter_aml.compute.docker_instance import DockerInstanceBackend

        return DockerInstanceBackend(self.compute_name, state_dir=str(self.root / "state"), workspace="ws",
                                     image=self.image, work_root=str(self.root / "work"),
                                     max_concurrent_runs=self.slots, poll_seconds=0.2, grace_period=5.0)

    async def build(self) -> ComputeBackend:
        backend = await super().build()
        if backend.state() != "Running":  # its container was killed by the node-loss test
            await backend.start_compute()
        return backend

    async def kill_node(self, backend: ComputeBackend, run_id: str, info: dict[str, Any]) -> None:
        await asyncio.to_thread(self.docker.containers.get(str(info["container"])).kill)

    def live_pids(self, pids: list[int], info: dict[str, Any]) -> list[int]:
        try:
            container = self.docker.containers.get(str(info["container"]))
        except Exception:  # removed: nothing of it runs
            return []
        if container.status != "running":
            return []
        check = ("import sys\nfrom pathlib import Path\nfor p in sys.argv[1:]:\n"
                 "    s = Path(f'/proc/{p}/stat')\n"
                 "    if s.exists() and s.read_text().rsplit(')', 1)[1].split()[0] not in 'ZX': print(p)\n")
        out = container.exec_run(["python3", "-c", check, *map(str, pids)]).output.decode()
        return [int(line) for line in out.split()]

    def teardown(self) -> None:
        if not hasattr(self, "docker"):
            return

        async def destroy() -> None:
            await self.construct().destroy()

        asyncio.run(destroy())
        for container in self.docker.containers.list(all=True, filters={"label": f"aml.root={self.root / 'state'}"}):
            container.remove(force=True)


# The factory's table: param id -> kit. One entry adds a backend to every contract test.
KITS: dict[str, Callable[[Path], BackendKit]] = {
    "local": LocalKit,
    "dask-embedded": DaskEmbeddedKit,
    "dask-external": DaskExternalKit,
}
if importlib.util.find_spec("jupyter_aml.compute.docker_instance") is not None:  # absent only until it lands
    KITS["instance"] = InstanceKit
