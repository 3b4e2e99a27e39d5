"""The base image of an environment's ``docker.base_dockerfile``, built with the Docker SDK for the images that
are built from an environment outside runs: Docker web services' scoring images and compute instances' images.

Runs build the same image with the engine's command line (envbuild/container.py): the tag is the same,
``jupyter-aml/base:<sha256 of the Dockerfile's text>``, so a Dockerfile built for a run is reused by a web
service and the other way round. The build context is the Dockerfile alone; nothing is pulled, so its ``FROM``
image must be in the engine. An unchanged text reuses its image without building.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from collections.abc import Callable, Mapping
from typing import Any

from jupyter_aml.envbuild.container import BASE_REPO
from jupyter_aml.errors import InvalidInput

TAIL_LINES = 15
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class DockerfileBuildFailed(Exception):
    """``docker build`` of the Dockerfile failed; ``message`` says so in the user's terms, ``tail`` is its output."""

    def __init__(self, message: str, tail: str = "") -> None:
        super().__init__(message)
        self.message, self.tail = message, tail


def dockerfile_text(environment: Mapping[str, Any], what: str) -> str | None:
    """The environment's ``docker_base_dockerfile`` (None without one); with a ``docker_base_image`` too, the two
    say different things: refused, as for runs."""
    text = environment.get("docker_base_dockerfile") or None
    if text and environment.get("docker_base_image"):
        raise InvalidInput(f"the environment of {what} names both docker.base_image and docker.base_dockerfile",
                           hint="give one: the Dockerfile's FROM line names its base image")
    return str(text) if text else None


def dockerfile_tag(text: str) -> str:
    """The tag of the image built from this Dockerfile text (the one runs use too)."""
    return f"{BASE_REPO}:{hashlib.sha256(text.encode()).hexdigest()[:20]}"


def _tail(build_log: Any) -> str:
    lines: list[str] = []
    for chunk in build_log or ():
        if isinstance(chunk, dict):
            text = str(chunk.get("stream") or chunk.get("error") or "")
            lines += [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-TAIL_LINES:])


def _context(text: str) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def ensure_dockerfile_image(client: Any, text: str, *, what: str, log: Callable[[str], None]) -> str:
    """The tag of the Dockerfile's image, built now unless the engine has it (one build per text at a time in
    this process). Blocking: call it in a thread. Raises ``DockerfileBuildFailed`` when the build fails."""
    import docker.errors

    tag = dockerfile_tag(text)
    with _locks_guard:
        lock = _locks.setdefault(tag, threading.Lock())
    with lock:
        try:
            client.images.get(tag)
            log(f"reusing base image {tag} (built from the environment's Dockerfile)")
            return tag
        except docker.errors.ImageNotFound:
            pass
        log(f"building base image {tag} from the environment's Dockerfile for {what}")
        try:
            _, stream = client.images.build(fileobj=_context(text), custom_context=True, tag=tag, rm=True,
                                            forcerm=True, pull=False, network_mode="host",
                                            labels={"aml.base-dockerfile": "1"})
            for chunk in stream:
                line = str(chunk.get("stream") or "").rstrip()
                if line:
                    log(line)
        except docker.errors.BuildError as exc:
            raise DockerfileBuildFailed(
                f"building the environment's docker.base_dockerfile for {what} failed: {exc.msg} (its FROM image "
                "must be in the Docker engine: nothing is pulled here)", _tail(exc.build_log)) from None
        except docker.errors.APIError as exc:
            raise DockerfileBuildFailed(f"building the environment's docker.base_dockerfile for {what} failed: "
                                        f"{exc.explanation} (its FROM image must be in the Docker engine: nothing "
                                        "is pulled here)") from None
    return tag
