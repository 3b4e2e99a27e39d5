"""A compute instance's engine side: the scripts run inside its container and the Docker helpers that make,
start and use it (the backend, compute/docker_instance.py, holds the state and the runs).

Every script is ``python -c`` of the container's interpreter: an image needs its ``python3``, not a shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import re
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_aml.compute.base import ExitCallback
from jupyter_aml.compute.instance_kernel import install_kernelspec, remove_kernelspec
from jupyter_aml.compute.local import AGENT_MODULE, PACKAGE_PARENT
from jupyter_aml.errors import AMLError, ComputeUnavailable, InvalidInput

log = logging.getLogger(__name__)

DEFAULT_BASE = "python:3.11-slim"
KIND = "compute-instance"
PKG_IN = "/opt/jupyter-aml"  # PYTHONPATH entry inside the container; the package is PKG_IN/jupyter_aml
HOME_IN = "/tmp/jupyter-aml"  # the run user's home and environment cache, in the container's own layer
ENVS_IN = f"{HOME_IN}/envs"
CA_IN = "/etc/jupyter-aml/ca-bundle.pem"
CA_DIR = "/usr/local/share/ca-certificates"
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PID_FILE, EXIT_FILE = "agent.pid.json", "agent.exit"
# Host paths that mean nothing inside the container: the container's own values (its Config.Env) apply.
HOST_ONLY_VARS = ("PATH", "HOME", "TMPDIR", "PYTHONPATH", "LD_LIBRARY_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR",
                  "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT")

KEEPALIVE = "import signal; signal.pause()"  # the container's main process (under docker's init)
# Forks the agent into its own session (pid == pgid), records it, waits, records its exit code.
LAUNCHER = r"""
import json, os, signal, sys
run_dir, argv = sys.argv[1], sys.argv[2:]
def put(name, text):
    tmp = os.path.join(run_dir, "." + name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(run_dir, name))
out = os.open(os.path.join(run_dir, "agent.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
pid = os.fork()
if pid == 0:
    try:
        os.setsid(); os.dup2(out, 1); os.dup2(out, 2); os.execvp(argv[0], argv)
    finally:
        os._exit(127)
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)
put("agent.pid.json", json.dumps({"pid": pid, "pgid": pid, "launcher_pid": os.getpid()}))
code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
put("agent.exit", str(code))
sys.exit(code if code >= 0 else 128 - code)
"""
# Signals the run's groups (only if a member carries the run's variables) and, with a sweep, every process that
# does (what left the groups), except the launcher.
KILLER = r"""
import sys
from jupyter_aml.agent.procs import kill_run_group, kill_run_processes
run_id, journal, sig, exclude = sys.argv[1], sys.argv[2] or None, int(sys.argv[3]), sys.argv[4]
for pgid in sys.argv[5:]:
    kill_run_group(int(pgid), run_id, sig, journal)
if exclude != "-":
    kill_run_processes(run_id, sig, journal, exclude={int(p) for p in exclude.split(",") if p})
"""
PROBE = (r"import sys; from jupyter_aml.agent.procs import belongs_to_run, is_gone; pid = int(sys.argv[1]); "
         r"sys.exit(0 if not is_gone(pid) and belongs_to_run(pid, sys.argv[2], sys.argv[3] or None) else 3)")
SETUP = r"import os, sys; [os.makedirs(p, exist_ok=True) for p in sys.argv[1:]]; import jupyter_aml.agent.main"


def docker_sdk() -> Any:
    try:
        import docker
    except ImportError:  # pragma: no cover - a dependency
        raise ComputeUnavailable("the docker SDK is not installed", hint="pip install docker") from None
    return docker


def connect(timeout: int) -> Any:
    try:
        client = docker_sdk().from_env(timeout=timeout)
        client.ping()
    except AMLError:
        raise
    except Exception as exc:
        raise ComputeUnavailable(f"no Docker engine answers: {exc}",
                                 hint="start dockerd (as root: dockerd &) or set DOCKER_HOST") from None
    return client


def sanitize(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "x"


def hostname_of(name: str) -> str:
    """The compute's name as a hostname label (letters, digits and hyphens, at most 63)."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")[:63].strip("-") or "instance"


def root_of(state_dir: Path) -> Path | None:
    """The service's root, when the state folder is the service's ``<root>/computes/<workspace>/<name>``."""
    return state_dir.parents[2] if len(state_dir.parents) > 3 and state_dir.parents[1].name == "computes" else None


def inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def host_ca_bundle(ca_files: list[str] | None) -> bytes:
    """The CA certificates runs trust: the host's bundle ($SSL_CERT_FILE, else the system one) plus ``ca_files``
    (default: the host's extra CAs), so package downloads work through a TLS-inspecting proxy as on the host."""
    bundle = os.environ.get("SSL_CERT_FILE") or SYSTEM_BUNDLE
    files = [bundle] if os.path.isfile(bundle) else []
    files += ca_files if ca_files is not None else sorted(str(p) for p in Path(CA_DIR).glob("*.crt"))
    return b"".join(Path(f).read_bytes().rstrip(b"\n") + b"\n" for f in files)


@dataclass
class InstanceRun:
    run_id: str
    info: dict[str, Any]
    on_exit: ExitCallback | None

    @property
    def run_dir(self) -> Path:
        return Path(str(self.info["run_dir"]))


def create_container(client: Any, image: str, python: str, *, name: str, labels: dict[str, str], hostname: str,
                     user: str, work_root: Path, vcpus: float | None, memory_gb: float | None, ca_bundle: bytes,
                     what: str) -> tuple[Any, float | None]:
    """The instance's container (created, not started) and its CPU limit (the vCPUs, at most the engine's)."""
    limits: dict[str, Any] = {}
    cpu_limit = None
    if vcpus:
        engine_cpus = float(client.info().get("NCPU") or vcpus)
        cpu_limit = min(float(vcpus), engine_cpus)
        if cpu_limit < vcpus:
            log.warning("%s: %g vCPUs asked, the engine has %g: limited to %g", what, vcpus, engine_cpus, cpu_limit)
        limits["nano_cpus"] = int(cpu_limit * 1e9)
    if memory_gb:
        limits["mem_limit"] = limits["memswap_limit"] = f"{int(float(memory_gb) * 1024)}m"
    env = {"PYTHONPATH": PKG_IN, "PYTHONUNBUFFERED": "1", "HOME": f"{HOME_IN}/home"}
    if ca_bundle:
        env.update({k: CA_IN for k in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT")})
    container = client.containers.create(
        image, [python, "-c", KEEPALIVE], name=name, labels=labels, init=True, network_mode="host",
        hostname=hostname, user=user, environment=env, stop_signal="SIGTERM",
        volumes={str(Path(PACKAGE_PARENT) / "jupyter_aml"): {"bind": f"{PKG_IN}/jupyter_aml", "mode": "ro"},
                 str(work_root): {"bind": str(work_root), "mode": "rw"}},
        **limits)
    if ca_bundle:
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            info = tarfile.TarInfo(CA_IN.lstrip("/"))
            info.size, info.mode, info.mtime = len(ca_bundle), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(ca_bundle))
        container.put_archive("/", archive.getvalue())
    return container, cpu_limit


def boot_container(container: Any, image: str, python: str, *, restart: bool = False) -> None:
    """Start (or restart) the container and check that the agent can run in it."""
    if restart:
        container.restart(timeout=10)
    else:
        container.start()
    container.reload()
    if container.status != "running":
        raise ComputeUnavailable(f"the container {container.name} did not start: {container.status}",
                                 hint=f"docker logs {container.name}")
    result = container.exec_run([python, "-c", SETUP, ENVS_IN, f"{HOME_IN}/home"])
    if result.exit_code != 0:
        tail = result.output.decode("utf-8", "replace")[-600:]
        raise InvalidInput(f"the image {image!r} cannot run the agent with {python!r}: {tail}",
                           hint="use an image with Python >= 3.10 (the agent needs only its standard library)")


def launch_agent(api: Any, container_name: str, python: str, *, user: str, env: dict[str, str], run_dir: Path,
                 journal: Path, container_id: str | None, what: str) -> dict[str, Any]:
    """Start a run's launcher with a detached ``docker exec``; the agent info once it recorded the agent's pid."""
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in (PID_FILE, EXIT_FILE):
        (run_dir / stale).unlink(missing_ok=True)
    argv = [python, "-c", LAUNCHER, str(run_dir), python, "-m", AGENT_MODULE]
    try:
        exec_id = api.exec_create(container_name, argv, environment=env, workdir=str(run_dir), user=user)["Id"]
        api.exec_start(exec_id, detach=True)
    except docker_sdk().errors.APIError as exc:
        raise ComputeUnavailable(f"{what} cannot start the run: {exc.explanation}") from None
    deadline = time.monotonic() + 30
    while not (run_dir / PID_FILE).exists():
        if time.monotonic() > deadline or not api.exec_inspect(exec_id)["Running"]:
            if (run_dir / PID_FILE).exists():
                break
            tail = (run_dir / "agent.log").read_text(errors="replace")[-600:] \
                if (run_dir / "agent.log").exists() else ""
            raise ComputeUnavailable(
                f"the agent did not start in {what} (launcher exit code "
                f"{api.exec_inspect(exec_id)['ExitCode']}){': ' + tail if tail else ''}",
                hint=f"the container's user ({user}) must be able to write {run_dir}")
        time.sleep(0.02)
    pids = json.loads((run_dir / PID_FILE).read_text())
    info = {"container": container_id, "container_name": container_name, "exec_id": exec_id,
            "run_dir": str(run_dir), "journal": str(journal),
            "pid": int(pids["pid"]), "pgid": int(pids["pgid"]), "launcher_pid": int(pids["launcher_pid"])}
    fd = os.open(run_dir / "agent.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps({**info, "started_at": time.time()}))
    return info


def signal_run(container: Any, run: InstanceRun, python: str, sig: int, *, sweep: bool, user: str) -> None:
    """Signal the run's agent group; with ``sweep``, the script's group and every process with the run's
    variables too (except the launcher)."""
    groups = [str(run.info["pgid"])]
    if sweep:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            groups.append(str(int(json.loads((run.run_dir / "script.json").read_text())["pgid"])))
    exclude = str(run.info.get("launcher_pid", "")) if sweep else "-"
    container.exec_run([python, "-c", KILLER, run.run_id, str(run.info.get("journal") or ""), str(int(sig)), exclude,
                        *groups], user=user)


def probe_agent(client: Any, container_name: str, run: InstanceRun, python: str, *, user: str) -> bool | None:
    """Is the run's agent alive in the container (its pid, carrying the run's variables)? None: no clear
    answer (e.g. the container is dying; the monitor's look at the container decides then)."""
    try:
        result = client.containers.get(container_name).exec_run(
            [python, "-c", PROBE, str(run.info["pid"]), run.run_id, str(run.info.get("journal") or "")], user=user)
    except (docker_sdk().errors.NotFound, docker_sdk().errors.APIError):
        return None
    return {0: True, 3: False}.get(result.exit_code)


def agent_result(client: Any, container_name: str, run: InstanceRun, python: str, *, user: str,
                 container_running: Callable[[], bool]) -> tuple[bool, int | None]:
    """(ended, exit code): from the launcher's exit file, else its exec, else the agent's pid in the container."""
    def exit_code() -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((run.run_dir / EXIT_FILE).read_text())
        return None

    code = exit_code()
    if code is not None:
        return True, code
    exec_id = run.info.get("exec_id")
    if exec_id:
        try:
            inspected = client.api.exec_inspect(exec_id)
        except docker_sdk().errors.NotFound:
            inspected = None
        if inspected is not None and str(run.run_dir) not in inspected["ProcessConfig"]["arguments"]:
            return True, None  # that exec launched another run
        if inspected is not None and inspected["Running"]:
            return False, None
        code = exit_code()
        if code is not None:
            return True, code
        run.info["exec_id"] = None  # the launcher is gone without a word: watch the agent itself
    if probe_agent(client, container_name, run, python, user=user) is False:
        return container_running(), None  # a dying container's own failure speaks first, for all its runs
    return False, None


class KernelspecKeeper:
    """The instance's kernelspec "Python (aml: NAME)" in the launcher: installed or removed in a thread (the
    lifecycle runs on the event loop), one change after the other so the last one wins."""

    def __init__(self, name: str, container: str, *, workspace: str, python: str) -> None:
        self.name, self.container, self.workspace, self.python = name, container, workspace, python
        self._job: asyncio.Future[None] | None = None

    def _write(self, install: bool) -> None:
        try:
            if install:
                install_kernelspec(self.name, self.container, workspace=self.workspace, python=self.python)
            else:
                remove_kernelspec(self.name, workspace=self.workspace)
        except OSError:
            log.warning("instance %r: could not %s its kernelspec", self.name, "install" if install else "remove",
                        exc_info=True)

    def set(self, install: bool) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._write(install)
            return
        before = self._job

        async def job() -> None:
            if before is not None and not before.done():
                await asyncio.gather(before, return_exceptions=True)
            await asyncio.to_thread(self._write, install)

        self._job = asyncio.ensure_future(job())

    async def written(self) -> None:
        """Wait for the last change (a lifecycle call returns once the launcher shows its outcome)."""
        if self._job is not None and not self._job.done():
            await asyncio.gather(self._job, return_exceptions=True)
