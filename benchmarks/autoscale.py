"""Autoscaling under a load step (issue 13): the digits model behind an autoscaled ``AksWebservice`` (replica
processes, ``autoscale_min_replicas=1``, ``autoscale_max_replicas=4``, v1's defaults otherwise: 70 % target,
1 s refresh), a closed loop of 1 caller for a few seconds, then 32 callers at once.

    python benchmarks/run.py --only autoscale

Reported: the time from the step until the first replica is added and until the replica count reaches its
peak (the replicas have scaled), the p99 latency during the whole step and once scaled, against the p99
before the step, and the scaling events. The callers run on one asyncio loop in a thread of this process
(keep-alive connections, one request in flight each); a thread polls the service's replica view every 0.2 s.
On this 2-core machine more than 4 replicas cannot add throughput, hence the maximum.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from compute_common import CRow
from serving import SCORE_PY, train_digits

from jupyter_aml import InferenceConfig, Model, Workspace
from jupyter_aml.sdk.webservice import AksWebservice

STEP_TO = 32
MAX_REPLICAS = 4
REFRESH = 1.0  # v1's default autoscale_refresh_seconds


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class StepLoad:
    """Closed-loop callers on one asyncio loop; ``set_callers(n)`` changes how many run."""

    def __init__(self, url: str, key: str, body: bytes) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self.request = (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        self.samples: list[tuple[float, float, int]] = []  # (start, latency s, status)
        self.loop = asyncio.new_event_loop()
        self.tasks: list[asyncio.Task[None]] = []
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _caller(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            while True:
                start = time.monotonic()
                writer.write(self.request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                self.samples.append((start, time.monotonic() - start, status))
        finally:
            writer.close()

    def set_callers(self, count: int) -> None:
        def adjust() -> None:
            while len(self.tasks) < count:
                self.tasks.append(self.loop.create_task(self._caller()))
            while len(self.tasks) > count:
                self.tasks.pop().cancel()

        self.loop.call_soon_threadsafe(adjust)

    def __enter__(self) -> StepLoad:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.set_callers(0)
        time.sleep(0.3)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class AutoscaleBench:
    def __init__(self, url: str, token: str, root: Path, quick: bool, say: Callable[[str], None]) -> None:
        self.ws = Workspace.create("bench-autoscale", exist_ok=True, service_url=url, token=token)
        self.quick, self.say = quick, say
        self.work = root.parent / "autoscale-bench"
        self.rows: list[CRow] = []
        self.details: dict[str, Any] = {}

    def run(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        digits = train_digits(self.work / "model" / "model.pkl")
        source = self.work / "src"
        source.mkdir(exist_ok=True)
        (source / "score.py").write_text(SCORE_PY)
        model = Model.register(self.ws, digits["model_file"], "bench-digits")
        config = AksWebservice.deploy_configuration(compute_type="local", autoscale_min_replicas=1,
                                                    autoscale_max_replicas=MAX_REPLICAS,
                                                    autoscale_refresh_seconds=REFRESH)
        inference = InferenceConfig("score.py", source_directory=str(source))
        svc = Model.deploy(self.ws, "autoscale-step", [model], inference, config, overwrite=True)
        try:
            svc.wait_for_deployment()
            if svc.state != "Healthy":
                raise RuntimeError(f"autoscale-step is {svc.state}: {svc.get_logs()[-2000:]}")
            self._measure(svc, json.dumps({"data": [digits["rows"][0]]}).encode())
            log = [line for line in svc.get_logs().splitlines() if "scal" in line or "taking traffic" in line]
            self.details["log"] = log
            decided = next((line for line in log if "scaling up" in line), None)
            if decided is not None:  # the autoscaler's decision, apart from the time the replicas take to start
                at = datetime.datetime.strptime(decided.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ")
                seconds = at.replace(tzinfo=datetime.timezone.utc).timestamp() - self.details["step_at"]
                self.details["decided_s"] = seconds
                self.rows.insert(0, CRow("AS0", f"time from the step until the autoscaler starts replicas "
                                                f"(refresh {REFRESH:g} s)", seconds, None, "-", "s",
                                         "<= 2 refresh periods", 2 * REFRESH))
        finally:
            svc.delete()

    def _measure(self, svc: Any, body: bytes) -> None:
        before_s, step_s = (3.0, 12.0) if self.quick else (5.0, 20.0)
        replicas: list[tuple[float, int]] = []
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                ready = sum(r["state"] == "ready" for r in svc.get_details().get("replicas") or [])
                replicas.append((time.monotonic(), ready))
                time.sleep(0.2)

        poller = threading.Thread(target=poll, daemon=True)
        with StepLoad(svc.scoring_uri, svc.get_keys()[0], body) as load:
            self.say(f"autoscale: c=1 for {before_s:.0f} s, then c={STEP_TO} for {step_s:.0f} s")
            poller.start()
            load.set_callers(1)
            time.sleep(before_s)
            step, step_wall = time.monotonic(), time.time()
            load.set_callers(STEP_TO)
            time.sleep(step_s)
            end = time.monotonic()
        stop.set()
        poller.join(5)
        events = svc.get_telemetry()["events"]
        during = [r for r in replicas if r[0] >= step]
        peak = max((n for _t, n in during), default=1)
        first_up = next((t - step for t, n in during if n > 1), None)
        scaled = next((t - step for t, n in during if n == peak), None) if peak > 1 else None
        lat = {"before": [lat * 1e3 for s, lat, _st in load.samples if s < step],
               "step": [lat * 1e3 for s, lat, _st in load.samples if step <= s < end],
               "scaled": [lat * 1e3 for s, lat, _st in load.samples
                          if scaled is not None and step + scaled <= s < end]}
        failures = sum(st != 200 for s, _lat, st in load.samples if s >= step)
        p99 = {k: _p(v, 0.99) for k, v in lat.items()}
        self.details = {"step_at": step_wall, "peak_replicas": peak, "first_scale_up_s": first_up, "scaled_s": scaled,
                        "p99_ms": p99, "p50_ms": {k: _p(v, 0.5) for k, v in lat.items()},
                        "requests": {k: len(v) for k, v in lat.items()}, "failures_during_step": failures,
                        "events": [e["message"] for e in events],
                        "replicas_timeline": [(round(t - step, 2), n) for t, n in replicas]}
        self.say(f"autoscale: {peak} replicas, first added after {first_up} s, scaled after {scaled} s; "
                 f"p99 {p99}")
        self.rows.append(CRow("AS1", f"time from the step c=1 -> c={STEP_TO} until the first replica is added",
                              first_up, None, "-", "s", "replicas added", None, holds=first_up is not None))
        self.rows.append(CRow("AS2", f"time from the step until the replicas have scaled (to {peak})", scaled,
                              None, "-", "s", f"scaled to {MAX_REPLICAS}", None, holds=peak == MAX_REPLICAS))
        self.rows.append(CRow("AS3", f"p99 latency during the step (c={STEP_TO}, {step_s:.0f} s, "
                                     f"{len(lat['step'])} requests, {failures} failed)",
                              p99["step"], p99["before"], "p99 at c=1", "ms", "no failed request", None,
                              holds=failures == 0))
        self.rows.append(CRow("AS4", f"p99 latency once scaled (c={STEP_TO}, {peak} replicas)", p99["scaled"],
                              p99["before"], "p99 at c=1", "ms", "-", None))
