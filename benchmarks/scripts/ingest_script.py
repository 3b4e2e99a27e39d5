"""Scenario 1's user script: ``run.log(name, value, step=i)`` N times, each call timed in-script.

Prints ``BENCH {json}`` lines that the benchmark reads back from the run's logs:
``first_line`` (time.time() at the first line), ``log_start``/``log_end`` (time.time() around the loop) and
the per-call ``run.log`` latency distribution from ``time.perf_counter_ns``.
"""

import time

T_FIRST_LINE = time.time()

import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402

from jupyter_aml import Run  # noqa: E402

n = int(sys.argv[1])
name = sys.argv[2] if len(sys.argv) > 2 else "loss"
run = Run.get_context()
values = [1.0 / (1.0 + i * 1e-4) + 0.01 * math.sin(i * 0.37) for i in range(n)]  # same curve as MLflow's side
durations = [0] * n
pc = time.perf_counter_ns
log = run.log

# the timer's own cost (one perf_counter_ns call is inside every measured interval)
empty = []
for _ in range(10_000):
    a = pc()
    empty.append(pc() - a)
empty.sort()

log_start = time.time()
for i in range(n):
    v = values[i]
    a = pc()
    log(name, v, step=i)
    durations[i] = pc() - a
log_end = time.time()

durations.sort()
summary = {
    "first_line": T_FIRST_LINE,
    "log_start": log_start,
    "log_end": log_end,
    "calls": n,
    "median_ns": durations[n // 2],
    "p90_ns": durations[min(n - 1, math.ceil(0.90 * n) - 1)],
    "p99_ns": durations[min(n - 1, math.ceil(0.99 * n) - 1)],
    "p999_ns": durations[min(n - 1, math.ceil(0.999 * n) - 1)],
    "max_ns": durations[-1],
    "mean_ns": sum(durations) / n,
    "timer_overhead_median_ns": empty[len(empty) // 2],
}
print("BENCH " + json.dumps(summary), flush=True)
