"""An environment's Docker settings in web services are built or refused, never ignored: a Docker web service
whose environment has ``docker.base_dockerfile`` builds its scoring image FROM that Dockerfile's image (the
one runs use too); a ``LocalWebservice`` (replicas are processes here) refuses ``docker.enabled`` and
``docker.base_dockerfile`` with what to do instead."""

from __future__ import annotations

import pytest
import requests

from jupyter_aml import Environment, InferenceConfig, LocalWebservice, Model
from jupyter_aml.compute.dockerfile_base import dockerfile_tag
from jupyter_aml.core.deployments import DeploymentStore
from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.webservice import AciWebservice
from tests.serving.conftest import SCORING
from tests.serving.docker_env import ensure_engine, python_base_image


def _model(ws, tmp_path, name: str) -> Model:
    (tmp_path / "echo.txt").write_text(f"{name}\n")
    return Model.register(ws, tmp_path / "echo.txt", name)


def test_a_docker_web_service_builds_from_the_environments_dockerfile(service, tmp_path):
    client = ensure_engine()
    base = python_base_image(client)
    ws = service.workspace("svc-dockerfile")
    model = _model(ws, tmp_path, "dockerfile-echo")
    env = Environment("from-dockerfile")
    # a marker only this Dockerfile's image has (the text is new each time the test's engine has no such image)
    env.docker.base_dockerfile = f"FROM {base}\nENV GREETING=hello-from-the-dockerfile\n"
    inference = InferenceConfig("echo.py", source_directory=SCORING, environment=env)
    svc = Model.deploy(ws, "dockerfile-svc", [model], inference, AciWebservice.deploy_configuration())
    try:
        svc.wait_for_deployment(show_output=False)
        assert svc.state == "Healthy", svc.get_logs()
        answer = requests.post(svc.scoring_uri, json={"data": 1}, timeout=30).json()
        assert answer["greeting"] == "hello-from-the-dockerfile" and answer["model"] == "dockerfile-echo"
        tag = dockerfile_tag(env.docker.base_dockerfile)
        assert client.images.get(tag).labels.get("aml.base-dockerfile") == "1"
        images = service.client().get("workspaces/svc-dockerfile/images")["items"]
        assert [i["base_image"] for i in images] == [tag]
    finally:
        svc.delete()


def test_a_dockerfile_whose_from_image_is_missing_fails_the_deployment_saying_so(service, tmp_path):
    ensure_engine()
    ws = service.workspace("svc-dockerfile-missing")
    model = _model(ws, tmp_path, "missing-echo")
    env = Environment("missing-from")
    env.docker.base_dockerfile = "FROM jupyter-aml-test/no-such-image:0\nENV X=1\n"
    inference = InferenceConfig("echo.py", source_directory=SCORING, environment=env)
    svc = Model.deploy(ws, "missing-svc", [model], inference, AciWebservice.deploy_configuration())
    try:
        with pytest.raises(Exception, match=r"docker\.base_dockerfile"):
            svc.wait_for_deployment(show_output=False)
        assert "nothing is pulled here" in (svc.reload()._details.get("error") or {}).get("message", "")
    finally:
        svc.delete()


@pytest.mark.parametrize(("setting", "named"), [
    (lambda env: setattr(env.docker, "enabled", True), "docker.enabled=True"),
    (lambda env: setattr(env.docker, "base_dockerfile", "FROM scratch\n"), "docker.base_dockerfile"),
])
def test_a_local_web_service_refuses_docker_settings(service, tmp_path, setting, named):
    ws = service.workspace("svc-local-docker")
    model = _model(ws, tmp_path, "local-echo")
    env = Environment("local-docker")
    setting(env)
    inference = InferenceConfig("echo.py", source_directory=SCORING, environment=env)
    with pytest.raises(InvalidInput, match=f"LocalWebservice runs its replicas as processes.*{named}"):
        Model.deploy(ws, "local-docker-svc", [model], inference, LocalWebservice.deploy_configuration())
    assert "local-docker-svc" not in ws.webservices


def test_the_service_refuses_what_the_sdk_would_have_refused_too():
    """A REST client's deployment gets the same decisions as the SDK's (the service checks, not the client)."""
    check = DeploymentStore._check_environment
    with pytest.raises(InvalidInput, match=r"both docker\.base_image and docker\.base_dockerfile"):
        check("docker", {"docker_base_image": "a:1", "docker_base_dockerfile": "FROM a:1\n"})
    with pytest.raises(InvalidInput, match=r"docker\.enabled=True and docker\.base_dockerfile would be ignored"):
        check("local", {"docker_enabled": True, "docker_base_dockerfile": "FROM a:1\n"})
    check("docker", {"docker_enabled": True, "docker_base_dockerfile": "FROM a:1\n"})
    check("local", {"docker_base_image": "a:1"})  # a base image alone changes nothing, as for runs
