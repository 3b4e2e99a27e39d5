"""Autoscaling on the real Docker engine: an ``AksWebservice`` with v1's autoscale settings grows by a
container under load and shrinks back after it (the Docker launcher starts and removes the containers)."""

from __future__ import annotations

from jupyter_aml import Environment, InferenceConfig, Model
from jupyter_aml.sdk.webservice import AksWebservice
from tests.serving.conftest import SCORING
from tests.serving.docker_env import ensure_engine, python_base_image
from tests.serving.test_autoscale import Load, ready_replicas, wait_until


def test_an_aks_service_adds_a_container_under_load_and_removes_it_after(service, tmp_path):
    client = ensure_engine()
    env = Environment("scale-docker-env")
    env.docker.base_image = python_base_image(client)
    ws = service.workspace("scaledocker")
    (tmp_path / "echo.txt").write_text("docker-scaling\n")
    model = Model.register(ws, tmp_path / "echo.txt", "echo")
    config = AksWebservice.deploy_configuration(autoscale_min_replicas=1, autoscale_max_replicas=2,
                                                autoscale_refresh_seconds=0.3, cpu_cores=1, memory_gb=0.5)
    svc = Model.deploy(ws, "scale-docker", [model], InferenceConfig("echo.py", source_directory=SCORING,
                                                                     environment=env), config)
    svc.wait_for_deployment()
    assert svc.state == "Healthy", svc.get_logs()
    label = {"label": "aml.service=scaledocker/scale-docker"}
    assert len(client.containers.list(filters=label)) == 1
    with Load(svc, clients=3, sleep=0.25) as load:
        wait_until("a second container", lambda: len(ready_replicas(svc)) == 2, 60)
        assert len(client.containers.list(filters=label)) == 2
    assert set(load.statuses) == {200}
    wait_until("back to one container", lambda: len(svc.reload()._details["replicas"]) == 1, 30)
    wait_until("the container removed", lambda: len(client.containers.list(filters=label)) == 1, 30)
    kinds = [e["kind"] for e in svc.get_telemetry()["events"]]
    assert kinds[:1] == ["scale_up"] and kinds[-1] == "scale_down"
    svc.delete()
