"""A web service whose environment lists pip requirements runs in a venv built once and cached by spec hash."""

from __future__ import annotations

import sys

import requests

from jupyter_aml import Environment, InferenceConfig, Model, Webservice
from tests.serving.conftest import SCORING


def test_pip_requirements_build_a_cached_venv_for_the_replicas(service, tmp_path):
    ws = service.workspace("pipenv")
    (tmp_path / "weights.txt").write_text("w\n")
    model = Model.register(ws, tmp_path / "weights.txt", "tiny")
    env = Environment("with-six")
    env.python.user_managed_dependencies = False
    env.add_pip_packages(["six==1.17.0"])
    inference = InferenceConfig("score.py", source_directory=SCORING / "venv", environment=env)

    first = Model.deploy(ws, "six-a", [model], inference)
    first.wait_for_deployment()
    assert first.state == "Healthy", first.get_logs()
    answer = requests.post(first.scoring_uri, json={"data": [1]},
                           headers={"Authorization": f"Bearer {first.get_keys()[0]}"}, timeout=30).json()
    assert answer["six"] == "1.17.0" and answer["echo"] == {"data": [1]}
    assert answer["prefix"] != sys.prefix and "envs" in answer["prefix"]  # the cached venv, not ours

    second = Model.deploy(ws, "six-b", [model], inference)  # same spec: no second build
    second.wait_for_deployment()
    assert second.state == "Healthy"
    assert "reusing" in second.get_logs()
    assert second.run({"data": [2]})["prefix"] == answer["prefix"]
    for svc in Webservice.list(ws):
        svc.delete()
