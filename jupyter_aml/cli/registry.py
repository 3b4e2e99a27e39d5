"""``aml model ...`` (the model registry) and ``aml endpoint ...`` (web services)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, out
from jupyter_aml.run_names import run_number

model_app = typer.Typer(help="Register, list, show, download and delete models.", no_args_is_help=True)
endpoint_app = typer.Typer(help="Deploy models as web services; score, inspect, update and delete them.",
                           no_args_is_help=True)

ModelRef = Annotated[str, typer.Argument(metavar="NAME[:VERSION]", help="A model (default: its latest version).")]
ServiceArg = Annotated[str, typer.Argument(metavar="NAME", help="Web service name (see `aml endpoint list`).")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", "-t", metavar="K=V", help="Tag k=v (repeatable).")]
ModelsOpt = Annotated[list[str] | None, typer.Option("--model", "-m", metavar="NAME[:VERSION]",
                                                     help="A model to deploy (repeatable).")]


def _model(ref: str) -> Any:
    from jupyter_aml.sdk.model import Model

    name, _, version = ref.rpartition(":") if ":" in ref else (ref, "", "")
    if version and not version.isdigit():
        raise typer.BadParameter(f"{ref!r} is not NAME or NAME:VERSION", param_hint="NAME[:VERSION]")
    return Model(c.STATE.workspace_obj(), name, version=int(version) if version else None)


def _model_run(m: dict[str, Any]) -> str:
    """The run a model came from as the studio names it: "train #4" (``aml model show`` adds its id)."""
    if not m.get("run_id"):
        return ""
    if not m.get("run_number"):
        return str(m["run_id"])
    return f"{m.get('experiment') or ''} {run_number({'display_number': m['run_number']})}".strip()


def _model_row(table: Table, m: dict[str, Any]) -> None:
    tags = ", ".join(f"{k}={v}" for k, v in m.get("tags", {}).items())
    table.add_row(escape(m["name"]), str(m["version"]), escape(m.get("path") or ""), c.size(m.get("total_size")),
                  escape(_model_run(m)), escape(tags), escape(", ".join(m.get("deployments") or [])),
                  c.when(m.get("created_at")))


# -- models ----------------------------------------------------------------------------------------------------


@command(model_app, "register")
def model_register(
    path: Annotated[str, typer.Argument(metavar="PATH", help="A model file or folder (with --run: a path of the "
                                                             "run's files, e.g. outputs/model.pkl).")],
    name: Annotated[str, typer.Option("--name", "-n", metavar="NAME", help="Model name.")],
    run_id: Annotated[str | None, typer.Option(
        "--run", metavar="RUN_ID", help="Register the run's files by reference, with the run as lineage.")] = None,
    tag: TagOpt = None,
    prop: Annotated[list[str] | None, typer.Option("--property", "-p", metavar="K=V",
                                                   help="Property k=v (repeatable; add-only).")] = None,
    description: Annotated[str, typer.Option("--description", "-d", metavar="TEXT")] = "",
    framework: Annotated[str | None, typer.Option("--framework", metavar="NAME", help="e.g. ScikitLearn")] = None,
    framework_version: Annotated[str | None, typer.Option("--framework-version", metavar="VERSION")] = None,
) -> None:
    """Register a file or folder (or a run's output) as the next version of a model."""
    from jupyter_aml.sdk.model import Model

    ws = c.STATE.workspace_obj(create=True)
    tags, props = c.parse_pairs(tag, "--tag", allow_bare=True), c.parse_pairs(prop, "--property")
    extra: dict[str, Any] = {"tags": tags, "properties": props, "description": description,
                             "model_framework": framework, "model_framework_version": framework_version}
    if run_id:
        model = ws.get_run(run_id).register_model(name, model_path=path, **extra)
    else:
        model = Model.register(ws, path, name, **extra)
    if c.STATE.json:
        emit_json(model.get_details())
        return
    out().print(f"Registered [bold]{escape(model.id)}[/bold] ({model.get_details()['file_count']} file(s))")


@command(model_app, "list")
def model_list(
    name: Annotated[str | None, typer.Option("--name", "-n", metavar="NAME", help="Only this model.")] = None,
    tag: TagOpt = None,
    prop: Annotated[list[str] | None, typer.Option("--property", "-p", metavar="K[=V]")] = None,
    run_id: Annotated[str | None, typer.Option("--run", metavar="RUN_ID", help="Only models from this run.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Only the latest version of each model.")] = False,
) -> None:
    """List and search models (by name, tags, properties, run)."""
    from jupyter_aml.sdk.model import Model

    models = Model.list(c.STATE.workspace_obj(), name=name, tags=list(tag or []), properties=list(prop or []),
                        run_id=run_id, latest=latest)
    if c.STATE.json:
        emit_json({"items": [m.get_details() for m in models]})
        return
    if not models:
        out().print("[dim]no models[/dim]")
        return
    table = Table("name", "version", "path", "size", "run", "tags", "deployed in", "created", box=None,
                  header_style="bold")
    for m in models:
        _model_row(table, m.get_details())
    out().print(table)


@command(model_app, "show")
def model_show(ref: ModelRef) -> None:
    """Show a model version with its files, lineage and deployments."""
    model = _model(ref)
    details = model.get_details()
    files = model.get_files()
    if c.STATE.json:
        emit_json({**details, "files": files})
        return
    console = out()
    console.print(f"[bold]{escape(model.id)}[/bold]  {escape(details.get('description') or '')}")
    if details.get("run_id"):
        shown = run_number({"display_number": details.get("run_number")})
        details = {**details, "run_id": f"{shown} {details['run_id']}".strip()}
    for label, key in (("path", "path"), ("framework", "framework"), ("run", "run_id"), ("experiment", "experiment"),
                       ("created", "created_at"), ("by", "created_by")):
        value = details.get(key)
        if value:
            console.print(f"{label}: {escape(c.when(value) if key == 'created_at' else str(value))}")
    for label, key in (("tags", "tags"), ("properties", "properties")):
        if details.get(key):
            console.print(f"{label}: " + escape(", ".join(f"{k}={v}" for k, v in details[key].items())))
    if details.get("deployments"):
        console.print("deployed in: " + escape(", ".join(details["deployments"])))
    table = Table("file", "size", "sha256", box=None, header_style="bold")
    for f in files:
        table.add_row(escape(f["path"]), c.size(f["size"]), f["sha256"][:12])
    console.print(table)


@command(model_app, "download")
def model_download(
    ref: ModelRef,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="DIR", help="Target folder.")] = Path("."),
    exist_ok: Annotated[bool, typer.Option("--exist-ok", help="Overwrite existing files.")] = False,
) -> None:
    """Download a model version's files."""
    path = _model(ref).download(output, exist_ok=exist_ok)
    if c.STATE.json:
        emit_json({"path": path})
        return
    out().print(f"Downloaded to {escape(path)}")


def _samples(files: list[Path]) -> list[str]:
    """Request bodies from ``--sample`` files: a file whose lines are each a JSON value gives one body per line
    (JSON Lines); any other file is one body."""
    bodies: list[str] = []
    for file in files:
        text = file.read_text()
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            parsed = [json.loads(line) for line in lines] if len(lines) > 1 else None
        except ValueError:
            parsed = None
        bodies.extend(lines if parsed is not None else [text])
    return bodies


@command(model_app, "profile")
def model_profile(
    ref: ModelRef,
    sample: Annotated[list[Path], typer.Option("--sample", metavar="FILE", exists=True, dir_okay=False,
                                               help="Sample request bodies: JSON Lines (one per line) or one "
                                                    "body per file (repeatable).")],
    entry_script: Annotated[str, typer.Option("--entry-script", "-e", metavar="FILE",
                                              help="The scoring script (init() and run(raw_data)).")] = "score.py",
    source_directory: Annotated[Path, typer.Option("--source-directory", "-s", metavar="DIR",
                                                   help="Folder holding the scoring code.")] = Path("."),
    environment: Annotated[str | None, typer.Option("--environment", metavar="NAME[:VERSION]",
                                                    help="A registered environment (default: this Python).")] = None,
    name: Annotated[str | None, typer.Option("--name", metavar="NAME", help="The profile's name "
                                                                           "(default: MODEL-VERSION).")] = None,
    requests: Annotated[int, typer.Option("--requests", metavar="N", help="Requests of the load test.")] = 200,
    concurrency: Annotated[int, typer.Option("--concurrency", metavar="N", help="Requests in flight.")] = 2,
    max_seconds: Annotated[float, typer.Option("--max-seconds", metavar="S", help="Stop the load early.")] = 30.0,
) -> None:
    """Profile a model (Model.profile): load-test a temporary replica, recommend cpu and memory_in_gb."""
    from jupyter_aml.sdk.model import Model

    model = _model(ref)
    profile = Model.profile(c.STATE.workspace_obj(), name or f"{model.name}-{model.version}", [model],
                            _inference(entry_script, source_directory, environment), sample_requests=_samples(sample),
                            requests=requests, concurrency=concurrency, max_seconds=max_seconds)
    profile.wait_for_completion(show_output=not c.STATE.json)
    details = profile.get_details()
    if c.STATE.json:
        emit_json(details)
    if details["state"] != "Succeeded":
        raise typer.Exit(1)


@command(model_app, "delete")
def model_delete(
    ref: Annotated[str, typer.Argument(metavar="NAME:VERSION", help="The version to delete.")],
) -> None:
    """Delete a model version (refused while a web service uses it)."""
    if ":" not in ref:
        raise typer.BadParameter("name the version to delete: NAME:VERSION", param_hint="NAME:VERSION")
    model = _model(ref)
    model.delete()
    if c.STATE.json:
        emit_json({"deleted": model.id})
        return
    out().print(f"Deleted {escape(model.id)}")


# -- endpoints -------------------------------------------------------------------------------------------------


def _service(name: str) -> Any:
    from jupyter_aml.sdk.webservice import Webservice

    return Webservice(c.STATE.workspace_obj(), name)


def _inference(entry_script: str | None, source_directory: Path | None, environment: str | None) -> Any:
    from jupyter_aml.sdk.environment import Environment
    from jupyter_aml.sdk.webservice import InferenceConfig

    if not entry_script:
        return None
    env = None
    if environment:
        name, _, version = environment.partition(":")
        env = Environment.get(c.STATE.workspace_obj(), name, version or None)
    return InferenceConfig(entry_script, source_directory=source_directory, environment=env)


def _wait(service: Any, wait: bool) -> None:
    if wait:
        service.wait_for_deployment(show_output=not c.STATE.json)
    _print_service(service.reload())


def _print_service(service: Any) -> None:
    details = service.get_details()
    if c.STATE.json:
        emit_json(details)
        return
    console = out()
    console.print(f"[bold]{escape(details['name'])}[/bold]  {escape(details['state'])}  revision "
                  f"{details['revision']}  models {escape(', '.join(details['models']))}")
    console.print(f"scoring URI: {escape(details.get('scoring_uri') or '')}  ({details['compute_type']}, "
                  f"auth {'on' if details.get('auth_enabled') else 'off'})")
    operation = details.get("operation") or {}
    if operation:
        error = (operation.get("error") or {}).get("message")
        said = f": {escape(error)}" if error else ""
        console.print(f"last {operation.get('kind')}: {operation.get('status')}{said}")
    if details.get("replicas"):
        table = Table("replica", "state", "pid", "restarts", "served", "in flight", box=None, header_style="bold")
        for r in details["replicas"]:
            table.add_row(str(r["index"]), r["state"], str(r.get("pid") or ""), str(r["restarts"]), str(r["served"]),
                          str(r["inflight"]))
        console.print(table)


@command(endpoint_app, "deploy")
def endpoint_deploy(
    name: ServiceArg,
    models: ModelsOpt = None,
    entry_script: Annotated[str, typer.Option("--entry-script", "-e", metavar="FILE",
                                              help="The scoring script (init() and run(raw_data)).")] = "score.py",
    source_directory: Annotated[Path, typer.Option("--source-directory", "-s", metavar="DIR",
                                                   help="Folder holding the scoring code.")] = Path("."),
    environment: Annotated[str | None, typer.Option("--environment", metavar="NAME[:VERSION]",
                                                    help="A registered environment (default: this Python).")] = None,
    compute_type: Annotated[str, typer.Option("--compute-type", metavar="local|docker")] = "local",
    replicas: Annotated[int, typer.Option("--replicas", metavar="N")] = 1,
    port: Annotated[int | None, typer.Option("--port", metavar="PORT", help="Default: a free port.")] = None,
    timeout_ms: Annotated[int, typer.Option("--timeout-ms", metavar="MS", help="Scoring timeout.")] = 60_000,
    max_request_bytes: Annotated[int, typer.Option("--max-request-bytes", metavar="BYTES",
                                                   help="Largest scoring request (default 128 MiB, as the SDK).")
                                 ] = 128 * 1024 * 1024,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Serve without keys (local experiments only).")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a service of the same name.")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until it is ready.")] = True,
) -> None:
    """Deploy models as a web service (Model.deploy)."""
    from jupyter_aml.sdk.model import Model
    from jupyter_aml.sdk.webservice import DockerWebservice, LocalWebservice

    if not models:
        raise typer.BadParameter("name at least one model", param_hint="--model")
    chosen = [_model(ref) for ref in models]
    maker = DockerWebservice if compute_type == "docker" else LocalWebservice
    if compute_type not in ("local", "docker"):
        raise typer.BadParameter("local or docker", param_hint="--compute-type")
    config = maker.deploy_configuration(port=port, replicas=replicas, scoring_timeout_ms=timeout_ms,
                                        max_request_bytes=max_request_bytes, auth_enabled=not no_auth)
    service = Model.deploy(c.STATE.workspace_obj(), name, chosen, _inference(entry_script, source_directory,
                                                                             environment), config, overwrite=overwrite)
    _wait(service, wait)


@command(endpoint_app, "list")
def endpoint_list() -> None:
    """List web services."""
    from jupyter_aml.sdk.webservice import Webservice

    services = Webservice.list(c.STATE.workspace_obj())
    if c.STATE.json:
        emit_json({"items": [s.serialize() for s in services]})
        return
    if not services:
        out().print("[dim]no web services[/dim]")
        return
    table = Table("name", "state", "type", "revision", "models", "scoring URI", box=None, header_style="bold")
    for s in services:
        d = s.serialize()  # the service's record (no request)
        table.add_row(escape(s.name), escape(d["state"]), d["compute_type"], str(d["revision"]),
                      escape(", ".join(d["models"])), escape(d.get("scoring_uri") or ""))
    out().print(table)


@command(endpoint_app, "show")
def endpoint_show(name: ServiceArg) -> None:
    """Show a web service: state, scoring URI, models, replicas, last operation."""
    _print_service(_service(name))


@command(endpoint_app, "score")
def endpoint_score(
    name: ServiceArg,
    data: Annotated[str | None, typer.Option("--data", "-d", metavar="JSON", help="The request body.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", metavar="FILE", help="Read the body from FILE "
                                                                                   "('-' for stdin).")] = None,
) -> None:
    """Send one scoring request (as Azure ML v1 clients do) and print the answer."""
    if (data is None) == (file is None):
        raise typer.BadParameter("give --data JSON or --file FILE", param_hint="--data/--file")
    body = data if data is not None else (sys.stdin.read() if str(file) == "-" else Path(str(file)).read_text())
    try:
        json.loads(body)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--data/--file") from None
    result = _service(name).run(body)
    emit_json(result) if c.STATE.json else out().print_json(json.dumps(result))


@command(endpoint_app, "logs")
def endpoint_logs(
    name: ServiceArg,
    lines: Annotated[int, typer.Option("--lines", "-n", metavar="N", help="How many of the last lines.")] = 200,
) -> None:
    """Print the last lines of the service's log (deployment events and replica output)."""
    text = _service(name).get_logs(num_lines=lines)
    if c.STATE.json:
        emit_json({"lines": text.splitlines()})
        return
    if text:
        sys.stdout.write(text + "\n")


@command(endpoint_app, "keys")
def endpoint_keys(
    name: ServiceArg,
    regenerate: Annotated[str | None, typer.Option("--regenerate", metavar="primary|secondary",
                                                   help="Replace that key with a new random one first.")] = None,
) -> None:
    """Print the service's keys (optionally regenerating one)."""
    service = _service(name)
    if regenerate:
        if regenerate.lower() not in ("primary", "secondary"):
            raise typer.BadParameter("primary or secondary", param_hint="--regenerate")
        service.regen_key(regenerate)
    primary, secondary = service.get_keys()
    if c.STATE.json:
        emit_json({"primary_key": primary, "secondary_key": secondary})
        return
    out().print(f"primary:   {primary}\nsecondary: {secondary}")


@command(endpoint_app, "update")
def endpoint_update(
    name: ServiceArg,
    models: ModelsOpt = None,
    entry_script: Annotated[str | None, typer.Option("--entry-script", "-e", metavar="FILE")] = None,
    source_directory: Annotated[Path, typer.Option("--source-directory", "-s", metavar="DIR")] = Path("."),
    environment: Annotated[str | None, typer.Option("--environment", metavar="NAME[:VERSION]")] = None,
    replicas: Annotated[int | None, typer.Option("--replicas", metavar="N")] = None,
    timeout_ms: Annotated[int | None, typer.Option("--timeout-ms", metavar="MS")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the new revision serves.")] = True,
) -> None:
    """Roll out new models, scoring code or replica count (the old revision serves until the new one is ready)."""
    service = _service(name)
    service.update(models=[_model(ref) for ref in models] if models else None,
                   inference_config=_inference(entry_script, source_directory, environment),
                   replicas=replicas, scoring_timeout_ms=timeout_ms, wait=False)
    _wait(service, wait)


@command(endpoint_app, "telemetry")
def endpoint_telemetry(
    name: ServiceArg,
    minutes: Annotated[int, typer.Option("--minutes", metavar="N", help="How far back.")] = 60,
) -> None:
    """Requests, errors and latency percentiles per minute."""
    data = _service(name).get_telemetry(minutes)
    if c.STATE.json:
        emit_json(data)
        return

    def ms(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    console = out()
    console.print(f"{data['requests']} requests, {data['errors_4xx']} 4xx, {data['errors_5xx']} 5xx; latency ms "
                  f"p50 {ms(data['latency_ms_p50'])} p90 {ms(data['latency_ms_p90'])} p99 {ms(data['latency_ms_p99'])}")
    table = Table("minute", "requests", "4xx", "5xx", "p50 ms", "p90 ms", "p99 ms", box=None, header_style="bold")
    for p in data["points"]:
        table.add_row(c.when(p["t"]), str(p["requests"]), str(p["errors_4xx"]), str(p["errors_5xx"]),
                      ms(p["latency_ms_p50"]), ms(p["latency_ms_p90"]), ms(p["latency_ms_p99"]))
    console.print(table)


@command(endpoint_app, "delete")
def endpoint_delete(name: ServiceArg) -> None:
    """Delete a web service (its replicas drain and stop)."""
    _service(name).delete()
    if c.STATE.json:
        emit_json({"deleted": name})
        return
    out().print(f"Deleted web service {escape(name)}")
