"""The ``aml run ...`` and ``aml snapshot ...`` groups, assembled from one module per kind of work."""

from __future__ import annotations

import typer

from jupyter_aml.cli._common import command
from jupyter_aml.cli.run_files import run_download, snapshot_download
from jupyter_aml.cli.run_logs import run_logs
from jupyter_aml.cli.run_metrics import run_metrics
from jupyter_aml.cli.run_records import run_cancel, run_list, run_show
from jupyter_aml.cli.run_submit import run_submit

run_app = typer.Typer(help="Submit, list, inspect, follow and cancel runs.", no_args_is_help=True)
snapshot_app = typer.Typer(help="Download the source snapshot of a run.", no_args_is_help=True)

# Registration order is the order `aml run --help` lists the commands in.
command(run_app, "submit")(run_submit)
command(run_app, "list")(run_list)
command(run_app, "show")(run_show)
command(run_app, "logs")(run_logs)
command(run_app, "metrics")(run_metrics)
command(run_app, "cancel")(run_cancel)
command(run_app, "download")(run_download)
command(snapshot_app, "download")(snapshot_download)
