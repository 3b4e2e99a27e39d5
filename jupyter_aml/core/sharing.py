"""Shared workspaces: who holds which role where, the workspaces' custom roles, the activity log and the
named user tokens of ``aml serve``. The authorization decision itself is ``server.authz``; this is its data.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jupyter_aml.core import roles as rbac
from jupyter_aml.core import sharing_models as sm
from jupyter_aml.core.numbers import parse_int
from jupyter_aml.core.workspaces import WorkspaceService, utc, utcnow, workspace_not_found
from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import ActivityRow, CustomRoleRow, MemberRow, UserTokenRow, WorkspaceRow

USER_TOKEN_PREFIX = "amlu_"


def _member(row: MemberRow) -> sm.Member:
    return sm.Member(user=row.user, role=row.role, added_by=row.added_by, added_at=utc(row.added_at))


def role_model(role: rbac.Role) -> sm.Role:
    return sm.Role(name=role.name, builtin=role.builtin, actions=list(role.actions),
                   not_actions=list(role.not_actions), description=role.description)


def _custom(row: CustomRoleRow) -> rbac.Role:
    return rbac.Role(row.name, row.description, tuple(row.actions), tuple(row.not_actions))


class Sharing:
    def __init__(self, db: Store) -> None:
        self.db = db

    # -- roles ----------------------------------------------------------------------------------------------
    def role_of(self, workspace: str, user: str) -> rbac.Role | None:
        """The role ``user`` holds in ``workspace`` (None: no role, or no such workspace)."""
        with self.db.read() as s:
            found = s.execute(
                select(MemberRow.role, CustomRoleRow)
                .join(WorkspaceRow, WorkspaceRow.id == MemberRow.workspace_id)
                .outerjoin(CustomRoleRow, (CustomRoleRow.workspace_id == MemberRow.workspace_id)
                           & (CustomRoleRow.name == MemberRow.role))
                .where(WorkspaceRow.name == workspace, MemberRow.user == user)
            ).first()
        if found is None:
            return None
        return rbac.builtin_role(found[0]) or (_custom(found[1]) if found[1] is not None else None)

    def roles(self, workspace: str) -> list[sm.Role]:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            custom = s.scalars(select(CustomRoleRow).where(CustomRoleRow.workspace_id == ws.id)
                               .order_by(CustomRoleRow.name)).all()
        return [role_model(r) for r in rbac.BUILTIN_ROLES.values()] + [role_model(_custom(r)) for r in custom]

    def set_role(self, workspace: str, name: str, spec: sm.RoleSet, *, by: str) -> sm.Role:
        if rbac.builtin_role(name) is not None:
            raise Conflict(f"{name!r} is a built-in role and cannot be changed", hint="create a custom role "
                           "under another name")
        unknown = rbac.unknown_patterns([*spec.actions, *spec.not_actions])
        if unknown:
            raise InvalidInput(f"these name no known action: {', '.join(unknown)}",
                               hint="GET /actions lists the actions; * matches any part, e.g. runs/* or */read")
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            row = s.get(CustomRoleRow, (ws.id, name)) or CustomRoleRow(workspace_id=ws.id, name=name)
            row.actions, row.not_actions, row.description = list(spec.actions), list(spec.not_actions), spec.description
            row.updated_by, row.updated_at = by, utcnow()
            s.add(row)
            return role_model(_custom(row))

    def delete_role(self, workspace: str, name: str) -> None:
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            row = s.get(CustomRoleRow, (ws.id, name))
            if row is None:
                raise NotFound(f"workspace {workspace!r} has no custom role {name!r}",
                               hint="built-in roles cannot be deleted; GET .../roles lists the roles")
            holders = s.scalars(select(MemberRow.user).where(MemberRow.workspace_id == ws.id,
                                                             MemberRow.role == name)).all()
            if holders:
                raise Conflict(f"role {name!r} is held by {', '.join(sorted(holders))}",
                               hint="give them another role first")
            s.delete(row)

    def _known_role(self, session: Session, workspace_id: int, name: str) -> str:
        builtin = rbac.builtin_role(name)
        if builtin is not None:
            return builtin.name
        if session.get(CustomRoleRow, (workspace_id, name)) is None:
            raise InvalidInput(f"there is no role {name!r} in this workspace",
                               hint="use Owner, Contributor, Reader, AzureML Data Scientist, AzureML Compute "
                               "Operator, or a custom role of the workspace")
        return name

    # -- members --------------------------------------------------------------------------------------------
    def members(self, workspace: str) -> list[sm.Member]:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            rows = s.scalars(select(MemberRow).where(MemberRow.workspace_id == ws.id).order_by(MemberRow.user))
            return [_member(r) for r in rows]

    def set_member(self, workspace: str, user: str, role: str, *, by: str) -> sm.Member:
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            role = self._known_role(s, ws.id, role)
            row = s.get(MemberRow, (ws.id, user))
            if row is not None and row.role == rbac.OWNER and role != rbac.OWNER:
                self._keep_an_owner(s, ws.id, user)
            if row is None:
                row = MemberRow(workspace_id=ws.id, user=user, added_by=by, added_at=utcnow())
            row.role = role
            s.add(row)
            s.flush()
            return _member(row)

    def remove_member(self, workspace: str, user: str) -> None:
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            row = s.get(MemberRow, (ws.id, user))
            if row is None:
                raise NotFound(f"{user!r} is not a member of workspace {workspace!r}")
            if row.role == rbac.OWNER:
                self._keep_an_owner(s, ws.id, user)
            s.delete(row)

    @staticmethod
    def _keep_an_owner(session: Session, workspace_id: int, leaving: str) -> None:
        owners = session.scalar(select(func.count()).select_from(MemberRow).where(
            MemberRow.workspace_id == workspace_id, MemberRow.role == rbac.OWNER, MemberRow.user != leaving))
        if not owners:
            raise Conflict(f"{leaving!r} is the workspace's last Owner",
                           hint="make someone else Owner first, so the workspace keeps someone who can manage it")

    def access(self, workspace: str, user: str, *, admin: bool) -> sm.Access:
        """``user``'s role in ``workspace`` and the actions it grants (an administrator holds them all)."""
        with self.db.read() as s:
            WorkspaceService.row(s, workspace)
        role = self.role_of(workspace, user)
        if admin:
            return sm.Access(user=user, role=role.name if role is not None else rbac.OWNER,
                             actions=sorted(rbac.ACTIONS), admin=True)
        if role is None:
            raise workspace_not_found(workspace)
        return sm.Access(user=user, role=role.name, actions=sorted(role.allowed()))

    def workspaces_of(self, user: str) -> set[str]:
        with self.db.read() as s:
            return set(s.scalars(select(WorkspaceRow.name).join(MemberRow, MemberRow.workspace_id == WorkspaceRow.id)
                                 .where(MemberRow.user == user)))

    # -- the activity log -----------------------------------------------------------------------------------
    def record(self, *, workspace: str | None, user: str, action: str, target_kind: str, target: str,
               detail: dict[str, Any] | None = None) -> None:
        with self.db.session() as s:
            s.add(ActivityRow(time=utcnow(), workspace=workspace, user=user, action=action,
                              target_kind=target_kind, target=target, detail=detail or {}))

    def activity(self, workspace: str, *, after: str | None = None, limit: int = 50) -> sm.ActivityPage:
        """Newest first; ``after`` is the ``next_cursor`` of the page before."""
        query = select(ActivityRow).where(ActivityRow.workspace == workspace)
        if after:
            query = query.where(ActivityRow.id < parse_int(after, "the activity cursor 'after'", minimum=1,
                                                           maximum=2**31 - 1))
        with self.db.read() as s:
            WorkspaceService.row(s, workspace)
            rows = s.scalars(query.order_by(ActivityRow.id.desc()).limit(limit + 1)).all()
        items = [sm.Activity(id=r.id, time=utc(r.time), user=r.user, action=r.action, target_kind=r.target_kind,
                             target=r.target, detail=r.detail) for r in rows[:limit]]
        return sm.ActivityPage(items=items, next_cursor=str(rows[limit - 1].id) if len(rows) > limit else None)

    # -- named user tokens ----------------------------------------------------------------------------------
    def create_token(self, user: str, label: str = "") -> sm.NewUserToken:
        token = USER_TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.session() as s:
            row = UserTokenRow(user=user, label=label, token_sha256=_sha(token), created_at=utcnow())
            s.add(row)
            s.flush()
            return sm.NewUserToken(token=token, **_token(row).model_dump())

    def tokens(self, user: str | None = None) -> list[sm.UserToken]:
        query = select(UserTokenRow).order_by(UserTokenRow.id)
        if user is not None:
            query = query.where(UserTokenRow.user == user)
        with self.db.read() as s:
            return [_token(r) for r in s.scalars(query)]

    def revoke_token(self, token_id: int) -> sm.UserToken:
        with self.db.session() as s:
            row = s.get(UserTokenRow, token_id)
            if row is None:
                raise NotFound(f"there is no user token {token_id}", hint="`aml token list` shows them")
            row.revoked_at = row.revoked_at or utcnow()
            return _token(row)

    def user_of_token(self, token: str) -> str | None:
        """The user a named token speaks for (None: not a live token). Only the SHA-256 is compared."""
        if not token.startswith(USER_TOKEN_PREFIX):
            return None
        with self.db.read() as s:
            found = s.execute(select(UserTokenRow.user).where(UserTokenRow.token_sha256 == _sha(token),
                                                              UserTokenRow.revoked_at.is_(None))).first()
        return found[0] if found else None


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token(row: UserTokenRow) -> sm.UserToken:
    revoked: datetime | None = utc(row.revoked_at) if row.revoked_at else None
    return sm.UserToken(id=row.id, user=row.user, label=row.label, created_at=utc(row.created_at), revoked_at=revoked)

