#!/usr/bin/env python
"""jupyter-aml vs MLflow: one command, both services, every scenario measured in the same run.

    python benchmarks/run.py [--quick] [--only 1,2,...] [--keep]

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

from common import WORK_DIR, Child, Row, parse_result, render_table  # noqa: E402


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


FULL = Sizes(1_000_000, 100_000, 100_000, 1_000_000, 7, 3, 9, 1000, 5, 3, 5, 2000)
QUICK = Sizes(100_000, 100_000, 100_000, 1_000_000, 5, 2, 7, 100, 3, 2, 5, 2000)


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
    def start(self) -> None:
        from servers import ensure_mlflow_venv, start_aml, start_mlflow, wait_aml, wait_mlflow

        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.details["mlflow_venv"] = ensure_mlflow_venv(self.args.mlflow_spec, say)
        # from here on: the SDK's hash cache and interactive-run temp folders live in this run's folder
        for name, sub in (("XDG_CACHE_HOME", "cache"), ("TMPDIR", "tmp")):
            (self.run_dir / sub).mkdir(exist_ok=True)
            os.environ[name] = str(self.run_dir / sub)
        import tempfile

        tempfile.tempdir = None
        say("starting mlflow server and aml serve ...")
        mlflow_child, self.mlflow_url = start_mlflow(self.run_dir, self.args.mlflow_workers)
        self.children.append(mlflow_child)
        aml_child, root = start_aml(self.run_dir)
        self.children.append(aml_child)
        url, token, aml_s = wait_aml(aml_child, root, timeout=120)
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
        z = self.sizes
        say(f"1: ours: a submitted script logs {z.ingest_points:,} points with run.log ...")
        ours = self.ours.ingest(z.ingest_points)
        sc = ours["script"]
        say(
            f"   ours: {ours['points_per_s']:,.0f} points/s to the store ({ours['seconds']:.2f} s; "
            f"log loop {ours['log_loop_s']:.2f} s, stored {ours['lag_after_last_log_s']:.2f} s after the last log); "
            f"run.log median {sc['median_ns'] / 1e3:.2f} us, p99 {sc['p99_ns'] / 1e3:.2f} us"
        )
        say(f"1: MLflow: log_batch x {z.mlflow_ingest_points // 1000} batches of 1000 ...")
        mlf = self.mlflow("ingest", "--points", z.mlflow_ingest_points, "--batch", 1000, "--key", "loss")
        say(
            f"   MLflow: {mlf['points_per_s']:,.0f} points/s ({mlf['seconds']:.1f} s; "
            f"log_batch median {mlf['log_batch_ms_median']:.0f} ms)"
        )
        self.details["1_ingest"] = {"ours": ours, "mlflow": mlf}
        self.rows += [
            Row(
                "1",
                f"metric ingest to durable store ({z.ingest_points:,} vs {z.mlflow_ingest_points:,} pts)",
                ours["points_per_s"],
                mlf["points_per_s"],
                "pts/s",
                ">= 100x",
                "ratio_ge",
                100,
            ),
            Row("1", "run.log in-script, median per call", sc["median_ns"] / 1e3, None, "us", "<= 5 us", "abs_le", 5.0),
            Row("1", "run.log in-script, p99 per call", sc["p99_ns"] / 1e3, None, "us", "-", "info"),
            Row(
                "1",
                "all points stored, seconds after the script's last run.log",
                ours["lag_after_last_log_s"],
                None,
                "s",
                "-",
                "info",
            ),
        ]

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

    # -- driver ----------------------------------------------------------------------------------------
    def run(self) -> int:
        scenarios = {
            "1": self.s1_ingest,
            "2": self.s2_history,
            "3": self.s3_runs,
            "4": self.s4_submit,
            "5": self.s5_resubmit,
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
            raise SystemExit(f"unknown scenario(s) {', '.join(unknown)}: choose from 1-5")
        try:
            try:
                self.start()
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
            for sub in ("aml-root", "mlflow", "src", "tmp", "cache"):
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
        for key, err in self.errors.items():
            lines.append(f"scenario {key} failed: {err}")
        text = "\n".join(lines)
        print(text, flush=True)
        out = WORK_DIR / "results"
        out.mkdir(parents=True, exist_ok=True)
        payload = {
            "environment": env,
            "rows": [r.as_dict() for r in self.rows],
            "errors": self.errors,
            "details": self.details,
        }
        (out / f"{self.stamp}.json").write_text(json.dumps(payload, indent=2, default=str))
        (out / f"{self.stamp}.md").write_text(text + "\n")
        say(f"results: {out / self.stamp}.json (.md); logs: {self.run_dir / 'logs'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under ~5 minutes)")
    parser.add_argument("--only", default="", help="comma-separated scenario numbers, e.g. 1,2")
    parser.add_argument("--keep", action="store_true", help="keep the services' data under .work/runs/<stamp>")
    parser.add_argument("--mlflow-spec", default="mlflow", help="pip requirement for MLflow's venv (default: mlflow)")
    parser.add_argument(
        "--mlflow-workers",
        type=int,
        default=1,
        help="mlflow server --workers (default 1: its lowest latency for one sequential client)",
    )
    args = parser.parse_args()

    def on_signal(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)  # unwinds through Bench.run's finally: both services are stopped

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
