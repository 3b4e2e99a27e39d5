"""The contract every compute backend (local process, Docker compute instance, Dask cluster, ...) implements.

The service's run queue (core/scheduler.py) owns admission, ordering and waiting for capacity: it asks the
backend how many runs it can hold at once (``slots``) and whether it can take one now (``ready``), and calls
``start``; the backend launches the run agent (``python -m jupyter_aml.agent``) on its target and reports the
agent's exit through ``on_exit``. Everything else (status, logs, metrics, outputs) flows from the agent over
REST.

Managed computes (instances, clusters) also have a lifecycle: ``check`` (fast, before a record is stored:
is the engine there?), ``provision`` (slow, in the background: build, start), ``start_compute`` /
``stop_compute`` / ``restart_compute``, ``update`` (sizes), ``destroy``; and they report ``state()`` and
``nodes()``, calling ``notify()`` whenever either changes so the service can persist and publish it.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from jupyter_aml.errors import InvalidInput

# A compute's state, as v1 names them (a ComputeInstance's states; an AmlCompute is Running once provisioned).
ComputeState = Literal["Creating", "Running", "Starting", "Stopping", "Stopped", "Restarting", "Failed", "Deleting"]
# A node's state, as the studio draws them (v1's idle/running/preparing/leaving/unusable node counts).
NodeState = Literal["idle", "busy", "starting", "leaving", "unusable"]


@dataclass(frozen=True)
class NodeInfo:
    """One node (a Dask worker, a container, this machine) and what it does now."""

    name: str
    state: NodeState
    run_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunJob:
    """Everything a backend needs to launch the agent for one run."""

    run_id: str
    workspace: str
    experiment: str
    service_url: str  # base URL of the REST API root, e.g. http://127.0.0.1:8888/aml/api/v1
    run_token: str
    work_root: Path  # backend may create <work_root>/<run_id> as the run's working folder
    env_cache: Path  # where environments are built and cached by spec hash
    environment: dict[str, Any] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    # run_config.distributed (docs/distributed.md): a backend whose max_nodes_per_run() is above 1 holds
    # node_count nodes for the run at once; the agent starts the processes
    distributed: dict[str, Any] | None = None

    @property
    def node_count(self) -> int:
        return int((self.distributed or {}).get("node_count") or 1)


ExitCallback = Callable[[str, int | None], Awaitable[None]]
ChangeCallback = Callable[[], None]


class ComputeBackend(abc.ABC):
    """A compute target type. One instance per configured compute target."""

    type_name: ClassVar[str]

    def __init__(self, name: str, *, max_concurrent_runs: int = 2, **settings: Any) -> None:
        self.name = name
        self.max_concurrent_runs = max_concurrent_runs
        self.settings = settings
        self.error: str | None = None  # why the compute is Failed (shown with its state)
        self._on_change: ChangeCallback | None = None

    # -- capacity, as the run queue asks -------------------------------------------------------------------------
    def slots(self) -> int:
        """How many runs this compute holds at once (a cluster: its max nodes; others: max_concurrent_runs)."""
        return self.max_concurrent_runs

    def ready(self) -> bool:
        """Whether a run may start now (an instance that is Stopped or still Creating may not)."""
        return self.state() == "Running"

    def waiting_reason(self, running: int) -> str:
        """Why a queued run waits while ``running`` runs hold every slot, e.g. 'waiting for a node: 4 of 4 busy'."""
        return f"waiting for a free slot on {self.name!r}: {running} of {self.slots()} busy"

    def max_nodes_per_run(self) -> int:
        """How many nodes one run may hold at once (a distributed run's node_count): a cluster's max nodes, else 1.
        A run of N nodes takes N slots, all at once (core/run_queue.py)."""
        return 1

    def exit_reason(self, run_id: str) -> str | None:
        """Why a run's agent ended without reporting (e.g. a multi-node run whose nodes could not all be held),
        asked once after ``on_exit``; None for the generic message."""
        return None

    # -- the lifecycle of a managed compute (the defaults suit an always-on target such as ``local``) ----------
    def state(self) -> ComputeState:
        return "Running"

    def nodes(self) -> list[NodeInfo]:
        return []

    def on_change(self, callback: ChangeCallback | None) -> None:
        """The service's hook: called (on the event loop) whenever ``state()`` or ``nodes()`` changes."""
        self._on_change = callback

    def notify(self) -> None:
        if self._on_change is not None:
            self._on_change()

    async def check(self) -> None:  # noqa: B027 - optional hook
        """Fast (a few seconds at most): refuse with a clear error (errors.InvalidInput / ComputeUnavailable) what
        cannot work, e.g. no Docker engine or a Dask address that does not answer. Nothing is stored yet."""

    async def provision(self) -> None:  # noqa: B027 - optional hook
        """Bring the compute up after its record is stored (build an image, start a container or a cluster).
        Also called when the service starts with the compute's record, so it must find what already runs."""

    async def start_compute(self) -> None:
        raise InvalidInput(f"compute {self.name!r} ({self.type_name}) cannot be started or stopped",
                           hint="it is always on")

    async def stop_compute(self) -> None:
        await self.start_compute()

    async def restart_compute(self) -> None:
        await self.stop_compute()
        await self.start_compute()

    async def update(self, *, min_nodes: int | None = None, max_nodes: int | None = None,
                     idle_seconds_before_scaledown: int | None = None) -> None:
        raise InvalidInput(f"compute {self.name!r} ({self.type_name}) has no node counts to update",
                           hint="only an AmlCompute cluster takes min_nodes, max_nodes and "
                           "idle_seconds_before_scaledown")

    async def destroy(self) -> None:
        """Remove what ``provision`` made (containers, cluster processes). Runs were cancelled before."""
        await self.shutdown()

    @abc.abstractmethod
    async def start(self, job: RunJob, on_exit: ExitCallback) -> dict[str, Any]:
        """Launch the agent for ``job`` and return at once with agent info to persist (e.g. a pid)."""

    @abc.abstractmethod
    async def cancel(self, run_id: str) -> None:
        """Stop the run's whole process tree. Must be safe to call for a run that already ended."""

    async def kill(self, run_id: str) -> None:
        """Stop the run's whole process tree now: its agent stopped answering, so no grace period is owed.

        The default is ``cancel``; a backend whose cancel first waits for the agent overrides this.
        """
        await self.cancel(run_id)

    @abc.abstractmethod
    async def is_alive(self, run_id: str, agent_info: dict[str, Any]) -> bool:
        """After a service restart: is something still running this run?"""

    async def reattach(self, run_id: str, agent_info: dict[str, Any], on_exit: ExitCallback) -> bool:
        """After a service restart: watch a still-running agent and call ``on_exit`` when it ends.

        Returns False if nothing runs the run any more. The default only checks ``is_alive``, for
        backends whose agents report their end through the service alone.
        """
        return await self.is_alive(run_id, agent_info)

    async def shutdown(self) -> None:  # noqa: B027 - optional hook
        """Release resources when the service stops (runs keep going where the target allows)."""

    def describe(self) -> dict[str, Any]:
        """The backend's live view, merged into the compute's record by the service."""
        return {"name": self.name, "type": self.type_name, "max_concurrent_runs": self.max_concurrent_runs,
                "state": self.state(), "error": self.error,
                "nodes": [{"name": n.name, "state": n.state, "run_ids": list(n.run_ids)} for n in self.nodes()]}
