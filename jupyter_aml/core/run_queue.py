"""The run queue's policy for one compute target: admission, ordering, and why a queued run waits.

Runs start in submission order (first in, first out, per target): the head of the queue starts when the
target is ready (a Stopped instance is not) and has a free slot (a cluster has one per node up to
``max_nodes``, other targets ``max_concurrent_runs``). Nothing here starts a process: ``core/scheduler.py``
asks this policy what may start and hands it to the backend.

A distributed run of N nodes (``run_config.distributed.node_count``) takes N slots, all at once: it starts only
when N are free, and runs behind it wait (first in, first out), so it is never starved by smaller runs. This is
the one place a cluster's nodes are handed out, under the scheduler's lock: two gangs that each need more than
half of the cluster run one after the other and never each hold part of it (docs/distributed.md).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from jupyter_aml.compute.base import ComputeBackend
from jupyter_aml.core.compute_models import QueuedRun
from jupyter_aml.core.models import RunConfig
from jupyter_aml.errors import InvalidInput


def node_count(run_config: RunConfig | None) -> int:
    """How many nodes a run holds at once: its distributed job's node_count, else 1."""
    distributed = run_config.distributed if run_config is not None else None
    return distributed.node_count if distributed is not None else 1


# A target's key: (workspace, name) for a compute created in a workspace, ("", name) for a configured one.
TargetKey = tuple[str, str]
CONFIGURED = ""


@dataclass
class TargetQueue:
    key: TargetKey
    backend: ComputeBackend
    queue: deque[tuple[str, str]] = field(default_factory=deque)  # (workspace, run id), in submission order
    running: set[str] = field(default_factory=set)
    needs: dict[str, int] = field(default_factory=dict)  # run id -> the nodes it holds at once, when more than 1

    @property
    def configured(self) -> bool:
        return self.key[0] == CONFIGURED

    def need(self, run_id: str) -> int:
        return self.needs.get(run_id, 1)

    def check_nodes(self, nodes: int) -> None:
        """Refuse (before anything is stored) a run that needs more nodes than this target gives one run."""
        most = self.backend.max_nodes_per_run()
        if nodes > most:
            raise InvalidInput(
                f"the run needs {nodes} nodes (distributed_job_config node_count) but compute target "
                f"{self.backend.name!r} ({self.backend.type_name}) runs a run on at most {most} node(s)",
                hint="submit it to an AmlCompute cluster whose max_nodes is at least the node count, or use "
                     "node_count=1 (process_count processes then run on one machine)")

    def add(self, workspace: str, run_id: str, nodes: int = 1) -> None:
        """Queue a run (``nodes``: its node count)."""
        self.queue.append((workspace, run_id))
        if nodes > 1:
            self.needs[run_id] = nodes

    def release(self, run_id: str) -> None:
        """The run left the target: its slots are free."""
        self.running.discard(run_id)
        self.needs.pop(run_id, None)

    def free_slots(self) -> int:
        return max(0, self.backend.slots() - sum(self.need(r) for r in self.running))

    def may_start(self) -> bool:
        """Whether the head of the queue may start now: all the nodes it needs are free (a cluster shrunk below a
        gang's size gives it what it has: its nodes then do not all come, and it fails saying so)."""
        if not self.queue or not self.backend.ready():
            return False
        return self.free_slots() >= max(1, min(self.need(self.queue[0][1]), self.backend.slots()))

    def waiting_reason(self) -> str:
        backend = self.backend
        if not backend.ready():
            state = backend.state()
            hint = f": start it (ComputeTarget(ws, {backend.name!r}).start())" if state == "Stopped" else ""
            why = f" ({backend.error})" if state == "Failed" and backend.error else ""
            return f"waiting for compute {backend.name!r} to be Running: it is {state}{why}{hint}"
        busy = sum(self.need(r) for r in self.running)
        need = self.need(self.queue[0][1]) if self.queue else 1
        if need > 1:
            return (f"waiting for {need} nodes of {backend.name!r} at once (a distributed run): {busy} of "
                    f"{backend.slots()} busy")
        return backend.waiting_reason(busy)

    def waiting(self) -> list[QueuedRun]:
        """The queued runs in the order they will start, each with why it waits."""
        reason = self.waiting_reason()
        return [QueuedRun(run_id=run_id, workspace=workspace, position=i + 1,
                          reason=reason if i == 0 else f"{reason}; {i} queued ahead of it")
                for i, (workspace, run_id) in enumerate(self.queue)]
