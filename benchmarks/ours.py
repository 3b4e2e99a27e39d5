"""Our side of each scenario, through the public SDK (``jupyter_aml``) and REST API of a running ``aml serve``."""

from __future__ import annotations

import json
import random
import shutil
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import BENCH_DIR, median, metric_value

from jupyter_aml import Experiment, Run, ScriptRunConfig, Workspace
from jupyter_aml.runtime.http import ServiceClient

SCRIPTS = BENCH_DIR / "scripts"
TERMINAL = {"Completed", "Failed", "Canceled"}


def _quote(segment: str) -> str:
    """One path segment, percent-quoted as the API client quotes it."""
    return urllib.parse.quote(segment, safe="")


@dataclass
class Ours:
    url: str
    token: str
    work: Path  # this benchmark run's folder
    log: Callable[[str], None]

    def __post_init__(self) -> None:
        self.client = ServiceClient(self.url, self.token, timeout=120)
        self.ws = Workspace("bench", client=self.client)

    # -- helpers -------------------------------------------------------------------------------------------
    def source_dir(self, name: str, script: str) -> Path:
        """A fresh folder holding only ``script`` (so the snapshot is that one file)."""
        folder = self.work / "src" / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        shutil.copy(SCRIPTS / script, folder / script)
        return folder

    def logs(self, run: Run) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self.client.get(run._path("logs"), params={"after": after, "limit": 10000})
            if not page["items"]:
                return items
            items += page["items"]
            after = page["last_id"]

    def wait(self, run: Run, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            details = self.client.get(run._path())
            if details["status"] in TERMINAL:
                if details["status"] != "Completed":
                    tail = "\n".join(i["text"] for i in self.logs(run)[-30:])
                    raise RuntimeError(f"run {run.id} ended {details['status']}: {details.get('error')}\n{tail}")
                return dict(details)
            time.sleep(0.05)
        raise RuntimeError(f"run {run.id} did not finish within {timeout:.0f} s")

    def metric_count(self, run_id: str, name: str) -> int:
        items = self.client.get(f"workspaces/bench/runs/{_quote(run_id)}/metrics")["items"]
        return next((int(i["count"]) for i in items if i["name"] == name), 0)

    # -- scenario 1 -------------------------------------------------------------------------------------------
    def ingest(self, points: int, poll: float = 0.05, timeout: float = 900) -> dict[str, Any]:
        """A submitted script logs ``points`` values; time from its first ``run.log`` to all of them stored."""
        src = self.source_dir("ingest", "ingest_script.py")
        exp = Experiment(self.ws, "bench-ingest")
        cfg = ScriptRunConfig(src, "ingest_script.py", arguments=[points, "loss"])
        t_submit = time.time()
        run = exp.submit(cfg, progress=False)
        polls: list[tuple[float, int]] = []
        deadline = time.monotonic() + timeout
        status, status_checked, t_done = "", 0.0, None
        while time.monotonic() < deadline:
            count = self.metric_count(run.id, "loss")
            now = time.time()  # when the answer arrived: an upper bound of when the last point was stored
            polls.append((now, count))
            if count >= points:
                t_done = now
                break
            if now - status_checked > 1.0:
                status, status_checked = self.client.get(run._path())["status"], now
                if status in TERMINAL and polls[-1][1] == self.metric_count(run.id, "loss"):
                    raise RuntimeError(f"run {run.id} ended {status} with {count} of {points} points stored")
            time.sleep(poll)
        if t_done is None:
            raise RuntimeError(f"only {polls[-1][1]} of {points} points stored after {timeout:.0f} s")
        self.wait(run)
        bench = _bench_line(self.logs(run), "BENCH ")
        seconds = t_done - bench["log_start"]
        stored_at_loop_end = max((c for t, c in polls if t <= bench["log_end"]), default=0)
        return {
            "run_id": run.id,
            "points": points,
            "seconds": seconds,
            "points_per_s": points / seconds,
            "submit_to_first_line_s": bench["first_line"] - t_submit,
            "log_loop_s": bench["log_end"] - bench["log_start"],
            "lag_after_last_log_s": t_done - bench["log_end"],
            "stored_when_loop_ended": stored_at_loop_end,
            "polls": len(polls),
            "script": bench,
        }

    # -- scenario 2 -------------------------------------------------------------------------------------------
    def seed_history(self, hist_points: int, chart_points: int) -> dict[str, Any]:
        """An interactive run (``start_logging``) with a ``hist`` metric and a ``chart`` metric."""
        exp = Experiment(self.ws, "bench-history")
        start = time.perf_counter()
        run = exp.start_logging(display_name="history-seed")
        log = run.log
        for i in range(hist_points):
            log("hist", metric_value(i), step=i)
        for i in range(chart_points):
            log("chart", metric_value(i), step=i)
        run.complete()  # waits until every point is acknowledged (stored)
        seconds = time.perf_counter() - start
        got = {n: self.metric_count(run.id, n) for n in ("hist", "chart")}
        if got != {"hist": hist_points, "chart": chart_points}:
            raise RuntimeError(f"seeded run {run.id} holds {got}")
        return {"run_id": run.id, "seed_s": seconds, "points": hist_points + chart_points}

    def read_history(
        self, run_id: str, name: str, repeat: int, max_points: int | None = None, expect_total: int | None = None
    ) -> dict[str, Any]:
        path = f"workspaces/bench/runs/{_quote(run_id)}/metrics/{_quote(name)}"
        params = {"max_points": max_points} if max_points else None
        times: list[float] = []
        body: dict[str, Any] = {}
        for _ in range(repeat):
            t0 = time.perf_counter()
            body = self.client.get(path, params=params)
            times.append(time.perf_counter() - t0)
        if expect_total is not None and body["total"] != expect_total:
            raise RuntimeError(f"{name}: total {body['total']} != {expect_total}")
        if max_points is None and len(body["values"]) != body["total"]:
            raise RuntimeError(f"{name}: full history has {len(body['values'])} of {body['total']} points")
        if max_points is not None and len(body["values"]) > max_points:
            raise RuntimeError(f"{name}: {len(body['values'])} points for max_points={max_points}")
        return {
            "times": times,
            "median_s": median(times),
            "first_s": times[0],
            "returned": len(body["values"]),
            "total": body["total"],
        }

    # -- scenario 3 -------------------------------------------------------------------------------------------
    def crud_sdk(self, runs: int, params: int = 10, metrics: int = 10) -> dict[str, Any]:
        """SDK: ``start_logging(tags=params)``, ``run.log`` x metrics, ``complete()`` (waits for the acks)."""
        exp = Experiment(self.ws, f"bench-crud-sdk-{time.time_ns()}")
        start = time.perf_counter()
        for n in range(runs):
            run = exp.start_logging(tags={f"param_{j}": f"value-{n}-{j}" for j in range(params)})
            for j in range(metrics):
                run.log(f"metric_{j}", metric_value(n * 10 + j), step=0)
            run.complete()
        seconds = time.perf_counter() - start
        return {"experiment": exp.name, "runs": runs, "create_s": seconds, "runs_per_s": runs / seconds}

    def crud_rest(self, runs: int, params: int = 10, metrics: int = 10) -> dict[str, Any]:
        """REST, 3 calls per run like MLflow's: POST runs (properties=params), POST journal, POST status."""
        exp = f"bench-crud-rest-{time.time_ns()}"
        runs_path = "workspaces/bench/runs"
        client = self.client
        start = time.perf_counter()
        for n in range(runs):
            run = client.post(
                runs_path,
                {
                    "experiment": exp,
                    "kind": "interactive",
                    "properties": {f"param_{j}": f"value-{n}-{j}" for j in range(params)},
                },
            )
            now = time.time()
            records = [
                {
                    "seq": j + 1,
                    "run_id": run["id"],
                    "t": now,
                    "k": "m",
                    "n": f"metric_{j}",
                    "v": metric_value(n * 10 + j),
                    "s": 0,
                }
                for j in range(metrics)
            ]
            run_path = f"{runs_path}/{_quote(run['id'])}"
            client.post(f"{run_path}/journal", {"stream": "main", "records": records})
            client.post(f"{run_path}/status", {"status": "Completed"})
        seconds = time.perf_counter() - start
        return {"experiment": exp, "runs": runs, "create_s": seconds, "runs_per_s": runs / seconds}

    def crud_submit(self, runs: int, params: int = 10, metrics: int = 10) -> dict[str, Any]:
        """``Experiment.submit`` of a script that logs ``metrics`` values, the params as tags: the submit calls
        (each run created, queued and, while the target has room, started) and then until all are Completed."""
        src = self.source_dir("crud-submit", "crud_script.py")
        exp = Experiment(self.ws, f"bench-crud-submit-{time.time_ns()}")
        cfg = ScriptRunConfig(src, "crud_script.py", arguments=[metrics])
        exp.submit(cfg, progress=False).wait_for_completion(raise_on_error=True)  # warm: hash cache, env
        calls: list[float] = []
        made: list[Run] = []
        start = time.perf_counter()
        for n in range(runs):
            t0 = time.perf_counter()
            made.append(exp.submit(cfg, tags={f"param_{j}": f"value-{n}-{j}" for j in range(params)},
                                   progress=False))
            calls.append(time.perf_counter() - t0)
        submit_s = time.perf_counter() - start
        for run in made:
            self.wait(run, timeout=3600)
        all_s = time.perf_counter() - start
        got = made[-1].get_metrics()
        if len(got) != metrics:
            raise RuntimeError(f"run {made[-1].id} holds {len(got)} metrics, not {metrics}")
        return {"experiment": exp.name, "runs": runs, "create_s": submit_s, "runs_per_s": runs / submit_s,
                "submit_call_median_s": median(calls), "all_completed_s": all_s,
                "completed_runs_per_s": runs / all_s}

    def list_runs(self, experiment: str, expect: int, repeat: int, page_size: int = 500) -> dict[str, Any]:
        def list_all() -> int:
            total, token = 0, None
            while True:
                params: dict[str, Any] = {"experiment": experiment, "page_size": page_size}
                if token:
                    params["page_token"] = token
                page = self.client.get("workspaces/bench/runs", params=params)
                total += len(page["items"])
                token = page.get("next_page_token")
                if not token:
                    return total

        times: list[float] = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            listed = list_all()
            times.append(time.perf_counter() - t0)
            if listed != expect:
                raise RuntimeError(f"listed {listed} runs of {expect}")
        return {"times": times, "median_s": median(times), "listed": expect}

    def list_runs_sdk(self, experiment: str, expect: int, repeat: int) -> dict[str, Any]:
        exp = Experiment(self.ws, experiment)
        times: list[float] = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            got = list(exp.get_runs())  # a generator, as v1's
            times.append(time.perf_counter() - t0)
            if len(got) != expect:
                raise RuntimeError(f"get_runs returned {len(got)} runs of {expect}")
        return {"times": times, "median_s": median(times)}

    # -- scenario 4 -------------------------------------------------------------------------------------------
    def submit_latency(self, repeat: int, warmup: int = 1) -> dict[str, Any]:
        """``time.time()`` just before ``Experiment.submit`` -> the script's first line, local compute."""
        src = self.source_dir("first-line", "first_line_script.py")
        exp = Experiment(self.ws, "bench-submit")
        cfg = ScriptRunConfig(src, "first_line_script.py")  # default Environment(): user-managed, cached
        samples: list[dict[str, Any]] = []
        for k in range(warmup + repeat):
            t0 = time.time()
            run = exp.submit(cfg, progress=False)
            t_returned = time.time()
            self.wait(run)
            logs = self.logs(run)
            first = _first_line(logs)
            sample = {
                "run_id": run.id,
                "latency_s": first - t0,
                "submit_call_s": t_returned - t0,
                "warmup": k < warmup,
                "steps": _agent_steps(logs, t0, first),
            }
            samples.append(sample)
        measured = [s["latency_s"] for s in samples if not s["warmup"]]
        mid = sorted(samples[warmup:], key=lambda s: s["latency_s"])[len(measured) // 2]
        return {
            "latencies_s": measured,
            "median_s": median(measured),
            "warmup_s": [s["latency_s"] for s in samples if s["warmup"]],
            "submit_call_median_s": median([s["submit_call_s"] for s in samples[warmup:]]),
            "median_sample_steps": mid["steps"],
            "samples": samples,
        }

    # -- scenario 5 -------------------------------------------------------------------------------------------
    def resubmit(self, files: int) -> dict[str, Any]:
        """Submit a ``files``-file folder twice, unchanged; the second submit should upload nothing."""
        src = self.work / "src" / "many-files"
        if src.exists():
            shutil.rmtree(src)
        total = make_folder(src, files)
        exp = Experiment(self.ws, "bench-resubmit")
        cfg = ScriptRunConfig(src, "main.py")
        t0 = time.perf_counter()
        run1 = exp.submit(cfg, progress=False)
        first_s = time.perf_counter() - t0
        self.wait(run1)
        t0 = time.perf_counter()
        run2 = exp.submit(cfg, progress=False)
        second_s = time.perf_counter() - t0
        self.wait(run2)
        up1, up2 = run1._upload, run2._upload
        if up2.file_count != files:
            raise RuntimeError(f"the snapshot holds {up2.file_count} files, not {files}")
        return {
            "files": files,
            "folder_bytes": total,
            "first_submit_s": first_s,
            "first_uploaded_bytes": up1.uploaded_bytes,
            "first_uploaded_files": up1.uploaded_files,
            "second_submit_s": second_s,
            "second_uploaded_bytes": up2.uploaded_bytes,
            "second_uploaded_files": up2.uploaded_files,
            "same_snapshot": up1.snapshot_id == up2.snapshot_id,
        }


def make_folder(root: Path, files: int, seed: int = 7) -> int:
    """``files`` files (main.py + source-like text files of 200 B .. 8 KB in 20 sub-folders)."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    (root / "main.py").write_text("print('many files: ok')\n")
    total = (root / "main.py").stat().st_size
    words = ["alpha", "beta", "gamma", "delta", "loss", "step", "model", "data", "layer", "train", "= 1\n", "\n"]
    for i in range(files - 1):
        folder = root / f"pkg{i % 20:02d}"
        folder.mkdir(exist_ok=True)
        size = rng.randint(200, 8000)
        text = f"# file {i}\n" + " ".join(rng.choice(words) for _ in range(size // 5))
        path = folder / f"module_{i:04d}.py"
        path.write_text(text[:size])
        total += path.stat().st_size
    return total


def _bench_line(logs: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    for item in logs:
        if item["text"].startswith(prefix):
            return dict(json.loads(item["text"][len(prefix) :]))
    raise RuntimeError(f"no {prefix.strip()!r} line in the run's logs: " + " | ".join(i["text"] for i in logs[-10:]))


def _first_line(logs: list[dict[str, Any]]) -> float:
    for item in logs:
        if item["text"].startswith("BENCH_FIRST_LINE "):
            return float(item["text"].split()[1])
    raise RuntimeError("the script's first line was not logged: " + " | ".join(i["text"] for i in logs[-10:]))


def _agent_steps(logs: list[dict[str, Any]], t0: float, first: float) -> list[tuple[str, float]]:
    """Where the time went: seconds after ``t0`` at which the agent logged each step."""
    steps: list[tuple[str, float]] = []
    for item in logs:
        text = item["text"]
        if item.get("stream") not in ("stdout", "stderr") and item.get("ts") is not None:
            steps.append((text[:60], round(float(item["ts"]) - t0, 3)))
    steps.append(("script first line", round(first - t0, 3)))
    return steps
