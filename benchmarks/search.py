"""Run search at scale: one filtered, metric-ordered page with metric columns, ours against MLflow's.

    python benchmarks/search.py [--runs 10000] [--scale]      (standalone; --scale adds 100k runs)
    python benchmarks/run.py --only search [--scale]

Both stores get the same runs (10 params, 10 metrics of 3 points each, 2 tags per run), written straight into
their SQLite files (seeding is not measured). The measured call is the server's own work for one page of 100
runs: ``metrics.m0 < 0.5 AND params.p0 = 'a'`` ordered by ``metrics.m1 DESC``, with every run's metrics,
params and tags returned (ours: ``RunService.find`` with ``metric_columns`` plus the JSON the route writes;
MLflow: ``SqlAlchemyStore.search_runs`` plus the JSON of its protobuf answer), the median of several calls,
then the second page through each side's page token. MLflow's side runs in its venv (``--mlflow-side``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
FILTER = "metrics.m0 < 0.5 AND params.p0 = 'a'"
ORDER = ["metrics.m1 DESC"]
METRICS = [f"m{i}" for i in range(10)]
PAGE = 100
REPEAT = 7


def run_data(i: int) -> dict[str, Any]:
    """Run ``i``'s params, metric points and tags: the same on both sides."""
    rng = random.Random(i)
    return {
        "params": {f"p{k}": rng.choice("abcd") for k in range(10)},
        "metrics": {m: [round(rng.random(), 4) for _ in range(3)] for m in METRICS},
        "tags": {"team": rng.choice(["red", "blue"]), "seed": str(i)},
        "start_ms": 1_767_225_600_000 + i * 1000,
    }


def _median(values: list[float]) -> float:
    data = sorted(values)
    return data[len(data) // 2]


# -- ours -------------------------------------------------------------------------------------------------
def seed_ours(root: Path, runs: int) -> Any:
    from datetime import datetime, timezone

    from sqlalchemy import insert

    from jupyter_aml.core.service import AMLService
    from jupyter_aml.core.settings import ServiceSettings
    from jupyter_aml.core.workspaces import WorkspaceService
    from jupyter_aml.store.tables import MetricSeriesRow, RunPropertyRow, RunRow, RunTagRow

    svc = AMLService(ServiceSettings(root=root))
    svc.workspaces.get_or_create("w")
    with svc.db.session() as s:
        ws = WorkspaceService.row(s, "w")
        exp = WorkspaceService.experiment_row(s, ws, "search", create=True)
        s.flush()
        for start in range(0, runs, 2000):
            run_rows, props, tags, series = [], [], [], []
            for i in range(start, min(runs, start + 2000)):
                d = run_data(i)
                rid = f"run-{i:07d}"
                at = datetime.fromtimestamp(d["start_ms"] / 1000, tz=timezone.utc)
                run_rows.append({"id": rid, "workspace_id": ws.id, "experiment_id": exp.id, "number": i + 1,
                                 "display_number": str(i + 1), "root_id": rid, "path": f"/{rid}/",
                                 "kind": "interactive", "display_name": rid, "description": "",
                                 "status": "Completed", "created_at": at, "start_time": at, "end_time": at,
                                 "submitter": "bench", "child_count": 0})
                props += [{"run_id": rid, "key": k, "value": v} for k, v in d["params"].items()]
                tags += [{"run_id": rid, "key": k, "value": v} for k, v in d["tags"].items()]
                series += [{"run_id": rid, "name": m, "kind": "scalar", "description": "", "count": 3,
                            "last_value": p[-1], "last_step": 2.0, "min_value": min(p), "max_value": max(p),
                            "value_type": "f", "last_json": json.dumps(p[-1])} for m, p in d["metrics"].items()]
            s.execute(insert(RunRow), run_rows)
            s.execute(insert(RunPropertyRow), props)
            s.execute(insert(RunTagRow), tags)
            s.execute(insert(MetricSeriesRow), series)
    return svc


def measure_ours(svc: Any) -> dict[str, Any]:
    from jupyter_aml.mlflow_api.run_filter import rest_terms

    def page(token: str | None) -> Any:
        conds, order = rest_terms(FILTER, ORDER)
        found = svc.runs.find("w", experiment="search", conds=conds, order_by=order, page_size=PAGE,
                              page_token=token, metric_columns=METRICS)
        found.model_dump_json()
        return found

    times, first = [], None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        first = page(None)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    page(first.next_page_token)
    second = time.perf_counter() - t0
    return {"ms": _median(times) * 1e3, "second_page_ms": second * 1e3, "matched": first.total,
            "first_ids": [r.id for r in first.items[:5]]}


# -- MLflow (runs in MLflow's venv) -------------------------------------------------------------------------
def seed_mlflow_sqlite(db: Path, experiment_id: str, runs: int) -> None:
    """``runs`` runs of :func:`run_data`, straight into an MLflow SQLite store's own tables (its
    ``SqlAlchemyStore`` or ``mlflow server`` made the schema): what our side is seeded with, row for row."""
    import sqlite3

    con = sqlite3.connect(db, timeout=60)
    columns = {row[1] for row in con.execute("PRAGMA table_info(runs)")}
    for start in range(0, runs, 2000):
        run_rows, params, tags, metrics, latest = [], [], [], [], []
        for i in range(start, min(runs, start + 2000)):
            d = run_data(i)
            rid = f"{i:032x}"
            row = {"run_uuid": rid, "name": f"run-{i:07d}", "source_type": "LOCAL", "source_name": "",
                   "entry_point_name": "", "user_id": "bench", "status": "FINISHED", "start_time": d["start_ms"],
                   "end_time": d["start_ms"], "source_version": "", "lifecycle_stage": "active",
                   "artifact_uri": f"/a/{rid}", "experiment_id": int(experiment_id)}
            run_rows.append({k: v for k, v in row.items() if k in columns})
            params += [(k, v, rid) for k, v in d["params"].items()]
            tags += [(k, v, rid) for k, v in d["tags"].items()] + [("mlflow.runName", f"run-{i:07d}", rid)]
            for m, points in d["metrics"].items():
                metrics += [(m, v, d["start_ms"], rid, step, 0) for step, v in enumerate(points)]
                latest.append((m, points[-1], d["start_ms"], 2, 0, rid))
        names = list(run_rows[0])
        con.executemany(f"INSERT INTO runs ({','.join(names)}) VALUES ({','.join('?' * len(names))})",
                        [tuple(r[n] for n in names) for r in run_rows])
        con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
        con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
        con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)",
                        metrics)
        con.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                        "VALUES (?,?,?,?,?,?)", latest)
        con.commit()
    con.close()


def mlflow_side(db: Path, runs: int) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToJson
    from mlflow.entities import ViewType
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{db}", str(db.parent / "artifacts"))
    exp_id = store.create_experiment("search")
    seed_mlflow_sqlite(db, exp_id, runs)

    def page(token: str | None) -> Any:
        found = store.search_runs([exp_id], FILTER, ViewType.ACTIVE_ONLY, max_results=PAGE, order_by=ORDER,
                                  page_token=token)
        [MessageToJson(r.to_proto()) for r in found]
        return found

    times, first = [], None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        first = page(None)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    page(first.token)
    second = time.perf_counter() - t0
    return {"ms": _median(times) * 1e3, "second_page_ms": second * 1e3,
            "first_names": [r.info.run_name for r in first[:5]]}


def run_mlflow(workdir: Path, runs: int) -> dict[str, Any] | None:
    from servers import mlflow_python

    python = mlflow_python()
    if not python.exists():
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run([str(python), str(BENCH_DIR / "search.py"), "--mlflow-side", str(workdir / "mlflow.db"),
                           "--runs", str(runs)], capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"MLflow's side failed: {proc.stderr[-2000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("SEARCH_RESULT "))
    return dict(json.loads(line.split(" ", 1)[1]))


def bench(runs: int, say: Any = print) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="search-bench-") as tmp:
        work = Path(tmp)
        load = os.getloadavg()[0]
        say(f"search: seeding {runs} runs (ours) ...")
        svc = seed_ours(work / "ours", runs)
        ours = measure_ours(svc)
        say(f"search: {runs} runs, ours {ours['ms']:.1f} ms; seeding MLflow's store ...")
        theirs = run_mlflow(work, runs)
        out: dict[str, Any] = {"runs": runs, "load": round(load, 2), "ours": ours, "mlflow": theirs}
        if theirs is not None:
            out["ratio"] = theirs["ms"] / ours["ms"]
            out["same_first_runs"] = [n for n in ours["first_ids"]] == theirs["first_names"]
        return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--scale", action="store_true", help="also 100k runs")
    parser.add_argument("--mlflow-side", metavar="DB", default="")
    args = parser.parse_args()
    if args.mlflow_side:
        print("SEARCH_RESULT " + json.dumps(mlflow_side(Path(args.mlflow_side), args.runs)))
        return 0
    sys.path.insert(0, str(BENCH_DIR))
    sizes = [args.runs] + ([100_000] if args.scale else [])
    for size in sizes:
        print(json.dumps(bench(size)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
