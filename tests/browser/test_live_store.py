"""The studio's live store (src/live/), run in Node on the compiled modules with a scripted REST client.

A push event carries the series' last ``len(steps)`` points of ``total`` with the steps the server stored;
the store appends only the points a history does not hold yet, applies events that arrive while a history
is being read after the read, never lets an older run copy replace a finished one, and after the push
channel was interrupted reads again what is shown.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LIB = REPO / "lib" / "live"

# tsc writes extensionless relative imports (the bundler resolves them); Node needs this hook for them.
LOADER = """
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (specifier.startsWith('.') && !specifier.endsWith('.js')) {
      return next(specifier + '.js', context);
    }
    throw error;
  }
}
"""

MERGE = """
import { mergePoints } from %(lib)s;
const series = { steps: [0, 10], values: [1, 0.5], times: [100, 101], total: 2, downsampled: false };
const event = (total, steps) => ({
  type: 'metric', run_id: 'r', name: 'loss', total, steps,
  values: steps.map(s => s / 100), times: steps.map(s => 100 + s / 10)
});
console.log(JSON.stringify({
  overlap: mergePoints(series, event(4, [10, 20, 30])),
  adjacent: mergePoints(series, event(3, [20])),
  old: mergePoints(series, event(2, [0, 10])) === series,
  gap: mergePoints(series, event(5, [40])),
}));
"""

STORE = """
globalThis.window = globalThis;
const { LiveStore } = await import(%(lib)s);
const calls = [];
const waiting = [];  // REST answers the script releases one by one
const answer = (name, args) => new Promise(resolve => { calls.push([name, ...args]); waiting.push(resolve); });
let push = null;
const service = {
  events: { subscribe: (ws, listener) => { push = listener; return { isDisposed: false, dispose() {} }; } },
  getRun: (...a) => answer('getRun', a),
  listMetrics: (...a) => answer('listMetrics', a.slice(1)),
  getMetric: (...a) => answer('getMetric', a.slice(1)),
  getLogs: (...a) => answer('getLogs', a.slice(1)),
};
const tick = () => new Promise(resolve => setTimeout(resolve, 0));
const release = async value => { waiting.shift()(value); await tick(); await tick(); };
const run = status => ({ id: 'r', status, experiment: 'e', parent_id: null, root_id: 'r' });

const live = new LiveStore(service).workspace('ws');
const stop = live.retain();
const out = {};

// Copies of a run arrive out of order; a finished run stays finished.
live.putRun(run('Running'));
live.putRun(run('Completed'));
live.putRun(run('Running'));
out.status = live.run('r').status;

// A metric event that arrives while the history is being read is applied after the read.
const metrics = live.metrics('r');
live.listen(metrics.key, () => {});
metrics.ensureSummaries();
await tick();
await release([{ name: 'loss', kind: 'scalar', count: 2, last_value: 0.5, last_step: 1, min: 0.5, max: 1 }]);
metrics.ensureSeries('loss', 100);
push({ type: 'metric', run_id: 'r', name: 'loss', total: 3, steps: [2], values: [0.25], times: [102] });
await release({
  name: 'loss', kind: 'scalar', run_id: 'r', steps: [0, 1], values: [1, 0.5], times: [100, 101], total: 2
});
out.series = metrics.view.series.get('loss');
out.summary = metrics.view.summaries[0];

// The log tail reads after the last line seen.
const log = live.log('r');
live.listen(log.key, () => {});
log.start();
await release({ items: [{ id: 1, stream: 'stdout', ts: 1, text: 'one' }] });
push({ type: 'log', run_id: 'r', lines: [{ id: 2, stream: 'stdout', ts: 2, text: 'two' }] });

// Interrupted: the store reads again what is shown, and every query's epoch moves.
calls.length = 0;
const epoch = live.epoch;
push({ type: 'reconnect' });
await tick();
out.epochMoved = live.epoch === epoch + 1;
out.reads = calls.map(c => c[0] + ':' + JSON.stringify(c.slice(2))).sort();
out.lines = log.view.lines.map(l => l.text);
stop();
console.log(JSON.stringify(out));
"""


def run_node(tmp_path: Path, script: str, module: str) -> Any:
    node = shutil.which("node")
    assert node is not None, "node is not installed: run ./dev"
    assert (LIB / module).exists(), "the frontend is not compiled: jlpm build:lib (./dev does it)"
    loader = tmp_path / "loader.mjs"
    loader.write_text(LOADER)
    register = f'import {{ register }} from "node:module"; register({json.dumps(loader.as_uri())});'
    code = script % {"lib": json.dumps((LIB / module).as_uri())}
    result = subprocess.run(
        [node, "--no-warnings", "--import", f"data:text/javascript,{register}", "--input-type=module", "-e", code],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_merge_appends_only_new_points_by_index_and_reports_gaps(tmp_path: Path) -> None:
    out = run_node(tmp_path, MERGE, "metrics.js")
    assert out["overlap"]["steps"] == [0, 10, 20, 30]  # the event's first point was in the history already
    assert out["overlap"]["values"] == [1, 0.5, 0.2, 0.3]
    assert out["overlap"]["total"] == 4
    assert out["adjacent"]["steps"] == [0, 10, 20]
    assert out["old"] is True  # nothing new: the same series
    assert out["gap"] is None  # points 2 and 3 never arrived: the store reads the history again


def test_store_orders_copies_buffers_events_during_reads_and_catches_up_after_an_interruption(
    tmp_path: Path,
) -> None:
    out = run_node(tmp_path, STORE, "store.js")
    assert out["status"] == "Completed"
    assert out["series"]["steps"] == [0, 1, 2]  # the event's point, after the history read in flight
    assert out["series"]["total"] == 3
    assert out["summary"]["count"] == 3
    assert out["summary"]["last_value"] == 0.25
    assert out["lines"] == ["one", "two"]
    assert out["epochMoved"] is True
    assert out["reads"] == [
        'getLogs:[{"after":2,"limit":5000}]',  # after the last line seen (the pushed one)
        'getMetric:["loss",100]',
        "listMetrics:[]",
    ]
