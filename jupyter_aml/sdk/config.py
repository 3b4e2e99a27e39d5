"""``ScriptRunConfig``: what to run, where, and with which environment; saved to and loaded from a file.

As in v1, its settings live in ``run_config`` (a ``RunConfiguration``): ``src.run_config.target``,
``src.run_config.environment``, ... ; the arguments given here override the ``run_config`` passed in.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.environment import Environment
from jupyter_aml.sdk.run_configuration import RunConfiguration, target_name
from jupyter_aml.sdk.runconfig import DockerConfiguration

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace


def _is_data(value: Any) -> bool:
    """A dataset input or output (sdk/dataset_consumption.py), which a run's configuration carries as itself."""
    from jupyter_aml.sdk.dataset_consumption import DatasetConsumptionConfig, OutputFileDatasetConfig

    return isinstance(value, (DatasetConsumptionConfig, OutputFileDatasetConfig))

FORMAT = "jupyter-aml/runconfig@1"


def distributed_payload(distributed_job_config: Any, node_count: int | None = None) -> dict[str, Any]:
    """The REST fields of ``ScriptRunConfig(distributed_job_config=...)`` (PyTorchConfiguration, MpiConfiguration,
    TensorflowConfiguration): ``run_config.distributed`` (sdk/distributed.py, docs/distributed.md)."""
    from jupyter_aml.sdk.distributed import check_distributed, payload

    return {"distributed": payload(check_distributed(distributed_job_config), node_count)}


class ScriptRunConfig:
    def __init__(
        self,
        source_directory: str | os.PathLike[str] = ".",
        script: str | None = None,
        arguments: list[Any] | None = None,
        run_config: RunConfiguration | None = None,
        _telemetry_values: Any = None,
        compute_target: Any = None,
        environment: Environment | None = None,
        distributed_job_config: Any = None,
        resume_from: Any = None,
        max_run_duration_seconds: int | None = None,
        command: list[str] | str | None = None,
        docker_runtime_config: DockerConfiguration | None = None,
    ) -> None:
        if run_config is not None and not isinstance(run_config, RunConfiguration):
            raise InvalidInput("run_config must be a RunConfiguration",
                               hint="from azureml.core.runconfig import RunConfiguration")
        if resume_from is not None:
            raise InvalidInput("resume_from is not supported: runs here do not resume from a checkpoint",
                               hint="load the checkpoint in the script (e.g. from a registered model)")
        if docker_runtime_config is not None and not isinstance(docker_runtime_config, DockerConfiguration):
            raise InvalidInput("docker_runtime_config must be a DockerConfiguration",
                               hint="from azureml.core.runconfig import DockerConfiguration")
        config = copy.deepcopy(run_config) if run_config is not None else RunConfiguration()
        self.source_directory = str(source_directory)
        if command:
            config.command, config.script = command, None
            config.arguments = []
        if script:
            config.script, config.command = script, None
        if arguments is not None:  # a dataset input or output stays itself: the run's configuration carries it
            config.arguments = [a if _is_data(a) else str(a) for a in arguments]
        if compute_target is not None:
            config.target = compute_target
        if environment is not None:
            config.environment = environment
        if max_run_duration_seconds is not None:
            config.max_run_duration_seconds = max_run_duration_seconds
        if docker_runtime_config is not None:
            config.docker = docker_runtime_config
        if distributed_job_config is not None:
            config.distributed_job_config = distributed_job_config
        self.run_config = config
        script, as_text = config.script_and_arguments()  # refuses no script
        self.run_config.script = script
        if config.command:
            self.run_config.arguments = as_text
        self.run_config.command = None

    # v1's attributes, kept in run_config
    @property
    def script(self) -> str:
        return str(self.run_config.script)

    @script.setter
    def script(self, value: str) -> None:
        self.run_config.script = value

    @property
    def arguments(self) -> list[str]:
        return [str(a) for a in self.run_config.arguments]

    @arguments.setter
    def arguments(self, value: list[Any]) -> None:
        self.run_config.arguments = list(value)

    @property
    def compute_target(self) -> str:
        return target_name(self.run_config.target)

    @compute_target.setter
    def compute_target(self, value: Any) -> None:
        self.run_config.target = value

    @property
    def environment(self) -> Environment:
        return self.run_config.environment

    @environment.setter
    def environment(self, value: Environment) -> None:
        self.run_config.environment = value

    @property
    def max_run_duration_seconds(self) -> int | None:
        return self.run_config.max_run_duration_seconds

    @max_run_duration_seconds.setter
    def max_run_duration_seconds(self, value: int | None) -> None:
        self.run_config.max_run_duration_seconds = value

    @property
    def docker_runtime_config(self) -> DockerConfiguration | None:
        return self.run_config.docker if (self.run_config._docker_set or self.run_config.docker.use_docker) else None

    @property
    def distributed_job_config(self) -> Any:
        return self.run_config.distributed_job_config

    def _rest_run_config(self, workspace: Workspace | None = None) -> dict[str, Any]:
        """The REST ``run_config`` payload (``src.run_config`` is v1's ``RunConfiguration`` object)."""
        return self.run_config.to_rest(workspace)

    def environment_spec(self) -> dict[str, Any]:
        """The environment as the run gets it: ``docker_runtime_config``, when given, decides Docker (v1)."""
        return self.run_config.environment_spec()

    def to_dict(self) -> dict[str, Any]:
        docker = self.docker_runtime_config
        return {
            "format": FORMAT,
            "source_directory": self.source_directory,
            "script": self.script,
            "arguments": self.arguments,
            "compute_target": self.compute_target,
            "environment": self.environment.to_spec(),
            "max_run_duration_seconds": self.max_run_duration_seconds,
            "docker_runtime_config": docker.to_dict() if docker else None,
        }

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Default location: ``<source_directory>/.aml/<script stem>.runconfig.json`` (jupyter-aml's JSON; v1's
        ``.runconfig`` YAML is ``src.run_config.save(path, name)``)."""
        target = (
            Path(path) if path else Path(self.source_directory) / ".aml" / f"{Path(self.script).stem}.runconfig.json"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        body = self.to_dict()
        body["source_directory"] = os.path.relpath(Path(self.source_directory).resolve(), _base(target).resolve())
        target.write_text(json.dumps(body, indent=2) + "\n")
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ScriptRunConfig:
        file = Path(path)
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read run configuration {str(file)!r}: {exc}") from None
        if data.get("format") != FORMAT:
            raise InvalidInput(
                f"{str(file)!r} is not a saved ScriptRunConfig",
                hint="create it with ScriptRunConfig.save(); a v1 .runconfig loads with RunConfiguration.load()")
        source = str((_base(file) / data.get("source_directory", ".")).resolve())
        return cls(
            source,
            data["script"],
            data.get("arguments"),
            compute_target=data.get("compute_target", "local"),
            environment=Environment.from_spec(data.get("environment", {})),
            max_run_duration_seconds=data.get("max_run_duration_seconds"),
            docker_runtime_config=DockerConfiguration.from_dict(data["docker_runtime_config"])
            if data.get("docker_runtime_config") else None,
        )

    def __repr__(self) -> str:
        return (
            f"ScriptRunConfig(source_directory={self.source_directory!r}, script={self.script!r}, "
            f"arguments={self.arguments!r}, compute_target={self.compute_target!r})"
        )


def _base(config_file: Path) -> Path:
    """Paths in a saved config are relative to its project folder (the parent of ``.aml/``)."""
    return config_file.parent.parent if config_file.parent.name == ".aml" else config_file.parent
