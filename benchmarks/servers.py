"""The two services under test and MLflow's venv.

* MLflow lives in its own venv under ``benchmarks/.work/mlflow-venv`` (built once with ``uv`` when it
  is on PATH, else ``python -m venv`` + ``pip``; reused while its marker file matches the requested spec).
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


def _base_python() -> str:
    """The interpreter our venv was made from (MLflow's venv gets the same Python version)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return base if Path(base).exists() else sys.executable


def mlflow_python() -> Path:
    return MLFLOW_VENV / "bin" / "python"


def ensure_mlflow_venv(spec: str, log: Callable[[str], None]) -> dict[str, Any]:
    """Build (or reuse) the MLflow venv; return ``{"spec", "version", "built_seconds"|None}``."""
    python = mlflow_python()
    if MARKER.is_file() and python.exists():
        info = json.loads(MARKER.read_text())
        if info.get("spec") == spec:
            check = subprocess.run(
                [str(python), "-c", "from importlib.metadata import version; print(version('mlflow'))"],
                capture_output=True,
                text=True,
            )
            if check.returncode == 0 and check.stdout.strip() == info.get("version"):
                log(f"MLflow venv cached: mlflow {info['version']} ({MLFLOW_VENV})")
                return {**info, "built_seconds": None}
    log(f"building the MLflow venv in {MLFLOW_VENV} ({spec!r}) ...")
    start = time.monotonic()
    if MLFLOW_VENV.exists():
        shutil.rmtree(MLFLOW_VENV)
    MLFLOW_VENV.parent.mkdir(parents=True, exist_ok=True)
    uv = shutil.which("uv")
    logfile = WORK_DIR / "logs" / "mlflow-venv-build.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "w") as out:

        def run(cmd: list[str]) -> None:
            out.write("$ " + " ".join(cmd) + "\n")
            out.flush()
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed (exit {proc.returncode}); see {logfile}")

        if uv:
            run([uv, "venv", "-q", "--python", _base_python(), str(MLFLOW_VENV)])
            run([uv, "pip", "install", "-q", "--python", str(python), spec])
        else:
            run([_base_python(), "-m", "venv", str(MLFLOW_VENV)])
            run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
            run([str(python), "-m", "pip", "install", "-q", spec])
    version = subprocess.run(
        [str(python), "-c", "import mlflow; print(mlflow.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    info = {"spec": spec, "version": version, "installer": "uv" if uv else "pip"}
    MARKER.write_text(json.dumps(info))
    built = time.monotonic() - start
    log(f"MLflow venv ready: mlflow {version} in {built:.0f} s")
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
