"""Environments from and to files, in v1's formats: requirements files, conda files, Docker images and
Dockerfiles, ``save_to_directory`` folders (``azureml_environment.json`` + ``conda_dependencies.yml``), and the
camelCase environment section that ``.runconfig`` files share with them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.sdk.conda import CondaDependencies

if TYPE_CHECKING:
    from jupyter_aml.sdk.environment import Environment

DEFINITION_FILE = "azureml_environment.json"
CONDA_FILE = "conda_dependencies.yml"
DOCKERFILE = "BaseDockerfile"


def _existing(path: str | os.PathLike[str], what: str, hint: str) -> Path:
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(f"{what} {str(file)!r} does not exist", hint=hint)
    return file


def from_pip_requirements(env: Environment, file_path: str | os.PathLike[str]) -> Environment:
    path = _existing(file_path, "requirements file", "pass the path to requirements.txt")
    lines = [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
    env.add_pip_packages([ln for ln in lines if ln])
    return env


def existing_conda_interpreter(conda_environment_name: str) -> str:
    """The Python of a conda environment of this machine (the environment is then user-managed: that
    interpreter as it is). Refused when conda is not installed or has no such environment."""
    conda = shutil.which("conda") or shutil.which("mamba") or shutil.which("micromamba")
    if conda is None:
        raise InvalidInput(
            f"Environment.from_existing_conda_environment({conda_environment_name!r}) needs conda, which is not "
            "installed on this machine (no conda, mamba or micromamba on PATH)",
            hint="export the environment on the machine that has it (conda env export > env.yml) and use "
                 "Environment.from_conda_specification(name, 'env.yml'), or name its interpreter with "
                 "env.python.interpreter_path")
    out = subprocess.run([conda, "env", "list", "--json"], capture_output=True, text=True, timeout=120,
                         stdin=subprocess.DEVNULL)
    try:
        prefixes = [Path(p) for p in json.loads(out.stdout).get("envs", [])]
    except ValueError:
        raise InvalidInput(f"{conda} env list --json did not answer with JSON", hint=out.stderr[-500:]) from None
    for prefix in prefixes:
        if prefix.name == conda_environment_name or str(prefix) == conda_environment_name:
            python = prefix / "bin" / "python"
            if python.is_file():
                return str(python)
    raise NotFound(f"conda environment {conda_environment_name!r} does not exist on this machine",
                   hint="conda env list shows the environments")


def docker_environment(env: Environment, *, image: str | None, dockerfile: str | os.PathLike[str] | None,
                       registry: Any, conda_file: str | os.PathLike[str] | None,
                       pip_file: str | os.PathLike[str] | None) -> Environment:
    """``Environment.from_docker_image`` / ``from_dockerfile``: the base of the environment's image (Docker
    runs, when ``env.docker.enabled``, and Docker web services), with optional conda or pip packages."""
    if conda_file is not None and pip_file is not None:
        raise InvalidInput("give conda_specification or pip_requirements, not both")
    if image is not None:
        env.docker.base_image = with_registry(image, registry)
    if dockerfile is not None:
        text = str(dockerfile)
        as_path = Path(text) if "\n" not in text and len(text) < 4096 else None
        if as_path is not None and as_path.is_file():
            text = as_path.read_text()
        elif "FROM" not in text.upper():
            raise InvalidInput(f"dockerfile {str(dockerfile)[:200]!r} is neither a file nor a Dockerfile's text",
                               hint="pass the Dockerfile's path or its text (with a FROM line)")
        env.docker.base_dockerfile = text
        env.docker.base_image = None
    if conda_file is not None:
        env.python.conda_dependencies = CondaDependencies(conda_file)
        env.python.user_managed_dependencies = False
    if pip_file is not None:
        from_pip_requirements(env, pip_file)
    return env


def with_registry(image: str, registry: Any) -> str:
    """v1's ``ContainerRegistry`` (or its dict): its address prefixes the image; credentials cannot be used,
    because nothing is pulled here."""
    if registry is None:
        return image
    def field(name: str) -> Any:
        return registry.get(name) if isinstance(registry, dict) else getattr(registry, name, None)

    if field("username") or field("password"):
        raise InvalidInput("container registry credentials are not used here: nothing is pulled, the image must "
                           "already be in the Docker engine", hint="docker pull/load the image, then leave out the "
                           "registry (or give only its address)")
    address = str(field("address") or "").rstrip("/")
    return f"{address}/{image}" if address and not image.startswith(address + "/") else image


# -- v1's camelCase environment definition ------------------------------------------------------------------
def to_v1_dict(env: Environment, conda_file: str | None = None) -> dict[str, Any]:
    """The environment as v1 writes it (``azureml_environment.json``, a .runconfig's ``environment``). Pip
    packages and the Python version go into the conda specification, inline or as ``conda_file``."""
    conda = merged_conda(env)
    docker = env.docker
    python: dict[str, Any] = {
        "userManagedDependencies": env.to_spec()["python"]["user_managed"],
        "interpreterPath": env.python.interpreter_path or "python",
        "condaDependenciesFile": conda_file if conda is not None else None,
        "baseCondaEnvironment": None,
    }
    if conda is not None and conda_file is None:
        python["condaDependencies"] = conda.as_dict()
    return {
        "name": env.name,
        "version": env.version,
        "environmentVariables": dict(env.environment_variables),
        "python": python,
        "docker": {"enabled": docker.enabled, "baseImage": env._base_image(), "baseDockerfile": docker.base_dockerfile,
                   "sharedVolumes": True, "shmSize": docker.shm_size, "arguments": list(docker.arguments),
                   "baseImageRegistry": {"address": None, "username": None, "password": None}},
        "inferencingStackVersion": None,
    }


def merged_conda(env: Environment) -> CondaDependencies | None:
    """The environment's conda dependencies with its pip packages and Python version folded in."""
    base = env.python.conda()
    if base is None and not env.python.pip_packages and not env.python.python_version:
        return None
    conda = CondaDependencies._from_section(base._section()) if base is not None else CondaDependencies()
    if env.python.python_version and not conda.get_python_version():
        conda.set_python_version(env.python.python_version)
    for package in env.python.pip_packages:
        conda.add_pip_package(package)
    return conda


def from_v1_dict(cls: type[Environment], data: dict[str, Any], base: Path | None = None) -> Environment:
    """Read v1's environment definition (and jupyter-aml's own, which is the same). ``condaDependenciesFile`` is
    relative to ``base`` (the folder of the file that names it)."""
    if not isinstance(data, dict):
        raise InvalidInput("an environment definition is a mapping (name, python, docker, environmentVariables)")
    env = cls(str(data.get("name") or "default"), None if data.get("version") is None else str(data["version"]))
    env.environment_variables = {str(k): str(v) for k, v in (data.get("environmentVariables") or {}).items()}
    python = data.get("python") or {}
    env.python.user_managed_dependencies = bool(python.get("userManagedDependencies", False))
    interpreter = python.get("interpreterPath")
    env.python.interpreter_path = None if interpreter in (None, "", "python", "python3") else str(interpreter)
    if python.get("baseCondaEnvironment"):
        raise InvalidInput("python.baseCondaEnvironment is not supported: there is no conda here",
                           hint="remove it; conda packages are installed from PyPI into a venv")
    if python.get("condaDependencies"):
        env.python.conda_dependencies = CondaDependencies(_underlying_structure=dict(python["condaDependencies"]))
    elif python.get("condaDependenciesFile"):
        file = Path(str(python["condaDependenciesFile"]))
        if not file.is_absolute():
            file = (base or Path.cwd()) / file
        if file.is_file():
            env.python.conda_dependencies = CondaDependencies(file)
        elif not env.python.user_managed_dependencies:
            raise InvalidInput(f"the conda file {str(file)!r} the definition names does not exist",
                               hint="put it there, or set userManagedDependencies: true")
    docker = data.get("docker") or {}
    env.docker.enabled = bool(docker.get("enabled", False))
    env.docker.base_image = docker.get("baseImage") or None
    env.docker.base_dockerfile = docker.get("baseDockerfile") or None
    env.docker.shm_size = docker.get("shmSize") or None
    env.docker.arguments = list(docker.get("arguments") or [])
    if env.docker.base_image:
        env.docker.base_image = with_registry(env.docker.base_image, docker.get("baseImageRegistry") or None)
    return env


def save_to_directory(env: Environment, path: str | os.PathLike[str], overwrite: bool = False) -> None:
    """v1's folder: ``azureml_environment.json`` and, with packages, ``conda_dependencies.yml`` beside it."""
    folder = Path(path)
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise Conflict(f"folder {str(folder)!r} is not empty", hint="pass overwrite=True to replace its files")
    folder.mkdir(parents=True, exist_ok=True)
    conda = merged_conda(env)
    definition = to_v1_dict(env, conda_file=CONDA_FILE if conda is not None else None)
    (folder / DEFINITION_FILE).write_text(json.dumps(definition, indent=4) + "\n")
    if conda is not None:
        conda.save(folder / CONDA_FILE)
    else:
        (folder / CONDA_FILE).unlink(missing_ok=True)


def load_from_directory(cls: type[Environment], path: str | os.PathLike[str]) -> Environment:
    folder = Path(path)
    file = folder / DEFINITION_FILE
    if not file.is_file():
        raise InvalidInput(f"{str(folder)!r} has no {DEFINITION_FILE}", hint="save one with env.save_to_directory()")
    try:
        data = json.loads(file.read_text())
    except ValueError as exc:
        raise InvalidInput(f"{str(file)!r} is not JSON: {exc}") from None
    env = from_v1_dict(cls, data, base=folder)
    if env.python.conda() is None and (folder / CONDA_FILE).is_file():
        env.python.conda_dependencies = CondaDependencies(folder / CONDA_FILE)
    return env
