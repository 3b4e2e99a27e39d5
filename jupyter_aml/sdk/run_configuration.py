"""``RunConfiguration`` (v1's ``azureml.core.runconfig``): what a run needs besides its source folder.

``ScriptRunConfig.run_config`` is one of these, as in v1 (``src.run_config.target``, ``.environment``, ...).
Saved to and loaded from ``.azureml/<name>.runconfig`` files in v1's YAML format (sdk/runconfig_file.py).
What this service cannot do is refused when the run is submitted, never dropped: see ``check()``.
``max_run_duration_seconds`` is enforced by the service (a run over it is canceled, with the reason).

v1's ``communicator`` (with its ``mpi``, ``tensorflow`` and ``pytorch`` sections and ``node_count``) describes
a distributed job the way v1 did before ``distributed_job_config``: ``IntelMpi`` / ``OpenMpi`` are an
``MpiConfiguration``, ``ParameterServer`` a ``TensorflowConfiguration``, ``Nccl`` / ``Gloo`` a
``PyTorchConfiguration`` with that backend (``distributed()``); a mix that says two different things is
refused, never half-applied.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from jupyter_aml.envbuild.container import DEFAULT_BASE_IMAGE
from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.distributed import (
    DistributedConfiguration,
    MpiConfiguration,
    PyTorchConfiguration,
    TensorflowConfiguration,
    check_distributed,
)
from jupyter_aml.sdk.environment import Environment
from jupyter_aml.sdk.runconfig import DockerConfiguration

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace

DEFAULT_CPU_IMAGE = DEFAULT_BASE_IMAGE  # v1's constant: the base image Docker runs use when none is named
DEFAULT_GPU_IMAGE = DEFAULT_BASE_IMAGE  # the same image: these machines have no GPU runtime (docs/environments.md)
FRAMEWORKS = ("Python", "PyTorch", "TensorFlow")  # each runs the script with the environment's Python
REFUSED_FRAMEWORKS = ("PySpark", "CNTK")
COMMUNICATORS = ("None", "ParameterServer", "OpenMpi", "IntelMpi", "Gloo", "Nccl")
MPI_COMMUNICATORS = ("IntelMpi", "OpenMpi")  # either way, the agent starts the ranks with MPI's variables
PYTORCH_COMMUNICATORS = ("Nccl", "Gloo")  # PyTorchConfiguration's communication_backend


def target_name(target: Any) -> str:
    """A compute target object (``ComputeTarget``, ``AmlCompute``...) or its name."""
    name = getattr(target, "name", target)
    return str(name) if name else "local"


class HistoryConfiguration:
    """v1's run history switches. Runs here always keep their snapshot and ``./outputs``; ``./logs`` is watched."""

    def __init__(self, output_collection: bool = True, snapshot_project: bool = True,
                 directories_to_watch: list[str] | None = None) -> None:
        self.output_collection = output_collection
        self.snapshot_project = snapshot_project
        self.directories_to_watch = list(directories_to_watch) if directories_to_watch is not None else ["logs"]

    def check(self) -> None:
        if not self.output_collection:
            raise InvalidInput("history.output_collection=False is not supported: a run's ./outputs are always kept",
                               hint="write files you do not want kept outside ./outputs")
        if not self.snapshot_project:
            raise InvalidInput("history.snapshot_project=False is not supported: every run has its snapshot",
                               hint="keep files out of the snapshot with .amlignore")
        if [d for d in self.directories_to_watch if d.strip("./") != "logs"]:
            raise InvalidInput(f"history.directories_to_watch={self.directories_to_watch!r}: only 'logs' is watched "
                               "here", hint="write live files under ./logs")

    def __repr__(self) -> str:
        return (f"HistoryConfiguration(output_collection={self.output_collection!r}, "
                f"snapshot_project={self.snapshot_project!r}, directories_to_watch={self.directories_to_watch!r})")


class AmlComputeConfiguration:
    """v1's run-based cluster settings: a cluster is created with ``ComputeTarget.create`` here, so any value
    set is refused at submission."""

    def __init__(self) -> None:
        self.vm_size: str | None = None
        self.vm_priority: str | None = None
        self.name: str | None = None
        self.retain_cluster = False
        self.cluster_max_node_count: int | None = None

    def is_set(self) -> bool:
        return bool(self.vm_size or self.vm_priority or self.name or self.cluster_max_node_count)


class RunConfiguration:
    def __init__(self, script: str | None = None, arguments: list[Any] | None = None, framework: str | None = None,
                 communicator: str | None = None, conda_dependencies: Any = None, _history_enabled: bool | None = None,
                 _path: str | None = None, _name: str | None = None, command: list[str] | str | None = None) -> None:
        self.script = script
        self.arguments: list[Any] = list(arguments or [])
        self.command: list[str] | str | None = command
        self.target: Any = "local"
        self.framework = framework or "Python"
        self.communicator = communicator or "None"
        self.node_count = 1
        self.max_run_duration_seconds: int | None = None
        self.environment = Environment()
        if conda_dependencies is not None:
            self.environment.python.conda_dependencies = conda_dependencies
            self.environment.python.user_managed_dependencies = False
        self.environment_variables: dict[str, str] = {}
        self.history = HistoryConfiguration(output_collection=_history_enabled is not False)
        self.docker = DockerConfiguration()
        self._docker_set = False  # docker settings decide only when the user set them (v1's rule, docs/docker-runs.md)
        self.data: dict[str, Any] = {}
        self.data_references: dict[str, Any] = {}
        self.output_data: dict[str, Any] = {}
        self.source_directory_data_store: str | None = None
        self.amlcompute = AmlComputeConfiguration()
        self.credential_passthrough = False
        self.distributed_job_config: Any = None  # set by ScriptRunConfig(distributed_job_config=...)
        # v1's sections for a distributed job named by ``communicator`` (read by distributed())
        self.mpi = MpiConfiguration()
        self.tensorflow = TensorflowConfiguration()
        self.pytorch = PyTorchConfiguration()
        self._extra: dict[str, Any] = {}  # sections of a loaded file that only v1's other targets use
        self._path, self._name = _path, _name

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "docker" and "docker" in self.__dict__:
            object.__setattr__(self, "_docker_set", True)
        object.__setattr__(self, name, value)

    # -- what the service gets -------------------------------------------------------------------------
    def check(self) -> None:
        """Refuse what this service cannot do, with what to do instead (called when a run is submitted)."""
        if self.framework in REFUSED_FRAMEWORKS or self.framework not in FRAMEWORKS:
            raise InvalidInput(f"framework {self.framework!r} is not supported here",
                               hint="use framework='Python' (PyTorch and TensorFlow scripts run with it too)")
        if self.distributed() is None and int(self.node_count) != 1:
            raise InvalidInput(
                f"node_count={self.node_count} with communicator='None' needs a distributed job here",
                hint="pass ScriptRunConfig(distributed_job_config=PyTorchConfiguration(...)) or MpiConfiguration, "
                     "or set communicator ('IntelMpi', 'OpenMpi', 'ParameterServer', 'Nccl' or 'Gloo')")
        self.history.check()
        if self.data_references or self.source_directory_data_store:
            raise InvalidInput("run_config.data_references and source_directory_data_store (v1's DataReference) "
                               "are not supported here", hint="pass datasets: run_config.data = "
                               "{'name': ds.as_named_input('name').as_mount()}, or as script arguments")
        if self.amlcompute.is_set():
            raise InvalidInput("run_config.amlcompute (a cluster made for the run) is not supported here",
                               hint="create the cluster with ComputeTarget.create(ws, name, AmlCompute."
                                    "provisioning_configuration(...)) and set run_config.target to it")
        if self.credential_passthrough:
            raise InvalidInput("credential_passthrough is not supported: runs use their own run token")
        if self.max_run_duration_seconds is not None and int(self.max_run_duration_seconds) < 1:
            raise InvalidInput(f"max_run_duration_seconds must be at least 1, got {self.max_run_duration_seconds!r}")

    def script_and_arguments(self) -> tuple[str, list[str]]:
        if self.command and self.script:
            raise InvalidInput("command and script cannot both be set", hint="use one")
        if self.command:
            parts = self.command.split() if isinstance(self.command, str) else [str(c) for c in self.command]
            if parts and os.path.basename(parts[0]).startswith("python"):
                parts = parts[1:]
            if not parts or not parts[0].endswith((".py", ".ipynb")):
                raise InvalidInput(f"command {self.command!r} does not run a Python script",
                                   hint="runs here execute a script: command=['python', 'train.py', ...]")
            return parts[0], parts[1:]
        if not self.script:
            raise InvalidInput("the run configuration has no script",
                               hint="ScriptRunConfig(source_directory, script='train.py')")
        return str(self.script), [str(a) for a in self.arguments]

    def environment_spec(self) -> dict[str, Any]:
        """The environment as the run gets it: ``docker`` (a ``DockerConfiguration``), when set, decides Docker."""
        spec = self.environment.to_spec()
        if self._docker_set or self.docker.use_docker:
            spec["docker_enabled"] = self.docker.use_docker
        if self.docker.shm_size:
            spec["docker_shm_size"] = self.docker.shm_size
        if self.environment_variables:
            spec["env_vars"] = {**spec["env_vars"], **{k: str(v) for k, v in self.environment_variables.items()}}
        if spec.get("docker_base_dockerfile") and not spec.get("docker_enabled"):
            raise InvalidInput("environment.docker.base_dockerfile builds an image, but Docker is off for the run",
                               hint="set env.docker.enabled = True or pass DockerConfiguration(use_docker=True)")
        return spec

    def to_rest(self, workspace: Workspace | None = None) -> dict[str, Any]:
        """The REST ``run_config`` payload. Datasets in the arguments, ``data`` and ``output_data`` become its
        inputs and outputs (an unregistered dataset is registered in ``workspace``, else in its own)."""
        from jupyter_aml.sdk.dataset_consumption import data_of

        self.check()
        script, as_text = self.script_and_arguments()
        arguments, inputs, outputs = data_of(as_text if self.command else list(self.arguments), self.data,
                                             self.output_data, workspace)
        body: dict[str, Any] = {"script": script, "arguments": arguments, "compute_target": target_name(self.target),
                                "environment": self.environment_spec(),
                                "max_run_duration_seconds": self.max_run_duration_seconds}
        if inputs:
            body["inputs"] = inputs
        if outputs:
            body["outputs"] = outputs
        distributed = self.distributed()
        if distributed is not None:
            from jupyter_aml.sdk.config import distributed_payload

            body.update(distributed_payload(distributed, int(self.node_count)))
        return body

    # -- distributed jobs ----------------------------------------------------------------------------
    def distributed(self) -> DistributedConfiguration | None:
        """The distributed job this configuration describes: ``distributed_job_config``, else the one v1's
        ``communicator`` names (with the matching section and ``node_count``), else None. Settings that
        contradict each other are refused, saying which."""
        config = check_distributed(self.distributed_job_config)
        communicator = self.communicator
        if communicator not in COMMUNICATORS:
            raise InvalidInput(f"communicator {communicator!r} is not one of {', '.join(COMMUNICATORS)}")
        if config is not None:
            self._agrees(config)
            return config
        if communicator == "None":
            return None
        nodes = int(self.node_count)
        if communicator in MPI_COMMUNICATORS:
            return MpiConfiguration(self.mpi.process_count_per_node, self._nodes(nodes, self.mpi.node_count, "mpi"))
        if communicator == "ParameterServer":
            if self.framework == "PyTorch":
                raise InvalidInput("communicator 'ParameterServer' is TensorFlow's parameter-server training: "
                                   "framework 'PyTorch' has no parameter servers",
                                   hint="use communicator 'Gloo' or 'Nccl' for PyTorch, or framework 'TensorFlow'")
            return TensorflowConfiguration(self.tensorflow.worker_count, self.tensorflow.parameter_server_count)
        if self.framework == "TensorFlow":
            raise InvalidInput(f"communicator {communicator!r} is a torch.distributed backend: framework "
                               "'TensorFlow' does not use it", hint="use communicator 'ParameterServer' (TF_CONFIG), "
                               "'IntelMpi' or 'OpenMpi' for TensorFlow, or framework 'PyTorch'")
        section = self.pytorch.communication_backend
        if section not in ("Nccl", communicator):  # "Nccl" is the section's default: the communicator decides
            raise InvalidInput(f"communicator {communicator!r} and pytorch.communication_backend {section!r} disagree",
                               hint="set the backend in one place")
        nodes = self._nodes(nodes, self.pytorch.node_count, "pytorch")
        return PyTorchConfiguration(communicator, self.pytorch.process_count, nodes)

    def _nodes(self, nodes: int, section: int, name: str) -> int:
        """``node_count`` of the run or of its v1 section (one of them left at 1); both set differently: refused."""
        if nodes != 1 and section != 1 and nodes != section:
            raise InvalidInput(f"node_count={nodes} and {name}.node_count={section} disagree",
                               hint="set the number of nodes in one place")
        return max(nodes, section)

    def _agrees(self, config: DistributedConfiguration) -> None:
        """A ``communicator`` or ``node_count`` set beside ``distributed_job_config`` must say the same thing."""
        communicator = self.communicator
        if isinstance(config, MpiConfiguration):
            agreeing: tuple[str, ...] = MPI_COMMUNICATORS
        elif isinstance(config, TensorflowConfiguration):
            agreeing = ("ParameterServer",)
        elif isinstance(config, PyTorchConfiguration):
            agreeing = MPI_COMMUNICATORS if config.communication_backend == "Mpi" else (config.communication_backend,)
        else:  # pragma: no cover - check_distributed admits these three only
            agreeing = ()
        if communicator != "None" and communicator not in agreeing:
            raise InvalidInput(f"communicator {communicator!r} contradicts distributed_job_config={config!r}",
                               hint="leave communicator at 'None': distributed_job_config decides"
                                    + (f" (or set {', '.join(repr(a) for a in agreeing)})" if agreeing else ""))
        nodes = int(self.node_count)
        if not isinstance(config, TensorflowConfiguration) and nodes not in (1, config.node_count):
            raise InvalidInput(f"node_count={nodes} contradicts distributed_job_config={config!r}",
                               hint="set node_count on the distributed job configuration only")

    def __call__(self, workspace: Workspace | None = None) -> dict[str, Any]:
        """``config.run_config()`` is the REST payload (jupyter-aml's own callers; v1 code reads attributes)."""
        return self.to_rest(workspace)

    # -- files -------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str] | None = None, name: str | None = None,
             separate_environment_yaml: bool = False) -> str:
        """Write ``<path>/.azureml/<name>.runconfig`` (v1's YAML), or the file ``path`` when it names one."""
        from jupyter_aml.sdk.runconfig_file import save

        return save(self, path, name or self._name, separate_environment_yaml)

    @staticmethod
    def load(path: str | os.PathLike[str] | None = None, name: str | None = None) -> RunConfiguration:
        """Read ``<path>/.azureml/<name>.runconfig`` (or ``aml_config/``), or the file ``path``; v1-written files
        load as they are."""
        from jupyter_aml.sdk.runconfig_file import load

        return load(path, name)

    def __repr__(self) -> str:
        return (f"RunConfiguration(script={self.script!r}, target={target_name(self.target)!r}, "
                f"environment={self.environment.name!r}, node_count={self.node_count!r}, "
                f"max_run_duration_seconds={self.max_run_duration_seconds!r})")
