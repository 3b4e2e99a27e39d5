"""``Workspace``: the top-level resource, as in Azure ML v1, on a self-hosted service."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import Conflict, NotFound, ServiceUnavailable
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import Api
from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.sdk.compute import ComputeTarget
from jupyter_aml.sdk.connect import connect
from jupyter_aml.sdk.queries import WorkspaceQueries
from jupyter_aml.sdk.sharing import WorkspaceSharing

if TYPE_CHECKING:
    from jupyter_aml.sdk.experiment import Experiment

CONFIG_CANDIDATES = (".aml/config.json", ".azureml/config.json", "config.json")
DEFAULT_WORKSPACE = "default"


class Workspace(WorkspaceQueries, WorkspaceSharing):
    """A named workspace. Created on first use: ``Workspace.get("demo")`` needs no setup."""

    _details: T.Workspace | dict[str, Any]

    def __init__(
        self,
        name: str = DEFAULT_WORKSPACE,
        *,
        service_url: str | None = None,
        token: str | None = None,
        client: ServiceClient | None = None,
        create: bool = True,
    ) -> None:
        self.name = name
        self._client = client or connect(service_url=service_url, token=token)
        self._api = Api(self._client)
        self._service_url = service_url
        try:
            self._details = self._api.get_workspace(name)
        except NotFound:
            if not create:
                raise
            try:
                self._details = self._api.create_workspace({"name": name})
            except Conflict:
                self._details = self._api.get_workspace(name)

    @classmethod
    def _in_run(cls, name: str, client: ServiceClient) -> Workspace:
        """Inside a run the token cannot read workspace records; build the object without asking."""
        ws = cls.__new__(cls)
        ws.name, ws._client, ws._service_url, ws._details = name, client, None, {"name": name}
        ws._api = Api(client)
        return ws

    # -- Azure ML v1 constructors -------------------------------------------------------------------
    @classmethod
    def get(cls, name: str = DEFAULT_WORKSPACE, **kwargs: Any) -> Workspace:
        return cls(name, **kwargs)

    @classmethod
    def create(cls, name: str, *, exist_ok: bool = True, description: str = "", **kwargs: Any) -> Workspace:
        client = kwargs.pop("client", None) or connect(service_url=kwargs.get("service_url"), token=kwargs.get("token"))
        try:
            Api(client).create_workspace({"name": name, "description": description})
        except Conflict:
            if not exist_ok:
                raise
        return cls(name, client=client)

    @classmethod
    def list(cls, **kwargs: Any) -> dict[str, Workspace]:
        client = kwargs.get("client") or connect(service_url=kwargs.get("service_url"), token=kwargs.get("token"))
        names = [w["name"] for w in Api(client).list_workspaces()["items"]]
        return {n: cls(n, client=client) for n in names}

    @classmethod
    def from_config(
        cls, path: str | os.PathLike[str] | None = None, _file_name: str | None = None, **kwargs: Any
    ) -> Workspace:
        """Walk up from ``path`` (default: the current folder) to find a workspace config file."""
        config, where = find_config(Path(path) if path else Path.cwd(), _file_name)
        if config is None:
            raise NotFound(
                f"no workspace config found from {where} upwards",
                hint="run Workspace.get('name').write_config() or `aml workspace create NAME --write-config`",
            )
        name = config.get("workspace_name") or config.get("name") or DEFAULT_WORKSPACE
        return cls(name, service_url=kwargs.get("service_url") or config.get("service_url"), token=kwargs.get("token"))

    def write_config(self, path: str | os.PathLike[str] | None = None, file_name: str | None = None) -> Path:
        """Write ``.aml/config.json`` under ``path`` (default: the current folder)."""
        folder = Path(path or ".") / ".aml"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (file_name or "config.json")
        body: dict[str, Any] = {"workspace_name": self.name}
        if self._service_url:
            body["service_url"] = self._service_url
        target.write_text(json.dumps(body, indent=2) + "\n")
        return target

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

    def get_details(self) -> dict[str, Any]:
        return dict(self._details)

    def _path(self, *parts: str) -> str:
        """For older tests that call REST directly; product code uses ``_api`` (tests/sdk/test_faces_*)."""
        from jupyter_aml.runtime.api import build_path

        return "/".join([build_path("workspaces/{workspace}", workspace=self.name), *parts])

    def __repr__(self) -> str:
        return f"Workspace.get(name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other.name == self.name


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
