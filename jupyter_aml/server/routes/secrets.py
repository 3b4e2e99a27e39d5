"""The workspace key vault over REST: list names, set, delete, and read values (core/keyvault.py).

Reading a value is its own action (``secrets/getvalue``), apart from listing names (``secrets/list``, which a
Reader holds) and setting (``secrets/write``). A running script reads through its own run's route
(``runs/{run_id}/secret-values``): its token reaches the vault of its run's workspace only, and never more
than its submitter's role allows (server/authz.py). Values go out only in the answer of a read, with
``Cache-Control: no-store``; list, set and delete answers name secrets and nothing else.

The vault writes each activity row itself, in the transaction of the read or the change, so these handlers
turn the generic after-the-answer record off (it would count each action twice). A body that does not parse
is answered without echoing its content: it may hold a secret.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

import pydantic

from jupyter_aml.core import keyvault_models as km
from jupyter_aml.errors import ValidationError
from jupyter_aml.server.base import AMLHandler, ApiSpec, api, validation_body
from jupyter_aml.server.routes.runs import RUN
from jupyter_aml.server.routes.workspaces import WS

M = TypeVar("M", bound=pydantic.BaseModel)
SECRET = rf"{WS}/secrets/(?P<name>[^/]+)"


class SecretsBase(AMLHandler):
    def _audited(self, spec: ApiSpec) -> bool:
        return False  # the vault records the action itself, with the read or the change (core/keyvault.py)

    @property
    def actor(self) -> str:
        """Who the activity log names: the user, or for a run token its submitter and the run (as
        ``server.base`` names run callers everywhere else)."""
        run = self.caller.run
        return f"{run.submitter} (run {run.run_id})" if run is not None else self.caller.name

    def secret_body(self, model: type[M]) -> M:
        """The body, or a 422 that names the fields and never what they held (pydantic's own message, which
        the server logs, quotes the input)."""
        try:
            return self.body(model)
        except pydantic.ValidationError as exc:
            raise ValidationError(validation_body(exc)["message"], hint="fix the named fields and retry") from None

    def reply_values(self, values: dict[str, str | None]) -> None:
        self.set_header("Cache-Control", "no-store")
        self.reply(km.SecretValues(secrets=values))


class SecretsHandler(SecretsBase):
    @api("user", "The names of the workspace's secrets, sorted (never a value)", returns=km.SecretList,
         action="secrets/list")
    async def get(self, workspace: str) -> None:
        names = await asyncio.to_thread(self.aml.keyvault.list_secrets, workspace)
        self.reply(km.SecretList(items=[km.SecretInfo(name=n) for n in names]))

    @api("user", "Set several secrets in one transaction (all of them or none)", body=km.SecretsSet,
         returns=km.SecretNameList, action="secrets/write")
    async def post(self, workspace: str) -> None:
        spec = self.secret_body(km.SecretsSet)
        await asyncio.to_thread(self.aml.keyvault.set_secrets, workspace, spec.secrets, actor=self.actor)
        self.reply(km.SecretNameList(names=list(spec.secrets)))


class SecretHandler(SecretsBase):
    @api("user", "Set one secret: create it or replace its value", body=km.SecretSet, returns=km.SecretNameList,
         action="secrets/write")
    async def put(self, workspace: str, name: str) -> None:
        spec = self.secret_body(km.SecretSet)
        await asyncio.to_thread(self.aml.keyvault.set_secret, workspace, name, spec.value, actor=self.actor)
        self.reply(km.SecretNameList(names=[name]))

    @api("user", "Delete a secret", returns=km.SecretNameList, action="secrets/delete")
    async def delete(self, workspace: str, name: str) -> None:
        await asyncio.to_thread(self.aml.keyvault.delete_secret, workspace, name, actor=self.actor)
        self.reply(km.SecretNameList(names=[name]))


class SecretValuesHandler(SecretsBase):
    @api("user", "Read the values of secrets (each read is in the activity log)", body=km.SecretNames,
         returns=km.SecretValues, action="secrets/getvalue")
    async def post(self, workspace: str) -> None:
        spec = self.secret_body(km.SecretNames)
        self.reply_values(await asyncio.to_thread(self.aml.keyvault.read_secrets, workspace, spec.names,
                                                  actor=self.actor, missing_ok=spec.missing_ok))


class RunSecretValuesHandler(SecretsBase):
    """``run.get_secret(s)`` inside a training script: the run token reads its own workspace's vault."""

    @api("run", "Read secret values from inside a run (each read is in the activity log with the run)",
         body=km.SecretNames, returns=km.SecretValues, action="secrets/getvalue")
    async def post(self, workspace: str, run_id: str) -> None:
        spec = self.secret_body(km.SecretNames)
        if self.caller.run is None:  # a user names a run: it must be one of this workspace's
            await asyncio.to_thread(self.aml.runs.in_subtree, workspace, run_id, [run_id])
        actor = self.actor if self.caller.run is not None else f"{self.caller.name} (run {run_id})"
        self.reply_values(await asyncio.to_thread(self.aml.keyvault.read_secrets, workspace, spec.names, actor=actor,
                                                  missing_ok=spec.missing_ok))


ROUTES = [
    (rf"/workspaces/{WS}/secrets", SecretsHandler),
    (rf"/workspaces/{SECRET}", SecretHandler),
    (rf"/workspaces/{WS}/secret-values", SecretValuesHandler),
    (rf"/workspaces/{RUN}/secret-values", RunSecretValuesHandler),
]
