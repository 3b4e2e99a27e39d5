"""``Environment``: the Python packages and variables a script runs with (Azure ML v1 names).

An environment's packages come from pip requirements, or a conda specification whose packages are installed from
PyPI (``CondaDependencies``, sdk/conda.py); ``docker`` runs the script in a container. Constructors from files,
Docker images and Dockerfiles, and the folder format of ``save_to_directory`` are in sdk/environment_files.py;
curated ``AzureML-*`` environments are served by the registry (envbuild/curated.py). docs/environments.md.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from jupyter_aml.envbuild import definition_user_managed
from jupyter_aml.envbuild.curated import curated_names
from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.conda import CondaDependencies
from jupyter_aml.sdk.runconfig import check_shm_size

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace


@dataclass
class PythonSection:
    """v1's ``Environment.python``. ``conda_dependencies`` (a ``CondaDependencies``) adds conda and pip packages;
    ``python_version`` ("3.11") or the conda file's ``python=3.11`` picks the interpreter its venv is made with."""

    user_managed_dependencies: bool = True
    interpreter_path: str | None = None
    pip_packages: list[str] = field(default_factory=list)
    python_version: str | None = None
    # v1 starts every environment with a CondaDependencies to add to (``env.python.conda_dependencies
    # .add_pip_package(...)``); one that nothing was added to counts as none (see conda()).
    conda_dependencies: CondaDependencies | None = field(default_factory=CondaDependencies)
    conda_dependencies_file: str | None = None  # read when the environment is used (relative to the working folder)
    base_conda_environment: str | None = None  # v1's; refused when set: there is no conda here

    def conda(self) -> CondaDependencies | None:
        """The conda specification the environment is built from; None when there is none or it is empty."""
        if self.conda_dependencies_file:
            return CondaDependencies(self.conda_dependencies_file)
        conda = self.conda_dependencies
        return None if conda is None or conda._is_empty() else conda


@dataclass
class ContainerRegistry:
    """v1's ``azureml.core.container_registry.ContainerRegistry``: where a base image comes from. Only the
    address is used here (it prefixes ``base_image``); credentials are refused, since nothing is pulled."""

    address: str | None = None
    username: str | None = None
    password: str | None = None
    registry_identity: Any = None


@dataclass
class DockerSection:
    """v1's ``Environment.docker``: ``enabled`` runs the script in a container of an image built from
    ``base_image`` or ``base_dockerfile`` (a base image alone is the base of Docker web services only);
    ``shm_size`` sizes its /dev/shm."""

    enabled: bool = False
    base_image: str | None = None
    shm_size: str | None = None
    base_dockerfile: str | None = None  # the Dockerfile's text
    base_image_registry: Any = field(default_factory=ContainerRegistry)  # its address prefixes base_image
    gpu_support: bool = False
    arguments: list[str] = field(default_factory=list)


class Environment:
    """``Environment(name)`` is user-managed (the submitting interpreter) until it gets pip or conda packages."""

    def __init__(self, name: str = "default", version: str | None = None) -> None:
        self.name = name
        self.version = version
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {}

    # -- constructors (implemented in environment_files.py) ------------------------------------------------
    @classmethod
    def from_pip_requirements(cls, name: str, file_path: str | os.PathLike[str]) -> Environment:
        from jupyter_aml.sdk.environment_files import from_pip_requirements

        return from_pip_requirements(cls(name), file_path)

    @classmethod
    def from_conda_specification(cls, name: str, file_path: str | os.PathLike[str]) -> Environment:
        """A managed environment from a conda file; its conda packages are installed from PyPI."""
        env = cls(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        env.python.user_managed_dependencies = False
        env._conda_spec()  # an unknown conda package is refused now, naming it
        return env

    @classmethod
    def from_existing_conda_environment(cls, name: str, conda_environment_name: str) -> Environment:
        from jupyter_aml.sdk.environment_files import existing_conda_interpreter

        env = cls(name)
        env.python.interpreter_path = existing_conda_interpreter(conda_environment_name)
        env.python.user_managed_dependencies = True
        return env

    @classmethod
    def from_docker_image(cls, name: str, image: str, container_registry: Any = None,
                          conda_specification: str | os.PathLike[str] | None = None,
                          pip_requirements: str | os.PathLike[str] | None = None) -> Environment:
        from jupyter_aml.sdk.environment_files import docker_environment

        return docker_environment(cls(name), image=image, dockerfile=None, registry=container_registry,
                                  conda_file=conda_specification, pip_file=pip_requirements)

    @classmethod
    def from_dockerfile(cls, name: str, dockerfile: str | os.PathLike[str],
                        conda_specification: str | os.PathLike[str] | None = None,
                        pip_requirements: str | os.PathLike[str] | None = None) -> Environment:
        """``dockerfile``: the Dockerfile's text or its path. Its FROM image must be in the Docker engine."""
        from jupyter_aml.sdk.environment_files import docker_environment

        return docker_environment(cls(name), image=None, dockerfile=dockerfile, registry=None,
                                  conda_file=conda_specification, pip_file=pip_requirements)

    @staticmethod
    def load_from_directory(path: str | os.PathLike[str]) -> Environment:
        from jupyter_aml.sdk.environment_files import load_from_directory

        return load_from_directory(Environment, path)

    def save_to_directory(self, path: str | os.PathLike[str], overwrite: bool = False) -> None:
        from jupyter_aml.sdk.environment_files import save_to_directory

        save_to_directory(self, path, overwrite)

    def add_pip_packages(self, packages: list[str]) -> Environment:
        self.python.pip_packages.extend(packages)
        self.python.user_managed_dependencies = False
        return self

    def clone(self, new_name: str) -> Environment:
        """A copy under another name, not registered (v1: ``env.clone("mine")``)."""
        env = copy.deepcopy(self)
        env.name, env.version = new_name, None
        env.__dict__.pop("_registered", None)
        return env

    # -- the spec the service gets -------------------------------------------------------------------------
    def _conda_spec(self) -> dict[str, Any] | None:
        conda = self.python.conda()
        if conda is None:
            return None
        conda.resolved_pip()  # refuses an unknown conda package here, before anything is sent
        return conda._section()

    def _python_version(self, conda: dict[str, Any] | None) -> str | None:
        from jupyter_aml.envbuild.conda import python_pin

        pinned = next((python_pin(c) for c in (conda or {}).get("dependencies", [])
                       if str(c).strip().lower().split("=")[0].strip() == "python"), None)
        wanted = self.python.python_version
        if wanted and pinned and wanted != pinned:
            raise InvalidInput(f"env.python.python_version is {wanted} and the conda dependencies say python={pinned}",
                               hint="give one Python version")
        return wanted or pinned

    def _base_image(self) -> str | None:
        """``docker.base_image`` behind ``docker.base_image_registry``'s address (credentials are refused)."""
        from jupyter_aml.sdk.environment_files import with_registry

        image = self.docker.base_image
        return with_registry(image, self.docker.base_image_registry) if image else None

    def _check_docker(self) -> None:
        docker = self.docker
        if self.python.base_conda_environment:
            raise InvalidInput("python.base_conda_environment is not supported: there is no conda here",
                               hint="leave it unset; conda packages are installed from PyPI into a venv")
        if docker.base_image and docker.base_dockerfile:
            raise InvalidInput("docker.base_image and docker.base_dockerfile are both set",
                               hint="set one: base_dockerfile builds the base image, base_image names one")
        if docker.arguments:
            raise InvalidInput("docker.arguments is not supported: extra docker run arguments could mount or reach "
                               "anything on the machine", hint="leave it empty; docker.shm_size is supported")
        if docker.gpu_support:
            raise InvalidInput("docker.gpu_support is not supported: these machines have no GPU runtime",
                               hint="leave it False")

    def to_spec(self) -> dict[str, Any]:
        self._check_docker()
        conda = self._conda_spec()
        python_version = self._python_version(conda)
        user_managed = definition_user_managed(self.python.user_managed_dependencies, self.python.pip_packages, conda)
        return {
            "name": self.name,
            "version": self.version,
            "python": {
                "user_managed": user_managed,
                "interpreter_path": self.python.interpreter_path,
                "pip": list(self.python.pip_packages),
                **({"conda_dependencies": conda} if conda else {}),
            },
            "env_vars": {k: str(v) for k, v in self.environment_variables.items()},
            "docker_base_image": self._base_image(),
            # only when set: a spec without Docker reads as before, also to a service that predates it
            **({"docker_enabled": True} if self.docker.enabled else {}),
            **({"docker_shm_size": check_shm_size(self.docker.shm_size)} if self.docker.shm_size else {}),
            **({"docker_base_dockerfile": self.docker.base_dockerfile} if self.docker.base_dockerfile else {}),
            **({"python_version": python_version} if python_version else {}),
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Environment:
        env = cls(spec.get("name", "default"), spec.get("version"))
        python = spec.get("python", {})
        conda = python.get("conda_dependencies")
        env.python = PythonSection(
            user_managed_dependencies=python.get("user_managed", True),
            interpreter_path=python.get("interpreter_path"),
            pip_packages=list(python.get("pip", [])),
            conda_dependencies=CondaDependencies._from_section(conda) if conda else CondaDependencies(),
        )
        if spec.get("python_version") and not (conda and env.python.conda_dependencies
                                               and env.python.conda_dependencies.get_python_version()):
            env.python.python_version = spec["python_version"]
        env.environment_variables = dict(spec.get("env_vars", {}))
        env.docker = DockerSection(enabled=bool(spec.get("docker_enabled", False)),
                                   base_image=spec.get("docker_base_image"), shm_size=spec.get("docker_shm_size"),
                                   base_dockerfile=spec.get("docker_base_dockerfile"))
        return env

    # -- the environment registry ------------------------------------------------------------------
    def _definition(self) -> dict[str, Any]:
        spec = self.to_spec()
        spec.pop("version", None)
        spec["python_version"] = spec.get("python_version") or self.python.python_version
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
        if env.python.python_version is None and not (env.python.conda_dependencies
                                                      and env.python.conda_dependencies.get_python_version()):
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
    def get(workspace: Workspace, name: str, version: str | int | None = None, label: str | None = None
            ) -> Environment:
        """A registered environment (the latest version unless ``version``), or a curated ``AzureML-*`` one."""
        if label is not None:
            raise InvalidInput("Environment.get(label=...) is not supported: environments have no labels here",
                               hint="pass version=")
        details = workspace._api.get_environment(workspace.name, name, version or None)
        return Environment._from_registered(cast(dict[str, Any], details))

    @staticmethod
    def list(workspace: Workspace) -> dict[str, Environment]:
        """The curated ``AzureML-*`` environments, then the latest version of each registered one, by name."""
        found: dict[str, Environment] = {}
        for name in curated_names():
            try:
                found[name] = Environment.get(workspace, name)
            except NotFound:  # a service that predates curated environments
                break
        items = workspace.list_environments(latest=True)
        found.update({item["name"]: Environment._from_registered(cast(dict[str, Any], item)) for item in items})
        return found

    def build(self, workspace: Workspace, image_build_compute: str | None = None) -> EnvironmentBuild:
        """Build the environment on the service (its venv, or its Docker image when ``docker.enabled``), so that
        runs need not wait. Registers it first. Returns a build whose ``wait_for_completion`` shows the log."""
        if image_build_compute is not None:
            raise InvalidInput("build(image_build_compute=...) is not supported: the service builds images itself",
                               hint="leave it out")
        registered = self if getattr(self, "_registered", None) else self.register(workspace)
        outcome = cast(dict[str, Any], workspace._api.build_environment(workspace.name, str(registered.name),
                                                                         str(registered.version)))
        return EnvironmentBuild(outcome)

    def build_local(self, workspace: Workspace, show_output: bool = True, **kwargs: Any) -> dict[str, Any]:
        """Build this environment's Python now, where the workspace's local runs and web services use it (a
        venv cached by its requirements), so that their first start need not wait. Registers it first (an
        unchanged definition keeps its version). Returns the build outcome; prints the build log."""
        unknown = set(kwargs) - {"useDocker", "use_docker", "pushImageToWorkspaceAcr"}
        if unknown:
            raise InvalidInput(f"build_local() got unexpected arguments {sorted(unknown)}")
        build = self.build(workspace)
        if show_output:
            build.wait_for_completion(show_output=True)
        return build.outcome

    def get_image_details(self, workspace: Workspace) -> dict[str, Any]:
        """v1's image details: the Docker image (for ``docker.enabled``) or venv the environment builds into.
        Builds it first when it is not built yet (an unchanged environment is reused at once)."""
        outcome = self.build(workspace).outcome
        image = outcome.get("image")
        return {
            "environment": outcome["environment"],
            "imageExistsInRegistry": True,
            "dockerImage": {"name": image, "registry": None} if image else None,
            "pythonEnvironment": {"interpreterPath": outcome["python"], "venvHash": outcome.get("venv_hash")},
        }

    def __repr__(self) -> str:
        docker = f", docker={self.docker.base_image or 'default image'!r}" if self.docker.enabled else ""
        conda = self.python.conda()
        packages = f", conda={conda.conda_packages!r}" if conda is not None else ""
        return (f"Environment(name={self.name!r}, version={self.version!r}, pip={self.python.pip_packages!r}"
                f"{packages}{docker})")


class EnvironmentBuild:
    """What ``Environment.build`` returns: the service has built (or found built) the environment."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        self.outcome = outcome
        self.status = "Succeeded"

    @property
    def log(self) -> list[str]:
        return list(self.outcome.get("log") or [])

    def wait_for_completion(self, show_output: bool = False) -> None:
        if show_output:
            for line in self.log:
                print(line)

    def get_status(self) -> str:
        return self.status

    def __repr__(self) -> str:
        return f"EnvironmentBuild(environment={self.outcome.get('environment')!r}, status={self.status!r})"


def environment_from_conda_file(path: str | os.PathLike[str], name: str = "inference-env") -> Environment:
    """The environment of ``InferenceConfig(conda_file=path)`` (v1): a managed environment from a conda file."""
    return Environment.from_conda_specification(name, path)
