"""One of the studio readers of the ingest group (benchmarks/ingest.py): the REST calls the studio makes, in turn.

    python studio_reader.py URL TOKEN EXPERIMENT IDS_FILE GO_FILE STOP_FILE

Once ``GO_FILE`` exists (the writers start then) until ``STOP_FILE`` exists: the experiment's
runs list (``GET runs?experiment=..&page_size=50``, the runs table), a run's metrics (``GET runs/{id}/metrics``,
the run page) and a metric series (``GET runs/{id}/metrics/loss?max_points=1000``, its chart), each call timed.
Prints one ``READER {json}`` line.
"""

import contextlib
import json
import os
import random
import sys
import time
import urllib.parse
from pathlib import Path

from jupyter_aml.errors import NotFound
from jupyter_aml.runtime.http import ServiceClient

url, token, experiment, ids_file, go_file, stop_file = sys.argv[1:7]
client = ServiceClient(url, token, timeout=300)
rng = random.Random(os.getpid())
times: dict[str, list[tuple[float, float]]] = {"runs_list": [], "run_metrics": [], "metric_series": []}
while not os.path.exists(go_file):
    time.sleep(0.002)
run_ids = Path(ids_file).read_text().split()  # complete before the go file is made
while not os.path.exists(stop_file):
    base = "workspaces/bench/runs"
    t0 = time.perf_counter()
    client.get(base, params={"experiment": experiment, "page_size": 50})
    times["runs_list"].append((time.time(), time.perf_counter() - t0))
    run = urllib.parse.quote(rng.choice(run_ids), safe="")
    t0 = time.perf_counter()
    client.get(f"{base}/{run}/metrics")
    times["run_metrics"].append((time.time(), time.perf_counter() - t0))
    t0 = time.perf_counter()
    with contextlib.suppress(NotFound):  # no point shipped yet
        client.get(f"{base}/{run}/metrics/loss", params={"max_points": 1000})
    times["metric_series"].append((time.time(), time.perf_counter() - t0))
print("READER " + json.dumps(times), flush=True)
