"""The workspace key vault: named secrets, one vault per workspace, sealed at rest with the service's master
key (``core/secretbox.py``, the same SecretBox that seals web-service keys), so a copied database or a
PostgreSQL dump alone gives no value away.

Azure ML v1 keeps a workspace's secrets (datastore credentials, and whatever users put there with
``ws.get_default_keyvault().set_secret``) in the workspace's Azure Key Vault; this is that vault. Names follow
Azure Key Vault's rule (1-127 characters of ``0-9a-zA-Z-``) and, as there, are case-insensitive: ``Token`` and
``token`` are one secret (the spelling last set is the one listed).

Every read of a value, every set and every delete writes an activity row in the same transaction as the
change or the read, so no value leaves the vault unrecorded, whether a REST route, a run or another service
(datastores) asked for it. Values are never logged, never in an error message, never returned by a list.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_aml.core.keyvault_models import MAX_BATCH, MAX_VALUE_CHARS
from jupyter_aml.core.secretbox import KEY_FILE, MASTER_KEY_ENV, SecretBox, SecretUnreadable
from jupyter_aml.core.workspaces import WorkspaceService, utcnow
from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import ActivityRow, SecretRow

log = logging.getLogger(__name__)

NAME_RULE = "a secret name is 1-127 characters of letters, digits and dashes (0-9, a-z, A-Z, -), as in Azure Key Vault"
MAX_NAME = 127
SERVICE_ACTOR = "jupyter-aml (service)"  # who reads when a service (not a caller) asks, e.g. a datastore
_NAME = re.compile(r"[0-9a-zA-Z-]{1,127}")


def check_name(name: object) -> str:
    """The name if it follows Azure Key Vault's rule, else InvalidInput saying the rule."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = repr(name[:40] + ("..." if len(name) > 40 else "")) if isinstance(name, str) else type(name).__name__
        raise InvalidInput(f"{shown} is not a valid secret name: {NAME_RULE}",
                           hint="e.g. 'storage-key' or 'dbPassword2'")
    return name


def check_value(name: str, value: object) -> str:
    """The value if it is a non-empty string within Azure's size limit (25k characters); the error never shows
    the value."""
    if not isinstance(value, str):
        raise InvalidInput(f"the value of secret {name!r} must be a string, not {type(value).__name__}",
                           hint="pass the secret as text (encode binary values, e.g. with base64)")
    if not value:
        raise InvalidInput(f"the value of secret {name!r} is empty",
                           hint="give the secret a value, or delete it with delete_secret")
    if len(value) > MAX_VALUE_CHARS:
        raise InvalidInput(f"the value of secret {name!r} is {len(value)} characters; the limit is "
                           f"{MAX_VALUE_CHARS}", hint="store a smaller secret, or keep large material in a datastore")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"the value of secret {name!r} is not valid Unicode text (a lone surrogate)",
                           hint="pass the secret as text (encode binary values, e.g. with base64)") from None
    return value


def secret_not_found(workspace: str, name: str) -> NotFound:
    return NotFound(f"secret {name!r} not found in the key vault of workspace {workspace!r}",
                    hint=f"set it with ws.get_default_keyvault().set_secret({name!r}, value) or "
                    f"`aml secret set {name} -w {workspace}`; list_secrets() shows the names there")


class KeyVault:
    """One vault per workspace, in the ``workspace_secrets`` table; ``box`` seals and opens the values."""

    def __init__(self, db: Store, box: SecretBox) -> None:
        self.db = db
        self.box = box

    # -- writes -------------------------------------------------------------------------------------------
    def set_secret(self, workspace: str, name: str, value: str, *, actor: str | None = None) -> None:
        """Create the secret, or replace its value (Azure's set_secret makes a new version: here the last one
        is the only one kept)."""
        self.set_secrets(workspace, {name: value}, actor=actor)

    def set_secrets(self, workspace: str, secrets: Mapping[str, str], *, actor: str | None = None) -> None:
        """Set several secrets in one transaction: all of them, or (on any bad name or value) none."""
        if not isinstance(secrets, Mapping) or not secrets:
            raise InvalidInput("set_secrets needs a dictionary of at least one name and value",
                               hint="e.g. kv.set_secrets({'user': 'me', 'password': '...'})")
        if len(secrets) > MAX_BATCH:
            raise InvalidInput(f"{len(secrets)} secrets in one call; the limit is {MAX_BATCH}",
                               hint="set them in several calls")
        checked = {check_name(n): check_value(n, v) for n, v in secrets.items()}
        keys = [n.lower() for n in checked]
        if len(set(keys)) != len(keys):
            raise InvalidInput("two of the names differ only in case: secret names are case-insensitive",
                               hint="give each secret once")
        who = actor or SERVICE_ACTOR
        for attempt in (1, 2):
            try:
                with self.db.session() as s:
                    ws = WorkspaceService.row(s, workspace)
                    now = utcnow()
                    found = {r.name_key: r for r in s.scalars(
                        select(SecretRow).where(SecretRow.workspace_id == ws.id, SecretRow.name_key.in_(keys)))}
                    for name, value in checked.items():
                        row = found.get(name.lower())
                        sealed = self.box.seal(value)
                        if row is None:
                            s.add(SecretRow(workspace_id=ws.id, name=name, name_key=name.lower(), value=sealed,
                                            created_by=who, created_at=now, updated_by=who, updated_at=now))
                        else:
                            row.name, row.value, row.updated_by, row.updated_at = name, sealed, who, now
                        s.add(_activity(workspace, who, "secrets/write", name,
                                        {"created" if row is None else "replaced": True}))
                    s.flush()
                break
            except IntegrityError:
                # another caller created one of these names meanwhile: the second pass replaces it
                if attempt == 2:
                    raise
        log.info("set %d secret(s) %s in workspace %r for %s", len(checked), sorted(checked), workspace, who)

    def delete_secret(self, workspace: str, name: str, *, actor: str | None = None) -> None:
        """Remove the secret; NotFound (and nothing recorded) if it is not there."""
        self.delete_secrets(workspace, [name], actor=actor)

    def delete_secrets(self, workspace: str, names: Iterable[str], *, actor: str | None = None) -> None:
        """Remove several secrets at once: all of them, or (if one is missing) none."""
        wanted = self._names(names, "delete_secrets")
        who = actor or SERVICE_ACTOR
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            rows = self._rows(s, ws.id, workspace, wanted)
            s.execute(delete(SecretRow).where(SecretRow.id.in_([r.id for r in rows.values()]))
                      .execution_options(synchronize_session=False))
            for row in rows.values():
                s.add(_activity(workspace, who, "secrets/delete", row.name))
        log.info("deleted secret(s) %s in workspace %r for %s", wanted, workspace, who)

    # -- reads --------------------------------------------------------------------------------------------
    def list_secrets(self, workspace: str) -> list[str]:
        """The names of the workspace's secrets, sorted (never a value: listing is not a secret read)."""
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            names = s.scalars(select(SecretRow.name).where(SecretRow.workspace_id == ws.id))
            return sorted(names, key=lambda n: (n.lower(), n))

    def get_secret(self, workspace: str, name: str, *, actor: str | None = None) -> str:
        """The value of one secret; the read is in the activity log before the value is returned."""
        return self.get_secrets(workspace, [name], actor=actor)[name]

    def get_secrets(self, workspace: str, names: Iterable[str], *, actor: str | None = None) -> dict[str, str]:
        """The values of several secrets, keyed by the names as asked. One missing name is NotFound for all
        (nothing is read, nothing recorded); each read is one activity row, written with the read."""
        found = self.read_secrets(workspace, names, actor=actor, missing_ok=False)
        return {name: value for name, value in found.items() if value is not None}

    def read_secrets(self, workspace: str, names: Iterable[str], *, actor: str | None = None,
                     missing_ok: bool = False) -> dict[str, str | None]:
        """``get_secrets``; with ``missing_ok`` a missing name maps to None instead (v1's ``get_secrets``
        answers "a dictionary of found and not found secrets"), and only the found ones are recorded."""
        wanted = self._names(names, "get_secrets")
        who = actor or SERVICE_ACTOR
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            rows = self._rows(s, ws.id, workspace, wanted, missing_ok=missing_ok)
            values = {name: self._open(workspace, rows[name.lower()]) if name.lower() in rows else None
                      for name in wanted}
            for row in rows.values():  # one row per secret read, however many spellings asked for it
                s.add(_activity(workspace, who, "secrets/getvalue", row.name))
        log.info("read secret(s) %s in workspace %r for %s", sorted({r.name for r in rows.values()}), workspace, who)
        return values

    def exists(self, workspace: str, name: str) -> bool:
        """Whether the secret is there, without reading (or recording a read of) its value."""
        key = check_name(name).lower()
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            return s.scalar(select(func.count()).select_from(SecretRow)
                            .where(SecretRow.workspace_id == ws.id, SecretRow.name_key == key)) == 1

    # -- helpers ------------------------------------------------------------------------------------------
    def _open(self, workspace: str, row: SecretRow) -> str:
        try:
            return self.box.open(row.value)
        except SecretUnreadable as exc:
            raise SecretUnreadable(
                f"secret {row.name!r} of workspace {workspace!r} was sealed with another master key: the master key "
                f"({self.box.source}) changed since it was set",
                hint=f"restore the master key it was sealed with (your backup of <root>/{KEY_FILE}, or the old "
                f"${MASTER_KEY_ENV}) and restart; if that key is lost, set the secret again (set_secret replaces it)",
            ) from exc.__cause__

    @staticmethod
    def _names(names: Iterable[str], what: str) -> list[str]:
        if isinstance(names, str):
            raise InvalidInput(f"{what} takes a list of names, not one string",
                               hint=f"e.g. {what}([{names[:40]!r}])")
        given = list(names)
        if not given:
            raise InvalidInput(f"{what} needs at least one secret name", hint="e.g. ['storage-key']")
        if len(given) > MAX_BATCH:
            raise InvalidInput(f"{len(given)} names in one call; the limit is {MAX_BATCH}",
                               hint="ask in several calls")
        return list(dict.fromkeys(check_name(n) for n in given))

    @staticmethod
    def _rows(s: Session, workspace_id: int, workspace: str, names: list[str], *,
              missing_ok: bool = False) -> dict[str, SecretRow]:
        keys = [n.lower() for n in names]
        rows = {r.name_key: r for r in s.scalars(
            select(SecretRow).where(SecretRow.workspace_id == workspace_id, SecretRow.name_key.in_(keys)))}
        missing = [n for n in names if n.lower() not in rows]
        if missing and not missing_ok:
            if len(missing) == 1:
                raise secret_not_found(workspace, missing[0])
            raise NotFound(f"secrets {', '.join(map(repr, missing))} not found in the key vault of workspace "
                           f"{workspace!r}", hint="list_secrets() shows the names there; set the missing ones first")
        return rows


def _activity(workspace: str, user: str, action: str, name: str,
              detail: dict[str, object] | None = None) -> ActivityRow:
    return ActivityRow(time=utcnow(), workspace=workspace, user=user, action=action, target_kind="secrets",
                       target=name, detail=detail or {})
