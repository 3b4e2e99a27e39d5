"""v1's Docker switches in the SDK: DockerConfiguration, Environment.docker, the run payload, the agent's rule."""

from __future__ import annotations

import importlib
import sys

import pytest

from jupyter_aml import Environment, ScriptRunConfig
from jupyter_aml.core.environments import canonical_spec
from jupyter_aml.core.models import RunConfig
from jupyter_aml.core.registry_models import EnvironmentDefinition
from jupyter_aml.envbuild.container import DEFAULT_BASE_IMAGE, docker_settings, dockerfile
from jupyter_aml.envbuild.venv import SHIM_DIR, EnvBuildError
from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.runconfig import DockerConfiguration


def test_docker_runtime_config_decides_and_the_payload_validates(tmp_path):
    env = Environment("e")
    env.docker.base_image = "img:1"
    plain = ScriptRunConfig(tmp_path, "s.py", environment=env).run_config()
    assert "docker_enabled" not in plain["environment"]  # a base image alone: no Docker (and no new keys)
    on = ScriptRunConfig(tmp_path, "s.py", environment=env,
                         docker_runtime_config=DockerConfiguration(use_docker=True, shm_size="2G")).run_config()
    assert on["environment"]["docker_enabled"] is True and on["environment"]["docker_shm_size"] == "2g"
    assert on["environment"]["docker_base_image"] == "img:1"
    RunConfig.model_validate(on)  # the service accepts it
    env.docker.enabled = True  # the environment's own switch, which an explicit use_docker=False overrides
    assert ScriptRunConfig(tmp_path, "s.py", environment=env).run_config()["environment"]["docker_enabled"] is True
    off = ScriptRunConfig(tmp_path, "s.py", environment=env, docker_runtime_config=DockerConfiguration(False))
    assert off.run_config()["environment"]["docker_enabled"] is False
    assert env.to_spec()["docker_enabled"] is True  # the environment itself is unchanged


def test_saved_configs_keep_docker(tmp_path):
    env = Environment("e")
    env.docker.shm_size = "1g"
    saved = ScriptRunConfig(tmp_path, "train.py", environment=env,
                            docker_runtime_config=DockerConfiguration(use_docker=True)).save()
    loaded = ScriptRunConfig.load(saved)
    assert loaded.docker_runtime_config is not None and loaded.docker_runtime_config.use_docker is True
    assert loaded.environment.docker.shm_size == "1g"
    assert loaded.run_config()["environment"]["docker_enabled"] is True


def test_refused_settings():
    with pytest.raises(InvalidInput, match="arguments"):
        DockerConfiguration(use_docker=True, arguments=["--privileged"])
    with pytest.raises(InvalidInput, match="shm_size"):
        DockerConfiguration(use_docker=True, shm_size="lots")
    with pytest.raises(InvalidInput, match="True or False"):
        DockerConfiguration(use_docker="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="DockerConfiguration"):
        ScriptRunConfig(".", "s.py", docker_runtime_config={"use_docker": True})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="docker_enabled"):
        RunConfig.model_validate({"script": "s.py", "environment": {"docker_enabled": 1}})


def test_the_shim_names_it_as_v1_does(monkeypatch):
    monkeypatch.syspath_prepend(str(SHIM_DIR))
    for name in [m for m in sys.modules if m == "azureml" or m.startswith("azureml.")]:
        monkeypatch.delitem(sys.modules, name)
    runconfig = importlib.import_module("azureml.core.runconfig")
    assert runconfig.DockerConfiguration is DockerConfiguration
    with pytest.raises(AttributeError):
        runconfig.HdiConfiguration  # noqa: B018


def test_the_agents_rule_and_image_recipe():
    assert docker_settings({"docker_base_image": "img:1"}) is None
    assert docker_settings({"docker_enabled": True}, {}).base_image == DEFAULT_BASE_IMAGE  # type: ignore[union-attr]
    found = docker_settings({"docker_enabled": True}, {"AML_DOCKER_BASE_IMAGE": "mine:2"})
    assert found is not None and found.base_image == "mine:2"
    with pytest.raises(EnvBuildError, match="not an image reference"):
        docker_settings({"docker_enabled": True, "docker_base_image": "img:1\nRUN [\"id\"]"})
    assert 'RUN ["/usr/bin/python3.12", "-m", "venv"' in dockerfile("img:1", False, [], "/usr/bin/python3.12")
    recipe = dockerfile("img:1", True, ["PIP_INDEX_URL"])
    assert recipe.startswith("FROM img:1\nARG PIP_INDEX_URL\n")
    assert "\nRUN " not in recipe.replace('\nRUN ["', "")  # exec form only: the base image needs no shell
    assert "ENV SSL_CERT_FILE=/opt/aml-ca.pem PIP_CERT=/opt/aml-ca.pem" in recipe


def test_registered_hashes_change_only_when_docker_is_on():
    plain = EnvironmentDefinition(name="e")
    assert "docker_enabled" not in canonical_spec(plain)  # hashes registered before stay the same
    assert canonical_spec(EnvironmentDefinition(name="e", docker_enabled=True))["docker_enabled"] is True
