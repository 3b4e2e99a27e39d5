"""Store footprint and growth (issue 12, Build item 5): bytes per point against MLflow's, and how figures grow.

    python benchmarks/run.py --only scale [--scale]     (or: python benchmarks/scale.py [--scale] [--sizes 1000,10000])

The ladder: R runs x 10 metrics x 100 points: 1k runs = 1M points, 10k runs = 10M points, and with ``--scale``
100k runs = 100M points (MLflow's side stops at 10M: its bytes per point at 100M are projected from 10M).

Each store is seeded straight into its SQLite file (not timed as ingest): ours with the rows our ingest writes
for such series (one ``metric_series`` row and one packed ``metric_chunks`` row of 100 points per series: a
chunk is rolled up only when full at 8,192 points, so these have no rollups), MLflow's with one ``metrics`` row
per point plus ``latest_metrics``, in the schema its own ``SqlAlchemyStore`` creates (``--mlflow-schema`` runs
in MLflow's venv). Then, on each store:

* bytes on disk per point: the metric tables and their indexes (SQLite's ``dbstat``), ours against MLflow's;
* ingest into the populated store through the real path: a new run's 100,000 points (10 metrics) as journal
  batches of ~8,800 records (what the shipper sends), ``parse_batch`` + ``ingest_checked``, points/s;
* reads: one run's full metric history, a chart of the new run's 10,000-point metric (max_points=1000), a runs
  page of 100 (``RunService.find``), medians of 5;
* opening the service on it (``AMLService``: engine, schema check), and for the largest store ``aml serve``
  start -> ``/health``, ``VACUUM`` time and the index sizes.

The scale-curve table prints each figure per size and how it grows from the smallest size: the ratio of the
figure to the ratio of the sizes (1.0 = linear, 0 = flat).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
METRICS = 10
POINTS = 100  # per series
REPEAT = 5
NEW_RUN_POINTS = 100_000


def _median(values: list[float]) -> float:
    data = sorted(values)
    return data[len(data) // 2]


def _matrix(first_series: int, count: int) -> Any:
    """The points of series ``first_series .. first_series + count - 1`` (one row each): a noisy decreasing curve."""
    import numpy as np

    i = np.arange(first_series, first_series + count, dtype=np.float64)[:, None] + np.arange(POINTS)[None, :]
    return 1.0 / (1.0 + i * 1e-4) + 0.01 * np.sin(i * 0.37)


def table_bytes(db: Path) -> dict[str, dict[str, int]]:
    """``{table: {"table": bytes, "indexes": bytes}}`` from SQLite's dbstat (pages in use, all of them)."""
    con = sqlite3.connect(db)
    try:
        owner = dict(con.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        out: dict[str, dict[str, int]] = {}
        for name, size in con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            part = "table" if name == table else "indexes"
            out.setdefault(table, {"table": 0, "indexes": 0})[part] += int(size)
        return out
    finally:
        con.close()


# -- ours --------------------------------------------------------------------------------------------------
def seed_ours(root: Path, runs: int) -> Any:
    from datetime import datetime, timezone

    import numpy as np
    from sqlalchemy import insert, select

    from jupyter_aml.core.metric_points import pack
    from jupyter_aml.core.service import AMLService
    from jupyter_aml.core.settings import ServiceSettings
    from jupyter_aml.core.workspaces import WorkspaceService
    from jupyter_aml.store.tables import MetricChunkRow, MetricSeriesRow, RunRow

    svc = AMLService(ServiceSettings(root=root))
    svc.workspaces.get_or_create("w")
    with svc.db.session() as s:
        ws = WorkspaceService.row(s, "w")
        exp = WorkspaceService.experiment_row(s, ws, "scale", create=True)
        s.flush()
        ws_id, exp_id = ws.id, exp.id
    steps = pack(np.arange(POINTS, dtype=np.float64))
    for start in range(0, runs, 1000):
        ids = [f"run-{i:07d}" for i in range(start, min(runs, start + 1000))]
        with svc.db.session() as s:
            rows = []
            for n, rid in enumerate(ids, start):
                at = datetime.fromtimestamp(1_767_225_600 + n, tz=timezone.utc)
                rows.append({"id": rid, "workspace_id": ws_id, "experiment_id": exp_id, "number": n + 1,
                             "display_number": str(n + 1), "root_id": rid, "path": f"/{rid}/", "kind": "interactive",
                             "display_name": rid, "description": "", "status": "Completed", "created_at": at,
                             "start_time": at, "end_time": at, "submitter": "bench", "child_count": 0})
            s.execute(insert(RunRow), rows)
            values = _matrix(start * METRICS, len(ids) * METRICS)
            lows, highs, lasts = values.min(axis=1).tolist(), values.max(axis=1).tolist(), values[:, -1].tolist()
            series = []
            for n, rid in enumerate(ids, start):
                for m in range(METRICS):
                    row = (n - start) * METRICS + m
                    series.append({"run_id": rid, "name": f"m{m}", "kind": "scalar", "description": "",
                                   "count": POINTS, "last_value": lasts[row], "last_step": float(POINTS - 1),
                                   "min_value": lows[row], "max_value": highs[row], "value_type": "f",
                                   "last_json": json.dumps(["f", lasts[row]])})
            s.execute(insert(MetricSeriesRow), series)
            sids = dict(((r, nm), sid) for sid, r, nm in s.execute(
                select(MetricSeriesRow.id, MetricSeriesRow.run_id, MetricSeriesRow.name)
                .where(MetricSeriesRow.run_id.in_(ids))))
            t0 = 1_767_225_600.0
            chunks = []
            for n, rid in enumerate(ids, start):
                times = pack(t0 + n + np.arange(POINTS) * 0.01)
                for m in range(METRICS):
                    chunks.append({"series_id": sids[(rid, f"m{m}")], "chunk_no": 0, "count": POINTS, "steps": steps,
                                   "values": pack(values[(n - start) * METRICS + m]), "times": times,
                                   "types": None, "texts": None})
            s.execute(insert(MetricChunkRow), chunks)
    return svc


def measure_ours(svc: Any, root: Path, runs: int) -> dict[str, Any]:
    from jupyter_aml.core import models
    from jupyter_aml.core.journal_check import parse_batch
    from jupyter_aml.core.service import AMLService
    from jupyter_aml.core.settings import ServiceSettings

    with sqlite3.connect(root / "aml.db") as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sizes = table_bytes(root / "aml.db")
    metric_tables = ("metric_series", "metric_chunks", "metric_rollups")
    metric_bytes = sum(sizes.get(t, {}).get(part, 0) for t in metric_tables for part in ("table", "indexes"))
    points = runs * METRICS * POINTS
    # ingest a new run through the real path (the journal route's parse + ingest), batches as the shipper cuts them
    run = svc.runs.create("w", models.RunCreate(experiment="scale", kind="interactive"), submitter="bench")
    lines = [b'{"seq":%d,"t":%r,"run_id":"%s","k":"m","n":"m%d","v":%r,"s":%d}'
             % (i + 1, 1_767_300_000.0 + i * 1e-3, run.id.encode(), i % METRICS, 1.0 / (1.0 + i * 1e-4), i // METRICS)
             for i in range(NEW_RUN_POINTS)]
    per_batch = (1 << 20) // (len(lines[0]) + 1)
    bodies = [b'{"stream":"main","records":[%s]}' % b",".join(lines[i:i + per_batch])
              for i in range(0, len(lines), per_batch)]
    t0 = time.perf_counter()
    for body in bodies:
        svc.metrics.ingest_checked("w", run.id, parse_batch(body))
    ingest_s = time.perf_counter() - t0
    history, chart, page = [], [], []
    for k in range(REPEAT):
        rid = f"run-{(k * 7919) % runs:07d}"
        t0 = time.perf_counter()
        got = svc.metrics.history("w", rid, "m3")
        history.append(time.perf_counter() - t0)
        assert got.total == POINTS, got.total
        t0 = time.perf_counter()
        svc.metrics.history("w", run.id, "m1", max_points=1000)
        chart.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        found = svc.runs.find("w", experiment="scale", page_size=100)
        found.model_dump_json()
        page.append(time.perf_counter() - t0)
    svc.db.dispose()
    t0 = time.perf_counter()
    again = AMLService(ServiceSettings(root=root))
    open_s = time.perf_counter() - t0
    again.db.dispose()
    return {
        "runs": runs, "points": points, "file_bytes": (root / "aml.db").stat().st_size, "tables": sizes,
        "metric_bytes": metric_bytes, "bytes_per_point": metric_bytes / points,
        "ingest_points_per_s": NEW_RUN_POINTS / ingest_s, "ingest_batches": len(bodies),
        "history_ms": _median(history) * 1e3, "chart_ms": _median(chart) * 1e3, "runs_page_ms": _median(page) * 1e3,
        "open_service_s": open_s, "open_service_ms": open_s * 1e3, "load": os.getloadavg()[0],
    }


def health_check(root: Path, run_dir: Path) -> dict[str, Any]:
    """The largest store: ``aml serve`` start -> /health, VACUUM time, index sizes."""
    from servers import start_aml, wait_aml

    out: dict[str, Any] = {}
    serve_dir = run_dir / f"scale-serve-{time.time_ns()}"  # start_aml serves <dir>/aml-root: the store, linked
    serve_dir.mkdir(parents=True)
    link = serve_dir / "aml-root"
    link.symlink_to(root, target_is_directory=True)
    try:
        child, _ = start_aml(serve_dir)
        try:
            _, _, started = wait_aml(child, link, timeout=600)
            out["serve_start_s"] = started
        finally:
            child.stop()
    finally:
        link.unlink()
    db = root / "aml.db"
    before = db.stat().st_size
    t0 = time.perf_counter()
    with sqlite3.connect(db) as con:
        con.execute("VACUUM")
    out["vacuum_s"] = time.perf_counter() - t0
    out["bytes_before_vacuum"], out["bytes_after_vacuum"] = before, db.stat().st_size
    sizes = table_bytes(db)
    out["index_bytes"] = {t: v["indexes"] for t, v in sizes.items() if v["indexes"]}
    out["index_bytes_total"] = sum(out["index_bytes"].values())
    return out


# -- MLflow ------------------------------------------------------------------------------------------------
def mlflow_schema(db: Path) -> None:
    """In MLflow's venv: an empty tracking database in the schema MLflow's own store creates, one experiment."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{db}", str(db.parent / "artifacts"))
    store.create_experiment("scale")


def seed_mlflow(template: Path, db: Path, runs: int) -> dict[str, Any]:
    shutil.copy(template, db)
    con = sqlite3.connect(db)
    try:
        exp_id = con.execute("SELECT experiment_id FROM experiments WHERE name = 'scale'").fetchone()[0]
        columns = {row[1] for row in con.execute("PRAGMA table_info(runs)")}
        t0 = time.perf_counter()
        for start in range(0, runs, 1000):
            run_rows, metrics, latest = [], [], []
            block = _matrix(start * METRICS, (min(runs, start + 1000) - start) * METRICS).tolist()
            for n in range(start, min(runs, start + 1000)):
                rid = f"{n:032x}"
                start_ms = 1_767_225_600_000 + n * 1000
                row = {"run_uuid": rid, "name": f"run-{n:07d}", "source_type": "LOCAL", "source_name": "",
                       "entry_point_name": "", "user_id": "bench", "status": "FINISHED", "start_time": start_ms,
                       "end_time": start_ms, "source_version": "", "lifecycle_stage": "active",
                       "artifact_uri": f"/a/{rid}", "experiment_id": int(exp_id)}
                run_rows.append({k: v for k, v in row.items() if k in columns})
                for m in range(METRICS):
                    values = block[(n - start) * METRICS + m]
                    metrics += [(f"m{m}", v, start_ms + k * 10, rid, k, 0) for k, v in enumerate(values)]
                    latest.append((f"m{m}", values[-1], start_ms + (POINTS - 1) * 10, POINTS - 1, 0, rid))
            names = list(run_rows[0])
            con.executemany(f"INSERT INTO runs ({','.join(names)}) VALUES ({','.join('?' * len(names))})",
                            [tuple(r[k] for k in names) for r in run_rows])
            con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)",
                            metrics)
            con.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                            "VALUES (?,?,?,?,?,?)", latest)
            con.commit()
        seed_s = time.perf_counter() - t0
    finally:
        con.close()
    sizes = table_bytes(db)
    points = runs * METRICS * POINTS
    metrics_bytes = sizes["metrics"]["table"] + sizes["metrics"]["indexes"]
    latest_bytes = sizes["latest_metrics"]["table"] + sizes["latest_metrics"]["indexes"]
    return {"runs": runs, "points": points, "seed_s": seed_s, "file_bytes": db.stat().st_size, "tables": sizes,
            "metric_bytes": metrics_bytes, "bytes_per_point": metrics_bytes / points,
            "with_latest_bytes_per_point": (metrics_bytes + latest_bytes) / points}


# -- the ladder --------------------------------------------------------------------------------------------
def ladder(sizes: list[int], mlflow_upto: int, work: Path, run_dir: Path | None, say: Any) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": sizes, "ours": [], "mlflow": []}
    template = None
    from servers import mlflow_python

    python = mlflow_python()
    if python.exists():
        template = work / "mlflow-template.db"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        proc = subprocess.run([str(python), str(BENCH_DIR / "scale.py"), "--mlflow-schema", str(template)],
                              capture_output=True, text=True, env=env, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"MLflow's schema failed: {proc.stderr[-2000:]}")
    for runs in sizes:
        root = work / f"ours-{runs}"
        say(f"scale: ours: seeding {runs:,} runs x {METRICS} metrics x {POINTS} points (load {os.getloadavg()[0]:.1f})")
        t0 = time.perf_counter()
        svc = seed_ours(root, runs)
        seed_s = time.perf_counter() - t0
        got = measure_ours(svc, root, runs)
        got["seed_s"] = seed_s
        if runs == sizes[-1] and run_dir is not None:
            say(f"scale: the largest store ({got['file_bytes'] / 1e9:.2f} GB): aml serve start, VACUUM, indexes")
            got["largest"] = health_check(root, run_dir)
        results["ours"].append(got)
        say(f"   ours: {got['bytes_per_point']:.1f} B/point, ingest {got['ingest_points_per_s']:,.0f} pts/s, history "
            f"{got['history_ms']:.1f} ms, runs page {got['runs_page_ms']:.1f} ms, open {got['open_service_s']:.2f} s")
        if template is not None and runs <= mlflow_upto:
            say(f"scale: MLflow: seeding the same {runs * METRICS * POINTS:,} points (load {os.getloadavg()[0]:.1f})")
            mlf = seed_mlflow(template, work / f"mlflow-{runs}.db", runs)
            results["mlflow"].append(mlf)
            say(f"   MLflow: {mlf['bytes_per_point']:.1f} B/point (metrics + indexes), "
                f"{mlf['with_latest_bytes_per_point']:.1f} with latest_metrics")
            (work / f"mlflow-{runs}.db").unlink()
        shutil.rmtree(root, ignore_errors=True)
    return results


def growth(values: list[float], sizes: list[int]) -> str:
    """How a figure grows from the first size: log(figure ratio) / log(size ratio) (0 flat, 1 linear)."""
    if len(values) < 2 or values[0] <= 0 or values[-1] <= 0:
        return "-"
    exponent = math.log(values[-1] / values[0]) / math.log(sizes[-1] / sizes[0])
    kind = "flat" if abs(exponent) < 0.15 else ("sub-linear" if exponent < 0.85 else "linear")
    return f"x{values[-1] / values[0]:.2f} for x{sizes[-1] / sizes[0]:.0f} size (exponent {exponent:.2f}: {kind})"


def curve_table(results: dict[str, Any]) -> str:
    ours, mlf = results["ours"], {m["runs"]: m for m in results["mlflow"]}
    sizes = [o["runs"] for o in ours]
    figures = [("bytes per point, ours (metric tables + indexes)", "bytes_per_point", "B"),
               ("ingest of a new 100k-point run into the store", "ingest_points_per_s", "pts/s"),
               ("one run's metric history (100 points)", "history_ms", "ms"),
               ("chart of a 10k-point metric, max_points=1000", "chart_ms", "ms"),
               ("runs page of 100", "runs_page_ms", "ms"),
               ("open the service (engine + schema check)", "open_service_ms", "ms")]
    columns = " | ".join(f"{o['runs']:,} runs / {o['points'] / 1e6:.0f}M pts" for o in ours)
    head = f"| figure | {columns} | growth |"
    lines = [head, "|" + "---|" * (len(ours) + 2)]
    for label, key, unit in figures:
        values = [float(o[key]) for o in ours]
        cells = [f"{v:,.1f} {unit}" if v < 1000 else f"{v:,.0f} {unit}" for v in values]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {growth(values, sizes)} |")
    cells = []
    for o in ours:
        m = mlf.get(o["runs"])
        cells.append(f"{m['bytes_per_point']:.1f} B ({m['bytes_per_point'] / o['bytes_per_point']:.1f}x ours)"
                     if m else "- (projected: flat)")
    lines.append("| bytes per point, MLflow (metrics table + indexes) | " + " | ".join(cells) + " | - |")
    lines.append("| load average during the size | " + " | ".join(f"{o['load']:.1f}" for o in ours) + " | - |")
    return "\n".join(lines)


def bench(b: Any, say: Any) -> None:
    """The ``scale`` group of run.py."""
    from common import Row

    sizes = [1_000, 10_000] + ([100_000] if b.args.scale else [])
    if b.args.quick:
        sizes = [1_000, 3_000]
    with tempfile.TemporaryDirectory(prefix="scale-bench-", dir=b.run_dir) as tmp:
        results = ladder(sizes, 10_000, Path(tmp), b.run_dir, say)
    b.details["scale"] = results
    table = curve_table(results)
    b.details["scale_table"] = table
    say("scale curve:\n" + table)
    big = results["ours"][-1]
    mlf = {m["runs"]: m for m in results["mlflow"]}
    for o in results["ours"]:
        m = mlf.get(o["runs"])
        b.rows.append(Row("scale", f"bytes per stored point, {o['points'] / 1e6:.0f}M points", o["bytes_per_point"],
                          m["bytes_per_point"] if m else None, "B", "< MLflow", "ratio_le_time", 1.0))
    lg = big.get("largest", {})
    if lg:
        b.rows += [
            Row("scale", f"aml serve start on the {big['points'] / 1e6:.0f}M-point store", lg["serve_start_s"], None,
                "s", "-", "info"),
            Row("scale", f"VACUUM of the {lg['bytes_before_vacuum'] / 1e9:.2f} GB store", lg["vacuum_s"], None, "s",
                "-", "info"),
            Row("scale", "index size of the largest store (all tables)", lg["index_bytes_total"] / 1e6, None, "MB", "-",
                "info"),
        ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlflow-schema", metavar="DB", default="")
    parser.add_argument("--scale", action="store_true", help="also 100k runs / 100M points")
    parser.add_argument("--sizes", default="1000,10000", help="runs per store, comma-separated")
    parser.add_argument("--checks", metavar="DIR", default="", help="on the largest store: aml serve start (logs in "
                        "DIR), VACUUM and index sizes")
    args = parser.parse_args()
    if args.mlflow_schema:
        mlflow_schema(Path(args.mlflow_schema))
        return 0
    sys.path.insert(0, str(BENCH_DIR))
    sys.path.insert(1, str(BENCH_DIR.parent))
    sizes = [int(s) for s in args.sizes.split(",")] + ([100_000] if args.scale else [])
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        results = ladder(sizes, 10_000, Path(tmp), Path(args.checks) if args.checks else None, print)
    print("SCALE_RESULT " + json.dumps(results, default=str))
    print(curve_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
