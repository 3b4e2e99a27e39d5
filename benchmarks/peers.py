"""Serving against two peers at c=16 (issue 13): ours, ``mlflow models serve`` and MLServer (``mlserver`` +
``mlserver-sklearn`` 1.7.1, in its own venv), each without and (ours, MLServer) with batching; the same
digits model (scenario 6's LogisticRegression pickle), the same load generator (``loadgen.py``: 16 keep-alive
connections, closed loop, one image per request), the same machine, one after another.

    python benchmarks/run.py --only peers

The sides, each at its default process layout for one model:

- ours: a ``LocalWebservice`` with 1 replica (the balancer runs in the ``aml serve`` process, the replica is
  its own process); batched: ``max_batch_size=16`` (``max_batch_wait_ms=0``) and the scoring script's
  ``run_batch()``;
- MLflow: ``mlflow models serve --env-manager local`` with 1 uvicorn worker (its default; MLflow has no
  batching);
- MLServer: ``mlserver start`` with ``mlserver_sklearn.SKLearnModel``, its default ``parallel_workers=1``
  (the HTTP server process plus one inference worker process), ``debug=false``; batched: MLServer's adaptive
  batching, ``max_batch_size=16``, ``max_batch_time`` 2 ms. Requests use its V2 inference protocol.

Reported: requests/s and p99 at c=16 of each, with the ratios the issue targets (ours >= 4x MLflow, >= 2x
MLServer, p99 <= 30 ms), and the load average beside each load run.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import Child, free_port
from compute_common import CRow
from serving import first_good, memory, run_load, start_mlflow_serve

from jupyter_aml import InferenceConfig, LocalWebservice, Model

SCORE_BATCH_PY = '''\
"""The peers benchmark's batching scoring script: scenario 6's digits classifier, one predict() per batch."""
import os

import joblib
import numpy as np


def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"))


def run_batch(requests):
    rows = [np.asarray(r["data"], dtype=np.float64) for r in requests]
    predictions = model.predict(np.concatenate(rows)).tolist()
    answers, start = [], 0
    for block in rows:
        answers.append(predictions[start:start + len(block)])
        start += len(block)
    return answers
'''

CONCURRENCY = 16
BATCH = 16
MLSERVER_BATCH_TIME = 0.002  # seconds: MLServer's max_batch_time


class PeersBench:
    def __init__(self, bench: Any, say: Callable[[str], None]) -> None:
        self.bench = bench
        self.say = say
        self.work = Path(bench.run_dir) / "peers"
        self.work.mkdir(parents=True, exist_ok=True)
        self.rows: list[CRow] = []
        self.details: dict[str, Any] = {}
        self.seconds = float(bench.sizes.load_seconds)

    # -- helpers ---------------------------------------------------------------------------------------------
    def load(self, side: str, url: str, bodies: list[str], headers: dict[str, str],
             watch: dict[str, tuple[int, bool]]) -> dict[str, Any]:
        res = run_load(url, bodies, headers, CONCURRENCY, self.seconds, 1.0, self.work, watch)
        self.details[side] = res
        cpu = ", ".join(f"{k} {v * 100:.0f}%" for k, v in res["server_cpu_util"].items())
        self.say(f"   {side} c={CONCURRENCY}: {res['rps']:,.0f} req/s, p50 {res['p50_ms']:.2f} ms, p99 "
                 f"{res['p99_ms']:.2f} ms ({res['requests']:,} requests); CPU: loadgen {res['cpu_util'] * 100:.0f}%, "
                 f"{cpu}; load avg {res['loadavg_before'][0]:.2f} -> {res['loadavg_after'][0]:.2f}")
        return res

    def _start(self, child: Child) -> Child:
        self.bench.children.append(child)
        return child

    def _stop(self, child: Child | None) -> None:
        if child is not None:
            child.stop()
            with contextlib.suppress(ValueError):
                self.bench.children.remove(child)

    # -- the sides ---------------------------------------------------------------------------------------------
    def ours(self, model_file: Path, rows: list[list[float]], expect: list[int]) -> None:
        from serving import OursServing

        side = OursServing(self.bench.ours.ws, self.work, self.say)
        folder = side.score_dir()
        (folder / "score_batch.py").write_text(SCORE_BATCH_PY)
        registered = side.register(model_file, "peers-digits")
        bodies = [json.dumps({"data": [r]}) for r in rows]
        try:
            for name, config, entry in (
                ("ours", LocalWebservice.deploy_configuration(replicas=1), "score.py"),
                ("ours_batched", LocalWebservice.deploy_configuration(replicas=1, max_batch_size=BATCH),
                 "score_batch.py"),
            ):
                svc = Model.deploy(self.bench.ours.ws, f"peers-{name.replace('_', '-')}", [registered],
                                   InferenceConfig(entry_script=entry, source_directory=str(folder)), config,
                                   overwrite=True)
                side.deployed.append(svc)
                svc.wait_for_deployment()
                headers = {"Authorization": f"Bearer {svc.get_keys()[0]}"}
                first_good(svc.scoring_uri, bodies[0].encode(), headers, lambda a: json.loads(a) == [expect[0]], 120)
                replica = next(r["pid"] for r in svc.get_details()["replicas"] if r.get("pid"))
                watch = {"aml serve (balancer)": (self.bench.aml_pid, False), "replica": (replica, True)}
                self.load(name, svc.scoring_uri, bodies, headers, watch)
                if name == "ours_batched":
                    self.details["ours_batching"] = svc.get_telemetry().get("batching")
                    self.say(f"   ours batched: {self.details['ours_batching']}")
                side.delete_all()
        finally:
            side.delete_all()

    def mlflow(self, model_file: Path, sklearn: str, rows: list[list[float]], expect: list[int]) -> None:
        from servers import mlflow_python

        logged = self.bench.mlflow("serving-model", "--model-file", str(model_file), "--sklearn-version", sklearn,
                                   "--name", "peers-digits")
        bodies = [json.dumps({"inputs": [r]}) for r in rows]
        child = None
        try:
            child, url = start_mlflow_serve(mlflow_python(), logged["model_uri"], self.bench.mlflow_url,
                                            self.bench.run_dir / "logs" / "peers-mlflow-serve.log", self.work)
            self._start(child)
            first_good(url, bodies[0].encode(), {}, lambda a: json.loads(a).get("predictions") == expect[:1], 300,
                       alive=child.alive, poll=0.05)
            self.load("mlflow", url, bodies, {}, {"mlflow models serve": (child.proc.pid, True)})
        finally:
            self._stop(child)

    def mlserver(self, model_file: Path, rows: list[list[float]], expect: list[int]) -> None:
        from servers import ensure_mlserver_venv, mlserver_python

        self.details["mlserver_venv"] = ensure_mlserver_venv(self.say)
        bodies = [json.dumps({"inputs": [{"name": "predict", "shape": [1, 64], "datatype": "FP64", "data": r}]})
                  for r in rows]

        def good(answer: bytes) -> bool:
            return list(json.loads(answer)["outputs"][0]["data"]) == expect[:1]

        for name, batching in (("mlserver", {}), ("mlserver_batched", {"max_batch_size": BATCH,
                                                                         "max_batch_time": MLSERVER_BATCH_TIME})):
            folder = self.work / name
            (folder / "digits").mkdir(parents=True, exist_ok=True)
            (folder / "digits" / "model.joblib").write_bytes(model_file.read_bytes())
            port = free_port()
            (folder / "settings.json").write_text(json.dumps({
                "debug": False, "host": "127.0.0.1", "http_port": port, "grpc_port": free_port(),
                "metrics_port": free_port(), "parallel_workers": 1}))
            (folder / "digits" / "model-settings.json").write_text(json.dumps({
                "name": "digits", "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib", "version": "v1"}, **batching}))
            env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
            env["PATH"] = str(mlserver_python().parent) + os.pathsep + env.get("PATH", "")
            child = None
            try:
                child = self._start(Child(name, [str(mlserver_python().parent / "mlserver"), "start", str(folder)],
                                          log=self.bench.run_dir / "logs" / f"peers-{name}.log", cwd=folder,
                                          env=env))
                url = f"http://127.0.0.1:{port}/v2/models/digits/infer"
                t_good, _ = first_good(url, bodies[0].encode(), {}, good, 300, alive=child.alive, poll=0.1)
                self.details[f"{name}_start_s"] = t_good - child.started
                self.load(name, url, bodies, {}, {"mlserver": (child.proc.pid, True)})
                self.details[f"{name}_memory"] = {k: v for k, v in memory(child.proc.pid).items() if k != "detail"}
            finally:
                self._stop(child)

    # -- the scenario -------------------------------------------------------------------------------------------
    def run(self) -> None:
        model = self.bench.digits()
        rows, expect = model["rows"], model["predictions"]
        model_file = Path(model["model_file"])
        self.details["loadavg_before"] = os.getloadavg()
        self.say("peers: ours (LocalWebservice, 1 replica), without and with batching ...")
        self.ours(model_file, rows, expect)
        self.say("peers: mlflow models serve (1 uvicorn worker) ...")
        self.mlflow(model_file, model["sklearn"], rows, expect)
        self.say("peers: MLServer (mlserver-sklearn, parallel_workers=1), without and with adaptive batching ...")
        self.mlserver(model_file, rows, expect)
        self.details["loadavg_after"] = os.getloadavg()
        self.report()

    def report(self) -> None:
        d = self.details

        def load(ours: str, peer: str) -> str:  # the load average at the start of each of the two load runs
            return f"load {d[ours]['loadavg_before'][0]:.1f} / {d[peer]['loadavg_before'][0]:.1f}"

        def throughput(key: str, what: str, ours: str, peer: str, peer_name: str, goal: float | None) -> None:
            o, p = d[ours]["rps"], d[peer]["rps"]
            ratio = o / p if p else None
            self.rows.append(CRow(key, f"{what} ({load(ours, peer)})", o, p, peer_name, "req/s",
                                  f">= {goal:g}x" if goal else "-", None,
                                  holds=None if goal is None or ratio is None else ratio >= goal))

        throughput("P1", "c=16 requests/s, no batching", "ours", "mlflow", "mlflow models serve", 4)
        throughput("P2", "c=16 requests/s, no batching", "ours", "mlserver", "MLServer", 2)
        throughput("P3", "c=16 requests/s, ours batched vs MLflow", "ours_batched", "mlflow", "mlflow models serve", 4)
        throughput("P4", "c=16 requests/s, both batched", "ours_batched", "mlserver_batched", "MLServer adaptive", 2)
        throughput("P5", "c=16 requests/s, ours batched vs MLServer unbatched", "ours_batched", "mlserver",
                   "MLServer", None)
        for key, ours, peer, peer_name in (("P6", "ours", "mlflow", "mlflow models serve"),
                                           ("P7", "ours", "mlserver", "MLServer"),
                                           ("P8", "ours_batched", "mlserver_batched", "MLServer adaptive")):
            o, p = d[ours]["p99_ms"], d[peer]["p99_ms"]
            label = "batched" if "batched" in ours else "no batching"
            self.rows.append(CRow(key, f"c=16 p99 latency, {label} ({load(ours, peer)})", o, p, peer_name, "ms",
                                  "<= 30 ms", 30.0))
        self.say("peers: " + "; ".join(f"{k} {v['rps']:,.0f} req/s p99 {v['p99_ms']:.1f} ms" for k, v in d.items()
                                        if isinstance(v, dict) and "rps" in v))


__all__ = ["PeersBench"]
