"""Registered environments keep v1's Docker switch: turning it on is a new version, and it comes back."""

from __future__ import annotations

from jupyter_aml import Environment


def test_docker_enabled_is_part_of_what_an_environment_is(service):
    ws = service.workspace("dockerenvs")
    env = Environment("boxed")
    env.docker.base_image = "img:1"
    assert env.register(ws).version == "1"
    env.docker.enabled = True
    env.docker.shm_size = "1g"
    assert env.register(ws).version == "2"
    assert env.register(ws).version == "2"
    got = Environment.get(ws, "boxed")
    assert (got.docker.enabled, got.docker.base_image, got.docker.shm_size) == (True, "img:1", "1g")
    assert Environment.get(ws, "boxed", version=1).docker.enabled is False
