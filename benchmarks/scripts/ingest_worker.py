"""One of the concurrent writers of the ingest group (benchmarks/ingest.py): an interactive run that logs N points.

    python ingest_worker.py URL TOKEN EXPERIMENT POINTS IDS_FILE GO_FILE

``exp.start_logging()``, its run id appended to ``IDS_FILE``, then, once ``GO_FILE`` exists (the same moment
for every writer), ``run.log("loss", v, step=i)`` N times, each call timed on this thread, then
``run.complete()``, which returns once the service has acknowledged every point (stored in its database).
Every journal POST the run's shipper makes is timed too (the write latency seen by a writer). Prints one
``WORKER {json}`` line.
"""

import json
import math
import os
import sys
import time

from jupyter_aml import Experiment, Workspace
from jupyter_aml.runtime.http import ServiceClient

url, token, experiment, points = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ids_file, go_file = sys.argv[5], sys.argv[6]
ws = Workspace("bench", client=ServiceClient(url, token, timeout=300))
run = Experiment(ws, experiment).start_logging()
api = run._shipper.shipper.api  # the shipper's client: its journal POSTs are timed
post_journal = api.post_journal
posts: list[tuple[float, float, int]] = []  # (start, seconds, records)


def timed_post(ws_name: str, run_id: str, body: bytes) -> object:
    t0 = time.perf_counter()
    answer = post_journal(ws_name, run_id, body)
    posts.append((time.time(), time.perf_counter() - t0, body.count(b'{"seq":')))
    return answer


api.post_journal = timed_post  # type: ignore[method-assign]
with open(ids_file, "a") as ids:
    ids.write(run.id + "\n")
values = [1.0 / (1.0 + i * 1e-4) + 0.01 * math.sin(i * 0.37) for i in range(points)]
durations = [0] * points
pc = time.perf_counter_ns
log = run.log
while not os.path.exists(go_file):
    time.sleep(0.002)
t_start = time.time()
for i in range(points):
    a = pc()
    log("loss", values[i], step=i)
    durations[i] = pc() - a
t_loop = time.time()
run.complete()
t_done = time.time()
durations.sort()
print("WORKER " + json.dumps({
    "run_id": run.id, "points": points, "start": t_start, "loop_end": t_loop, "done": t_done,
    "log_median_ns": durations[points // 2], "log_p99_ns": durations[min(points - 1, math.ceil(0.99 * points) - 1)],
    "posts": posts,
}), flush=True)
