"""A web service this process serves (``Live``): the state that the deployment manager, the replica-set
mechanism (``pool``), the autoscaler and the hung-replica guard share.

It lives in its own module so that those three import it without importing ``manager`` (which imports them):
what they need of the manager, starting one replica and waiting until it is ready, is the ``start``
callable the manager gives each ``Live``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_aml.core import registry_models as rm
from jupyter_aml.serving.backends import PreparedRevision, ReplicaLauncher
from jupyter_aml.serving.front import Front, Replica, Revision
from jupyter_aml.serving.logs import ServiceLog

MAX_EVENTS = 200

# start(live, launcher, prepared, replica): launch the replica and return once it answers /health/ready
StartReplica = Callable[["Live", ReplicaLauncher, PreparedRevision, Replica], Awaitable[None]]


def new_events() -> deque[rm.ScalingEvent]:
    """The service's scaling events, the newest ``MAX_EVENTS`` (telemetry and the endpoint's page)."""
    return deque(maxlen=MAX_EVENTS)


@dataclass(eq=False)
class Live:
    """A web service that this process serves."""

    id: int
    workspace: str
    name: str
    folder: Path
    front: Front
    log: ServiceLog
    start: StartReplica
    launcher: ReplicaLauncher | None = None
    active: Revision | None = None
    prepared: PreparedRevision | None = None
    rollout: asyncio.Task[None] | None = None
    supervisor: asyncio.Task[None] | None = None
    restarting: set[int] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    retiring: set[asyncio.Task[None]] = field(default_factory=set)  # old revisions stopping; never cancelled
    flush_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    state: str = ""
    closed: bool = False
    last_probe: float = 0.0
    autoscaler: asyncio.Task[None] | None = None
    config: dict[str, Any] = field(default_factory=dict)  # the service's deployment_config as last applied
    events: deque[rm.ScalingEvent] = field(default_factory=new_events)
    adding: set[Replica] = field(default_factory=set)  # replicas being started by autoscaling or the guard
    replacing: set[Replica] = field(default_factory=set)  # hung replicas being replaced


__all__ = ["MAX_EVENTS", "Live", "StartReplica", "new_events"]
