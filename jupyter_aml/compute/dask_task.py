"""The function a Dask worker runs for one run: start the run's agent, stop it when asked, never twice.

Dask's defaults are wrong for training runs (../docs/compute.md lists them): a cancelled future does not stop
the process a task started, and a worker's death re-runs the task elsewhere. So:

- the task marks the run started in a scheduler-side ``Event`` first, and a second attempt (a re-run after a
  worker died, on a scheduler whose ``allowed-failures`` is not 0) refuses to start the script again and
  returns ``NODE_LOST``, which the service reports as Failed;
- the agent starts in a session of its own through ``jupyter_aml.compute.deathsig``, so it dies with the
  worker (no orphan), and the task stops its whole group when the run's stop ``Event`` is set;
- the agent gets the environment the service computed (an allowlist), never the worker's, whose nanny set
  OMP/MKL/OPENBLAS_NUM_THREADS=1 and MALLOC_TRIM_THRESHOLD_;
- the node's memory limit (its VM size) holds for the script: Dask's own monitor measures only the worker
  process, so the task sums the resident memory of the agent's whole process tree and stops the script that
  passes it, saying why on the script's stderr (as a container's OOM kill would stop it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

NODE_LOST = -1000  # the task found its run already started once: its first node was lost
STOP_GRACE_SECONDS = 20.0


def started_event(run_id: str) -> str:
    return f"aml-started-{run_id}"


def stop_event(run_id: str) -> str:
    return f"aml-stop-{run_id}"


def run_agent(run_id: str, argv: list[str], env: dict[str, str], cwd: str, *, python: str | None = None,
              grace: float = STOP_GRACE_SECONDS, poll: float = 0.5, ignore_sigterm: bool = False,
              memory_limit: int | None = None, cpus: float | None = None) -> int:
    """Run ``argv`` (the agent's command line) on this worker until it exits or the run is stopped; its code."""
    import distributed

    dask: Any = distributed  # untyped for mypy --strict
    started = dask.Event(started_event(run_id))
    if started.is_set():
        return NODE_LOST
    started.set()
    return _agent_process(run_id, argv, env, cwd, [dask.Event(stop_event(run_id))], python=python, grace=grace,
                          poll=poll, ignore_sigterm=ignore_sigterm, memory_limit=memory_limit, cpus=cpus)


def _agent_process(run_id: str, argv: list[str], env: dict[str, str], cwd: str, stops: list[Any], *,
                   python: str | None, grace: float, poll: float, ignore_sigterm: bool, memory_limit: int | None,
                   cpus: float | None) -> int:
    """Start the agent in a session of its own (dying with this worker) and wait for it; any of the ``stops``
    Events set stops its whole group."""
    os.makedirs(cwd, mode=0o700, exist_ok=True)
    if memory_limit:  # a Docker run's container is outside the tree held below: it gets the limit itself
        env = {**env, "AML_NODE_MEMORY_BYTES": str(int(memory_limit))}
    with open(os.path.join(cwd, "agent.log"), "ab") as log:
        proc = subprocess.Popen(
            [python or sys.executable, "-m", "jupyter_aml.compute.deathsig",
             *(["--ignore-sigterm"] if ignore_sigterm else []), *argv],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env,
            start_new_session=True,
        )
    if cpus:
        _hold_cpus(proc.pid, cpus)
    while proc.poll() is None:
        if stops[0].wait(timeout=poll) or any(ev.is_set() for ev in stops[1:]):
            _stop_group(proc, grace)
            break
        if memory_limit:
            _hold_memory(proc.pid, memory_limit)
    return proc.wait()


def _hold_cpus(agent_pid: int, cpus: float) -> None:
    """Hold the run to its node's vCPUs: the agent (and so the script it starts) may use ceil(cpus) of this
    machine's CPUs, chosen from this worker's name so that nodes on one machine spread over its CPUs. A size with
    as many vCPUs as the machine has, or more, leaves the run on all of them."""
    import math

    import psutil

    try:
        available = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return
    want = max(1, math.ceil(cpus))
    if want >= len(available):
        return
    try:
        from distributed import get_worker

        seed = sum(str(get_worker().name).encode())
    except Exception:  # not inside a worker (a test calling the function directly)
        seed = os.getpid()
    chosen = [available[(seed + i) % len(available)] for i in range(want)]
    with contextlib.suppress(psutil.Error, OSError):
        psutil.Process(agent_pid).cpu_affinity(chosen)


def _hold_memory(agent_pid: int, limit: int) -> None:
    """Stop the script (the agent's descendants) when the tree's resident memory passes ``limit`` bytes; the
    agent lives on to report the run Failed with its logs and outputs."""
    import psutil

    try:
        agent = psutil.Process(agent_pid)
        tree = [agent, *agent.children(recursive=True)]
        used = sum(p.memory_info().rss for p in tree if p.is_running())
    except psutil.Error:
        return
    if used <= limit:
        return
    script = tree[1:]
    message = (f"\njupyter-aml: the run used {used / 2**30:.2f} GiB of memory, more than its node's limit of "
               f"{limit / 2**30:.2f} GiB (the compute's vm_size); the script was stopped. Pick a larger "
               "vm_size or use less memory.\n")
    for victim in script:
        with contextlib.suppress(OSError):  # its stderr is the agent's pipe: the message lands in the run's logs
            with open(f"/proc/{victim.pid}/fd/2", "w") as err:
                err.write(message)
            break
    for victim in script:
        with contextlib.suppress(psutil.Error):
            victim.kill()


def _stop_group(proc: subprocess.Popen[Any], grace: float) -> None:
    """SIGTERM the agent's group (it stops its script and reports Canceled), SIGKILL what is left after ``grace``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
