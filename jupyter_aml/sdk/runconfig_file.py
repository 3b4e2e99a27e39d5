"""``.runconfig`` files: v1's YAML run configuration (camelCase keys), read and written.

A file v1 wrote loads as it is: its ``environment`` section is v1's environment definition (inline
``condaDependencies`` or a ``condaDependenciesFile`` relative to the file's folder or the project folder), its
``docker`` section is ``DockerConfiguration`` (``useDocker``, ``shmSize``). Sections only v1's other targets
used (spark, hdi, ...) are kept as they are, so a round trip does not lose them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.environment import Environment
from jupyter_aml.sdk.environment_files import from_v1_dict, merged_conda, to_v1_dict
from jupyter_aml.sdk.runconfig import DockerConfiguration

if TYPE_CHECKING:
    from jupyter_aml.sdk.run_configuration import RunConfiguration

SUFFIX = ".runconfig"
FOLDERS = (".azureml", "aml_config")  # v1's, and the older Workbench's
KNOWN = {"script", "command", "arguments", "target", "framework", "communicator", "maxRunDurationSeconds",
         "nodeCount", "environment", "history", "docker", "data", "dataReferences", "outputData",
         "sourceDirectoryDataStore", "amlcompute", "environmentVariables", "credentialPassthrough",
         "autoPrepareEnvironment", "mpi", "tensorflow", "pytorch"}
HEADER = "# A run configuration (Azure ML v1's format), written by jupyter-aml. RunConfiguration.load() reads it.\n"


def _file_name(name: str) -> str:
    return name if name.endswith(SUFFIX) else name + SUFFIX


def save(config: RunConfiguration, path: str | os.PathLike[str] | None, name: str | None,
         separate_environment_yaml: bool) -> str:
    import yaml

    root = Path(path) if path is not None else Path.cwd()
    if name is None:
        if root.suffix != SUFFIX:
            raise InvalidInput("RunConfiguration.save needs a name", hint="rc.save(path='.', name='train')")
        target = root
    else:
        target = root / ".azureml" / _file_name(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    conda_file = None
    if separate_environment_yaml and (conda := merged_conda(config.environment)) is not None:
        conda.save(target.parent / "environment.yml")
        conda_file = "environment.yml"
    body = to_dict(config, conda_file)
    target.write_text(HEADER + str(yaml.safe_dump(body, sort_keys=False, default_flow_style=False)))
    return str(target)


def to_dict(config: RunConfiguration, conda_file: str | None = None) -> dict[str, Any]:
    from jupyter_aml.sdk.run_configuration import target_name

    history = config.history
    amlcompute = config.amlcompute
    return {
        "script": config.script,
        "command": config.command if config.command else "",
        "arguments": [str(a) for a in config.arguments],
        "target": target_name(config.target),
        "framework": config.framework,
        "communicator": config.communicator,
        "maxRunDurationSeconds": config.max_run_duration_seconds,
        "nodeCount": config.node_count,
        "environment": to_v1_dict(config.environment, conda_file),
        "history": {"outputCollection": history.output_collection, "snapshotProject": history.snapshot_project,
                    "directoriesToWatch": list(history.directories_to_watch)},
        "docker": {"useDocker": config.docker.use_docker, "sharedVolumes": config.docker.shared_volumes,
                   "arguments": [], "shmSize": config.docker.shm_size},
        "environmentVariables": dict(config.environment_variables),
        "data": dict(config.data),
        "dataReferences": dict(config.data_references),
        "outputData": dict(config.output_data),
        "sourceDirectoryDataStore": config.source_directory_data_store,
        "amlcompute": {"vmSize": amlcompute.vm_size, "vmPriority": amlcompute.vm_priority, "name": amlcompute.name,
                       "retainCluster": amlcompute.retain_cluster,
                       "clusterMaxNodeCount": amlcompute.cluster_max_node_count},
        "credentialPassthrough": config.credential_passthrough,
        # the sections a communicator reads (RunConfiguration.distributed())
        "mpi": {"processCountPerNode": config.mpi.process_count_per_node, "nodeCount": config.mpi.node_count},
        "tensorflow": {"workerCount": config.tensorflow.worker_count,
                       "parameterServerCount": config.tensorflow.parameter_server_count},
        "pytorch": {"communicationBackend": config.pytorch.communication_backend,
                    "processCount": config.pytorch.process_count, "nodeCount": config.pytorch.node_count},
        **config._extra,
    }


def find(path: str | os.PathLike[str] | None, name: str | None) -> Path:
    root = Path(path) if path is not None else Path.cwd()
    if root.is_file():
        return root
    if name is None:
        raise InvalidInput(f"{str(root)!r} is not a run configuration file", hint="RunConfiguration.load(path, name)")
    tried = [root / folder / _file_name(name) for folder in FOLDERS] + [root / _file_name(name), root / name]
    for file in tried:
        if file.is_file():
            return file
    raise InvalidInput(f"run configuration {name!r} not found", hint="looked in " + ", ".join(str(t) for t in tried))


def load(path: str | os.PathLike[str] | None, name: str | None) -> RunConfiguration:
    import yaml

    file = find(path, name)
    try:
        data = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{str(file)!r} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{str(file)!r} is not a run configuration (a mapping of settings)")
    stem = file.name[: -len(SUFFIX)] if file.name.endswith(SUFFIX) else file.stem
    return from_dict(data, file.parent, _path=str(file), _name=stem)


def from_dict(data: dict[str, Any], folder: Path, _path: str | None = None, _name: str | None = None
              ) -> RunConfiguration:
    from jupyter_aml.sdk.run_configuration import RunConfiguration

    config = RunConfiguration(_path=_path, _name=_name)
    config.script = data.get("script") or None
    config.command = data.get("command") or None
    config.arguments = [str(a) for a in data.get("arguments") or []]
    config.target = data.get("target") or "local"
    config.framework = str(data.get("framework") or "Python")
    config.communicator = str(data.get("communicator") or "None")
    seconds = data.get("maxRunDurationSeconds")
    config.max_run_duration_seconds = int(seconds) if seconds not in (None, "") else None
    config.node_count = int(data.get("nodeCount") or 1)
    config.environment = _environment(data.get("environment") or {}, folder)
    history = data.get("history") or {}
    config.history.output_collection = bool(history.get("outputCollection", True))
    config.history.snapshot_project = bool(history.get("snapshotProject", True))
    config.history.directories_to_watch = list(history.get("directoriesToWatch") or ["logs"])
    docker = data.get("docker") or {}
    # useDocker: true turns Docker on; false leaves the environment's docker.enabled to decide (v1 writes false
    # in every file, also beside an environment that enables Docker)
    loaded = DockerConfiguration(use_docker=bool(docker.get("useDocker", False)),
                                 arguments=list(docker.get("arguments") or []), shm_size=docker.get("shmSize") or None,
                                 shared_volumes=bool(docker.get("sharedVolumes", True)))
    if loaded.use_docker:
        config.docker = loaded
    else:
        config.docker.shm_size = loaded.shm_size
    config.environment_variables = {str(k): str(v) for k, v in (data.get("environmentVariables") or {}).items()}
    config.data = dict(data.get("data") or {})
    config.data_references = dict(data.get("dataReferences") or {})
    config.output_data = dict(data.get("outputData") or {})
    config.source_directory_data_store = data.get("sourceDirectoryDataStore") or None
    amlcompute = data.get("amlcompute") or {}
    config.amlcompute.vm_size = amlcompute.get("vmSize") or None
    config.amlcompute.vm_priority = amlcompute.get("vmPriority") or None
    config.amlcompute.name = amlcompute.get("name") or None
    config.amlcompute.retain_cluster = bool(amlcompute.get("retainCluster", False))
    config.amlcompute.cluster_max_node_count = amlcompute.get("clusterMaxNodeCount") or None
    if config.amlcompute.cluster_max_node_count == 1 and not config.amlcompute.vm_size:
        config.amlcompute.cluster_max_node_count = None  # v1 writes 1 as the default
    config.credential_passthrough = bool(data.get("credentialPassthrough", False))
    _distributed_sections(config, data)
    config._extra = {k: v for k, v in data.items() if k not in KNOWN}
    return config


def _distributed_sections(config: RunConfiguration, data: dict[str, Any]) -> None:
    """v1's ``mpi``, ``tensorflow`` and ``pytorch`` sections (``communicator`` says which one a run uses)."""
    from jupyter_aml.sdk.distributed import MpiConfiguration, PyTorchConfiguration, TensorflowConfiguration

    def number(section: dict[str, Any], key: str, default: int) -> int:
        value = section.get(key)
        return default if value in (None, "") else int(value)

    mpi = data.get("mpi") or {}
    config.mpi = MpiConfiguration(number(mpi, "processCountPerNode", 1), number(mpi, "nodeCount", 1))
    tf = data.get("tensorflow") or {}
    config.tensorflow = TensorflowConfiguration(number(tf, "workerCount", 1), number(tf, "parameterServerCount", 1))
    torch = data.get("pytorch") or {}
    processes = torch.get("processCount")
    config.pytorch = PyTorchConfiguration(str(torch.get("communicationBackend") or "Nccl"),
                                          None if processes in (None, "") else int(processes),
                                          number(torch, "nodeCount", 1))


def _environment(section: dict[str, Any], folder: Path) -> Environment:
    """The environment section; a relative ``condaDependenciesFile`` is looked up beside the file, then in
    the project folder (the parent of ``.azureml/`` or ``aml_config/``), as v1 wrote it relative to that."""
    python = dict(section.get("python") or {})
    named = python.get("condaDependenciesFile")
    if named and not Path(str(named)).is_absolute():
        bases = [folder, folder.parent] if folder.name in FOLDERS else [folder]
        for base in bases:
            if (base / str(named)).is_file():
                python["condaDependenciesFile"] = str((base / str(named)).resolve())
                break
    return from_v1_dict(Environment, {**section, "python": python}, base=folder)
