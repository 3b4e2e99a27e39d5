"""Running the script in a container (``docker run`` through the CLI: the agent stays stdlib-only).

The run's folder is mounted at the same path and its ``wd`` is the working folder, so ``./outputs``, ``./logs``
and the journal land where the agent collects them; ``--network host`` lets the script reach the service
and the agent as on the host (it still gets a host name of its own, which resolves); this installation's
``jupyter_aml`` (and the azureml shim, when the image has no real ``azureml.core``) is mounted read-only
and put on ``PYTHONPATH``. Nothing else of the host is mounted. The container is
``aml-run-<run id>``, started with ``--rm --init``. Cancel stops it (SIGTERM to the script through the init,
SIGKILL after the grace); a reaper process outside the agent's process group and session removes it when
the agent itself dies without cleaning up (SIGKILL, a lost node).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from jupyter_aml.envbuild.container import DockerSettings, PreparedImage, probe_image
from jupyter_aml.envbuild.venv import PKG_DIR
from jupyter_aml.runtime import env as E

PKG_IN_CONTAINER = "/opt/jupyter-aml"
SHIM_IN_CONTAINER = f"{PKG_IN_CONTAINER}/jupyter_aml/_shim"
ATTEMPT_LABEL = "aml.attempt"
JOURNAL_LABEL = "aml.journal"
# What the script gets from the agent's environment besides the run's own variables and the environment's.
PASSED = ("LANG", "LANGUAGE", "TZ", "TERM", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
          "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")
DOCKER_VARS = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH",
               "DOCKER_TLS_VERIFY")
REAPER = """
import subprocess, sys
sys.stdin.buffer.read()  # EOF: the agent closed the pipe, or died
docker, label = sys.argv[1], sys.argv[2]
found = subprocess.run([docker, "ps", "-aq", "--filter", "label=" + label], capture_output=True, text=True)
ids = found.stdout.split()
if ids:
    subprocess.run([docker, "rm", "-f", *ids], capture_output=True)
"""


def container_name(run_id: str) -> str:
    return "aml-run-" + re.sub(r"[^a-zA-Z0-9_.-]", "-", run_id)


def container_hostname(name: str) -> str:
    """The container's own host name (host networking would give it the machine's), at most 63 characters."""
    return re.sub(r"[^a-z0-9-]", "-", name.lower())[:63].strip("-") or "aml-run"


def container_env(script_env: Mapping[str, str], spec_vars: Mapping[str, str], pythonpath: str,
                  home: str | None) -> dict[str, str]:
    """The script's variables inside the container: the run's ``AML_*``/``AZUREML_*``, the environment's own,
    locale and proxies. Host paths (PATH, CA bundles, venvs) stay out: the image has its own."""
    env = {k: v for k, v in script_env.items()
           if k.startswith(("AML_", "AZUREML_", "LC_")) or k in PASSED}
    env.update(spec_vars)
    env[E.JOURNAL] = script_env[E.JOURNAL]
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = pythonpath
    if home:
        env["HOME"] = home
    return env


def run_argv(image: PreparedImage, settings: DockerSettings, *, name: str, attempt: str, run_dir: Path,
             wd: Path, journal: str, env_names: list[str], script_args: list[str]) -> list[str]:
    """``docker run``: values of ``env_names`` come from the CLI's own environment (never its command line)."""
    uid, gid = os.getuid(), os.getgid()
    host = container_hostname(name)
    argv = [image.docker, "run", "--rm", "--init", "--pull", "never", "--name", name,
            "--label", f"{ATTEMPT_LABEL}={attempt}", "--label", f"{JOURNAL_LABEL}={journal}",
            "--network", "host", "--hostname", host, "--add-host", f"{host}:127.0.0.1",
            "-v", f"{run_dir}:{run_dir}", "-v", f"{PKG_DIR}:{PKG_IN_CONTAINER}/jupyter_aml:ro",
            "-w", str(wd)]
    if uid != 0:
        argv += ["--user", f"{uid}:{gid}"]
    if settings.shm_size:
        argv += ["--shm-size", settings.shm_size]
    cpus = held_cpus()
    if cpus:
        argv += ["--cpuset-cpus", cpus]
    memory = held_memory()
    if memory:  # the node's limit: the container's processes are not in the tree the node measures
        argv += ["--memory", str(memory), "--memory-swap", str(memory)]
    for key in env_names:
        argv += ["-e", key]
    return [*argv, "--entrypoint", image.python, image.image, *script_args]


def held_cpus() -> str | None:
    """The CPUs the agent is held to, when fewer than the machine's (a cluster node's vCPUs): the container's
    processes are not the agent's descendants, so they get the same set through ``--cpuset-cpus``."""
    try:
        mine = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    return ",".join(map(str, mine)) if mine and len(mine) < (os.cpu_count() or 0) else None


def held_memory() -> int | None:
    """The memory limit of the cluster node the agent runs on (bytes), if it has one."""
    value = os.environ.get(E.NODE_MEMORY_BYTES, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def new_attempt() -> str:
    return uuid.uuid4().hex


def docker_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Only what the docker CLI needs: nothing of the run (the /proc sweeps must not take the reaper)."""
    source = os.environ if environ is None else environ
    return {k: source[k] for k in DOCKER_VARS if source.get(k)}


def start_reaper(docker: str, attempt: str) -> subprocess.Popen[bytes]:
    """A process in a session of its own that removes this attempt's container once the agent closes the pipe
    (or dies, which closes it too)."""
    return subprocess.Popen([sys.executable, "-I", "-c", REAPER, docker, f"{ATTEMPT_LABEL}={attempt}"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=docker_env(), cwd="/")


def remove_stale(docker: str, name: str, journal: str) -> str | None:
    """Remove an earlier attempt's container of this run (same name and journal); say why not if another
    service's container holds the name."""
    out = subprocess.run([docker, "inspect", "--type", "container", "--format",
                          "{{index .Config.Labels \"" + JOURNAL_LABEL + "\"}}", name],
                         capture_output=True, text=True, timeout=60, env=docker_env(), stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        return None  # no such container
    if out.stdout.strip() != journal:
        return f"a container named {name} that is not this run's exists: remove it (docker rm -f {name})"
    subprocess.run([docker, "rm", "-f", name], capture_output=True, timeout=120, env=docker_env(),
                   stdin=subprocess.DEVNULL)
    return None


def stop_container(docker: str, name: str, grace: float) -> None:
    """SIGTERM to the script (through --init), SIGKILL after ``grace`` seconds; --rm removes it."""
    subprocess.run([docker, "stop", "--time", str(max(0, int(grace))), name], capture_output=True,
                   timeout=grace + 60, env=docker_env(), stdin=subprocess.DEVNULL)


def remove_container(docker: str, name: str) -> None:
    subprocess.run([docker, "rm", "-f", name], capture_output=True, timeout=120, env=docker_env(),
                   stdin=subprocess.DEVNULL)


def exit_message(code: int) -> str:
    """``docker run``'s exit code in words: 125-127 are Docker's own, 128+n a signal inside the container."""
    if code == 125:
        return "the container did not start (docker run exited with code 125; its error is in the log)"
    if code in (126, 127):
        return (f"script exited with code {code} (from docker run: the image's interpreter could not be run, "
                "see the log)")
    if code > 128:
        try:
            name = signal.Signals(code - 128).name
        except ValueError:
            return f"script exited with code {code}"
        hint = " (out of memory?)" if code == 137 else ""
        return f"script was killed by signal {name} in its container{hint}"
    return f"script exited with code {code}"


class ContainerRun:
    """One attempt of a run in a container: its command, the reaper that outlives the agent, stop and end."""

    def __init__(self, image: PreparedImage, settings: DockerSettings, *, run_id: str, run_dir: Path, wd: Path,
                 journal: str) -> None:
        self.image, self.settings = image, settings
        self.run_dir, self.wd, self.journal = run_dir, wd, journal
        self.name = container_name(run_id)
        self.attempt = new_attempt()
        self.reaper: subprocess.Popen[bytes] | None = None

    def command(self, script_args: list[str], run_vars: Mapping[str, str], spec_vars: Mapping[str, str],
                cache_dir: Path, log: Callable[[str], None]) -> tuple[list[str], dict[str, str]]:
        """(argv, environment of the docker CLI) that run ``script_args`` with the image's interpreter."""
        found = probe_image(self.image.docker, self.image.image, self.image.python, cache_dir)
        path = [p for p in spec_vars.get("PYTHONPATH", "").split(os.pathsep) if p] + [PKG_IN_CONTAINER]
        if not found.get("azureml"):
            path.insert(0, SHIM_IN_CONTAINER)
            log("azureml.core is provided by the jupyter-aml shim")
        home = None
        if os.getuid() != 0:  # the image has no home for this uid: give the script one in its folder
            home_dir = self.run_dir / "home"
            home_dir.mkdir(exist_ok=True)
            home = str(home_dir)
        inside = container_env(run_vars, spec_vars, os.pathsep.join(path), home)
        argv = run_argv(self.image, self.settings, name=self.name, attempt=self.attempt, run_dir=self.run_dir,
                        wd=self.wd, journal=self.journal, env_names=sorted(inside), script_args=script_args)
        return argv, {**docker_env(), **inside}

    def start(self) -> str | None:
        """Before ``docker run``: clear an earlier attempt's container and start the reaper; or why it cannot."""
        problem = remove_stale(self.image.docker, self.name, self.journal)
        if problem is None:
            self.reaper = start_reaper(self.image.docker, self.attempt)
        return problem

    def stop(self, grace: float) -> None:
        stop_container(self.image.docker, self.name, grace)

    def end(self) -> None:
        """After the script: the reaper removes the container if the CLI ended before it (--rm did not)."""
        if self.reaper is not None and self.reaper.stdin is not None:
            self.reaper.stdin.close()
            try:
                self.reaper.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.reaper.kill()
