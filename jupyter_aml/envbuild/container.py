"""Docker images for runs whose environment turns Docker on (v1's ``DockerConfiguration(use_docker=True)``).

Stdlib only, the ``docker`` CLI through subprocess: the agent imports this inside run environments.
Without pip requirements the base image runs as it is (its ``python3``, or ``interpreter_path``), as v1's
user-managed dependencies do. With them, an image ``jupyter-aml/env:<hash>`` is built ``FROM`` the base image
with a venv (``--system-site-packages``: the base image's own packages stay importable) in ``/opt/venv`` holding
the requirements, trusting this machine's CA files. The hash covers the base image's id, the requirements and
the CA files, so an unchanged environment reuses its image; two runs building the same one build it once
(a file lock in the environment cache). Nothing is pulled: a base image missing from the engine is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_aml.envbuild.venv import PROBE, EnvBuildError, LogFn, _FileLock, parse_spec, run_logged

DEFAULT_BASE_IMAGE = "python:3.11-slim"  # the same default as Docker web services
BASE_IMAGE_VAR = "AML_DOCKER_BASE_IMAGE"  # the agent's default base image, when the environment names none
CA_FILES_VAR = "AML_DOCKER_CA_FILES"  # os.pathsep-separated CA files an image trusts (default: see ca_files)
CA_DIR = Path("/usr/local/share/ca-certificates")
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
IMAGE_REPO = "jupyter-aml/env"
BASE_REPO = "jupyter-aml/base"  # images built from an environment's base_dockerfile
IMAGE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]{0,511}")
VENV = "/opt/venv"
CA_IN_IMAGE = "/opt/aml-ca.pem"
MARKER_IN_IMAGE = "/opt/aml-image.json"
IMAGE_VERSION = 2  # the recipe: a change builds every image anew
BUILD_ARGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
              "http_proxy", "https_proxy", "no_proxy")
NO_ENGINE_FIX = ("start the engine (as root: `dockerd &`), or point DOCKER_HOST at one; runs started by the "
                 "bubblewrap runner cannot reach it (the engine's socket is hidden from them)")


@dataclass(frozen=True)
class DockerSettings:
    base_image: str
    shm_size: str | None = None
    base_dockerfile: str | None = None  # v1's docker.base_dockerfile: built first, then used as the base image


@dataclass(frozen=True)
class PreparedImage:
    docker: str  # the docker CLI
    image: str  # what ``docker run`` starts (a tag, or the base image itself)
    python: str  # the interpreter inside it
    built: bool = False
    spec_hash: str | None = None


def docker_settings(spec: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None) -> DockerSettings | None:
    """None unless the spec turns Docker on (``docker_enabled``); a base image alone changes nothing."""
    spec = spec or {}
    if spec.get("docker_enabled") is not True:
        return None
    env = os.environ if environ is None else environ
    dockerfile_text = spec.get("docker_base_dockerfile") or None
    if dockerfile_text and spec.get("docker_base_image"):
        raise EnvBuildError("the environment names both docker.base_image and docker.base_dockerfile: give one")
    base = spec.get("docker_base_image") or env.get(BASE_IMAGE_VAR) or DEFAULT_BASE_IMAGE
    if dockerfile_text:
        base = f"{BASE_REPO}:{hashlib.sha256(str(dockerfile_text).encode()).hexdigest()[:20]}"
    if not IMAGE_REF.fullmatch(str(base)):
        raise EnvBuildError(f"docker_base_image {base!r} is not an image reference (name[:tag] or name@digest)")
    return DockerSettings(base_image=str(base), shm_size=spec.get("docker_shm_size") or None,
                          base_dockerfile=str(dockerfile_text) if dockerfile_text else None)


def docker_cli(environ: Mapping[str, str] | None = None) -> str:
    """The ``docker`` client, after checking that an engine answers; else a clear error naming the fix."""
    env = os.environ if environ is None else environ
    found = shutil.which("docker", path=env.get("PATH"))
    if found is None:
        raise EnvBuildError("this run uses Docker, but the docker CLI is not on the agent's PATH: install it "
                            "(apt-get install docker.io) on the machine that runs the run, or turn Docker off "
                            "(DockerConfiguration(use_docker=False))")
    try:
        out = subprocess.run([found, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL, env=dict(env))
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvBuildError(f"this run uses Docker, but no Docker engine answers ({exc}): {NO_ENGINE_FIX}") from None
    if out.returncode != 0 or not out.stdout.strip():
        reason = (out.stderr.strip().splitlines() or ["no answer"])[-1]
        raise EnvBuildError(f"this run uses Docker, but no Docker engine answers ({reason}): {NO_ENGINE_FIX}",
                            out.stderr[-2000:])
    return found


def image_id(docker: str, ref: str) -> str | None:
    """The engine's id of image ``ref``, None when the engine does not have it."""
    out = subprocess.run([docker, "image", "inspect", "--format", "{{.Id}}", ref], capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def ca_files(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The CA files an image trusts: ``$AML_DOCKER_CA_FILES``, else this machine's bundle (``$SSL_CERT_FILE``
    or Debian's) and the extra CAs in /usr/local/share/ca-certificates (a TLS-inspecting proxy's)."""
    env = os.environ if environ is None else environ
    if env.get(CA_FILES_VAR):
        named = [Path(p) for p in env[CA_FILES_VAR].split(os.pathsep) if p]
        missing = [str(p) for p in named if not p.is_file()]
        if missing:
            raise EnvBuildError(f"{CA_FILES_VAR} names CA files that do not exist: {', '.join(missing)}")
        return named
    bundle = Path(env["SSL_CERT_FILE"]) if env.get("SSL_CERT_FILE") else SYSTEM_BUNDLE
    found = [bundle] if bundle.is_file() else []
    found += sorted(CA_DIR.glob("*.crt")) if CA_DIR.is_dir() else []
    return found


def dockerfile(base: str, trust_ca: bool, build_args: list[str], python: str = "python3") -> str:
    """Exec-form steps only: a base image needs no shell, just its ``python3`` (with venv and ensurepip)."""
    lines = [f"FROM {base}", *[f"ARG {name}" for name in build_args], f"COPY aml-image.json {MARKER_IN_IMAGE}"]
    if trust_ca:
        lines += [f"COPY ca.pem {CA_IN_IMAGE}",
                  f"ENV SSL_CERT_FILE={CA_IN_IMAGE} PIP_CERT={CA_IN_IMAGE} REQUESTS_CA_BUNDLE={CA_IN_IMAGE}"]
    lines += ["COPY requirements.txt /opt/aml-requirements.txt",
              f'RUN [{json.dumps(python)}, "-m", "venv", "--system-site-packages", "{VENV}"]',
              f'RUN ["{VENV}/bin/python", "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", '
              '"--no-input", "-r", "/opt/aml-requirements.txt"]',
              f"ENV VIRTUAL_ENV={VENV} PATH={VENV}/bin:$PATH"]  # the base image's PATH, substituted by the builder
    return "\n".join(lines) + "\n"


def image_hash(base_id: str, pip: tuple[str, ...], ca: bytes, python: str = "python3") -> str:
    body = {"v": IMAGE_VERSION, "base": base_id, "pip": list(pip), "ca": hashlib.sha256(ca).hexdigest(),
            **({"python": python} if python != "python3" else {})}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def prepare_image(spec: Mapping[str, Any] | None, settings: DockerSettings, cache_dir: Path, *, log: LogFn,
                  cancel: threading.Event | None = None) -> PreparedImage:
    """The image a Docker run starts: its base image as it is, or one built (or reused) with its requirements."""
    docker = docker_cli()
    base = settings.base_image
    if settings.base_dockerfile is not None:
        build_base_image(docker, settings.base_dockerfile, base, cache_dir, log=log, cancel=cancel)
    base_id = image_id(docker, base)
    if base_id is None:
        raise EnvBuildError(f"the base image {base!r} is not in the Docker engine, and nothing is pulled here: "
                            f"load or build it first (docker load / docker import / docker build -t {base} ...), "
                            "or name one the engine has in Environment.docker.base_image")
    python = parse_spec(spec)
    for note in python.notes:
        log(note)
    if python.python_version:
        check_image_python(docker, base, python.interpreter or "python3", python.python_version)
    if python.user_managed:
        log(f"Docker run in {base} as it is (user-managed dependencies)")
        return PreparedImage(docker, base, python.interpreter or "python3")
    files = ca_files()
    ca = b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in files)
    base_python = python.interpreter or "python3"  # interpreter_path: the image's Python the venv is made with
    digest = image_hash(base_id, python.pip, ca, base_python)
    tag = f"{IMAGE_REPO}:{digest[:20]}"
    ready = PreparedImage(docker, tag, f"{VENV}/bin/python", spec_hash=digest)
    if image_id(docker, tag):
        log(f"reusing image {tag} ({base} with {', '.join(python.pip)})")
        return ready
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _FileLock(cache_dir / f"docker-{digest}.lock", log, cancel):
        if image_id(docker, tag):
            log(f"reusing image {tag}, built by another run")
            return ready
        _build(docker, tag, base, python.pip, ca, digest, cache_dir, log, cancel, base_python)
    return PreparedImage(docker, tag, ready.python, built=True, spec_hash=digest)


def build_base_image(docker: str, text: str, tag: str, cache_dir: Path, *, log: LogFn,
                     cancel: threading.Event | None = None) -> None:
    """Build the image of an environment's ``base_dockerfile`` (tagged by the hash of its text; reused while the
    text is unchanged). The build context holds the Dockerfile alone; its FROM image must be in the engine."""
    if image_id(docker, tag):
        log(f"reusing base image {tag} (built from the environment's Dockerfile)")
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _FileLock(cache_dir / f"docker-{tag.rsplit(':', 1)[1]}.lock", log, cancel):
        if image_id(docker, tag):
            return
        with tempfile.TemporaryDirectory(prefix=".dockerfile-", dir=cache_dir) as context:
            (Path(context) / "Dockerfile").write_text(text)
            log(f"building base image {tag} from the environment's Dockerfile")
            code, tail = run_logged([docker, "build", "--network", "host", "--label", "aml.base-dockerfile=1",
                                     "-t", tag, context], log, cancel)
    if code != 0:
        raise EnvBuildError(f"building the environment's base_dockerfile failed (docker build exited with code {code}):"
                            " its FROM image must be in the engine (nothing is pulled here); see the agent log", tail)


def check_image_python(docker: str, image: str, python: str, wanted: str) -> None:
    """Refuse an image whose Python is not the version the environment asks for (nothing can install another)."""
    cmd = [docker, "run", "--rm", "--pull", "never", "--network", "none", "--entrypoint", python, image, "-c",
           "import sys; print('%d.%d' % sys.version_info[:2])"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    found = out.stdout.strip().splitlines()[-1:] if out.returncode == 0 else []
    if found != [wanted]:
        have = f"Python {found[0]}" if found else f"no working {python} (exit code {out.returncode})"
        raise EnvBuildError(f"the environment needs Python {wanted}, and the image {image!r} has {have}: pick a base "
                            "image with that Python, or drop the version", out.stderr[-2000:])


def _build(docker: str, tag: str, base: str, pip: tuple[str, ...], ca: bytes, digest: str, cache_dir: Path,
           log: LogFn, cancel: threading.Event | None, python: str) -> None:
    args = [name for name in BUILD_ARGS if os.environ.get(name)]
    with tempfile.TemporaryDirectory(prefix=f".docker-{digest[:12]}-", dir=cache_dir) as context:
        folder = Path(context)
        (folder / "Dockerfile").write_text(dockerfile(base, bool(ca), args, python))
        (folder / "requirements.txt").write_text("\n".join(pip) + "\n")
        (folder / "aml-image.json").write_text(json.dumps({"spec_hash": digest, "base_image": base,
                                                           "pip": list(pip)}, indent=1) + "\n")
        if ca:
            (folder / "ca.pem").write_bytes(ca)
        log(f"building image {tag} from {base} with {', '.join(pip)}")
        cmd = [docker, "build", "--network", "host", "--label", f"aml.env-hash={digest}", "-t", tag,
               *[part for name in args for part in ("--build-arg", name)], str(folder)]
        code, tail = run_logged(cmd, log, cancel)
    if code != 0:
        raise EnvBuildError(f"building the run's image from {base} failed (docker build exited with code {code}): "
                            "the base image needs python3 with the venv module; see the agent log", tail)
    log(f"image {tag} built")


def probe_image(docker: str, image: str, python: str, cache_dir: Path) -> dict[str, bool]:
    """Does ``python`` in ``image`` have a real ``azureml.core``? (cached per image id and interpreter)."""
    ident = image_id(docker, image) or image
    key = hashlib.sha256(f"{ident}\0{python}".encode()).hexdigest()[:24]
    cached = cache_dir / "docker-probes" / f"{key}.json"
    try:
        return {k: bool(v) for k, v in json.loads(cached.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        pass
    cmd = [docker, "run", "--rm", "--pull", "never", "--network", "none", "--entrypoint", python, image, "-c", PROBE]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise EnvBuildError(f"the interpreter {python!r} does not start in the image {image!r} (exit code "
                            f"{out.returncode}): the image needs a Python 3; name it with python.interpreter_path",
                            out.stderr[-4000:])
    try:
        result = {k: bool(v) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}
    except (ValueError, IndexError, AttributeError) as exc:
        raise EnvBuildError(f"unexpected answer from {python} in {image}", out.stdout[-2000:]) from exc
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result))
    return result
