"""``Workspace``: the top-level resource, as in Azure ML v1, on a self-hosted service."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import AMLError, Conflict, Forbidden, InvalidInput, NotFound, ServiceUnavailable, Unauthorized
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import Api
from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.sdk.authentication import AbstractAuthentication, AuthenticationException, client_for
from jupyter_aml.sdk.compute import ComputeTarget
from jupyter_aml.sdk.queries import WorkspaceQueries
from jupyter_aml.sdk.sharing import WorkspaceSharing

if TYPE_CHECKING:
    from jupyter_aml.sdk.dataset_base import AbstractDataset
    from jupyter_aml.sdk.datastore import AbstractDatastore
    from jupyter_aml.sdk.environment import Environment
    from jupyter_aml.sdk.experiment import Experiment
    from jupyter_aml.sdk.keyvault import Keyvault
    from jupyter_aml.sdk.model import Model
    from jupyter_aml.sdk.webservice import Webservice

CONFIG_CANDIDATES = (".aml/config.json", ".azureml/config.json", "config.json")
DEFAULT_WORKSPACE = "default"
DEFAULT_LOCATION = "local"  # ``ws.location`` of a workspace created without one
AZURE_IDS = ("subscription_id", "resource_group", "location")
ARM_PROVIDER = "Microsoft.MachineLearningServices/workspaces"
_AUTH_HINT = ("requests carry this service's token (JUPYTER_AML_TOKEN, the Jupyter server's, or a hub API token); "
              "ServicePrincipalAuthentication sends its password as that token")


class WorkspaceException(AMLError):
    """v1's error for a workspace that cannot be found, created or matched (``azureml.exceptions``)."""

    code = "WorkspaceError"


class ProjectSystemException(AMLError):
    """v1 raised this (too) for a workspace that is not found or whose Azure identifiers do not match."""

    code = "ProjectSystemError"


class WorkspaceNotFound(WorkspaceException, ProjectSystemException, NotFound):
    code = "NotFound"


class WorkspaceMismatch(WorkspaceException, ProjectSystemException, Conflict):
    """The Azure identifiers given are not the ones the workspace record keeps (they are set once)."""

    code = "Conflict"


class Workspace(WorkspaceQueries, WorkspaceSharing):
    """A named workspace. Created on first use: ``Workspace.get("demo")`` needs no setup.

    v1's forms work as written: ``Workspace(subscription_id, resource_group, workspace_name, auth=...)``,
    ``Workspace.get(name, subscription_id=..., resource_group=...)`` and ``Workspace.from_config()`` on an Azure
    ``config.json``. The Azure identifiers are labels here (nothing is billed or looked up in Azure): the
    workspace record keeps them, set by the first call that names them, so ``ws.subscription_id`` is the same
    in every process; a later call naming other ones is refused (``WorkspaceMismatch``)."""

    _details: T.Workspace | dict[str, Any]

    def __init__(
        self,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        auth: AbstractAuthentication | None = None,
        _location: str | None = None,
        _disable_service_check: bool = False,
        *,
        name: str | None = None,
        location: str | None = None,
        service_url: str | None = None,
        token: str | None = None,
        client: ServiceClient | None = None,
        create: bool = True,
        **azure_only: Any,
    ) -> None:
        if workspace_name is None and name is None and resource_group is None:
            # jupyter-aml's own form: Workspace("demo"); the one positional is the workspace's name
            workspace_name, subscription_id = subscription_id or DEFAULT_WORKSPACE, None
        name = workspace_name or name
        if not name:
            raise WorkspaceException("Workspace() needs a workspace_name",
                                     hint="Workspace(subscription_id, resource_group, workspace_name), or "
                                     "Workspace.get(name)")
        _refuse_unknown(azure_only)
        self.name = name
        self._auth = auth
        self._client = client or client_for(auth, service_url=service_url, token=token)
        self._api = Api(self._client)
        self._service_url = service_url
        wanted = {"subscription_id": subscription_id, "resource_group": resource_group,
                  "location": location or _location}
        self._details = self._load(create=create, wanted={k: v for k, v in wanted.items() if v})

    def _load(self, *, create: bool, wanted: dict[str, str]) -> T.Workspace | dict[str, Any]:
        """The workspace record, created if asked; the Azure identifiers recorded on first mention."""
        try:
            details: T.Workspace | dict[str, Any] = self._api.get_workspace(self.name)
        except (Unauthorized, Forbidden) as exc:  # the first request: a workspace not one's own is a NotFound
            who = type(self._auth).__name__ if self._auth is not None else "the token"
            raise AuthenticationException(f"the workspace service at {self._client.base_url} refused {who}: "
                                          f"{exc.message}", hint=_AUTH_HINT) from None
        except NotFound as exc:
            if not create:
                raise WorkspaceNotFound(exc.message, hint=exc.hint) from None
            try:
                return self._api.create_workspace({"name": self.name, **wanted})  # type: ignore[typeddict-item]
            except Conflict:
                details = self._api.get_workspace(self.name)
        return self._record_ids(details, wanted)

    def _record_ids(self, details: T.Workspace | dict[str, Any], wanted: dict[str, str]
                    ) -> T.Workspace | dict[str, Any]:
        recorded = {k: details.get(k) for k in AZURE_IDS}
        recorded["location"] = recorded["location"] if recorded["location"] != DEFAULT_LOCATION else None
        differ = {k: (recorded[k], v) for k, v in wanted.items() if recorded[k] and recorded[k] != v}
        if differ:
            said = ", ".join(f"{k} {old!r} (not {new!r})" for k, (old, new) in differ.items())
            raise WorkspaceMismatch(f"workspace {self.name!r} is recorded with {said}",
                                    hint="Azure identifiers are kept as given first: use the recorded ones, or "
                                    "another workspace_name for another Azure workspace")
        missing = {k: v for k, v in wanted.items() if not recorded[k]}
        if not missing:
            return details
        try:
            return self._api.update_workspace(self.name, missing)  # type: ignore[arg-type]  # keys: AZURE_IDS
        except Conflict as exc:  # another process recorded other ones meanwhile
            raise WorkspaceMismatch(exc.message, hint=exc.hint) from None
        except Forbidden:
            warnings.warn(f"workspace {self.name!r}: the Azure identifiers {sorted(missing)} are kept on this "
                          "object only (recording them on the workspace needs the workspaces/write action, an "
                          "Owner's or Contributor's)", stacklevel=4)
            return {**details, **missing}

    @classmethod
    def _in_run(cls, name: str, client: ServiceClient) -> Workspace:
        """Inside a run the token cannot read workspace records; build the object without asking."""
        ws = cls.__new__(cls)
        ws.name, ws._client, ws._service_url, ws._details = name, client, None, {"name": name}
        ws._api, ws._auth = Api(client), None
        return ws

    # -- Azure ML v1 constructors -------------------------------------------------------------------
    @classmethod
    def get(
        cls,
        name: str = DEFAULT_WORKSPACE,
        auth: AbstractAuthentication | None = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        **kwargs: Any,
    ) -> Workspace:
        """v1's ``Workspace.get``; created on first use here (pass ``create=False`` to refuse a missing one)."""
        return cls(subscription_id, resource_group, name, auth, location=location, **kwargs)

    @classmethod
    def create(cls, name: str, auth: AbstractAuthentication | None = None, subscription_id: str | None = None,
               resource_group: str | None = None, location: str | None = None, *, exist_ok: bool = True,
               description: str = "", **kwargs: Any) -> Workspace:
        kwargs.pop("show_output", None)  # v1 printed deployment progress; creating here is instant
        for arg in ("create_resource_group", "sku", "friendly_name", "tags", "storage_account", "key_vault",
                    "app_insights", "container_registry", "cmk_keyvault", "resource_cmk_uri", "hbi_workspace",
                    "default_cpu_compute_target", "default_gpu_compute_target", "private_endpoint_config",
                    "private_endpoint_auto_approval", "exist_ok_tags", "user_assigned_identity_for_cmk_encryption",
                    "system_datastores_auth_mode", "v1_legacy_mode"):
            if kwargs.pop(arg, None) not in (None, True, False, "basic", ""):
                warnings.warn(f"Workspace.create: {arg}= is an Azure resource setting with no meaning here; "
                              "it is not kept", stacklevel=2)
        service_url, token = kwargs.pop("service_url", None), kwargs.pop("token", None)
        client = kwargs.pop("client", None) or client_for(auth, service_url=service_url, token=token)
        _refuse_unknown(kwargs)
        ids = {k: v for k, v in {"subscription_id": subscription_id, "resource_group": resource_group,
                                 "location": location}.items() if v}
        try:
            Api(client).create_workspace({"name": name, "description": description, **ids})  # type: ignore[typeddict-item]
        except Conflict:
            if not exist_ok:
                raise WorkspaceMismatch(f"workspace {name!r} already exists",
                                        hint="use Workspace.get(name), or pass exist_ok=True") from None
        return cls(subscription_id, resource_group, name, auth, location=location, client=client,
                   service_url=service_url)

    @classmethod
    def list(cls, subscription_id: str | None = None, auth: AbstractAuthentication | None = None,
             resource_group: str | None = None, **kwargs: Any) -> dict[str, Workspace]:
        """The workspaces the caller has a role in, by name (filtered by the Azure identifiers, if given)."""
        client = kwargs.get("client") or client_for(auth, service_url=kwargs.get("service_url"),
                                                    token=kwargs.get("token"))
        items = Api(client).list_workspaces()["items"]
        wanted = {"subscription_id": subscription_id, "resource_group": resource_group}
        keep = [w for w in items if all(not v or w.get(k) == v for k, v in wanted.items())]
        return {w["name"]: cls(name=w["name"], client=client) for w in keep}

    @classmethod
    def from_config(
        cls, path: str | os.PathLike[str] | None = None, auth: AbstractAuthentication | None = None,
        _logger: Any = None, _file_name: str | None = None, **kwargs: Any
    ) -> Workspace:
        """Walk up from ``path`` (default: the current folder) to find a workspace config file: jupyter-aml's
        ``.aml/config.json`` or Azure's (``subscription_id``, ``resource_group``, ``workspace_name``)."""
        config, where = find_config(Path(path) if path else Path.cwd(), _file_name)
        if config is None:
            raise WorkspaceNotFound(
                f"no workspace config found from {where} upwards",
                hint="run Workspace.get('name').write_config() or `aml workspace create NAME --write-config`",
            )
        name = config.get("workspace_name") or config.get("name") or DEFAULT_WORKSPACE
        return cls(config.get("subscription_id"), config.get("resource_group"), name, auth,
                   location=config.get("location"), token=kwargs.get("token"),
                   service_url=kwargs.get("service_url") or config.get("service_url"))

    def write_config(self, path: str | os.PathLike[str] | None = None, file_name: str | None = None) -> Path:
        """Write ``.aml/config.json`` under ``path`` (default: the current folder), with the Azure identifiers
        when the workspace has them (so Azure's tools read it too). Never a token."""
        folder = Path(path or ".") / ".aml"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (file_name or "config.json")
        body: dict[str, Any] = {k: v for k in ("subscription_id", "resource_group")
                                if (v := self._details.get(k))}
        body["workspace_name"] = self.name
        if self._service_url:
            body["service_url"] = self._service_url
        target.write_text(json.dumps(body, indent=2) + "\n")
        return target

    # -- v1 attributes -----------------------------------------------------------------------------
    @property
    def subscription_id(self) -> str | None:
        """The Azure subscription id this workspace was named with (``None`` if it never was)."""
        return self._details.get("subscription_id")

    @property
    def resource_group(self) -> str | None:
        return self._details.get("resource_group")

    @property
    def location(self) -> str:
        """The Azure region it was named with, else ``"local"``."""
        return str(self._details.get("location") or DEFAULT_LOCATION)

    @property
    def auth(self) -> AbstractAuthentication | None:
        return self._auth

    @property
    def service_context(self) -> dict[str, Any]:
        return {"service_url": self._client.base_url, "workspace_name": self.name}

    def get_mlflow_tracking_uri(self) -> str:
        """v1's name: this workspace's MLflow tracking URI (docs/mlflow.md), for ``mlflow.set_tracking_uri``.

        As Azure's MLflow plugin did for its URI, it also sets ``MLFLOW_TRACKING_TOKEN`` to this workspace
        object's bearer token when that variable is unset, so a plain ``mlflow`` client in this process
        authenticates as this object does (a token already set is left alone)."""
        from jupyter_aml.runtime.api_transport import mlflow_uri

        base = self._client.base_url
        try:
            uri = mlflow_uri(base, self.name)
        except ValueError:
            raise InvalidInput(f"the service URL {base!r} does not end with /aml/api/v1, so its MLflow URI is unknown",
                               hint="use http://HOST:PORT/aml/mlflow/workspaces/NAME (docs/mlflow.md)") from None
        scheme, _, token = self._client.auth_headers().get("Authorization", "").partition(" ")
        if scheme == "Bearer" and token and not os.environ.get("MLFLOW_TRACKING_TOKEN"):
            os.environ["MLFLOW_TRACKING_TOKEN"] = token
        return uri

    def get_details(self) -> dict[str, Any]:
        """v1's keys (``id``, ``name``, ``location``, ``type``, ``workspaceid``, ``description``,
        ``friendlyName``, ``creationTime``, ``resourceGroup``, ``subscriptionId``, ...) and the record's own."""
        d = dict(self._details)
        sub, group = self.subscription_id, self.resource_group
        arm_id = (f"/subscriptions/{sub}/resourceGroups/{group}/providers/{ARM_PROVIDER}/{self.name}"
                  if sub and group else "/workspaces/" + self.name)  # an identifier, not a REST path
        return {
            **d,
            "id": arm_id,
            "name": self.name,
            "location": self.location,
            "type": ARM_PROVIDER,
            "workspaceid": self.name,
            "description": d.get("description", ""),
            "friendlyName": self.name,
            "creationTime": d.get("created_at"),
            "resourceGroup": group,
            "subscriptionId": sub,
            "serviceUrl": self._client.base_url,
            "tags": {},
            "sku": "Basic",
            "provisioningState": "Succeeded",
        }

    # -- contents ----------------------------------------------------------------------------------
    @property
    def experiments(self) -> dict[str, Experiment]:
        from jupyter_aml.sdk.experiment import Experiment

        items = self._api.list_experiments(self.name)["items"]
        return {e["name"]: Experiment(self, e["name"]) for e in items}

    @property
    def compute_targets(self) -> dict[str, ComputeTarget]:
        """Name -> target object (``AmlCompute``, ``ComputeInstance``, or ``ComputeTarget`` for ``local``), as v1."""
        return {t.name: t for t in ComputeTarget.list(self)}

    @property
    def environments(self) -> dict[str, Environment]:
        """Name -> the latest version of each registered environment, as v1."""
        from jupyter_aml.sdk.environment import Environment

        return Environment.list(self)

    @property
    def models(self) -> dict[str, Model]:
        """Name -> the latest version of each registered model, as v1."""
        from jupyter_aml.sdk.model import Model

        return {m.name: m for m in Model.list(self, latest=True)}

    @property
    def datasets(self) -> dict[str, AbstractDataset]:
        """Name -> the latest version of each registered dataset, as v1."""
        from jupyter_aml.sdk.dataset_base import AbstractDataset

        return AbstractDataset.get_all(self)

    @property
    def webservices(self) -> dict[str, Webservice]:
        """Name -> each deployed web service, as v1."""
        from jupyter_aml.sdk.webservice import Webservice

        return {w.name: w for w in Webservice.list(self)}

    @property
    def datastores(self) -> dict[str, AbstractDatastore]:
        """Name -> each datastore of the workspace (workspaceblobstore among them), as v1."""
        from jupyter_aml.sdk.datastore import Datastore

        return {d.name: d for d in Datastore.list(self)}

    def get_default_datastore(self) -> AbstractDatastore:
        """The default datastore: workspaceblobstore, the workspace's own storage, until another is set."""
        from jupyter_aml.sdk.datastore import Datastore

        return Datastore.get_default(self)

    def set_default_datastore(self, name: str) -> None:
        """Make the named datastore the default (v1's Workspace.set_default_datastore)."""
        self._api.set_default_datastore(self.name, name)

    def get_default_keyvault(self) -> Keyvault:
        """The workspace's key vault, as v1 (one per workspace): ``kv.set_secret(name, value)``."""
        from jupyter_aml.sdk.keyvault import Keyvault

        return Keyvault(self)

    def _path(self, *parts: str) -> str:
        """For older tests that call REST directly; product code uses ``_api`` (tests/sdk/test_faces_*)."""
        from jupyter_aml.runtime.api import build_path

        return "/".join([build_path("workspaces/{workspace}", workspace=self.name), *parts])

    def __repr__(self) -> str:
        ids = "".join(f", {k}={v!r}" for k in ("subscription_id", "resource_group") if (v := self._details.get(k)))
        return f"Workspace.get(name={self.name!r}{ids})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other.name == self.name


def _refuse_unknown(kwargs: dict[str, Any]) -> None:
    """v1's private and cloud arguments are accepted; anything else is a mistake worth saying."""
    for key in ("_workspace_id", "sku", "tags", "_cloud", "cloud", "id"):
        if kwargs.pop(key, None) not in (None, "", "basic", "AzureCloud", {}):
            warnings.warn(f"Workspace: {key}= is an Azure setting with no meaning here; it is not kept", stacklevel=3)
    if kwargs:
        raise TypeError(f"Workspace got unexpected arguments: {', '.join(sorted(kwargs))}")


def find_config(start: Path, file_name: str | None = None) -> tuple[dict[str, Any] | None, Path]:
    candidates = [f".aml/{file_name}", f".azureml/{file_name}", file_name] if file_name else CONFIG_CANDIDATES
    folder = start.resolve()
    if folder.is_file():
        try:
            return json.loads(folder.read_text()), folder
        except ValueError as exc:
            raise ServiceUnavailable(f"{folder} is not valid JSON: {exc}") from None
    for candidate_dir in (folder, *folder.parents):
        for name in candidates:
            candidate = candidate_dir / name
            if candidate.is_file():
                try:
                    data = json.loads(candidate.read_text())
                except ValueError:
                    continue
                if isinstance(data, dict) and ("workspace_name" in data or "name" in data):
                    return data, candidate
    return None, folder
