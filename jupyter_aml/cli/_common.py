"""Shared CLI plumbing: global options, the connection, output (rich or JSON) and typed-error reporting.

Every command is a thin adapter over the SDK's public methods (never its transport or private attributes).
Business rules live in the service and the SDK, never here.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from jupyter_aml.errors import AMLError

if TYPE_CHECKING:
    from jupyter_aml.runtime.http import ServiceClient
    from jupyter_aml.sdk.run import Run
    from jupyter_aml.sdk.workspace import Workspace

# -- consoles -------------------------------------------------------------------------------------------


def _width() -> int | None:
    """Tables piped to a file or another program are not squeezed into 80 columns."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return None
    return 200


def out() -> Console:
    # Built per call so that test runners which swap sys.stdout see the output.
    return Console(width=_width(), highlight=False, soft_wrap=False)


def err() -> Console:
    return Console(stderr=True, highlight=False)


# -- global options -----------------------------------------------------------------------------------------


@dataclass
class State:
    """Options given on ``aml`` itself; a command's own copy of an option wins."""

    workspace: str | None = None
    json: bool = False
    url: str | None = None
    token: str | None = None
    _connection: ServiceClient | None = field(default=None, repr=False)
    _config: tuple[dict[str, Any] | None, Path] | None = field(default=None, repr=False)

    def config(self) -> dict[str, Any] | None:
        if self._config is None:
            from jupyter_aml.sdk.workspace import find_config

            self._config = find_config(Path.cwd())
        return self._config[0]

    def workspace_name(self) -> str:
        from jupyter_aml.sdk.workspace import DEFAULT_WORKSPACE

        if self.workspace:
            return self.workspace
        config = self.config() or {}
        return str(config.get("workspace_name") or config.get("name") or DEFAULT_WORKSPACE)

    def client(self) -> ServiceClient:
        """The SDK's connection: ``--url``/``--token``, else the environment, else discovery/auto-start."""
        if self._connection is None:
            from jupyter_aml.sdk.connect import connect

            url = self.url
            token = self.token
            env_url = os.environ.get("JUPYTER_AML_URL")
            if not url and not env_url:
                url = (self.config() or {}).get("service_url")
            if url or token:
                url = url or env_url
                if not url:
                    raise typer.BadParameter("--token needs --url (or JUPYTER_AML_URL)", param_hint="--token")
                token = token or os.environ.get("JUPYTER_AML_TOKEN")
            try:
                self._connection = connect(service_url=url, token=token)
            except ValueError as exc:  # not an http(s) URL
                raise typer.BadParameter(str(exc), param_hint="--url") from None
        return self._connection

    def workspace_obj(self, *, create: bool = False) -> Workspace:
        """The SDK ``Workspace``; reading commands do not create it (a typo must not make a workspace)."""
        from jupyter_aml.sdk.workspace import Workspace

        return Workspace(self.workspace_name(), client=self.client(), create=create)


STATE = State()


def reset_state(**values: Any) -> State:
    global STATE
    STATE = State(**values)
    return STATE


JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON (the REST/SDK data).")]
WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace", "-w", metavar="NAME", help="Workspace name (default: .aml/config.json upwards, else 'default')."
    ),
]
UrlOpt = Annotated[
    str | None, typer.Option("--url", metavar="URL", help="Service URL (default: $JUPYTER_AML_URL, else discovery).")
]
TokenOpt = Annotated[
    str | None, typer.Option("--token", metavar="TOKEN", help="Service token (default: $JUPYTER_AML_TOKEN).")
]

_GLOBALS = {
    "json": ("json_output", JsonOpt, False),
    "workspace": ("workspace_option", WorkspaceOpt, None),
    "url": ("url_option", UrlOpt, None),
    "token": ("token_option", TokenOpt, None),
}


def command(
    group: typer.Typer, name: str, *, options: Iterable[str] = ("json", "workspace", "url", "token"), **kwargs: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func`` as ``group name``, accepting the global options after the command name too, and
    turning the SDK's typed errors into one red line plus a hint (exit code 1)."""
    wanted = list(options)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(func, eval_str=True)
        extra = [
            inspect.Parameter(
                _GLOBALS[key][0], inspect.Parameter.KEYWORD_ONLY, annotation=_GLOBALS[key][1], default=_GLOBALS[key][2]
            )
            for key in wanted
        ]

        @functools.wraps(func)
        def wrapper(*args: Any, **kw: Any) -> Any:
            for key in wanted:
                value = kw.pop(_GLOBALS[key][0])
                if value:
                    setattr(STATE, key, value)
            return run_guarded(func, *args, **kw)

        wrapper.__signature__ = sig.replace(parameters=[*sig.parameters.values(), *extra])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {}
        group.command(name, **kwargs)(wrapper)
        return func

    return decorate


def run_guarded(func: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    try:
        return func(*args, **kw)
    except AMLError as exc:
        fail(exc)
    except KeyboardInterrupt:
        err().print("[yellow]interrupted[/yellow]")
        raise typer.Exit(130) from None
    except BrokenPipeError:  # `aml run logs ID | head`: the reader left; say nothing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(1) from None
    except OSError as exc:  # a local file problem (unwritable -o, missing file): not a bug
        fail(AMLError(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)))


def fail(exc: AMLError, code: int = 1) -> None:
    if STATE.json:
        emit_json({"error": exc.to_dict()})
    console = err()
    console.print(f"[bold red]error:[/bold red] [red]{escape(exc.message)}[/red]", soft_wrap=True)
    if exc.hint:
        console.print(f"[dim]hint: {escape(exc.hint)}[/dim]", soft_wrap=True)
    raise typer.Exit(code)


# -- output ------------------------------------------------------------------------------------------------


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def parse_pairs(values: list[str] | None, option: str, *, allow_bare: bool = False) -> dict[str, str]:
    """``["k=v", ...]`` into a dict; a malformed item is a usage error (exit 2)."""
    pairs: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not key or (not sep and not allow_bare):
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        pairs[key] = value
    return pairs


def when(value: str | None) -> str:
    """An ISO timestamp from the service as local time, to the second."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(run: Mapping[str, Any]) -> str:
    seconds = run.get("duration_seconds")
    suffix = ""
    if seconds is None and run.get("start_time") and not run.get("end_time"):
        try:
            start = datetime.fromisoformat(str(run["start_time"]).replace("Z", "+00:00"))
        except ValueError:
            return ""
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        seconds, suffix = (datetime.now(timezone.utc) - start).total_seconds(), "+"
    if seconds is None:
        return ""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f}s{suffix}"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s{suffix}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m{suffix}"


STATUS_STYLE = {
    "Completed": "green",
    "Failed": "red",
    "Canceled": "yellow",
    "NotResponding": "magenta",
    "Running": "cyan",
    "Finalizing": "cyan",
    "Starting": "blue",
    "Preparing": "blue",
    "Queued": "dim",
}


def status_text(status: str) -> str:
    style = STATUS_STYLE.get(status)
    return f"[{style}]{escape(status)}[/{style}]" if style else escape(status)


def size(n: int | float | None) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


# -- runs ------------------------------------------------------------------------------------------------

def experiment_counts(run_count: int, child_run_count: int) -> str:
    """What an experiment holds, as the studio's badge says it: "3 runs (+5 child runs)"."""
    text = f"{run_count} run{'' if run_count == 1 else 's'}"
    if child_run_count:
        text += f" (+{child_run_count} child run{'' if child_run_count == 1 else 's'})"
    return text


RunIdArg = Annotated[str, typer.Argument(metavar="RUN_ID", help="Run id (see `aml run list`).")]


def get_run(run_id: str) -> Run:
    """The SDK ``Run`` for an id in the current workspace."""
    return STATE.workspace_obj().get_run(run_id)
