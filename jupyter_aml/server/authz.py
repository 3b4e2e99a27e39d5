"""Who is calling, and may they do this: one decision for every route, from the action the route states.

Callers are Jupyter's users (``self.current_user``), the named tokens of ``aml serve``, the service token
and per-run tokens. Which Jupyter users are who depends on the deployment:

- ``single`` (a personal JupyterLab, the default outside JupyterHub): whoever Jupyter lets in is the one
  local user, an administrator;
- ``jupyter`` (the default under JupyterHub): each hub user by name, deciding by their workspace roles;
  the server's owner (``JUPYTERHUB_USER``) is an administrator, since they own its files anyway.

Administrators act as Owner of every workspace. A user without a role in a workspace is told it does not
exist (404, the same answer as a missing one), so a workspace's name is not disclosed to non-members; a role
that lacks the action answers 403 naming it. A run token reaches only its own run tree, its ancestors'
records, its snapshot and its own experiment's record (read only: ``run.experiment.id`` / ``.tags`` in a
training script), and never more than its submitter's role allows; anything outside answers 404.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from jupyter_aml.core import roles as rbac
from jupyter_aml.core.principals import RunPrincipal
from jupyter_aml.core.run_views import run_not_found
from jupyter_aml.core.workspaces import workspace_not_found
from jupyter_aml.errors import Forbidden, InvalidInput, NotFound

if TYPE_CHECKING:
    from jupyter_aml.core.service import AMLService
    from jupyter_aml.server.spec import ApiSpec

IDENTITY_MODES = ("auto", "single", "jupyter")


class AMLHandler(Protocol):
    """What the decision reads of a request's handler (``server.base.AMLHandler``)."""

    caller: Caller
    path_kwargs: dict[str, str]

    @property
    def aml(self) -> AMLService: ...

    @property
    def identity(self) -> Identity: ...

    def query_value(self, name: str) -> str | None: ...

    def query_flag(self, name: str) -> bool: ...


@dataclass(frozen=True)
class Caller:
    """The principal of one request. ``name`` is what runs' submitter and the activity log record."""

    name: str
    admin: bool = False
    run: RunPrincipal | None = None


@dataclass(frozen=True)
class Identity:
    """How Jupyter users and tokens become callers (``c.AMLExtension.users`` / ``admins``)."""

    mode: str = "single"
    local_user: str = field(default_factory=lambda: os.environ.get("JUPYTERHUB_USER") or _login())
    admins: frozenset[str] = frozenset()

    @classmethod
    def configured(cls, mode: str, admins: set[str] | frozenset[str]) -> Identity:
        hub_user = os.environ.get("JUPYTERHUB_USER")
        if mode == "auto":
            mode = "jupyter" if hub_user else "single"
        local = hub_user or _login()
        return cls(mode=mode, local_user=local, admins=frozenset(admins) | ({hub_user} if hub_user else set()))

    def is_admin(self, name: str) -> bool:
        return name in self.admins or (self.mode == "single" and name == self.local_user)

    def service(self) -> Caller:
        """The service token: the local user, an administrator (it is on the service's own disk)."""
        return Caller(self.local_user, admin=True)

    def jupyter_user(self, username: str) -> Caller:
        if self.mode == "single":
            return Caller(self.local_user, admin=True)
        return Caller(username, admin=self.is_admin(username))

    def named(self, user: str) -> Caller:
        return Caller(user, admin=self.is_admin(user))


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid-{os.getuid()}"


async def authorize(handler: AMLHandler, spec: ApiSpec) -> rbac.Role | None:
    """Refuse the request unless its caller may do ``spec.action`` here; returns the deciding role (None for
    administrators and global actions)."""
    caller = handler.caller
    if caller.run is not None:
        return await _authorize_run(handler, caller.run, spec)
    if spec.action in rbac.GLOBAL_ACTIONS:
        if spec.action == "service/admin" and not caller.admin:
            raise Forbidden(f"{spec.action} is for the service's administrators",
                            hint="ask whoever runs the service (c.AMLExtension.admins)")
        return None
    if caller.admin:
        return None
    workspace = handler.path_kwargs.get("workspace") or handler.query_value("workspace")
    if not workspace:
        raise InvalidInput("this request names no workspace", hint="add ?workspace=NAME")
    role = await asyncio.to_thread(handler.aml.sharing.role_of, workspace, caller.name)
    if role is None:
        raise workspace_not_found(workspace)
    _require(role, spec.action, workspace, f"your role {role.name}")
    return role


def _require(role: rbac.Role, action: str, workspace: str, whose: str) -> None:
    if not role.allows(action):
        what = rbac.ACTIONS[action].description
        raise Forbidden(f"{whose} in workspace {workspace!r} does not allow {action} ({what})",
                        hint="ask an Owner of the workspace for a role that does")


async def _authorize_run(handler: AMLHandler, principal: RunPrincipal, spec: ApiSpec) -> rbac.Role | None:
    workspace = handler.path_kwargs.get("workspace")
    if spec.scope == "user" or spec.action in rbac.GLOBAL_ACTIONS:
        known = rbac.ACTIONS.get(spec.action) or rbac.GLOBAL_ACTIONS.get(spec.action)
        what = f"{spec.action} ({known.description})" if known else spec.action
        raise Forbidden(f"the token of run {principal.run_id} may not {what}: it reaches only that run and its "
                        "child runs, its snapshot, its experiment's record, and the workspace's datastores, "
                        "datasets and secrets a run reads", hint="do this from your notebook or the CLI, where you "
                        "act as yourself")
    if workspace != principal.workspace:
        raise workspace_not_found(str(workspace))
    if spec.scope == "snapshot" and handler.path_kwargs.get("snapshot_id") != principal.snapshot_id:
        raise NotFound(f"snapshot {handler.path_kwargs.get('snapshot_id')!r} not found")
    if spec.scope in ("run", "run-read"):
        await _in_reach(handler, principal, spec)
    if spec.scope == "experiment-read":
        own_experiment_only(handler.path_kwargs.get("name"), principal, spec.action)
    return await _submitter_may(handler, principal, spec.action, workspace)


async def _in_reach(handler: AMLHandler, principal: RunPrincipal, spec: ApiSpec) -> None:
    """Its own subtree in full; an ancestor's own records read-only (never through it to siblings)."""
    target = handler.path_kwargs.get("run_id", "")
    runs = handler.aml.runs
    if await asyncio.to_thread(runs.in_subtree, principal.workspace, principal.run_id, [target]):
        return
    if principal.run_id in await asyncio.to_thread(runs.in_subtree, principal.workspace, target, [principal.run_id]):
        if spec.action.endswith("/read") and not spec.lists_descendants and not _recursive(handler):
            return
        # it can read this ancestor, so a 403 discloses nothing
        raise Forbidden(f"the token of run {principal.run_id} may read its ancestor {target}'s own records, not "
                        "change them or reach its other child runs", hint="do this from your notebook or the CLI")
    # a run outside its reach, existing or not, is "not found": the answer discloses nothing
    raise run_not_found(target, principal.workspace)


def own_experiment_only(name: str | None, principal: RunPrincipal, action: str) -> str:
    """The one experiment a run token may read: its run's own (``name`` None means "whichever", as a listing
    asks). Another experiment, existing or not, is "not found", in the words of a missing one; a write is
    never in reach, whatever the route declares."""
    if not action.endswith("/read"):
        raise Forbidden(f"the token of run {principal.run_id} may read its experiment's record, not change it",
                        hint="do this from your notebook or the CLI, where you act as yourself")
    if name is not None and name != principal.experiment:
        raise NotFound(f"experiment {name!r} not found in workspace {principal.workspace!r}")
    return principal.experiment


def _recursive(handler: AMLHandler) -> bool:
    return handler.query_flag("recursive")


async def _submitter_may(handler: AMLHandler, principal: RunPrincipal, action: str, workspace: str) -> rbac.Role | None:
    """A run's token never does more than the person who submitted it may do now."""
    identity: Identity = handler.identity
    if identity.is_admin(principal.submitter):
        return None
    role = await asyncio.to_thread(handler.aml.sharing.role_of, workspace, principal.submitter)
    if role is None:
        raise Forbidden(f"{principal.submitter!r}, who submitted run {principal.run_id}, no longer has a role in "
                        f"workspace {workspace!r}", hint="an Owner can give them a role again")
    _require(role, action, workspace, f"the role {role.name} of the run's submitter {principal.submitter!r}")
    return role
