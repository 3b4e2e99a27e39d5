"""The two services under test and the peers' venvs.

* MLflow lives in its own venv under ``benchmarks/.work/mlflow-venv`` (built once with ``uv`` when it
  is on PATH, else ``python -m venv`` + ``pip``; reused while its marker file matches the requested spec).
* MLServer (``mlserver`` + ``mlserver-sklearn``, the second serving peer) lives in
  ``benchmarks/.work/mlserver-venv``, built the same way, with the scikit-learn, numpy and joblib versions
  of our venv pinned so that it loads the same pickle.
* ``mlflow server`` runs on a SQLite backend store; ``aml serve`` on a fresh root. Both listen on
  127.0.0.1 on free ports, each in its own process group that :class:`common.Child` stops by id.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import REPO_ROOT, WORK_DIR, Child, free_port, http_ok

MLFLOW_VENV = WORK_DIR / "mlflow-venv"
MARKER = MLFLOW_VENV / ".bench-ready.json"
MLSERVER_VENV = WORK_DIR / "mlserver-venv"
# uvloop 0.22+ raises in asyncio.get_event_loop() without a running loop, which MLServer 1.7.1's inference
# worker calls at start: the worker dies and the model never loads. 0.21.0 was current when 1.7.1 came out.
MLSERVER_SPEC = ("mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop==0.21.0")


def _base_python() -> str:
    """The interpreter our venv was made from (MLflow's venv gets the same Python version)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return base if Path(base).exists() else sys.executable


def mlflow_python() -> Path:
    return MLFLOW_VENV / "bin" / "python"


def ensure_mlflow_venv(spec: str, log: Callable[[str], None]) -> dict[str, Any]:
    """Build (or reuse) the MLflow venv; return ``{"spec", "version", "built_seconds"|None}``."""
    return ensure_venv(MLFLOW_VENV, [spec], "mlflow", log)


def mlserver_python() -> Path:
    return MLSERVER_VENV / "bin" / "python"


def ensure_mlserver_venv(log: Callable[[str], None]) -> dict[str, Any]:
    """Build (or reuse) MLServer's venv, with our venv's scikit-learn, numpy and joblib (the same pickle loads)."""
    from importlib.metadata import version

    pins = [f"{name}=={version(name)}" for name in ("scikit-learn", "numpy", "joblib")]
    return ensure_venv(MLSERVER_VENV, [*MLSERVER_SPEC, *pins], "mlserver", log)


def ensure_venv(folder: Path, specs: list[str], dist: str, log: Callable[[str], None]) -> dict[str, Any]:
    """Build (or reuse, while its marker names the same requirements) a peer's venv in ``folder``; return
    ``{"spec", "version" (of ``dist``), "installer", "built_seconds"|None}``."""
    spec = " ".join(specs)
    python = folder / "bin" / "python"
    marker = folder / ".bench-ready.json"
    probe = f"from importlib.metadata import version; print(version({dist!r}))"
    if marker.is_file() and python.exists():
        info = json.loads(marker.read_text())
        if info.get("spec") == spec:
            check = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
            if check.returncode == 0 and check.stdout.strip() == info.get("version"):
                log(f"{dist} venv cached: {dist} {info['version']} ({folder})")
                return {**info, "built_seconds": None}
    log(f"building the {dist} venv in {folder} ({spec!r}) ...")
    start = time.monotonic()
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    uv = shutil.which("uv")
    logfile = WORK_DIR / "logs" / f"{folder.name}-build.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "w") as out:

        def run(cmd: list[str]) -> None:
            out.write("$ " + " ".join(cmd) + "\n")
            out.flush()
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed (exit {proc.returncode}); see {logfile}")

        if uv:
            run([uv, "venv", "-q", "--python", _base_python(), str(folder)])
            run([uv, "pip", "install", "-q", "--python", str(python), *specs])
        else:
            run([_base_python(), "-m", "venv", str(folder)])
            run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
            run([str(python), "-m", "pip", "install", "-q", *specs])
    version = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    info = {"spec": spec, "version": version, "installer": "uv" if uv else "pip"}
    marker.write_text(json.dumps(info))
    built = time.monotonic() - start
    log(f"{dist} venv ready: {dist} {version} in {built:.0f} s")
    return {**info, "built_seconds": built}


def start_mlflow(run_dir: Path, workers: int) -> tuple[Child, str]:
    port = free_port()
    store = run_dir / "mlflow"
    store.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(mlflow_python()),
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{store / 'mlflow.db'}",
        "--default-artifact-root",
        str(store / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    child = Child("mlflow", cmd, log=run_dir / "logs" / "mlflow-server.log", cwd=store, env=env)
    return child, f"http://127.0.0.1:{port}"


def start_aml(run_dir: Path) -> tuple[Child, Path]:
    port = free_port()
    root = run_dir / "aml-root"
    root.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "jupyter_aml.cli", "serve", "--root", str(root), "--port", str(port)]
    env = dict(os.environ)
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *extra])
    for name in ("JUPYTER_AML_URL", "JUPYTER_AML_TOKEN", "AML_SERVICE_URL", "AML_RUN_ID", "AML_RUN_TOKEN"):
        env.pop(name, None)
    child = Child("aml", cmd, log=run_dir / "logs" / "aml-serve.log", cwd=root, env=env)
    return child, root


def wait_mlflow(child: Child, url: str, timeout: float) -> float:
    """Wait for ``/health``; return the seconds since the server was started."""
    start = child.started
    while time.monotonic() - start < timeout:
        if not child.alive():
            raise RuntimeError(f"mlflow server exited ({child.proc.returncode}):\n{child.log_tail()}")
        if http_ok(url + "/health"):
            return time.monotonic() - start
        time.sleep(0.25)
    raise RuntimeError(f"mlflow server did not answer within {timeout:.0f} s:\n{child.log_tail()}")


def wait_aml(child: Child, root: Path, timeout: float) -> tuple[str, str, float]:
    """Wait for ``<root>/service.json`` and an answering ``/health``; return (url, token, seconds since start)."""
    from jupyter_aml.errors import AMLError
    from jupyter_aml.runtime.http import ServiceClient

    start = child.started
    while time.monotonic() - start < timeout:
        if not child.alive():
            raise RuntimeError(f"aml serve exited ({child.proc.returncode}):\n{child.log_tail()}")
        try:
            info = json.loads((root / "service.json").read_text())
            if int(info.get("pid", 0)) == child.proc.pid:
                client = ServiceClient(info["url"], info["token"], timeout=5)
                try:
                    client.get("health")
                    return info["url"], info["token"], time.monotonic() - start
                except AMLError:
                    pass
                finally:
                    client.close()
        except (FileNotFoundError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"aml serve did not answer within {timeout:.0f} s:\n{child.log_tail()}")
