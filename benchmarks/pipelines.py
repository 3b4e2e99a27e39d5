"""The pipelines group: v1 ML pipelines (``azureml.pipeline.core``) submitted through the SDK to a running
``aml serve``, measured from the benchmark process.

    python benchmarks/run.py --only pipelines

1. A 10-step DAG (local target) submitted once, then re-submitted unchanged: how many steps executed (0 wanted)
   and the time from ``pipeline.submit`` called until the service says the pipeline run is Completed (polled
   every 20 ms over REST; an upper bound within one poll). Median of N re-submits.
2. The same DAG with one step's argument changed (step ``s2``): which steps executed. Only ``s2`` and its
   descendants (``s5``, ``s6``, ``s8``, ``s9``) should; the others are reused.
3. A 100-step fan-out (quick: 40) on a 4-node AmlCompute (the embedded Dask LocalCluster, ``min_nodes=4`` so no
   scale-up is timed), ``allow_reuse=False``: wall time, and the scheduling overhead per step = (wall x 4 nodes
   / steps) - the median time a step's script took (its own first and last ``time.time()``).

The DAG (edges are PipelineData): s0 -> s1, s2; s1 -> s3, s4; s2 -> s5, s6; s3 -> s7; s5 -> s8; s7, s8 -> s9.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import median
from compute_common import CRow

from jupyter_aml.errors import AMLError, Conflict
from jupyter_aml.runtime.http import ServiceClient

WS = "bench-pipelines"
CLUSTER = "bench-pipe-cluster"
NODES = 4
EDGES = {"s1": ["s0"], "s2": ["s0"], "s3": ["s1"], "s4": ["s1"], "s5": ["s2"], "s6": ["s2"], "s7": ["s3"],
         "s8": ["s5"], "s9": ["s7", "s8"]}
CHANGED = "s2"
DESCENDANTS = {"s2", "s5", "s6", "s8", "s9"}

# One DAG step: reads its inputs (folders), writes one file to its output folder (argv: --salt S --out DIR IN...).
STEP = """\
import os, sys
args = sys.argv[1:]
salt, out, inputs = args[1], args[3], args[4:]
text = salt + "".join(open(os.path.join(i, "value.txt")).read() for i in inputs)
os.makedirs(out, exist_ok=True)
open(os.path.join(out, "value.txt"), "w").write(text[:64])
"""
# One fan-out step: its first and last statement's time.
LEAF = """\
import sys, time
print(f"BENCH_FIRST_LINE {time.time()!r}", flush=True)
print(f"BENCH_LAST_LINE {time.time()!r}", flush=True)
"""


@dataclass
class Sizes:
    resubmits: int  # 1: unchanged re-submits measured (after the first submit)
    fanout: int  # 3: steps in the fan-out


FULL = Sizes(resubmits=5, fanout=100)
QUICK = Sizes(resubmits=3, fanout=40)


def _ts(value: str) -> float:
    """A run record's ISO time as epoch seconds."""
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class PipelinesBench:
    def __init__(self, url: str, token: str, root: Path, quick: bool, say: Callable[[str], None]) -> None:
        from jupyter_aml.sdk.workspace import Workspace

        self.client = ServiceClient(url, token, timeout=120)
        self.root = root
        self.sizes = QUICK if quick else FULL
        self.say = say
        self.rows: list[CRow] = []
        self.details: dict[str, Any] = {}
        with contextlib.suppress(Conflict):
            self.client.post("workspaces", {"name": WS})
        self.ws = Workspace(WS, service_url=url, token=token)
        self.src = root.parent / "pipelines-src"

    # -- helpers -------------------------------------------------------------------------------------------------
    def until_done(self, run_id: str, timeout: float = 600) -> tuple[str, float]:
        """Poll the pipeline run every 20 ms; (status, time.monotonic() when the answer said it ended)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = str(self.client.get(f"workspaces/{WS}/runs/{run_id}")["status"])
            if status in ("Completed", "Failed", "Canceled"):
                return status, time.monotonic()
            time.sleep(0.02)
        raise RuntimeError(f"pipeline run {run_id} did not end in {timeout:.0f} s")

    def dag(self, salts: dict[str, str]) -> Any:
        from azureml.pipeline.core import Pipeline, PipelineData
        from azureml.pipeline.steps import PythonScriptStep

        data = {name: PipelineData(f"{name}_out") for name in ["s0", *EDGES]}
        steps = []
        for name in ["s0", *EDGES]:
            inputs = [data[p] for p in EDGES.get(name, [])]
            steps.append(PythonScriptStep("step.py", name=name, source_directory=str(self.src / "dag"),
                                          arguments=["--salt", salts.get(name, "a"), "--out", data[name], *inputs],
                                          inputs=inputs, outputs=[data[name]], compute_target="local"))
        return Pipeline(self.ws, steps, description="benchmark DAG")

    def timed(self, pipeline: Any) -> tuple[float, list[str], Any]:
        """(seconds from submit called to Completed, names of the steps that executed, the run)."""
        t0 = time.monotonic()
        run = pipeline.submit("bench-dag")
        status, t_end = self.until_done(run.id)
        if status != "Completed":
            raise RuntimeError(f"pipeline run {run.id} ended {status}")
        executed = sorted(s.name for s in run.get_steps() if s.reused_from is None)
        return t_end - t0, executed, run

    # -- 1 and 2 -------------------------------------------------------------------------------------------------
    def reuse(self) -> None:
        (self.src / "dag").mkdir(parents=True, exist_ok=True)
        (self.src / "dag" / "step.py").write_text(STEP)
        self.say("pipelines: first submit of the 10-step DAG ...")
        first_s, first_exec, _ = self.timed(self.dag({}))
        self.details["first_submit"] = {"seconds": round(first_s, 3), "executed": first_exec}
        times, executed_counts = [], []
        for i in range(self.sizes.resubmits):
            seconds, executed, run = self.timed(self.dag({}))
            times.append(seconds)
            executed_counts.append(len(executed))
            self.say(f"pipelines: unchanged re-submit {i + 1}: {seconds:.3f} s, executed {executed or 'none'}")
        self.details["unchanged"] = {"seconds": times, "executed": executed_counts, "last_run": run.id}
        self.rows += [
            CRow("P1", "10-step DAG re-submitted unchanged: submit -> Completed", median(times), None, "", "s",
                 "<= 1 s", 1.0, f"{min(times):.3f}-{max(times):.3f}"),
            CRow("P1", "  steps executed (of 10)", float(max(executed_counts)), None, "", "steps", "0", None,
                 holds=max(executed_counts) == 0),
        ]
        seconds, executed, run = self.timed(self.dag({CHANGED: "b"}))
        self.say(f"pipelines: {CHANGED}'s argument changed: {seconds:.3f} s, executed {executed}")
        self.details["one_changed"] = {"seconds": seconds, "executed": executed, "run": run.id}
        self.rows.append(CRow("P2", f"  {CHANGED}'s argument changed: executed {', '.join(executed)}", seconds,
                              None, "", "s", f"only {', '.join(sorted(DESCENDANTS))}", None,
                              holds=set(executed) == DESCENDANTS))

    # -- 3 -------------------------------------------------------------------------------------------------------
    def fanout(self) -> None:
        from azureml.pipeline.core import Pipeline
        from azureml.pipeline.steps import PythonScriptStep

        self.say(f"pipelines: creating AmlCompute {CLUSTER} ({NODES} nodes, min {NODES}) ...")
        t0 = time.monotonic()
        self.client.post(f"workspaces/{WS}/computes", {"name": CLUSTER, "type": "AmlCompute", "min_nodes": NODES,
                                                       "max_nodes": NODES, "idle_seconds_before_scaledown": 120})
        deadline = time.monotonic() + 300
        while True:
            state = self.client.get(f"workspaces/{WS}/computes/{CLUSTER}")
            if state["state"] == "Running" and int(state.get("current_nodes", NODES) or 0) >= NODES:
                break
            if state["state"] == "Failed" or time.monotonic() > deadline:
                raise RuntimeError(f"cluster {CLUSTER}: {state.get('state')} {state.get('error')}")
            time.sleep(0.2)
        self.details["cluster_ready_s"] = round(time.monotonic() - t0, 2)
        (self.src / "leaf").mkdir(parents=True, exist_ok=True)
        (self.src / "leaf" / "leaf.py").write_text(LEAF)
        n = self.sizes.fanout
        steps = [PythonScriptStep("leaf.py", name=f"leaf{i:03d}", source_directory=str(self.src / "leaf"),
                                  arguments=[str(i)], compute_target=CLUSTER, allow_reuse=False) for i in range(n)]
        self.say(f"pipelines: {n}-step fan-out on {NODES} nodes ...")
        t0 = time.monotonic()
        run = Pipeline(self.ws, steps).submit("bench-fanout")
        t_submitted = time.monotonic()
        status, t_end = self.until_done(run.id, timeout=1200)
        if status != "Completed":
            raise RuntimeError(f"fan-out run {run.id} ended {status}")
        wall = t_end - t0
        scripts, queued, lived, created = [], [], [], []
        for step in run.get_steps():
            record = self.client.get(f"workspaces/{WS}/runs/{step.id}")
            if record.get("start_time") and record.get("end_time"):
                c0, s0, e0 = (_ts(record[k]) for k in ("created_at", "start_time", "end_time"))
                created.append(c0)
                queued.append(s0 - c0)
                lived.append(e0 - s0)
            marks = {line["text"].split()[0]: float(line["text"].split()[1]) for line in step.get_logs()
                     if line["text"].startswith("BENCH_")}
            if len(marks) == 2:
                scripts.append(marks["BENCH_LAST_LINE"] - marks["BENCH_FIRST_LINE"])
        script_s = median(scripts) if scripts else float("nan")
        overhead = wall * NODES / n - script_s
        self.details["fanout"] = {"steps": n, "nodes": NODES, "wall_s": round(wall, 2),
                                  "submit_call_s": round(t_submitted - t0, 2), "script_median_s": script_s,
                                  "scripts_timed": len(scripts), "run": run.id,
                                  "step_queued_median_s": median(queued) if queued else None,
                                  "step_running_median_s": median(lived) if lived else None,
                                  "step_creations_span_s": max(created) - min(created) if created else None}
        self.say(f"pipelines: fan-out {wall:.1f} s wall ({t_submitted - t0:.1f} s in submit), "
                 f"{overhead:.3f} s overhead per step per node")
        self.rows += [
            CRow("P3", f"{n}-step fan-out on {NODES} nodes: submit -> Completed", wall, None, "", "s", "-", None),
            CRow("P3", "  scheduling overhead per step (wall x nodes / steps - script)", overhead, None, "", "s",
                 "-", None),
            CRow("P3", "  a step's run: created -> started (queued for a node), median",
                 median(queued) if queued else None, None, "", "s", "-", None),
            CRow("P3", "  a step's run: started -> ended (agent, sandbox, script, outputs), median",
                 median(lived) if lived else None, None, "", "s", "-", None),
            CRow("P3", "  of which in pipeline.submit (snapshot, graph), per step", (t_submitted - t0) / n, None, "",
                 "s", "-", None),
        ]

    def run(self) -> None:
        errors: list[str] = []
        try:
            for part in (self.reuse, self.fanout):
                try:
                    part()
                except Exception as exc:
                    errors.append(f"{part.__name__}: {type(exc).__name__}: {exc}")
                    self.say(f"pipelines {part.__name__} FAILED: {errors[-1]}")
        finally:
            with contextlib.suppress(AMLError, OSError):
                self.client.delete(f"workspaces/{WS}/computes/{CLUSTER}", params={"force": "true"})
            self.client.close()
        if errors:
            raise RuntimeError("; ".join(errors))
