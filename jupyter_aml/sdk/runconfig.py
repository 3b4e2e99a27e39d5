"""``DockerConfiguration`` (v1's ``azureml.core.runconfig``): run the script in a container of its environment.

``ScriptRunConfig(..., docker_runtime_config=DockerConfiguration(use_docker=True))`` turns Docker on for that
run whatever the environment's ``docker.enabled`` says; without it, ``Environment.docker.enabled`` decides.
See docs/docker-runs.md.
"""

from __future__ import annotations

import re
from typing import Any

from jupyter_aml.errors import InvalidInput

SHM_SIZE = re.compile(r"^[1-9][0-9]{0,5}[bkmg]?$")


def check_shm_size(value: str | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if not SHM_SIZE.fullmatch(text):
        raise InvalidInput(f"shm_size {value!r} is not a size", hint='give a number with b, k, m or g, e.g. "2g"')
    return text


class DockerConfiguration:
    """Whether a run's script runs in Docker, and the container's shared memory size (``/dev/shm``)."""

    def __init__(self, use_docker: bool = False, arguments: list[str] | None = None, shm_size: str | None = None,
                 shared_volumes: bool = True) -> None:
        if arguments:
            raise InvalidInput(
                "DockerConfiguration(arguments=...) is not supported: extra docker run arguments could mount or "
                "reach anything on the machine", hint="leave arguments out; shm_size is supported")
        if not isinstance(use_docker, bool):
            raise InvalidInput(f"use_docker must be True or False, got {use_docker!r}")
        self.use_docker = use_docker
        self.arguments: list[str] = []
        self.shm_size = check_shm_size(shm_size)
        self.shared_volumes = shared_volumes  # v1's flag; the run folder is always mounted here

    def to_dict(self) -> dict[str, Any]:
        return {"use_docker": self.use_docker, "shm_size": self.shm_size}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DockerConfiguration:
        return cls(use_docker=bool(data.get("use_docker", False)), shm_size=data.get("shm_size"))

    def __repr__(self) -> str:
        return f"DockerConfiguration(use_docker={self.use_docker!r}, shm_size={self.shm_size!r})"
