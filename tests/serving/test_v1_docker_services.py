"""``AciWebservice`` and ``AksWebservice`` deployments from v1 notebooks, as Docker containers: ACI keeps its
defaults (no keys: the tutorial's plain ``requests.post`` scores), tags and description are kept on the
service (SDK and REST); AKS runs ``num_replicas`` containers with keys on."""

from __future__ import annotations

import requests

from jupyter_aml import Environment, InferenceConfig, Model, Webservice
from jupyter_aml.sdk.webservice import AciWebservice, AksWebservice
from tests.serving.conftest import SCORING
from tests.serving.docker_env import ensure_engine, python_base_image


def test_aci_and_aks_deployments_keep_v1_defaults_tags_and_description(service, tmp_path):
    client = ensure_engine()
    base = python_base_image(client)
    ws = service.workspace("v1docker")
    (tmp_path / "echo.txt").write_text("aci\n")
    model = Model.register(ws, tmp_path / "echo.txt", "aci-echo")
    env = Environment("aci-env")
    env.docker.base_image = base
    inference = InferenceConfig("echo.py", source_directory=SCORING, environment=env)

    aci_config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=0.5, tags={"data": "mnist"},
                                                    description="Predict MNIST with sklearn")
    aci = Model.deploy(ws, "aci-svc", [model], inference, aci_config)
    aci.wait_for_deployment(show_output=False)
    assert aci.state == "Healthy", aci.get_logs()
    assert aci.compute_type == "docker" and aci.auth_enabled is False
    plain = requests.post(aci.scoring_uri, json={"data": [[1, 2]]}, timeout=30)  # as the tutorial: no key
    assert plain.status_code == 200, plain.text
    assert plain.json()["echo"] == {"data": [[1, 2]]} and plain.json()["model"] == "aci"
    found = AciWebservice(ws, "aci-svc")
    assert found.tags == {"data": "mnist"} and found.description == "Predict MNIST with sklearn"
    rest = service.client().get("workspaces/v1docker/endpoints/aci-svc")
    assert rest["tags"] == {"data": "mnist"} and rest["description"] == "Predict MNIST with sklearn"
    assert rest["deployment_config"]["cpu_cores"] == 1 and rest["deployment_config"]["auth_enabled"] is False
    containers = client.containers.list(filters={"label": "aml.service=v1docker/aci-svc"})
    assert len(containers) == 1 and containers[0].attrs["HostConfig"]["NanoCpus"] == 10**9

    aks_config = AksWebservice.deploy_configuration(num_replicas=2, cpu_cores=1, memory_gb=0.5,
                                                    primary_key="aks-primary-key-0123456789",
                                                    tags={"tier": "prod"}, description="two replicas")
    aks = Model.deploy(ws, "aks-svc", [model], inference, aks_config)
    aks.wait_for_deployment()
    assert aks.state == "Healthy", aks.get_logs()
    assert len(aks.reload()._details["replicas"]) == 2 and aks.auth_enabled
    assert requests.post(aks.scoring_uri, json={"data": 1}, timeout=30).status_code == 401  # keys on, as AKS
    keyed = requests.post(aks.scoring_uri, json={"data": 1}, timeout=30,
                          headers={"Authorization": "Bearer aks-primary-key-0123456789"})
    assert keyed.status_code == 200 and aks.get_keys()[0] == "aks-primary-key-0123456789"
    assert {s.name: s.tags for s in Webservice.list(ws)} == {"aci-svc": {"data": "mnist"}, "aks-svc": {"tier": "prod"}}
    assert len(client.containers.list(filters={"label": "aml.service=v1docker/aks-svc"})) == 2
    assert sorted(s.name for s in Webservice.list(ws, compute_type="ACI")) == ["aci-svc", "aks-svc"]  # both Docker
    assert Webservice.list(ws, compute_type="Local") == []
    aks.delete()
    aci.delete()
