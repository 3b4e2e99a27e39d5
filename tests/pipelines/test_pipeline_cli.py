"""``aml pipeline publish|submit|disable`` and ``aml pipeline-endpoint submit`` on a real service process: a
pipeline run published from the command line (v1's ``pipeline_run.publish_pipeline``), then submitted by id and
through an endpoint, as a user without the SDK would."""

from __future__ import annotations

import json
from pathlib import Path

from azureml.core import Experiment
from azureml.pipeline.core import Pipeline, PipelineEndpoint, PipelineRun, PublishedPipeline
from azureml.pipeline.steps import PythonScriptStep
from typer.testing import CliRunner

from jupyter_aml.cli import app
from tests.e2e.conftest import write_script


def test_publish_a_run_then_submit_disable_and_submit_an_endpoint(service, tmp_path: Path) -> None:
    ws = service.workspace("pipecli")
    src = write_script(tmp_path / "src", "import sys\nprint('cli says', sys.argv[1:])\n", "say.py")
    step = PythonScriptStep("say.py", name="say", source_directory=str(src))
    run = Experiment(ws, "cli").submit(Pipeline(ws, [step]))
    assert run.wait_for_completion(show_output=False) == "Completed"
    env = {"JUPYTER_AML_URL": service.info()["url"], "JUPYTER_AML_TOKEN": service.info()["token"]}

    def aml(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, [*args, "-w", "pipecli"], env=env)
        assert result.exit_code == code, result.output
        return result.output

    printed = aml("pipeline", "publish", run.id, "--name", "from-cli", "--description", "said", "--version", "2")
    published = PublishedPipeline.list(ws)[0]
    assert (published.name, published.version, published.description) == ("from-cli", "2", "said")
    assert f"id {published.id}" in printed and f"endpoint: {published.endpoint}" in printed
    as_json = json.loads(aml("pipeline", "publish", run.id, "--name", "again", "--json"))
    assert as_json["name"] == "again" and as_json["endpoint"].endswith(as_json["id"])

    started = aml("pipeline", "submit", published.id, "-e", "cli-submit")
    submitted = PipelineRun(Experiment(ws, "cli-submit"), started.split("pipeline run ")[1].split()[0])
    assert submitted.wait_for_completion(show_output=False) == "Completed"
    assert submitted.get_properties()["azureml.pipelineid"] == published.id
    assert "Disabled" in aml("pipeline", "disable", published.id)
    refused = aml("pipeline", "submit", published.id, "-e", "cli-submit", code=1)
    assert "disabled" in refused.lower()
    aml("pipeline", "enable", published.id)

    PipelineEndpoint.publish(ws, name="cli-endpoint", description="", pipeline=published)
    ep_started = aml("pipeline-endpoint", "submit", "cli-endpoint", "-e", "cli-ep")
    assert "version 0" in ep_started
    for group in ("pipeline", "pipeline-endpoint"):  # `run` stays as a hidden alias; help says `submit`
        shown = CliRunner().invoke(app, [group, "--help"]).output
        assert "\n  submit " in shown and "\n  run " not in shown

    missing = aml("pipeline", "publish", "no-such-run", "--name", "x", code=1)
    assert "no-such-run" in missing
    no_name = CliRunner().invoke(app, ["pipeline", "publish", run.id, "-w", "pipecli"], env=env)
    assert no_name.exit_code == 2 and "--name" in no_name.output
