"""``aml run list``, ``aml run show`` and ``aml run cancel``: the run records themselves."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import RunIdArg, emit_json, get_run, out
from jupyter_aml.run_names import run_number
from jupyter_aml.runtime import api_types as T
from jupyter_aml.statuses import RUN_STATUSES


def run_list(
    experiment: Annotated[
        str | None, typer.Option("--experiment", "-e", metavar="NAME", help="Only this experiment.")
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            "-s",
            metavar="STATUS",
            help="Only runs in this status (repeatable, any case): Queued, Preparing, Starting, Running, "
            "Finalizing, Completed, Failed, Canceled, NotResponding.",
        ),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", metavar="K=V", help="Only runs with tag k=v or k (repeatable).")
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            metavar="KEY",
            help="created_at, start_time, duration, status, number or metric:NAME; '-' prefix for descending.",
        ),
    ] = "-created_at",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, metavar="N", help="At most this many runs.")] = 50,
    children: Annotated[bool, typer.Option("--children", help="Include child runs.")] = False,
) -> None:
    """List runs (paged on the server)."""
    by_lower = {s.lower(): s for s in RUN_STATUSES}
    statuses = []
    for value in status or []:
        if value.lower() not in by_lower:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(RUN_STATUSES)}", param_hint="--status")
        statuses.append(by_lower[value.lower()])
    pages = list(c.STATE.workspace_obj().iter_run_pages(
        experiment or None, limit=limit, status=statuses or None, tags=tag or None, order_by=sort,
        include_children=children,
    ))
    items = [record for page in pages for record in page.records]
    token = pages[-1].next_page_token if pages else None
    total = (pages[-1].total if pages else None) or len(items)
    if c.STATE.json:
        emit_json({"items": items, "next_page_token": token, "total": total})
        return
    if not items:
        out().print("[dim]no runs[/dim]")
        return
    table = Table("id", "#", "experiment", "status", "started", "duration", "compute", box=None, header_style="bold")
    table.columns[0].no_wrap = True
    for run in items:
        table.add_row(
            escape(run["id"]),
            run_number(run),
            escape(run["experiment"]),
            c.status_text(run["status"]),
            c.when(run.get("start_time")),
            c.duration(run),
            escape(run.get("compute_target") or ""),
        )
    console = out()
    console.print(table)
    if total > len(items):
        console.print(f"[dim]{len(items)} of {total} runs; raise --limit to see more[/dim]")


def run_show(run_id: RunIdArg) -> None:
    """Show a run: status, times, config, tags, properties, git and error."""
    d = get_run(run_id).get_record()
    if c.STATE.json:
        emit_json(d)
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()

    def row(label: str, value: Any) -> None:
        if value not in (None, "", {}, []):
            grid.add_row(label, value if label == "status" else escape(str(value)))

    rc = d.get("run_config")
    row("id", d["id"])
    row("number", run_number(d))
    row("name", d.get("display_name"))
    row("description", d.get("description"))
    row("experiment", d.get("experiment"))
    row("workspace", d.get("workspace"))
    row("kind", d.get("kind"))
    row("status", c.status_text(d["status"]))
    row("parent", d.get("parent_id"))
    row("compute", d.get("compute_target"))
    row("script", " ".join([rc["script"], *rc.get("arguments", [])]) if rc and rc.get("script") else None)
    row("environment", _env_summary(rc.get("environment") if rc else None))
    row("submitter", d.get("submitter"))
    row("created", c.when(d.get("created_at")))
    row("started", c.when(d.get("start_time")))
    row("ended", c.when(d.get("end_time")))
    row("duration", c.duration(d))
    row("exit code", d.get("exit_code"))
    row("snapshot", d.get("snapshot_id"))
    row("tags", ", ".join(f"{k}={v}" for k, v in (d.get("tags") or {}).items()))
    row("properties", ", ".join(f"{k}={v}" for k, v in (d.get("properties") or {}).items()))
    git = d.get("git")
    if git:
        dirty = " (dirty)" if git.get("dirty") else ""
        row("git", f"{git.get('repository') or ''} {git.get('branch') or ''} {git.get('commit') or ''}{dirty}".strip())
    console = out()
    console.print(grid)
    error = d.get("error")
    if error:
        console.print(f"[bold red]error:[/bold red] [red]{escape(str(error.get('message', '')))}[/red]", soft_wrap=True)
        if error.get("details"):
            console.print(escape(str(error["details"])), soft_wrap=True)


def _env_summary(spec: T.EnvironmentSpec | None) -> str:
    if not spec:
        return ""
    python = spec.get("python") or {}
    parts = [str(spec.get("name") or "")]
    if python.get("pip"):
        parts.append(f"pip: {', '.join(python.get('pip', []))}")
    elif python.get("user_managed", True):
        parts.append("user-managed")
    env_vars = spec.get("env_vars")
    if env_vars:
        parts.append("env: " + ", ".join(sorted(env_vars)))
    return "; ".join(p for p in parts if p)


def run_cancel(run_id: RunIdArg) -> None:
    """Cancel a run (its whole process tree)."""
    run = get_run(run_id)
    run.cancel()
    record = run.get_record()
    if c.STATE.json:
        emit_json(record)
        return
    out().print(f"Run {escape(run.id)}: {c.status_text(record['status'])}")
