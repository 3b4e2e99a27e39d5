"""``aml workspace ...`` and ``aml experiment ...``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, out

workspace_app = typer.Typer(help="Create, list and show workspaces.", no_args_is_help=True)
experiment_app = typer.Typer(help="List experiments.", no_args_is_help=True)


@command(workspace_app, "create")
def workspace_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Workspace name.")],
    description: Annotated[
        str, typer.Option("--description", "-d", metavar="TEXT", help="A free-text description.")
    ] = "",
    exist_ok: Annotated[bool, typer.Option("--exist-ok", help="Succeed if the workspace already exists.")] = False,
    write_config: Annotated[
        bool, typer.Option("--write-config", help="Also write ./.aml/config.json so later commands default to it.")
    ] = False,
) -> None:
    """Create a workspace."""
    from jupyter_aml.errors import Conflict
    from jupyter_aml.sdk.workspace import Workspace

    client = c.STATE.client()
    try:
        ws = Workspace.create(name, exist_ok=False, description=description, client=client)
        created = True
    except Conflict:
        if not exist_ok:
            raise
        ws, created = Workspace(name, client=client), False
    details = ws.get_details()
    config_path = ws.write_config() if write_config else None
    if c.STATE.json:
        emit_json(details)
        return
    console = out()
    console.print(f"{'Created' if created else 'Found'} workspace [bold]{escape(details['name'])}[/bold]")
    if config_path is not None:
        console.print(f"Wrote {escape(str(config_path))}")


@command(workspace_app, "list")
def workspace_list() -> None:
    """List workspaces."""
    from jupyter_aml.sdk.workspace import Workspace

    items = [ws.get_details() for ws in Workspace.list(client=c.STATE.client()).values()]
    if c.STATE.json:
        emit_json({"items": items})
        return
    if not items:
        out().print("[dim]no workspaces[/dim]")
        return
    current = c.STATE.workspace_name()
    table = Table("name", "description", "created", box=None, header_style="bold")
    for ws in items:
        mark = " [green]*[/green]" if ws["name"] == current else ""
        table.add_row(escape(ws["name"]) + mark, escape(ws.get("description") or ""), c.when(ws.get("created_at")))
    out().print(table)


@command(workspace_app, "show")
def workspace_show(
    name: Annotated[
        str | None, typer.Argument(metavar="NAME", help="Workspace name (default: the current workspace).")
    ] = None,
) -> None:
    """Show a workspace with its experiments and compute targets."""
    if name:
        c.STATE.workspace = name
    ws = c.STATE.workspace_obj()
    details = ws.get_details()
    if c.STATE.json:
        emit_json(details)
        return
    experiments = ws.list_experiment_summaries()
    computes = ws.compute_targets
    console = out()
    console.print(f"[bold]{escape(details['name'])}[/bold]  created {c.when(details.get('created_at'))}")
    if details.get("description"):
        console.print(escape(details["description"]))
    runs = c.experiment_counts(sum(e.run_count for e in experiments), sum(e.child_run_count for e in experiments))
    console.print(f"experiments: {len(experiments)}, {runs}")
    table = Table("compute", "type", "max concurrent", "active", "queued", box=None, header_style="bold")
    for target in computes.values():
        comp = target.serialize()
        table.add_row(
            escape(comp["name"]),
            escape(comp.get("type", "")),
            str(comp.get("max_concurrent_runs", "")),
            str(comp.get("active_runs", "")),
            str(comp.get("queued_runs", "")),
        )
    console.print(table)


VIEW_TYPES = ("ActiveOnly", "ArchivedOnly", "All")


@command(experiment_app, "list")
def experiment_list(
    view_type: Annotated[
        str | None, typer.Option("--view-type", metavar="|".join(VIEW_TYPES),
                                 help="v1's view types: ActiveOnly (the default), ArchivedOnly or All.")
    ] = None,
    include_archived: Annotated[
        bool, typer.Option("--include-archived", help="Archived experiments too (the same as --view-type All).")
    ] = False,
) -> None:
    """List the experiments of the workspace (archived ones only when asked, as v1's Experiment.list)."""
    if view_type is not None and view_type not in VIEW_TYPES:
        raise typer.BadParameter(f"{view_type!r} is not one of {', '.join(VIEW_TYPES)}", param_hint="--view-type")
    if include_archived:
        if view_type not in (None, "All"):
            raise typer.BadParameter(f"--include-archived lists every experiment, --view-type {view_type} does "
                                     "not: give one of them", param_hint="--include-archived")
        view_type = "All"
    ws = c.STATE.workspace_obj()
    experiments = ws.list_experiment_summaries(view_type)  # Workspace.experiments has names only
    if c.STATE.json:
        emit_json({"items": [{"name": e.name, "workspace": ws.name, "created_at": e.created_at,
                              "run_count": e.run_count, "child_run_count": e.child_run_count,
                              "archived_time": e.archived_time} for e in experiments]})
        return
    if not experiments:
        which = {"ArchivedOnly": "archived ", "All": ""}.get(view_type or "", "active ")
        out().print(f"[dim]no {which}experiments in workspace {escape(ws.name)}[/dim]")
        return
    shows_archived = view_type in ("ArchivedOnly", "All")
    table = Table("experiment", "runs", "created", *(["archived"] if shows_archived else []), box=None,
                  header_style="bold")
    for exp in experiments:
        archived = [c.when(exp.archived_time) if exp.archived_time else ""] if shows_archived else []
        table.add_row(escape(exp.name), c.experiment_counts(exp.run_count, exp.child_run_count), c.when(exp.created_at),
                      *archived)
    out().print(table)
