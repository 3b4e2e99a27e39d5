"""The ``AmlCompute`` compute target: an autoscaling cluster of nodes on Dask.

Embedded (the default), the cluster is a ``LocalCluster`` owned by a detached host process
(compute/dask_host.py), so its runs outlive a service restart; ``scheduler_address`` names an existing Dask
deployment instead (Kubernetes, Slurm, dask-gateway: whatever runs ``dask scheduler`` and ``dask worker``).
Each run is one task, ``compute/dask_task.py:run_agent``, asking for one ``node`` resource and kept alive with
``fire_and_forget`` (a service restart must not cancel it); cancel sets the run's stop ``Event``. A run whose
node is lost (KilledWorker, or the task's refusal to start a script twice) exits with code None, which the
queue reports as Failed with the logs the agent shipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

from jupyter_aml.compute.base import ComputeBackend, ComputeState, ExitCallback, NodeInfo, RunJob
from jupyter_aml.compute.dask_gang import GANG_NOT_FORMED, address_variable, gang_names, node_key, run_gang_node
from jupyter_aml.compute.dask_host import NODE_RESOURCE, class_problem
from jupyter_aml.compute.dask_task import NODE_LOST, run_agent, started_event, stop_event
from jupyter_aml.compute.local import AGENT_MODULE, PACKAGE_PARENT, agent_process_env, forbidden_var
from jupyter_aml.compute.runners import Runner, build_runner
from jupyter_aml.errors import ComputeUnavailable, InvalidInput
from jupyter_aml.runtime import env as E

log = logging.getLogger(__name__)


def _dask() -> Any:
    """distributed, typed loosely: it ships no annotations mypy --strict accepts."""
    import distributed

    return distributed


def host_environment() -> dict[str, str]:
    """The cluster host's (and so its workers') environment: the service's, without the Jupyter server's and
    the service's credentials, which a run could otherwise read from a worker's /proc/PID/environ."""
    env = {k: v for k, v in os.environ.items() if not forbidden_var(k)}
    env["PYTHONPATH"] = PACKAGE_PARENT
    return env


NODE_POLL_SECONDS = 0.5  # how stale the studio's node chips may be; one small scheduler call each


def task_key(run_id: str) -> str:
    return f"aml-run-{run_id}"


def _node_view(dask_scheduler: Any) -> list[tuple[str, str, list[str]]]:
    """On the scheduler: each worker's name, state (busy while it processes a run's task, leaving while it
    closes) and the runs it processes; the scheduler's own view, as worker heartbeats lag behind. The embedded
    host also lists the nodes it started that have not joined yet (``starting``)."""
    prefix = task_key("")
    view = []
    for address, worker in sorted(dask_scheduler.workers.items()):  # a gang's node k has key <run key>~node<k>
        runs = sorted(str(t.key)[len(prefix):].split("~node")[0] for t in worker.processing
                      if str(t.key).startswith(prefix))
        status = str(getattr(worker.status, "name", worker.status))
        state = "leaving" if status.startswith("closing") else "busy" if worker.processing else "idle"
        view.append((str(worker.name if worker.name is not None else address), state, runs))
    joined = {name for name, _, _ in view}
    view += [(name, "starting", []) for name in getattr(dask_scheduler, "aml_starting", []) if name not in joined]
    return view


class DaskClusterBackend(ComputeBackend):
    type_name: ClassVar[str] = "AmlCompute"

    def __init__(self, name: str, *, state_dir: str, min_nodes: int = 0, max_nodes: int = 4,
                 idle_seconds_before_scaledown: int = 1800, scheduler_address: str | None = None,
                 memory_gb: float | None = None, vcpus: float | None = None, python: str | None = None,
                 runner: str = "auto",
                 run_as: str | None = None, protected_paths: list[str] | None = None, hide_home: bool = True,
                 connect_timeout: float = 5.0, cluster_class: str | None = None,
                 cluster_kwargs: dict[str, Any] | None = None, gang_timeout: float = 300.0,
                 **settings: Any) -> None:
        if cluster_class and scheduler_address:
            raise InvalidInput(f"compute {name!r}: give scheduler_address or cluster_class, not both",
                               hint="an existing deployment has an address; a cluster manager starts one")
        super().__init__(name, max_concurrent_runs=max_nodes, **settings)
        self.cluster_class, self.cluster_kwargs = cluster_class, dict(cluster_kwargs or {})
        self.state_dir = Path(state_dir)
        self.min_nodes, self.max_nodes, self.idle_seconds = min_nodes, max_nodes, idle_seconds_before_scaledown
        self.scheduler_address = scheduler_address
        self.memory_gb, self.vcpus = memory_gb, vcpus
        self.python = python or sys.executable
        self.connect_timeout = connect_timeout
        self.gang_timeout = gang_timeout  # how long a multi-node run waits to hold all its nodes (compute/dask_gang.py)
        self._exit_reasons: dict[str, str] = {}
        # the same sandbox as local runs: the service's root and Jupyter's folders are hidden from the script
        self.runner: Runner = build_runner(runner, run_as=run_as, protected=protected_paths or (),
                                           hide_home=hide_home)
        self._state: ComputeState = "Creating"
        self._client: Any = None
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._delayed: set[asyncio.Future[None]] = set()  # a failed gang's Events, cleared after its stragglers
        self._nodes: list[NodeInfo] = []
        self._poller: asyncio.Task[None] | None = None

    # -- capacity ------------------------------------------------------------------------------------------
    def slots(self) -> int:
        return self.max_nodes

    def waiting_reason(self, running: int) -> str:
        return f"waiting for a node of {self.name!r}: {running} of {self.max_nodes} busy"

    def max_nodes_per_run(self) -> int:
        return self.max_nodes

    def exit_reason(self, run_id: str) -> str | None:
        return self._exit_reasons.pop(run_id, None)

    def state(self) -> ComputeState:
        return self._state

    def nodes(self) -> list[NodeInfo]:
        return list(self._nodes)

    # -- lifecycle -----------------------------------------------------------------------------------------
    async def check(self) -> None:
        if self.cluster_class:
            problem = class_problem(self.cluster_class)
            if problem:
                raise InvalidInput(f"compute {self.name!r}: {problem}",
                                   hint="install its package (e.g. pip install dask-jobqueue) where the service "
                                   "runs, or give the scheduler_address of a deployment you started")
            try:
                json.dumps(self.cluster_kwargs)
            except (TypeError, ValueError) as exc:
                raise InvalidInput(f"compute {self.name!r}: cluster_kwargs is not JSON: {exc}",
                                   hint="give plain values (strings, numbers, lists, objects)") from None
        if self.scheduler_address:
            client = await self._connect(self.scheduler_address)
            await client.close()

    async def _connect(self, address: str) -> Any:
        try:
            return await asyncio.wait_for(
                _dask().Client(address, asynchronous=True, timeout=self.connect_timeout), self.connect_timeout + 1)
        except (ValueError, TypeError) as exc:  # an address Dask cannot parse
            raise InvalidInput(f"{address!r} is not a Dask scheduler address: {exc}",
                               hint="give protocol://host:port, e.g. tcp://10.0.0.5:8786") from None
        except (OSError, asyncio.TimeoutError) as exc:
            raise ComputeUnavailable(f"no Dask scheduler answers at {address} within {self.connect_timeout:g} s: "
                                     f"{exc}", hint="start it (dask scheduler) or fix scheduler_address") from None

    def _settings_file(self) -> dict[str, Any]:
        return {"min_nodes": self.min_nodes, "max_nodes": self.max_nodes,
                "idle_seconds_before_scaledown": self.idle_seconds,
                "cluster_class": self.cluster_class, "cluster_kwargs": self.cluster_kwargs,
                "memory_limit": f"{self.memory_gb}GB" if self.memory_gb else None}

    def _write_settings(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.state_dir / "settings.tmp"
        tmp.write_text(json.dumps(self._settings_file()))
        os.replace(tmp, self.state_dir / "settings.json")

    def _host(self) -> dict[str, Any] | None:
        try:
            host = json.loads((self.state_dir / "host.json").read_text())
            os.kill(int(host["pid"]), 0)
            return dict(host)
        except (OSError, ValueError, KeyError):
            return None

    async def provision(self) -> None:
        try:
            address = self.scheduler_address or await self._embedded_address()
            self._client = await self._connect(address)
        except Exception as exc:
            self._state, self.error = "Failed", str(exc)
            self.notify()
            raise
        self._state, self.error = "Running", None
        self._poller = asyncio.ensure_future(self._poll_nodes())
        self.notify()

    async def _embedded_address(self) -> str:
        await asyncio.to_thread(self._write_settings)
        host = self._host()
        if host is None:
            (self.state_dir / "host.json").unlink(missing_ok=True)
            out = open(self.state_dir / "host.log", "ab")  # noqa: SIM115 - the host keeps it
            with out:
                subprocess.Popen([self.python, "-m", "jupyter_aml.compute.dask_host", "--state-dir",
                                  str(self.state_dir)], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True, env=host_environment())
            for _ in range(300):
                host = self._host()
                if host is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                raise ComputeUnavailable(f"the cluster {self.name!r} did not start in 30 s",
                                         hint=f"see {self.state_dir / 'host.log'}")
        return str(host["address"])

    async def update(self, *, min_nodes: int | None = None, max_nodes: int | None = None,
                     idle_seconds_before_scaledown: int | None = None) -> None:
        self.min_nodes = self.min_nodes if min_nodes is None else min_nodes
        self.max_nodes = self.max_nodes if max_nodes is None else max_nodes
        if idle_seconds_before_scaledown is not None:
            self.idle_seconds = idle_seconds_before_scaledown
        self.max_concurrent_runs = self.max_nodes
        if not self.scheduler_address:
            await asyncio.to_thread(self._write_settings)
        self.notify()

    async def destroy(self) -> None:
        await self.shutdown()
        host = self._host()
        if host is not None and not self.scheduler_address:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(host["pid"]), signal.SIGTERM)

    async def _poll_nodes(self) -> None:
        while True:
            try:
                nodes = [NodeInfo(name, state, tuple(runs))
                         for name, state, runs in await self._client.run_on_scheduler(_node_view)]
                if nodes != self._nodes:
                    self._nodes = nodes
                    self.notify()
            except Exception:
                log.debug("could not read the nodes of cluster %r", self.name, exc_info=True)
            await asyncio.sleep(NODE_POLL_SECONDS)

    # -- runs ----------------------------------------------------------------------------------------------
    async def start(self, job: RunJob, on_exit: ExitCallback) -> dict[str, Any]:
        run_dir = E.run_dir(job.work_root, job.run_id)
        await asyncio.to_thread(self.runner.prepare, run_dir, Path(job.work_root), Path(job.env_cache))
        if job.node_count > 1:
            return await self._start_gang(job, run_dir, on_exit)
        # die_with_parent: the sandbox's parent is the node's worker process (the service restarting does not
        # touch it), so a sandboxed run dies with its node as an unsandboxed one does through PR_SET_PDEATHSIG
        launch = self.runner.launch([self.python, "-m", AGENT_MODULE], agent_process_env(job), run_dir=run_dir,
                                    work_root=Path(job.work_root), env_cache=Path(job.env_cache),
                                    die_with_parent=True, engine_socket=bool(job.environment.get("docker_enabled")))
        future = self._client.submit(run_agent, job.run_id, launch.argv, launch.env, str(run_dir),
                                     python=self.python, ignore_sigterm=launch.ignore_sigterm,
                                     memory_limit=int(self.memory_gb * 2**30) if self.memory_gb else None,
                                     cpus=self.vcpus,
                                     key=task_key(job.run_id), pure=False,
                                     resources={NODE_RESOURCE: 1})
        _dask().fire_and_forget(future)
        self._watchers[job.run_id] = asyncio.ensure_future(self._watch(job.run_id, future, run_dir, on_exit))
        return {"key": task_key(job.run_id), "run_dir": str(run_dir), "scheduler": self._client.scheduler.address}

    async def _start_gang(self, job: RunJob, run_dir: Path, on_exit: ExitCallback) -> dict[str, Any]:
        """One task per node, all or nothing (compute/dask_gang.py); node k > 0 works in ``<run dir>/node-<k>``."""
        nodes = job.node_count
        futures = []
        for node in range(nodes):
            env = agent_process_env(job)
            cwd = run_dir if node == 0 else run_dir / f"node-{node}"
            if node:
                env[E.JOURNAL] = str(cwd / E.JOURNAL_DIRNAME / (E.MAIN_STREAM + E.JOURNAL_SUFFIX))
            launch = self.runner.launch([self.python, "-m", AGENT_MODULE], env, run_dir=run_dir,
                                        work_root=Path(job.work_root), env_cache=Path(job.env_cache),
                                        die_with_parent=True)
            future = self._client.submit(run_gang_node, job.run_id, node, nodes, launch.argv, launch.env, str(cwd),
                                         hold_timeout=self.gang_timeout, python=self.python,
                                         ignore_sigterm=launch.ignore_sigterm,
                                         memory_limit=int(self.memory_gb * 2**30) if self.memory_gb else None,
                                         cpus=self.vcpus, key=node_key(task_key(job.run_id), node), pure=False,
                                         resources={NODE_RESOURCE: 1})
            _dask().fire_and_forget(future)
            futures.append(future)
        self._watchers[job.run_id] = asyncio.ensure_future(self._watch_gang(job.run_id, futures, run_dir, on_exit))
        return {"key": task_key(job.run_id), "run_dir": str(run_dir), "scheduler": self._client.scheduler.address,
                "node_count": nodes}

    async def _watch_gang(self, run_id: str, futures: list[Any], run_dir: Path, on_exit: ExitCallback) -> None:
        """Node 0's code is the run's; a gang that did not form fails the run with the reason (the tasks that
        never got a worker are cancelled: they hold nothing)."""
        async def outcome(future: Any) -> Any:
            try:
                return await future
            except Exception as exc:  # KilledWorker: that node died
                return exc

        waiting = {asyncio.ensure_future(outcome(f)): node for node, f in enumerate(futures)}
        results: dict[int, Any] = {}
        pending = set(waiting)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                results[waiting[task]] = task.result()
            if GANG_NOT_FORMED in results.values() and pending:  # the rest hold nothing (or let go): drop them
                with contextlib.suppress(Exception):
                    await self._client.cancel([futures[waiting[t]] for t in pending], force=True)
                for task in pending:
                    task.cancel()
                break
        joined = len([r for r in results.values() if r != GANG_NOT_FORMED])
        if GANG_NOT_FORMED in results.values():
            self._exit_reasons[run_id] = (
                f"the cluster {self.name!r} could not hold the run's {len(futures)} nodes at once within "
                f"{self.gang_timeout:g} s; no process was started and every node was let go")
            # a cancelled task already executing on a worker still runs its barrier (cancel does not stop it):
            # the abort Event must outlive it, or a node that got its worker just now would see all the joined
            # Events, then no abort, and start the run's code. Its barrier ends within its hold timeout.
            self._forget_later(run_id, len(futures), delay=self.gang_timeout + 5)
            await self._finish_run(run_id, run_dir, on_exit, None, len(futures), forget=False)
            return
        first = results.get(0)
        code = int(first) if isinstance(first, int) and first != NODE_LOST else None
        if joined and any(isinstance(r, BaseException) for r in results.values()):
            log.info("run %s lost a node: %s", run_id, results)
        await self._finish_run(run_id, run_dir, on_exit, code, len(futures))

    def _forget_later(self, run_id: str, node_count: int, delay: float) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            await self._forget(run_id, node_count)

        task = asyncio.ensure_future(later())
        self._delayed.add(task)
        task.add_done_callback(self._delayed.discard)

    async def _watch(self, run_id: str, future: Any, run_dir: Path, on_exit: ExitCallback) -> None:
        code: int | None
        try:
            result = await future
            code = None if result == NODE_LOST else int(result)
        except Exception as exc:  # KilledWorker: its node died
            log.info("run %s lost its node: %s", run_id, exc)
            code = None
        await self._finish_run(run_id, run_dir, on_exit, code)

    async def _finish_run(self, run_id: str, run_dir: Path, on_exit: ExitCallback, code: int | None,
                          node_count: int = 1, forget: bool = True) -> None:
        self._watchers.pop(run_id, None)
        if forget:
            await self._forget(run_id, node_count)
        with contextlib.suppress(OSError):
            await asyncio.to_thread(self.runner.finish, run_dir)
        try:
            await on_exit(run_id, code)
        except Exception:
            log.exception("on_exit callback failed for run %s", run_id)

    async def _forget(self, run_id: str, node_count: int = 1) -> None:
        """Drop the run's Events from the scheduler once its task has ended for good (it can no longer be
        re-run): a long-lived deployment would otherwise keep two per run (and a gang's per node) forever."""
        if self._client is None:
            return
        names = [started_event(run_id), stop_event(run_id), *(gang_names(run_id, node_count) if node_count > 1 else [])]
        for name in names:
            with contextlib.suppress(Exception):
                await _dask().Event(name, client=self._client).clear()
        if node_count > 1:
            with contextlib.suppress(Exception):
                await _dask().Variable(address_variable(run_id), client=self._client).delete()

    async def cancel(self, run_id: str) -> None:
        if self._client is not None:
            await _dask().Event(stop_event(run_id), client=self._client).set()

    async def is_alive(self, run_id: str, agent_info: dict[str, Any]) -> bool:
        if self._client is None:
            return False
        key = str(agent_info.get("key", task_key(run_id)))

        def task_state(dask_scheduler: Any, key: str) -> str | None:
            task = dask_scheduler.tasks.get(key)
            return None if task is None else str(task.state)

        state = await self._client.run_on_scheduler(task_state, key=key)
        return state in ("processing", "waiting", "queued", "no-worker")

    async def reattach(self, run_id: str, agent_info: dict[str, Any], on_exit: ExitCallback,
                       poll: float = 1.0) -> bool:
        """After a service restart: watch the run's task on the scheduler until it is gone, then report
        ``on_exit(run_id, None)``. A new client's Future of the key would never be told the result (the scheduler
        keeps only fire-and-forget's claim), so the task state is polled; by then the agent has reported its
        own final status, and the queue fails only a run that is still active (its node was lost)."""
        if not await self.is_alive(run_id, agent_info):
            return False
        run_dir = Path(str(agent_info.get("run_dir", "")))

        async def watch() -> None:
            try:
                while await self.is_alive(run_id, agent_info):
                    await asyncio.sleep(poll)
            except Exception as exc:  # the scheduler went away: nothing runs the run any more
                log.info("lost the scheduler while watching run %s: %s", run_id, exc)
            self._watchers.pop(run_id, None)
            await self._forget(run_id)
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self.runner.finish, run_dir)
            try:
                await on_exit(run_id, None)
            except Exception:
                log.exception("on_exit callback failed for run %s", run_id)

        self._watchers[run_id] = asyncio.ensure_future(watch())
        return True

    async def shutdown(self) -> None:
        """Stop watching; the cluster and its runs keep going (the host process is detached)."""
        if self._poller is not None:
            self._poller.cancel()
        for task in [*self._watchers.values(), *self._delayed]:
            task.cancel()
        self._watchers.clear()
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.close()
            self._client = None
