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
    console.print(f"experiments: {len(experiments)}, runs: {sum(e.run_count for e in experiments)}")
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


@command(experiment_app, "list")
def experiment_list() -> None:
    """List the experiments of the workspace."""
    ws = c.STATE.workspace_obj()
    experiments = ws.list_experiment_summaries()  # Workspace.experiments has names only
    if c.STATE.json:
        emit_json({"items": [{"name": e.name, "workspace": ws.name, "created_at": e.created_at,
                              "run_count": e.run_count} for e in experiments]})
        return
    if not experiments:
        out().print(f"[dim]no experiments in workspace {escape(ws.name)}[/dim]")
        return
    table = Table("experiment", "runs", "created", box=None, header_style="bold")
    for exp in experiments:
        table.add_row(escape(exp.name), str(exp.run_count), c.when(exp.created_at))
    out().print(table)
