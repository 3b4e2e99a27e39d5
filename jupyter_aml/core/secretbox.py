"""Secrets at rest: values the service must read back (web-service keys) are sealed with a master key.

The master key never lives in the database, so a copied ``aml.db``, a PostgreSQL dump or a database
backup alone does not give the keys away. It is ``$JUPYTER_AML_MASTER_KEY`` (a Fernet key) when set,
else ``<root>/secret.key``, made on first use, 0600 like every file in the root. Losing it loses the
sealed values (they are then regenerated), so it is backed up apart from the database.

Sealed values carry a marker (``fernet:``); a value without it was written by an older version and is
returned unchanged, so old rows keep working until the start-up pass seals them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from jupyter_aml.core.roots import PRIVATE_FILE, create_private_file, make_private_dir
from jupyter_aml.errors import AMLError

MASTER_KEY_ENV = "JUPYTER_AML_MASTER_KEY"
KEY_FILE = "secret.key"
SEALED_PREFIX = "fernet:"
NEW_KEY_HINT = (
    "make one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
)


class SecretUnreadable(AMLError):
    """A sealed value cannot be opened, or the master key itself is unusable: an operator must act."""

    code, status = "SecretUnreadable", 500


def _fernet(key: bytes | str, source: str) -> Fernet:
    try:
        return Fernet(key.strip())
    except (ValueError, TypeError):
        raise SecretUnreadable(
            f"the master key in {source} is not a Fernet key (32 bytes in url-safe base64, 44 characters)",
            hint=f"restore the key you backed up; for a new service {NEW_KEY_HINT}",
        ) from None


def _create_key_file(path: Path) -> None:
    """Write a new key where no reader can see it half-written: a private temporary file, synced, then
    hard-linked into place (fails if another process got there first, and then its key is the one)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    create_private_file(tmp)
    try:
        with tmp.open("wb") as handle:
            handle.write(Fernet.generate_key())
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)


def load_master_key(root: Path) -> tuple[Fernet, str]:
    """The master key and where it came from (for messages; never the key itself)."""
    env = os.environ.get(MASTER_KEY_ENV)
    if env:
        return _fernet(env, f"${MASTER_KEY_ENV}"), f"${MASTER_KEY_ENV}"
    path = Path(root) / KEY_FILE
    make_private_dir(path.parent)
    if not path.exists():
        _create_key_file(path)
    elif stat.S_IMODE(path.stat().st_mode) != PRIVATE_FILE:
        path.chmod(PRIVATE_FILE)  # a looser file left by a copy or a restore
    return _fernet(path.read_bytes(), str(path)), str(path)


class SecretBox:
    """Seals and opens short secrets with the service's master key."""

    def __init__(self, fernet: Fernet, source: str = "the master key") -> None:
        self._fernet = fernet
        self.source = source

    @classmethod
    def for_root(cls, root: Path) -> SecretBox:
        return cls(*load_master_key(root))

    @staticmethod
    def sealed_length(plain_chars: int) -> int:
        """How long the sealed form of an ASCII value of ``plain_chars`` characters is (for column sizes):
        a Fernet token is 57 bytes plus the value padded to whole 16-byte blocks, in base64."""
        token = 57 + (plain_chars // 16 + 1) * 16
        return len(SEALED_PREFIX) + 4 * -(-token // 3)

    @staticmethod
    def is_sealed(value: str) -> bool:
        return value.startswith(SEALED_PREFIX)

    def seal(self, plain: str) -> str:
        """A marked ciphertext of ``plain``; sealing a sealed value again is refused (it would hide a bug)."""
        if self.is_sealed(plain):
            raise ValueError("the value is already sealed")
        return SEALED_PREFIX + self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        """The plain value of a sealed one; a legacy unmarked value is returned as it is."""
        if not self.is_sealed(stored):
            return stored
        try:
            return self._fernet.decrypt(stored[len(SEALED_PREFIX) :].encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise SecretUnreadable(
                f"a secret in the database was sealed with another master key: the master key ({self.source}) "
                "changed since it was written",
                hint=f"restore the master key it was sealed with (your backup of <root>/{KEY_FILE}, or the old "
                f"${MASTER_KEY_ENV}) and restart; if that key is lost, regenerate each web service's keys "
                "(`aml endpoint keys NAME --regenerate primary`: a key that cannot be read is replaced too)",
            ) from None

    def can_open(self, stored: str) -> bool:
        try:
            self.open(stored)
            return True
        except SecretUnreadable:
            return False
