"""``CondaDependencies`` (v1's ``azureml.core.conda_dependencies``): a conda environment file as an object.

These machines reach PyPI and no conda channel, so the conda packages are installed from PyPI under their PyPI
names (the table is ``jupyter_aml/envbuild/conda.py``, documented in docs/environments.md); ``python=3.X`` is
the Python the environment's venv is made with, which must be installed on the machine that runs it. An
unknown conda package is refused when the environment is used, naming the package.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from jupyter_aml.envbuild.conda import CondaError, python_pin, resolve
from jupyter_aml.errors import InvalidInput

DEFAULT_NAME = "project_environment"
_NAME = re.compile(r"^(?:[^:\s]+::)?([A-Za-z0-9_.-]+)")


def _name_of(spec: str) -> str:
    match = _NAME.match(spec.strip())
    return (match.group(1) if match else spec.strip()).lower()


def _pip_name_of(req: str) -> str:
    return re.split(r"[\s\[<>=!~;@]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


class CondaDependencies:
    """The conda packages, pip packages, channels and Python version of an environment.

    ``CondaDependencies(conda_dependencies_file_path="env.yml")`` reads a conda environment file;
    ``CondaDependencies.create(pip_packages=[...], conda_packages=[...], python_version="3.11")`` builds one.
    """

    def __init__(self, conda_dependencies_file_path: str | os.PathLike[str] | None = None,
                 _underlying_structure: dict[str, Any] | None = None) -> None:
        self.name = DEFAULT_NAME
        self._channels: list[str] = []
        self._conda: list[str] = []
        self._pip: list[str] = []
        if conda_dependencies_file_path is not None:
            _underlying_structure = _read_yaml(Path(conda_dependencies_file_path))
        if _underlying_structure is not None:
            self._load(_underlying_structure)

    # -- construction ----------------------------------------------------------------------------------
    @staticmethod
    def create(pip_packages: list[str] | None = None, conda_packages: list[str] | None = None,
               python_version: str | None = None, pin_sdk_version: bool = True,
               pip_indexurl: str | None = None) -> CondaDependencies:
        """v1's factory. ``pin_sdk_version`` needs nothing here: ``azureml.*`` is this installation's shim, so the
        SDK a run sees is always the version of the service's installation."""
        deps = CondaDependencies()
        if python_version:
            deps.set_python_version(python_version)
        for package in conda_packages or []:
            deps.add_conda_package(package)
        if pip_indexurl:
            deps.set_pip_option(f"--index-url {pip_indexurl}")
        for package in pip_packages or []:
            deps.add_pip_package(package)
        return deps

    def _load(self, data: dict[str, Any]) -> None:
        if not isinstance(data, dict):
            raise InvalidInput("a conda environment file is a mapping (name, channels, dependencies)")
        self.name = str(data.get("name") or DEFAULT_NAME)
        self._channels = [str(c) for c in data.get("channels") or []]
        for item in data.get("dependencies") or []:
            if isinstance(item, dict):
                unknown = set(item) - {"pip"}
                if unknown:
                    raise InvalidInput(f"conda dependency section {sorted(unknown)} is not supported",
                                       hint="list conda packages as strings and pip packages under 'pip:'")
                self._pip.extend(str(p) for p in item.get("pip") or [])
            else:
                self._conda.append(str(item))

    @classmethod
    def _from_section(cls, section: dict[str, Any]) -> CondaDependencies:
        deps = cls()
        deps.name = str(section.get("name") or DEFAULT_NAME)
        deps._channels = list(section.get("channels") or [])
        deps._conda = list(section.get("dependencies") or [])
        deps._pip = list(section.get("pip") or [])
        return deps

    # -- packages --------------------------------------------------------------------------------------
    @property
    def conda_packages(self) -> list[str]:
        return [c for c in self._conda if _name_of(c) != "python"]

    @property
    def pip_packages(self) -> list[str]:
        return [p for p in self._pip if not p.startswith("-")]

    @property
    def conda_channels(self) -> list[str]:
        return list(self._channels)

    @property
    def pip_options(self) -> list[str]:
        return [p for p in self._pip if p.startswith("-")]

    def add_conda_package(self, conda_package: str) -> None:
        """Add (or replace, by name) a conda package; it is installed from PyPI (see the module docstring)."""
        name = _name_of(conda_package)
        self._conda = [c for c in self._conda if _name_of(c) != name] + [conda_package.strip()]

    def remove_conda_package(self, conda_package: str) -> None:
        name = _name_of(conda_package)
        self._conda = [c for c in self._conda if _name_of(c) != name]

    def add_pip_package(self, pip_package: str) -> None:
        name = _pip_name_of(pip_package)
        self._pip = [p for p in self._pip if p.startswith("-") or _pip_name_of(p) != name] + [pip_package.strip()]

    def remove_pip_package(self, pip_package: str) -> None:
        name = _pip_name_of(pip_package)
        self._pip = [p for p in self._pip if p.startswith("-") or _pip_name_of(p) != name]

    def set_pip_option(self, pip_option: str) -> None:
        """A pip option line (``--extra-index-url URL``), passed to the installer's requirements file."""
        option = pip_option.strip()
        if not option.startswith("-"):
            raise InvalidInput(f"pip option {pip_option!r} does not start with '-'",
                               hint="e.g. set_pip_option('--extra-index-url https://...')")
        key = option.split()[0]
        self._pip = [p for p in self._pip if not p.startswith(key)] + [option]

    def add_channel(self, channel: str) -> None:
        """Kept in the file; ignored when the environment is built (packages come from PyPI here)."""
        if channel not in self._channels:
            self._channels.append(channel)

    def remove_channel(self, channel: str) -> None:
        self._channels = [c for c in self._channels if c != channel]

    def set_python_version(self, version: str) -> None:
        """``"3.11"`` (a patch level is accepted and not enforced): the Python the environment's venv is made
        with, which must be installed on the machine that runs it."""
        entry = f"python={version}"
        try:
            python_pin(entry)
        except CondaError as exc:
            raise InvalidInput(exc.message, hint=exc.hint) from None
        self._conda = [entry] + [c for c in self._conda if _name_of(c) != "python"]

    def get_python_version(self) -> str | None:
        for entry in self._conda:
            if _name_of(entry) == "python":
                rest = entry.strip()[len("python"):].lstrip("=<>! ")
                return rest or None
        return None

    def resolved_pip(self) -> list[str]:
        """What will be installed from PyPI, in order (conda packages mapped, then the pip section); refused
        with the package named when a conda package has no PyPI equivalent."""
        try:
            return list(resolve(self._conda, self._pip, self._channels).pip)
        except CondaError as exc:
            raise InvalidInput(exc.message, hint=exc.hint) from None

    # -- files -----------------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        deps: list[Any] = list(self._conda)
        if self._pip:
            deps.append({"pip": list(self._pip)})
        body: dict[str, Any] = {"name": self.name, "dependencies": deps}
        if self._channels:
            body["channels"] = list(self._channels)
        return body

    def _is_empty(self) -> bool:
        """Nothing added: v1's default ``CondaDependencies()`` (whose only package, azureml-defaults, the shim
        provides here)."""
        return not (self._channels or self._conda or self._pip)

    def _section(self) -> dict[str, Any]:
        """The REST form (``python.conda_dependencies``)."""
        return {"name": self.name, "channels": list(self._channels), "dependencies": list(self._conda),
                "pip": list(self._pip)}

    def serialize_to_string(self) -> str:
        import yaml  # PyYAML: jupyter-server's dependency; imported here so runs never need it

        head = ("# Conda environment specification. On jupyter-aml its conda packages are installed from PyPI\n"
                "# (docs/environments.md lists the names that map); channels are kept and ignored.\n")
        return head + str(yaml.safe_dump(self.as_dict(), sort_keys=False, default_flow_style=False))

    def save(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the file (default ``./conda_dependencies.yml``); returns its path."""
        target = Path(path) if path is not None else Path("conda_dependencies.yml")
        if target.is_dir():
            target = target / "conda_dependencies.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.serialize_to_string())
        return str(target)

    def save_to_file(self, base_directory: str | os.PathLike[str], conda_file_path: str | None = None) -> str:
        return self.save(Path(base_directory) / (conda_file_path or "conda_dependencies.yml"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CondaDependencies) and other._section() == self._section()

    def __repr__(self) -> str:
        return f"CondaDependencies(conda={self._conda!r}, pip={self._pip!r}, channels={self._channels!r})"


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise InvalidInput(f"cannot read conda file {str(path)!r}: {exc.strerror or exc}",
                           hint="pass the path to the environment's .yml file") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"conda file {str(path)!r} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"conda file {str(path)!r} is not a conda environment file (a mapping with dependencies)")
    return data
