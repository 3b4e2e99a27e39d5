"""Published pipelines, a pipeline endpoint with two versions and a schedule, on a real service process
(SQLite here; PostgreSQL in CI's second pass): v1's SDK calls, and v1's REST invoke over plain HTTP with the
workspace's bearer token, as Azure Data Factory sends it (core/pipeline_publish.py, core/schedules.py)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from azureml.core import Experiment
from azureml.pipeline.core import (
    Pipeline,
    PipelineEndpoint,
    PipelineParameter,
    PipelineRun,
    PublishedPipeline,
    Schedule,
    ScheduleRecurrence,
)
from azureml.pipeline.steps import PythonScriptStep
from typer.testing import CliRunner

from jupyter_aml.cli import app
from jupyter_aml.errors import NotFound
from tests.e2e.conftest import write_script

SAY = """
import sys
print("VERSION says", sys.argv[1])
"""


def _pipeline(ws, src: Path) -> Pipeline:
    word = PipelineParameter("word", default_value="hello")
    step = PythonScriptStep("say.py", name="say", arguments=[word], source_directory=str(src))
    return Pipeline(ws, [step], description="says a word")


def _said(run: PipelineRun) -> str:
    assert run.wait_for_completion(show_output=False) == "Completed"
    step = run.find_step_run("say")[0]
    assert step.reused_from is None  # every call here assigns another word: each step runs
    return next(line["text"] for line in step.get_logs() if "says" in line["text"]).strip()


def test_publish_invoke_over_rest_endpoint_versions_and_a_schedule(service, tmp_path: Path) -> None:
    ws = service.workspace("publish")
    token = service.info()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    v1_src = write_script(tmp_path / "v1", SAY.replace("VERSION", "v1"), "say.py")
    v2_src = write_script(tmp_path / "v2", SAY.replace("VERSION", "v2"), "say.py")

    published = _pipeline(ws, v1_src).publish(name="sayer", description="says a word", version="1.0")
    assert (published.status, published.version, published.total_run_steps) == ("Active", "1.0", 1)
    assert published.parameters == {"word": "hello"}
    assert published.endpoint.endswith(f"/workspaces/publish/PipelineRuns/PipelineSubmit/{published.id}")
    (v1_src / "say.py").write_text("raise SystemExit('the published copy must not read this')\n")  # immutable
    assert PublishedPipeline.get(ws, published.id).graph_id == published.graph_id
    assert [p.id for p in PublishedPipeline.list(ws)] == [published.id]

    # v1's REST invoke: ExperimentName and ParameterAssignments, answered with the run's Id
    answer = requests.post(published.endpoint, headers=auth, timeout=30,
                           json={"ExperimentName": "rest", "ParameterAssignments": {"word": "adf"}})
    assert answer.status_code == 200, answer.text
    run = PipelineRun(Experiment(ws, "rest"), answer.json()["Id"])
    assert _said(run) == "v1 says adf"
    assert run.get_properties()["azureml.pipelineid"] == published.id
    refused = requests.post(published.endpoint, headers=auth, timeout=30,
                            json={"ExperimentName": "rest", "ParameterAssignments": {"wrod": "typo"}})
    assert refused.status_code == 422 and "wrod" in refused.json()["error"]["message"]
    assert requests.post(published.endpoint, timeout=30, json={"ExperimentName": "rest"}).status_code == 403

    published.disable()
    assert PublishedPipeline.list(ws) == [] and len(PublishedPipeline.list(ws, active_only=False)) == 1
    disabled = requests.post(published.endpoint, headers=auth, timeout=30, json={"ExperimentName": "rest"})
    assert disabled.status_code == 409 and "enable it" in disabled.json()["error"]["hint"]
    published.enable()

    # the graph a run ran, published again: the same graph; a second pipeline says v2
    again = run.publish_pipeline(name="sayer-from-run", description="", version="1.1")
    assert again.graph_id == published.graph_id and again.id != published.id
    second = _pipeline(ws, v2_src).publish(name="sayer", description="v2", version="2.0")

    endpoint = PipelineEndpoint.publish(ws, name="sayer-endpoint", description="stable URL", pipeline=published)
    endpoint.add(second)
    assert [(v.version, v.pipeline_id) for v in endpoint.list_versions()] == [("0", published.id), ("1", second.id)]
    assert endpoint.get_default_version() == "0"
    assert PipelineEndpoint.get(ws, name="sayer-endpoint").id == endpoint.id
    by_default = requests.post(endpoint.endpoint, headers=auth, timeout=30,
                               json={"ExperimentName": "ep", "ParameterAssignments": {"word": "default"}})
    by_version = requests.post(endpoint.endpoint, headers=auth, timeout=30,
                               json={"ExperimentName": "ep", "ParameterAssignments": {"word": "pinned"},
                                     "PipelineVersion": "1"})
    assert (by_default.status_code, by_version.status_code) == (200, 200), (by_default.text, by_version.text)
    assert by_default.json()["PipelineVersion"] == "0" and by_version.json()["PipelineVersion"] == "1"
    assert _said(PipelineRun(Experiment(ws, "ep"), by_default.json()["Id"])) == "v1 says default"
    assert _said(PipelineRun(Experiment(ws, "ep"), by_version.json()["Id"])) == "v2 says pinned"
    endpoint.set_default_version(1)
    assert endpoint.get_pipeline().id == second.id
    assert _said(endpoint.submit("ep", pipeline_parameters={"word": "sdk"})) == "v2 says sdk"
    with pytest.raises(NotFound, match="no version '7'"):
        endpoint.set_default_version("7")
    endpoint.disable()
    assert requests.post(endpoint.endpoint, headers=auth, timeout=30,
                         json={"ExperimentName": "ep"}).status_code == 409
    endpoint.enable()

    # a schedule on a short recurrence: its first tick is its start time, two seconds from now
    start = datetime.now(timezone.utc) + timedelta(seconds=2)
    schedule = Schedule.create(ws, name="soon", pipeline_id=published.id, experiment_name="scheduled",
                               pipeline_parameters={"word": "tick"},
                               recurrence=ScheduleRecurrence("Minute", 1, start_time=start))
    assert schedule.next_fire_at.startswith(start.strftime("%Y-%m-%dT%H:%M:%S"))
    deadline = time.monotonic() + 30
    while schedule.get_last_pipeline_run() is None and time.monotonic() < deadline:
        time.sleep(0.3)
    fired = schedule.get_last_pipeline_run()
    assert fired is not None, Schedule.get(ws, schedule.id).get_fires()
    assert _said(fired) == "v1 says tick"
    assert fired.get_properties()["azureml.pipeline.scheduleid"] == schedule.id
    schedule.disable()
    assert Schedule.list(ws) == [] and [s.id for s in Schedule.list(ws, active_only=False)] == [schedule.id]
    assert len(schedule.get_pipeline_runs()) == 1

    # the CLI over the same records
    env = {"JUPYTER_AML_URL": service.info()["url"], "JUPYTER_AML_TOKEN": token}

    def aml(*args: str) -> str:
        result = CliRunner().invoke(app, [*args, "-w", "publish"], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    listed = aml("pipeline", "list")
    assert published.id in listed and "word='hello'" in listed
    assert f'"id": "{second.id}"' in aml("pipeline", "show", second.id, "--json")
    aml("pipeline", "disable", second.id)
    assert second.id not in aml("pipeline", "list") and second.id in aml("pipeline", "list", "--all")
    aml("pipeline", "enable", second.id)
    assert "default version 0" in aml("pipeline-endpoint", "set-default", "sayer-endpoint", "0")
    shown = aml("pipeline-endpoint", "show", "sayer-endpoint")
    assert endpoint.endpoint in shown and second.id in shown
    started = aml("pipeline-endpoint", "run", "sayer-endpoint", "-e", "cli", "--version", "1", "--param", "word=cli")
    assert "started pipeline run" in started and "version 1" in started
    created = aml("schedule", "create", "nightly", "-e", "cli", "--pipeline-id", published.id, "--frequency", "Day",
                  "--hour", "2", "--minute", "30", "--time-zone", "Europe/Paris", "--param", "word=night")
    assert "(cron 30 2 * * * 0)" in created
    assert "nightly" in aml("schedule", "list") and "soon" not in aml("schedule", "list")
    nightly = Schedule.list(ws)[0]
    assert "Disabled" in aml("schedule", "disable", nightly.id)
    assert "next fire" in aml("schedule", "enable", nightly.id)
    bad = CliRunner().invoke(app, ["schedule", "create", "x", "-e", "cli", "--pipeline-id", published.id,
                                   "--frequency", "Minute", "--hour", "3", "-w", "publish"], env=env)
    assert bad.exit_code == 1 and "takes no hours" in bad.output
