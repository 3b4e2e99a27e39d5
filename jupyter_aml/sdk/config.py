"""``ScriptRunConfig``: what to run, where, and with which environment; saved to and loaded from a file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.environment import Environment
from jupyter_aml.sdk.runconfig import DockerConfiguration

FORMAT = "jupyter-aml/runconfig@1"


class ScriptRunConfig:
    def __init__(
        self,
        source_directory: str | os.PathLike[str] = ".",
        script: str | None = None,
        arguments: list[Any] | None = None,
        compute_target: Any = "local",
        environment: Environment | None = None,
        max_run_duration_seconds: int | None = None,
        command: list[str] | None = None,
        docker_runtime_config: DockerConfiguration | None = None,
    ) -> None:
        if command and not script:  # Azure's command=["python", "train.py", ...] form
            parts = [str(c) for c in command]
            if parts and parts[0].startswith("python"):
                parts = parts[1:]
            script, arguments = parts[0], parts[1:]
        if not script:
            raise InvalidInput(
                "ScriptRunConfig needs a script", hint="ScriptRunConfig(source_directory, script='train.py')"
            )
        self.source_directory = str(source_directory)
        self.script = script
        self.arguments = [str(a) for a in (arguments or [])]
        self.compute_target = getattr(compute_target, "name", compute_target) or "local"
        self.environment = environment or Environment()
        self.max_run_duration_seconds = max_run_duration_seconds
        if docker_runtime_config is not None and not isinstance(docker_runtime_config, DockerConfiguration):
            raise InvalidInput("docker_runtime_config must be a DockerConfiguration",
                               hint="from azureml.core.runconfig import DockerConfiguration")
        self.docker_runtime_config = docker_runtime_config

    def environment_spec(self) -> dict[str, Any]:
        """The environment as the run gets it: ``docker_runtime_config``, when given, decides Docker (v1)."""
        spec = self.environment.to_spec()
        docker = self.docker_runtime_config
        if docker is not None:
            spec["docker_enabled"] = docker.use_docker
            if docker.shm_size:
                spec["docker_shm_size"] = docker.shm_size
        return spec

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "source_directory": self.source_directory,
            "script": self.script,
            "arguments": self.arguments,
            "compute_target": self.compute_target,
            "environment": self.environment.to_spec(),
            "max_run_duration_seconds": self.max_run_duration_seconds,
            "docker_runtime_config": self.docker_runtime_config.to_dict() if self.docker_runtime_config else None,
        }

    def run_config(self) -> dict[str, Any]:
        """The REST ``run_config`` payload."""
        body = {k: v for k, v in self.to_dict().items()
                if k not in ("format", "source_directory", "docker_runtime_config")}
        body["environment"] = self.environment_spec()
        return body

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Default location: ``<source_directory>/.aml/<script stem>.runconfig.json``."""
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
                f"{str(file)!r} is not a saved ScriptRunConfig", hint="create it with ScriptRunConfig.save()"
            )
        source = str((_base(file) / data.get("source_directory", ".")).resolve())
        return cls(
            source,
            data["script"],
            data.get("arguments"),
            data.get("compute_target", "local"),
            Environment.from_spec(data.get("environment", {})),
            data.get("max_run_duration_seconds"),
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
