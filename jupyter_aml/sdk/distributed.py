"""v1's distributed job configurations (``azureml.core.runconfig``): how many processes of the script to run,
on how many nodes, with which framework's variables.

``ScriptRunConfig(..., distributed_job_config=PyTorchConfiguration(process_count=4, node_count=2))`` sends
``run_config.distributed`` with the run; the run agent starts the processes, each with its rank's variables
(``RANK``, ``WORLD_SIZE``, ``OMPI_COMM_WORLD_*``, ``TF_CONFIG``, ...), and a compute cluster holds all the
nodes at once before any process starts. See docs/distributed.md.
"""

from __future__ import annotations

from typing import Any

from jupyter_aml.errors import InvalidInput

__all__ = ["DistributedConfiguration", "MpiConfiguration", "PyTorchConfiguration", "TensorflowConfiguration",
           "distributed_from_dict"]

COMMUNICATION_BACKENDS = ("Nccl", "Gloo", "Mpi")  # v1's names; torch.distributed takes them lower-cased


def _count(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"{name} must be an integer of at least {minimum}, got {value!r}")
    return value


class DistributedConfiguration:
    """What the three v1 classes share: a node count and the total number of processes."""

    framework = ""

    def __init__(self, node_count: int = 1) -> None:
        self.node_count = _count("node_count", node_count)

    @property
    def total_processes(self) -> int:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The REST ``run_config.distributed`` payload."""
        return {"framework": self.framework, "node_count": self.node_count, "process_count": self.total_processes}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DistributedConfiguration) and type(other) is type(self) \
            and other.to_dict() == self.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_dict().items())))


class PyTorchConfiguration(DistributedConfiguration):
    """``process_count`` processes in all (default: one per node), spread evenly over ``node_count`` nodes; each
    gets ``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK`` and ``NODE_RANK``, so
    ``torch.distributed.init_process_group(backend, init_method="env://")`` works in every one."""

    framework = "PyTorch"

    def __init__(self, communication_backend: str = "Nccl", process_count: int | None = None,
                 node_count: int = 1) -> None:
        super().__init__(node_count)
        names = {b.lower(): b for b in COMMUNICATION_BACKENDS}
        if not isinstance(communication_backend, str) or communication_backend.lower() not in names:
            raise InvalidInput(f"communication_backend {communication_backend!r} is not one of "
                               f"{', '.join(COMMUNICATION_BACKENDS)}")
        self.communication_backend = names[communication_backend.lower()]
        self.process_count = None if process_count is None else _count("process_count", process_count)
        if self.process_count is not None and self.process_count % self.node_count:
            raise InvalidInput(f"process_count {self.process_count} is not a multiple of node_count "
                               f"{self.node_count}", hint="every node runs the same number of processes")

    @property
    def total_processes(self) -> int:
        return self.process_count if self.process_count is not None else self.node_count

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "communication_backend": self.communication_backend}

    def __repr__(self) -> str:
        return (f"PyTorchConfiguration(communication_backend={self.communication_backend!r}, "
                f"process_count={self.process_count!r}, node_count={self.node_count!r})")


class MpiConfiguration(DistributedConfiguration):
    """``process_count_per_node`` processes on each of ``node_count`` nodes, with Open MPI's
    ``OMPI_COMM_WORLD_*`` variables (the processes are started by the run agent: no ``mpirun`` is needed)."""

    framework = "Mpi"

    def __init__(self, process_count_per_node: int = 1, node_count: int = 1) -> None:
        super().__init__(node_count)
        self.process_count_per_node = _count("process_count_per_node", process_count_per_node)

    @property
    def total_processes(self) -> int:
        return self.process_count_per_node * self.node_count

    def __repr__(self) -> str:
        return (f"MpiConfiguration(process_count_per_node={self.process_count_per_node!r}, "
                f"node_count={self.node_count!r})")


class TensorflowConfiguration(DistributedConfiguration):
    """``worker_count`` worker and ``parameter_server_count`` parameter-server tasks, one process each, with
    ``TF_CONFIG`` naming the cluster and the process's own task. v1 takes no node count here: the run
    configuration's ``node_count`` (default 1) spreads the tasks over nodes."""

    framework = "TensorFlow"

    def __init__(self, worker_count: int = 1, parameter_server_count: int = 1) -> None:
        super().__init__(1)
        self.worker_count = _count("worker_count", worker_count)
        self.parameter_server_count = _count("parameter_server_count", parameter_server_count, minimum=0)

    @property
    def total_processes(self) -> int:
        return self.worker_count + self.parameter_server_count

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "worker_count": self.worker_count,
                "parameter_server_count": self.parameter_server_count}

    def __repr__(self) -> str:
        return (f"TensorflowConfiguration(worker_count={self.worker_count!r}, "
                f"parameter_server_count={self.parameter_server_count!r})")


def check_distributed(value: Any) -> DistributedConfiguration | None:
    """``distributed_job_config`` as ScriptRunConfig / RunConfiguration take it: one of the three, or None."""
    if value is None or isinstance(value, DistributedConfiguration):
        return value
    raise InvalidInput(f"distributed_job_config must be a PyTorchConfiguration, MpiConfiguration or "
                       f"TensorflowConfiguration, got {type(value).__name__}",
                       hint="from azureml.core.runconfig import PyTorchConfiguration")


def payload(config: DistributedConfiguration | None, node_count: int | None = None) -> dict[str, Any] | None:
    """``run_config.distributed``; ``node_count`` (RunConfiguration's) spreads a TensorFlow job over nodes."""
    if config is None:
        return None
    body = config.to_dict()
    if isinstance(config, TensorflowConfiguration) and node_count and node_count > 1:
        if node_count > config.total_processes:
            raise InvalidInput(f"node_count {node_count} is more than the job's {config.total_processes} "
                               "TensorFlow tasks", hint="every node runs at least one task")
        body["node_count"] = node_count
    return body


def distributed_from_dict(data: dict[str, Any] | None) -> DistributedConfiguration | None:
    """The configuration a ``run_config.distributed`` payload (or a saved run configuration) describes."""
    if not data:
        return None
    framework = data.get("framework")
    nodes = int(data.get("node_count", 1))
    if framework == "PyTorch":
        return PyTorchConfiguration(str(data.get("communication_backend") or "Nccl"),
                                    int(data.get("process_count", nodes)), nodes)
    if framework == "Mpi":
        return MpiConfiguration(max(1, int(data.get("process_count", nodes)) // nodes), nodes)
    if framework == "TensorFlow":
        return TensorflowConfiguration(int(data.get("worker_count") or 1), int(data.get("parameter_server_count") or 0))
    raise InvalidInput(f"unknown distributed framework {framework!r}", hint="PyTorch, Mpi or TensorFlow")
