"""The ParallelRunStep driver's policy without a service (sdk/parallel_run_driver.py): mini-batches, retries,
failed-item counting against error_threshold, allowed_failed_count and _percent, a lost process's mini-batch,
row formats; and ParallelRunConfig's refusals (sdk/pipeline_parallel.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.parallel_run_driver import Coordinator, as_rows, file_batches, row_batches
from jupyter_aml.sdk.pipeline_parallel import ParallelRunConfig, tabular_batch_bytes


def _settings(**kw):
    return {"run_max_try": 1, "error_threshold": -1, "allowed_failed_count": None, "allowed_failed_percent": None,
            **kw}


def _serve_all(c: Coordinator, outcome) -> None:
    """One process asking until told to stop; ``outcome(task)`` is (ok, results)."""
    reply = c.handle({"rank": 0, "done": None})
    while not reply.get("stop"):
        task = reply["task"]
        ok, results = outcome(task)
        reply = c.handle({"rank": 0, "done": task, "ok": ok, "results": results, "rows": [f"t{task}"] * results,
                          "error": None if ok else f"ValueError: {task}", "where": ["s.py", 3, "run"]})


def test_file_batches_and_row_batches(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt", "sub/c.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert file_batches([str(tmp_path)], 2) == [[[0, "a.txt"], [0, "b.txt"]], [[0, "sub/c.txt"]]]
    assert row_batches(10, 100.0, 250) == [[0, 2], [2, 4], [4, 6], [6, 8], [8, 10]]
    assert row_batches(3, 1e6, 10) == [[0, 1], [1, 2], [2, 3]]  # at least one row a mini-batch
    assert tabular_batch_bytes(None) == 1 << 20 and tabular_batch_bytes("500KB") == 500 << 10
    assert tabular_batch_bytes(64) == 64


def test_failed_items_count_against_error_threshold_after_the_last_try(tmp_path: Path) -> None:
    out = tmp_path / "out" / "parallel_run_step.txt"
    tries: dict[int, int] = {}

    def flaky(task):  # mini-batch 1 fails its first try, then succeeds; 2 returns 3 results of 5
        tries[task] = tries.get(task, 0) + 1
        return (False, 0) if task == 1 and tries[task] == 1 else (True, 3 if task == 2 else 5)

    c = Coordinator([["i"] * 5] * 4, [5] * 4, _settings(run_max_try=2, error_threshold=2), out, world=1)
    _serve_all(c, flaky)
    assert tries == {0: 1, 1: 2, 2: 1, 3: 1} and c.finished.is_set()
    assert (c.succeeded, c.failed_batches, c.failed_items, c.rows) == (4, 0, 2, 18)
    assert c.verdict() is None and out.read_text().count("\n") == 18

    strict = Coordinator([["i"] * 5] * 4, [5] * 4, _settings(error_threshold=1), None, world=1)
    _serve_all(strict, lambda task: (True, 3 if task == 2 else 5))
    assert strict.verdict() == "2 failed items is more than error_threshold=1"


def test_a_failure_past_the_threshold_stops_handing_out_work() -> None:
    c = Coordinator([["i"] * 5] * 6, [5] * 6, _settings(error_threshold=4), None, world=1)
    _serve_all(c, lambda task: (task != 1, 5))
    assert c.succeeded == 1 and c.failed_batches == 1 and list(c.pending) == [2, 3, 4, 5]  # the rest never ran
    assert c.verdict() == "5 failed items is more than error_threshold=4"
    assert (c.first_error, c.first_where) == ("ValueError: 1", ["s.py", 3, "run"])


def test_ignored_errors_and_the_mini_batch_limits() -> None:
    ignore = Coordinator([["i"]] * 4, [1] * 4, _settings(), None, world=1)  # error_threshold=-1
    _serve_all(ignore, lambda task: (task % 2 == 0, 1))
    assert ignore.failed_items == 2 and ignore.verdict() is None

    count = Coordinator([["i"]] * 4, [1] * 4, _settings(allowed_failed_count=1), None, world=1)
    _serve_all(count, lambda task: (task == 0, 1))
    assert count.verdict() == "2 failed mini-batches is more than allowed_failed_count=1"

    percent = Coordinator([["i"]] * 4, [1] * 4, _settings(allowed_failed_percent=25), None, world=1)
    _serve_all(percent, lambda task: (task < 2, 1))
    assert percent.verdict() == "2 of 4 mini-batches failed: more than allowed_failed_percent=25"


def test_a_lost_process_gives_its_mini_batch_back() -> None:
    c = Coordinator([["a"], ["b"]], [1, 1], _settings(), None, world=2)
    first = c.handle({"rank": 1, "done": None})
    c.lost(1)
    assert first["task"] == 0 and list(c.pending) == [0, 1] and not c.finished.is_set()


def test_rows_are_a_lists_elements_or_a_frames_rows() -> None:
    assert as_rows(["a b", 3]) == (2, ["a b", "3"])
    assert as_rows(pd.DataFrame({"n": ["x", "y"], "v": [1, 2]})) == (2, ["x 1", "y 2"])
    with pytest.raises(TypeError, match="return a list or a pandas DataFrame"):
        as_rows(None)


def test_what_parallel_run_config_refuses() -> None:
    ok = {"environment": None, "entry_script": "score.py", "error_threshold": 0, "output_action": "append_row",
          "compute_target": "local", "node_count": 1}
    assert ParallelRunConfig(**ok).append_row_file_name == "parallel_run_step.txt"
    assert ParallelRunConfig(**ok).run_invocation_timeout == 60 and ParallelRunConfig(**ok).run_max_try == 3
    for change, message in (({"output_action": "append"}, "must be 'append_row' or 'summary_only'"),
                            ({"error_threshold": -2}, "must be -1"),
                            ({"partition_keys": ["a"]}, "partition_keys is not supported"),
                            ({"node_count": 0}, "node_count 0 must be an integer of at least 1"),
                            ({"append_row_file_name": "a/b.txt"}, "must be a file name"),
                            ({"entry_script": "score.ipynb"}, "must name a .py file")):
        with pytest.raises(InvalidInput, match=message):
            ParallelRunConfig(**{**ok, **change})


def test_what_parallel_run_step_refuses() -> None:
    from azureml.pipeline.core import PipelineData
    from azureml.pipeline.steps import ParallelRunStep

    config = ParallelRunConfig(environment=None, entry_script="score.py", error_threshold=0,
                               output_action="append_row", compute_target="local", node_count=1)
    data = PipelineData("files")
    with pytest.raises(InvalidInput, match="needs inputs"):
        ParallelRunStep("s", config, inputs=[])
    with pytest.raises(InvalidInput, match="output_action='append_row' needs output="):
        ParallelRunStep("s", config, inputs=[data.as_input()])
    with pytest.raises(InvalidInput, match="inputs are datasets"):
        ParallelRunStep("s", config, inputs=["files/"], output=PipelineData("out"))


def test_run_invocation_timeout_ends_a_run_call() -> None:
    import time

    from jupyter_aml.sdk.parallel_run_driver import time_limit

    started = time.monotonic()
    with pytest.raises(Exception, match=r"ran past run_invocation_timeout=0.2 s"), time_limit(0.2):
        time.sleep(5)
    assert time.monotonic() - started < 2
    with time_limit(0.2):  # a call within the limit is untouched, and the timer is off afterwards
        time.sleep(0.05)
    time.sleep(0.3)
