"""The ``aml`` application: global options and the command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from jupyter_aml.cli import _common as c
from jupyter_aml.cli import sharing as _sharing  # noqa: F401 - registers `aml workspace share` and friends
from jupyter_aml.cli._common import command
from jupyter_aml.cli.admin import db_app, gc, serve, token_app
from jupyter_aml.cli.computes import compute_app
from jupyter_aml.cli.datasets import dataset_app
from jupyter_aml.cli.datastores import datastore_app
from jupyter_aml.cli.environments import environment_app
from jupyter_aml.cli.pipelines import pipeline_app, pipeline_endpoint_app, schedule_app
from jupyter_aml.cli.registry import endpoint_app, model_app
from jupyter_aml.cli.runs import run_app, snapshot_app
from jupyter_aml.cli.secrets import secret_app
from jupyter_aml.cli.workspaces import experiment_app, workspace_app

app = typer.Typer(
    name="aml",
    help="jupyter-aml: workspaces, experiments and runs from the command line.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        import jupyter_aml

        typer.echo(f"jupyter-aml {getattr(jupyter_aml, '__version__', 'unknown')}")
        raise typer.Exit()


@app.callback()
def root(
    workspace: c.WorkspaceOpt = None,
    json_output: c.JsonOpt = False,
    url: c.UrlOpt = None,
    token: c.TokenOpt = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Global options may also be given after the command name (aml run list --json -w demo)."""
    c.reset_state(workspace=workspace, json=json_output, url=url, token=token)


app.add_typer(workspace_app, name="workspace")
app.add_typer(experiment_app, name="experiment")
app.add_typer(run_app, name="run")
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(model_app, name="model")
app.add_typer(environment_app, name="environment")
app.add_typer(compute_app, name="compute")
app.add_typer(endpoint_app, name="endpoint")
app.add_typer(secret_app, name="secret")
app.add_typer(datastore_app, name="datastore")
app.add_typer(dataset_app, name="dataset")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(pipeline_endpoint_app, name="pipeline-endpoint")
app.add_typer(schedule_app, name="schedule")
app.command("serve")(serve)
command(app, "gc", options=("json", "url", "token"))(gc)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``aml``)."""
    app(args=argv, prog_name="aml")
