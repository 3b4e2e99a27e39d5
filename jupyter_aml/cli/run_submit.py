"""``aml run submit``: snapshot a folder and queue a script, optionally following it to its end."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import emit_json, out
from jupyter_aml.run_names import run_number

if TYPE_CHECKING:
    from jupyter_aml.sdk.submit import UploadResult


def run_submit(
    positional: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SOURCE_DIR SCRIPT [-- ARGS]",
            help="The folder to snapshot, the script in it, then the script's arguments after `--`. "
            "With --runconfig every positional is a script argument.",
        ),
    ] = None,
    experiment: Annotated[
        str, typer.Option("--experiment", "-e", metavar="NAME", help="Experiment name (created on first use).")
    ] = "",
    compute: Annotated[
        str | None, typer.Option("--compute", "-c", metavar="TARGET", help="Compute target (default: local).")
    ] = None,
    requirements: Annotated[
        Path | None,
        typer.Option(
            "--requirements", "-r", metavar="FILE", help="pip requirements file: run in a managed environment."
        ),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", metavar="KEY=VALUE", help="Environment variable KEY=VALUE (repeatable)."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", metavar="K=V", help="Run tag k=v (repeatable).")
    ] = None,
    runconfig: Annotated[
        Path | None,
        typer.Option("--runconfig", metavar="FILE", help="A saved ScriptRunConfig (*.runconfig.json) to start from."),
    ] = None,
    display_name: Annotated[str, typer.Option("--name", metavar="TEXT", help="Display name of the run.")] = "",
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the end, streaming the logs.")] = False,
    stream: Annotated[
        bool, typer.Option("--stream", help="Same as --wait: stream the logs until the run ends.")
    ] = False,
) -> None:
    """Snapshot SOURCE_DIR and queue SCRIPT on a compute target (Experiment.submit)."""
    from jupyter_aml.sdk.config import ScriptRunConfig
    from jupyter_aml.sdk.environment import Environment
    from jupyter_aml.sdk.experiment import Experiment

    if not experiment:
        raise typer.BadParameter("an experiment name is required", param_hint="--experiment")
    items = list(positional or [])
    if runconfig is not None:
        base = ScriptRunConfig.load(runconfig)
        source, script = base.source_directory, base.script
        arguments = items or base.arguments
        environment = base.environment
        target = compute or base.compute_target
        max_seconds = base.max_run_duration_seconds
    else:
        if len(items) < 2:
            raise typer.BadParameter("give SOURCE_DIR and SCRIPT (or --runconfig FILE)", param_hint="SOURCE_DIR SCRIPT")
        source, script, arguments = items[0], items[1], items[2:]
        environment, target, max_seconds = Environment(), compute or "local", None
    if requirements is not None:
        managed = Environment.from_pip_requirements(environment.name, requirements)
        managed.environment_variables = dict(environment.environment_variables)
        managed.python.interpreter_path = environment.python.interpreter_path
        managed.docker = replace(environment.docker)
        environment = managed
    environment.environment_variables.update(c.parse_pairs(env, "--env"))
    config = ScriptRunConfig(
        source, script, arguments, compute_target=target, environment=environment, max_run_duration_seconds=max_seconds
    )
    tags = c.parse_pairs(tag, "--tag", allow_bare=True)

    ws = c.STATE.workspace_obj(create=True)  # like the SDK: a workspace is created on first use
    run = Experiment(ws, experiment).submit(config, tags=tags, display_name=display_name, progress=not c.STATE.json)
    upload = run.snapshot_upload
    details = run.get_record()
    if not c.STATE.json:
        console = out()
        console.print(
            f"Submitted run [bold]{escape(run.id)}[/bold] ({run_number(details)}) of experiment "
            f"[bold]{escape(experiment)}[/bold] to compute [bold]{escape(config.compute_target)}[/bold]"
        )
        if upload is not None:
            console.print(
                f"snapshot {upload.snapshot_id[:12]}: {upload.file_count} files, {c.size(upload.total_size)}"
                f"; uploaded {upload.uploaded_files} files, {c.size(upload.uploaded_bytes)}"
            )
    if not (wait or stream):
        if c.STATE.json:
            emit_json({"run": details, "upload": _upload_dict(upload)})
        else:
            out().print(f"[dim]follow it with: aml run logs {escape(run.id)} --follow[/dim]")
        return
    from jupyter_aml.sdk.run import ActivityFailedError

    # In JSON mode the streamed log lines go to stderr so that stdout stays one JSON document.
    redirect = contextlib.redirect_stdout(sys.stderr) if c.STATE.json else contextlib.nullcontext()
    try:
        with redirect:
            run.wait_for_completion(show_output=True)
    except ActivityFailedError:
        if c.STATE.json:
            emit_json({"run": run.get_record(refresh=True), "upload": _upload_dict(upload)})
            c.STATE.json = False  # the error line still goes to stderr, but only one JSON document to stdout
        raise
    except KeyboardInterrupt:
        c.err().print(
            f"[yellow]stopped waiting; run {escape(run.id)} goes on "
            f"(cancel it with `aml run cancel {escape(run.id)}`)[/yellow]"
        )
        raise typer.Exit(130) from None
    if c.STATE.json:
        emit_json({"run": run.get_record(refresh=True), "upload": _upload_dict(upload)})


def _upload_dict(upload: UploadResult | None) -> dict[str, Any] | None:
    return None if upload is None else asdict(upload)

