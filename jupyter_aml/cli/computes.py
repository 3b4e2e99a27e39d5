"""``aml compute ...``: a workspace's compute targets (v1's ``az ml computetarget``), through ``runtime.api``.

Only the options a user gives are sent: v1's defaults (STANDARD_D2_V2, 0 to 4 nodes, 1800 s idle) and every rule
between fields belong to the service, which answers a bad request with the reason and the fix.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, err, out
from jupyter_aml.errors import AMLError
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import Api

compute_app = typer.Typer(help="Create, list, show, start, stop, update and delete compute targets.",
                          no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Compute target name (see `aml compute list`).")]
WaitOpt = Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until it settles (Running, Stopped or Failed).")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", metavar="SECONDS", help="Give up waiting after this long.")]

# A compute in one of these states is on its way to another; waiting commands poll until it leaves them.
SETTLING = frozenset({"Creating", "Starting", "Stopping", "Restarting", "Deleting"})
STATE_STYLE = {"Running": "green", "Failed": "red", "Stopped": "yellow", "Creating": "blue", "Starting": "blue",
               "Restarting": "blue", "Stopping": "yellow", "Deleting": "yellow"}
POLL_SECONDS = 0.5


def _api() -> tuple[Api, str]:
    return Api(c.STATE.client()), c.STATE.workspace_name()


def _state(compute: T.Compute) -> str:
    state = compute.get("state", "")
    style = STATE_STYLE.get(state)
    return f"[{style}]{escape(state)}[/{style}]" if style else escape(state)


def _nodes(compute: T.Compute) -> str:
    """``busy/total (min-max)``: what a cluster has now and may grow to."""
    nodes = compute.get("nodes") or []
    busy = sum(1 for n in nodes if n["state"] == "busy")
    bounds = compute.get("min_nodes"), compute.get("max_nodes")
    counts = f"{busy}/{len(nodes)}" if nodes or bounds[1] is not None else ""
    return f"{counts} ({bounds[0]}-{bounds[1]})" if bounds[1] is not None else counts


def _size(compute: T.Compute) -> str:
    name = compute.get("vm_size") or ""
    cpus, memory = compute.get("vcpus"), compute.get("memory_gb")
    return f"{name} ({c.number(cpus)} vCPU, {c.number(memory)} GB)" if name and cpus is not None else name


def _settle(api: Api, ws: str, compute: T.Compute, timeout: float) -> T.Compute:
    """Poll until the compute leaves its transitional state, with a status line on stderr (never under --json,
    whose stdout stays one document)."""
    name = compute["name"]
    deadline = time.monotonic() + timeout
    status = err().status(f"compute {escape(name)}: {_state(compute)}") if not c.STATE.json else None
    if status is not None:
        status.start()
    try:
        while compute.get("state") in SETTLING:
            if time.monotonic() >= deadline:
                raise AMLError(f"compute {name!r} is still {compute.get('state')} after {timeout:g} s",
                               hint=f"watch it with `aml compute show {name}`, or wait longer with --timeout")
            time.sleep(POLL_SECONDS)
            compute = api.get_compute(ws, name)
            if status is not None:
                status.update(f"compute {escape(name)}: {_state(compute)}")
    finally:
        if status is not None:
            status.stop()
    return compute


def _report(compute: T.Compute, verb: str) -> None:
    """Print the compute (a line, or its JSON); a Failed one is exit 1 with the service's reason."""
    failed = compute.get("state") == "Failed"
    if c.STATE.json:
        emit_json(compute)
    else:
        said = "compute" if failed else f"{verb} compute"
        out().print(f"{said} [bold]{escape(compute['name'])}[/bold] ({escape(compute.get('type', ''))}): "
                    f"{_state(compute)}")
    if failed:
        err().print(f"[bold red]error:[/bold red] [red]compute {escape(compute['name'])} failed: "
                    f"{escape(compute.get('error') or 'no reason given')}[/red]", soft_wrap=True)
        err().print(f"[dim]hint: see `aml compute show {escape(compute['name'])}`; delete it and create it again "
                    "once the cause is fixed[/dim]", soft_wrap=True)
        raise typer.Exit(1)


@command(compute_app, "create")
def compute_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Letters, digits and '-', starting with a letter.")],
    compute_type: Annotated[str, typer.Option("--type", metavar="AmlCompute|ComputeInstance",
                                              help="An autoscaling cluster (Dask) or a long-lived instance (Docker).")],
    vm_size: Annotated[str | None, typer.Option("--vm-size", metavar="SIZE", help="A size from `aml compute vm-sizes` "
                                                "(default STANDARD_D2_V2): the CPU and memory of each node.")] = None,
    min_nodes: Annotated[int | None, typer.Option("--min-nodes", metavar="N", help="AmlCompute (default 0).")] = None,
    max_nodes: Annotated[int | None, typer.Option("--max-nodes", metavar="N", help="AmlCompute (default 4).")] = None,
    idle_seconds: Annotated[int | None, typer.Option("--idle-seconds-before-scaledown", metavar="SECONDS",
                                                     help="AmlCompute: idle time before a node leaves (default "
                                                     "1800).")] = None,
    vm_priority: Annotated[str | None, typer.Option("--vm-priority", metavar="dedicated|lowpriority",
                                                    help="AmlCompute (default dedicated).")] = None,
    scheduler_address: Annotated[str | None, typer.Option("--scheduler-address", metavar="tcp://HOST:PORT",
                                                          help="AmlCompute: run on this existing Dask scheduler "
                                                          "instead of a cluster on this machine.")] = None,
    cluster_class: Annotated[str | None, typer.Option("--cluster-class", metavar="MODULE.CLASS",
                                                      help="AmlCompute: a Dask cluster manager to start, e.g. "
                                                      "dask_jobqueue.SLURMCluster (docs/compute.md).")] = None,
    cluster_kwargs: Annotated[str | None, typer.Option("--cluster-kwargs", metavar="JSON",
                                                       help="AmlCompute: the cluster manager's keyword arguments, "
                                                       "as a JSON object.")] = None,
    environment: Annotated[str | None, typer.Option("--environment", metavar="NAME[:VERSION]",
                                                    help="ComputeInstance: build its image from this registered "
                                                    "environment.")] = None,
    idle_shutdown: Annotated[int | None, typer.Option("--idle-time-before-shutdown-minutes", metavar="MINUTES",
                                                      help="ComputeInstance: stop it after this long idle.")] = None,
    image: Annotated[str | None, typer.Option("--image", metavar="IMAGE",
                                              help="ComputeInstance: the Docker base image.")] = None,
    max_concurrent_runs: Annotated[int | None, typer.Option("--max-concurrent-runs", metavar="N",
                                                            help="ComputeInstance (default 2).")] = None,
    when_stopped: Annotated[str | None, typer.Option("--when-stopped", metavar="start|refuse",
                                                     help="ComputeInstance: what a run submitted while it is "
                                                     "Stopped does (default start).")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d", metavar="TEXT")] = None,
    tags: Annotated[list[str] | None, typer.Option("--tag", "-t", metavar="K=V", help="Tag k=v (repeatable).")] = None,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 900.0,
) -> None:
    """Create a compute target (ComputeTarget.create) and wait until it is Running; exit 1 if it fails."""
    body: dict[str, Any] = {"name": name, "type": compute_type}
    given = {"vm_size": vm_size, "min_nodes": min_nodes, "max_nodes": max_nodes,
             "idle_seconds_before_scaledown": idle_seconds, "vm_priority": vm_priority,
             "scheduler_address": scheduler_address, "idle_time_before_shutdown_minutes": idle_shutdown,
             "image": image, "max_concurrent_runs": max_concurrent_runs, "when_stopped": when_stopped,
             "description": description, "cluster_class": cluster_class, "environment": environment,
             "cluster_kwargs": _json_object(cluster_kwargs, "--cluster-kwargs") if cluster_kwargs else None}
    body.update({key: value for key, value in given.items() if value is not None})
    if tags:
        body["tags"] = c.parse_pairs(tags, "--tag")
    c.STATE.workspace_obj(create=True)  # like `aml run submit`: a workspace is created on first use
    api, ws = _api()
    compute = api.create_compute(ws, cast(T.ComputeCreate, body))  # the service checks the type and the values
    if wait:
        compute = _settle(api, ws, compute, timeout)
    _report(compute, "Created")


@command(compute_app, "list")
def compute_list() -> None:
    """List compute targets: the service's configured ones and the workspace's own."""
    api, ws = _api()
    data = api.list_computes(ws)
    if c.STATE.json:
        emit_json(data)
        return
    table = Table("name", "type", "origin", "state", "size", "nodes busy/total (min-max)", "queued", box=None,
                  header_style="bold")
    for item in data["items"]:
        table.add_row(escape(item["name"]), escape(item["type"]), escape(item.get("origin", "")), _state(item),
                      escape(_size(item)), _nodes(item), str(item.get("queued_runs", 0)))
    out().print(table)


@command(compute_app, "show")
def compute_show(name: NameArg) -> None:
    """Show a compute target: settings, state (and why it failed), nodes and the runs waiting with the reason."""
    api, ws = _api()
    compute = api.get_compute(ws, name)
    if c.STATE.json:
        emit_json(compute)
        return
    console = out()
    console.print(f"[bold]{escape(compute['name'])}[/bold]  {escape(compute['type'])}  {_state(compute)}"
                  f"  ({escape(compute.get('origin', ''))})")
    if compute.get("error"):
        console.print(f"[red]error: {escape(str(compute['error']))}[/red]", soft_wrap=True)
    if compute.get("description"):
        console.print(escape(compute["description"]))
    rows = [
        ("size", _size(compute)),
        ("nodes", _nodes(compute)),
        ("idle before scale-down", _seconds(compute.get("idle_seconds_before_scaledown"))),
        ("priority", compute.get("vm_priority")),
        ("scheduler", compute.get("scheduler_address")),
        ("image", compute.get("image")),
        ("idle before shutdown", _minutes(compute.get("idle_time_before_shutdown_minutes"))),
        ("when stopped", compute.get("when_stopped")),
        ("runs", f"{compute.get('active_runs', 0)} running of {compute['max_concurrent_runs']}, "
                 f"{compute.get('queued_runs', 0)} queued"),
        ("tags", ", ".join(f"{k}={v}" for k, v in sorted((compute.get("tags") or {}).items()))),
        ("created", " by ".join(filter(None, [c.when(compute.get("created_at")), compute.get("created_by")]))),
    ]
    for label, value in rows:
        if value:
            console.print(f"{label + ':':<24}{escape(str(value))}")
    if compute.get("nodes"):
        nodes = Table("node", "state", "runs", box=None, header_style="bold", title="nodes", title_justify="left")
        for node in compute["nodes"]:
            nodes.add_row(escape(node["name"]), escape(node["state"]), escape(", ".join(node.get("run_ids") or [])))
        console.print(nodes)
    if compute.get("queue"):
        queue = Table("#", "run", "workspace", "waiting because", box=None, header_style="bold", title="queue",
                      title_justify="left")
        for entry in compute["queue"]:
            queue.add_row(str(entry["position"]), escape(entry["run_id"]), escape(entry["workspace"]),
                          escape(entry["reason"]))
        console.print(queue)


def _seconds(value: int | None) -> str:
    return "" if value is None else f"{value} s"


def _minutes(value: int | None) -> str:
    return "" if value is None else f"{value} min"


def _action(verb: str, done: str) -> Any:
    def action(name: NameArg, wait: WaitOpt = True, timeout: TimeoutOpt = 900.0) -> None:
        api, ws = _api()
        compute = getattr(api, f"{verb}_compute")(ws, name)
        if wait:
            compute = _settle(api, ws, compute, timeout)
        _report(compute, done)

    action.__name__ = f"compute_{verb}"
    action.__doc__ = {"start": "Start a Stopped compute instance (a cluster is always on: refused with the reason).",
                      "stop": "Stop a compute instance (refused while runs are on it).",
                      "restart": "Restart a compute instance."}[verb]
    return action


for _verb, _done in (("start", "Started"), ("stop", "Stopped"), ("restart", "Restarted")):
    command(compute_app, _verb)(_action(_verb, _done))


@command(compute_app, "update")
def compute_update(
    name: NameArg,
    min_nodes: Annotated[int | None, typer.Option("--min-nodes", metavar="N")] = None,
    max_nodes: Annotated[int | None, typer.Option("--max-nodes", metavar="N")] = None,
    idle_seconds: Annotated[int | None, typer.Option("--idle-seconds-before-scaledown", metavar="SECONDS")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d", metavar="TEXT")] = None,
) -> None:
    """Change a cluster's node counts or idle time, or a compute's description (AmlCompute.update)."""
    change: T.ComputeUpdate = {}
    if min_nodes is not None:
        change["min_nodes"] = min_nodes
    if max_nodes is not None:
        change["max_nodes"] = max_nodes
    if idle_seconds is not None:
        change["idle_seconds_before_scaledown"] = idle_seconds
    if description is not None:
        change["description"] = description
    if not change:
        raise typer.BadParameter("give at least one of --min-nodes, --max-nodes, --idle-seconds-before-scaledown, "
                                 "--description", param_hint="options")
    api, ws = _api()
    compute = api.update_compute(ws, name, change)
    if c.STATE.json:
        emit_json(compute)
        return
    out().print(f"Updated compute [bold]{escape(name)}[/bold]: nodes {_nodes(compute)}, idle before scale-down "
                f"{_seconds(compute.get('idle_seconds_before_scaledown')) or '-'}")


@command(compute_app, "delete")
def compute_delete(
    name: NameArg,
    force: Annotated[bool, typer.Option("--force", help="Cancel the runs queued on or running on it.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a compute target (refused while runs are on it, unless --force, which cancels them)."""
    if not yes:
        what = " and cancel the runs on it" if force else ""
        typer.confirm(f"Delete compute {name!r} of workspace {c.STATE.workspace_name()!r}{what}?", abort=True,
                      err=True)
    api, ws = _api()
    api.delete_compute(ws, name, force=force)
    if c.STATE.json:
        emit_json({"deleted": name})
        return
    out().print(f"Deleted compute {escape(name)}")


@command(compute_app, "vm-sizes")
def compute_vm_sizes() -> None:
    """The VM sizes a compute may have (v1's names) and the CPU and memory each gives a node."""
    api, ws = _api()
    data = api.vm_sizes(ws)
    if c.STATE.json:
        emit_json(data)
        return
    table = Table("name", "vCPUs", "memory GB", "GPUs", "family", box=None, header_style="bold")
    for size in data["items"]:
        mark = " [dim](custom)[/dim]" if size.get("custom") else ""
        table.add_row(escape(size["name"]) + mark, c.number(size["vCPUs"]), c.number(size["memoryGB"]),
                      str(size.get("gpus", 0)), escape(size.get("family", "")))
    out().print(table)


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{option} is not JSON: {exc}", param_hint=option) from None
    if not isinstance(value, dict):
        raise typer.BadParameter(f"{option} must be a JSON object, e.g. '{{\"cores\": 1}}'", param_hint=option)
    return value
