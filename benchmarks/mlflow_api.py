"""The MLflow REST API (jupyter_aml/mlflow_api) against ``mlflow server`` (SQLite), in one run, through the same
real ``mlflow`` client on both sides: the client runs in MLflow's venv (``benchmarks/.work/mlflow-venv``) and
only its tracking URI differs (``http://HOST:PORT/aml/mlflow`` with ``MLFLOW_TRACKING_TOKEN`` for ours).

    python benchmarks/run.py --only mlflow

Scenarios (only the measured client calls are inside the timers):

- ``log_batch`` ingest: 100 calls of 1,000 metric points into one run (points per second);
- ``get_metric_history`` of those 100k points (the client pages through them), median of 3;
- ``search_runs`` over 10,000 runs (10 params, 10 metrics, 2 tags each) ordered by ``metrics.m1 DESC``, one
  page of 100 with every run's data, median of 5. The runs are written straight into each server's SQLite
  file while it runs (seeding is not measured): each side's own tables, the same data (benchmarks/search.py);
- ``mlflow.sklearn.log_model`` + ``mlflow.register_model`` of a small scikit-learn model (``pip_requirements``
  given, so neither side spends its time in MLflow's requirement inference), median of 3.

Target: ours at least 10x MLflow's on each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from common import emit_result, median, parse_result  # noqa: E402

POINTS, BATCH = 100_000, 1000
SEARCH_RUNS, SEARCH_PAGE, SEARCH_ORDER = 10_000, 100, ["metrics.m1 DESC"]
REPEAT_HISTORY, REPEAT_SEARCH, REPEAT_MODEL = 3, 5, 3


# -- the client side (MLflow's venv) -----------------------------------------------------------------------
def client_ingest(client: Any, args: argparse.Namespace) -> dict[str, Any]:
    from mlflow.entities import Metric

    exp_id = client.create_experiment(f"api-ingest-{time.time_ns()}")
    run_id = client.create_run(exp_id).info.run_id
    base = int(time.time() * 1000)
    batches = [[Metric("loss", 1.0 / (i + 1), base + i, i) for i in range(s, min(s + BATCH, POINTS))]
               for s in range(0, POINTS, BATCH)]
    calls = []
    start = time.perf_counter()
    for batch in batches:
        t0 = time.perf_counter()
        client.log_batch(run_id, metrics=batch)
        calls.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    times = []
    count = 0
    for _ in range(REPEAT_HISTORY):
        t0 = time.perf_counter()
        count = len(client.get_metric_history(run_id, "loss"))
        times.append(time.perf_counter() - t0)
    return {"points_per_s": POINTS / seconds, "seconds": seconds, "log_batch_ms_median": median(calls) * 1e3,
            "history_s": median(times), "history_times": times, "history_points": count}


def client_search(client: Any, args: argparse.Namespace) -> dict[str, Any]:
    times, names = [], []
    for _ in range(REPEAT_SEARCH):
        t0 = time.perf_counter()
        page = client.search_runs([args.experiment_id], order_by=SEARCH_ORDER, max_results=SEARCH_PAGE)
        times.append(time.perf_counter() - t0)
        names = [r.info.run_name for r in page[:5]]
    return {"search_s": median(times), "search_times": times, "first_names": names, "page": len(page)}


def client_model(client: Any, args: argparse.Namespace) -> dict[str, Any]:
    import mlflow
    import mlflow.sklearn
    import numpy as np
    import sklearn
    from sklearn.linear_model import LinearRegression

    x = np.arange(20, dtype=float).reshape(-1, 1)
    model = LinearRegression().fit(x, 2 * x[:, 0] + 1)
    mlflow.set_tracking_uri(args.url)
    mlflow.set_experiment(f"api-model-{time.time_ns()}")
    name = f"api-model-{time.time_ns()}"
    times, log_times, reg_times = [], [], []
    with mlflow.start_run():
        for i in range(REPEAT_MODEL):
            model.bench_iteration = i  # other bytes each time
            t0 = time.perf_counter()
            info = mlflow.sklearn.log_model(model, name="model",
                                            pip_requirements=[f"scikit-learn=={sklearn.__version__}"])
            t1 = time.perf_counter()
            mlflow.register_model(info.model_uri, name)
            t2 = time.perf_counter()
            times.append(t2 - t0)
            log_times.append(t1 - t0)
            reg_times.append(t2 - t1)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/{REPEAT_MODEL}")
    return {"model_s": median(times), "times": times, "log_model_s": median(log_times),
            "register_model_s": median(reg_times), "prediction": float(loaded.predict(np.array([[3.0]]))[0])}


def client_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["ingest", "search", "model", "experiment"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--experiment-id", default="")
    parser.add_argument("--name", default="")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=args.url)
    if args.scenario == "experiment":
        emit_result({"experiment_id": client.create_experiment(args.name)})
        return
    emit_result({"ingest": client_ingest, "search": client_search, "model": client_model}[args.scenario](client, args))


# -- the driver (our venv) ---------------------------------------------------------------------------------
def _client(bench: Any, side: str, scenario: str, *extra: str, timeout: float = 3600) -> dict[str, Any]:
    from servers import mlflow_python

    url = bench.mlflow_url if side == "mlflow" else bench.aml_url.removesuffix("/aml/api/v1") + "/aml/mlflow"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MLFLOW_TRACKING_TOKEN")}
    if side == "ours":
        env["MLFLOW_TRACKING_TOKEN"] = bench.aml_token
    cmd = [str(mlflow_python()), str(Path(__file__).resolve()), "--client", scenario, "--url", url, *extra]
    profile = os.environ.get("MLFLOW_API_PROFILE")  # a folder: py-spy records both processes of our side
    server = None
    if profile and side == "ours" and scenario != "experiment":
        spy = str(Path(sys.executable).with_name("py-spy"))
        Path(profile).mkdir(parents=True, exist_ok=True)
        cmd = [spy, "record", "-f", "raw", "-r", "50", "-o", f"{profile}/client-{scenario}.txt", "--", *cmd]
        server = subprocess.Popen([spy, "record", "-f", "raw", "-r", "50", "-p", str(bench.aml_pid), "-o",
                                   f"{profile}/server-{scenario}.txt"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if server is not None:
        server.send_signal(2)  # py-spy writes its file on SIGINT
        server.wait(timeout=60)
    (bench.run_dir / "logs" / f"mlflow-api-{side}-{scenario}.log").write_text(
        f"$ {' '.join(cmd)}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    if proc.returncode != 0:
        raise RuntimeError(f"the MLflow client ({side}, {scenario}) failed: {proc.stderr[-3000:]}")
    return parse_result(proc.stdout)


def _seed_ours(bench: Any, experiment_id: str) -> None:
    """The search runs, straight into the running service's store (its own tables; benchmarks/search.py)."""
    from datetime import datetime, timezone

    from search import run_data
    from sqlalchemy import create_engine, insert, select

    from jupyter_aml.core.settings import ServiceSettings
    from jupyter_aml.store.tables import ExperimentRow, MetricSeriesRow, RunPropertyRow, RunRow, RunTagRow

    engine = create_engine(ServiceSettings(root=bench.aml_root).db_url)
    with engine.begin() as con:
        exp = con.execute(select(ExperimentRow.id, ExperimentRow.workspace_id)
                          .where(ExperimentRow.id == int(experiment_id))).one()
        for start in range(0, SEARCH_RUNS, 2000):
            runs, props, tags, series = [], [], [], []
            for i in range(start, min(SEARCH_RUNS, start + 2000)):
                d = run_data(i)
                rid = f"run-{i:07d}"
                at = datetime.fromtimestamp(d["start_ms"] / 1000, tz=timezone.utc)
                runs.append({"id": rid, "workspace_id": exp.workspace_id, "experiment_id": exp.id, "number": i + 1,
                             "display_number": str(i + 1), "root_id": rid, "path": f"/{rid}/", "kind": "interactive",
                             "display_name": rid, "description": "", "status": "Completed", "created_at": at,
                             "start_time": at, "end_time": at, "submitter": "bench", "child_count": 0})
                props += [{"run_id": rid, "key": k, "value": v} for k, v in d["params"].items()]
                tags += [{"run_id": rid, "key": k, "value": v} for k, v in d["tags"].items()]
                series += [{"run_id": rid, "name": m, "kind": "scalar", "description": "", "count": 3,
                            "last_value": p[-1], "last_step": 2.0, "min_value": min(p), "max_value": max(p),
                            "value_type": "f", "last_json": json.dumps(["f", p[-1]])}
                           for m, p in d["metrics"].items()]
            con.execute(insert(RunRow), runs)
            con.execute(insert(RunPropertyRow), props)
            con.execute(insert(RunTagRow), tags)
            con.execute(insert(MetricSeriesRow), series)
    engine.dispose()


def _seed_mlflow(bench: Any, experiment_id: str) -> None:
    """The same runs, straight into ``mlflow server``'s SQLite file (MLflow's tables)."""
    from search import seed_mlflow_sqlite

    seed_mlflow_sqlite(bench.run_dir / "mlflow" / "mlflow.db", experiment_id, SEARCH_RUNS)


def bench(b: Any, say: Any) -> None:
    """``--only mlflow``: each scenario on both sides, the ratios as rows of the run's table."""
    from common import Row

    out: dict[str, Any] = {"load_before": os.getloadavg()}
    for side in ("ours", "mlflow"):
        say(f"mlflow api: {side}: log_batch x {POINTS // BATCH}, then get_metric_history of {POINTS:,} points ...")
        out[f"{side}_ingest"] = _client(b, side, "ingest")
        say(f"   {side}: {out[f'{side}_ingest']['points_per_s']:,.0f} points/s, history "
            f"{out[f'{side}_ingest']['history_s']:.2f} s")
    for side, seed in (("ours", _seed_ours), ("mlflow", _seed_mlflow)):
        exp_id = _client(b, side, "experiment", "--name", f"api-search-{time.time_ns()}")["experiment_id"]
        say(f"mlflow api: {side}: seeding {SEARCH_RUNS:,} runs into experiment {exp_id} ...")
        seed(b, exp_id)
        out[f"{side}_search"] = _client(b, side, "search", "--experiment-id", exp_id)
        say(f"   {side}: search_runs page of {SEARCH_PAGE} ordered by a metric: "
            f"{out[f'{side}_search']['search_s'] * 1e3:.1f} ms")
    for side in ("ours", "mlflow"):
        say(f"mlflow api: {side}: log_model + register_model x {REPEAT_MODEL} ...")
        out[f"{side}_model"] = _client(b, side, "model")
        say(f"   {side}: {out[f'{side}_model']['model_s']:.2f} s (log_model {out[f'{side}_model']['log_model_s']:.2f}"
            f" s, register_model {out[f'{side}_model']['register_model_s']:.2f} s)")
    out["load_after"] = os.getloadavg()
    out["same_first_runs"] = out["ours_search"]["first_names"] == out["mlflow_search"]["first_names"]
    b.details["mlflow_api"] = out
    o, m = out, out
    b.rows += [
        Row("mlflow", f"log_batch ingest ({POINTS:,} pts, batches of {BATCH})", o["ours_ingest"]["points_per_s"],
            m["mlflow_ingest"]["points_per_s"], "pts/s", ">= 10x", "ratio_ge", 10),
        Row("mlflow", f"get_metric_history, {POINTS:,} points", o["ours_ingest"]["history_s"],
            m["mlflow_ingest"]["history_s"], "s", ">= 10x", "ratio_le_time", 10),
        Row("mlflow", f"search_runs over {SEARCH_RUNS:,} runs by metric, page of {SEARCH_PAGE}",
            o["ours_search"]["search_s"] * 1e3, m["mlflow_search"]["search_s"] * 1e3, "ms", ">= 10x",
            "ratio_le_time", 10),
        Row("mlflow", "log_model + register_model (small sklearn model)", o["ours_model"]["model_s"],
            m["mlflow_model"]["model_s"], "s", ">= 10x", "ratio_le_time", 10),
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client_main(sys.argv[2:])
    else:
        raise SystemExit("run through benchmarks/run.py --only mlflow")
