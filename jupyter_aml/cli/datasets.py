"""``aml dataset register|list|show|download|profile``: registered datasets from the command line (through the
SDK, as every face)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, out

dataset_app = typer.Typer(help="Register, list, show, download and profile datasets.", no_args_is_help=True)

DatasetRef = Annotated[str, typer.Argument(metavar="NAME[:VERSION]", help="A dataset (default: its latest version).")]


def _dataset(ref: str) -> Any:
    from jupyter_aml.sdk.dataset import Dataset

    name, _, version = ref.rpartition(":") if ":" in ref else (ref, "", "")
    if version and not version.isdigit():
        raise typer.BadParameter(f"{ref!r} is not NAME or NAME:VERSION", param_hint="NAME[:VERSION]")
    return Dataset.get_by_name(c.STATE.workspace_obj(), name, version=int(version) if version else "latest")


def _details(ds: Any) -> dict[str, Any]:
    return {"id": ds.id, "name": ds.name, "version": ds.version, "kind": ds.definition["kind"],
            "description": ds.description, "tags": ds.tags, "definition": ds.definition}


def _paths(ds: Any) -> str:
    return ", ".join(p.get("url") or f"{p['datastore']}:{p.get('path', '')}" for p in ds.definition["paths"])


@command(dataset_app, "register")
def dataset_register(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The dataset's name.")],
    path: Annotated[list[str], typer.Option("--path", "-p", metavar="GLOB|URL",
                                            help="A path on --datastore (globs, '**' across folders) or an "
                                                 "http(s) URL (repeatable).")],
    datastore: Annotated[str | None, typer.Option("--datastore", "-s", metavar="NAME",
                                                  help="The datastore the paths are on (default: the "
                                                       "workspace's default datastore).")] = None,
    kind: Annotated[str, typer.Option("--kind", "-k", metavar="file|tabular")] = "tabular",
    file_format: Annotated[str, typer.Option("--format", "-f", metavar="delimited|parquet|json_lines",
                                             help="Tabular: how the files are read.")] = "delimited",
    separator: Annotated[str, typer.Option("--separator", metavar="CHAR", help="Delimited files.")] = ",",
    no_header: Annotated[bool, typer.Option("--no-header", help="Delimited files have no header row.")] = False,
    description: Annotated[str, typer.Option("--description", "-d", metavar="TEXT")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", metavar="K=V", help="Tag (repeatable).")] = None,
    new_version: Annotated[bool, typer.Option("--new-version", help="Register a new version of a registered "
                                                                    "name (v1's create_new_version).")] = False,
) -> None:
    """Register files (kind file) or tables (kind tabular) as the first or next version of a dataset."""
    from jupyter_aml.sdk.dataset import Dataset
    from jupyter_aml.sdk.datastore import Datastore

    ws = c.STATE.workspace_obj()
    store = None
    if any(not p.startswith(("http://", "https://")) for p in path):
        store = Datastore.get(ws, datastore) if datastore else ws.get_default_datastore()
    paths: list[Any] = [p if p.startswith(("http://", "https://")) else (store, p) for p in path]
    if kind == "file":
        ds: Any = Dataset.File.from_files(path=paths)
    elif kind != "tabular":
        raise typer.BadParameter(f"{kind!r} is not file or tabular", param_hint="--kind")
    elif file_format == "delimited":
        ds = Dataset.Tabular.from_delimited_files(path=paths, separator=separator, header=not no_header)
    elif file_format == "parquet":
        ds = Dataset.Tabular.from_parquet_files(path=paths)
    elif file_format == "json_lines":
        ds = Dataset.Tabular.from_json_lines_files(path=paths)
    else:
        raise typer.BadParameter(f"{file_format!r} is not delimited, parquet or json_lines", param_hint="--format")
    made = ds.register(ws, name, description=description, tags=c.parse_pairs(tag, "--tag", allow_bare=True),
                       create_new_version=new_version)
    if c.STATE.json:
        emit_json(_details(made))
        return
    out().print(f"Registered [bold]{escape(made.name)}:{made.version}[/bold] ({escape(_paths(made))})")


@command(dataset_app, "list")
def dataset_list() -> None:
    """The latest version of every registered dataset."""
    datasets = c.STATE.workspace_obj().datasets
    if c.STATE.json:
        emit_json({"items": [_details(d) for d in datasets.values()]})
        return
    if not datasets:
        out().print("[dim]no datasets[/dim]")
        return
    table = Table("name", "version", "kind", "paths", "description", box=None, header_style="bold")
    for d in datasets.values():
        table.add_row(escape(d.name or ""), str(d.version), d.definition["kind"], escape(_paths(d)),
                      escape(d.description or ""))
    out().print(table)


@command(dataset_app, "show")
def dataset_show(
    ref: DatasetRef,
    rows: Annotated[int, typer.Option("--rows", "-n", metavar="N", help="Preview rows (0: none).")] = 10,
) -> None:
    """A dataset version's definition and a preview of its first rows (or files), read by the service."""
    ds = _dataset(ref)
    preview = ds.preview(rows) if rows > 0 else {"columns": [], "rows": []}
    if c.STATE.json:
        emit_json({**_details(ds), "preview": preview})
        return
    console = out()
    console.print(f"[bold]{escape(ds.name)}:{ds.version}[/bold]  {ds.definition['kind']}  "
                  f"{escape(ds.description or '')}")
    console.print(f"id: {ds.id}")
    console.print(f"paths: {escape(_paths(ds))}")
    if ds.tags:
        console.print("tags: " + escape(", ".join(f"{k}={v}" for k, v in ds.tags.items())))
    if preview["columns"]:
        table = Table(*[f"{col['name']} ({col['type']})" for col in preview["columns"]], box=None,
                      header_style="bold")
        for row in preview["rows"]:
            table.add_row(*[escape("" if v is None else str(v)) for v in row])
        console.print(table)


@command(dataset_app, "download")
def dataset_download(
    ref: DatasetRef,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="DIR", help="Target folder.")] = Path("."),
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace files already there.")] = False,
) -> None:
    """Download a file dataset's files (a tabular dataset: the files it reads)."""
    from jupyter_aml.sdk.dataset import FileDataset

    ds = _dataset(ref)
    files = ds if isinstance(ds, FileDataset) else FileDataset(
        {**ds.definition, "kind": "file", "reader": None, "transformations": []}, ds.workspace)
    written = files.download(target_path=output, overwrite=overwrite)
    if c.STATE.json:
        emit_json({"files": written})
        return
    out().print(f"Downloaded {len(written)} file(s) into {escape(str(output))}")


@command(dataset_app, "profile")
def dataset_profile(ref: DatasetRef) -> None:
    """A tabular dataset version's profile: rows, and per column its type, missing values, min, max, mean."""
    profile = _dataset(ref).get_profile()
    columns = list(profile.columns.values())
    if c.STATE.json:
        emit_json({"row_count": profile.row_count, "column_count": profile.column_count,
                   "columns": [vars(col) for col in columns]})
        return
    console = out()
    console.print(f"{profile.row_count} rows, {profile.column_count} columns")
    table = Table("column", "type", "missing", "min", "max", "mean", box=None, header_style="bold")
    for col in columns:
        table.add_row(escape(col.column_name), col.type, str(col.missing_count),
                      *[escape("" if v is None else c.number(v)) for v in (col.min, col.max, col.mean)])
    console.print(table)
