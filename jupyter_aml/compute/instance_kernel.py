"""A JupyterLab kernel "Python (aml: NAME)" whose code runs inside a compute instance's Docker container.

The instance is one long-lived container started with ``--network host``, so the 127.0.0.1 ports of the
connection file the kernel manager writes on the host work unchanged inside it. The backend calls
:func:`install_kernelspec` when its instance becomes Running and :func:`remove_kernelspec` when it stops; the
kernelspec names the ``aml-docker-instance`` provisioner (:class:`DockerInstanceProvisioner`), which:

- copies the connection file into the container (``put_archive``: the image needs no shell, and nothing is
  mounted, since a running container cannot gain a mount), then starts the kernel with a detached
  ``docker exec`` whose bootstrap makes the kernel a session leader and records its in-container pid, so that
  signals (SIGINT interrupts a cell) and kills reach the kernel's whole process group *inside* the container;
- gives the kernel only the kernelspec's ``env`` (never the Jupyter server's environment and credentials),
  and the notebook's folder as its working directory when the container has that path (a shared mount);
- brings ipykernel when the image lacks it: a bundle built once on the host with pip for the container's
  Python (version, CPU, glibc/musl tags; binary wheels only), cached, copied once into the container and
  *appended* to the kernel's ``sys.path``, so the image's own packages win and nothing is installed into the
  user's environment (the container needs neither pip nor network nor the host's CA files).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from traitlets import Bool, Float, Unicode

log = logging.getLogger(__name__)
PROVISIONER_NAME = "aml-docker-instance"
KERNELS_DIR_ENV = "AML_KERNELS_DIR"  # tests (or an admin) point the kernelspecs elsewhere
BUNDLE_CACHE_ENV = "AML_KERNEL_BUNDLE_CACHE"
IPYKERNEL_REQUIREMENT = "ipykernel>=6.29"
RUN_DIR = "/tmp/.jupyter-aml-kernels"  # in the container: connection files, pid files, kernel logs
BUNDLE_ROOT = "/opt/jupyter-aml/ipykernel"  # in the container: the copied bundles
_MARKER = ".complete"
_BUNDLE_FORMAT = 2  # bump when the way a bundle is built changes, so cached ones are rebuilt

_PROBE = """import importlib.util, json, os, platform, sys
print(json.dumps({"version": "%d.%d" % sys.version_info[:2], "impl": sys.implementation.name,
  "machine": platform.machine(), "libc": list(platform.libc_ver()), "uid": os.getuid(), "gid": os.getgid(),
  "ipykernel": importlib.util.find_spec("ipykernel") is not None}))"""

# Runs as the kernel's own process: a new session (its pgid is its pid), output to a log file (the exec is
# detached), its pid where the provisioner reads it, the bundle behind the image's packages, then the module.
_BOOTSTRAP = """import os, sys
try: os.setsid()
except OSError: pass  # already a session leader
run, kid = os.environ.pop("AML_KERNEL_RUN_DIR"), os.environ.pop("AML_KERNEL_ID")
bundle, cwd = os.environ.pop("AML_KERNEL_BUNDLE", ""), os.environ.pop("AML_KERNEL_CWD", "")
if cwd:
    try: os.chdir(cwd)
    except OSError: pass  # the notebook's folder is not in the container: the image's working directory
fd = os.open(f"{run}/{kid}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
os.dup2(fd, 1); os.dup2(fd, 2); os.close(fd)
with open(f"{run}/{kid}.pid.tmp", "w") as f: f.write(str(os.getpid()))
os.replace(f"{run}/{kid}.pid.tmp", f"{run}/{kid}.pid")
if bundle: sys.path.append(bundle)
args = sys.argv[1:]
if args[:1] == ["-m"] and len(args) > 1:
    import runpy
    sys.argv = [args[1], *args[2:]]
    runpy.run_module(args[1], run_name="__main__", alter_sys=True)
else:
    os.execv(sys.executable, [sys.executable, *args])"""

_CHECK = """import sys
sys.path.append(sys.argv[1])
import ipykernel.kernelapp, zmq"""

_COMPILE = """import compileall, sys
compileall.compile_dir(sys.argv[1], quiet=1, workers=0)"""

_SIGNAL = """import os, sys
try: os.killpg(int(sys.argv[1]), int(sys.argv[2]))
except ProcessLookupError: pass"""

_ALIVE = """import sys
try: state = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()[0]
except OSError: state = "gone"
print("dead" if state in ("gone", "Z", "X") else "alive")"""

_REMOVE = """import os, sys
for p in sys.argv[1:]:
    try: os.remove(p)
    except OSError: pass"""


# --- the kernelspec ----------------------------------------------------------------------------------------

def kernels_dir() -> Path:
    """The kernels folder the Jupyter server reads: ``$AML_KERNELS_DIR``, else the user's Jupyter data dir."""
    explicit = os.environ.get(KERNELS_DIR_ENV)
    if explicit:
        return Path(explicit)
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "kernels"


def kernel_name(compute_name: str, workspace: str) -> str:
    """``aml-<workspace>-<name>``, folded to the characters jupyter_client accepts in a kernel name."""
    return re.sub(r"[^a-z0-9._-]+", "-", f"aml-{workspace}-{compute_name}".lower())


def install_kernelspec(compute_name: str, container: str, *, workspace: str, python: str = "python3") -> Path:
    """Write (or rewrite) the instance's kernelspec; its folder. ``python`` is the interpreter in the container."""
    folder = kernels_dir() / kernel_name(compute_name, workspace)
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python (aml: {compute_name})",
        "language": "python",
        "interrupt_mode": "signal",
        "env": {},
        "metadata": {
            "debugger": True,
            "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME, "config": {"container": container}},
            "aml": {"workspace": workspace, "compute": compute_name},
        },
    }
    tmp = folder / "kernel.json.tmp"
    tmp.write_text(json.dumps(spec, indent=1))
    tmp.replace(folder / "kernel.json")
    return folder


def remove_kernelspec(compute_name: str, *, workspace: str) -> None:
    """Remove the instance's kernelspec (nothing to do if it is not there)."""
    shutil.rmtree(kernels_dir() / kernel_name(compute_name, workspace), ignore_errors=True)


# --- ipykernel for a container that lacks it ---------------------------------------------------------------

def _platform_tags(probe: dict[str, Any]) -> list[str]:
    """The wheel platform tags pip may pick for the container's Python (binary wheels only)."""
    machine = probe["machine"]
    libc, version = probe["libc"]
    if libc == "glibc":
        minor = int(version.split(".")[1])
        return [f"manylinux_2_{m}_{machine}" for m in range(minor, 16, -1)] + [f"manylinux2014_{machine}"]
    if not libc:  # platform.libc_ver() finds no glibc: musl (Alpine) is the usual other one
        return [f"musllinux_1_{m}_{machine}" for m in (2, 1)]
    raise RuntimeError(f"cannot build ipykernel for a container whose C library is {libc} {version}")


def _bundle_tag(probe: dict[str, Any]) -> str:
    libc = "-".join(probe["libc"]) or "musl"
    key = hashlib.sha256(f"{IPYKERNEL_REQUIREMENT} {_BUNDLE_FORMAT}".encode()).hexdigest()[:8]
    return f"cp{probe['version'].replace('.', '')}-{libc}-{probe['machine']}-{key}"


def _pip_command() -> list[str]:
    """The host's pip (the venv's module), else uv (a uv-made venv has no pip)."""
    import importlib.util

    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip", "install", "--retries", "1", "--timeout", "30"]
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError("neither pip nor uv is available on the host to build ipykernel for the container")
    return [uv, "pip", "install", "--python", sys.executable]


def ensure_bundle(probe: dict[str, Any]) -> Path:
    """The host folder holding ipykernel and its deps for the container's Python, built once and cached."""
    if probe["impl"] != "cpython":
        raise RuntimeError(f"cannot build ipykernel for {probe['impl']} (CPython only)")
    cache = Path(os.environ.get(BUNDLE_CACHE_ENV) or Path.home() / ".cache" / "jupyter-aml" / "ipykernel")
    target = cache / _bundle_tag(probe)
    if (target / _MARKER).exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time, across server processes too
        if (target / _MARKER).exists():
            return target
        log.info("building %s for the container's Python %s in %s", IPYKERNEL_REQUIREMENT, probe["version"], target)
        build = Path(tempfile.mkdtemp(dir=cache, prefix=".build-"))
        cmd = _pip_command()
        version = probe["version"]
        # Bytecode is only worth shipping when the host's Python makes it for the container's version (else
        # copy_bundle compiles inside the container): a non-root kernel cannot write __pycache__ there.
        same = version == f"{sys.version_info[0]}.{sys.version_info[1]}"
        if cmd[1:3] == ["-m", "pip"]:
            cmd += [] if same else ["--no-compile"]
            cmd += ["--target", str(build), "--only-binary=:all:", "--python-version", version,
                    "--implementation", "cp", "--abi", f"cp{version.replace('.', '')}"]
            for tag in _platform_tags(probe):
                cmd += ["--platform", tag]
        else:
            cmd += ["--compile-bytecode"] if same else []
            libc = probe["libc"]
            triple = f"manylinux_2_{libc[1].split('.')[1]}" if libc[0] == "glibc" else "unknown-linux-musl"
            cmd += ["--target", str(build), "--only-binary", ":all:", "--python-version", version,
                    "--python-platform", f"{probe['machine']}-{triple}"]
        try:
            done = subprocess.run([*cmd, IPYKERNEL_REQUIREMENT], capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            done = subprocess.CompletedProcess(cmd, 1, "", "timed out after 900 s")
        if done.returncode != 0:
            shutil.rmtree(build, ignore_errors=True)
            raise RuntimeError(f"could not build ipykernel for Python {version} on the host: "
                               f"{done.stderr.strip()[-1500:]}")
        (build / _MARKER).write_text(IPYKERNEL_REQUIREMENT)
        shutil.rmtree(target, ignore_errors=True)
        build.rename(target)
    return target


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _file_tar(entries: list[tuple[str, bytes | None, int]], uid: int, gid: int) -> bytes:
    """A tar of directories (content None) and files, owned by the container's user."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content, mode in entries:
            info = tarfile.TarInfo(name.lstrip("/"))
            info.uid, info.gid, info.mode, info.mtime = uid, gid, mode, int(time.time())
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


_copy_locks: dict[str, threading.Lock] = {}


def copy_bundle(container: Any, bundle: Path, run: Callable[[str, str, str], tuple[int, str]]) -> str:
    """The bundle's folder inside the container, copied there once from the host's cache and marked complete
    only once the container's Python imports it (``run(script, folder, user)`` runs a script there)."""
    dest = f"{BUNDLE_ROOT}/{bundle.name}"
    with _copy_locks.setdefault(container.id, threading.Lock()):
        if _exists(container, f"{dest}/{_MARKER}"):
            return dest
        with tempfile.TemporaryFile() as archive:
            with tarfile.open(fileobj=archive, mode="w") as tar:
                for child in sorted(bundle.iterdir()):
                    if child.name != _MARKER:
                        tar.add(child, arcname=f"{dest.lstrip('/')}/{child.name}", filter=_root_owned)
            archive.seek(0)
            _put(container, archive)
        if not (bundle / "ipykernel" / "__pycache__").is_dir():
            run(_COMPILE, dest, "0")  # as root: the files are root's; a failure only costs start-up time
        code, out = run(_CHECK, dest, "")
        if code != 0:
            raise RuntimeError(f"ipykernel was copied into container {container.name} but its Python cannot load "
                               f"it (manylinux wheels need the image's glibc, libstdc++ and libgcc_s): "
                               f"{(out.strip().splitlines() or ['?'])[-1]}")
        _put(container, _file_tar([(f"{dest}/{_MARKER}", b"ok", 0o644)], 0, 0))
    return dest


def _put(container: Any, data: Any) -> None:
    if not container.put_archive("/", data):
        raise RuntimeError(f"could not copy files into container {container.name}")


def _exists(container: Any, path: str) -> bool:
    import docker.errors

    try:
        container.get_archive(path)
        return True
    except docker.errors.NotFound:
        return False


def _read(container: Any, path: str) -> bytes | None:
    import docker.errors

    try:
        stream, _ = container.get_archive(path)
    except docker.errors.NotFound:
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.extractfile(tar.getmembers()[0])
        return member.read() if member else None


# --- the container -----------------------------------------------------------------------------------------

def _running_container(client: Any, name: str) -> Any:
    import docker.errors

    try:
        found = client.containers.get(name)
    except docker.errors.NotFound:
        raise RuntimeError(f"the compute instance's container {name!r} does not exist") from None
    if found.status != "running":
        raise RuntimeError(f"the compute instance's container {name!r} is {found.status}, "
                           "not running: start the compute instance first")
    return found


def _run_python(container: Any, python: str, script: str, *args: str, user: str = "") -> tuple[int, str]:
    code, out = container.exec_run([python, "-c", script, *args], user=user)
    return int(code), (out or b"").decode(errors="replace")


def prepare_container(container: str, *, python: str = "python3", provide_ipykernel: bool = True,
                      client: Any = None) -> tuple[dict[str, Any], str]:
    """Probe the container's Python and make ipykernel importable there: (probe, bundle folder or "").

    Every kernel start calls it (cheap once done). An instance backend may also call it, in a thread, when its
    instance becomes Running, so that the first kernel does not wait for ipykernel to be built and copied."""
    if client is None:
        import docker

        client = docker.from_env(timeout=60)
    found = _running_container(client, container)
    code, out = _run_python(found, python, _PROBE)
    if code != 0:
        raise RuntimeError(f"cannot run {python!r} in container {container!r} (exit {code}): {out.strip()[-500:]}")
    probe: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    if probe["ipykernel"]:
        return probe, ""
    if not provide_ipykernel:
        raise RuntimeError(f"ipykernel is not installed for {python} in container {container!r}: "
                           "add ipykernel to the compute instance's environment (pip install ipykernel)")
    log.info("ipykernel is missing in %s: copying a host-built one in", container)
    return probe, copy_bundle(found, ensure_bundle(probe),
                              lambda script, folder, user: _run_python(found, python, script, folder, user=user))


# --- the provisioner ---------------------------------------------------------------------------------------

class DockerInstanceProvisioner(LocalProvisioner):
    """Runs the kernel inside the instance's container; the local provisioner's ports and connection file."""

    container = Unicode(config=True, help="Name or id of the compute instance's running container.")
    provide_ipykernel = Bool(True, config=True, help="Copy a host-built ipykernel in when the image lacks it.")
    start_timeout = Float(60.0, config=True, help="Seconds to wait for the kernel's process to start.")

    exec_id: str | None = None
    python: str | None = None
    _client: Any = None
    _bundle = ""  # the bundle's folder in the container, "" when the image has ipykernel
    _probe: dict[str, Any] = {}  # replaced per launch, never mutated

    @property
    def has_process(self) -> bool:
        return self.exec_id is not None or self.pid is not None

    def _docker(self) -> Any:
        if self._client is None:
            import docker

            self._client = docker.from_env(timeout=60)
        return self._client

    def _container(self) -> Any:
        return _running_container(self._docker(), self.container)

    def _manager(self) -> Any:
        if self.parent is None:
            raise RuntimeError(f"the {PROVISIONER_NAME} provisioner needs its kernel manager (parent)")
        return self.parent

    def _paths(self) -> dict[str, str]:
        return {k: f"{RUN_DIR}/{self.kernel_id}.{k}" for k in ("json", "pid", "log")}

    def _python(self, container: Any, script: str, *args: str) -> tuple[int, str]:
        return _run_python(container, self.python or "python3", script, *args)

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Check the container and its Python, bring ipykernel if needed, then the local connection file."""
        if not self.container:
            raise RuntimeError(f"the kernelspec's {PROVISIONER_NAME} config names no container")
        self.python = self.kernel_spec.argv[0]
        self._bundle = await asyncio.to_thread(self._prepare)
        kwargs = await super().pre_launch(**kwargs)
        host_file = os.path.realpath(self._manager().connection_file)
        kwargs["cmd"] = [self.python] + [a.replace(host_file, self._paths()["json"]) for a in kwargs["cmd"][1:]]
        return kwargs

    def _prepare(self) -> str:
        """The bundle folder to append to the kernel's path ("" when the image has ipykernel)."""
        self._probe, bundle = prepare_container(self.container, python=self.python or "python3",
                                                provide_ipykernel=self.provide_ipykernel, client=self._docker())
        return bundle

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Start the kernel with a detached ``docker exec``; return once its in-container pid is known."""
        env = {k: kwargs["env"][k] for k in self.kernel_spec.env if k in kwargs["env"]}
        if "JPY_SESSION_NAME" in kwargs["env"]:
            env["JPY_SESSION_NAME"] = kwargs["env"]["JPY_SESSION_NAME"]
        env.update(AML_KERNEL_RUN_DIR=RUN_DIR, AML_KERNEL_ID=str(self.kernel_id), AML_KERNEL_BUNDLE=self._bundle,
                   AML_KERNEL_CWD=str(kwargs.get("cwd") or ""))
        await asyncio.to_thread(self._start, cmd, env)
        return self.connection_info

    def _start(self, cmd: list[str], env: dict[str, str]) -> None:
        container = self._container()
        paths = self._paths()
        uid, gid = self._probe["uid"], self._probe["gid"]
        connection = Path(self._manager().connection_file).read_bytes()
        _put(container, _file_tar([(RUN_DIR, None, 0o700), (paths["json"], connection, 0o600)], uid, gid))
        self._python(container, _REMOVE, paths["pid"], paths["log"])
        api = self._docker().api
        argv = [cmd[0], "-c", _BOOTSTRAP, *cmd[1:]]
        self.exec_id = api.exec_create(container.id, argv, environment=env, stdout=False, stderr=False)["Id"]
        api.exec_start(self.exec_id, detach=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            pid = _read(container, paths["pid"])
            if pid:
                self.pid = self.pgid = int(pid)
                return
            state = api.exec_inspect(self.exec_id)
            if not state["Running"]:
                self.exec_id = None
                raise RuntimeError(f"the kernel in container {self.container!r} exited at once "
                                   f"(code {state['ExitCode']}): {self._log_tail(container)}")
            time.sleep(0.1)
        self._python(container, _REMOVE, paths["json"])  # a kernel that starts after all cannot connect
        raise RuntimeError(f"the kernel in container {self.container!r} did not start in {self.start_timeout} s")

    def _log_tail(self, container: Any) -> str:
        log = _read(container, self._paths()["log"]) or b""
        return log.decode(errors="replace").strip()[-1500:]

    def _poll(self) -> int | None:
        import docker.errors

        if self.exec_id is not None:
            try:
                state = self._docker().api.exec_inspect(self.exec_id)
                return None if state["Running"] else int(state["ExitCode"] or 0)
            except docker.errors.NotFound:
                pass  # the daemon forgets finished execs, and knows none of another server's
        if self.pid is None:
            return 0
        try:
            container = self._container()
        except RuntimeError:
            return -1  # the container is gone or stopped: so is the kernel
        code, out = self._python(container, _ALIVE, str(self.pid))
        return None if code == 0 and out.strip() == "alive" else -1

    async def poll(self) -> int | None:
        if not self.has_process:
            return 0
        return await asyncio.to_thread(self._poll)

    async def wait(self) -> int | None:
        ret = 0
        if self.has_process:
            while (code := await self.poll()) is None:
                await asyncio.sleep(0.1)
            ret = code
            if ret not in (0, -1, 128 + signal.SIGKILL, 128 + signal.SIGTERM):  # else it died by itself
                with contextlib.suppress(Exception):
                    self.log.warning("kernel %s in %s exited with %s: %s", self.kernel_id, self.container, ret,
                                     self._log_tail(self._container()))
            self.exec_id = self.pid = self.pgid = None
        return ret

    async def send_signal(self, signum: int) -> None:
        """Signal the kernel's process group inside the container (SIGINT interrupts the running cell)."""
        if self.pgid is None:
            return
        await asyncio.to_thread(self._signal, signum)

    def _signal(self, signum: int) -> None:
        try:
            container = self._container()
        except RuntimeError:
            return  # a stopped container has no kernel left to signal
        code, out = self._python(container, _SIGNAL, str(self.pgid), str(int(signum)))
        if code != 0:
            raise OSError(f"could not send signal {signum} to the kernel in {self.container}: {out.strip()}")

    async def kill(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        """Return the ports (unless restarting) and remove the kernel's files from the container."""
        await super().cleanup(restart=restart)
        with contextlib.suppress(Exception):
            container = await asyncio.to_thread(self._container)
            await asyncio.to_thread(self._python, container, _REMOVE, *self._paths().values())

    async def get_provisioner_info(self) -> dict[str, Any]:
        info: dict[str, Any] = await super().get_provisioner_info()
        info.update(container=self.container, exec_id=self.exec_id, python=self.python)
        return info

    async def load_provisioner_info(self, provisioner_info: dict[str, Any]) -> None:
        await super().load_provisioner_info(provisioner_info)
        self.container = provisioner_info["container"]
        self.exec_id = provisioner_info.get("exec_id")
        self.python = provisioner_info.get("python")

    def get_stable_start_time(self, recommended: float = 10.0) -> float:
        return max(recommended, 30.0)  # a first start may copy ipykernel into the container
