"""The compute group: runs on a compute instance (Docker) and a compute cluster (embedded Dask), measured against
a running ``aml serve`` over REST, each figure beside a named peer measured in the same run.

    python benchmarks/run.py --only compute

1. submit -> first line on a Running ComputeInstance; peer: ``docker exec`` of the same script in its container.
2. the same on an AmlCompute with a warm idle node (min_nodes=1); peer: a plain ``distributed.Client.submit`` of a
   function that starts the same script as a subprocess on that cluster's scheduler (from ``host.json``).
3. scale-up: 8 runs queued on max_nodes=4 from 0 nodes, until the 4th script's first line (4 run at once).
4. scale-down: from the last script's end until the cluster has 0 nodes (idle_seconds_before_scaledown=2).
5. the idle footprint of a 0-node cluster: CPU and RSS of its host process tree.

"First line" in 1 and 2 is the moment the benchmark's REST poll (``GET runs/{id}/logs`` every 20 ms) first
returns the script's first printed line, i.e. the service has it (an upper bound, within one poll). The script's
own ``time.time()`` at its first statement is kept as well (same clock: the container shares the host's kernel).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import median
from compute_common import SLEEPER, CRow, first_of, four_at_once, peer_task, stats

from jupyter_aml.errors import AMLError, Conflict
from jupyter_aml.runtime.http import ServiceClient

WS = "bench-compute"
INSTANCE, CLUSTER = "bench-ci", "bench-cluster"
IMAGE = "jupyter-aml-test/python:host-3.11"
IDLE_SECONDS = 2
TERMINAL = {"Completed", "Failed", "Canceled"}
@dataclass
class Sizes:
    latency_repeat: int  # 1 and 2: measured runs per side (after one warm-up each)
    scale_repeat: int  # 3 and 4: scale-up/scale-down cycles
    scale_sleep: float  # 3: each of the 8 scripts sleeps this long
    footprint_windows: int  # 5: 10 s CPU windows
    peer_scale_repeat: int  # 3 and 4: the same cycle as plain Dask tasks


FULL = Sizes(latency_repeat=5, scale_repeat=3, scale_sleep=2.0, footprint_windows=1, peer_scale_repeat=2)
QUICK = Sizes(latency_repeat=3, scale_repeat=2, scale_sleep=2.0, footprint_windows=1, peer_scale_repeat=1)


class ComputeBench:
    def __init__(self, url: str, token: str, root: Path, quick: bool, say: Callable[[str], None]) -> None:
        self.client = ServiceClient(url, token, timeout=120)
        self.root = root
        self.sizes = QUICK if quick else FULL
        self.say = say
        self.rows: list[CRow] = []
        self.details: dict[str, Any] = {}
        self.snapshot = ""

    # -- REST helpers --------------------------------------------------------------------------------------------
    def compute(self, name: str) -> dict[str, Any]:
        return dict(self.client.get(f"workspaces/{WS}/computes/{name}"))

    def until(self, check: Callable[[], Any], timeout: float, what: str, poll: float = 0.1) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(poll)
        raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")

    def create(self, body: dict[str, Any], timeout: float = 180) -> float:
        t0 = time.monotonic()
        self.client.post(f"workspaces/{WS}/computes", body)

        def running() -> bool:
            state = self.compute(body["name"])
            if state["state"] == "Failed":
                raise RuntimeError(f"compute {body['name']} failed: {state.get('error')}")
            return bool(state["state"] == "Running")

        self.until(running, timeout, f"{body['name']} to be Running", poll=0.2)
        return time.monotonic() - t0

    def upload(self) -> str:
        data = SLEEPER.encode()
        digest = hashlib.sha256(data).hexdigest()
        self.client.request("PUT", f"workspaces/{WS}/blobs/{digest}", data=data)
        manifest = [{"path": "sleeper.py", "sha256": digest, "size": len(data), "mode": 0o644}]
        return str(self.client.post(f"workspaces/{WS}/snapshots", {"files": manifest})["id"])

    def submit(self, target: str, sleep: float = 0.0) -> str:
        body = {"experiment": "bench-compute", "snapshot_id": self.snapshot,
                "run_config": {"script": "sleeper.py", "arguments": [str(sleep)], "compute_target": target}}
        return str(self.client.post(f"workspaces/{WS}/runs", body)["id"])

    def log_items(self, run_id: str) -> list[dict[str, Any]]:
        page = self.client.get(f"workspaces/{WS}/runs/{run_id}/logs", params={"after": 0, "limit": 1000})
        return list(page["items"])

    def log_text(self, run_id: str) -> str:
        return "\n".join(str(i["text"]) for i in self.log_items(run_id))

    def steps(self, run_id: str, t0: float) -> list[tuple[str, float]]:
        """Where the time went: seconds after ``t0`` of each line the agent (not the script) logged."""
        return [(str(i["text"])[:70], round(float(i["ts"]) - t0, 3)) for i in self.log_items(run_id)
                if i.get("stream") not in ("stdout", "stderr") and i.get("ts") is not None]

    def wait_run(self, run_id: str, timeout: float = 120) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            run = dict(self.client.get(f"workspaces/{WS}/runs/{run_id}"))
            return run if run["status"] in TERMINAL else None

        run = self.until(done, timeout, f"run {run_id} to end", poll=0.05)
        if run["status"] != "Completed":
            raise RuntimeError(f"run {run_id} ended {run['status']}: {run.get('error')}\n{self.log_text(run_id)}")
        return dict(run)

    def first_line(self, target: str) -> dict[str, Any]:
        """POST a run; poll its logs every 20 ms until the service has the script's first line."""
        t0 = time.time()
        run_id = self.submit(target)
        t_posted = time.time()
        while True:
            text = self.log_text(run_id)
            if "BENCH_FIRST_LINE" in text:
                t_seen = time.time()
                break
            if time.time() - t0 > 60:
                raise RuntimeError(f"run {run_id}: no first line after 60 s")
            time.sleep(0.02)
        self.wait_run(run_id)
        t_script = first_of(text, "BENCH_FIRST_LINE") or math.nan
        return {"run_id": run_id, "service_has_line_s": t_seen - t0, "script_first_statement_s": t_script - t0,
                "post_s": t_posted - t0, "agent_steps": self.steps(run_id, t0)}

    # -- 1: compute instance -------------------------------------------------------------------------------------
    def instance(self) -> None:
        z = self.sizes
        ensure_image()
        self.say(f"compute 1: creating ComputeInstance {INSTANCE} from {IMAGE} ...")
        created = self.create({"name": INSTANCE, "type": "ComputeInstance", "image": IMAGE})
        found = subprocess.run(["docker", "ps", "-q", "--filter", f"label=aml.root={self.root}", "--filter",
                                f"label=aml.compute={INSTANCE}"], capture_output=True, text=True, check=True)
        container = found.stdout.split()[0]
        self.say(f"   Running after {created:.1f} s (container {container}); 1 warm-up + {z.latency_repeat} "
                 "submits, each followed by a docker exec of the same script")
        ours: list[dict[str, Any]] = []
        peer: list[dict[str, Any]] = []
        user = f"{os.getuid()}:{os.getgid()}"
        for i in range(1 + z.latency_repeat):
            sample = self.first_line(INSTANCE)
            t0 = time.time()
            proc = subprocess.Popen(["docker", "exec", "-u", user, container, "python3", "-c", SLEEPER, "0"],
                                    stdout=subprocess.PIPE, text=True)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            t_seen = time.time()
            proc.communicate(timeout=30)
            if not line.startswith("BENCH_FIRST_LINE"):
                raise RuntimeError(f"docker exec printed {line!r}")
            psample = {"first_line_s": t_seen - t0, "script_first_statement_s": float(line.split()[1]) - t0}
            self.say(f"   {'warm-up ' if i == 0 else ''}ours {sample['service_has_line_s']:.3f} s (script started "
                     f"{sample['script_first_statement_s']:.3f} s); docker exec {psample['first_line_s']:.3f} s")
            if i:
                ours.append(sample)
                peer.append(psample)
        o = stats([s["service_has_line_s"] for s in ours])
        p = stats([s["first_line_s"] for s in peer])
        self.details["1_instance"] = {"create_s": created, "ours": ours, "peer": peer, "ours_stats": o,
                                      "peer_stats": p}
        self.rows += [
            CRow("1", "instance: submit -> service has first line", o["median"], p["median"], "docker exec", "s",
                 "<= 1.5 s", 1.5, f"{o['min']:.3f}-{o['max']:.3f}"),
            CRow("1", "  the same, to the script's first statement", median([s["script_first_statement_s"]
                                                                            for s in ours]),
                 median([s["script_first_statement_s"] for s in peer]), "docker exec", "s", "-", None),
        ]
        self.client.delete(f"workspaces/{WS}/computes/{INSTANCE}", params={"force": "true"})

    # -- the cluster ---------------------------------------------------------------------------------------------
    def host(self) -> dict[str, Any]:
        return dict(json.loads((self.root / "computes" / WS / CLUSTER / "host.json").read_text()))

    def cluster(self) -> None:
        import distributed

        dask: Any = distributed  # untyped for mypy --strict
        self.say(f"compute: creating AmlCompute {CLUSTER} (min 0, max 4, idle {IDLE_SECONDS} s) ...")
        created = self.create({"name": CLUSTER, "type": "AmlCompute", "min_nodes": 0, "max_nodes": 4,
                               "idle_seconds_before_scaledown": IDLE_SECONDS})
        host = self.host()
        self.say(f"   Running after {created:.1f} s; scheduler {host['address']}, host pid {host['pid']}")
        self.details["cluster_create_s"] = created
        self.footprint(int(host["pid"]))  # before the benchmark's own client connects to the scheduler
        with dask.Client(host["address"], timeout=10) as dclient:
            self.scaling(dclient)
            self.warm(dclient)

    def workers(self, dclient: Any) -> int:
        return len(dclient.scheduler_info(n_workers=-1)["workers"])

    # -- 5: idle footprint ---------------------------------------------------------------------------------------
    def footprint(self, pid: int) -> None:
        """CPU and RSS of the host's process tree (scheduler, adaptive loop; no worker), the service's own client
        and its 1 s node poll connected as always."""
        from serving import _proc_table, memory, process_tree

        self.until(lambda: not self.compute(CLUSTER)["nodes"], 30, "0 nodes")
        time.sleep(2.0)  # past the start: the host idles
        z = self.sizes
        windows: list[float] = []
        rss: list[float] = []
        for _ in range(z.footprint_windows):
            before = _proc_table()
            pids = process_tree(pid, before)
            t0 = time.monotonic()
            time.sleep(10.0)
            after = _proc_table()
            seconds = time.monotonic() - t0
            cpu = sum(after[p][1] - before.get(p, (0, 0.0))[1] for p in process_tree(pid, after))
            windows.append(cpu / seconds * 100)
            mem = memory(pid)
            rss.append(mem["rss_mb"])
            self.say(f"compute 5: idle 0-node cluster: {cpu / seconds * 100:.2f} % of a core over {seconds:.1f} s, "
                     f"RSS {mem['rss_mb']:.0f} MB in {mem['processes']} processes ({len(pids)} at the start)")
        self.details["5_footprint"] = {"cpu_percent": windows, "rss_mb": rss, "processes": memory(pid)}
        self.rows += [
            CRow("5", "0-node cluster idle: CPU of the host tree (10 s windows)", median(windows), None, "", "%",
                 "-", None, f"{min(windows):.2f}-{max(windows):.2f}"),
            CRow("5", "0-node cluster idle: RSS of the host tree", median(rss), None, "", "MB", "-", None,
                 f"{min(rss):.0f}-{max(rss):.0f}"),
        ]

    # -- 3 and 4: scale up, scale down ---------------------------------------------------------------------------
    def scale_cycle(self, dclient: Any) -> dict[str, Any]:
        """From 0 nodes: POST 8 sleeper runs, wait for all, then for 0 nodes; a watcher thread records the nodes
        (the service's REST view and the scheduler's workers) every 0.1 s meanwhile."""
        z = self.sizes
        self.until(lambda: self.workers(dclient) == 0 and not self.compute(CLUSTER)["nodes"], 60, "0 nodes")
        timeline: list[tuple[float, int, int, int]] = []  # (t, busy nodes, nodes (REST), scheduler's workers)
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                with contextlib.suppress(AMLError, OSError):
                    nodes = self.compute(CLUSTER)["nodes"]
                    timeline.append((time.time(), sum(n["state"] == "busy" for n in nodes), len(nodes),
                                     self.workers(dclient)))
                stop.wait(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        t0 = time.time()
        try:
            run_ids = [self.submit(CLUSTER, z.scale_sleep) for _ in range(8)]
            posted = time.time() - t0
            for run_id in run_ids:
                self.wait_run(run_id, timeout=120)
            texts = [self.log_text(r) for r in run_ids]
            firsts = sorted(first_of(t, "BENCH_FIRST_LINE") or math.nan for t in texts)
            last_end = max(first_of(t, "BENCH_LAST_LINE") or math.nan for t in texts)
            self.until(lambda: timeline and timeline[-1][2] == 0 and timeline[-1][3] == 0, 60,
                       "the cluster to scale down to 0 nodes")
        finally:
            stop.set()
            watcher.join(5)
        return {
            "posted_8_s": posted,
            "fourth_first_line_s": firsts[3] - t0,
            "four_busy_nodes_rest_s": next((t - t0 for t, busy, _, _ in timeline if busy >= 4), math.nan),
            "first_lines_s": [f - t0 for f in firsts],
            "zero_nodes_rest_s": next((t - last_end for t, _, n, _ in timeline if t > last_end and n == 0), math.nan),
            "zero_workers_scheduler_s": next((t - last_end for t, _, _, w in timeline if t > last_end and w == 0),
                                             math.nan),
            "first_worker_s": next((t - t0 for t, _, _, w in timeline if w >= 1), math.nan),
            "four_workers_s": next((t - t0 for t, _, _, w in timeline if w >= 4), math.nan),
            "four_at_once_s": four_at_once(texts, t0),
            "peak_workers": max((w for _, _, _, w in timeline), default=0),
            "peak_busy_rest": max((b for _, b, _, _ in timeline), default=0),
            "samples": len(timeline),
        }

    def dask_cycle(self, dclient: Any) -> dict[str, Any]:
        """The peer of a scale cycle: the same 8 sleeper scripts as plain Dask tasks (one ``node`` each, as our
        runs ask) on the same cluster from 0 nodes, without the service."""
        z = self.sizes
        self.until(lambda: self.workers(dclient) == 0 and not self.compute(CLUSTER)["nodes"], 60, "0 nodes")
        task = peer_task()
        t0 = time.time()
        futures = [dclient.submit(task, sys.executable, SLEEPER, str(z.scale_sleep), pure=False,
                                  resources={"node": 1}) for _ in range(8)]
        four_workers = math.nan
        while not all(f.done() for f in futures):
            if math.isnan(four_workers) and self.workers(dclient) >= 4:
                four_workers = time.time() - t0
            time.sleep(0.05)
        results = dclient.gather(futures)
        del futures  # no result stays on a worker: nothing holds a node up
        texts = [str(r["first"]) + str(r["last"]) for r in results]
        last_end = max(first_of(t, "BENCH_LAST_LINE") or math.nan for t in texts)
        self.until(lambda: self.workers(dclient) == 0, 60, "0 workers", poll=0.05)
        firsts = sorted(first_of(t, "BENCH_FIRST_LINE") or math.nan for t in texts)
        return {"fourth_first_line_s": firsts[3] - t0, "four_at_once_s": four_at_once(texts, t0),
                "four_workers_s": four_workers, "zero_workers_scheduler_s": time.time() - last_end,
                "first_lines_s": [f - t0 for f in firsts]}

    def scaling(self, dclient: Any) -> None:
        peers: list[dict[str, Any]] = []
        for i in range(self.sizes.peer_scale_repeat):
            p = self.dask_cycle(dclient)
            peers.append(p)
            self.say(f"compute 3/4: peer cycle {i + 1} (8 plain Dask tasks): 4 workers at {p['four_workers_s']:.2f} "
                     f"s; 4th script started at {p['fourth_first_line_s']:.2f} s, 4 running at once at "
                     f"{p['four_at_once_s']:.2f} s; 0 workers {p['zero_workers_scheduler_s']:.2f} s after the last "
                     "script ended")
        cycles: list[dict[str, Any]] = []
        for i in range(self.sizes.scale_repeat):
            c = self.scale_cycle(dclient)
            cycles.append(c)
            self.say(f"compute 3/4: cycle {i + 1}: 8 runs posted in {c['posted_8_s']:.2f} s; workers 1 at "
                     f"{c['first_worker_s']:.2f} s, 4 at {c['four_workers_s']:.2f} s; 4th script started at "
                     f"{c['fourth_first_line_s']:.2f} s, 4 running at once at {c['four_at_once_s']:.2f} s (REST: "
                     f"4 busy nodes at {c['four_busy_nodes_rest_s']:.2f} s); 0 nodes {c['zero_nodes_rest_s']:.2f} s "
                     f"after the last script ended (scheduler: {c['zero_workers_scheduler_s']:.2f} s)")

        def of(key: str, among: list[dict[str, Any]] = cycles) -> dict[str, Any]:
            return stats([float(c[key]) for c in among])

        def peer(key: str) -> float:
            return float(of(key, peers)["median"])

        four_s, busy_s, once = of("fourth_first_line_s"), of("four_busy_nodes_rest_s"), of("four_at_once_s")
        workers4 = of("four_workers_s")
        down, down_sched = of("zero_nodes_rest_s"), of("zero_workers_scheduler_s")
        self.details["3_4_scaling"] = {"cycles": cycles, "peer_cycles": peers, "fourth_first_line": four_s,
                                       "four_busy_rest": busy_s, "four_at_once": once, "four_workers": workers4,
                                       "zero_nodes_rest": down, "zero_workers_scheduler": down_sched}
        def span(values: dict[str, Any]) -> str:
            return "-" if math.isnan(values["median"]) else f"{values['min']:.2f}-{values['max']:.2f}".replace("inf",
                                                                                                          "never")

        dask = "plain Dask tasks"
        self.rows += [
            CRow("3", "scale-up 0 -> 4 nodes: 8 runs posted -> 4th script's first statement", four_s["median"],
                 peer("fourth_first_line_s"), dask, "s", "<= 3 s", 3.0, span(four_s)),
            CRow("3", "  the same, until 4 scripts run at once", once["median"], peer("four_at_once_s"), dask, "s",
                 "-", None, span(once)),
            CRow("3", "  the same, until REST shows 4 busy nodes", busy_s["median"], None, "", "s", "-", None,
                 span(busy_s)),
            CRow("3", "  the same, until the scheduler has 4 workers", workers4["median"], peer("four_workers_s"), dask,
                 "s", "-", None, span(workers4)),
            CRow("4", f"scale-down: last script's end -> 0 nodes (REST), idle {IDLE_SECONDS} s", down["median"],
                 peer("zero_workers_scheduler_s"), dask, "s", f"<= {IDLE_SECONDS + 2} s", IDLE_SECONDS + 2.0,
                 span(down)),
            CRow("4", "  the same, the scheduler's worker count", down_sched["median"],
                 peer("zero_workers_scheduler_s"), dask, "s", "-", None, span(down_sched)),
        ]

    # -- 2: warm idle node ---------------------------------------------------------------------------------------
    def warm(self, dclient: Any) -> None:
        z = self.sizes
        self.client.patch(f"workspaces/{WS}/computes/{CLUSTER}", {"min_nodes": 1})
        self.until(lambda: self.workers(dclient) == 1 and [n for n in self.compute(CLUSTER)["nodes"]
                                                           if n["state"] == "idle"], 60, "one idle node")
        self.say(f"compute 2: min_nodes=1, one idle node; 1 warm-up + {z.latency_repeat} submits, each followed "
                 "by a client.submit of the same script")
        task = peer_task()
        ours: list[dict[str, Any]] = []
        peer: list[dict[str, Any]] = []
        for i in range(1 + z.latency_repeat):
            self.until(lambda: [n for n in self.compute(CLUSTER)["nodes"] if n["state"] == "idle"], 30, "idle node")
            sample = self.first_line(CLUSTER)
            t0 = time.time()
            result = dclient.submit(task, sys.executable, SLEEPER, pure=False, resources={"node": 1}).result(60)
            if not str(result["first"]).startswith("BENCH_FIRST_LINE"):
                raise RuntimeError(f"the peer's script printed {result['first']!r}")
            psample = {"first_line_s": result["first_seen"] - t0, "task_started_s": result["task_started"] - t0,
                       "script_first_statement_s": float(str(result["first"]).split()[1]) - t0}
            self.say(f"   {'warm-up ' if i == 0 else ''}ours {sample['service_has_line_s']:.3f} s (script started "
                     f"{sample['script_first_statement_s']:.3f} s); client.submit {psample['first_line_s']:.3f} s")
            if i:
                ours.append(sample)
                peer.append(psample)
        o = stats([s["service_has_line_s"] for s in ours])
        p = stats([s["first_line_s"] for s in peer])
        self.details["2_warm_cluster"] = {"ours": ours, "peer": peer, "ours_stats": o, "peer_stats": p}
        self.rows += [
            CRow("2", "cluster, warm idle node: submit -> service has first line", o["median"], p["median"],
                 "Dask client.submit", "s", "<= 1 s", 1.0, f"{o['min']:.3f}-{o['max']:.3f}"),
            CRow("2", "  the same, to the script's first statement",
                 median([s["script_first_statement_s"] for s in ours]),
                 median([s["script_first_statement_s"] for s in peer]), "Dask client.submit", "s", "-", None),
        ]

    # -- driver --------------------------------------------------------------------------------------------------
    def cleanup(self) -> None:
        """Delete both computes; then stop what a failed delete left (the detached host, labelled containers)."""
        for name in (INSTANCE, CLUSTER):
            with contextlib.suppress(AMLError, OSError):
                self.client.delete(f"workspaces/{WS}/computes/{name}", params={"force": "true"})
        with contextlib.suppress(OSError, ValueError, KeyError):
            os.kill(int(self.host()["pid"]), signal.SIGTERM)
        found = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=aml.root={self.root}"],
                               capture_output=True, text=True).stdout.split()
        if found:
            subprocess.run(["docker", "rm", "-f", *found], capture_output=True)

    def run(self) -> None:
        with contextlib.suppress(Conflict):
            self.client.post("workspaces", {"name": WS})
        self.snapshot = self.upload()
        errors: list[str] = []
        try:
            for part in (self.instance, self.cluster):  # one failing still lets the other measure
                try:
                    part()
                except Exception as exc:
                    errors.append(f"{part.__name__}: {type(exc).__name__}: {exc}")
                    self.say(f"compute {part.__name__} FAILED: {errors[-1]}")
        finally:
            self.cleanup()
            self.client.close()
        if errors:
            raise RuntimeError("; ".join(errors))


def ensure_image() -> None:
    """The local base image the instance runs (tests/serving/docker_env.py makes it from this interpreter)."""
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode == 0:
        return
    from tests.serving.docker_env import ensure_engine, python_base_image

    python_base_image(ensure_engine())
