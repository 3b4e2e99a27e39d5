"""A compute instance's image built from a registered environment (v1: an instance set up with an environment).

``FROM`` the image built from the environment's ``docker.base_dockerfile`` (compute/dockerfile_base.py, the image
runs use too), else its ``docker_base_image`` (else the instance's image, else the default base), with the
environment's pip requirements in a venv (``/opt/venv``, ``--system-site-packages`` so the base image's own
packages stay importable, first on PATH so the instance's ``python3`` is the venv's) and its ``env_vars`` set.
Steps are exec-form only: a base image needs its ``python3`` (with venv and ensurepip), not a shell. pip trusts
the CA bundle the instance's runs trust (the host's, as scoring images do), given at build time only. The tag is
``jupyter-aml/instance:<hash>``, the hash covering the base image's id, the requirements, the variables and the
interpreter, so an unchanged environment reuses its image without building. Nothing is pulled.

The requirements are those of envbuild's one pip rule (``definition_spec``), as for scoring images.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tarfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jupyter_aml.envbuild.venv import definition_spec, parse_spec
from jupyter_aml.errors import ComputeUnavailable, InvalidInput

log = logging.getLogger(__name__)

IMAGE_REPO = "jupyter-aml/instance"
IMAGE_VERSION = 1  # bump when the way an image is built changes
VENV = "/opt/venv"
BUILD_CA = "/etc/jupyter-aml/build-ca.pem"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUILD_ARGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
              "http_proxy", "https_proxy", "no_proxy")
TAIL_LINES = 15
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class InstanceImage:
    tag: str
    docker_id: str
    content_hash: str
    base_image: str
    size: int
    built: bool  # False: an image with this hash was already in the engine

    def record(self, environment: Mapping[str, Any]) -> dict[str, Any]:
        """What the service records in the workspace's image registry."""
        return {"content_hash": self.content_hash, "tag": self.tag, "docker_id": self.docker_id,
                "base_image": self.base_image, "environment": dict(environment), "size": self.size}


def requirements(environment: Mapping[str, Any]) -> list[str]:
    """The pip requirements the image installs; none for a user-managed environment (its Python as it is)."""
    python = parse_spec(definition_spec(environment))
    return [] if python.user_managed else list(python.pip)


def env_vars(environment: Mapping[str, Any]) -> dict[str, str]:
    found = {str(k): str(v) for k, v in (environment.get("env_vars") or {}).items()}
    bad = sorted(k for k in found if not _ENV_NAME.fullmatch(k))
    if bad:
        raise InvalidInput(f"the environment's variable names are not valid: {', '.join(bad)}")
    return found


def image_hash(base_id: str, pip: list[str], variables: Mapping[str, str], python: str) -> str:
    body = {"v": IMAGE_VERSION, "base": base_id, "pip": pip, "env": dict(sorted(variables.items())),
            "python": python}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _quoted(value: str) -> str:
    """A Dockerfile ENV value: double-quoted, with ``$`` kept literal."""
    return json.dumps(value, ensure_ascii=False).replace("$", "\\$")


def dockerfile(base: str, base_path: str, python: str, pip: list[str], variables: Mapping[str, str],
               trust_ca: bool, build_args: list[str]) -> str:
    lines = [f"FROM {base}", *[f"ARG {name}" for name in build_args]]
    if pip:
        cert = ["--cert", BUILD_CA] if trust_ca else []
        lines += ([f"COPY ca.pem {BUILD_CA}"] if trust_ca else []) + [
            "COPY requirements.txt /opt/aml-requirements.txt",
            "RUN " + json.dumps([python, "-m", "venv", "--system-site-packages", VENV]),
            "RUN " + json.dumps([f"{VENV}/bin/python", "-m", "pip", "install", "--no-cache-dir",
                                 "--disable-pip-version-check", "--no-input", *cert, "-r",
                                 "/opt/aml-requirements.txt"]),
            f"ENV VIRTUAL_ENV={VENV} PATH={_quoted(f'{VENV}/bin:{base_path}')}"]
    lines += [f"ENV {name}={_quoted(value)}" for name, value in sorted(variables.items())]
    return "\n".join(lines) + "\n"


def _context(files: Mapping[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def _base_path(image: Any) -> str:
    for item in (image.attrs.get("Config") or {}).get("Env") or []:
        if str(item).startswith("PATH="):
            return str(item)[5:]
    return DEFAULT_PATH


def _tail(build_log: Any) -> str:
    lines: list[str] = []
    for chunk in build_log or ():
        if isinstance(chunk, dict):
            text = str(chunk.get("stream") or chunk.get("error") or "")
            lines += [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-TAIL_LINES:])


def instance_image(client: Any, environment: Mapping[str, Any], base: str, *, python: str, ca_bundle: bytes,
                   what: str, on_line: Callable[[str], None] | None = None) -> InstanceImage:
    """The environment's image for an instance, reused when its hash is tagged already, else built (one build
    per hash at a time in this process). Blocking: call it in a thread."""
    import docker.errors

    from jupyter_aml.compute.dockerfile_base import DockerfileBuildFailed, dockerfile_text, ensure_dockerfile_image

    text = dockerfile_text(environment, what)
    if text is not None:
        try:
            base = ensure_dockerfile_image(client, text, what=what,
                                           log=on_line if on_line is not None else lambda line: log.info("%s", line))
        except DockerfileBuildFailed as exc:
            raise ComputeUnavailable(f"{exc.message}" + (f"\n{exc.tail}" if exc.tail else ""),
                                     hint="fix the environment's docker.base_dockerfile and create the instance "
                                     "again") from None
    try:
        base_image = client.images.get(base)
    except docker.errors.ImageNotFound:
        raise InvalidInput(f"the base image {base!r} of {what} is not in the Docker engine, and nothing is pulled "
                           "here", hint="build or load it first (docker build, docker import or docker load), or "
                           "name an image the engine has in the environment's docker_base_image") from None
    pip = requirements(environment)
    variables = env_vars(environment)
    python = str(((environment.get("python") or {}).get("interpreter_path")) or python)
    digest = image_hash(str(base_image.id), pip, variables, python)
    tag = f"{IMAGE_REPO}:{digest[:20]}"
    with _locks_guard:
        lock = _locks.setdefault(tag, threading.Lock())
    with lock:
        try:
            image = client.images.get(tag)
            log.info("%s: reusing image %s (%s, environment unchanged)", what, tag, base)
            return InstanceImage(tag, str(image.id), digest, base, int(image.attrs.get("Size") or 0), built=False)
        except docker.errors.ImageNotFound:
            pass
        args = [name for name in BUILD_ARGS if os.environ.get(name)]
        trust_ca = bool(pip and ca_bundle)
        files = {"Dockerfile": dockerfile(base, _base_path(base_image), python, pip, variables, trust_ca,
                                          args).encode()}
        if pip:
            files["requirements.txt"] = ("\n".join(pip) + "\n").encode()
        if trust_ca:
            files["ca.pem"] = ca_bundle
        log.info("%s: building image %s from %s%s", what, tag, base, f" with {', '.join(pip)}" if pip else "")
        try:
            image, stream = client.images.build(
                fileobj=_context(files), custom_context=True, tag=tag, rm=True, forcerm=True, pull=False,
                network_mode="host", buildargs={name: os.environ[name] for name in args},
                labels={"aml.kind": "compute-instance-image", "aml.image": digest})
            for chunk in stream:
                text = str(chunk.get("stream") or "").rstrip()
                if text and on_line is not None:
                    on_line(text)
        except docker.errors.BuildError as exc:
            tail = _tail(exc.build_log)
            raise ComputeUnavailable(f"building the image of {what} from {base} failed: {exc.msg}"
                                     + (f"\n{tail}" if tail else ""),
                                     hint="fix the environment's pip requirements (or its base image) and create "
                                     "the instance again") from None
        except docker.errors.APIError as exc:
            raise ComputeUnavailable(f"building the image of {what} from {base} failed: {exc.explanation}") from None
        return InstanceImage(tag, str(image.id), digest, base, int(image.attrs.get("Size") or 0), built=True)
