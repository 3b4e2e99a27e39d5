"""``aml workspace share|unshare|members|roles|activity``: who may do what in a workspace, and what was done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, out
from jupyter_aml.cli.workspaces import workspace_app

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace

NameArg = Annotated[str | None, typer.Argument(metavar="NAME", help="Workspace name (default: the current one).")]
UserOpt = Annotated[str, typer.Option("--user", "-u", metavar="USER", help="The user's name (their Jupyter, "
                                      "JupyterHub or named-token user).")]


def _workspace(name: str | None) -> Workspace:
    if name:
        c.STATE.workspace = name
    return c.STATE.workspace_obj()


@command(workspace_app, "share")
def workspace_share(
    name: NameArg = None,
    user: UserOpt = "",
    role: Annotated[str, typer.Option("--role", "-r", metavar="ROLE", help="Owner, Contributor, Reader, "
                                      "'AzureML Data Scientist', 'AzureML Compute Operator' or a custom role.")]
    = "Reader",
) -> None:
    """Give a user a role in a workspace, or change their role (Owners only)."""
    if not user:
        raise typer.BadParameter("name the user to share with", param_hint="--user")
    member = _workspace(name).add_user(user, role)
    if c.STATE.json:
        emit_json(member)
        return
    out().print(f"[bold]{escape(member['user'])}[/bold] is {escape(member['role'])} of workspace "
                f"{escape(c.STATE.workspace_name())}")


@command(workspace_app, "unshare")
def workspace_unshare(name: NameArg = None, user: UserOpt = "") -> None:
    """Take away a user's role in a workspace (the last Owner stays)."""
    if not user:
        raise typer.BadParameter("name the user", param_hint="--user")
    _workspace(name).remove_user(user)
    if c.STATE.json:
        emit_json({"user": user, "removed": True})
        return
    out().print(f"{escape(user)} has no role in workspace {escape(c.STATE.workspace_name())} any more")


@command(workspace_app, "members")
def workspace_members(name: NameArg = None) -> None:
    """List a workspace's members and their roles."""
    members = _workspace(name).get_members()
    if c.STATE.json:
        emit_json({"items": members})
        return
    table = Table("user", "role", "added by", "added", box=None, header_style="bold")
    for m in members:
        table.add_row(escape(m["user"]), escape(m["role"]), escape(m["added_by"]), c.when(m["added_at"]))
    out().print(table)


@command(workspace_app, "roles")
def workspace_roles(name: NameArg = None) -> None:
    """List the roles one can give in a workspace, with the actions each allows."""
    roles = _workspace(name).list_roles()
    if c.STATE.json:
        emit_json({"items": list(roles.values())})
        return
    table = Table("role", "kind", "actions", "except", box=None, header_style="bold")
    for role in roles.values():
        table.add_row(escape(role["name"]), "built-in" if role["builtin"] else "custom",
                      escape(", ".join(role["actions"])), escape(", ".join(role["not_actions"])))
    out().print(table)


@command(workspace_app, "activity")
def workspace_activity(
    name: NameArg = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100000, help="Show at most this many.")] = 50,
) -> None:
    """Who created, changed or deleted what in a workspace, newest first (Owners only)."""
    items = list(_workspace(name).get_activity(limit=limit))
    if c.STATE.json:
        emit_json({"items": items})
        return
    if not items:
        out().print("[dim]no activity[/dim]")
        return
    table = Table("when", "user", "action", "target", box=None, header_style="bold")
    for item in items:
        table.add_row(c.when(item["time"]), escape(item["user"]), escape(item["action"]), escape(item["target"]))
    out().print(table)
