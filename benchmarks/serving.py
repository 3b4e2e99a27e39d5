"""Scenarios 6 (serving) and 7 (model registration): our side, MLflow's model server, and the measurements
shared by both sides (load runs through ``loadgen.py``, CPU and memory of process trees from ``/proc``).

Runs in the benchmark process (our venv). MLflow's logging and registration calls run in MLflow's venv
through ``mlflow_side.py``; ``mlflow models serve`` is started here as a :class:`common.Child`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common import BENCH_DIR, Child, free_port, median, parse_result

from jupyter_aml import Experiment, InferenceConfig, LocalWebservice, Model, Workspace

SCORE_PY = '''\
"""Scenario 6's scoring script (Azure ML v1 style): the digits classifier, one row or many per request."""
import json
import os

import joblib
import numpy as np


def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"))


def run(raw_data):
    data = np.asarray(json.loads(raw_data)["data"], dtype=np.float64)
    return model.predict(data).tolist()
'''

CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the model ---------------------------------------------------------------------------------------------
def train_digits(path: Path, rows: int = 64, seed: int = 0) -> dict[str, Any]:
    """Fit a LogisticRegression on sklearn's bundled digits and pickle it with joblib at ``path``.

    Returns the sample rows the load generator sends (the first ``rows`` images), their predictions and the
    versions the pickle needs (MLflow's venv loads the same file, so its scikit-learn must match)."""
    import warnings

    import joblib
    import numpy as np
    import sklearn
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    x, y = load_digits(return_X_y=True)
    start = time.perf_counter()
    with warnings.catch_warnings(), threadpool_limits(1):  # BLAS threads make this fit 10-100x slower here
        warnings.simplefilter("ignore")  # lbfgs convergence chatter on the raw 0..16 pixels
        model = LogisticRegression(max_iter=3000, random_state=seed).fit(x, y)
    fit_s = time.perf_counter() - start
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    sample = x[:rows]
    return {
        "model_file": str(path),
        "model_bytes": path.stat().st_size,
        "fit_s": fit_s,
        "train_accuracy": float(model.score(x, y)),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
        "rows": sample.tolist(),
        "predictions": [int(p) for p in model.predict(sample)],
        "model": model,
    }


# -- processes -----------------------------------------------------------------------------------------------
def _proc_table() -> dict[int, tuple[int, float]]:
    """``{pid: (ppid, cpu seconds)}`` of every process."""
    table: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                data = handle.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2 :].split()
        table[int(entry)] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / CLK_TCK)
    return table


def process_tree(root: int, table: dict[int, tuple[int, float]] | None = None, tree: bool = True) -> list[int]:
    """``root`` and all its descendants (that are alive); only ``root`` when ``tree`` is false."""
    table = table if table is not None else _proc_table()
    if root not in table:
        return []
    if not tree:
        return [root]
    children: dict[int, list[int]] = {}
    for pid, (ppid, _cpu) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _kb(path: str, key: str) -> int:
    with contextlib.suppress(OSError), open(path) as handle:
        for line in handle:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def memory(root: int, tree: bool = True) -> dict[str, Any]:
    """RSS (and PSS, which splits shared pages fairly) of ``root`` and its descendants, in MB."""
    pids = process_tree(root, tree=tree)
    procs = []
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        procs.append(
            {
                "pid": pid,
                "rss_mb": _kb(f"/proc/{pid}/status", "VmRSS:") / 1024,
                "pss_mb": _kb(f"/proc/{pid}/smaps_rollup", "Pss:") / 1024,
                "cmd": cmd[:160],
            }
        )
    return {
        "processes": len(procs),
        "rss_mb": sum(p["rss_mb"] for p in procs),
        "pss_mb": sum(p["pss_mb"] for p in procs),
        "detail": procs,
    }


def cpu_of(roots: dict[str, tuple[int, bool]]) -> dict[str, float]:
    """CPU seconds used so far by each named process (``(pid, with its descendants?)``)."""
    table = _proc_table()
    return {name: sum(table[p][1] for p in process_tree(pid, table, tree)) for name, (pid, tree) in roots.items()}


# -- HTTP ----------------------------------------------------------------------------------------------------
def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 60) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path, body=body, headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def first_good(
    url: str,
    body: bytes,
    headers: dict[str, str],
    check: Callable[[bytes], bool],
    timeout: float,
    alive: Callable[[], bool] = lambda: True,
    poll: float = 0.02,
) -> tuple[float, int]:
    """POST until an answer is 200 and passes ``check``; return (time.monotonic() of that answer, attempts)."""
    deadline = time.monotonic() + timeout
    attempts = 0
    last = ""
    while time.monotonic() < deadline:
        attempts += 1
        try:
            status, answer = post(url, body, headers, timeout=max(1.0, deadline - time.monotonic()))
            if status == 200 and check(answer):
                return time.monotonic(), attempts
            last = f"{status} {answer[:200]!r}"
        except (OSError, http.client.HTTPException) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if not alive():
            raise RuntimeError(f"the server exited before answering ({last})")
        time.sleep(poll)
    raise RuntimeError(f"no good answer from {url} within {timeout:.0f} s (last: {last})")


def run_load(
    url: str,
    bodies: list[str],
    headers: dict[str, str],
    concurrency: int,
    duration: float,
    warmup: float,
    work: Path,
    watch: dict[str, tuple[int, bool]],
) -> dict[str, Any]:
    """Run ``loadgen.py`` in its own process; also report the CPU the watched processes used meanwhile, as a
    share of one core over the generator's whole run and per answered request (warm-up included in both)."""
    bodies_file = work / "bodies.json"
    bodies_file.write_text(json.dumps(bodies))
    cmd = [
        sys.executable,
        str(BENCH_DIR / "loadgen.py"),
        "--url",
        url,
        "--bodies",
        str(bodies_file),
        "--concurrency",
        str(concurrency),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
    ]
    for name, value in headers.items():
        cmd += ["--header", f"{name}: {value}"]
    load_before = os.getloadavg()
    cpu0, t0 = cpu_of(watch), time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + warmup + 120)
    wall = time.monotonic() - t0
    cpu1 = cpu_of(watch)
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    result = parse_result(proc.stdout)
    result["server_cpu_util"] = {name: (cpu1[name] - cpu0[name]) / wall for name in watch}
    answered = max(1, int(result.get("requests_with_warmup") or result["requests"]))
    result["server_cpu_us_per_request"] = {name: (cpu1[name] - cpu0[name]) / answered * 1e6 for name in watch}
    result["loadavg_before"] = load_before
    result["loadavg_after"] = os.getloadavg()
    bad = sum(v for k, v in result["statuses"].items() if k != "200") + sum(result["connection_errors"].values())
    if bad or not result["requests"]:
        raise RuntimeError(
            f"load run had {bad} failed of {result['requests']} requests: {result['statuses']} "
            f"{result['connection_errors']} sample {result['sample']}"
        )
    return result


# -- our side ------------------------------------------------------------------------------------------------
def wait_for_warm(timeout: float = 60) -> float:
    """Wait until every idle warm replica process of this machine has finished importing; the seconds waited.

    They are found by their sandbox's command line (``bwrap ... python -m jupyter_aml.serving.warm``), whose
    read-only binds name their slot folder; an idle one has written ``<slot>/replicas/warm-ready.json`` (renamed
    ``warm-taken.json`` once it is a replica)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        pending = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if "jupyter_aml.serving.warm" not in argv or "--ro-bind" not in argv:
                continue
            slots = [a for a in argv if "/serving/warm/" in a and not a.endswith("/replicas")]
            done = [Path(slots[0]) / "replicas" / f for f in ("warm-ready.json", "warm-taken.json")] if slots else []
            if done and not any(p.is_file() for p in done):
                pending += 1
        if not pending:
            break
        time.sleep(0.05)
    return time.monotonic() - t0


@dataclass
class OursServing:
    ws: Workspace
    work: Path
    log: Callable[[str], None]
    deployed: list[Any] = field(default_factory=list)

    def score_dir(self) -> Path:
        folder = self.work / "src" / "serving"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "score.py").write_text(SCORE_PY)
        return folder

    def register(self, model_file: Path, name: str) -> Model:
        return Model.register(self.ws, model_path=str(model_file), model_name=name)

    def deploy(self, model: Model, name: str, body: bytes, expect: list[int], replicas: int = 1) -> dict[str, Any]:
        """``Model.deploy`` -> the first good 200 answer (the cold start), then ``wait_for_deployment``.

        When the environment has a warm replica process (``jupyter_aml.serving.warm``) still importing, the
        deploy waits for it first (``warm_wait_s``): the cold start measured is that of a deploy that finds
        the environment's warm process ready, as one does that does not come within seconds of the last."""
        warm_wait = wait_for_warm()
        inference = InferenceConfig(entry_script="score.py", source_directory=str(self.score_dir()))
        config = LocalWebservice.deploy_configuration(replicas=replicas)
        t0 = time.monotonic()
        service = Model.deploy(self.ws, name, [model], inference, config, overwrite=True)
        self.deployed.append(service)
        t_deploy = time.monotonic()
        key = service.get_keys()[0]
        t_key = time.monotonic()
        headers = {"Authorization": f"Bearer {key}"}
        # the balancer holds a request until a replica is ready, so this first POST usually is the good one
        t_good, attempts = first_good(service.scoring_uri, body, headers, lambda a: json.loads(a) == expect, 120)
        service.wait_for_deployment()
        details = service.get_details()
        logs = [line for line in service.get_logs(num_lines=50).splitlines() if line.strip()]
        init = [float(m.group(1)) for line in logs if (m := re.search(r"\[replica\] ready in ([0-9.]+) s", line))]
        return {
            "service": service,
            "name": name,
            "scoring_uri": service.scoring_uri,
            "headers": headers,
            "cold_start_s": t_good - t0,
            "deploy_call_s": t_deploy - t0,
            "get_keys_s": t_key - t_deploy,
            "attempts": attempts,
            "state": details["state"],
            "replica_pids": [r["pid"] for r in details.get("replicas") or [] if r.get("pid")],
            "replica_init_s": init[-1] if init else None,  # the scoring script's import + init(), per its replica
            # a replica taken from the environment's pre-started process (jupyter_aml.serving.warm)
            "started_warm": any("started warm" in line for line in logs),
            "warm_wait_s": warm_wait,
            "log": logs[-12:],
        }

    def delete_all(self) -> None:
        while self.deployed:
            service = self.deployed.pop()
            with contextlib.suppress(Exception):
                service.delete()

    # -- scenario 7 --------------------------------------------------------------------------------------------
    def register_repeat(self, model: Any, repeat: int, name: str) -> dict[str, Any]:
        """``joblib.dump`` + ``Model.register`` of a new pickle each time (a distinct file: nothing dedups)."""
        import joblib

        folder = self.work / "src" / "register"
        folder.mkdir(parents=True, exist_ok=True)
        times, versions = [], []
        for i in range(repeat):
            model.bench_iteration = i  # a different pickle each time, like a retrained model
            path = folder / f"v{i}" / "model.pkl"
            path.parent.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            joblib.dump(model, path)
            registered = Model.register(
                self.ws, model_path=str(path), model_name=name, model_framework=Model.Framework.SCIKITLEARN
            )
            times.append(time.perf_counter() - t0)
            versions.append(registered.version)
        if versions != list(range(versions[0], versions[0] + repeat)):
            raise RuntimeError(f"unexpected versions {versions}")
        return {"times": times, "median_s": median(times), "versions": versions}

    def register_from_run_repeat(self, model: Any, repeat: int, name: str) -> dict[str, Any]:
        """In an interactive run: ``joblib.dump`` + ``run.upload_file('outputs/model.pkl')`` +
        ``run.register_model`` (the run is created before the timer, completed after it)."""
        import joblib

        folder = self.work / "src" / "register-run"
        folder.mkdir(parents=True, exist_ok=True)
        exp = Experiment(self.ws, "bench-register")
        times, versions = [], []
        for i in range(repeat):
            model.bench_iteration = 1000 + i
            run = exp.start_logging(display_name=f"register-{i}")
            path = folder / f"r{i}" / "model.pkl"
            path.parent.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            joblib.dump(model, path)
            run.upload_file("outputs/model.pkl", str(path))
            registered = run.register_model(
                name, model_path="outputs/model.pkl", model_framework=Model.Framework.SCIKITLEARN
            )
            times.append(time.perf_counter() - t0)
            run.complete()
            versions.append(registered.version)
            if registered.run_id != run.id:
                raise RuntimeError(f"model {registered.id} does not name run {run.id}")
        return {"times": times, "median_s": median(times), "versions": versions}


# -- MLflow's model server -----------------------------------------------------------------------------------
def start_mlflow_serve(
    python: Path, model_uri: str, tracking_uri: str, log: Path, cwd: Path, workers: int = 1
) -> tuple[Child, str]:
    """``mlflow models serve -m URI --env-manager local`` (its CLI starts ``uvicorn`` with ``workers``)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = str(python.parent) + os.pathsep + env.get("PATH", "")  # the CLI runs `uvicorn` from PATH
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    cmd = [
        str(python),
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "--workers",
        str(workers),
    ]
    return Child("mlflow-models-serve", cmd, log=log, cwd=cwd, env=env), f"http://127.0.0.1:{port}/invocations"


def wait_log(child: Child, text: str, count: int, timeout: float) -> bool:
    """Wait until ``text`` appears ``count`` times in the child's log (e.g. every uvicorn worker started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.alive():
        if child.log_tail(1 << 20).count(text) >= count:
            return True
        time.sleep(0.1)
    return False
