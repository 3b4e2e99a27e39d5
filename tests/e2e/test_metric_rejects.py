"""The red-team case against the real service and agent: 200 valid points and bad ones in one run's journal."""

from __future__ import annotations

import time

from jupyter_aml import Experiment, ScriptRunConfig
from tests.e2e.conftest import wait_status, write_script

BAD_VALUES = """
import json, os, time
from pathlib import Path
from jupyter_aml import Run
run = Run.get_context()
for i in range(100):
    run.log("x", float(i))
run.log("x", 10**400)             # an integer no float64 holds
run.log_list("big", [1, 2**64])   # an integer past 64 bits inside a list
run.log("message", "Hello from run!")  # a string is kept (v1 keeps it), not refused
for i in range(100, 200):
    run.log("x", float(i))
main = Path(os.environ["AML_JOURNAL"])  # a v1 shape the SDK would refuse, written past it: refused alone
bad_cm = {"seq": 10**6, "run_id": run.id, "t": time.time(), "k": "cm", "n": "cm",
          "v": {"schema_type": "confusion_matrix", "schema_version": "1.0.0", "data": {"matrix": [[1]]}}}
main.with_name("cm.jsonl").write_text(json.dumps(bad_cm) + "\\n")
extra = Path(os.environ["AML_JOURNAL"]).with_name("extra.jsonl")  # a stream whose seq is past 2**63
record = {"seq": 2**63, "run_id": run.id, "t": time.time(), "k": "m", "n": "x", "v": 1.0, "s": None}
extra.write_text(json.dumps(record) + "\\n")
print("logged", flush=True)
"""


def test_two_bad_values_lose_no_valid_point_and_the_run_says_so(service, tmp_path):
    src = write_script(tmp_path / "src", BAD_VALUES)
    t0 = time.monotonic()
    run = Experiment(service.workspace(), "rejects").submit(ScriptRunConfig(src, "script.py"))
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=90) == "Completed"
    assert time.monotonic() - t0 < 60  # not stuck retrying the bad records
    client = service.client()
    items = client.get(f"workspaces/e2e/runs/{run.id}/metrics")["items"]
    assert [(m["name"], m["count"]) for m in items] == [("message", 1), ("x", 200)]
    assert run.get_metrics("message") == {"message": "Hello from run!"}
    history = client.get(f"workspaces/e2e/runs/{run.id}/metrics/x")
    assert history["values"] == [float(i) for i in range(200)]
    details = run.get_details()
    assert details["properties"]["aml.journal.rejected"] == "4"
    assert details["warnings"] and "4 logged record(s)" in details["warnings"][0]["message"]
    log = client.get(f"workspaces/e2e/runs/{run.id}/logs", params={"stream": "agent", "limit": 1000})
    text = "\n".join(line["text"] for line in log["items"])
    assert "refused" in text and "float64" in text and "class_labels" in text
