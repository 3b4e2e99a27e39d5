"""Per-run tokens: HMAC-signed run ids, so checking one needs no database lookup.

A run token names exactly one run; what it may reach (that run's subtree, its ancestors' records) is
decided by the authorization layer from the run's ancestry path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from jupyter_aml.core.roots import PRIVATE_FILE, make_private_dir

RUN_TOKEN_PREFIX = "amlr."


def load_or_create_secret(path: Path) -> bytes:
    """The signing key lives beside the database, readable by its owner only (a looser key file left by an
    older version is tightened to 0600 here). Runs never see it: their folders are outside the root."""
    make_private_dir(path.parent)
    try:
        key = bytes.fromhex(path.read_text().strip())
        if stat.S_IMODE(path.stat().st_mode) != PRIVATE_FILE:
            path.chmod(PRIVATE_FILE)
        return key
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex())
        return key


class RunTokens:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, run_id: str) -> str:
        return hmac.new(self._secret, run_id.encode(), hashlib.sha256).hexdigest()

    def mint(self, run_id: str) -> str:
        encoded = base64.urlsafe_b64encode(run_id.encode()).decode().rstrip("=")
        return f"{RUN_TOKEN_PREFIX}{encoded}.{self._sign(run_id)}"

    def verify(self, token: str) -> str | None:
        """The run id the token was minted for, or None if it is not a valid run token."""
        if not token.startswith(RUN_TOKEN_PREFIX):
            return None
        try:
            encoded, signature = token[len(RUN_TOKEN_PREFIX) :].rsplit(".", 1)
            run_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return run_id if hmac.compare_digest(signature, self._sign(run_id)) else None
