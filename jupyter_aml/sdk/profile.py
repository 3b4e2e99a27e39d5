"""``Model.profile`` and ``ModelProfile`` (v1's ``azureml.core.profile``): a bounded load test of a temporary
replica of the models and scoring code, turned into a CPU and memory recommendation.

Where it runs: in the SDK, client-side. The temporary replica is an ordinary web service deployed through the
REST API (so it starts exactly as the real service will: same environment, same launcher, same sandbox),
the load comes from this process over HTTP (so the latencies are those a caller sees), and it is deleted
in a ``finally``. A server-side route would only move the load generator next to the balancer; it would
need a job record, polling and a second place that deploys. The one thing that needs the service's machine
is reading the replica's CPU and memory: they are read from ``/proc`` for the replica's process tree (its
pid is in the service's details; a Docker replica's pid is its container's init, seen from the host). When
this process does not run on the service's machine, the load test still runs and CPU and memory are
reported as None (``state`` is then ``Succeeded`` with a note in ``errorLogs``).

How the numbers are made:

- load: ``requests`` requests (default 200) after 3 warm-up requests, from ``concurrency`` threads
  (default 2) each with one keep-alive connection, cycling through the sample requests; it stops early
  after ``max_seconds`` (default 30);
- ``measuredQueriesPerSecond``: successful requests / wall time of the load phase; latency percentiles
  (``latencyPercentile50InMs``, 90, 95, 99) over successful requests;
- ``maxUtilizedCpu``: the most CPU cores the replica's process tree used over any 0.25 s window;
  ``maxUtilizedMemoryInGB``: the largest resident set of the tree seen (sampled every 0.1 s);
- ``recommendedCpu``: the mean cores used over the load phase times 1.25 (headroom for bursts), rounded up
  to 0.1 core, at least 0.1; ``recommendedMemoryInGB``: the peak resident memory times 1.25, rounded up
  to 0.1 GB, at least 0.1. They are the ``cpu_cores`` / ``memory_gb`` to give the service's deployment
  configuration for this load at this concurrency.
"""

from __future__ import annotations

import builtins
import http.client
import json
import math
import os
import secrets
import statistics
import threading
import time
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput, NotFound, WebserviceException

if TYPE_CHECKING:
    from jupyter_aml.sdk.model import Model
    from jupyter_aml.sdk.webservice import InferenceConfig, Webservice
    from jupyter_aml.sdk.workspace import Workspace

PROPERTY_PREFIX = "profile."  # a finished profile is kept on each profiled model version as this property
WARM_UP = 3
HEADROOM = 1.25


def sample_bodies(input_dataset: Any, sample_requests: Iterable[Any] | None) -> builtins.list[bytes]:
    """The request bodies: v1's one-column tabular dataset of request strings, or a list of bodies (str,
    bytes, or a JSON value)."""
    if input_dataset is not None and sample_requests is not None:
        raise InvalidInput("give input_dataset or sample_requests, not both")
    if input_dataset is not None:
        to_frame = getattr(input_dataset, "to_pandas_dataframe", None)
        if not callable(to_frame):
            raise InvalidInput("input_dataset must be a TabularDataset with one column of request bodies",
                               hint="Dataset.Tabular.from_delimited_files(...) or sample_requests=[...]")
        frame = to_frame()
        if len(frame.columns) != 1:
            raise InvalidInput(f"input_dataset must have exactly one column (each row a request body, as v1), "
                               f"not {len(frame.columns)}: {', '.join(map(str, frame.columns))}")
        values: builtins.list[Any] = [str(v) for v in frame.iloc[:, 0].tolist()]
    elif sample_requests is not None:
        values = builtins.list(sample_requests)
    else:
        raise InvalidInput("Model.profile needs sample requests",
                           hint="input_dataset=<a one-column TabularDataset of request bodies>, or "
                                "sample_requests=['{\"data\": [[1, 2]]}']")
    bodies = [v if isinstance(v, bytes) else v.encode() if isinstance(v, str) else json.dumps(v).encode()
              for v in values]
    if not bodies:
        raise InvalidInput("the sample requests are empty", hint="give at least one request body")
    return bodies


# -- the replica's CPU and memory, from /proc ------------------------------------------------------------------
def _children() -> dict[int, builtins.list[int]]:
    out: dict[int, builtins.list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out.setdefault(int(fields[1]), []).append(int(entry))
    return out


def tree_usage(roots: Iterable[int]) -> tuple[float, int] | None:
    """(CPU seconds, resident bytes) of the processes ``roots`` and their descendants, or None if none of
    them is visible here."""
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    children = _children()
    todo, seen = builtins.list(roots), set()
    cpu, rss, found = 0.0, 0, False
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        found = True
        cpu += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        rss += resident * page
        todo.extend(children.get(pid, []))
    return (cpu, rss) if found else None


class Sampler(threading.Thread):
    """Samples the replica's process tree every 0.1 s while the load runs."""

    def __init__(self, pids: builtins.list[int]) -> None:
        super().__init__(daemon=True, name="aml-profile-sampler")
        self.pids = pids
        self.stop_event = threading.Event()
        self.samples: builtins.list[tuple[float, float, int]] = []  # (time, cpu seconds, rss)

    def take(self) -> None:
        usage = tree_usage(self.pids) if self.pids else None
        if usage is not None:
            self.samples.append((time.monotonic(), *usage))

    def run(self) -> None:
        while not self.stop_event.wait(0.1):
            self.take()

    def summary(self) -> dict[str, float | None]:
        if len(self.samples) < 2:
            return {"mean_cores": None, "max_cores": None, "max_rss": None}
        (t0, c0, _), (t1, c1, _) = self.samples[0], self.samples[-1]
        mean = (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0
        peak = mean
        start = 0
        for end in range(1, len(self.samples)):
            while self.samples[end][0] - self.samples[start][0] > 0.25 and start < end - 1:
                start += 1
            dt = self.samples[end][0] - self.samples[start][0]
            if dt >= 0.2:
                peak = max(peak, (self.samples[end][1] - self.samples[start][1]) / dt)
        return {"mean_cores": mean, "max_cores": peak, "max_rss": float(max(s[2] for s in self.samples))}


# -- the load ---------------------------------------------------------------------------------------------------
def _percentile(values: builtins.list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def _round_up(value: float, step: float = 0.1) -> float:
    return round(max(step, math.ceil(value / step - 1e-9) * step), 3)


class Load:
    def __init__(self, uri: str, key: str | None, bodies: builtins.list[bytes], *, requests: int,
                 concurrency: int, max_seconds: float) -> None:
        parsed = urllib.parse.urlsplit(uri)
        self.host, self.port, self.path = parsed.hostname or "127.0.0.1", parsed.port or 80, parsed.path or "/score"
        self.headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
        self.bodies, self.requests, self.concurrency, self.max_seconds = bodies, requests, concurrency, max_seconds
        self.latencies: builtins.list[float] = []
        self.failures: builtins.list[str] = []
        self.lock = threading.Lock()
        self.issued = 0

    def one(self, conn: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
        conn.request("POST", self.path, body=body, headers=self.headers)
        response = conn.getresponse()
        return response.status, response.read()

    def _next(self) -> int | None:
        with self.lock:
            if self.issued >= self.requests:
                return None
            self.issued += 1
            return self.issued

    def _worker(self, deadline: float) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            while time.monotonic() < deadline and (n := self._next()) is not None:
                started = time.perf_counter()
                try:
                    status, payload = self.one(conn, self.bodies[n % len(self.bodies)])
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                    status, payload = 0, str(exc).encode()
                elapsed = (time.perf_counter() - started) * 1000
                with self.lock:
                    if status == 200:
                        self.latencies.append(elapsed)
                    else:
                        self.failures.append(f"{status}: {payload[:300].decode('utf-8', 'replace')}")
        finally:
            conn.close()

    def run(self) -> float:
        deadline = time.monotonic() + self.max_seconds
        started = time.perf_counter()
        workers = [threading.Thread(target=self._worker, args=(deadline,), daemon=True)
                   for _ in range(self.concurrency)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(self.max_seconds + 70)
        return time.perf_counter() - started


class ModelProfile:
    """The result of ``Model.profile``: ``wait_for_completion()``, then ``get_details()``.

    ``ModelProfile(ws, name)`` finds a finished profile again (it is kept on the profiled model versions)."""

    def __init__(self, workspace: Workspace, name: str, *, _details: dict[str, Any] | None = None) -> None:
        self.workspace = workspace
        self.name = name
        self._thread: threading.Thread | None = None
        self._details: dict[str, Any] = dict(_details) if _details is not None else self._find(workspace, name)

    @staticmethod
    def _find(workspace: Workspace, name: str) -> dict[str, Any]:
        from jupyter_aml.sdk.model import Model

        for model in Model.list(workspace):
            text = model.properties.get(PROPERTY_PREFIX + name)
            if text:
                return dict(json.loads(text))
        raise NotFound(f"no model profile named {name!r} in workspace {workspace.name!r}",
                       hint="Model.profile(ws, name, [model], inference_config, sample_requests=[...]) makes one")

    @property
    def state(self) -> str:
        return str(self._details.get("state", "NotStarted"))

    def wait_for_completion(self, show_output: bool = False) -> None:
        """Wait until the load test ended (the temporary replica is removed by then)."""
        printed = ""
        while self._thread is not None and self._thread.is_alive():
            if show_output and self.state != printed:
                printed = self.state
                print(f"profile {self.name}: {printed}")
            self._thread.join(0.5)
        if show_output:
            d = self._details
            print(f"profile {self.name}: {self.state}")
            if self.state == "Succeeded":
                print(f"  {d.get('measuredQueriesPerSecond')} requests/s at concurrency {d.get('concurrency')}; "
                      f"latency p50 {d.get('latencyPercentile50InMs')} ms, p90 {d.get('latencyPercentile90InMs')} "
                      f"ms, p99 {d.get('latencyPercentile99InMs')} ms")
                print(f"  recommended cpu {d.get('recommendedCpu')}, memory_in_gb {d.get('recommendedMemoryInGB')}")
            if d.get("errorLogs"):
                print(d["errorLogs"])

    wait_for_profiling = wait_for_completion  # the name v1's documentation example uses

    def get_details(self) -> dict[str, Any]:
        return dict(self._details)

    def serialize(self) -> dict[str, Any]:
        return {"workspace": self.workspace.name, **self._details}

    @classmethod
    def deserialize(cls, workspace: Workspace, payload: dict[str, Any]) -> ModelProfile:
        return cls(workspace, str(payload["name"]), _details={k: v for k, v in payload.items() if k != "workspace"})

    def __repr__(self) -> str:
        return f"ModelProfile(workspace={self.workspace.name!r}, name={self.name!r}, state={self.state!r})"


def profile(workspace: Workspace, profile_name: str, models: builtins.list[Model],
            inference_config: InferenceConfig | None, input_dataset: Any = None, cpu: float | None = None,
            memory_in_gb: float | None = None, description: str | None = None, *,
            sample_requests: Iterable[Any] | None = None, requests: int = 200, concurrency: int = 2,
            max_seconds: float = 30.0, compute_type: str = "local") -> ModelProfile:
    """Deploy a temporary replica and start the load test; raise ``WebserviceException`` at once when the
    scoring script cannot serve (init() fails, or run() fails the first request)."""
    from jupyter_aml.sdk.webservice import Webservice
    from jupyter_aml.sdk.webservice_config import (
        DockerWebserviceDeploymentConfiguration,
        LocalWebserviceDeploymentConfiguration,
    )

    if not isinstance(profile_name, str) or not profile_name.strip() or len(profile_name) > 200:
        raise InvalidInput("profile_name must be a name of 1..200 characters")
    if not models:
        raise InvalidInput("Model.profile needs at least one model")
    for name, value, low, high in (("requests", requests, 1, 100_000), ("concurrency", concurrency, 1, 64)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"{name} must be an integer from {low} to {high}, not {value!r}")
    if not isinstance(max_seconds, (int, float)) or not 1 <= max_seconds <= 3600:
        raise InvalidInput(f"max_seconds must be 1..3600, not {max_seconds!r}")
    bodies = sample_bodies(input_dataset, sample_requests)
    config: LocalWebserviceDeploymentConfiguration
    if compute_type == "docker":
        config = DockerWebserviceDeploymentConfiguration(cpu_cores=cpu, memory_gb=memory_in_gb,
                                                         max_concurrent_requests_per_container=concurrency)
    elif compute_type == "local":
        config = LocalWebserviceDeploymentConfiguration(max_concurrent_requests_per_container=concurrency)
    else:
        raise InvalidInput(f"compute_type must be 'local' or 'docker', not {compute_type!r}")
    details: dict[str, Any] = {
        "name": profile_name, "description": description or "", "state": "Running",
        "createdTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "models": [f"{m.name}:{m.version}" for m in models], "computeType": compute_type,
        "requestedCpu": cpu, "requestedMemoryInGB": memory_in_gb, "concurrency": concurrency,
        "requestsPlanned": requests, "errorLogs": "",
    }
    result = ModelProfile(workspace, profile_name, _details=details)
    service_name = f"profile-{secrets.token_hex(5)}"
    service = Webservice._deploy(workspace, service_name, models, inference_config, config, overwrite=False,
                                 show_output=False)
    try:
        _ready(service, bodies[0])
    except BaseException:
        _remove(service)
        raise
    thread = threading.Thread(target=_measure, args=(result, service, models, bodies, requests, concurrency,
                                                      float(max_seconds)), daemon=True, name="aml-profile")
    result._thread = thread
    thread.start()
    return result


def _ready(service: Webservice, first: bytes) -> None:
    """The temporary replica serves: else the scoring script's error, with the service's last log lines."""
    try:
        service.wait_for_deployment()
    except WebserviceException as exc:
        raise WebserviceException(f"Model.profile: the scoring script cannot serve: {exc.message}",
                                  hint="fix init() (the log lines below say why it failed) and profile again",
                                  details={"logs": service.get_logs(num_lines=40)}) from None
    load = Load(service.scoring_uri, service.get_keys()[0] if service.auth_enabled else None, [first],
                requests=1, concurrency=1, max_seconds=60)
    conn = http.client.HTTPConnection(load.host, load.port, timeout=60)
    try:
        for _ in range(WARM_UP):
            status, payload = load.one(conn, first)
            if status != 200:
                raise WebserviceException(
                    f"Model.profile: the scoring script failed the first sample request ({status}): "
                    f"{payload[:500].decode('utf-8', 'replace')}",
                    hint="score the sample with service.run() to debug run(); the log lines are in details",
                    details={"logs": service.get_logs(num_lines=40)})
    finally:
        conn.close()


def _remove(service: Webservice) -> None:
    for _ in range(3):
        try:
            service.delete()
            return
        except NotFound:
            return
        except Exception:
            time.sleep(1)


def _measure(result: ModelProfile, service: Webservice, models: builtins.list[Model], bodies: builtins.list[bytes],
             requests: int, concurrency: int, max_seconds: float) -> None:
    details = result._details
    try:
        pids = [int(r["pid"]) for r in (service.get_details().get("replicas") or []) if r.get("pid")]
        sampler = Sampler(pids)
        load = Load(service.scoring_uri, service.get_keys()[0] if service.auth_enabled else None, bodies,
                    requests=requests, concurrency=concurrency, max_seconds=max_seconds)
        sampler.take()  # the first and last samples bracket the load, however short it is
        sampler.start()
        wall = load.run()
        sampler.stop_event.set()
        sampler.join(5)
        sampler.take()
        usage = sampler.summary()
        ok = load.latencies
        total = len(ok) + len(load.failures)
        details.update({
            "totalQueries": total, "successQueries": len(ok),
            "successRate": round(len(ok) / total, 4) if total else 0.0,
            "durationSeconds": round(wall, 3),
            "measuredQueriesPerSecond": round(len(ok) / wall, 2) if wall > 0 else None,
            "averageLatencyInMs": round(statistics.fmean(ok), 3) if ok else None,
            **{f"latencyPercentile{q}InMs": (round(v, 3) if (v := _percentile(ok, q)) is not None else None)
               for q in (50, 90, 95, 99)},
            "maxUtilizedCpu": round(usage["max_cores"], 3) if usage["max_cores"] is not None else None,
            "measuredCpu": round(usage["mean_cores"], 3) if usage["mean_cores"] is not None else None,
            "maxUtilizedMemoryInGB": (round(usage["max_rss"] / 1024**3, 4) if usage["max_rss"] is not None
                                      else None),
        })
        details["recommendedCpu"] = (_round_up(usage["mean_cores"] * HEADROOM) if usage["mean_cores"] is not None
                                     else None)
        details["recommendedMemoryInGB"] = (_round_up(usage["max_rss"] * HEADROOM / 1024**3)
                                            if usage["max_rss"] is not None else None)
        notes = []
        if usage["mean_cores"] is None:
            notes.append("the replica's processes are not visible from this machine: CPU and memory were not "
                         "measured (run the profile on the workspace service's machine)")
        if load.failures:
            notes.append(f"{len(load.failures)} of {total} requests failed; first: {load.failures[0]}")
            notes.append(service.get_logs(num_lines=20))
        details["errorLogs"] = "\n".join(notes)
        details["state"] = "Succeeded" if ok else "Failed"
    except Exception as exc:  # reported, never lost in a thread
        details["state"] = "Failed"
        details["errorLogs"] = f"{type(exc).__name__}: {exc}"
    finally:
        _remove(service)
        details["temporaryService"] = service.name
    kept = json.dumps({**details, "errorLogs": str(details.get("errorLogs", ""))[:2000]})
    for model in models:
        try:
            model.add_properties({PROPERTY_PREFIX + result.name: kept})
        except Exception as exc:
            details["errorLogs"] = f"{details['errorLogs']}\nthe profile was not kept on {model.name}: {exc}".strip()


__all__ = ["ModelProfile", "profile", "sample_bodies", "tree_usage"]
