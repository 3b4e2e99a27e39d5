"""``python -m jupyter_aml.compute.dask_host --state-dir DIR ...``: the process that owns an embedded AmlCompute
cluster (a ``distributed.LocalCluster``, one worker process per node), or the cluster manager a compute names
with ``cluster_class`` (dask-jobqueue's ``SLURMCluster``, dask-kubernetes' ``KubeCluster``, ...), built with
its ``cluster_kwargs``; either way it adapts between the compute's node counts.

It runs detached from the service, so runs on the cluster keep going through a service restart and the service
reconnects to the scheduler address this process writes to ``DIR/host.json``. It configures Dask for training
runs before anything is imported (docs/compute.md): no task is retried after a worker dies
(``allowed-failures`` 0), a 1-thread worker is never double-booked (``worker-saturation`` 1.0), the nanny
leaves the BLAS/OpenMP thread variables alone, and every listener binds 127.0.0.1 unless ``--host`` says
otherwise. It adapts between ``min_nodes`` and ``max_nodes`` and scales down after ``idle_seconds``, re-reading
``DIR/settings.json`` when the service changes them; SIGTERM closes the cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

# What the nanny would set in every worker (and in this process) unless told None (a dict merge keeps the rest).
NANNY_ENVIRON = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_")
NODE_RESOURCE = "node"  # every worker holds one, every run asks for one: one run per node


def dask_settings() -> dict[str, Any]:
    return {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,
        "distributed.nanny.pre-spawn-environ": dict.fromkeys(NANNY_ENVIRON),
        "distributed.worker.daemon": False,  # a run's agent may use multiprocessing
    }


def adapt_timing(idle_seconds: float) -> tuple[float, int]:
    """(interval, wait_count) whose product is ``idle_seconds``: Adaptive retires a worker after it was
    idle for ``wait_count`` consecutive ticks."""
    interval = min(1.0, max(0.2, idle_seconds / 3 if idle_seconds else 0.2))
    return interval, max(1, round(idle_seconds / interval))


def load_class(path: str) -> Any:
    """``module:Class`` or ``module.Class`` -> the class (ImportError/AttributeError say what is missing)."""
    import importlib

    module, _, name = path.partition(":") if ":" in path else path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def class_problem(path: str) -> str | None:
    """Why ``path`` cannot name a cluster manager here (its package is not installed), or None; imports nothing
    of the package itself."""
    import importlib.util

    module = path.partition(":")[0] if ":" in path else path.rpartition(".")[0]
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        return f"module {module!r} of cluster_class {path!r} is not installed in the service's environment"
    return None


def publish_starting(cluster: Any) -> None:
    """Tell the scheduler (it runs in this process) which nodes the cluster asked for that have not joined yet,
    so the service can show them as starting; a cluster manager without a worker spec shows none."""
    scheduler = getattr(cluster, "scheduler", None)
    spec = getattr(cluster, "worker_spec", None)
    if scheduler is None or not isinstance(spec, dict):
        return
    joined = {str(w.name) for w in list(scheduler.workers.values())}
    scheduler.aml_starting = sorted(str(name) for name in list(spec) if str(name) not in joined)


def read_settings(state_dir: Path) -> dict[str, Any]:
    return dict(json.loads((state_dir / "settings.json").read_text()))


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m jupyter_aml.compute.dask_host")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir
    settings = read_settings(state_dir)

    # Workers of any cluster manager that inherit this environment offer one node each (others are told so in
    # their own worker options: docs/compute.md).
    os.environ.setdefault(f"DASK_DISTRIBUTED__WORKER__RESOURCES__{NODE_RESOURCE.upper()}", "1")
    import dask

    dask.config.set(dask_settings())
    import distributed

    dask_: Any = distributed  # untyped for mypy --strict
    if settings.get("cluster_class"):
        cluster = load_class(str(settings["cluster_class"]))(**dict(settings.get("cluster_kwargs") or {}))
    else:
        cluster = dask_.LocalCluster(
            n_workers=0, threads_per_worker=1, processes=True, host=args.host, scheduler_port=args.port,
            dashboard_address=f"{args.host}:0", resources={NODE_RESOURCE: 1},
            memory_limit=settings.get("memory_limit") or "auto",
        )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())

    def adapt(current: dict[str, Any]) -> None:
        interval, wait_count = adapt_timing(float(current.get("idle_seconds_before_scaledown", 1800)))
        cluster.adapt(minimum=int(current.get("min_nodes", 0)), maximum=int(current.get("max_nodes", 1)),
                      interval=f"{interval}s", wait_count=wait_count, target_duration="1ms")

    adapt(settings)
    _write_private(state_dir / "host.json", json.dumps({"address": cluster.scheduler_address, "pid": os.getpid()}))
    seen = (state_dir / "settings.json").stat().st_mtime_ns
    while not stopping.wait(0.25):
        publish_starting(cluster)
        try:
            mtime = (state_dir / "settings.json").stat().st_mtime_ns
            if mtime != seen:
                seen = mtime
                adapt(read_settings(state_dir))
        except (OSError, ValueError) as exc:  # a half-written file: read it again next tick
            print(f"settings not read: {exc}", file=sys.stderr, flush=True)
    cluster.close(timeout=10)


if __name__ == "__main__":
    main()
