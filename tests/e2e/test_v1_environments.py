"""A v1-style driver against the real service: environments built each way (conda spec mapped to PyPI, pip file,
curated, saved folder, .runconfig file), runs importing what they installed, max_run_duration_seconds ending a
sleeping run on local compute and on a cluster (also across a restart of the service), and the refusals."""

from __future__ import annotations

import sys
import time

import pytest

from jupyter_aml import Experiment
from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.sdk.conda import CondaDependencies
from jupyter_aml.sdk.config import ScriptRunConfig
from jupyter_aml.sdk.environment import Environment
from jupyter_aml.sdk.run_configuration import RunConfiguration
from tests.e2e.conftest import wait_status, write_script

HERE = f"{sys.version_info.major}.{sys.version_info.minor}"
IMPORTS = """
import yaml, six
from azureml.core import Run
print("YAML", yaml.__version__, "SIX", six.__version__, flush=True)
Run.get_context().log("ok", 1)
"""
SLEEP = "import time\nprint('sleeping', flush=True)\ntime.sleep(300)\n"


def texts(run) -> list[str]:
    return [line["text"] for line in run.get_logs()]


def finished(run, timeout: float = 300) -> str:
    return wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=timeout)


def test_a_v1_driver_builds_environments_each_way(service, tmp_path):
    ws = service.workspace()
    exp = Experiment(ws, "v1-envs")
    src = write_script(tmp_path / "src", IMPORTS, "train.py")

    # CondaDependencies.create: pyyaml is a conda name (PyYAML on PyPI), python the one installed here
    deps = CondaDependencies.create(conda_packages=["pyyaml", "mkl"], pip_packages=["six", "azureml-defaults"],
                                    python_version=HERE)
    deps.add_channel("conda-forge")
    env = Environment("conda-env")
    env.python.conda_dependencies = deps
    run = exp.submit(ScriptRunConfig(src, "train.py", environment=env))
    assert finished(run) == "Completed", "\n".join(texts(run)[-40:])
    lines = texts(run)
    assert any(t.startswith("YAML ") and " SIX " in t for t in lines)
    joined = "\n".join(lines)
    assert "conda channels conda-forge ignored" in joined and "mkl skipped" in joined
    assert "azureml-defaults skipped" in joined and run.get_metrics()["ok"] == 1

    # the same environment, saved to a folder and to a v1 .runconfig file, loads and runs as it is
    env.save_to_directory(tmp_path / "saved")
    again = Environment.load_from_directory(tmp_path / "saved")
    rc = RunConfiguration(script="train.py")
    rc.environment = again
    rc.save(src, "train")
    loaded = RunConfiguration.load(src, "train")
    run2 = exp.submit(ScriptRunConfig(str(src), run_config=loaded))
    assert finished(run2) == "Completed", "\n".join(texts(run2)[-40:])
    assert any(t.startswith("reusing cached environment") for t in texts(run2))  # same spec, same venv

    # registered from a conda file, then fetched back
    (tmp_path / "env.yml").write_text(deps.serialize_to_string())
    registered = Environment.from_conda_specification("from-file", tmp_path / "env.yml").register(ws)
    fetched = Environment.get(ws, "from-file")
    assert fetched.version == registered.version and fetched.python.conda_dependencies == deps
    build = fetched.build(ws)
    build.wait_for_completion(show_output=False)
    assert build.outcome["venv_hash"] and fetched.get_image_details(ws)["dockerImage"] is None

    # Python versions: the installed one is honoured, another is refused with the reason
    far = Environment("far")
    far.python.conda_dependencies = CondaDependencies.create(pip_packages=["six"], python_version="3.99")
    run3 = exp.submit(ScriptRunConfig(src, "train.py", environment=far))
    assert finished(run3) == "Failed"
    assert "needs Python 3.99, which is not installed" in run3.get_details()["error"]["message"]


def test_curated_environments_without_registering(service, tmp_path):
    ws = service.workspace()
    listed = Environment.list(ws)
    assert {"AzureML-Minimal", "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu"} <= set(listed)
    minimal = Environment.get(ws, "AzureML-Minimal")
    assert minimal.version == "1" and minimal.python.pip_packages == []
    assert Environment.get(ws, "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu").python.pip_packages[0].startswith(
        "scikit-learn")
    with pytest.raises(NotFound, match="curated environment 'AzureML-Nope'"):
        Environment.get(ws, "AzureML-Nope")
    # other versions of a family, as older v1 samples name them, are that family's environment
    older = Environment.get(ws, "AzureML-sklearn-0.24-ubuntu18.04-py37-cpu")
    assert older.name == "AzureML-sklearn-0.24-ubuntu18.04-py37-cpu" and older.python.pip_packages[0].startswith(
        "scikit-learn>=1.0")
    assert Environment.get(ws, "AzureML-PyTorch-1.6-CPU").python.pip_packages == ["torch==2.13.0"]
    assert "matplotlib" in Environment.get(ws, "AzureML-Tutorial").python.pip_packages
    with pytest.raises(NotFound, match="GPU ones are not"):
        Environment.get(ws, "AzureML-pytorch-1.10-ubuntu18.04-py38-cuda11-gpu")
    src = write_script(tmp_path / "src", "import sys\nprint('PY', sys.prefix)\n")
    run = Experiment(ws, "curated").submit(ScriptRunConfig(src, "script.py", environment=minimal))
    assert finished(run) == "Completed", "\n".join(texts(run)[-40:])
    assert any(t.startswith("PY ") and sys.prefix not in t for t in texts(run))  # its own venv
    with pytest.raises(InvalidInput, match="reserved for curated"):
        minimal.clone("AzureML-Mine").register(ws)


def test_an_unmappable_conda_package_fails_its_build_naming_it(service):
    service.workspace()
    client = service.client()
    # the SDK refuses it before sending anything; a REST client's definition is refused when it is built
    registered = client.post("workspaces/e2e/environments", {
        "name": "bad", "python": {"conda_dependencies": {"dependencies": ["numpy", "r-base"]}}})
    with pytest.raises(InvalidInput, match="r-base has no known PyPI equivalent"):
        client.post(f"workspaces/e2e/environments/bad/versions/{registered['version']}/build", {})


def test_max_run_duration_cancels_a_sleeping_run_on_local(service, tmp_path):
    src = write_script(tmp_path / "src", SLEEP)
    started = time.monotonic()
    run = Experiment(service.workspace(), "deadline").submit(ScriptRunConfig(src, "script.py",
                                                                             max_run_duration_seconds=3))
    assert finished(run, timeout=60) == "Canceled"
    assert time.monotonic() - started < 40
    error = run.get_details()["error"]["message"]
    assert "exceeded its max_run_duration_seconds of 3 s" in error
    assert "sleeping" in texts(run)
    quick = Experiment(service.workspace(), "deadline").submit(ScriptRunConfig(
        write_script(tmp_path / "quick", "print('done')\n"), "script.py", max_run_duration_seconds=120))
    assert finished(quick) == "Completed"


def test_max_run_duration_on_a_cluster_and_across_a_restart(service, tmp_path):
    ws = service.workspace()
    client = service.client()
    client.post("workspaces/e2e/computes", {"name": "dl-cluster", "type": "AmlCompute", "max_nodes": 1})
    src = write_script(tmp_path / "src", SLEEP)
    exp = Experiment(ws, "deadline")
    run = exp.submit(ScriptRunConfig(src, "script.py", compute_target="dl-cluster", max_run_duration_seconds=4))
    assert finished(run, timeout=120) == "Canceled"
    assert "max_run_duration_seconds of 4 s" in run.get_details()["error"]["message"]

    local = exp.submit(ScriptRunConfig(src, "script.py", max_run_duration_seconds=12))
    assert wait_status(local, {"Running"}, timeout=60) == "Running"
    service.stop()
    service.start()
    again = service.workspace().get_run(local.id)
    assert finished(again, timeout=90) == "Canceled"  # reattached after the restart: the deadline still held
    assert "max_run_duration_seconds of 12 s" in again.get_details()["error"]["message"]
