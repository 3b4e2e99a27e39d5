"""Metric values as v1 keeps them, end to end: a submitted run (journal -> agent -> service) and an interactive
one (``start_logging``) log every kind, and the SDK reads each back with its exact type."""

from __future__ import annotations

import math
import time

import pytest

from jupyter_aml import Experiment, ScriptRunConfig
from jupyter_aml.errors import InvalidInput
from tests.e2e.conftest import wait_status, write_script

SCRIPT = """
from azureml.core import Run
run = Run.get_context()
run.log("message", "Hello from run!")          # Azure's first sample
run.log("flag", True)
run.log("nothing", None)
run.log("epochs", 10)
run.log("big", 2**60 + 1)
run.log("loss", 0.5)
run.log("loss", float("nan"))
run.log("loss", float("inf"))
run.log("loss", float("-inf"))
run.log("loss", 0.25)
run.log("text_nan", "NaN")
run.log_list("curve", [1, 2.5, float("nan"), None, "x"])
run.log_row("rows", epoch=1, acc=0.5, note="first")
run.log_row("rows", epoch=2, acc=float("inf"), note=None)
run.log_table("table", {"a": [1, 2], "b": ["x", True]})
run.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
                                "data": {"class_labels": ["cat", "dog"], "matrix": [[5, 1], [2, 7]]}})
run.log_residuals("res", {"schema_type": "residuals", "schema_version": "1.0.0",
                          "data": {"bin_edges": [-1.0, 0.0, 1.0], "bin_counts": [3, 4]}})
run.log_predictions("pred", {"schema_type": "predictions", "schema_version": "1.0.0",
                             "data": {"bin_averages": [0.2, 0.7], "bin_errors": [0.01, 0.02],
                                      "bin_counts": [5, 6], "bin_edges": [0.0, 0.5, 1.0]}})
run.log_accuracy_table("acc", {"schema_type": "accuracy_table", "schema_version": "1.0.0",
                               "data": {"class_labels": ["0", "1"], "probability_thresholds": [0.0, 1.0],
                                        "percentile_thresholds": [0.0, 1.0],
                                        "probability_tables": [[[5, 5, 0, 0], [0, 0, 5, 5]]] * 2,
                                        "percentile_tables": [[[5, 5, 0, 0], [0, 0, 5, 5]]] * 2}})
try:
    run.log_confusion_matrix("bad", {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
                                     "data": {"class_labels": ["a"], "matrix": [[1, 2]]}})
except Exception as exc:
    print("refused:", type(exc).__name__, exc, flush=True)
print("logged", flush=True)
"""


def _kind(value: object) -> object:
    if isinstance(value, list):
        return [_kind(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return (type(value).__name__, value)


def check_metrics(m: dict[str, object]) -> None:
    assert _kind(m["message"]) == ("str", "Hello from run!")
    assert _kind(m["flag"]) == ("bool", True)
    assert m["nothing"] is None and "nothing" in m
    assert _kind(m["epochs"]) == ("int", 10)
    assert _kind(m["big"]) == ("int", 2**60 + 1)
    assert _kind(m["loss"]) == [("float", 0.5), "nan", ("float", math.inf), ("float", -math.inf), ("float", 0.25)]
    assert _kind(m["text_nan"]) == ("str", "NaN")
    assert _kind(m["curve"]) == [("int", 1), ("float", 2.5), "nan", ("NoneType", None), ("str", "x")]
    assert m["rows"] == {"epoch": [1, 2], "acc": [0.5, math.inf], "note": ["first", None]}
    assert m["table"] == {"a": [1, 2], "b": ["x", True]}
    assert m["cm"] == {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
                       "data": {"class_labels": ["cat", "dog"], "matrix": [[5, 1], [2, 7]]}}
    assert m["res"]["data"]["bin_counts"] == [3, 4]  # type: ignore[index]
    assert m["pred"]["schema_type"] == "predictions"  # type: ignore[index]
    assert m["acc"]["data"]["class_labels"] == ["0", "1"]  # type: ignore[index]
    assert "bad" not in m


def test_a_submitted_run_logs_every_kind_and_reads_back_exact_types(service, tmp_path):
    src = write_script(tmp_path / "src", SCRIPT)
    run = Experiment(service.workspace(), "types").submit(ScriptRunConfig(src, "script.py"))
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=120) == "Completed", run.get_details()
    check_metrics(run.get_metrics())
    assert run.get_details()["properties"].get("aml.journal.rejected") is None  # nothing was refused
    log = service.client().get(f"workspaces/e2e/runs/{run.id}/logs", params={"limit": 1000})
    text = "\n".join(line["text"] for line in log["items"])
    assert "refused: InvalidInput confusion_matrix: data.matrix must be 1 rows of 1 numbers" in text
    history = run.get_metric_history("loss")
    assert history["values"][2] == math.inf and math.isnan(history["values"][1])


def test_an_interactive_run_with_nan_completes_at_once_with_every_value(service):
    run = Experiment(service.workspace(), "interactive-types").start_logging()
    run.log("message", "Hello from run!")
    run.log("loss", 1.0)
    run.log("loss", float("nan"))
    run.log("epochs", 3)
    run.log_list("curve", [float("nan"), 1])
    run.log_row("rows", a=float("-inf"))
    run.log_table("table", {"a": [float("inf")]})
    with pytest.raises(InvalidInput, match="schema_type"):
        run.log_residuals("res", {"schema_type": "predictions", "schema_version": "1.0.0", "data": {}})
    t0 = time.monotonic()
    run.flush(timeout_seconds=10)  # the old code refused the NaN point's whole series, and used to hang here
    run.complete()
    assert time.monotonic() - t0 < 5
    assert run.get_status() == "Completed"
    m = run.get_metrics()
    assert m["message"] == "Hello from run!" and m["epochs"] == 3 and type(m["epochs"]) is int
    assert m["loss"][0] == 1.0 and math.isnan(m["loss"][1])
    assert math.isnan(m["curve"][0]) and m["rows"] == {"a": [-math.inf]} and m["table"] == {"a": [math.inf]}
    assert run.get_details()["properties"].get("aml.journal.rejected") is None
