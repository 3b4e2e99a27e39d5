"""Replicas as Docker containers of a scoring image (the docker SDK against the machine's engine).

The image is built from the environment (base image, pip requirements, variables), the model files and the
scoring code, plus this installation's ``jupyter_aml`` package (for the replica server and the azureml shim),
and is tagged ``jupyter-aml/score:<hash>`` where the hash covers all of it. The workspace records every
image it built; an unchanged combination reuses its image without building. Nothing is pulled: the base
image must exist in the engine (``$JUPYTER_AML_DOCKER_BASE_IMAGE``, else the environment's
``docker_base_image``, else ``python:3.11-slim``); an environment's ``docker.base_dockerfile`` is built first
(compute/dockerfile_base.py: the same image runs use) and the scoring image is built FROM it. Containers
publish the replica port on 127.0.0.1 and carry labels naming the workspace root and service, so leftovers of a
crashed service are removed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import hashlib
import io
import json
import os
import secrets
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_aml.core.deployments import RevisionPlan
from jupyter_aml.envbuild.venv import PKG_DIR, definition_spec, parse_spec
from jupyter_aml.serving.backends import (
    REPLICA_MAX_BYTES,
    LogFn,
    PreparedRevision,
    ReplicaFailed,
    ReplicaHandle,
    ReplicaLauncher,
)

APP_DIR = "/var/azureml-app"
MODELS_DIR = f"{APP_DIR}/azureml-models"
STATUS_DIR = "/var/aml-status"
PORT = 5001
DEFAULT_BASE = "python:3.11-slim"
CA_DIR = "/usr/local/share/ca-certificates"


def _client() -> Any:
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ReplicaFailed("the docker SDK is not installed (pip install docker)") from exc
    try:
        client = docker.from_env(timeout=120)
        client.ping()
        return client
    except Exception as exc:
        raise ReplicaFailed(f"no Docker engine answers: {exc}; start dockerd (see docs/deployments.md)") from exc


def _package_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(PKG_DIR.rglob("*.py")):
        if "labextension" in path.parts or "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(PKG_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def image_hash(plan: RevisionPlan, base: str, package: str) -> str:
    from jupyter_aml.serving.materialize import model_content_hash

    body = {"v": 1, "base": base, "environment": plan.environment_hash, "snapshot": plan.snapshot_id,
            "models": [[m.name, m.version, model_content_hash(m)] for m in plan.models], "package": package}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def image_requirements(environment: dict[str, Any]) -> list[str]:
    """The requirements the image pip-installs into its own venv, by the one pip rule; none means the base
    image's Python is used as it is (a user-managed definition)."""
    python = parse_spec(definition_spec(environment))
    return [] if python.user_managed else list(python.pip)


def _dockerfile(base: str, pip: list[str], trust_ca: bool) -> str:
    lines = [f"FROM {base}", "COPY aml /opt/aml", f"COPY app {APP_DIR}", f"COPY models {MODELS_DIR}"]
    python = "python3"
    if trust_ca:
        lines += [f"COPY ca {CA_DIR}", "ENV PIP_CERT=/opt/aml-ca.pem SSL_CERT_FILE=/opt/aml-ca.pem",
                  f"RUN cat {CA_DIR}/*.crt > /opt/aml-ca.pem"]
    if pip:
        lines += ["COPY requirements.txt /opt/aml-requirements.txt",
                  "RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir "
                  "--disable-pip-version-check -r /opt/aml-requirements.txt"]
        python = "/opt/venv/bin/python"
    lines += ["ENV PYTHONPATH=/opt/aml PYTHONUNBUFFERED=1", f"WORKDIR {APP_DIR}", f"EXPOSE {PORT}",
              f'CMD ["{python}", "-m", "jupyter_aml.serving.replica"]']
    return "\n".join(lines) + "\n"


def _context(rev_dir: Path, dockerfile: str, pip: list[str], ca_files: list[Path]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        def add_bytes(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))

        add_bytes("Dockerfile", dockerfile.encode())
        if pip:
            add_bytes("requirements.txt", ("\n".join(pip) + "\n").encode())
        for ca in ca_files:
            add_bytes(f"ca/{ca.name}", ca.read_bytes())
        tar.add(rev_dir / "src", arcname="app")
        tar.add(rev_dir / "azureml-models", arcname="models")
        tar.add(PKG_DIR, arcname="aml/jupyter_aml", filter=lambda t: None if (
            "__pycache__" in t.name or "labextension" in t.name or t.name.endswith(".pyc")) else t)
    buffer.seek(0)
    return buffer


class Container(ReplicaHandle):
    def __init__(self, container: Any, status_dir: Path, tail: collections.deque[str]) -> None:
        self.container = container
        self.status_dir = status_dir
        self.tail = tail
        self._exit: int | None = None
        self._pid: int | None = None

    @property
    def pid(self) -> int | None:
        return self._pid

    def exit_code(self) -> int | None:
        return self._exit

    def failure(self) -> str:
        try:
            error = json.loads((self.status_dir / "status.json").read_text()).get("error")
        except (OSError, ValueError):
            error = None
        if error:
            return str(error)
        last = " | ".join(list(self.tail)[-5:])
        return f"the container exited with code {self._exit}" + (f"; last output: {last}" if last else "")

    async def terminate(self, grace: float) -> None:
        def stop() -> None:
            with contextlib.suppress(Exception):
                self.container.stop(timeout=int(max(1, grace)))
            _remove_quietly(self.container)

        await asyncio.to_thread(stop)

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.container.kill()


class DockerLauncher(ReplicaLauncher):
    compute_type = "docker"

    async def prepare(self, plan: RevisionPlan, rev_dir: Path, log: LogFn) -> PreparedRevision:
        return await asyncio.to_thread(self._prepare, plan, rev_dir, log)

    def _prepare(self, plan: RevisionPlan, rev_dir: Path, log: LogFn) -> PreparedRevision:
        from jupyter_aml.serving.materialize import materialize_model, materialize_source, model_layout

        client = _client()
        self._remove_leftovers(client, plan.workspace, plan.name)
        env_spec = plan.environment
        base = self._base_image(client, plan, log)
        try:
            client.images.get(base)
        except Exception:
            raise ReplicaFailed(f"the base image {base!r} is not in the Docker engine and nothing is pulled here: "
                                "build or load it first (docker build / docker import)") from None
        rev_dir.mkdir(parents=True, exist_ok=True)
        digest = image_hash(plan, base, _package_digest())
        # The tag names this root too: another workspace service on the same engine (another user's root)
        # neither reuses nor prunes this one's images.
        owner = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:8]
        tag = f"jupyter-aml/score:{digest[:16]}-{owner}"
        known = self.images.find(plan.workspace, digest) if self.images is not None else None
        image = None
        if known is not None:
            with contextlib.suppress(Exception):
                image = client.images.get(known.tag)
        if image is not None:
            log(f"reusing image {tag} (environment, models and scoring code unchanged)")
        else:
            materialize_source(self.blobs, rev_dir / "src", plan.source_files)
            cached = [materialize_model(self.blobs, self.root / "models", m) for m in plan.models]
            model_layout(rev_dir, plan, cached, root_in_replica=MODELS_DIR)
            pip = image_requirements(env_spec)
            ca_files = sorted(Path(CA_DIR).glob("*.crt")) if pip else []
            log(f"building image {tag} from {base}" + (f" with {', '.join(pip)}" if pip else ""))
            started = time.monotonic()
            try:
                image, stream = client.images.build(
                    fileobj=_context(rev_dir, _dockerfile(base, pip, bool(ca_files)), pip, ca_files),
                    custom_context=True, tag=tag, rm=True, forcerm=True, pull=False,
                    labels={"aml.workspace": plan.workspace, "aml.image": digest})
                for chunk in stream:
                    text = str(chunk.get("stream") or "").rstrip()
                    if text:
                        log(text)
            except Exception as exc:
                raise ReplicaFailed(f"building the image failed: {getattr(exc, 'msg', exc)}") from exc
            log(f"image {tag} built in {time.monotonic() - started:.1f} s")
            if self.images is not None:
                self.images.record(plan.workspace, content_hash=digest, tag=tag, docker_id=image.id, base_image=base,
                                   environment=env_spec, model_ids=[m.id for m in plan.models],
                                   snapshot_id=plan.snapshot_id, size=int(image.attrs.get("Size") or 0))
        _, models = model_layout_info(plan)
        config = plan.deployment_config
        env = {**{str(k): str(v) for k, v in (env_spec.get("env_vars") or {}).items()},
               "AZUREML_MODEL_DIR": (f"{MODELS_DIR}/{plan.models[0].name}/{plan.models[0].version}"
                                     if len(plan.models) == 1 else MODELS_DIR),
               "AML_MODELS": json.dumps(models), "AZUREML_ENTRY_SCRIPT": plan.entry_script,
               "AML_SERVICE_NAME": plan.name, "AML_WORKSPACE": plan.workspace}
        replica_config = {
            "entry_script": f"{APP_DIR}/{plan.entry_script}", "source_dir": APP_DIR, "host": "0.0.0.0",
            "port": PORT, "parent_pid": 0, "token": secrets.token_urlsafe(24),
            "max_request_bytes": REPLICA_MAX_BYTES,
            "max_concurrent_requests": int(config.get("max_concurrent_requests_per_container", 1)),
            "max_batch_size": int(config.get("max_batch_size") or 1),  # > 1: run_batch() (dynamic batching)
            "drain_seconds": min(60.0, int(config.get("scoring_timeout_ms", 60000)) / 1000),
            "data_collection": config.get("data_collection", {}) if config.get("collect_model_data") else None,
        }
        return PreparedRevision(plan, rev_dir, env, replica_config, {"tag": tag, "image_id": digest})

    @staticmethod
    def _base_image(client: Any, plan: RevisionPlan, log: LogFn) -> str:
        """The image the scoring image is built FROM: the one built from the environment's
        ``docker.base_dockerfile`` when it has one, else ``$JUPYTER_AML_DOCKER_BASE_IMAGE``, the environment's
        ``docker_base_image`` or the default."""
        from jupyter_aml.compute.dockerfile_base import DockerfileBuildFailed, dockerfile_text, ensure_dockerfile_image
        from jupyter_aml.errors import InvalidInput

        env_spec = plan.environment
        try:
            text = dockerfile_text(env_spec, f"web service {plan.name!r}")
            if text is not None:
                return ensure_dockerfile_image(client, text, what=f"web service {plan.name!r}", log=log)
        except InvalidInput as exc:
            raise ReplicaFailed(exc.message + (f" ({exc.hint})" if exc.hint else "")) from None
        except DockerfileBuildFailed as exc:
            raise ReplicaFailed(f"{exc.message}\n{exc.tail}".rstrip()) from None
        return str(os.environ.get("JUPYTER_AML_DOCKER_BASE_IMAGE") or env_spec.get("docker_base_image")
                   or DEFAULT_BASE)

    def _remove_leftovers(self, client: Any, workspace: str, name: str, *, including_live: bool = False) -> None:
        """Containers of this service left by a workspace service that crashed (or, once the service has
        stopped, by a start that was interrupted)."""
        labels = [f"aml.root={self.root}", f"aml.service={workspace}/{name}"]
        for container in client.containers.list(all=True, filters={"label": labels}):
            if including_live or container.id not in LIVE:
                _remove_quietly(container)

    async def forget(self, workspace: str, name: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._remove_leftovers, _client(), workspace, name, including_live=True)

    async def launch(self, prepared: PreparedRevision, index: int, log: LogFn) -> ReplicaHandle:
        plan = prepared.plan
        status_dir = prepared.rev_dir / f"status-{index}-{time.monotonic_ns()}"
        status_dir.mkdir(parents=True)
        config = plan.deployment_config
        loop = asyncio.get_running_loop()

        def run() -> Any:
            client = _client()
            kwargs: dict[str, Any] = {}
            if config.get("memory_gb"):
                kwargs["mem_limit"] = f"{int(float(config['memory_gb']) * 1024)}m"
            if config.get("cpu_cores"):
                kwargs["nano_cpus"] = int(float(config["cpu_cores"]) * 1e9)
            return client.containers.run(
                prepared.extra["tag"], detach=True, ports={f"{PORT}/tcp": ("127.0.0.1", None)},
                environment={**prepared.env, "AML_REPLICA_CONFIG": json.dumps(prepared.replica_config),
                             "AML_REPLICA_STATUS": f"{STATUS_DIR}/status.json", "AML_REPLICA_INDEX": str(index)},
                volumes={str(status_dir): {"bind": STATUS_DIR, "mode": "rw"}},
                labels={"aml.root": str(self.root), "aml.service": f"{plan.workspace}/{plan.name}",
                        "aml.revision": str(plan.revision)},
                name=f"aml-{plan.workspace}-{plan.name}-r{plan.revision}-{index}-{os.urandom(3).hex()}"[:128],
                **kwargs)

        starting = asyncio.ensure_future(asyncio.to_thread(run))
        try:
            container = await asyncio.shield(starting)
        except asyncio.CancelledError:  # the service went away while docker created the container: remove it
            starting.add_done_callback(_remove_started)
            raise
        except ReplicaFailed:
            raise
        except Exception as exc:
            raise ReplicaFailed(f"the container did not start: {getattr(exc, 'explanation', exc)}") from exc
        LIVE.add(container.id)
        tail: collections.deque[str] = collections.deque(maxlen=40)
        handle = Container(container, status_dir, tail)
        threading.Thread(target=_follow, args=(handle, loop, log), daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await asyncio.to_thread(container.reload)
            ports = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
            bound = ports.get(f"{PORT}/tcp")
            state = container.attrs.get("State") or {}
            handle._pid = state.get("Pid") or None
            if bound:
                handle.port = int(bound[0]["HostPort"])
                return handle
            if state.get("Status") in ("exited", "dead"):
                await asyncio.sleep(0.3)
                raise ReplicaFailed(handle.failure())
            await asyncio.sleep(0.1)
        handle.kill()
        raise ReplicaFailed("the container did not publish its port within 60 s")

    async def cleanup(self, prepared: PreparedRevision) -> None:
        import shutil

        await asyncio.to_thread(shutil.rmtree, prepared.rev_dir, True)


LIVE: set[str] = set()  # containers this process started and has not removed


def prune_images(images: Any, built_before: datetime.datetime, *, dry_run: bool) -> tuple[int, int]:
    """Remove the scoring images no web service runs; (removed, kept because a container uses them)."""
    unused = images.unused(built_before)
    if dry_run or not unused:
        return len(unused), 0
    removed = kept = 0
    for row_id, tag in unused:
        if remove_image(tag):
            images.forget(row_id)
            removed += 1
        else:
            kept += 1
    return removed, kept


def remove_image(tag: str) -> bool:
    """Remove a scoring image from the engine; False when a container still uses it (it stays)."""
    import docker.errors

    try:
        _client().images.remove(tag)
    except docker.errors.ImageNotFound:
        return True  # already gone
    except docker.errors.APIError as exc:
        if exc.status_code == 409:
            return False
        raise
    return True


def _remove_quietly(container: Any) -> None:
    with contextlib.suppress(Exception):
        container.remove(force=True)
    LIVE.discard(container.id)


def _remove_started(done: asyncio.Future[Any]) -> None:
    if not done.cancelled() and done.exception() is None:
        threading.Thread(target=_remove_quietly, args=(done.result(),), daemon=True).start()


def _follow(handle: Container, loop: asyncio.AbstractEventLoop, log: LogFn) -> None:
    """Stream the container's output into the service log; record its exit code when it stops."""
    container = handle.container
    try:
        pending = b""
        for chunk in container.logs(stream=True, follow=True):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace").rstrip("\r")
                handle.tail.append(line)
                loop.call_soon_threadsafe(log, line)
        result = container.wait()
        code = int(result.get("StatusCode", -1))
    except Exception:
        code = -1
    handle._exit = code
    LIVE.discard(container.id)


def model_layout_info(plan: RevisionPlan) -> tuple[str, dict[str, Any]]:
    info = {m.name: {"version": m.version, "path": m.path, "dir": f"{MODELS_DIR}/{m.name}/{m.version}"}
            for m in plan.models}
    return MODELS_DIR, info
