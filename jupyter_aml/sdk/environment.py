"""``Environment``: the Python packages and variables a script runs with (Azure ML v1 names)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jupyter_aml.envbuild import definition_user_managed
from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.runconfig import check_shm_size

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace


@dataclass
class PythonSection:
    user_managed_dependencies: bool = True
    interpreter_path: str | None = None
    pip_packages: list[str] = field(default_factory=list)
    python_version: str | None = None  # "3.11": used by registered environments (web services)


@dataclass
class DockerSection:
    """v1's ``Environment.docker``: ``enabled`` runs the script in a container of an image built from
    ``base_image`` (which, alone, is the base of Docker web services only); ``shm_size`` sizes its /dev/shm."""

    enabled: bool = False
    base_image: str | None = None
    shm_size: str | None = None


class Environment:
    """``Environment(name)`` is user-managed (the submitting interpreter) until it gets pip packages."""

    def __init__(self, name: str = "default", version: str | None = None) -> None:
        self.name = name
        self.version = version
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {}

    @classmethod
    def from_pip_requirements(cls, name: str, file_path: str | os.PathLike[str]) -> Environment:
        path = Path(file_path)
        if not path.is_file():
            raise InvalidInput(
                f"requirements file {str(path)!r} does not exist", hint="pass the path to requirements.txt"
            )
        env = cls(name)
        lines = [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
        env.add_pip_packages([ln for ln in lines if ln])
        return env

    def add_pip_packages(self, packages: list[str]) -> Environment:
        self.python.pip_packages.extend(packages)
        self.python.user_managed_dependencies = False
        return self

    def to_spec(self) -> dict[str, Any]:
        user_managed = definition_user_managed(self.python.user_managed_dependencies, self.python.pip_packages)
        return {
            "name": self.name,
            "version": self.version,
            "python": {
                "user_managed": user_managed,
                "interpreter_path": self.python.interpreter_path,
                "pip": list(self.python.pip_packages),
            },
            "env_vars": {k: str(v) for k, v in self.environment_variables.items()},
            "docker_base_image": self.docker.base_image,
            # only when set: a spec without Docker reads as before, also to a service that predates it
            **({"docker_enabled": True} if self.docker.enabled else {}),
            **({"docker_shm_size": check_shm_size(self.docker.shm_size)} if self.docker.shm_size else {}),
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Environment:
        env = cls(spec.get("name", "default"), spec.get("version"))
        python = spec.get("python", {})
        env.python = PythonSection(
            user_managed_dependencies=python.get("user_managed", True),
            interpreter_path=python.get("interpreter_path"),
            pip_packages=list(python.get("pip", [])),
        )
        env.environment_variables = dict(spec.get("env_vars", {}))
        env.docker = DockerSection(enabled=bool(spec.get("docker_enabled", False)),
                                   base_image=spec.get("docker_base_image"), shm_size=spec.get("docker_shm_size"))
        return env

    # -- the environment registry ------------------------------------------------------------------
    def _definition(self) -> dict[str, Any]:
        spec = self.to_spec()
        spec.pop("version", None)
        spec["python_version"] = self.python.python_version
        return spec

    def register(self, workspace: Workspace) -> Environment:
        """Register this definition under its name: an unchanged definition keeps the latest version,
        anything else becomes the next version. Returns the registered environment (with its version)."""
        details = workspace._api.register_environment(workspace.name, cast(T.EnvironmentDefinition,
                                                                           self._definition()))
        return Environment._from_registered(cast(dict[str, Any], details))

    @classmethod
    def _from_registered(cls, details: dict[str, Any]) -> Environment:
        env = cls.from_spec(details["spec"])
        env.name, env.version = details["name"], str(details["version"])
        env.python.python_version = details["spec"].get("python_version")
        env._registered = details  # type: ignore[attr-defined]
        return env

    def get_record(self) -> T.RegisteredEnvironment:
        """The registry's record of this environment (name, version, spec, spec hash, created), as served."""
        record: T.RegisteredEnvironment | None = getattr(self, "_registered", None)
        if record is None:
            raise InvalidInput(
                f"environment {self.name!r} is not registered",
                hint="register it with env.register(ws), or get a registered one with Environment.get(ws, name)",
            )
        return record

    @staticmethod
    def get(workspace: Workspace, name: str, version: str | int | None = None) -> Environment:
        details = workspace._api.get_environment(workspace.name, name, version or None)
        return Environment._from_registered(cast(dict[str, Any], details))

    @staticmethod
    def list(workspace: Workspace) -> dict[str, Environment]:
        """The latest version of each registered environment, by name."""
        items = workspace.list_environments(latest=True)
        return {item["name"]: Environment._from_registered(cast(dict[str, Any], item)) for item in items}

    def build_local(self, workspace: Workspace, show_output: bool = True, **_: Any) -> dict[str, Any]:
        """Build this environment's Python now, where the workspace's local runs and web services use it (a
        venv cached by its requirements), so that their first start need not wait. Registers it first (an
        unchanged definition keeps its version). Returns the build outcome; prints the build log."""
        registered = self if getattr(self, "_registered", None) else self.register(workspace)
        outcome = cast(dict[str, Any], workspace._api.build_environment(workspace.name, str(registered.name),
                                                                         str(registered.version)))
        if show_output:
            for line in outcome["log"]:
                print(line)
        return outcome

    def __repr__(self) -> str:
        docker = f", docker={self.docker.base_image or 'default image'!r}" if self.docker.enabled else ""
        return f"Environment(name={self.name!r}, version={self.version!r}, pip={self.python.pip_packages!r}{docker})"
