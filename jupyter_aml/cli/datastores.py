"""``aml datastore register|list|show|upload|download|delete``: the workspace's datastores from the command line.

A secret (an S3 secret key, an Azure account key or SAS token) is never an argument or an option of its own (it
would land in the shell's history and in ``ps``): ``register`` reads it from ``--secret-file PATH``, from standard
input when that is a pipe (``--secret-file -`` says so explicitly), or else from a prompt that does not echo. No
command prints a credential.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, out
from jupyter_aml.sdk.datastore import AbstractDatastore, Datastore

datastore_app = typer.Typer(help="Register, list, show and delete datastores; upload and download their files.",
                            no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The datastore's name (letters, digits, underscores).")]
KINDS = ("local", "s3", "azure-blob")


def _read_secret(secret_file: str | None, what: str) -> str:
    if secret_file == "-" or (secret_file is None and not sys.stdin.isatty()):
        text = sys.stdin.read()
    elif secret_file is not None:
        path = Path(secret_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc.__class__.__name__}",
                                     param_hint="--secret-file") from None
    else:
        prompted: str = typer.prompt(what, hide_input=True, err=True)
        return prompted
    return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text


def _row(ds: AbstractDatastore) -> dict[str, Any]:
    record = ds.get_details()
    return {k: record.get(k) for k in ("name", "kind", "datastore_type", "is_default", "location",
                                       "has_credentials", "description", "created_by", "created_at")}


@command(datastore_app, "register")
def datastore_register(
    name: NameArg,
    kind: Annotated[str, typer.Option("--kind", "-k", help="local (a folder on the service's machine), s3 or "
                                      "azure-blob.")] = "local",
    path: Annotated[str | None, typer.Option("--path", help="local: the absolute folder.")] = None,
    bucket: Annotated[str | None, typer.Option("--bucket", help="s3: the bucket's name.")] = None,
    prefix: Annotated[str | None, typer.Option("--prefix", help="s3: a folder inside the bucket.")] = None,
    endpoint_url: Annotated[str | None, typer.Option("--endpoint-url", help="s3: the server (MinIO, Ceph, ...); "
                                                     "AWS when left out.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="s3: the bucket's region.")] = None,
    access_key_id: Annotated[str | None, typer.Option("--access-key-id", help="s3: the access key id; the secret "
                                                      "key is read from --secret-file, a pipe or a prompt.")] = None,
    container: Annotated[str | None, typer.Option("--container", help="azure-blob: the container.")] = None,
    account: Annotated[str | None, typer.Option("--account", help="azure-blob: the storage account.")] = None,
    sas: Annotated[bool, typer.Option("--sas", help="azure-blob: the secret read is a SAS token, not the account "
                                      "key.")] = False,
    secret_file: Annotated[str | None, typer.Option(
        "--secret-file", "-f", metavar="PATH", help="Read the secret from this file ('-': standard input). Without "
        "it: standard input when piped, else a prompt that does not echo.")] = None,
    anonymous: Annotated[bool, typer.Option("--anonymous", help="No credentials (a public bucket or container).")
                         ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a datastore of this name.")] = False,
    create: Annotated[bool, typer.Option("--create", help="Create the folder or bucket if it is missing.")] = False,
    skip_validation: Annotated[bool, typer.Option("--skip-validation", help="Do not list the store first.")
                               ] = False,
) -> None:
    """Register a datastore; its credentials go to the workspace's key vault (never printed)."""
    if kind not in KINDS:
        raise typer.BadParameter(f"{kind!r} is not one of {', '.join(KINDS)}", param_hint="--kind")
    given = {"--path": path, "--bucket": bucket, "--prefix": prefix, "--endpoint-url": endpoint_url,
             "--region": region, "--access-key-id": access_key_id, "--container": container, "--account": account}
    allowed = {"local": {"--path"}, "s3": {"--bucket", "--prefix", "--endpoint-url", "--region", "--access-key-id"},
               "azure-blob": {"--container", "--account"}}[kind]
    extra = sorted(k for k, v in given.items() if v is not None and k not in allowed)
    if extra:
        raise typer.BadParameter(f"{', '.join(extra)} do not apply to --kind {kind}")
    ws = c.STATE.workspace_obj()
    if kind == "local":
        if path is None:
            raise typer.BadParameter("a local datastore needs --path", param_hint="--path")
        ds = Datastore.register_local(ws, name, str(Path(path).expanduser().absolute()), overwrite=overwrite,
                                      create_if_not_exists=create)
    elif kind == "s3":
        if bucket is None:
            raise typer.BadParameter("an s3 datastore needs --bucket", param_hint="--bucket")
        if access_key_id is None and not anonymous:
            raise typer.BadParameter("give --access-key-id (the secret key is then read), or --anonymous")
        secret = None if anonymous else _read_secret(secret_file, "Secret access key")
        ds = Datastore.register_s3(ws, name, bucket, access_key_id=access_key_id, secret_access_key=secret,
                                   endpoint_url=endpoint_url, region=region, prefix=prefix, overwrite=overwrite,
                                   create_if_not_exists=create, skip_validation=skip_validation)
    else:
        if container is None or account is None:
            raise typer.BadParameter("an azure-blob datastore needs --container and --account")
        key = None if anonymous else _read_secret(secret_file, "SAS token" if sas else "Account key")
        ds = Datastore.register_azure_blob_container(
            ws, name, container, account, sas_token=key if sas else None, account_key=None if sas else key,
            overwrite=overwrite, create_if_not_exists=create, skip_validation=skip_validation)
    if c.STATE.json:
        emit_json(_row(ds))
        return
    out().print(f"datastore [bold]{escape(ds.name)}[/bold] ({escape(ds.datastore_type)}, "
                f"{escape(ds.location)}) registered in workspace "
                f"{escape(c.STATE.workspace_name())}")


@command(datastore_app, "list")
def datastore_list() -> None:
    """The workspace's datastores (workspaceblobstore among them) and which is the default."""
    items = Datastore.list(c.STATE.workspace_obj())
    if c.STATE.json:
        emit_json({"items": [_row(d) for d in items]})
        return
    table = Table("name", "type", "location", "default", box=None, header_style="bold")
    for ds in items:
        table.add_row(escape(ds.name), escape(ds.datastore_type), escape(ds.location),
                      "*" if ds.is_default else "")
    out().print(table)


@command(datastore_app, "show")
def datastore_show(name: NameArg) -> None:
    """A datastore: its kind and where it is (never its credentials)."""
    ds = Datastore.get(c.STATE.workspace_obj(), name)
    row = ds.get_details()
    if c.STATE.json:
        emit_json(row)
        return
    for key, value in row.items():
        out().print(f"{key}: {escape(str(value))}")


@command(datastore_app, "upload")
def datastore_upload(
    name: NameArg,
    src: Annotated[Path, typer.Argument(metavar="SRC", help="A folder (its files, recursively) or a file.")],
    target: Annotated[str | None, typer.Option("--target", "-t", help="The folder inside the datastore.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace files that are there.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Upload a folder's files or one file into the datastore."""
    ds = Datastore.get(c.STATE.workspace_obj(), name)
    if src.is_dir():
        ref = ds.upload(str(src), target_path=target, overwrite=overwrite, show_progress=progress and not c.STATE.json)
    else:
        ref = ds.upload_files([str(src)], target_path=target, overwrite=overwrite,
                              show_progress=progress and not c.STATE.json)
    if c.STATE.json:
        emit_json({"datastore": ds.name, "target": ref.path_on_datastore or ""})
        return
    out().print(f"uploaded {escape(str(src))} to {escape(ds.name)}/{escape(ref.path_on_datastore or '')}")


@command(datastore_app, "download")
def datastore_download(
    name: NameArg,
    dest: Annotated[Path, typer.Argument(metavar="DEST", help="The local folder to download into.")],
    prefix: Annotated[str | None, typer.Option("--prefix", "-p", help="A folder, file, glob or name start; all "
                                               "files when left out.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace local files that are there.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Download the datastore's files (under --prefix), keeping their paths."""
    ds = Datastore.get(c.STATE.workspace_obj(), name)
    count = ds.download(str(dest), prefix=prefix, overwrite=overwrite, show_progress=progress and not c.STATE.json)
    if c.STATE.json:
        emit_json({"datastore": ds.name, "downloaded": count})
        return
    out().print(f"downloaded {count} file(s) from {escape(ds.name)} to {escape(str(dest))}")


@command(datastore_app, "delete")
def datastore_delete(name: NameArg) -> None:
    """Unregister a datastore: its record and credentials go, its files stay."""
    Datastore.get(c.STATE.workspace_obj(), name).unregister()
    if c.STATE.json:
        emit_json({"name": name, "deleted": True})
        return
    out().print(f"datastore {escape(name)} unregistered from workspace {escape(c.STATE.workspace_name())} "
                "(its files stay)")
