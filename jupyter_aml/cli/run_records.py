"""``aml run list``, ``aml run show`` and ``aml run cancel``: the run records themselves."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import RunIdArg, emit_json, get_run, out


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
    from jupyter_aml.core.models import RunStatus

    statuses_known = [s.value for s in RunStatus]
    by_lower = {s.lower(): s for s in statuses_known}
    statuses = []
    for value in status or []:
        if value.lower() not in by_lower:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(statuses_known)}", param_hint="--status")
        statuses.append(by_lower[value.lower()])
    ws = c.STATE.workspace_obj()
    # The SDK's Experiment.get_runs() is per experiment, unsorted and unbounded: this is its REST call with
    # the filters the service offers.
    params: list[tuple[str, Any]] = [("sort", sort)]
    if experiment:
        params.append(("experiment", experiment))
    params += [("status", s) for s in statuses] + [("tag", t) for t in tag or []]
    if not children:
        params.append(("root_only", "true"))
    items: list[dict[str, Any]] = []
    token: str | None = None
    total = 0
    while len(items) < limit:
        page_params = [*params, ("page_size", min(500, limit - len(items)))]
        if token:
            page_params.append(("page_token", token))
        page = ws._client.get(ws._path("runs"), params=page_params)
        items += page["items"]
        total, token = page.get("total", len(items)), page.get("next_page_token")
        if not token or not page["items"]:
            break
    items = items[:limit]
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
            str(run["number"]),
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
    run = get_run(run_id)
    d = run._details
    if c.STATE.json:
        emit_json(d)
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()

    def row(label: str, value: Any) -> None:
        if value not in (None, "", {}, []):
            grid.add_row(label, value if label == "status" else escape(str(value)))

    rc = d.get("run_config") or {}
    row("id", d["id"])
    row("number", d.get("number"))
    row("name", d.get("display_name"))
    row("description", d.get("description"))
    row("experiment", d.get("experiment"))
    row("workspace", d.get("workspace"))
    row("kind", d.get("kind"))
    row("status", c.status_text(d["status"]))
    row("parent", d.get("parent_id"))
    row("compute", d.get("compute_target"))
    row("script", " ".join([rc["script"], *rc.get("arguments", [])]) if rc.get("script") else None)
    row("environment", _env_summary(rc.get("environment")))
    row("submitter", d.get("submitter"))
    row("created", c.when(d.get("created_at")))
    row("started", c.when(d.get("start_time")))
    row("ended", c.when(d.get("end_time")))
    row("duration", c.duration(d))
    row("exit code", d.get("exit_code"))
    row("snapshot", d.get("snapshot_id"))
    for label in ("tags", "properties"):
        row(label, ", ".join(f"{k}={v}" for k, v in (d.get(label) or {}).items()))
    git = d.get("git") or {}
    if git:
        dirty = " (dirty)" if git.get("dirty") else ""
        row("git", f"{git.get('repository') or ''} {git.get('branch') or ''} {git.get('commit') or ''}{dirty}".strip())
    console = out()
    console.print(grid)
    error = d.get("error") or {}
    if error:
        console.print(f"[bold red]error:[/bold red] [red]{escape(str(error.get('message', '')))}[/red]", soft_wrap=True)
        if error.get("details"):
            console.print(escape(str(error["details"])), soft_wrap=True)


def _env_summary(spec: dict[str, Any] | None) -> str:
    if not spec:
        return ""
    python = spec.get("python") or {}
    parts = [str(spec.get("name") or "")]
    if python.get("pip"):
        parts.append(f"pip: {', '.join(python['pip'])}")
    elif python.get("user_managed", True):
        parts.append("user-managed")
    if spec.get("env_vars"):
        parts.append("env: " + ", ".join(sorted(spec["env_vars"])))
    return "; ".join(p for p in parts if p)



def run_cancel(run_id: RunIdArg) -> None:
    """Cancel a run (its whole process tree)."""
    run = get_run(run_id)
    run.cancel()
    if c.STATE.json:
        emit_json(run._details)
        return
    out().print(f"Run {escape(run.id)}: {c.status_text(run._details['status'])}")

