"""A distributed run's layout (which global ranks run on which node) and each process's v1 variables.

``run_config.distributed`` (core/models.py ``DistributedConfig``) says the framework, the node count and the
total process count. Ranks are laid out contiguously: node ``k`` runs ranks ``k*per_node`` up to
``(k+1)*per_node - 1`` (the last node may run fewer), with ``per_node = ceil(process_count / node_count)``, so
``LOCAL_RANK`` is ``RANK - k*per_node`` as torchrun and Open MPI's by-node mapping number them.

Every process gets the PyTorch names (``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``,
``NODE_RANK``, ``LOCAL_WORLD_SIZE``) and the ``AZ_BATCH*`` / ``AZUREML_*`` ones v1 scripts read; an MPI job adds
``OMPI_COMM_WORLD_*`` (and ``PMI_RANK`` / ``PMI_SIZE``), a TensorFlow job ``TF_CONFIG``. Stdlib only.
"""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jupyter_aml.errors import InvalidInput

# Set by a compute cluster for each node's agent (agent only: removed before the script starts).
NODE_RANK = "AML_NODE_RANK"
MASTER_ADDR = "AML_MASTER_ADDR"
MASTER_PORT = "AML_MASTER_PORT"
GANG_PORT = "AML_GANG_PORT"  # node 0's agent listens there for the other nodes' agents (agent/gang.py)
NODE_HOST = "AML_NODE_HOST"  # the address other nodes reach this node at
GANG_TIMEOUT = "AML_GANG_TIMEOUT"  # seconds the nodes' agents wait for each other (default 600)
AGENT_ONLY = (NODE_RANK, MASTER_ADDR, MASTER_PORT, GANG_PORT, NODE_HOST, GANG_TIMEOUT)

# The journal stream and log stream of one process (the log stream is also its v1 log file,
# azureml-logs/70_driver_log_<rank>.txt: core/run_logs.py names other streams so).
LOG_STREAM = "70_driver_log_{rank}"


def log_stream(rank: int) -> str:
    return LOG_STREAM.format(rank=rank)


@dataclass(frozen=True)
class Layout:
    framework: str  # PyTorch | Mpi | TensorFlow
    node_count: int
    process_count: int
    communication_backend: str | None = None
    worker_count: int = 0
    parameter_server_count: int = 0

    @classmethod
    def from_run_config(cls, run_config: Mapping[str, Any]) -> Layout | None:
        """The layout of ``run_config.distributed``; None for a plain one-process run."""
        data = run_config.get("distributed")
        if not isinstance(data, dict):
            return None
        layout = cls(framework=str(data.get("framework") or ""), node_count=int(data.get("node_count") or 1),
                     process_count=int(data.get("process_count") or 1),
                     communication_backend=data.get("communication_backend"),
                     worker_count=int(data.get("worker_count") or 0),
                     parameter_server_count=int(data.get("parameter_server_count") or 0))
        if layout.framework not in ("PyTorch", "Mpi", "TensorFlow"):
            raise InvalidInput(f"run_config.distributed.framework {layout.framework!r} is not PyTorch, Mpi or "
                               "TensorFlow")
        if not 1 <= layout.node_count <= layout.process_count:
            raise InvalidInput(f"{layout.process_count} process(es) cannot be spread over {layout.node_count} "
                               "node(s)")
        return layout

    @property
    def per_node(self) -> int:
        return math.ceil(self.process_count / self.node_count)

    def ranks_of(self, node: int) -> range:
        start = node * self.per_node
        return range(min(start, self.process_count), min(start + self.per_node, self.process_count))

    def node_of(self, rank: int) -> int:
        return rank // self.per_node

    def tf_task(self, rank: int) -> tuple[str, int]:
        """A TensorFlow process's task: the workers first (worker 0 is the chief), then the parameter servers."""
        if rank < self.worker_count:
            return "worker", rank
        return "ps", rank - self.worker_count


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports free on ``host`` now (held open together while they are picked)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def tf_cluster(layout: Layout, addresses: Mapping[int, str]) -> dict[str, list[str]]:
    """TF_CONFIG's ``cluster``: ``addresses`` maps each rank to its ``host:port``."""
    cluster: dict[str, list[str]] = {"worker": [], "ps": []}
    for rank in range(layout.process_count):
        kind, _ = layout.tf_task(rank)
        cluster[kind].append(addresses[rank])
    if not cluster["ps"]:
        del cluster["ps"]
    return cluster


def rank_env(layout: Layout, rank: int, *, master_addr: str, master_port: int,
             tf: Mapping[str, list[str]] | None = None) -> dict[str, str]:
    """The variables of the process of global rank ``rank``."""
    node = layout.node_of(rank)
    local = rank - layout.ranks_of(node).start
    local_size = len(layout.ranks_of(node))
    env = {
        "MASTER_ADDR": master_addr, "MASTER_PORT": str(master_port),
        "WORLD_SIZE": str(layout.process_count), "RANK": str(rank), "LOCAL_RANK": str(local),
        "NODE_RANK": str(node), "GROUP_RANK": str(node), "LOCAL_WORLD_SIZE": str(local_size),
        # v1's own names for the same facts
        "AZ_BATCH_MASTER_NODE": f"{master_addr}:{master_port}", "AZ_BATCHAI_MPI_MASTER_NODE": master_addr,
        "AZ_BATCHAI_PYTORCH_INIT_METHOD": f"tcp://{master_addr}:{master_port}",
        "AZ_BATCHAI_TASK_INDEX": str(node), "AZUREML_NODE_COUNT": str(layout.node_count),
        "AZUREML_PROCESS_COUNT": str(layout.process_count),
    }
    if layout.framework == "PyTorch" and layout.communication_backend:
        env["AZUREML_PYTORCH_BACKEND"] = layout.communication_backend.lower()
    if layout.framework == "Mpi":
        env.update({
            "OMPI_COMM_WORLD_RANK": str(rank), "OMPI_COMM_WORLD_SIZE": str(layout.process_count),
            "OMPI_COMM_WORLD_LOCAL_RANK": str(local), "OMPI_COMM_WORLD_LOCAL_SIZE": str(local_size),
            "OMPI_COMM_WORLD_NODE_RANK": str(node), "PMI_RANK": str(rank), "PMI_SIZE": str(layout.process_count),
        })
    if layout.framework == "TensorFlow":
        kind, index = layout.tf_task(rank)
        env["TF_CONFIG"] = json.dumps({"cluster": dict(tf or {}), "task": {"type": kind, "index": index},
                                       "environment": "cloud"})
    return env
