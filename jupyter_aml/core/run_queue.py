"""The run queue's policy for one compute target: admission, ordering, and why a queued run waits.

Runs start in submission order (first in, first out, per target): the head of the queue starts when the
target is ready (a Stopped instance is not) and has a free slot (a cluster has one per node up to
``max_nodes``, other targets ``max_concurrent_runs``). Nothing here starts a process: ``core/scheduler.py``
asks this policy what may start and hands it to the backend.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from jupyter_aml.compute.base import ComputeBackend
from jupyter_aml.core.compute_models import QueuedRun

# A target's key: (workspace, name) for a compute created in a workspace, ("", name) for a configured one.
TargetKey = tuple[str, str]
CONFIGURED = ""


@dataclass
class TargetQueue:
    key: TargetKey
    backend: ComputeBackend
    queue: deque[tuple[str, str]] = field(default_factory=deque)  # (workspace, run id), in submission order
    running: set[str] = field(default_factory=set)

    @property
    def configured(self) -> bool:
        return self.key[0] == CONFIGURED

    def free_slots(self) -> int:
        return max(0, self.backend.slots() - len(self.running))

    def may_start(self) -> bool:
        """Whether the head of the queue may start now."""
        return bool(self.queue) and self.backend.ready() and self.free_slots() > 0

    def waiting_reason(self) -> str:
        backend = self.backend
        if not backend.ready():
            state = backend.state()
            hint = f": start it (ComputeTarget(ws, {backend.name!r}).start())" if state == "Stopped" else ""
            why = f" ({backend.error})" if state == "Failed" and backend.error else ""
            return f"waiting for compute {backend.name!r} to be Running: it is {state}{why}{hint}"
        return backend.waiting_reason(len(self.running))

    def waiting(self) -> list[QueuedRun]:
        """The queued runs in the order they will start, each with why it waits."""
        reason = self.waiting_reason()
        return [QueuedRun(run_id=run_id, workspace=workspace, position=i + 1,
                          reason=reason if i == 0 else f"{reason}; {i} queued ahead of it")
                for i, (workspace, run_id) in enumerate(self.queue)]
