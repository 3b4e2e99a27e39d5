#!/usr/bin/env python
"""jupyter-aml vs MLflow: one command, both services, every scenario measured in the same run.

    python benchmarks/run.py [--quick] [--only 1,2,...] [--keep]  (scenarios 1-7, and the compute group)
    python benchmarks/run.py --only compute                       (computes only: no MLflow is started)
    python benchmarks/run.py --only data                          (datasets against pandas, pyarrow, s3fs)
    python benchmarks/run.py --only autoscale                     (a load step c=1 -> 32 on an autoscaled service)
    python benchmarks/run.py --only collect                       (model data collection on vs off)
    python benchmarks/run.py --only pipelines                     (ML pipelines: reuse, a 100-step fan-out)
    python benchmarks/run.py --only search [--scale]              (run search: 10k runs, 100k with --scale)
    python benchmarks/run.py --only ingest                        (ingest: one run, 20 writers + 5 studio readers)
    python benchmarks/run.py --only scale [--scale]               (store footprint and growth: 1M-10M points)
    python benchmarks/run.py --only peers                         (serving at c=16: ours, MLflow, MLServer)
    python benchmarks/run.py --only mlflow                        (the MLflow REST API: one mlflow client, both servers)

Builds (once, cached) MLflow's venv in ``benchmarks/.work/mlflow-venv``, starts ``mlflow server``
(SQLite backend) and ``aml serve`` (fresh root) on free 127.0.0.1 ports, runs the scenarios against both,
prints the table (absolute figures, ratio ours/MLflow, target, PASS/MISS) and writes
``benchmarks/.work/results/<stamp>.json`` and ``.md``. Both services are stopped at the end, even on
error or Ctrl-C. See benchmarks/README.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent


def _reexec_in_project_venv() -> None:
    """``python benchmarks/run.py`` with any interpreter: switch to the project's venv when it exists."""
    venv = REPO_ROOT / ".venv"
    if (
        (venv / "bin" / "python").exists()
        and Path(sys.prefix).resolve() != venv.resolve()
        and not os.environ.get("AML_BENCH_REEXEC")
    ):
        os.environ["AML_BENCH_REEXEC"] = "1"
        os.execv(str(venv / "bin" / "python"), [str(venv / "bin" / "python"), *sys.argv])
    sys.path[:0] = [str(BENCH_DIR), str(REPO_ROOT)]


_reexec_in_project_venv()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from common import WORK_DIR, Child, Row, median, parse_result, render_table  # noqa: E402


@dataclass
class Sizes:
    ingest_points: int  # ours: points logged by the submitted script
    mlflow_ingest_points: int  # MLflow: points sent with log_batch (also the history read by scenario 2)
    hist_points: int
    chart_points: int
    hist_repeat: int
    mlflow_hist_repeat: int
    chart_repeat: int
    crud_runs: int
    list_repeat: int
    mlflow_list_repeat: int
    submit_repeat: int
    files: int
    load_seconds: float  # scenario 6: seconds of load per concurrency (after a 1 s warm-up)
    cold_starts: int  # scenario 6: measured starts per side (after one warm-up start)
    register_repeat: int  # scenario 7: registrations per variant


SUBMIT_CRUD_RUNS = 200  # scenario 3 through Experiment.submit: each run is a script, 2 at a time on local compute
FULL = Sizes(1_000_000, 100_000, 100_000, 1_000_000, 7, 3, 9, 1000, 5, 3, 5, 2000, 10.0, 3, 20)
QUICK = Sizes(100_000, 100_000, 100_000, 1_000_000, 5, 2, 7, 100, 3, 2, 5, 2000, 3.0, 2, 5)


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes = QUICK if args.quick else FULL
        self.stamp = time.strftime("%Y%m%d-%H%M%S")
        self.run_dir = WORK_DIR / "runs" / self.stamp
        self.rows: list[Row] = []
        self.details: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.children: list[Child] = []
        self.mlflow_url = ""
        self.ours: Any = None
        self.aml_pid = 0  # aml serve: the workspace service, which also runs the web services' balancers
        self.trained: dict[str, Any] | None = None  # scenarios 6 and 7: the digits model
        self.aml_root: Path | None = None
        self.aml_url = self.aml_token = ""
        self.compute_rows: list[Any] = []  # the compute group's table (benchmarks/compute.py): peers, not MLflow
        self.data_rows: list[Any] = []  # the data group's table (benchmarks/data.py)
        self.peer_rows: list[Any] = []  # serving against MLflow and MLServer (benchmarks/peers.py)

    # -- MLflow worker --------------------------------------------------------------------------------
    def mlflow(self, scenario: str, *extra: Any, timeout: float = 1800) -> dict[str, Any]:
        from servers import mlflow_python

        cmd = [
            str(mlflow_python()),
            str(BENCH_DIR / "mlflow_side.py"),
            scenario,
            "--url",
            self.mlflow_url,
            *[str(e) for e in extra],
        ]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        log = self.run_dir / "logs" / f"mlflow-{scenario}.log"
        log.write_text(f"$ {' '.join(cmd)}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
        if proc.returncode != 0:
            raise RuntimeError(f"mlflow_side {scenario} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return parse_result(proc.stdout)

    # -- setup / teardown -----------------------------------------------------------------------------
    def start(self, with_mlflow: bool = True) -> None:
        from servers import ensure_mlflow_venv, start_aml, start_mlflow, wait_aml, wait_mlflow

        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        if with_mlflow:
            self.details["mlflow_venv"] = ensure_mlflow_venv(self.args.mlflow_spec, say)
        # from here on: the SDK's hash cache and interactive-run temp folders live in this run's folder
        for name, sub in (("XDG_CACHE_HOME", "cache"), ("TMPDIR", "tmp")):
            (self.run_dir / sub).mkdir(exist_ok=True)
            os.environ[name] = str(self.run_dir / sub)
        import tempfile

        tempfile.tempdir = None
        if not self.args.no_bytecode_cache:
            # This machine sets PYTHONDONTWRITEBYTECODE=1 and neither venv holds compiled bytecode, so every
            # import of every process (services, replicas, MLflow's CLI and model server) would compile its
            # modules from source again; an installation normally has its bytecode. Both sides get one
            # shared bytecode cache outside the venvs instead.
            os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
            os.environ["PYTHONPYCACHEPREFIX"] = str(WORK_DIR / "pycache")
            sys.dont_write_bytecode = False
            sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]
        if not with_mlflow:
            say("starting aml serve (the compute or data group alone: no MLflow) ...")
            aml_child, self.aml_root = start_aml(self.run_dir)
            self.children.append(aml_child)
            self.aml_pid = aml_child.proc.pid
            url, token, aml_s = wait_aml(aml_child, self.aml_root, timeout=120)
            say(f"aml serve up at {url} ({aml_s:.1f} s)")
            self.details["services"] = {"aml_url": url, "aml_start_s": aml_s}
            self.aml_url, self.aml_token = url, token
            return
        say("starting mlflow server and aml serve ...")
        mlflow_child, self.mlflow_url = start_mlflow(self.run_dir, self.args.mlflow_workers)
        self.children.append(mlflow_child)
        aml_child, root = start_aml(self.run_dir)
        self.aml_root = root
        self.children.append(aml_child)
        self.aml_pid = aml_child.proc.pid
        url, token, aml_s = wait_aml(aml_child, root, timeout=120)
        self.aml_url, self.aml_token = url, token
        mlflow_s = wait_mlflow(mlflow_child, self.mlflow_url, timeout=300)
        version = self.mlflow("ping")["version"]
        say(
            f"aml serve up at {url} ({aml_s:.1f} s); mlflow {version} server up at {self.mlflow_url} "
            f"({mlflow_s:.1f} s, {self.args.mlflow_workers} worker(s))"
        )
        self.details["services"] = {
            "aml_url": url,
            "aml_start_s": aml_s,
            "mlflow_url": self.mlflow_url,
            "mlflow_start_s": mlflow_s,
            "mlflow_version": version,
            "mlflow_workers": self.args.mlflow_workers,
        }
        from ours import Ours

        self.ours = Ours(url, token, self.run_dir, say)

    def stop(self) -> None:
        for child in reversed(self.children):
            say(f"stopping {child.name} (pgid {child.pgid})")
            child.stop()
        self.children.clear()

    # -- scenarios ------------------------------------------------------------------------------------
    def s1_ingest(self) -> None:
        from ingest import single_run  # benchmarks/ingest.py

        single_run(self, say)

    def s2_history(self) -> None:
        z = self.sizes
        say(f"2: ours: seeding an interactive run with {z.hist_points:,} + {z.chart_points:,} points ...")
        seed = self.ours.seed_history(z.hist_points, z.chart_points)
        say(f"   seeded in {seed['seed_s']:.1f} s; reading ...")
        hist = self.ours.read_history(seed["run_id"], "hist", z.hist_repeat, expect_total=z.hist_points)
        chart = self.ours.read_history(
            seed["run_id"], "chart", z.chart_repeat, max_points=1000, expect_total=z.chart_points
        )
        say(
            f"   ours: full history {hist['median_s'] * 1e3:.0f} ms; chart query {chart['median_s'] * 1e3:.0f} ms "
            f"({chart['returned']} of {chart['total']:,} points)"
        )
        mlf_run = self.details.get("1_ingest", {}).get("mlflow", {}).get("run_id")
        if mlf_run and self.sizes.mlflow_ingest_points == z.hist_points:
            say(f"2: MLflow: get_metric_history of scenario 1's {z.hist_points:,}-point metric ...")
            extra: list[Any] = ["--run-id", mlf_run]
        else:
            say(f"2: MLflow: seeding a {z.hist_points:,}-point metric, then get_metric_history ...")
            extra = ["--points", z.hist_points]
        mlf = self.mlflow("history", *extra, "--key", "loss", "--repeat", z.mlflow_hist_repeat)
        if mlf["points"] != z.hist_points:
            raise RuntimeError(f"MLflow returned {mlf['points']} points, not {z.hist_points}")
        say(f"   MLflow: full history {mlf['median_s'] * 1e3:,.0f} ms")
        self.details["2_history"] = {"ours_seed": seed, "ours_history": hist, "ours_chart": chart, "mlflow": mlf}
        self.rows += [
            Row(
                "2",
                f"read full {z.hist_points:,}-point history (median)",
                hist["median_s"] * 1e3,
                mlf["median_s"] * 1e3,
                "ms",
                ">= 60x",
                "ratio_le_time",
                60,
            ),
            Row(
                "2",
                f"chart query, {z.chart_points:,} pts, max_points=1000 (median)",
                chart["median_s"] * 1e3,
                None,
                "ms",
                "<= 150 ms",
                "abs_le",
                150,
            ),
        ]

    def s3_runs(self) -> None:
        z = self.sizes
        n = z.crud_runs
        say(f"3: ours (REST, 3 calls per run): creating {n} runs ...")
        rest = self.ours.crud_rest(n)
        say(f"   {rest['runs_per_s']:.1f} runs/s; listing ...")
        listing = self.ours.list_runs(rest["experiment"], n, z.list_repeat)
        say(f"3: ours (SDK start_logging/log/complete): creating {n} runs ...")
        sdk = self.ours.crud_sdk(n)
        say(f"   {sdk['runs_per_s']:.1f} runs/s; listing with Experiment.get_runs() ...")
        sdk_list = self.ours.list_runs_sdk(sdk["experiment"], n, z.list_repeat)
        m = min(n, SUBMIT_CRUD_RUNS)
        say(f"3: ours (Experiment.submit of a script logging 10 metrics, 10 params as tags): {m} runs ...")
        submit = self.ours.crud_submit(m)
        say(f"   {submit['runs_per_s']:.1f} runs/s submitted; all Completed after {submit['all_completed_s']:.1f} s")
        say(f"3: MLflow: create_run + log_batch + set_terminated x {n}, then search_runs ...")
        mlf = self.mlflow("crud", "--runs", n, "--page-size", 500, "--list-repeat", z.mlflow_list_repeat, timeout=3600)
        if mlf["listed"] != n:
            raise RuntimeError(f"MLflow listed {mlf['listed']} runs of {n}")
        say(
            f"   MLflow: {mlf['runs_per_s']:.1f} runs/s; list {mlf['list_median_s'] * 1e3:,.0f} ms; "
            f"ours: list {listing['median_s'] * 1e3:,.0f} ms"
        )
        self.details["3_runs"] = {
            "ours_rest": rest,
            "ours_sdk": sdk,
            "ours_list": listing,
            "ours_sdk_list": sdk_list,
            "ours_submit": submit,
            "mlflow": mlf,
        }
        self.rows += [
            Row(
                "3",
                f"create {n} runs x (10 params, 10 metrics): REST",
                rest["runs_per_s"],
                mlf["runs_per_s"],
                "runs/s",
                ">= 30x",
                "ratio_ge",
                30,
            ),
            Row(
                "3",
                f"create {n} runs x (10 params, 10 metrics): SDK",
                sdk["runs_per_s"],
                mlf["runs_per_s"],
                "runs/s",
                ">= 30x",
                "ratio_ge",
                30,
            ),
            Row(
                "3",
                f"create {m} runs x (10 params, 10 metrics): Experiment.submit",
                submit["runs_per_s"],
                mlf["runs_per_s"],
                "runs/s",
                ">= 30x",
                "ratio_ge",
                30,
            ),
            Row(
                "3",
                f"  the same {m} runs, submit -> all Completed (2 at a time)",
                submit["completed_runs_per_s"],
                mlf["runs_per_s"],
                "runs/s",
                "-",
                "info",
            ),
            Row(
                "3",
                f"list {n} runs, pages of 500 (median)",
                listing["median_s"] * 1e3,
                mlf["list_median_s"] * 1e3,
                "ms",
                ">= 20x",
                "ratio_le_time",
                20,
            ),
            Row(
                "3",
                f"list {n} runs with Experiment.get_runs() (median)",
                sdk_list["median_s"] * 1e3,
                mlf["list_median_s"] * 1e3,
                "ms",
                "-",
                "info",
            ),
        ]

    def s4_submit(self) -> None:
        z = self.sizes
        say(f"4: ours: submit -> first script line, local compute, user-managed env (1 warm-up + {z.submit_repeat})")
        res = self.ours.submit_latency(z.submit_repeat)
        say(
            f"   median {res['median_s']:.3f} s ({', '.join(f'{v:.3f}' for v in res['latencies_s'])}); "
            f"Experiment.submit() itself {res['submit_call_median_s']:.3f} s"
        )
        self.details["4_submit"] = res
        self.rows.append(
            Row(
                "4",
                f"submit -> first script line (median of {z.submit_repeat})",
                res["median_s"],
                None,
                "s",
                "<= 1 s",
                "abs_le",
                1.0,
            )
        )

    def s5_resubmit(self) -> None:
        z = self.sizes
        say(f"5: ours: submitting a {z.files}-file folder twice ...")
        res = self.ours.resubmit(z.files)
        say(
            f"   first submit {res['first_submit_s']:.2f} s ({res['first_uploaded_bytes']:,} B); "
            f"second {res['second_submit_s']:.2f} s ({res['second_uploaded_bytes']:,} B uploaded)"
        )
        self.details["5_resubmit"] = res
        self.rows += [
            Row(
                "5",
                f"re-submit unchanged {z.files}-file folder: bytes uploaded",
                res["second_uploaded_bytes"],
                None,
                "B",
                "0 B",
                "abs_eq",
                0,
            ),
            Row(
                "5",
                "re-submit unchanged folder: Experiment.submit() time",
                res["second_submit_s"],
                None,
                "s",
                "-",
                "info",
            ),
            Row(
                "5",
                f"first submit of the folder ({res['folder_bytes'] / 1e6:.1f} MB)",
                res["first_submit_s"],
                None,
                "s",
                "-",
                "info",
            ),
        ]

    def digits(self) -> dict[str, Any]:
        """Scenarios 6 and 7: the LogisticRegression on sklearn's digits, pickled with joblib (trained once)."""
        if self.trained is None:
            from serving import train_digits

            self.trained = train_digits(self.run_dir / "serving" / "model.pkl")
            say(
                f"   trained LogisticRegression on digits in {self.trained['fit_s']:.1f} s "
                f"(scikit-learn {self.trained['sklearn']}, {self.trained['model_bytes']:,} B pickle)"
            )
        return self.trained

    def s6_serving(self) -> None:
        from servers import mlflow_python
        from serving import OursServing, first_good, memory, run_load, start_mlflow_serve, wait_log

        z = self.sizes
        work = self.run_dir / "serving"
        work.mkdir(parents=True, exist_ok=True)
        say("6: serving: training the digits model ...")
        model = self.digits()
        rows, expect = model["rows"], model["predictions"]
        ours_bodies = [json.dumps({"data": [r]}) for r in rows]
        mlf_bodies = [json.dumps({"inputs": [r]}) for r in rows]
        details: dict[str, Any] = {"model": {k: v for k, v in model.items() if k not in ("rows", "model")}}
        self.details["6_serving"] = details
        loads = (1, 16)

        def load(
            side: str, url: str, bodies: list[str], headers: dict[str, str], watch: dict[str, Any], concs=loads
        ) -> None:
            for conc in concs:
                res = run_load(url, bodies, headers, conc, z.load_seconds, 1.0, work, watch)
                details[f"{side}_load_c{conc}"] = res
                cpu = ", ".join(
                    f"{k} {v * 100:.0f}% ({res['server_cpu_us_per_request'][k]:.0f} us/request)"
                    for k, v in res["server_cpu_util"].items()
                )
                say(
                    f"   {side} c={conc}: {res['rps']:,.0f} req/s, p50 {res['p50_ms']:.2f} ms, p99 "
                    f"{res['p99_ms']:.2f} ms ({res['requests']:,} requests); CPU: loadgen "
                    f"{res['cpu_util'] * 100:.0f}%, {cpu}; load avg {res['loadavg_after'][0]:.2f}"
                )

        # -- ours: register, deploy (1 warm-up + N measured cold starts), load, memory, delete
        ours = OursServing(self.ours.ws, self.run_dir, say)
        try:
            t0 = time.perf_counter()
            registered = ours.register(Path(model["model_file"]), "bench-digits")
            details["ours_register_s"] = time.perf_counter() - t0
            first = ours_bodies[0].encode()
            starts = []
            for i in range(z.cold_starts + 1):
                res = ours.deploy(registered, f"bench-digits-{i}", first, expect[:1])
                kept = {k: v for k, v in res.items() if k != "service"}
                starts.append(kept)
                say(
                    f"6: ours: {'warm-up ' if i == 0 else ''}deploy -> first good answer {res['cold_start_s']:.2f} s "
                    f"(Model.deploy returned after {res['deploy_call_s']:.2f} s); {res['state']}, "
                    f"replica pid(s) {res['replica_pids']}"
                )
                if i < z.cold_starts:
                    ours.delete_all()
            details["ours_starts"] = starts
            live = starts[-1]
            replica = live["replica_pids"][0]
            # the balancer runs in the aml serve process (alone: its children include the replica)
            watch = {"aml serve (balancer)": (self.aml_pid, False), "replica": (replica, True)}
            load("ours", live["scoring_uri"], ours_bodies, live["headers"], watch)
            details["ours_memory"] = memory(replica)
            details["ours_aml_serve_memory"] = memory(self.aml_pid, tree=False)
            say(
                f"   ours: replica RSS {details['ours_memory']['rss_mb']:.0f} MB "
                f"({details['ours_memory']['processes']} process(es), PSS {details['ours_memory']['pss_mb']:.0f} MB); "
                f"aml serve (workspace service + balancer) RSS {details['ours_aml_serve_memory']['rss_mb']:.0f} MB"
            )
        finally:
            ours.delete_all()

        # -- MLflow: log the same model, `mlflow models serve` (1 warm-up + N measured starts), load, memory
        say("6: MLflow: log_model of the same pickle, then mlflow models serve ...")
        logged = self.mlflow(
            "serving-model", "--model-file", model["model_file"], "--sklearn-version", model["sklearn"]
        )
        details["mlflow_model"] = logged
        mstarts: list[dict[str, Any]] = []
        child = None
        try:
            for i in range(z.cold_starts + 1):
                child, url = start_mlflow_serve(
                    mlflow_python(),
                    logged["model_uri"],
                    self.mlflow_url,
                    self.run_dir / "logs" / f"mlflow-models-serve-{i}.log",
                    work,
                )
                self.children.append(child)
                t_good, attempts = first_good(
                    url,
                    mlf_bodies[0].encode(),
                    {},
                    lambda a: json.loads(a).get("predictions") == expect[:1],
                    300,
                    alive=child.alive,
                    poll=0.05,
                )
                mstarts.append({"cold_start_s": t_good - child.started, "attempts": attempts})
                say(
                    f"   MLflow: {'warm-up ' if i == 0 else ''}process start -> first good answer "
                    f"{t_good - child.started:.2f} s"
                )
                if i < z.cold_starts:
                    child.stop()
                    self.children.remove(child)
                    child = None
            details["mlflow_starts"] = mstarts
            assert child is not None
            load("mlflow", url, mlf_bodies, {}, {"mlflow models serve": (child.proc.pid, True)})
            details["mlflow_memory"] = memory(child.proc.pid)
            say(
                f"   MLflow: serving tree RSS {details['mlflow_memory']['rss_mb']:.0f} MB "
                f"({details['mlflow_memory']['processes']} processes, PSS {details['mlflow_memory']['pss_mb']:.0f} MB)"
            )
            child.stop()
            self.children.remove(child)
            child = None
            # For reference: ours uses two busy processes per request (balancer + replica), MLflow's default one.
            say("6: MLflow with --workers 2 (for reference), c=16 only ...")
            child, url2 = start_mlflow_serve(
                mlflow_python(),
                logged["model_uri"],
                self.mlflow_url,
                self.run_dir / "logs" / "mlflow-models-serve-workers2.log",
                work,
                workers=2,
            )
            self.children.append(child)
            t_good, _ = first_good(
                url2,
                mlf_bodies[0].encode(),
                {},
                lambda a: json.loads(a).get("predictions") == expect[:1],
                300,
                alive=child.alive,
                poll=0.05,
            )
            details["mlflow2_start_s"] = t_good - child.started
            # the first answer comes from the first worker up: wait for the other one before loading
            details["mlflow2_all_workers_up"] = wait_log(child, "Application startup complete", 2, 120)
            load("mlflow2", url2, mlf_bodies, {}, {"mlflow models serve": (child.proc.pid, True)}, concs=(16,))
            details["mlflow2_memory"] = memory(child.proc.pid)
        finally:
            if child is not None:
                child.stop()
                with contextlib.suppress(ValueError):
                    self.children.remove(child)

        ours_cold = median([s["cold_start_s"] for s in starts[1:]])
        mlf_cold = median([s["cold_start_s"] for s in mstarts[1:]])
        om, mm = details["ours_memory"], details["mlflow_memory"]
        uvicorn = [p for p in mm["detail"] if "uvicorn" in p["cmd"]]
        o16, m16 = details["ours_load_c16"], details["mlflow_load_c16"]
        o1, m1 = details["ours_load_c1"], details["mlflow_load_c1"]
        inits = [s["replica_init_s"] for s in starts[1:] if s.get("replica_init_s") is not None]
        self.rows += [
            Row(
                "6",
                "serving c=16, 1 replica vs 1 uvicorn worker: requests/s",
                o16["rps"],
                m16["rps"],
                "req/s",
                ">= 4x",
                "ratio_ge",
                4,
            ),
            Row(
                "6",
                "  the same vs MLflow with --workers 2 (reference)",
                o16["rps"],
                details["mlflow2_load_c16"]["rps"],
                "req/s",
                "-",
                "ratio_ge",
                None,
            ),
            Row("6", "serving c=16: p50 latency", o16["p50_ms"], m16["p50_ms"], "ms", "-", "info"),
            Row("6", "serving c=16: p99 latency", o16["p99_ms"], m16["p99_ms"], "ms", "<= 30 ms", "abs_le", 30),
            Row("6", "serving c=1: requests/s", o1["rps"], m1["rps"], "req/s", "-", "ratio_ge", None),
            Row("6", "serving c=1: p50 latency", o1["p50_ms"], m1["p50_ms"], "ms", "-", "info"),
            Row("6", "serving c=1: p99 latency", o1["p99_ms"], m1["p99_ms"], "ms", "-", "info"),
            Row(
                "6",
                "server CPU per request at c=16 (ours: balancer + replica)",
                sum(o16["server_cpu_us_per_request"].values()),
                sum(m16["server_cpu_us_per_request"].values()),
                "us",
                "-",
                "ratio_le_time",
                None,
            ),
            Row(
                "6",
                "load generator CPU at c=16 (share of one core)",
                o16["cpu_util"] * 100,
                m16["cpu_util"] * 100,
                "%",
                "-",
                "info",
            ),
            Row(
                "6",
                f"cold start: deploy / process start -> first good answer (median of {z.cold_starts})",
                ours_cold,
                mlf_cold,
                "s",
                "<= 1.5 s",
                "abs_le",
                1.5,
            ),
            Row(
                "6",
                "  of which the scoring script's imports + init() (replica's own timer)",
                median(inits) if inits else None,
                None,
                "s",
                "-",
                "info",
            ),
            Row(
                "6",
                f"memory: RSS of the serving processes ({om['processes']} vs {mm['processes']})",
                om["rss_mb"],
                mm["rss_mb"],
                "MB",
                "< MLflow",
                "ratio_le_time",
                1.0,
            ),
            Row(
                "6",
                "memory: MLflow's uvicorn worker alone",
                om["rss_mb"],
                sum(p["rss_mb"] for p in uvicorn) if uvicorn else None,
                "MB",
                "-",
                "info",
            ),
        ]

    def s7_register(self) -> None:
        from serving import OursServing

        z = self.sizes
        n = z.register_repeat
        say("7: registration: training the digits model ...")
        model = self.digits()
        ours = OursServing(self.ours.ws, self.run_dir, say)
        say(f"7: ours: joblib.dump + Model.register x {n} ...")
        reg = ours.register_repeat(model["model"], n, "bench-register")
        say(f"   median {reg['median_s'] * 1e3:.1f} ms")
        say(f"7: ours: joblib.dump + run.upload_file + run.register_model x {n} ...")
        from_run = ours.register_from_run_repeat(model["model"], n, "bench-register-run")
        say(f"   median {from_run['median_s'] * 1e3:.1f} ms")
        common = ["--model-file", model["model_file"], "--sklearn-version", model["sklearn"], "--repeat", n]
        say(f"7: MLflow: mlflow.sklearn.log_model + mlflow.register_model x {n} (defaults) ...")
        mlf = self.mlflow("register", *common, "--mode", "default")
        say(
            f"   median {mlf['median_s'] * 1e3:,.0f} ms (log_model {mlf['log_model_median_s'] * 1e3:,.0f} ms, "
            f"register_model {mlf['register_model_median_s'] * 1e3:,.0f} ms)"
        )
        say(f"7: MLflow: the same with pip_requirements and signature given x {n} ...")
        fast = self.mlflow("register", *common, "--mode", "fast")
        say(
            f"   median {fast['median_s'] * 1e3:,.0f} ms (log_model {fast['log_model_median_s'] * 1e3:,.0f} ms, "
            f"register_model {fast['register_model_median_s'] * 1e3:,.0f} ms)"
        )
        self.details["7_register"] = {"ours": reg, "ours_from_run": from_run, "mlflow": mlf, "mlflow_fast": fast}
        self.rows += [
            Row(
                "7",
                f"register a model, median of {n}: Model.register vs log_model + register_model",
                reg["median_s"] * 1e3,
                mlf["median_s"] * 1e3,
                "ms",
                ">= 10x",
                "ratio_le_time",
                10,
            ),
            Row(
                "7",
                "  the same vs MLflow with pip_requirements + signature given",
                reg["median_s"] * 1e3,
                fast["median_s"] * 1e3,
                "ms",
                ">= 10x",
                "ratio_le_time",
                10,
            ),
            Row(
                "7",
                "  run.upload_file + run.register_model vs log_model + register_model",
                from_run["median_s"] * 1e3,
                mlf["median_s"] * 1e3,
                "ms",
                "-",
                "ratio_le_time",
                None,
            ),
            Row(
                "7",
                "  run.upload_file + run.register_model vs MLflow with pip_requirements + signature",
                from_run["median_s"] * 1e3,
                fast["median_s"] * 1e3,
                "ms",
                "-",
                "ratio_le_time",
                None,
            ),
        ]

    def s_compute(self) -> None:
        """The compute group (benchmarks/compute.py): instance and cluster latencies, scaling, idle footprint."""
        from compute import ComputeBench

        assert self.aml_root is not None
        bench = ComputeBench(self.aml_url, self.aml_token, self.aml_root, self.args.quick, say)
        try:
            bench.run()
        finally:  # what was measured before a failure is reported too
            self.compute_rows += bench.rows
            self.details["compute"] = bench.details

    def s_data(self) -> None:
        """The data group (benchmarks/data.py): dataset registration, reads and a run's download."""
        from data import DataBench

        assert self.aml_root is not None
        bench = DataBench(self.aml_url, self.aml_token, self.aml_root, self.args.quick, say)
        try:
            bench.run()
        finally:
            self.data_rows += bench.rows
            self.details["data"] = bench.details

    def s_collect(self) -> None:
        """Model data collection on vs off (benchmarks/collect.py); its rows join the data table."""
        from collect import CollectBench

        assert self.aml_root is not None
        bench = CollectBench(self.aml_url, self.aml_token, self.aml_root, self.args.quick, say)
        try:
            bench.run()
        finally:
            self.data_rows += bench.rows
            self.details["collect"] = bench.details

    def s_autoscale(self) -> None:
        """Autoscaling under a load step (benchmarks/autoscale.py); its rows join the data table."""
        from autoscale import AutoscaleBench

        assert self.aml_root is not None
        bench = AutoscaleBench(self.aml_url, self.aml_token, self.aml_root, self.args.quick, say)
        try:
            bench.run()
        finally:
            self.data_rows += bench.rows
            self.details["autoscale"] = bench.details

    def s_pipelines(self) -> None:
        """ML pipelines (benchmarks/pipelines.py): re-submits reusing steps, a fan-out on a 4-node cluster."""
        from pipelines import PipelinesBench

        assert self.aml_root is not None
        bench = PipelinesBench(self.aml_url, self.aml_token, self.aml_root, self.args.quick, say)
        try:
            bench.run()
        finally:
            self.data_rows += bench.rows
            self.details["pipelines"] = bench.details

    def s_peers(self) -> None:
        """Serving at c=16 against ``mlflow models serve`` and MLServer, with and without batching
        (benchmarks/peers.py)."""
        from peers import PeersBench

        bench = PeersBench(self, say)
        try:
            bench.run()
        finally:
            self.peer_rows += bench.rows
            self.details["peers"] = bench.details

    def s_search(self) -> None:
        """Run search (benchmarks/search.py): a filtered, metric-ordered page with metric columns, in-process
        on both sides (ours: RunService.find; MLflow: SqlAlchemyStore.search_runs), over the same runs."""
        from search import bench as search_bench

        sizes = [2_000] if self.args.quick else [10_000] + ([100_000] if self.args.scale else [])
        for runs in sizes:
            got = search_bench(runs, say)
            self.details[f"search_{runs}"] = got
            theirs = got["mlflow"]["ms"] if got["mlflow"] else None
            goal = 300.0 if runs >= 100_000 else 100.0
            self.rows += [
                Row("search", f"search page of 100, {runs} runs, server-side (load {got['load']})", got["ours"]["ms"],
                    theirs, "ms", f"<= {goal:.0f} ms", "abs_le", goal),
                Row("search", f"search vs search_runs, {runs} runs", got["ours"]["ms"], theirs, "ms", ">= 20x",
                    "ratio_le_time", 20.0),
            ]

    def s_ingest(self) -> None:
        """Ingest and concurrency (benchmarks/ingest.py): scenario 1, then 20 writers with 5 studio readers."""
        from ingest import concurrent, single_run

        single_run(self, say)
        concurrent(self, say)

    def s_mlflow(self) -> None:
        """The MLflow REST API against mlflow server, through the same mlflow client (benchmarks/mlflow_api.py)."""
        from mlflow_api import bench as mlflow_api_bench

        mlflow_api_bench(self, say)

    def s_scale(self) -> None:
        """Store footprint and growth (benchmarks/scale.py): 1k-100k runs, 1M-10M points (100M with --scale)."""
        from scale import bench as scale_bench

        scale_bench(self, say)

    # -- driver ----------------------------------------------------------------------------------------
    def run(self) -> int:
        scenarios = {
            "1": self.s1_ingest,
            "2": self.s2_history,
            "3": self.s3_runs,
            "4": self.s4_submit,
            "5": self.s5_resubmit,
            "6": self.s6_serving,
            "7": self.s7_register,
            "compute": self.s_compute,
            "data": self.s_data,
            "autoscale": self.s_autoscale,
            "collect": self.s_collect,
            "pipelines": self.s_pipelines,
            "search": self.s_search,
            "peers": self.s_peers,
            "ingest": self.s_ingest,
            "scale": self.s_scale,
            "mlflow": self.s_mlflow,
        }
        only = [s.strip() for s in self.args.only.split(",")] if self.args.only else list(scenarios)
        started = time.time()
        load_before = os.getloadavg()
        if load_before[0] > 1.5:
            say(
                f"warning: load average {load_before[0]:.2f} on {os.cpu_count()} cores: other processes are "
                "competing for the CPU, figures will be noisy"
            )
        unknown = [k for k in only if k not in scenarios]
        if unknown:
            raise SystemExit(f"unknown scenario(s) {', '.join(unknown)}: choose from 1-7, "
                             "compute, data, collect, autoscale, pipelines, search, peers, ingest or scale")
        try:
            try:
                no_mlflow = ("compute", "data", "collect", "autoscale", "pipelines", "scale")
                self.start(with_mlflow=any(k not in no_mlflow for k in only))
            except Exception as exc:
                self.errors["setup"] = f"{type(exc).__name__}: {exc}"
                say(f"setup FAILED: {self.errors['setup']}")
                only = []
            for key in only:
                t0 = time.monotonic()
                try:
                    scenarios[key]()
                except Exception as exc:  # report and go on with the next scenario
                    self.errors[key] = f"{type(exc).__name__}: {exc}"
                    say(f"scenario {key} FAILED: {self.errors[key]}")
                    (self.run_dir / "logs" / f"scenario-{key}-error.txt").write_text(traceback.format_exc())
                self.details.setdefault("scenario_seconds", {})[key] = round(time.monotonic() - t0, 1)
        finally:
            self.stop()
        self.details["total_seconds"] = round(time.time() - started, 1)
        self.details["load_average_before"] = load_before
        self.details["load_average_after"] = os.getloadavg()
        self.report()
        if not self.args.keep:
            for sub in ("aml-root", "aml-root-runs", "mlflow", "src", "tmp", "cache", "serving"):
                shutil.rmtree(self.run_dir / sub, ignore_errors=True)
        return 1 if self.errors else 0

    def environment(self) -> dict[str, Any]:
        cpu = ""
        with contextlib.suppress(OSError, StopIteration):
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            )
        try:
            from jupyter_aml import __version__ as ours_version
        except ImportError:
            ours_version = "?"
        return {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "mode": "quick" if self.args.quick else "full",
            "cpus": os.cpu_count(),
            "cpu_model": cpu,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "jupyter_aml": ours_version,
            "mlflow": self.details.get("services", {}).get("mlflow_version"),
            "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        }

    def report(self) -> None:
        env = self.environment()
        table = render_table(self.rows)
        lb, la = self.details["load_average_before"], self.details["load_average_after"]
        lines = [
            "",
            f"jupyter-aml vs MLflow ({env['mode']}), {env['date']}, {env['cpus']} cores ({env['cpu_model']}), "
            f"Python {env['python']}, SQLite {env['sqlite']}, jupyter-aml {env['jupyter_aml']}, mlflow {env['mlflow']}",
            f"load average before {lb[0]:.2f}, after {la[0]:.2f}; total {self.details['total_seconds']:.0f} s",
            "",
            table,
        ]
        if self.compute_rows:
            from compute_common import render

            lines += ["", "Computes (ratio = ours / the named peer, measured in the same run):", "",
                      render(self.compute_rows)]
        if self.data_rows:
            from compute_common import render

            lines += ["", "Data (ratio = ours / the named peer, measured in the same run):", "",
                      render(self.data_rows)]
        if self.peer_rows:
            from compute_common import render

            lines += ["", "Serving against MLflow and MLServer (ratio = ours / the named peer, same run):", "",
                      render(self.peer_rows)]
        for key, err in self.errors.items():
            lines.append(f"scenario {key} failed: {err}")
        text = "\n".join(lines)
        print(text, flush=True)
        out = WORK_DIR / "results"
        out.mkdir(parents=True, exist_ok=True)
        payload = {
            "environment": env,
            "rows": [r.as_dict() for r in self.rows],
            "compute_rows": [r.as_dict() for r in self.compute_rows],
            "data_rows": [r.as_dict() for r in self.data_rows],
            "peer_rows": [r.as_dict() for r in self.peer_rows],
            "errors": self.errors,
            "details": self.details,
        }
        (out / f"{self.stamp}.json").write_text(json.dumps(payload, indent=2, default=str))
        (out / f"{self.stamp}.md").write_text(text + "\n")
        say(f"results: {out / self.stamp}.json (.md); logs: {self.run_dir / 'logs'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under ~5 minutes)")
    parser.add_argument("--only", default="", help="comma-separated scenario numbers or groups, e.g. 1,2 or compute")
    parser.add_argument("--scale", action="store_true", help="the large sizes (search: 100k runs; scale: 100M points)")
    parser.add_argument("--keep", action="store_true", help="keep the services' data under .work/runs/<stamp>")
    parser.add_argument("--mlflow-spec", default="mlflow", help="pip requirement for MLflow's venv (default: mlflow)")
    parser.add_argument(
        "--mlflow-workers",
        type=int,
        default=1,
        help="mlflow server --workers (default 1: its lowest latency for one sequential client)",
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep this machine's PYTHONDONTWRITEBYTECODE (every process compiles its imports from source)",
    )
    args = parser.parse_args()

    def on_signal(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)  # unwinds through Bench.run's finally: both services are stopped

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
