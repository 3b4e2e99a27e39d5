"""The live store's metric merge (src/live/metrics.ts ``mergePoints``), run in Node on the compiled module.

A push event carries the series' last ``len(steps)`` points of ``total`` with the steps the server stored;
the store appends only the points a history does not hold yet, and says when points were missed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "lib" / "live" / "metrics.js"

SCRIPT = """
import { mergePoints } from %s;
const series = { steps: [0, 10], values: [1, 0.5], times: [100, 101], total: 2, downsampled: false };
const event = (total, steps) => ({
  type: 'metric', run_id: 'r', name: 'loss', total, steps,
  values: steps.map(s => s / 100), times: steps.map(s => 100 + s / 10)
});
const out = {
  overlap: mergePoints(series, event(4, [10, 20, 30])),
  adjacent: mergePoints(series, event(3, [20])),
  old: mergePoints(series, event(2, [0, 10])) === series,
  gap: mergePoints(series, event(5, [40])),
};
console.log(JSON.stringify(out));
"""


def test_merge_appends_only_new_points_by_index_and_reports_gaps() -> None:
    node = shutil.which("node")
    assert node is not None, "node is not installed: run ./dev"
    assert MODULE.exists(), "the frontend is not compiled: jlpm build:lib (./dev does it)"
    script = SCRIPT % json.dumps(MODULE.as_uri())
    result = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    out = json.loads(result.stdout)
    assert out["overlap"]["steps"] == [0, 10, 20, 30]  # the event's first point was in the history already
    assert out["overlap"]["values"] == [1, 0.5, 0.2, 0.3]
    assert out["overlap"]["total"] == 4
    assert out["adjacent"]["steps"] == [0, 10, 20]
    assert out["old"] is True  # nothing new: the same series
    assert out["gap"] is None  # points 2 and 3 never arrived: the store reads the history again
