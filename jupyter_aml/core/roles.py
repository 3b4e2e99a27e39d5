"""The one table that says which role may do what: the actions every route states, and the roles.

Actions are ``resource/verb`` names in the spirit of Azure RBAC's operations (``runs/submit``,
``models/write``). A role is a list of allowed action patterns (``*`` wildcards, as in Azure's
``Microsoft.MachineLearningServices/workspaces/*/read``) minus a list of excluded ones (Azure's
``NotActions``). The built-in roles are the seed's Owner, Contributor and Reader plus Azure ML's
"AzureML Data Scientist" and "AzureML Compute Operator"; workspaces add custom roles of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    audited: bool  # written to the activity log when it succeeds


def _actions(*rows: tuple[str, str, bool]) -> dict[str, Action]:
    return {name: Action(name, description, audited) for name, description, audited in rows}


# Every action a route may state. Adding a route means choosing one of these (or adding one here).
ACTIONS: dict[str, Action] = _actions(
    ("workspaces/read", "see the workspace, its experiments and one's own access", False),
    ("workspaces/write", "change the workspace's settings", True),
    ("workspaces/delete", "delete the workspace", True),
    ("experiments/write", "change an experiment: its tags, archive and reactivate it", True),
    ("runs/read", "list and read runs: records, metrics, logs, child runs", False),
    ("runs/submit", "submit runs and start interactive runs", True),
    ("runs/write", "change a run: tags, properties, name, description; create child runs", True),
    ("runs/report", "what a running script reports: metrics, logs, status, heartbeats", False),
    ("runs/cancel", "cancel a run", True),
    ("files/read", "download files: run files, snapshots, stored blobs", False),
    ("files/write", "upload files: snapshots, stored blobs, run files", False),
    ("models/read", "list and read registered models", False),
    ("models/write", "register models and change their tags, properties and description", True),
    ("models/delete", "delete model versions", True),
    ("datasets/read", "list and read registered datasets: versions, previews, profiles", False),
    ("datasets/write", "register datasets and new versions of them", True),
    ("datasets/delete", "unregister datasets (all versions; the data stays where it is)", True),
    ("environments/read", "list and read registered environments", False),
    ("environments/write", "register and build environments", True),
    ("services/read", "list and read web services: state, logs, telemetry, swagger", False),
    ("services/write", "deploy and update web services", True),
    ("services/delete", "delete web services", True),
    ("services/listkeys", "read a web service's keys (a secret read)", True),
    ("services/regeneratekeys", "regenerate or set a web service's keys", True),
    ("services/score", "send a test request to a web service with its key", False),
    ("images/read", "list the scoring images built in the workspace", False),
    ("computes/read", "list compute targets", False),
    ("computes/write", "create compute targets and change their node counts and settings", True),
    ("computes/start", "start, stop and restart compute instances", True),
    ("computes/delete", "delete compute targets", True),
    ("members/read", "list the workspace's members and roles", False),
    ("members/write", "add and remove members and change their roles", True),
    ("roles/read", "list the workspace's roles", False),
    ("roles/write", "create, change and delete custom roles", True),
    ("activity/read", "read the workspace's activity log", False),
    ("secrets/list", "list the names of the key vault's secrets (never a value)", False),
    ("secrets/getvalue", "read a secret's value from the key vault (a secret read)", True),
    ("secrets/write", "set a secret in the key vault (create or replace its value)", True),
    ("secrets/delete", "delete a secret from the key vault", True),
    ("datastores/read", "list datastores and their files, download files through the service", False),
    ("datastores/write", "register datastores (credentials go to the key vault) and set the default one", True),
    ("datastores/upload", "upload files into a datastore through the service", False),
    ("datastores/delete", "unregister datastores (their files stay)", True),
    ("datastores/listsecrets", "read a datastore's location with its credentials (a secret read)", True),
)

# Actions outside any workspace: decided by who the caller is, not by a workspace role.
GLOBAL_ACTIONS: dict[str, Action] = _actions(
    ("workspaces/list", "list the workspaces one has a role in", False),
    ("workspaces/create", "create a workspace (its creator becomes its Owner)", True),
    ("service/read", "the service's health and API document", False),
    ("service/admin", "service-wide maintenance such as garbage collection (administrators only)", True),
)


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] = ()
    builtin: bool = False
    _allowed: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def allows(self, action: str) -> bool:
        return action in self.allowed()

    def allowed(self) -> frozenset[str]:
        """The concrete actions this role grants, worked out once from its patterns."""
        if not self._allowed:
            granted = frozenset(expand(self.actions) - expand(self.not_actions))
            object.__setattr__(self, "_allowed", granted)
        return self._allowed


def expand(patterns: Iterable[str]) -> set[str]:
    """The known actions that any of ``patterns`` names (exact names or ``*`` wildcards)."""
    return {action for action in ACTIONS if any(fnmatchcase(action, p) for p in patterns)}


def unknown_patterns(patterns: Iterable[str]) -> list[str]:
    """Patterns that name no known action: a typo in a custom role would otherwise grant nothing silently."""
    return [p for p in patterns if not any(fnmatchcase(action, p) for action in ACTIONS)]


_ADMIN_ONLY = ("members/write", "roles/write", "activity/read")

OWNER = "Owner"
BUILTIN_ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(OWNER, "Full access, including members, roles and the activity log.", ("*",), builtin=True),
        Role("Contributor", "Everything but members, roles and the activity log.", ("*",), _ADMIN_ONLY,
             builtin=True),
        Role("Reader", "Read-only: no changes, no keys, no secret values, no activity log.",
             ("*/read", "secrets/list"), ("activity/read",), builtin=True),
        Role("AzureML Data Scientist",
             "Everything in the workspace except creating or deleting computes and changing the workspace itself.",
             ("*",), ("computes/write", "computes/delete", "workspaces/write", "workspaces/delete", *_ADMIN_ONLY),
             builtin=True),
        Role("AzureML Compute Operator", "Create, change and delete compute targets; see the workspace.",
             ("computes/*", "workspaces/read"), builtin=True),
    )
}


def builtin_role(name: str) -> Role | None:
    """A built-in role by name; names are matched without regard to case, as Azure's are."""
    return next((r for r in BUILTIN_ROLES.values() if r.name.lower() == name.lower()), None)
