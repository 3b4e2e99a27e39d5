"""Pipelines that go wrong, on a real service: a failed step stops its dependants (and, without
continue_on_step_failure, the running steps), cancelling a pipeline cancels its steps, a restarted service
resumes driving, and bad input is refused before anything is created (core/pipelines_graph.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from azureml.core import Experiment
from azureml.pipeline.core import Pipeline, PipelineData, PipelineParameter, PipelineRun, StepSequence
from azureml.pipeline.steps import PythonScriptStep

from jupyter_aml.errors import InvalidInput, ValidationError
from jupyter_aml.sdk.run_watch import ActivityFailedError
from tests.e2e.conftest import wait_status, write_script

SCRIPT = """
import os, sys, time
seconds, code = float(sys.argv[1]), int(sys.argv[2])
time.sleep(seconds)
print("slept", seconds, "exit", code, flush=True)
sys.exit(code)
"""


def _src(tmp_path: Path) -> str:
    return str(write_script(tmp_path / "src", SCRIPT, "step.py"))


def _step(src: str, name: str, seconds: float, code: int = 0, **kwargs) -> PythonScriptStep:
    return PythonScriptStep("step.py", name=name, arguments=[seconds, code], source_directory=src,
                            compute_target="local", allow_reuse=False, **kwargs)


def _states(run: PipelineRun) -> dict[str, str]:
    return run.get_step_states()


def test_a_failed_step_stops_its_dependants(service, tmp_path: Path) -> None:
    ws = service.workspace("fails")
    src = _src(tmp_path)
    runs = {}
    for keep_going in (False, True):  # both pipelines at once (the local target runs four steps at a time)
        bad = _step(src, "bad", 0, 3)
        after = _step(src, "after_bad", 0)
        after.run_after(bad)
        slow = _step(src, "slow", 6 if not keep_going else 1)
        runs[keep_going] = Pipeline(ws, [bad, after, slow]).submit("fails", continue_on_step_failure=keep_going)
    for keep_going, run in runs.items():
        with pytest.raises(ActivityFailedError, match="step 'bad' failed"):
            run.wait_for_completion(show_output=False)
        states = _states(run)
        assert states["bad"] == "Failed" and states["after_bad"] == "Skipped", states
        assert states["slow"] == ("Completed" if keep_going else "Canceled"), (keep_going, states)
        assert run.get_status() == "Failed"
        assert "step 'bad' failed" in run.get_details()["error"]["message"]
        assert run.find_step_run("after_bad") == []


def test_cancelling_a_pipeline_cancels_its_running_steps(service, tmp_path: Path) -> None:
    ws = service.workspace("cancels")
    src = _src(tmp_path)
    first, second = _step(src, "long", 60), _step(src, "never", 0)
    run = Pipeline(ws, StepSequence([first, second])).submit("cancels")
    deadline = time.monotonic() + 60
    while _states(run)["long"] != "Running" and time.monotonic() < deadline:
        time.sleep(0.2)
    run.cancel()
    assert wait_status(run, {"Canceled"}, timeout=10) == "Canceled"
    (long_run,) = run.find_step_run("long")
    assert wait_status(long_run, {"Canceled"}, timeout=20) == "Canceled"
    time.sleep(2.5)  # a tick later: nothing more starts
    assert _states(run) == {"long": "Canceled", "never": "Skipped"}
    assert run.find_step_run("never") == []


def test_a_restarted_service_resumes_the_pipeline(service, tmp_path: Path) -> None:
    ws = service.workspace("restarts")
    src = _src(tmp_path)
    run = Pipeline(ws, StepSequence([_step(src, "one", 0), _step(src, "two", 3), _step(src, "three", 0)])) \
        .submit("restarts")
    deadline = time.monotonic() + 60
    while _states(run)["one"] != "Completed" and time.monotonic() < deadline:
        time.sleep(0.1)
    service.kill9()
    service.start()
    ws._client = service.client()
    run.experiment.workspace._client = service.client()
    status = wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=120)
    states = _states(run)
    if states["two"] == "Completed":  # the step survived the restart: the resumed pipeline ran the next one
        assert status == "Completed" and states["three"] == "Completed", states
    else:  # it was lost with the service: the resumed pipeline ended naming it
        assert status == "Failed" and states["three"] == "Skipped", states
        assert "step 'two'" in run.get_details()["error"]["message"]


def test_bad_pipelines_are_refused_before_anything_is_created(service, tmp_path: Path) -> None:
    ws = service.workspace("refused")
    src = _src(tmp_path)
    a, b, c = _step(src, "a", 0), _step(src, "b", 0), _step(src, "c", 0)
    a.run_after(c)
    b.run_after(a)
    c.run_after(b)
    cyclic = Pipeline(ws, [a, b, c])
    for attempt in (cyclic.validate, lambda: cyclic.submit("refused")):
        with pytest.raises(InvalidInput, match=r"cycle through steps \['a', 'c', 'b', 'a'\]"):
            attempt()

    data = PipelineData("features")
    PythonScriptStep("step.py", name="producer", arguments=[0, 0, data], outputs=[data],
                     source_directory=src)
    reader = PythonScriptStep("step.py", name="reader", arguments=[0, 0, data], inputs=[data], source_directory=src)
    alone = Pipeline(ws, [reader], resolve_closure=False)
    with pytest.raises(InvalidInput, match="step 'reader' reads 'features', which no step of the pipeline produces"):
        alone.validate()
    assert {s.name for s in Pipeline(ws, [reader]).steps} == {"reader", "producer"}  # the closure finds it

    elsewhere = PythonScriptStep("step.py", name="elsewhere", arguments=[0, 0], source_directory=src,
                                 compute_target="no-such-cluster")
    with pytest.raises(InvalidInput, match="compute target 'no-such-cluster' does not exist"):
        Pipeline(ws, [_step(src, "fine", 0), elsewhere]).submit("refused")

    lr = PipelineParameter("lr", 0.1)
    tuned = Pipeline(ws, [PythonScriptStep("step.py", name="tuned", arguments=[lr, 0], source_directory=src)])
    with pytest.raises(ValidationError, match=r"\['epochs'\] are not parameters of this pipeline"):
        tuned.submit("refused", pipeline_parameters={"epochs": 3})
    with pytest.raises(ValidationError, match=r"'lr' is a float .* not str 'fast'"):
        Experiment(ws, "refused").submit(tuned, pipeline_parameters={"lr": "fast"})
    assert ws._api.list_runs(ws.name)["total"] == 0  # no parent run (nor step run) was left behind

    run = tuned.submit("refused", pipeline_parameters={"lr": 0})  # an int is a float's value: sleeps 0 s
    assert run.wait_for_completion(show_output=False) == "Completed"
    assert run._pipeline_info()["parameters"] == {"lr": 0.0}
