"""Sharing a workspace from Python: members and their roles, custom roles, one's own access and the
activity log (``ws.add_user("bob", "Contributor")``). The service decides; these only ask it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from jupyter_aml.runtime import api_types as T

if TYPE_CHECKING:
    from jupyter_aml.runtime.api import Api



class WorkspaceSharing:
    name: str
    _api: Api

    def add_user(self, user: str, role: str = "Reader") -> dict[str, Any]:
        """Give ``user`` a role in this workspace (or change theirs); needs members/write (Owner)."""
        return dict(self._api.set_member(self.name, user, {"role": role}))

    def remove_user(self, user: str) -> None:
        """Take away ``user``'s role; the last Owner cannot be removed (Conflict)."""
        self._api.remove_member(self.name, user)

    def list_users(self) -> dict[str, str]:
        """Each member's role, by user name."""
        return {m["user"]: m["role"] for m in self._api.list_members(self.name)["items"]}

    def get_members(self) -> list[dict[str, Any]]:
        """The members with who added them and when."""
        return [dict(m) for m in self._api.list_members(self.name)["items"]]

    def list_roles(self) -> dict[str, dict[str, Any]]:
        """The built-in and custom roles, by name."""
        return {r["name"]: dict(r) for r in self._api.list_roles(self.name)["items"]}

    def create_role(self, name: str, actions: Sequence[str], *, not_actions: Sequence[str] = (),
                    description: str = "") -> dict[str, Any]:
        """A custom role: allowed action patterns (``runs/*``, ``*/read``) minus ``not_actions``."""
        body: T.RoleSet = {"actions": list(actions), "not_actions": list(not_actions), "description": description}
        return dict(self._api.set_role(self.name, name, body))

    def delete_role(self, name: str) -> None:
        self._api.delete_role(self.name, name)

    def get_access(self) -> dict[str, Any]:
        """The caller's own role here and the actions it allows."""
        return dict(self._api.get_access(self.name))

    def get_activity(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """The activity log, newest first, page by page (Owners only); stops after ``limit`` items."""
        after: str | None = None
        seen = 0
        while True:
            page = self._api.list_activity(self.name, after=after, limit=min(limit - seen, 500) if limit else 100)
            for item in page["items"]:
                yield dict(item)
                seen += 1
                if limit is not None and seen >= limit:
                    return
            after = page["next_cursor"]
            if after is None:
                return
