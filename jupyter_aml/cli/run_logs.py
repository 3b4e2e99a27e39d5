"""``aml run logs``: a run's log lines, all at once or followed until the run ends."""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer
from rich.markup import escape

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import RunIdArg, emit_json, get_run
from jupyter_aml.statuses import TERMINAL_STATUSES

LOG_PAGE = 5000
POLL_SECONDS = 0.5


def run_logs(
    run_id: RunIdArg,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines until the run ends.")] = False,
    stream: Annotated[
        str | None, typer.Option("--stream", metavar="NAME", help="Only this stream (stdout, stderr, ...).")
    ] = None,
) -> None:
    """Print a run's log lines (with --follow, until the run ends)."""
    run = get_run(run_id)
    client, path = run._client, run._path("logs")
    # The SDK reads logs only inside wait_for_completion(show_output=True); these are its REST calls.

    def page(after: int) -> dict[str, Any]:
        params: dict[str, Any] = {"after": after, "limit": LOG_PAGE}
        if stream:
            params["stream"] = stream
        return dict(client.get(path, params=params))

    def show(lines: list[dict[str, Any]]) -> None:
        for line in lines:
            if c.STATE.json:  # one JSON object per line when following
                sys.stdout.write(_json_line(line))
            else:
                sys.stdout.write(line["text"] + "\n")
        sys.stdout.flush()

    last = 0
    if not follow:
        collected: list[dict[str, Any]] = []
        while True:
            body = page(last)
            collected += body["items"]
            last = body.get("last_id") or last
            if len(body["items"]) < LOG_PAGE:
                break
        if c.STATE.json:
            emit_json({"items": collected, "last_id": last})
        else:
            show(collected)
        return
    try:
        while True:
            status = run.get_status()
            body = page(last)
            show(body["items"])
            last = body.get("last_id") or last
            if len(body["items"]) >= LOG_PAGE:
                continue
            if status in TERMINAL_STATUSES:
                while True:  # lines shipped just before the end
                    body = page(last)
                    show(body["items"])
                    last = body.get("last_id") or last
                    if len(body["items"]) < LOG_PAGE:
                        break
                break
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if not c.STATE.json:
        c.err().print(f"Run {escape(run.id)}: {c.status_text(status)}")


def _json_line(line: dict[str, Any]) -> str:
    import json

    return json.dumps(line, default=str) + "\n"

