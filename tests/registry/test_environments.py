"""The environment registry: versions by spec hash."""

from __future__ import annotations

import pytest

from jupyter_aml import Environment
from jupyter_aml.envbuild.curated import curated_names
from jupyter_aml.errors import NotFound, ValidationError


def test_register_get_list_versions_by_spec(service):
    ws = service.workspace("envs")
    env = Environment("scoring")
    env.add_pip_packages(["scikit-learn>=1.3"])
    env.environment_variables["MODE"] = "serve"
    env.python.python_version = "3.11"
    first = env.register(ws)
    assert (first.name, first.version) == ("scoring", "1")
    again = env.register(ws)  # unchanged spec: the same version
    assert again.version == "1"
    env.add_pip_packages(["numpy"])
    second = env.register(ws)
    assert second.version == "2"
    assert Environment.get(ws, "scoring").version == "2"
    one = Environment.get(ws, "scoring", version=1)
    assert one.python.pip_packages == ["scikit-learn>=1.3"] and one.environment_variables == {"MODE": "serve"}
    assert one.python.python_version == "3.11"
    env2 = Environment("other")
    env2.register(ws)
    assert set(Environment.list(ws)) == {"scoring", "other", *curated_names()}  # v1 lists the curated ones too
    assert Environment.list(ws)["scoring"].version == "2"
    items = service.client().get("workspaces/envs/environments", params={"name": "scoring"})["items"]
    assert [i["version"] for i in items] == [2, 1] and items[0]["spec_hash"] != items[1]["spec_hash"]
    with pytest.raises(NotFound):
        Environment.get(ws, "scoring", version=9)
    bad = Environment("bad")
    bad.python.python_version = "2.7"
    with pytest.raises(ValidationError, match="python_version"):
        bad.register(ws)
