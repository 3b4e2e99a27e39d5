"""``aml run download`` (a run's output files) and ``aml snapshot download`` (its source snapshot)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import RunIdArg, emit_json, get_run, out
from jupyter_aml.runtime import api_types as T


def run_download(
    run_id: RunIdArg,
    prefix: Annotated[
        str, typer.Option("--prefix", "-p", metavar="PREFIX", help="Only files under this prefix, e.g. outputs/.")
    ] = "",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="DIR", help="Target folder (default: ./RUN_ID).")
    ] = None,
) -> None:
    """Download a run's files (outputs, logs, images)."""
    from jupyter_aml.errors import NotFound
    from jupyter_aml.runtime.names import run_path_problem

    run = get_run(run_id)
    target = output or Path(run.id)
    names = [n for n in run.get_file_names() if n.startswith(prefix)]
    if not names:
        raise NotFound(
            f"run {run.id!r} has no files" + (f" under {prefix!r}" if prefix else ""),
            hint="list them with `aml run download RUN_ID --json`" if prefix else None,
        )
    # A name stored before run-file paths were validated (' ../x', ' a.txt') cannot be asked for safely:
    # the server trims query strings, so it would answer with another file or refuse. Skip it, keep the rest.
    skipped = [{"path": n, "reason": problem} for n in names if (problem := run_path_problem(n))]
    for item in skipped:
        c.err().print(
            f"[yellow]warning:[/yellow] skipped {escape(repr(item['path']))}: its name {escape(item['reason'])}; "
            "it cannot be downloaded by name (rename it by uploading it again under a valid path)"
        )
    bad = {item["path"] for item in skipped}
    paths = [run.download_file(n, target / n) for n in names if n not in bad]
    if c.STATE.json:
        emit_json(
            {
                "items": [
                    {"path": p.relative_to(target).as_posix(), "local_path": str(p), "size": p.stat().st_size}
                    for p in paths
                ],
                "skipped": skipped,
            }
        )
        return
    console = out()
    for p in paths:
        console.print(escape(str(p)))
    console.print(
        f"[dim]{len(paths)} files, {c.size(sum(p.stat().st_size for p in paths))} into {escape(str(target))}"
        + (f"; {len(skipped)} skipped" if skipped else "")
        + "[/dim]"
    )


def snapshot_download(
    ident: Annotated[str, typer.Argument(metavar="SNAPSHOT_OR_RUN_ID", help="A snapshot id or a run id.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Zip file (default: snapshot-ID.zip).")
    ] = None,
) -> None:
    """Download a snapshot (or a run's snapshot) as a zip file."""
    from jupyter_aml.errors import NotFound

    ws = c.STATE.workspace_obj()
    # Snapshot ids are sha256 hex; anything else is a run id, and a hex string that is no snapshot is tried
    # as a run id too.
    snap: T.Snapshot | None = None
    if re.fullmatch(r"[0-9a-f]{64}", ident):
        with contextlib.suppress(NotFound):
            snap = ws.get_snapshot_info(ident)
    if snap is None:
        try:
            run = ws.get_run(ident)
        except NotFound:
            raise NotFound(
                f"no snapshot or run {ident!r} in workspace {ws.name!r}",
                hint="find ids with `aml run list` and `aml run show RUN_ID`",
            ) from None
        snap = run.get_snapshot_info()  # NotFound when the run has none
    target = ws.download_snapshot(snap["id"], output or Path(f"snapshot-{snap['id'][:12]}.zip"))
    if c.STATE.json:
        emit_json(
            {
                "snapshot_id": snap["id"],
                "file_count": snap.get("file_count"),
                "total_size": snap.get("total_size"),
                "path": str(target),
                "bytes": target.stat().st_size,
            }
        )
        return
    out().print(
        f"Wrote {escape(str(target))} (snapshot {snap['id'][:12]}: {snap.get('file_count')} files, "
        f"{c.size(snap.get('total_size'))})"
    )
