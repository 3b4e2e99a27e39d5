"""Web services as Docker containers: images built from environment + models + scoring code, tagged by
their hash and recorded in the workspace (an unchanged combination reuses its image)."""

from __future__ import annotations

import time

import pytest
import requests

from jupyter_aml import Environment, InferenceConfig, Model, Webservice
from jupyter_aml.sdk.webservice import DockerWebservice
from tests.serving.conftest import SCORING
from tests.serving.docker_env import ensure_engine, python_base_image


@pytest.fixture(scope="module")
def engine():
    client = ensure_engine()
    return client, python_base_image(client)


def test_docker_web_service(service, engine, tmp_path):
    client, base = engine
    ws = service.workspace("docker")
    (tmp_path / "echo.txt").write_text("in-a-container\n")
    v1 = Model.register(ws, tmp_path / "echo.txt", "echo")
    env = Environment("container")
    env.docker.base_image = base
    env.environment_variables["GREETING"] = "hello"
    inference = InferenceConfig("echo.py", source_directory=SCORING, environment=env)
    config = DockerWebservice.deploy_configuration(replicas=2, memory_gb=0.5)
    svc = Model.deploy(ws, "docker-svc", [v1], inference, config)
    svc.wait_for_deployment()
    assert svc.state == "Healthy" and svc.compute_type == "docker"
    key = svc.get_keys()[0]
    resp = requests.post(svc.scoring_uri, json={"data": [1]}, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert resp.status_code == 200 and resp.json()["model"] == "in-a-container"
    images = service.client().get("workspaces/docker/images")["items"]
    assert len(images) == 1 and images[0]["models"] == ["echo:1"] and images[0]["base_image"] == base
    assert svc.reload()._details["image_id"] == images[0]["id"]
    containers = client.containers.list(filters={"label": "aml.service=docker/docker-svc"})
    assert len(containers) == 2 and containers[0].image.tags == [images[0]["tag"]]
    assert containers[0].attrs["HostConfig"]["Memory"] == 512 * 1024 * 1024
    assert "GREETING=hello" in containers[0].attrs["Config"]["Env"]

    twin = Model.deploy(ws, "docker-twin", [v1], inference, DockerWebservice.deploy_configuration())
    twin.wait_for_deployment()
    assert "reusing image" in twin.get_logs()
    assert len(service.client().get("workspaces/docker/images")["items"]) == 1
    twin.delete()

    containers[0].kill()  # a crashed container is replaced
    deadline = time.monotonic() + 60
    while len(client.containers.list(filters={"label": "aml.service=docker/docker-svc"})) < 2 or any(
        r["state"] != "ready" for r in svc.reload()._details["replicas"]
    ):
        assert time.monotonic() < deadline, svc._details["replicas"]
        time.sleep(0.3)
    assert svc.run({"data": 2})["echo"] == {"data": 2}

    (tmp_path / "echo.txt").write_text("second\n")
    v2 = Model.register(ws, tmp_path / "echo.txt", "echo")
    svc.update(models=[v2])
    assert svc.run({"data": 3})["model"] == "second"
    assert len(service.client().get("workspaces/docker/images")["items"]) == 2

    svc.delete()
    assert client.containers.list(all=True, filters={"label": "aml.service=docker/docker-svc"}) == []

    built = [i["tag"] for i in service.client().get("workspaces/docker/images")["items"]]
    # gc is service-wide: this test's two images, and any that other tests of this session's service left unused
    dry = service.client().post("gc", {"grace_seconds": 0, "images": True, "dry_run": True})
    assert dry["images_removed"] >= 2 and len(client.images.list(name="jupyter-aml/score")) >= 2
    pruned = service.client().post("gc", {"grace_seconds": 0, "images": True})
    assert pruned["images_removed"] == dry["images_removed"] and pruned["images_in_use"] == dry["images_in_use"]
    assert service.client().get("workspaces/docker/images")["items"] == []
    left = {tag for image in client.images.list(name="jupyter-aml/score") for tag in image.tags}
    assert not left & set(built)
    assert [s.name for s in Webservice.list(ws)] == []
