"""``aml secret set|list|delete``: the workspace's key vault from the command line.

A value is never an argument or an option of its own (it would land in the shell's history and in ``ps``):
``set`` reads it from ``--value-file PATH``, from standard input when that is a pipe or a file
(``--value-file -`` says so explicitly), or else from a prompt that does not echo. No command prints a
value: reading one is for runs (``run.get_secret``) and the SDK (``kv.get_secret``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, out

secret_app = typer.Typer(help="Set, list (names only) and delete the workspace's secrets (its key vault).",
                         no_args_is_help=True)

SecretArg = Annotated[str, typer.Argument(metavar="NAME", help="The secret's name: 1-127 letters, digits and "
                                          "dashes, as in Azure Key Vault.")]


def _strip_newline(text: str) -> str:
    """One trailing line end goes (``echo value |`` and editors add it); anything else is the value."""
    for end in ("\r\n", "\n"):
        if text.endswith(end):
            return text[: -len(end)]
    return text


def _read_value(value_file: str | None) -> str:
    if value_file == "-" or (value_file is None and not sys.stdin.isatty()):
        return _strip_newline(sys.stdin.read())
    if value_file is not None:
        path = Path(value_file).expanduser()
        try:
            return _strip_newline(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc.__class__.__name__}",
                                     param_hint="--value-file") from None
    value: str = typer.prompt("Value", hide_input=True, confirmation_prompt=True, err=True)
    return value


@command(secret_app, "set")
def secret_set(
    name: SecretArg,
    value_file: Annotated[str | None, typer.Option(
        "--value-file", "-f", metavar="PATH",
        help="Read the value from this file ('-': standard input). Without it: standard input when piped, else "
        "a prompt that does not echo. One trailing newline is dropped.")] = None,
) -> None:
    """Create a secret or replace its value."""
    c.STATE.workspace_obj().get_default_keyvault().set_secret(name, _read_value(value_file))
    if c.STATE.json:
        emit_json({"name": name, "set": True})
        return
    out().print(f"secret [bold]{escape(name)}[/bold] set in workspace {escape(c.STATE.workspace_name())}")


@command(secret_app, "list")
def secret_list() -> None:
    """The names of the workspace's secrets (never their values)."""
    names = [s["name"] for s in c.STATE.workspace_obj().get_default_keyvault().list_secrets()]
    if c.STATE.json:
        emit_json({"items": [{"name": n} for n in names]})
        return
    if not names:
        out().print(f"no secrets in workspace {escape(c.STATE.workspace_name())}")
        return
    table = Table("name", box=None, header_style="bold")
    for name in names:
        table.add_row(escape(name))
    out().print(table)


@command(secret_app, "delete")
def secret_delete(name: SecretArg) -> None:
    """Delete a secret."""
    c.STATE.workspace_obj().get_default_keyvault().delete_secret(name)
    if c.STATE.json:
        emit_json({"name": name, "deleted": True})
        return
    out().print(f"secret {escape(name)} deleted from workspace {escape(c.STATE.workspace_name())}")
