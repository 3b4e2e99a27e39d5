"""Model data collection on vs off (issue 13): the same digits model and scoring script, deployed twice,
once with ``collect_model_data=True`` (the script's ``ModelDataCollector.collect()`` calls queue each request's
64 input features and its prediction for the replica's writer thread) and once without (the same calls do
nothing), measured under the same closed-loop load.

    python benchmarks/run.py --only collect

The two services are measured in turn, three times each (off, on, off, on, ...; twice with ``--quick``) so
that a drift of the machine's load hits both; the best run of each side is compared (the one least disturbed
by other processes). On a shared machine throughput swings with the other processes far more than 5%, so
the CPU time per answered request (from ``/proc``; median of the runs) is reported too, for the scoring
process (DC4: what collection adds to the request's own process) and for the writer process (DC5: the CSV
work moved out of it), whatever else the machine is doing. Target:
collection costs at most 5% of throughput, of median latency and of the scoring process's CPU per request
(ours = collection on, peer = collection off).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compute_common import CRow
from serving import _proc_table, process_tree, run_load, train_digits

from jupyter_aml import InferenceConfig, Model, Workspace
from jupyter_aml.sdk.webservice_config import LocalWebserviceDeploymentConfiguration

SCORE_PY = '''\
"""The digits classifier, collecting its inputs and predictions (v1's ModelDataCollector)."""
import json
import os

import joblib
import numpy as np
from azureml.monitoring import ModelDataCollector


def init():
    global model, inputs_dc, predictions_dc
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"))
    inputs_dc = ModelDataCollector("bench-digits", designation="inputs",
                                   feature_names=[f"pixel_{i}" for i in range(64)])
    predictions_dc = ModelDataCollector("bench-digits", designation="predictions", feature_names=["digit"])


def run(raw_data):
    data = np.asarray(json.loads(raw_data)["data"], dtype=np.float64)
    result = model.predict(data)
    inputs_dc.collect(data)
    predictions_dc.collect(result)
    return result.tolist()
'''

OVERHEAD = 0.05
CONCURRENCY = 4


def split_cpu(root: int) -> dict[str, float]:
    """CPU seconds of a replica's tree: the scoring process (and its sandbox) apart from the data collection
    writer process (``collect_pipe``) and its children."""
    table = _proc_table()
    writer: set[int] = set()
    for pid in process_tree(root, table):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"jupyter_aml.serving.collect_pipe" in cmdline:
            writer.update(process_tree(pid, table))
    tree = process_tree(root, table)
    return {"scoring": sum(table[p][1] for p in tree if p not in writer and p in table),
            "writer": sum(table[p][1] for p in writer if p in table)}


class CollectBench:
    def __init__(self, url: str, token: str, root: Path, quick: bool, say: Callable[[str], None]) -> None:
        self.ws = Workspace.create("bench-collect", exist_ok=True, service_url=url, token=token)
        self.root, self.quick, self.say = root, quick, say
        self.work = root.parent / "collect-bench"
        self.rows: list[CRow] = []
        self.details: dict[str, Any] = {}

    def run(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        digits = train_digits(self.work / "model" / "model.pkl")
        source = self.work / "src"
        source.mkdir(exist_ok=True)
        (source / "score.py").write_text(SCORE_PY)
        model = Model.register(self.ws, digits["model_file"], "bench-digits")
        inference = InferenceConfig("score.py", source_directory=str(source))
        bodies = [json.dumps({"data": [row]}) for row in digits["rows"]]
        services = {}
        try:
            for side, on in (("off", False), ("on", True)):
                config = LocalWebserviceDeploymentConfiguration(collect_model_data=on)
                svc = Model.deploy(self.ws, f"collect-{side}", [model], inference, config, overwrite=True)
                svc.wait_for_deployment()
                if svc.state != "Healthy":
                    raise RuntimeError(f"collect-{side} is {svc.state}: {svc.get_logs()[-2000:]}")
                services[side] = svc
            duration, rounds = (3.0, 2) if self.quick else (6.0, 3)
            runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
            for side in ("off", "on") * rounds:
                svc = services[side]
                self.say(f"collect: collection {side}, c={CONCURRENCY}, {duration:.0f} s")
                pids = [r["pid"] for r in svc.get_details().get("replicas") or [] if r.get("pid")]
                before = split_cpu(pids[0])
                result = run_load(svc.scoring_uri, bodies, {"Authorization": f"Bearer {svc.get_keys()[0]}"},
                                  CONCURRENCY, duration, 1.0, self.work, {"replica": (pids[0], True)})
                after = split_cpu(pids[0])
                answered = max(1, int(result.get("requests_with_warmup") or result["requests"]))
                result["cpu_us_per_request"] = {k: (after[k] - before[k]) / answered * 1e6 for k in after}
                runs[side].append(result)
            time.sleep(1.5)
            counters = services["on"].get_telemetry().get("data_collection") or {}
        finally:
            for svc in services.values():
                svc.delete()
        best = {side: max(rs, key=lambda r: r["rps"]) for side, rs in runs.items()}
        self.details = {"runs": {s: [{k: r.get(k) for k in ("rps", "p50_ms", "p99_ms", "requests")} for r in rs]
                                 for s, rs in runs.items()},
                        "counters": counters, "concurrency": CONCURRENCY, "duration_s": duration}
        on, off = best["on"], best["off"]
        self.rows.append(CRow("DC1", f"ms per request (1 / req/s) with data collection, c={CONCURRENCY}",
                              1e3 / on["rps"], 1e3 / off["rps"], "collection off", "ms",
                              f"<= {1 + OVERHEAD:.2f}x off", 1e3 / off["rps"] * (1 + OVERHEAD),
                              extra={"rps_on": on["rps"], "rps_off": off["rps"]}))
        self.rows.append(CRow("DC2", f"p50 latency with data collection, c={CONCURRENCY}", on["p50_ms"],
                              off["p50_ms"], "collection off", "ms", f"<= {1 + OVERHEAD:.2f}x off",
                              off["p50_ms"] * (1 + OVERHEAD)))
        def median_of(side: str, part: str) -> float:
            values = sorted(r["cpu_us_per_request"][part] for r in runs[side])
            return values[len(values) // 2]

        self.details["cpu_us_per_request"] = {s: [r["cpu_us_per_request"] for r in rs] for s, rs in runs.items()}
        scoring_on, scoring_off = median_of("on", "scoring"), median_of("off", "scoring")
        self.rows.append(CRow("DC4", "the scoring process's CPU per request with data collection (median)",
                              scoring_on, scoring_off, "collection off", "us", f"<= {1 + OVERHEAD:.2f}x off",
                              scoring_off * (1 + OVERHEAD)))
        self.rows.append(CRow("DC5", "the writer process's CPU per request (CSV, spool files; median)",
                              median_of("on", "writer"), None, "-", "us", "-", None))
        collected, dropped = counters.get("collected", 0), sum(v for k, v in counters.items()
                                                                if k.startswith("dropped"))
        self.rows.append(CRow("DC3", f"records collected ({collected}) and dropped ({dropped})", float(dropped),
                              None, "-", "records", "0 dropped", None, holds=dropped == 0 and collected > 0))
