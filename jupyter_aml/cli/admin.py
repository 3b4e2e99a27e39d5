"""``aml serve`` and ``aml db ...``: the service and its database schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, out

if TYPE_CHECKING:
    from jupyter_aml.app import AMLApplication

db_app = typer.Typer(help="Database schema: status and upgrade.", no_args_is_help=True)
token_app = typer.Typer(help="Named user tokens for `aml serve` (run on the service's machine, with its root).",
                        no_args_is_help=True)

RootOpt = Annotated[
    Path | None,
    typer.Option(
        "--root", metavar="DIR", help="Service root folder (default: $JUPYTER_AML_ROOT or ~/.local/share/jupyter-aml)."
    ),
]
DbUrlOpt = Annotated[
    str | None, typer.Option("--url", metavar="DB_URL", help="SQLAlchemy database URL (default: <root>/aml.db).")
]


def serve(
    root: RootOpt = None,
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to listen on.")] = 8765,
    ip: Annotated[str, typer.Option("--ip", metavar="IP", help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Run the workspace service without JupyterLab (writes <root>/service.json for clients)."""
    from jupyter_aml.core.roots import default_root
    from jupyter_aml.server.standalone import serve as run

    run(root or default_root(), port=port, ip=ip)


def _database(root: Path | None, url: str | None) -> tuple[AMLApplication, str]:
    """(the application object of this root and URL, its URL for display with the password hidden)."""
    from jupyter_aml.app import AMLApplication

    app = AMLApplication.for_database(root, url)
    return app, app.database_shown()


@command(db_app, "status", options=("json",))
def db_status(root: RootOpt = None, url: DbUrlOpt = None) -> None:
    """Compare the database's schema revision with this version's head (exit 1 when an upgrade is due)."""
    app, shown = _database(root, url)
    current, head, exists = app.schema_status()
    upgrade_needed = exists and current != head
    if c.STATE.json:
        emit_json(
            {
                "url": shown,
                "exists": exists,
                "current": current,
                "head": head,
                "up_to_date": current == head,
                "upgrade_needed": upgrade_needed,
            }
        )
    else:
        console = out()
        console.print(f"database: {escape(shown)}")
        console.print(f"revision: {escape(str(current)) if exists else '(no database yet)'}")
        console.print(f"head:     {escape(str(head))}")
        if not exists:
            console.print("[dim]the service creates it at head on first start[/dim]")
        elif current == head:
            console.print("[green]up to date[/green]")
        else:
            console.print("[yellow]out of date[/yellow]: back up the database, then run `aml db upgrade`")
    if upgrade_needed:
        raise typer.Exit(1)


@command(db_app, "upgrade", options=("json",))
def db_upgrade(root: RootOpt = None, url: DbUrlOpt = None) -> None:
    """Upgrade the database schema to this version's head (stop the service first)."""
    app, shown = _database(root, url)
    before, head, _exists = app.schema_status()
    if before != head:
        app.upgrade_schema()
    after, _, _ = app.schema_status()
    if c.STATE.json:
        emit_json({"url": shown, "before": before, "after": after, "head": head})
        return
    if before == after:
        out().print(f"{escape(shown)} is already at {escape(str(after))}")
    else:
        out().print(f"Upgraded {escape(shown)}: {escape(str(before))} -> {escape(str(after))}")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> float:
    """``90s``, ``30m``, ``24h``, ``7d`` or plain seconds."""
    value, unit = (text[:-1], text[-1]) if text and text[-1] in _UNITS else (text, "s")
    try:
        seconds = float(value) * _UNITS[unit]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a duration like 30m, 24h or 7d", param_hint="--grace") from None
    if seconds < 0:
        raise typer.BadParameter("a duration cannot be negative", param_hint="--grace")
    return seconds


def gc(
    grace: Annotated[str, typer.Option("--grace", metavar="DURATION",
                                       help="Keep unreferenced files touched this recently (uploads in progress).")]
    = "24h",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be removed.")] = False,
    images: Annotated[bool, typer.Option("--images", help="Also remove scoring images no web service runs.")] = False,
) -> None:
    """Remove stored files that no run, snapshot, model or logged image refers to any more (e.g. after
    deleting model versions)."""
    report = c.STATE.client().post("gc", {"grace_seconds": _duration(grace), "dry_run": dry_run, "images": images})
    if c.STATE.json:
        emit_json(report)
        return
    verb = "would remove" if dry_run else "removed"
    out().print(f"{report['stored']} stored file(s), {report['referenced']} in use, {report['recent']} recent: "
                f"{verb} [bold]{report['removed']}[/bold] ({c.size(report['removed_bytes'])})")
    if images:
        out().print(f"scoring images: {verb} [bold]{report['images_removed']}[/bold]"
                    + (f", {report['images_in_use']} kept (a container uses them)" if report["images_in_use"] else ""))


@command(token_app, "create", options=("json",))
def token_create(
    user: Annotated[str, typer.Option("--user", "-u", metavar="USER", help="Whom the token speaks for.")],
    label: Annotated[str, typer.Option("--label", metavar="TEXT", help="What it is for, e.g. a laptop.")] = "",
    root: RootOpt = None,
    url: DbUrlOpt = None,
) -> None:
    """Make a token for USER: they send it as `Authorization: Bearer TOKEN` (or AML_TOKEN) and act with the roles
    USER holds. It is shown once; only its SHA-256 is stored."""
    app, _ = _database(root, url)
    created = app.sharing().create_token(user, label)
    if c.STATE.json:
        emit_json(created.model_dump(mode="json"))
        return
    out().print(f"token {created.id} for [bold]{escape(user)}[/bold] (shown once, keep it secret):")
    print(created.token)


@command(token_app, "list", options=("json",))
def token_list(
    user: Annotated[str | None, typer.Option("--user", "-u", metavar="USER", help="Only this user's.")] = None,
    root: RootOpt = None,
    url: DbUrlOpt = None,
) -> None:
    """List named tokens (never the tokens themselves)."""
    app, _ = _database(root, url)
    tokens = app.sharing().tokens(user)
    if c.STATE.json:
        emit_json({"items": [t.model_dump(mode="json") for t in tokens]})
        return
    for t in tokens:
        state = f"revoked {c.when(t.revoked_at.isoformat())}" if t.revoked_at else "active"
        out().print(f"{t.id}  {escape(t.user)}  {escape(t.label)}  created {c.when(t.created_at.isoformat())}  {state}")


@command(token_app, "revoke", options=("json",))
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id (aml token list).")],
    root: RootOpt = None,
    url: DbUrlOpt = None,
) -> None:
    """Revoke a named token: requests with it are refused from then on."""
    app, _ = _database(root, url)
    revoked = app.sharing().revoke_token(token_id)
    if c.STATE.json:
        emit_json(revoked.model_dump(mode="json"))
        return
    out().print(f"token {revoked.id} of {escape(revoked.user)} revoked")
