"""A multi-node run on an AmlCompute (Dask) cluster: one task per node, gang-scheduled, all or nothing.

Dask has no gang scheduling, and two gangs that each take part of the cluster deadlock (docs/compute.md). So
nodes are handed out in one place, in order: the service's run queue (core/run_queue.py) starts a run that
needs N nodes only when N of the cluster's nodes are free, under the scheduler's lock, first come first
served (a gang at the head of the queue is not overtaken by smaller runs). Two gangs that each need more than
half of the cluster therefore run one after the other, never each holding part of it.

Then the backend submits N tasks (``run_gang_node``), each asking for one ``node`` resource, so each holds a
worker of its own. A task that holds its worker says so (``joined`` Event) and waits for all N: the barrier.
No agent, and so no process of the script, starts before every node is held. If the gang does not form within
the hold timeout (a node did not come up, or something outside this service holds workers), every task lets
go of its worker without starting anything (the ``abort`` Event), the tasks still waiting are cancelled, and
the run fails saying how many nodes it got. Node 0's task publishes its address and two free ports
(``MASTER_PORT`` and the agents' gang port, agent/gang.py) before it joins.

Cancel is the run's stop Event, which every node's task watches; when node 0's agent ends (it reports the
run's status after hearing from every node), the ``end`` Event stops whatever still runs on the others.
"""

from __future__ import annotations

import time
from typing import Any

from jupyter_aml.agent import distributed as D
from jupyter_aml.compute.dask_task import NODE_LOST, STOP_GRACE_SECONDS, _agent_process, started_event, stop_event

GANG_NOT_FORMED = -1001  # the barrier timed out or was aborted: nothing was started
NODE_SEPARATOR = "~node"


def node_key(run_key: str, node: int) -> str:
    """The task key of one node: node 0's is the run's key, the others' add ``~node<k>``."""
    return run_key if node == 0 else f"{run_key}{NODE_SEPARATOR}{node}"


def joined_event(run_id: str, node: int) -> str:
    return f"aml-gang-{run_id}-joined-{node}"


def abort_event(run_id: str) -> str:
    return f"aml-gang-{run_id}-abort"


def end_event(run_id: str) -> str:
    return f"aml-gang-{run_id}-end"


def address_variable(run_id: str) -> str:
    return f"aml-gang-{run_id}-address"


def gang_names(run_id: str, node_count: int) -> list[str]:
    """Every Event a gang leaves on the scheduler (cleared once the run has ended for good)."""
    return [abort_event(run_id), end_event(run_id), *(joined_event(run_id, k) for k in range(node_count)),
            *(started_event(f"{run_id}{NODE_SEPARATOR}{k}") for k in range(1, node_count))]


def _worker_host() -> str:
    from distributed import comm, get_worker

    dask_comm: Any = comm  # untyped for mypy --strict
    return str(dask_comm.get_address_host(get_worker().address))


def run_gang_node(run_id: str, node: int, node_count: int, argv: list[str], env: dict[str, str], cwd: str, *,
                  hold_timeout: float = 300.0, python: str | None = None, grace: float = STOP_GRACE_SECONDS,
                  poll: float = 0.25, ignore_sigterm: bool = False, memory_limit: int | None = None,
                  cpus: float | None = None) -> int:
    """On the worker this task holds: join the gang, wait for all of it, then run this node's agent."""
    import distributed

    dask: Any = distributed  # untyped for mypy --strict
    started = dask.Event(started_event(run_id if node == 0 else f"{run_id}{NODE_SEPARATOR}{node}"))
    if started.is_set():  # a re-run after this node's worker died: never start a node twice
        return NODE_LOST
    started.set()
    stop, abort, end = (dask.Event(name) for name in (stop_event(run_id), abort_event(run_id), end_event(run_id)))
    host = _worker_host()
    variable = dask.Variable(address_variable(run_id))
    if node == 0:
        master_port, gang_port = D.free_ports(2, host)
        variable.set({"host": host, "master_port": master_port, "gang_port": gang_port})
    dask.Event(joined_event(run_id, node)).set()
    deadline = time.monotonic() + hold_timeout
    for other in range(node_count):  # the barrier: every node of the gang holds its worker
        joined = dask.Event(joined_event(run_id, other))
        while not joined.wait(timeout=poll):
            if stop.is_set() or abort.is_set() or end.is_set():
                return GANG_NOT_FORMED
            if time.monotonic() >= deadline:
                abort.set()  # every node lets go: all or nothing
                return GANG_NOT_FORMED
    if abort.is_set():
        return GANG_NOT_FORMED
    address = variable.get(timeout=max(1.0, deadline - time.monotonic()))
    env = {**env, D.NODE_RANK: str(node), D.MASTER_ADDR: str(address["host"]),
           D.MASTER_PORT: str(address["master_port"]), D.GANG_PORT: str(address["gang_port"]), D.NODE_HOST: host}
    try:
        return _agent_process(run_id, argv, env, cwd, [stop, abort] if node == 0 else [stop, abort, end], python=python,
                              grace=grace, poll=0.5, ignore_sigterm=ignore_sigterm, memory_limit=memory_limit,
                              cpus=cpus)
    finally:
        if node == 0:
            end.set()
