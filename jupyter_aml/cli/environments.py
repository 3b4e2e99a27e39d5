"""``aml environment ...``: the environment registry (named, versioned, hashed by their spec) and builds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jupyter_aml.cli import _common as c
from jupyter_aml.cli._common import command, emit_json, out
from jupyter_aml.envbuild import definition_user_managed
from jupyter_aml.runtime import api_types as T

if TYPE_CHECKING:
    from jupyter_aml.sdk.environment import Environment

environment_app = typer.Typer(help="Register, list, show and build environments.", no_args_is_help=True)

EnvRef = Annotated[str, typer.Argument(metavar="NAME[:VERSION]", help="An environment (default: its latest version).")]


def _environment(ref: str) -> Environment:
    from jupyter_aml.sdk.environment import Environment

    name, _, version = ref.rpartition(":") if ":" in ref else (ref, "", "")
    if version and not version.isdigit():
        raise typer.BadParameter(f"{ref!r} is not NAME or NAME:VERSION", param_hint="NAME[:VERSION]")
    return Environment.get(c.STATE.workspace_obj(), name, version=version or None)


def _summary(spec: T.EnvironmentDefinition) -> str:
    python = spec.get("python") or {}
    if definition_user_managed(bool(python.get("user_managed", True)), python.get("pip")):
        interpreter = python.get("interpreter_path")
        return "user-managed" + (f" ({interpreter})" if interpreter else "")
    return ", ".join(python.get("pip") or [])


@command(environment_app, "create")
def environment_create(
    name: Annotated[str, typer.Option("--name", "-n", metavar="NAME", help="Environment name.")],
    pip: Annotated[list[str] | None, typer.Option(
        "--pip", metavar="REQUIREMENT", help="A pip requirement (repeatable), e.g. scikit-learn>=1.3")] = None,
    requirements: Annotated[Path | None, typer.Option("--requirements", "-r", metavar="FILE",
                                                      help="A requirements.txt to read pip requirements from.")] = None,
    env_var: Annotated[list[str] | None, typer.Option("--env", "-e", metavar="K=V",
                                                      help="An environment variable (repeatable).")] = None,
    python_version: Annotated[str | None, typer.Option("--python-version", metavar="X.Y",
                                                       help="The Python version it needs, e.g. 3.11")] = None,
    docker_base_image: Annotated[str | None, typer.Option("--docker-base-image", metavar="IMAGE",
                                                          help="Base image for container web services.")] = None,
) -> None:
    """Register an environment: an unchanged definition keeps its latest version, any change makes the next."""
    from jupyter_aml.sdk.environment import Environment

    env = Environment.from_pip_requirements(name, requirements) if requirements else Environment(name)
    if pip:
        env.add_pip_packages(list(pip))
    env.environment_variables.update(c.parse_pairs(env_var, "--env"))
    env.python.python_version = python_version
    env.docker.base_image = docker_base_image
    registered = env.register(c.STATE.workspace_obj(create=True))
    details = registered.get_record()
    if c.STATE.json:
        emit_json(details)
        return
    out().print(f"Registered [bold]{escape(details['name'])}:{details['version']}[/bold] "
                f"(spec {details['spec_hash'][:12]})")


@command(environment_app, "list")
def environment_list(
    name: Annotated[str | None, typer.Option("--name", "-n", metavar="NAME", help="Every version of this one.")] = None,
) -> None:
    """List environments (the latest version of each, or every version of --name)."""
    items = c.STATE.workspace_obj().list_environments(name)
    if c.STATE.json:
        emit_json({"items": items})
        return
    if not items:
        out().print("[dim]no environments[/dim]")
        return
    table = Table("name", "version", "python", "requirements", "spec", "created", box=None, header_style="bold")
    for item in items:
        spec = item["spec"]
        table.add_row(escape(item["name"]), str(item["version"]), escape(spec.get("python_version") or ""),
                      escape(_summary(spec)), item["spec_hash"][:12], c.when(item["created_at"]))
    out().print(table)


@command(environment_app, "show")
def environment_show(ref: EnvRef) -> None:
    """Show an environment version's full definition."""
    details = _environment(ref).get_record()
    if c.STATE.json:
        emit_json(details)
        return
    spec = details["spec"]
    console = out()
    console.print(f"[bold]{escape(details['name'])}:{details['version']}[/bold]  spec {details['spec_hash'][:12]}")
    console.print(f"python: {escape(spec.get('python_version') or 'any')}  {escape(_summary(spec))}")
    for key, value in sorted((spec.get("env_vars") or {}).items()):
        console.print(f"env: {escape(key)}={escape(str(value))}")
    base_image = spec.get("docker_base_image")
    if base_image:
        console.print(f"docker base image: {escape(base_image)}")
    console.print(f"created: {c.when(details['created_at'])}")


@command(environment_app, "build")
def environment_build(ref: EnvRef) -> None:
    """Build the environment's Python now (a venv cached by its requirements) so runs and web services start
    without waiting for it."""
    env = _environment(ref)
    with out().status(f"building {escape(ref)} ..."):
        outcome = env.build_local(c.STATE.workspace_obj(), show_output=False)
    if c.STATE.json:
        emit_json(outcome)
        return
    console = out()
    for line in outcome["log"]:
        console.print(f"[dim]{escape(line)}[/dim]")
    what = "built" if outcome["built"] else "already built"
    console.print(f"[bold]{escape(outcome['environment'])}[/bold] {what} in {outcome['seconds']:.1f} s: "
                  f"{escape(outcome['python'])}")
