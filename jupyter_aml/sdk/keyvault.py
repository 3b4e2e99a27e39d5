"""``Keyvault``: the workspace's key vault, with Azure ML v1's names (``ws.get_default_keyvault()``).

v1 scripts pass secrets to runs this way instead of hard-coding them: set them from a notebook, read them
inside the run with ``run.get_secret(name)``. The service seals every value with its master key and records
every read in the workspace's activity log (docs/keyvault.md); this client never prints or logs a value,
and its ``repr`` names the workspace only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.runtime import api_types as T

if TYPE_CHECKING:
    from jupyter_aml.runtime.api import Api
    from jupyter_aml.sdk.workspace import Workspace

__all__ = ["Keyvault"]


def _names(secrets: Iterable[str], what: str) -> list[str]:
    if isinstance(secrets, str):
        raise InvalidInput(f"{what} takes a list of secret names, not one string",
                           hint=f"e.g. {what}([{secrets[:40]!r}])")
    return list(secrets)


def _no_content_type(content_type: Any) -> None:
    if content_type not in (None, "", "not_provided"):
        raise InvalidInput("content_type is not supported by this key vault: secrets are stored as text only",
                           hint="leave content_type out (v1's default, KeyVaultContentType.not_provided)")


def values_of(answer: T.SecretValues, names: list[str]) -> dict[str, str | None]:
    """The answer's values in the order asked (v1: a dict of found and not found secrets, None if not found)."""
    secrets = answer["secrets"]
    return {name: secrets.get(name) for name in names}


class Keyvault:
    """``Keyvault(workspace)``: set, read, list (names only) and delete the workspace's secrets."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    @property
    def _api(self) -> Api:
        return self.workspace._api

    @property
    def _ws(self) -> str:
        return self.workspace.name

    # -- writes -------------------------------------------------------------------------------------------
    def set_secret(self, name: str, value: str, content_type: Any = None) -> None:
        """Add the secret, or replace its value (v1: a new version of it)."""
        _no_content_type(content_type)
        self._api.set_secret(self._ws, name, {"value": value})

    def set_secrets(self, secrets_batch: Mapping[str, str]) -> None:
        """Add or replace several secrets in one transaction: all of them, or (on a bad one) none."""
        if not isinstance(secrets_batch, Mapping):
            raise InvalidInput("set_secrets takes a dictionary of names and values",
                               hint="e.g. kv.set_secrets({'user': 'me', 'password': '...'})")
        self._api.set_secrets(self._ws, {"secrets": dict(secrets_batch)})

    def delete_secret(self, name: str) -> None:
        self._api.delete_secret(self._ws, name)

    def delete_secrets(self, secrets: Iterable[str]) -> None:
        """Delete each named secret (one request each: a missing one stops the loop with NotFound)."""
        for name in _names(secrets, "delete_secrets"):
            self.delete_secret(name)

    # -- reads --------------------------------------------------------------------------------------------
    def get_secret(self, name: str) -> str:
        """The secret's value (NotFound when there is none); the read is in the activity log."""
        value = self._api.secret_values(self._ws, {"names": [name]})["secrets"].get(name)
        if value is None:  # the service answers 404 for a missing name; this is only a guard
            raise NotFound(f"secret {name!r} not found in the key vault of workspace {self._ws!r}")
        return value

    def get_secrets(self, secrets: Iterable[str]) -> dict[str, str | None]:
        """Name -> value for each name asked; None for a secret that is not there, as in v1."""
        names = _names(secrets, "get_secrets")
        if not names:
            return {}
        return values_of(self._api.secret_values(self._ws, {"names": names, "missing_ok": True}), names)

    def list_secrets(self) -> list[dict[str, str]]:
        """v1's list: ``[{'name': ...}, ...]``, sorted by name; never a value."""
        return [{"name": item["name"]} for item in self._api.list_secrets(self._ws)["items"]]

    def __repr__(self) -> str:
        return f"Keyvault(workspace={self._ws!r})"
