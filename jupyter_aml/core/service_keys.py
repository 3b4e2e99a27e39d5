"""Web-service keys in the database: made, sealed with the master key (core/secretbox.py), opened to hand
them out, and sealed at start where an older version stored them in plain text.

Apart from ``deployments`` (which keeps the records) so that every read and write of a key column goes
through here: nothing else touches ``primary_key`` / ``secondary_key``.
"""

from __future__ import annotations

import logging
import secrets
from typing import Literal

from sqlalchemy import or_, select, update

from jupyter_aml.core import registry_models as rm
from jupyter_aml.core.secretbox import SEALED_PREFIX, SecretBox, SecretUnreadable
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import DeploymentRow

log = logging.getLogger(__name__)


def new_key() -> str:
    return secrets.token_urlsafe(32)


class ServiceKeyVault:
    def __init__(self, db: Store, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def _seal(self, plain: str) -> str:
        return self.box.seal(plain)

    def new_pair(self) -> tuple[str, str]:
        """A new primary and secondary key, as stored."""
        return self._seal(new_key()), self._seal(new_key())

    def read(self, row: DeploymentRow) -> rm.ServiceKeys:
        return rm.ServiceKeys(primary_key=self.box.open(row.primary_key),
                              secondary_key=self.box.open(row.secondary_key))

    def replace(self, row: DeploymentRow, key_type: Literal["Primary", "Secondary"], value: str) -> rm.ServiceKeys:
        """Set one key of ``row``; the other one too if it cannot be opened (its master key was lost), so that
        regenerating is the way out of a lost master key rather than another error."""
        other = row.secondary_key if key_type == "Primary" else row.primary_key
        try:
            other = self.box.open(other)
        except SecretUnreadable:
            log.warning("web service %r: the other key was sealed with a lost master key; replaced it", row.name)
            other = new_key()
        primary, secondary = (value, other) if key_type == "Primary" else (other, value)
        row.primary_key, row.secondary_key = self._seal(primary), self._seal(secondary)
        return rm.ServiceKeys(primary_key=primary, secondary_key=secondary)

    def seal_plain(self) -> int:
        """Seal the keys that older versions stored in plain text; returns how many rows changed.

        Idempotent and cheap when there is nothing to do (one read, no write lock). Each row is updated
        only if its keys are still the ones read, so a key regenerated meanwhile is never overwritten.
        """
        sealed_primary = DeploymentRow.primary_key.startswith(SEALED_PREFIX, autoescape=True)
        plain = or_(~sealed_primary, ~DeploymentRow.secondary_key.startswith(SEALED_PREFIX, autoescape=True))
        with self.db.read() as s:
            rows = s.execute(select(DeploymentRow.id, DeploymentRow.primary_key, DeploymentRow.secondary_key)
                             .where(plain)).all()
            sample = s.scalar(select(DeploymentRow.primary_key).where(sealed_primary).limit(1))
        if sample is not None and not self.box.can_open(sample):
            log.warning("web service keys in the database were sealed with another master key than %s: "
                        "restore the old key, or regenerate the keys of each web service", self.box.source)
        if not rows:
            return 0
        count = 0
        with self.db.session() as s:
            for id_, primary, secondary in rows:
                done = s.execute(
                    update(DeploymentRow)
                    .where(DeploymentRow.id == id_, DeploymentRow.primary_key == primary,
                           DeploymentRow.secondary_key == secondary)
                    .values(primary_key=self._sealed(primary), secondary_key=self._sealed(secondary))
                    .execution_options(synchronize_session=False)
                )
                count += done.rowcount  # type: ignore[attr-defined]
        if count:
            log.info("sealed the plain-text keys of %d web service(s) with %s", count, self.box.source)
        return count

    def _sealed(self, stored: str) -> str:
        return stored if self.box.is_sealed(stored) else self.box.seal(stored)
