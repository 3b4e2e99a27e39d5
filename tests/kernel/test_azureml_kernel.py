"""A plain notebook kernel of this environment (no PYTHONPATH, a folder outside the repository) runs the first
cells of Azure's v1 driver notebooks as they are: the import, VERSION, every shim module, an Azure config.json
with a v1 credential, and the workspace's v1 attributes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kernel.conftest import Kernel

SUB = "00000000-aaaa-bbbb-cccc-444444444444"
MODULES = ["azureml.core", "azureml.core.run", "azureml.core.runconfig", "azureml.core.conda_dependencies",
           "azureml.core.environment", "azureml.core.model", "azureml.core.webservice", "azureml.core.compute",
           "azureml.core.compute_target", "azureml.core.authentication", "azureml.core.workspace",
           "azureml.core.experiment", "azureml.exceptions", "azureml.train.hyperdrive", "azureml.widgets"]


@pytest.fixture
def plain_kernel(service, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    info = service.info()
    monkeypatch.setenv("JUPYTER_AML_URL", info["url"])
    monkeypatch.setenv("JUPYTER_AML_TOKEN", info["token"])
    monkeypatch.delenv("PYTHONPATH", raising=False)  # only what the installation itself provides
    folder = tmp_path / "notebooks"
    (folder / ".azureml").mkdir(parents=True)
    (folder / ".azureml" / "config.json").write_text(json.dumps(
        {"subscription_id": SUB, "resource_group": "rg-kernel", "workspace_name": "kernelws"}))
    kernel = Kernel(folder)
    yield kernel
    kernel.shutdown()


def test_v1_first_cells_run_in_a_plain_kernel(plain_kernel: Kernel) -> None:
    k = plain_kernel
    reply = k.run("import azureml.core\nprint('SDK version:', azureml.core.VERSION)")
    assert reply.status == "ok", reply.text
    assert reply.stdout.startswith("SDK version: 1.61.0+jupyter.aml.")
    assert k.value("__import__('azureml.core').core.__file__").endswith("jupyter_aml/_shim/azureml/core/__init__.py")
    reply = k.run("import importlib\nfor m in %r: importlib.import_module(m)" % (MODULES,))  # noqa: UP031
    assert reply.status == "ok", reply.text
    reply = k.run(
        "from azureml.core import Workspace\n"
        "from azureml.core.authentication import InteractiveLoginAuthentication\n"
        "ws = Workspace.from_config(auth=InteractiveLoginAuthentication())\n"
        "print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep='\\n')")
    assert reply.status == "ok", reply.text
    assert reply.stdout.split() == ["kernelws", "rg-kernel", "local", SUB]
    assert k.value("sorted(k for k in ws.get_details() if k in ('id', 'name', 'location', 'resourceGroup'))") == [
        "id", "location", "name", "resourceGroup"]
    assert k.value("(list(ws.experiments), list(ws.models), list(ws.webservices), 'local' in ws.compute_targets)"
                   ) == [[], [], [], True]
