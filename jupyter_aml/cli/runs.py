"""``aml run ...`` and ``aml snapshot ...``."""

from __future__ import annotations

import contextlib
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, out
from jupyter_aml.statuses import TERMINAL_STATUSES

run_app = typer.Typer(help="Submit, list, inspect, follow and cancel runs.", no_args_is_help=True)
snapshot_app = typer.Typer(help="Download the source snapshot of a run.", no_args_is_help=True)

LOG_PAGE = 5000
POLL_SECONDS = 0.5


def _q(value: str) -> str:
    from jupyter_aml.sdk.workspace import _q as quote

    return quote(value)


def _get_run(run_id: str) -> Any:
    """The SDK ``Run`` for an id (the SDK has no ``Run.get(workspace, run_id)`` yet)."""
    from jupyter_aml.sdk.experiment import Experiment
    from jupyter_aml.sdk.run import Run

    ws = c.STATE.workspace_obj()
    details = ws._client.get(ws._path("runs", _q(run_id)))
    return Run(Experiment(ws, details["experiment"]), details["id"], _details=details)


RunIdArg = Annotated[str, typer.Argument(metavar="RUN_ID", help="Run id (see `aml run list`).")]


# -- submit ------------------------------------------------------------------------------------------------


@command(run_app, "submit")
def run_submit(
    positional: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SOURCE_DIR SCRIPT [-- ARGS]",
            help="The folder to snapshot, the script in it, then the script's arguments after `--`. "
            "With --runconfig every positional is a script argument.",
        ),
    ] = None,
    experiment: Annotated[
        str, typer.Option("--experiment", "-e", metavar="NAME", help="Experiment name (created on first use).")
    ] = "",
    compute: Annotated[
        str | None, typer.Option("--compute", "-c", metavar="TARGET", help="Compute target (default: local).")
    ] = None,
    requirements: Annotated[
        Path | None,
        typer.Option(
            "--requirements", "-r", metavar="FILE", help="pip requirements file: run in a managed environment."
        ),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", metavar="KEY=VALUE", help="Environment variable KEY=VALUE (repeatable)."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", metavar="K=V", help="Run tag k=v (repeatable).")
    ] = None,
    runconfig: Annotated[
        Path | None,
        typer.Option("--runconfig", metavar="FILE", help="A saved ScriptRunConfig (*.runconfig.json) to start from."),
    ] = None,
    display_name: Annotated[str, typer.Option("--name", metavar="TEXT", help="Display name of the run.")] = "",
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the end, streaming the logs.")] = False,
    stream: Annotated[
        bool, typer.Option("--stream", help="Same as --wait: stream the logs until the run ends.")
    ] = False,
) -> None:
    """Snapshot SOURCE_DIR and queue SCRIPT on a compute target (Experiment.submit)."""
    from jupyter_aml.sdk.config import ScriptRunConfig
    from jupyter_aml.sdk.environment import Environment
    from jupyter_aml.sdk.experiment import Experiment

    if not experiment:
        raise typer.BadParameter("an experiment name is required", param_hint="--experiment")
    items = list(positional or [])
    if runconfig is not None:
        base = ScriptRunConfig.load(runconfig)
        source, script = base.source_directory, base.script
        arguments = items or base.arguments
        environment = base.environment
        target = compute or base.compute_target
        max_seconds = base.max_run_duration_seconds
    else:
        if len(items) < 2:
            raise typer.BadParameter("give SOURCE_DIR and SCRIPT (or --runconfig FILE)", param_hint="SOURCE_DIR SCRIPT")
        source, script, arguments = items[0], items[1], items[2:]
        environment, target, max_seconds = Environment(), compute or "local", None
    if requirements is not None:
        managed = Environment.from_pip_requirements(environment.name, requirements)
        managed.environment_variables = dict(environment.environment_variables)
        managed.python.interpreter_path = environment.python.interpreter_path
        managed.docker.base_image = environment.docker.base_image
        environment = managed
    environment.environment_variables.update(c.parse_pairs(env, "--env"))
    config = ScriptRunConfig(
        source, script, arguments, compute_target=target, environment=environment, max_run_duration_seconds=max_seconds
    )
    tags = c.parse_pairs(tag, "--tag", allow_bare=True)

    ws = c.STATE.workspace_obj(create=True)  # like the SDK: a workspace is created on first use
    run = Experiment(ws, experiment).submit(config, tags=tags, display_name=display_name, progress=not c.STATE.json)
    upload = getattr(run, "_upload", None)
    details = dict(run._details or {})
    if not c.STATE.json:
        console = out()
        console.print(
            f"Submitted run [bold]{escape(run.id)}[/bold] (#{details.get('number')}) of experiment "
            f"[bold]{escape(experiment)}[/bold] to compute [bold]{escape(config.compute_target)}[/bold]"
        )
        if upload is not None:
            console.print(
                f"snapshot {upload.snapshot_id[:12]}: {upload.file_count} files, {c.size(upload.total_size)}"
                f"; uploaded {upload.uploaded_files} files, {c.size(upload.uploaded_bytes)}"
            )
    if not (wait or stream):
        if c.STATE.json:
            emit_json({"run": details, "upload": _upload_dict(upload)})
        else:
            out().print(f"[dim]follow it with: aml run logs {escape(run.id)} --follow[/dim]")
        return
    from jupyter_aml.sdk.run import ActivityFailedError

    # In JSON mode the streamed log lines go to stderr so that stdout stays one JSON document.
    redirect = contextlib.redirect_stdout(sys.stderr) if c.STATE.json else contextlib.nullcontext()
    try:
        with redirect:
            run.wait_for_completion(show_output=True)
    except ActivityFailedError:
        if c.STATE.json:
            emit_json({"run": run._refresh(), "upload": _upload_dict(upload)})
            c.STATE.json = False  # the error line still goes to stderr, but only one JSON document to stdout
        raise
    except KeyboardInterrupt:
        c.err().print(
            f"[yellow]stopped waiting; run {escape(run.id)} goes on "
            f"(cancel it with `aml run cancel {escape(run.id)}`)[/yellow]"
        )
        raise typer.Exit(130) from None
    if c.STATE.json:
        emit_json({"run": run._refresh(), "upload": _upload_dict(upload)})


def _upload_dict(upload: Any) -> dict[str, Any] | None:
    if upload is None:
        return None
    from dataclasses import asdict

    return asdict(upload)


# -- list / show -------------------------------------------------------------------------------------------


@command(run_app, "list")
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


@command(run_app, "show")
def run_show(run_id: RunIdArg) -> None:
    """Show a run: status, times, config, tags, properties, git and error."""
    run = _get_run(run_id)
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


# -- logs ----------------------------------------------------------------------------------------------------


@command(run_app, "logs")
def run_logs(
    run_id: RunIdArg,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines until the run ends.")] = False,
    stream: Annotated[
        str | None, typer.Option("--stream", metavar="NAME", help="Only this stream (stdout, stderr, ...).")
    ] = None,
) -> None:
    """Print a run's log lines (with --follow, until the run ends)."""
    run = _get_run(run_id)
    client, path = run._client, run._path("logs")
    # The SDK reads logs only inside wait_for_completion(show_output=True); these are its REST calls.

    def page(after: int) -> dict[str, Any]:
        params: dict[str, Any] = {"after": after, "limit": LOG_PAGE}
        if stream:
            params["stream"] = stream
        return dict(client.get(path, params=params))

    def show(lines: list[dict[str, Any]]) -> None:
        for line in lines:
            if c.STATE.json:  # one JSON object per line when following
                sys.stdout.write(_json_line(line))
            else:
                sys.stdout.write(line["text"] + "\n")
        sys.stdout.flush()

    last = 0
    if not follow:
        collected: list[dict[str, Any]] = []
        while True:
            body = page(last)
            collected += body["items"]
            last = body.get("last_id") or last
            if len(body["items"]) < LOG_PAGE:
                break
        if c.STATE.json:
            emit_json({"items": collected, "last_id": last})
        else:
            show(collected)
        return
    try:
        while True:
            status = run.get_status()
            body = page(last)
            show(body["items"])
            last = body.get("last_id") or last
            if len(body["items"]) >= LOG_PAGE:
                continue
            if status in TERMINAL_STATUSES:
                while True:  # lines shipped just before the end
                    body = page(last)
                    show(body["items"])
                    last = body.get("last_id") or last
                    if len(body["items"]) < LOG_PAGE:
                        break
                break
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if not c.STATE.json:
        c.err().print(f"Run {escape(run.id)}: {c.status_text(status)}")


def _json_line(line: dict[str, Any]) -> str:
    import json

    return json.dumps(line, default=str) + "\n"


# -- metrics ---------------------------------------------------------------------------------------------


@command(run_app, "metrics")
def run_metrics(
    run_id: RunIdArg,
    name: Annotated[
        str | None, typer.Option("--name", "-m", metavar="METRIC", help="Print this metric's values.")
    ] = None,
    recursive: Annotated[bool, typer.Option("--recursive", help="Include child runs' metrics.")] = False,
) -> None:
    """A table of a run's metrics (name, kind, count, last, min, max), or one metric's values."""
    from jupyter_aml.errors import NotFound

    run = _get_run(run_id)
    # Run.get_metrics() returns values only; the summaries (kind, count, min, max) are this REST call.
    summaries = run._client.get(run._path("metrics"), params={"recursive": "true" if recursive else "false"})
    if name is None:
        if c.STATE.json:
            emit_json(summaries)
            return
        _summary_table(summaries["items"], recursive)
        return
    matches = [m for m in summaries["items"] if m["name"] == name]
    if not matches:
        known = sorted({m["name"] for m in summaries["items"]})
        raise NotFound(
            f"run {run.id!r} has no metric {name!r}",
            hint=("its metrics: " + ", ".join(known)) if known else "the run has logged no metrics",
        )
    ws = run.experiment.workspace
    histories = [
        {"run_id": m["run_id"], **ws._client.get(ws._path("runs", _q(m["run_id"]), "metrics", _q(name)))}
        for m in matches
    ]
    if c.STATE.json:
        if recursive:
            emit_json({"items": histories})
        else:
            body = dict(histories[0])
            body.pop("run_id")
            emit_json(body)
        return
    for history in histories:
        _print_history(history, show_run=recursive)


def _summary_table(items: list[dict[str, Any]], recursive: bool) -> None:
    console = out()
    if not items:
        console.print("[dim]no metrics[/dim]")
        return
    columns = (["run"] if recursive else []) + ["name", "kind", "count", "last", "min", "max"]
    table = Table(*columns, box=None, header_style="bold")
    for m in items:
        cells = [
            escape(m["name"]),
            m["kind"],
            str(m["count"]),
            escape(c.number(m.get("last_value"))),
            c.number(m.get("min")),
            c.number(m.get("max")),
        ]
        table.add_row(*([escape(m["run_id"])] if recursive else []), *cells)
    console.print(table)


def _print_history(history: dict[str, Any], *, show_run: bool) -> None:
    console = out()
    title = f"{history['name']} ({history['kind']})" + (f" of run {history['run_id']}" if show_run else "")
    console.print(f"[bold]{escape(title)}[/bold]")
    values = history.get("values") or []
    if history["kind"] == "scalar":
        table = Table("step", "value", box=None, header_style="bold")
        for step, value in zip(history.get("steps") or [], values, strict=False):
            table.add_row(c.number(int(step) if float(step).is_integer() else step), c.number(value))
        console.print(table)
        if history.get("downsampled"):
            console.print(f"[dim]downsampled from {history.get('total')} points[/dim]")
        return
    if history["kind"] == "row" and values and all(isinstance(v, dict) for v in values):
        columns = list(dict.fromkeys(k for v in values for k in v))
        table = Table(*columns, box=None, header_style="bold")
        for v in values:
            table.add_row(*(escape(c.number(v.get(col))) for col in columns))
        console.print(table)
        return
    if history["kind"] == "table" and values and isinstance(values[-1], dict):
        data = values[-1]
        columns = list(data)
        table = Table(*columns, box=None, header_style="bold")
        for i in range(max((len(v) for v in data.values() if isinstance(v, list)), default=0)):
            table.add_row(*(escape(c.number(data[col][i] if i < len(data[col]) else None)) for col in columns))
        console.print(table)
        return
    for value in values:
        console.print(escape(c.number(value)), soft_wrap=True)


# -- cancel / download --------------------------------------------------------------------------------------


@command(run_app, "cancel")
def run_cancel(run_id: RunIdArg) -> None:
    """Cancel a run (its whole process tree)."""
    run = _get_run(run_id)
    run.cancel()
    if c.STATE.json:
        emit_json(run._details)
        return
    out().print(f"Run {escape(run.id)}: {c.status_text(run._details['status'])}")


@command(run_app, "download")
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

    run = _get_run(run_id)
    target = output or Path(run.id)
    names = [n for n in run.get_file_names() if n.startswith(prefix)]
    if not names:
        raise NotFound(
            f"run {run.id!r} has no files" + (f" under {prefix!r}" if prefix else ""),
            hint="list them with `aml run download RUN_ID --json`" if prefix else None,
        )
    paths = run.download_files(prefix=prefix, output_directory=target)
    if c.STATE.json:
        emit_json(
            {
                "items": [
                    {"path": p.relative_to(target).as_posix(), "local_path": str(p), "size": p.stat().st_size}
                    for p in paths
                ]
            }
        )
        return
    console = out()
    for p in paths:
        console.print(escape(str(p)))
    console.print(
        f"[dim]{len(paths)} files, {c.size(sum(p.stat().st_size for p in paths))} into {escape(str(target))}[/dim]"
    )


# -- snapshots ---------------------------------------------------------------------------------------------


@command(snapshot_app, "download")
def snapshot_download(
    ident: Annotated[str, typer.Argument(metavar="SNAPSHOT_OR_RUN_ID", help="A snapshot id or a run id.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Zip file (default: snapshot-ID.zip).")
    ] = None,
) -> None:
    """Download a snapshot (or a run's snapshot) as a zip file."""
    from jupyter_aml.errors import NotFound

    ws = c.STATE.workspace_obj()
    client = ws._client
    # No SDK call for snapshots yet: these are the REST calls. Snapshot ids are sha256 hex; anything else is
    # a run id, and a hex string that is no snapshot is tried as a run id too.
    snap = None
    if re.fullmatch(r"[0-9a-f]{64}", ident):
        with contextlib.suppress(NotFound):
            snap = client.get(ws._path("snapshots", ident))
    if snap is None:
        try:
            run = client.get(ws._path("runs", _q(ident)))
        except NotFound:
            raise NotFound(
                f"no snapshot or run {ident!r} in workspace {ws.name!r}",
                hint="find ids with `aml run list` and `aml run show RUN_ID`",
            ) from None
        if not run.get("snapshot_id"):
            raise NotFound(
                f"run {ident!r} has no snapshot",
                hint="interactive runs have one only with start_logging(snapshot_directory=...)",
            )
        snap = client.get(ws._path("snapshots", run["snapshot_id"]))
    target = output or Path(f"snapshot-{snap['id'][:12]}.zip")
    if target.is_dir():
        target = target / f"snapshot-{snap['id'][:12]}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    written = client.stream_download(ws._path("snapshots", snap["id"], "zip"), target)
    if c.STATE.json:
        emit_json(
            {
                "snapshot_id": snap["id"],
                "file_count": snap.get("file_count"),
                "total_size": snap.get("total_size"),
                "path": str(target),
                "bytes": written,
            }
        )
        return
    out().print(
        f"Wrote {escape(str(target))} (snapshot {snap['id'][:12]}: {snap.get('file_count')} files, "
        f"{c.size(snap.get('total_size'))})"
    )
