"""``aml pipeline``, ``aml pipeline-endpoint`` and ``aml schedule``: published pipelines, pipeline endpoints
and schedules from the command line, through the SDK's v1 classes (sdk/pipeline_publish.py, sdk/schedule.py).

Pipeline parameters are ``--param NAME=VALUE``; a value that reads as JSON (``5``, ``0.1``, ``true``) is that,
anything else a string, so ``--param rows=5`` assigns an int parameter and ``--param word=hi`` a str one.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, out, parse_pairs, when
from jupyter_aml.sdk.pipeline_publish import PipelineEndpoint, PublishedPipeline, publish_pipeline
from jupyter_aml.sdk.schedule import Schedule, ScheduleRecurrence

pipeline_app = typer.Typer(help="List, show, publish, submit, disable and enable published pipelines.",
                            no_args_is_help=True)
pipeline_endpoint_app = typer.Typer(help="List, show and submit pipeline endpoints; set their default version.",
                                    no_args_is_help=True)
schedule_app = typer.Typer(help="Create, list, show, disable and enable pipeline schedules.", no_args_is_help=True)

AllOpt = Annotated[bool, typer.Option("--all", help="Also the disabled (and archived) ones.")]
ParamOpt = Annotated[list[str] | None, typer.Option("--param", "-p", metavar="NAME=VALUE",
                                                    help="A pipeline parameter (repeat for more).")]
ExperimentOpt = Annotated[str, typer.Option("--experiment", "-e", metavar="NAME", help="The run's experiment.")]
_STYLE = {"Active": "green", "Disabled": "yellow", "Archived": "dim"}


def _params(values: list[str] | None) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, raw in parse_pairs(values, "--param").items():
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        parsed[key] = value if isinstance(value, (bool, int, float, str)) else raw
    return parsed


def _status(status: str) -> str:
    style = _STYLE.get(status)
    return f"[{style}]{escape(status)}[/{style}]" if style else escape(status)


def _show(record: dict[str, Any]) -> None:
    if c.STATE.json:
        emit_json(record)
        return
    for key, value in record.items():
        shown = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
        out().print(f"{key}: {escape(shown)}", soft_wrap=True)


def _started(run: Any, what: str) -> None:
    if c.STATE.json:
        emit_json({"Id": run.id, "experiment": run.experiment.name})
        return
    out().print(f"started pipeline run [bold]{escape(run.id)}[/bold] of {escape(what)} in experiment "
                f"{escape(run.experiment.name)}; follow it with `aml run show {escape(run.id)}`")


# -- aml pipeline --------------------------------------------------------------------------------------------
@command(pipeline_app, "list")
def pipeline_list(include_all: AllOpt = False) -> None:
    """Published pipelines, newest first."""
    items = PublishedPipeline.list(c.STATE.workspace_obj(), active_only=not include_all)
    if c.STATE.json:
        emit_json({"items": [p.get_details() for p in items]})
        return
    table = Table("id", "name", "version", "status", "steps", "parameters", box=None, header_style="bold")
    for p in items:
        table.add_row(escape(p.id), escape(p.name), escape(p.version), _status(p.status), str(p.total_run_steps),
                      escape(", ".join(f"{k}={v!r}" for k, v in p.parameters.items())))
    out().print(table)


@command(pipeline_app, "show")
def pipeline_show(pipeline_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """A published pipeline: parameters and defaults, steps, status and REST URL."""
    _show(PublishedPipeline.get(c.STATE.workspace_obj(), pipeline_id).get_details())


def _set_pipeline(pipeline_id: str, enable: bool) -> None:
    published = PublishedPipeline.get(c.STATE.workspace_obj(), pipeline_id)
    published.enable() if enable else published.disable()
    if c.STATE.json:
        emit_json(published.get_details())
        return
    out().print(f"published pipeline [bold]{escape(published.name)}[/bold] ({escape(published.id)}): "
                f"{_status(published.status)}")


@command(pipeline_app, "disable")
def pipeline_disable(pipeline_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Disable it: it keeps its id and URL, and refuses to run (409) until enabled."""
    _set_pipeline(pipeline_id, False)


@command(pipeline_app, "enable")
def pipeline_enable(pipeline_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Enable a disabled published pipeline."""
    _set_pipeline(pipeline_id, True)


@command(pipeline_app, "publish")
def pipeline_publish(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="A pipeline run: its pipeline, as submitted.")],
    name: Annotated[str, typer.Option("--name", "-n", metavar="NAME", help="The published pipeline's name.")],
    description: Annotated[str, typer.Option("--description", metavar="TEXT")] = "",
    version: Annotated[str | None, typer.Option("--version", metavar="VERSION")] = None,
    continue_on_step_failure: Annotated[bool | None, typer.Option(
        "--continue-on-step-failure/--stop-on-step-failure",
        help="Default: as the run was submitted.")] = None,
) -> None:
    """Publish the pipeline a run ran (v1's pipeline_run.publish_pipeline): prints its id and REST URL."""
    published = publish_pipeline(c.STATE.workspace_obj(), {
        "name": name, "description": description, "version": version,
        "continue_on_step_failure": continue_on_step_failure, "run_id": run_id})
    if c.STATE.json:
        emit_json(published.get_details())
        return
    out().print(f"published pipeline [bold]{escape(published.name)}[/bold] id {escape(published.id)}", soft_wrap=True)
    out().print(f"endpoint: {escape(published.endpoint)}", soft_wrap=True)


def pipeline_submit(pipeline_id: Annotated[str, typer.Argument(metavar="ID")], experiment: ExperimentOpt,
                    param: ParamOpt = None) -> None:
    """Submit a published pipeline (as a POST to its REST URL would)."""
    ws = c.STATE.workspace_obj()
    published = PublishedPipeline.get(ws, pipeline_id)
    _started(published.submit(ws, experiment, pipeline_parameters=_params(param)), published.name)


command(pipeline_app, "submit")(pipeline_submit)
command(pipeline_app, "run", hidden=True)(pipeline_submit)  # the earlier name, kept as an alias


# -- aml pipeline-endpoint -------------------------------------------------------------------------------------
@command(pipeline_endpoint_app, "list")
def endpoint_list(include_all: AllOpt = False) -> None:
    """Pipeline endpoints with their default version."""
    items = PipelineEndpoint.list(c.STATE.workspace_obj(), active_only=not include_all)
    if c.STATE.json:
        emit_json({"items": [e.get_details() for e in items]})
        return
    table = Table("name", "id", "status", "default", "versions", box=None, header_style="bold")
    for e in items:
        table.add_row(escape(e.name), escape(e.id), _status(e.status), escape(e.default_version),
                      str(len(e.list_versions())))
    out().print(table)


def _endpoint(key: str) -> PipelineEndpoint:
    return PipelineEndpoint.get(c.STATE.workspace_obj(), name=key)  # an id is found by the same lookup


@command(pipeline_endpoint_app, "show")
def endpoint_show(key: Annotated[str, typer.Argument(metavar="NAME|ID")]) -> None:
    """A pipeline endpoint: its versions (the default marked) and REST URL."""
    endpoint = _endpoint(key)
    if c.STATE.json:
        emit_json(endpoint.get_details())
        return
    details = endpoint.get_details()
    out().print(f"[bold]{escape(endpoint.name)}[/bold] ({escape(endpoint.id)}): {_status(endpoint.status)}")
    out().print(f"endpoint: {escape(endpoint.endpoint)}", soft_wrap=True)
    table = Table("version", "pipeline id", "pipeline", "status", "default", box=None, header_style="bold")
    for v in details["versions"]:
        table.add_row(escape(v["version"]), escape(v["pipeline_id"]), escape(v["pipeline_name"]),
                      _status(v["pipeline_status"]), "*" if v["is_default"] else "")
    out().print(table)


@command(pipeline_endpoint_app, "set-default")
def endpoint_set_default(key: Annotated[str, typer.Argument(metavar="NAME|ID")],
                         version: Annotated[str, typer.Argument(metavar="VERSION")]) -> None:
    """Make VERSION the one a call without PipelineVersion runs."""
    endpoint = _endpoint(key)
    endpoint.set_default_version(version)
    if c.STATE.json:
        emit_json(endpoint.get_details())
        return
    out().print(f"pipeline endpoint [bold]{escape(endpoint.name)}[/bold]: default version "
                f"{escape(endpoint.default_version)}")


def endpoint_submit(key: Annotated[str, typer.Argument(metavar="NAME|ID")], experiment: ExperimentOpt,
                    version: Annotated[str | None, typer.Option("--version", metavar="VERSION",
                                                                help="Default: the endpoint's default version.")
                                       ] = None,
                    param: ParamOpt = None) -> None:
    """Submit a pipeline endpoint's default version (or --version)."""
    endpoint = _endpoint(key)
    run = endpoint.submit(experiment, pipeline_parameters=_params(param), pipeline_version=version)
    _started(run, f"{endpoint.name} version {version or endpoint.default_version}")


command(pipeline_endpoint_app, "submit")(endpoint_submit)
command(pipeline_endpoint_app, "run", hidden=True)(endpoint_submit)  # the earlier name, kept as an alias


# -- aml schedule ----------------------------------------------------------------------------------------------
def _when_fires(s: Schedule) -> str:
    return when(s.next_fire_at) if s.next_fire_at else ""


@command(schedule_app, "list")
def schedule_list(include_all: AllOpt = False) -> None:
    """Schedules with their trigger and next fire time."""
    items = Schedule.list(c.STATE.workspace_obj(), active_only=not include_all)
    if c.STATE.json:
        emit_json({"items": [s.get_details() for s in items]})
        return
    table = Table("id", "name", "status", "trigger", "next fire", "pipeline", box=None, header_style="bold")
    for s in items:
        trigger = f"cron {s.cron}" if s.cron else f"{s.datastore_name}/{s.path_on_datastore} every " \
            f"{c.number(s.polling_interval)} min"
        table.add_row(escape(s.id), escape(s.name), _status(s.status), escape(trigger), _when_fires(s),
                      escape(s.pipeline_id or f"endpoint {s.pipeline_endpoint_id}"))
    out().print(table)


@command(schedule_app, "show")
def schedule_show(schedule_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """A schedule and its firings (each with its run, or why it could not start)."""
    schedule = Schedule.get(c.STATE.workspace_obj(), schedule_id)
    _show({**schedule.get_details(), "fires": schedule.get_fires()})


@command(schedule_app, "create")
def schedule_create(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    experiment: ExperimentOpt,
    pipeline_id: Annotated[str | None, typer.Option("--pipeline-id", metavar="ID")] = None,
    pipeline_endpoint_id: Annotated[str | None, typer.Option("--pipeline-endpoint-id", metavar="ID")] = None,
    frequency: Annotated[str | None, typer.Option("--frequency", metavar="Minute|Hour|Day|Week|Month")] = None,
    interval: Annotated[int, typer.Option("--interval", metavar="N", help="Every N frequency units.")] = 1,
    start_time: Annotated[str | None, typer.Option("--start-time", metavar="ISO",
                                                   help="The first tick (default: now).")] = None,
    time_zone: Annotated[str | None, typer.Option("--time-zone", metavar="IANA", help="Default UTC.")] = None,
    hours: Annotated[list[int] | None, typer.Option("--hour", help="Day/Week: an hour (repeat).")] = None,
    minutes: Annotated[list[int] | None, typer.Option("--minute", help="Day/Week: a minute (repeat).")] = None,
    week_days: Annotated[list[str] | None, typer.Option("--week-day", help="Week: Monday..Sunday (repeat).")] = None,
    datastore: Annotated[str | None, typer.Option("--datastore", help="Fire when files change here instead.")] = None,
    path: Annotated[str | None, typer.Option("--path", help="The watched path on --datastore.")] = None,
    polling_interval: Annotated[float, typer.Option("--polling-interval", metavar="MINUTES")] = 5,
    description: Annotated[str, typer.Option("--description")] = "",
    param: ParamOpt = None,
) -> None:
    """Schedule a published pipeline (or endpoint) on a recurrence (--frequency) or a datastore path (--datastore)."""
    recurrence = ScheduleRecurrence(frequency, interval, start_time=start_time, time_zone=time_zone, hours=hours,
                                    minutes=minutes, week_days=week_days) if frequency else None
    schedule = Schedule.create(c.STATE.workspace_obj(), name=name, experiment_name=experiment,
                               pipeline_id=pipeline_id, pipeline_endpoint_id=pipeline_endpoint_id,
                               recurrence=recurrence, datastore=datastore, path_on_datastore=path,
                               polling_interval=polling_interval, pipeline_parameters=_params(param),
                               description=description)
    if c.STATE.json:
        emit_json(schedule.get_details())
        return
    out().print(f"created schedule [bold]{escape(schedule.name)}[/bold] ({escape(schedule.id)}); next fire "
                f"{_when_fires(schedule)}" + (f" (cron {escape(schedule.cron)})" if schedule.cron else ""))


def _set_schedule(schedule_id: str, enable: bool) -> None:
    schedule = Schedule.get(c.STATE.workspace_obj(), schedule_id)
    schedule.enable() if enable else schedule.disable()
    if c.STATE.json:
        emit_json(schedule.get_details())
        return
    out().print(f"schedule [bold]{escape(schedule.name)}[/bold]: {_status(schedule.status)}"
                + (f"; next fire {_when_fires(schedule)}" if enable else ""))


@command(schedule_app, "disable")
def schedule_disable(schedule_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Stop firing (the slots missed while disabled never fire)."""
    _set_schedule(schedule_id, False)


@command(schedule_app, "enable")
def schedule_enable(schedule_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Fire again, from the next slot after now."""
    _set_schedule(schedule_id, True)
