"""REST payloads of shared workspaces: members, roles, one's own access and the activity log."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from jupyter_aml.core.models import Strict
from jupyter_aml.errors import InvalidInput

# A user name as Jupyter's identity providers give it (JupyterHub names, e-mail addresses, local logins):
# printable, no slash (it is a path segment), no surrounding spaces.
USER_PATTERN = r"^[^\s/\x00-\x1f\x7f](?:[^/\x00-\x1f\x7f]{0,253}[^\s/\x00-\x1f\x7f])?$"
ROLE_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9 _.-]{0,62}[A-Za-z0-9_.-])?$"
ACTION_PATTERN = r"^[a-z*][a-z*/]{0,63}$"

UserName = Annotated[str, Field(pattern=USER_PATTERN)]
RoleName = Annotated[str, Field(pattern=ROLE_PATTERN)]
ActionPattern = Annotated[str, Field(pattern=ACTION_PATTERN)]


class Member(BaseModel):
    user: str
    role: str
    added_by: str
    added_at: datetime


class MemberList(BaseModel):
    items: list[Member]


class MemberSet(Strict):
    role: RoleName


class Role(BaseModel):
    name: str
    builtin: bool
    actions: list[str]
    not_actions: list[str]
    description: str


class RoleList(BaseModel):
    items: list[Role]


class RoleSet(Strict):
    actions: list[ActionPattern] = Field(min_length=1, max_length=100)
    not_actions: list[ActionPattern] = Field(default_factory=list, max_length=100)
    description: str = Field(default="", max_length=2000)


class Access(BaseModel):
    """The caller's own access to a workspace: the role and the concrete actions it grants (an administrator
    holds every action, whatever their role)."""

    user: str
    role: str | None
    actions: list[str]
    admin: bool = False


class Activity(BaseModel):
    id: int
    time: datetime
    user: str
    action: str
    target_kind: str
    target: str
    detail: dict[str, Any]


class ActivityPage(BaseModel):
    items: list[Activity]
    next_cursor: str | None


class ActionInfo(BaseModel):
    name: str
    description: str


class ActionList(BaseModel):
    items: list[ActionInfo]


class UserToken(BaseModel):
    id: int
    user: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class NewUserToken(UserToken):
    token: str  # shown once, when created; only its SHA-256 is stored


def check_user(name: str) -> str:
    """A user name from a URL path: the same rule as in bodies, with an error that says what to send."""
    if not re.match(USER_PATTERN, name):
        raise InvalidInput(f"{name!r} is not a user name",
                           hint="1-255 printable characters, no '/', no leading or trailing spaces")
    return name


def check_role_name(name: str) -> str:
    if not re.match(ROLE_PATTERN, name):
        raise InvalidInput(f"{name!r} is not a role name",
                           hint="1-64 letters, digits, spaces, '_', '.', '-', starting with a letter or digit")
    return name
