"""v1's Workspace as driver notebooks use it, against a real service: Azure's config.json, the Azure identifiers
kept on the workspace record (seen from another process), v1's attributes and collections, the
``azureml.core.authentication`` credentials and the ``azureml.exceptions`` names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_aml.errors import NotFound, Unauthorized, UserError

SUB = "00000000-1111-2222-3333-444444444444"
ARM = "Microsoft.MachineLearningServices/workspaces"


@pytest.fixture
def env(service, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The service as a notebook outside JupyterLab finds it: JUPYTER_AML_URL / JUPYTER_AML_TOKEN."""
    info = service.info()
    monkeypatch.setenv("JUPYTER_AML_URL", info["url"])
    monkeypatch.setenv("JUPYTER_AML_TOKEN", info["token"])
    return {"url": info["url"], "token": info["token"]}


def other_process(code: str, cwd: Path) -> str:
    child_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=child_env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_azure_config_json_works_as_it_is_and_its_ids_are_kept(env, tmp_path: Path) -> None:
    from azureml.core import Workspace
    from azureml.exceptions import ProjectSystemException, UserErrorException, WorkspaceException

    project = tmp_path / "project"
    (project / ".azureml").mkdir(parents=True)
    (project / ".azureml" / "config.json").write_text(json.dumps(
        {"subscription_id": SUB, "resource_group": "rg-ml", "workspace_name": "azws"}))
    ws = Workspace.from_config(project)
    assert (ws.name, ws.subscription_id, ws.resource_group, ws.location) == ("azws", SUB, "rg-ml", "local")
    details = ws.get_details()
    assert details["id"] == f"/subscriptions/{SUB}/resourceGroups/rg-ml/providers/{ARM}/azws"
    assert {k: details[k] for k in ("name", "location", "resourceGroup", "subscriptionId", "type")} == {
        "name": "azws", "location": "local", "resourceGroup": "rg-ml", "subscriptionId": SUB, "type": ARM}
    assert details["creationTime"] and details["workspaceid"] == "azws"
    assert repr(ws) == f"Workspace.get(name='azws', subscription_id={SUB!r}, resource_group='rg-ml')"

    # the record keeps them: another process asking by name alone sees the same
    shown = other_process("from azureml.core import Workspace\nws = Workspace.get('azws')\n"
                          "print(ws.subscription_id, ws.resource_group, ws.location)", tmp_path)
    assert shown == f"{SUB} rg-ml local"

    # v1's other spellings find it; other identifiers for the same name are refused, with v1's exception names
    assert Workspace(SUB, "rg-ml", "azws").resource_group == "rg-ml"
    assert Workspace(subscription_id=SUB, resource_group="rg-ml", workspace_name="azws").name == "azws"
    assert Workspace.get("azws", subscription_id=SUB, resource_group="rg-ml").subscription_id == SUB
    with pytest.raises(ProjectSystemException) as refused:
        Workspace(SUB, "rg-other", "azws")
    assert isinstance(refused.value, WorkspaceException) and isinstance(refused.value, UserErrorException)
    assert "resource_group 'rg-ml'" in str(refused.value)
    with pytest.raises(WorkspaceException):
        Workspace.get("never-made", create=False)
    with pytest.raises(NotFound):
        Workspace.get("never-made", create=False)

    # a workspace made without them records them on first mention, and write_config writes Azure's keys
    plain = Workspace.get("plainws")
    assert (plain.subscription_id, plain.resource_group, plain.location) == (None, None, "local")
    assert plain.get_details()["id"] == "/workspaces/plainws"
    named = Workspace(SUB, "rg-late", "plainws", _location="westeurope")
    assert (named.resource_group, named.location) == ("rg-late", "westeurope")
    assert other_process("from azureml.core import Workspace\nws = Workspace.get('plainws')\n"
                         "print(ws.resource_group, ws.location)", tmp_path) == "rg-late westeurope"
    written = json.loads(named.write_config(tmp_path / "elsewhere").read_text())
    assert written == {"subscription_id": SUB, "resource_group": "rg-late", "workspace_name": "plainws"}
    assert Workspace.from_config(tmp_path / "elsewhere").resource_group == "rg-late"


def test_the_collections_are_dicts_by_name(env, tmp_path: Path) -> None:
    from azureml.core import Environment, Experiment, Model, Workspace

    ws = Workspace.get("collections")
    assert ws.experiments == {} and ws.models == {} and ws.webservices == {}
    assert "env-a" not in ws.environments  # (v1's curated environments may be listed, as in Azure)
    run = Experiment(ws, "exp-a").start_logging()
    run.log("acc", 0.5)
    run.complete()
    Environment("env-a").register(ws)
    weights = tmp_path / "model.pkl"
    weights.write_bytes(b"weights")
    Model.register(ws, model_path=str(weights), model_name="model-a")
    Model.register(ws, model_path=str(weights), model_name="model-a")
    assert list(ws.experiments) == ["exp-a"] and ws.experiments["exp-a"].name == "exp-a"
    assert ws.environments["env-a"].name == "env-a"
    assert list(ws.models) == ["model-a"] and ws.models["model-a"].version == 2  # the latest version, as v1
    assert "local" in ws.compute_targets


def test_v1_credentials_map_to_the_service_token(env, tmp_path: Path) -> None:
    from azureml.core import Workspace
    from azureml.core.authentication import (
        AzureCliAuthentication,
        InteractiveLoginAuthentication,
        MsiAuthentication,
        ServicePrincipalAuthentication,
        TokenAuthentication,
    )
    from azureml.exceptions import AuthenticationException

    for auth in (InteractiveLoginAuthentication(), InteractiveLoginAuthentication(tenant_id="t"),
                 MsiAuthentication(), AzureCliAuthentication()):
        ws = Workspace(SUB, "rg-auth", "authws", auth=auth)
        assert ws.auth is auth and ws.resource_group == "rg-auth"
        assert auth.get_authentication_header() == {"Authorization": f"Bearer {env['token']}"}

    sp = ServicePrincipalAuthentication(tenant_id="tenant-1", service_principal_id="sp-1",
                                        service_principal_password=env["token"])
    assert Workspace.get("authws", auth=sp).subscription_id == SUB
    assert env["token"] not in repr(sp) and "sp-1" in repr(sp)
    wrong = ServicePrincipalAuthentication("tenant-1", "sp-1", "not-the-service-token")
    with pytest.raises(AuthenticationException) as refused:
        Workspace.get("authws", auth=wrong)
    assert isinstance(refused.value, Unauthorized) and "not-the-service-token" not in str(refused.value)

    audiences: list[str] = []

    def token_for(audience: str) -> str:
        audiences.append(audience)
        return env["token"]

    assert Workspace.get("authws", auth=TokenAuthentication(token_for)).name == "authws"
    assert audiences == [env["url"]]

    with pytest.raises(UserError, match="either auth= or token="):
        Workspace.get("authws", auth=sp, token=env["token"])
    with pytest.raises(UserError, match=r"azureml\.core\.authentication credential"):
        Workspace.get("authws", auth="a-token")  # type: ignore[arg-type]


def test_v1_exception_names_catch_what_the_sdk_raises(env) -> None:
    from azureml.core import Workspace
    from azureml.core.compute import ComputeTarget
    from azureml.exceptions import (
        AzureMLException,
        ComputeTargetException,
        ModelNotFoundException,
        UserErrorException,
        WebserviceException,
    )

    ws = Workspace.get("errors")
    assert issubclass(ModelNotFoundException, WebserviceException) and issubclass(ModelNotFoundException, NotFound)
    with pytest.raises(ComputeTargetException):
        ComputeTarget(ws, "no-such-target")
    with pytest.raises(UserErrorException):
        ws.get_run("no-such-run")
    with pytest.raises(AzureMLException):
        ws.get_run("no-such-run")
    import azureml.exceptions

    with pytest.raises(AttributeError, match="jupyter-aml azureml shim does not provide it"):
        azureml.exceptions.NoSuchException  # noqa: B018


def test_rest_records_the_identifiers_once(service) -> None:
    from jupyter_aml.errors import Conflict, ValidationError
    from jupyter_aml.runtime.api import Api

    api = Api(service.client())
    created = api.create_workspace({"name": "restws", "subscription_id": SUB})
    assert (created["subscription_id"], created["resource_group"], created["location"]) == (SUB, None, "local")
    updated = api.update_workspace("restws", {"resource_group": "rg-1", "subscription_id": SUB, "location": "eu"})
    assert (updated["subscription_id"], updated["resource_group"], updated["location"]) == (SUB, "rg-1", "eu")
    with pytest.raises(Conflict, match="resource_group 'rg-1'"):
        api.update_workspace("restws", {"resource_group": "rg-2", "description": "not applied either"})
    assert api.get_workspace("restws")["description"] == ""
    assert api.update_workspace("restws", {"description": "mine"})["description"] == "mine"
    with pytest.raises(ValidationError):
        api.update_workspace("restws", {"resource_group": "a/b"})
    with pytest.raises(ValidationError):
        api.update_workspace("restws", {"subscription": SUB})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(NotFound):
        api.update_workspace("no-such-ws", {"resource_group": "rg"})
