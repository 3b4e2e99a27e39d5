"""``aml run logs``: a run's log lines, all at once or followed (``Run.watch()``) until the run ends."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Annotated

import typer
from rich.markup import escape

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import RunIdArg, emit_json, get_run
from jupyter_aml.runtime import api_types as T


def run_logs(
    run_id: RunIdArg,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines until the run ends.")] = False,
    stream: Annotated[
        str | None, typer.Option("--stream", metavar="NAME", help="Only this stream (stdout, stderr, ...).")
    ] = None,
) -> None:
    """Print a run's log lines (with --follow, until the run ends)."""
    run = get_run(run_id)
    if not follow:
        lines = [line for line in run.get_logs() if stream is None or line["stream"] == stream]
        if c.STATE.json:
            emit_json({"items": lines, "last_id": lines[-1]["id"] if lines else 0})
        else:
            _show(lines)
        return
    status = run.get_record()["status"]
    try:
        # The push channel, after a catch-up of the lines already stored; it ends with the run.
        for event in run.watch():
            if event["type"] == "log" and event["run_id"] == run.id:
                _show(line for line in event["lines"] if stream is None or line["stream"] == stream)
            elif event["type"] == "run" and event["run"]["id"] == run.id:
                status = event["run"]["status"]
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if not c.STATE.json:
        c.err().print(f"Run {escape(run.id)}: {c.status_text(status)}")


def _show(lines: Iterable[T.LogLine]) -> None:
    for line in lines:
        if c.STATE.json:  # one JSON object per line when following
            sys.stdout.write(json.dumps(line, default=str) + "\n")
        else:
            sys.stdout.write(line["text"] + "\n")
    sys.stdout.flush()
