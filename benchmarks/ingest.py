"""Ingest and concurrency (issue 12, Build items 2 and 6), ours against MLflow in the same run.

    python benchmarks/run.py --only ingest [--quick]     (also: --only 1, the single-run figure alone)

* **single run**: scenario 1, end to end: a submitted script (``scripts/ingest_script.py``) logs N points with
  ``run.log`` until the service's metric count shows all of them (ours), against ``MlflowClient.log_batch`` of
  1,000 points at a time into one run (MLflow's fastest call).
* **20 writers**: 20 interactive runs in 20 processes (``scripts/ingest_worker.py``) log at once; time from the
  shared start until the last ``run.complete()`` returns (every point acknowledged, i.e. in the database),
  against 20 threads each calling ``log_batch`` into its own MLflow run (``--mlflow-side`` in MLflow's venv).
* **5 studio readers** during the 20 writers (``scripts/studio_reader.py``, 5 processes): the runs list, a
  run's metrics and a metric series, each timed; the writers time every journal POST (write latency) and
  every ``run.log`` call. p50/p99 of each.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
WRITERS = 20
READERS = 5
_FRAME = re.compile(r"^(.*) \((?:.*/)?([^/:]+)(?::\d+)?\)$")


def _quantiles(values: list[float]) -> dict[str, float]:
    data = sorted(values)
    if not data:
        return {"n": 0, "p50": float("nan"), "p99": float("nan")}
    return {"n": len(data), "p50": data[len(data) // 2], "p99": data[min(len(data) - 1, int(0.99 * len(data)))]}


# -- scenario 1, moved here from run.py --------------------------------------------------------------------
def single_run(bench: Any, say: Any) -> None:
    """Scenario 1 (rows "1"): one submitted script's points to the store, against MLflow's log_batch."""
    from common import Row

    z = bench.sizes
    say(f"1: ours: a submitted script logs {z.ingest_points:,} points with run.log ...")
    ours = bench.ours.ingest(z.ingest_points)
    sc = ours["script"]
    say(
        f"   ours: {ours['points_per_s']:,.0f} points/s to the store ({ours['seconds']:.2f} s; "
        f"log loop {ours['log_loop_s']:.2f} s, stored {ours['lag_after_last_log_s']:.2f} s after the last log); "
        f"run.log median {sc['median_ns'] / 1e3:.2f} us, p99 {sc['p99_ns'] / 1e3:.2f} us "
        f"(load {os.getloadavg()[0]:.1f})"
    )
    say(f"1: MLflow: log_batch x {z.mlflow_ingest_points // 1000} batches of 1000 ...")
    mlf = bench.mlflow("ingest", "--points", z.mlflow_ingest_points, "--batch", 1000, "--key", "loss")
    say(
        f"   MLflow: {mlf['points_per_s']:,.0f} points/s ({mlf['seconds']:.1f} s; "
        f"log_batch median {mlf['log_batch_ms_median']:.0f} ms) (load {os.getloadavg()[0]:.1f})"
    )
    bench.details["1_ingest"] = {"ours": ours, "mlflow": mlf, "load": os.getloadavg()}
    bench.rows += [
        Row("1", f"metric ingest to durable store ({z.ingest_points:,} vs {z.mlflow_ingest_points:,} pts)",
            ours["points_per_s"], mlf["points_per_s"], "pts/s", ">= 100x", "ratio_ge", 100),
        Row("1", "run.log in-script, median per call", sc["median_ns"] / 1e3, None, "us", "<= 5 us", "abs_le", 5.0),
        Row("1", "run.log in-script, p99 per call", sc["p99_ns"] / 1e3, None, "us", "-", "info"),
        Row("1", "all points stored, seconds after the script's last run.log", ours["lag_after_last_log_s"], None,
            "s", "-", "info"),
    ]


# -- 20 writers + 5 readers (ours) ---------------------------------------------------------------------------
def concurrent_ours(url: str, token: str, work: Path, points: int, readers: int, say: Any,
                    profile_pid: int = 0) -> dict[str, Any]:
    """``WRITERS`` interactive runs logging ``points`` each at once, with ``readers`` studio readers."""
    work.mkdir(parents=True, exist_ok=True)
    experiment = f"bench-concurrent-{time.time_ns()}"
    ids, go, stop = work / "run-ids.txt", work / "go", work / "stop"
    env = {k: v for k, v in os.environ.items() if k not in ("AML_RUN_ID", "AML_RUN_TOKEN", "AML_JOURNAL")}
    py = sys.executable
    writers = [subprocess.Popen([py, str(BENCH_DIR / "scripts" / "ingest_worker.py"), url, token, experiment,
                                 str(points), str(ids), str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env) for _ in range(WRITERS)]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if ids.exists() and len(ids.read_text().split()) == WRITERS:
            break
        if any(w.poll() is not None for w in writers):
            failed = next(w for w in writers if w.poll() is not None)
            raise RuntimeError(f"a writer exited early: {failed.stderr.read()[-2000:] if failed.stderr else ''}")
        time.sleep(0.05)
    else:
        raise RuntimeError("the writers did not start their runs within 300 s")
    reader_procs = [subprocess.Popen([py, str(BENCH_DIR / "scripts" / "studio_reader.py"), url, token, experiment,
                                      str(ids), str(go), str(stop)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env) for _ in range(readers)]
    time.sleep(1.0)  # the readers' imports, before the clock starts
    profiler = _profile(profile_pid, work / "pyspy-aml-serve.txt") if profile_pid else None
    load = os.getloadavg()
    say(f"ingest: {WRITERS} writers x {points:,} points, {readers} readers: go (load {load[0]:.1f})")
    t_go = time.time()
    go.write_text("go")
    results = []
    for w in writers:
        out, err = w.communicate(timeout=1800)
        if w.returncode != 0:
            raise RuntimeError(f"a writer failed ({w.returncode}): {err[-2000:]}")
        results.append(json.loads(next(ln for ln in out.splitlines() if ln.startswith("WORKER "))[7:]))
    t_end = max(r["done"] for r in results)
    stop.write_text("stop")
    hot = _summarize(profiler, work / "pyspy-aml-serve.txt") if profiler else None
    reads: dict[str, list[float]] = {"runs_list": [], "run_metrics": [], "metric_series": []}
    for r in reader_procs:
        out, err = r.communicate(timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"a reader failed ({r.returncode}): {err[-2000:]}")
        got = json.loads(next(ln for ln in out.splitlines() if ln.startswith("READER "))[7:])
        for kind, samples in got.items():  # only the calls made while the writers were writing
            reads[kind] += [s for at, s in samples if t_go <= at <= t_end]
    start = min(r["start"] for r in results)
    total = WRITERS * points
    posts = [p for r in results for p in r["posts"]]
    return {
        "writers": WRITERS, "readers": readers, "points_each": points, "points": total,
        "seconds": t_end - start, "points_per_s": total / (t_end - start),
        "last_loop_end_s": max(r["loop_end"] for r in results) - start,
        "load_at_start": load, "load_at_end": os.getloadavg(),
        "write_post_s": _quantiles([p[1] for p in posts if t_go <= p[0] <= t_end]),
        "write_post_records_median": _quantiles([float(p[2]) for p in posts])["p50"],
        "log_median_us": sorted(r["log_median_ns"] for r in results)[WRITERS // 2] / 1e3,
        "log_p99_us": max(r["log_p99_ns"] for r in results) / 1e3,
        "reads": {kind: _quantiles(samples) for kind, samples in reads.items()},
        "profile": hot,
    }


def _profile(pid: int, out: Path) -> subprocess.Popen[str] | None:
    """py-spy (in the project's venv) on ``aml serve`` while the writers write: collapsed stacks, 20 s at most."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return None
    return subprocess.Popen([str(spy), "record", "-p", str(pid), "-d", "20", "-r", "50", "--nonblocking",
                             "-f", "raw", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def _summarize(proc: subprocess.Popen[str], out: Path, top: int = 25) -> dict[str, Any]:
    """The functions where ``aml serve`` spent its samples: self (innermost frame) and total (anywhere on the
    stack), as shares of the samples of busy threads."""
    proc.wait(timeout=120)
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in out.read_text().splitlines() if out.exists() else []:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_FRAME.sub(r"\1 (\2)", f) for f in stack.split(";")]  # "function (file.py)", no line
        samples += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + n
    def share(d: dict[str, int]) -> list[tuple[str, float]]:
        return [(k, round(v / samples, 3)) for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:top]]
    return {"samples": samples, "self": share(own) if samples else [], "total": share(total) if samples else []}


# -- 20 writers (MLflow, in its venv) -------------------------------------------------------------------------
def mlflow_side(url: str, writers: int, points: int) -> dict[str, Any]:
    """``writers`` threads, each with its own MlflowClient and run, ``log_batch`` of 1,000 points at a time."""
    from common import metric_value
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    exp_id = MlflowClient(tracking_uri=url).create_experiment(f"concurrent-{time.time_ns()}")
    clients = [MlflowClient(tracking_uri=url) for _ in range(writers)]
    runs = [c.create_run(exp_id).info.run_id for c in clients]
    base_ms = int(time.time() * 1000)
    batches = [[Metric("loss", metric_value(i), base_ms + i, i) for i in range(s, min(s + 1000, points))]
               for s in range(0, points, 1000)]
    calls: list[float] = []
    barrier = threading.Barrier(writers + 1)

    def write(k: int) -> None:
        barrier.wait()
        for batch in batches:
            t0 = time.perf_counter()
            clients[k].log_batch(runs[k], metrics=batch)
            calls.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    return {"writers": writers, "points": writers * points, "seconds": seconds,
            "points_per_s": writers * points / seconds, "log_batch_s": _quantiles(calls)}


def concurrent(bench: Any, say: Any) -> None:
    """The ingest group's concurrency rows: 20 writers (+ 5 readers on our side) against MLflow's 20 writers."""
    from common import Row

    quick = bench.args.quick
    ours_points, mlflow_points = (20_000, 2_000) if quick else (50_000, 5_000)
    ours = concurrent_ours(bench.aml_url, bench.aml_token, bench.run_dir / "concurrent", ours_points, READERS, say,
                           profile_pid=bench.aml_pid)
    say(f"   ours: {ours['points_per_s']:,.0f} points/s stored, {WRITERS} writers ({ours['seconds']:.2f} s; "
        f"loops ended at {ours['last_loop_end_s']:.2f} s; load {ours['load_at_end'][0]:.1f})")
    say(f"ingest: MLflow: {WRITERS} threads x log_batch of 1000, {mlflow_points:,} points each ...")
    from servers import mlflow_python

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run([str(mlflow_python()), str(BENCH_DIR / "ingest.py"), "--mlflow-side", bench.mlflow_url,
                           "--writers", str(WRITERS), "--points", str(mlflow_points)],
                          capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"MLflow's concurrent side failed: {proc.stderr[-2000:]}")
    mlf = json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("INGEST_RESULT "))[14:])
    mlf["load_at_end"] = os.getloadavg()
    say(f"   MLflow: {mlf['points_per_s']:,.0f} points/s ({mlf['seconds']:.1f} s; load {mlf['load_at_end'][0]:.1f})")
    bench.details["ingest_concurrent"] = {"ours": ours, "mlflow": mlf}
    load = f"load {ours['load_at_start'][0]:.1f}-{ours['load_at_end'][0]:.1f}"
    post = ours["write_post_s"]
    rows = [
        Row("ingest", f"{WRITERS} runs logging at once, points/s stored ({load})", ours["points_per_s"], None,
            "pts/s", ">= 100k pts/s", "abs_ge", 100_000),
        Row("ingest", f"  the same vs MLflow's {WRITERS} log_batch writers", ours["points_per_s"], mlf["points_per_s"],
            "pts/s", ">= 10x", "ratio_ge", 10),
        Row("ingest", "  run.log on the training thread, median (of the writers' medians)", ours["log_median_us"],
            None, "us", "<= 5 us", "abs_le", 5.0),
        Row("ingest", f"  write: journal POST p50 (p99 {post['p99'] * 1e3:.1f} ms) vs log_batch p50", post["p50"] * 1e3,
            mlf["log_batch_s"]["p50"] * 1e3, "ms", "-", "info"),
    ]
    for kind, got in ours["reads"].items():
        rows.append(Row("ingest", f"  read during the writes: {kind} p50 (p99 {got['p99'] * 1e3:.1f} ms, n={got['n']})",
                        got["p50"] * 1e3, None, "ms", "-", "info"))
    bench.rows += rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlflow-side", metavar="URL", required=True)
    parser.add_argument("--writers", type=int, default=WRITERS)
    parser.add_argument("--points", type=int, default=5_000)
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH_DIR))
    print("INGEST_RESULT " + json.dumps(mlflow_side(args.mlflow_side, args.writers, args.points)), flush=True)
    return 0


if __name__ == "__main__":
    tempfile.tempdir = None
    raise SystemExit(main())
