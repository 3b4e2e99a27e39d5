"""v1's environment and run configuration objects, without a service: CondaDependencies and its PyPI mapping,
Environment files, RunConfiguration and .runconfig files (ours and a hand-written v1 one), and the refusals."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from jupyter_aml.envbuild.conda import CONDA_TO_PYPI, NATIVE, SAME_NAME, resolve
from jupyter_aml.envbuild.venv import EnvBuildError, find_interpreter, parse_spec, prepare_environment
from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.conda import CondaDependencies
from jupyter_aml.sdk.config import ScriptRunConfig
from jupyter_aml.sdk.environment import Environment, environment_from_conda_file
from jupyter_aml.sdk.run_configuration import RunConfiguration
from jupyter_aml.sdk.runconfig import DockerConfiguration

DOCS = Path(__file__).resolve().parents[2] / "docs" / "environments.md"
HERE = f"{sys.version_info.major}.{sys.version_info.minor}"

V1_RUNCONFIG = """\
# The script to run.
script: train.py
# The arguments to the script file.
arguments: [--alpha, '0.5']
# The name of the compute target to use for this run.
target: local
# Framework to execute inside. Allowed values are "Python" ,  "PySpark", "CNTK",  "TensorFlow", and "PyTorch".
framework: Python
# Communicator for the given framework. Allowed values are "None" ,  "ParameterServer", "OpenMpi", and "IntelMpi".
communicator: None
# Automatically prepare the run environment as part of the run itself.
autoPrepareEnvironment: true
# Maximum allowed duration for the run.
maxRunDurationSeconds: 600
# Number of nodes to use for running job.
nodeCount: 1
# Environment details.
environment:
# Environment variables set for the run.
  environmentVariables:
    EXAMPLE_ENV_VAR: EXAMPLE_VALUE
# Python details
  python:
# user_managed_dependencies=True indicates that the environmentwill be user managed.
    userManagedDependencies: false
# The python interpreter path
    interpreterPath: python
# Path to the conda dependencies file to use for this run.
    condaDependenciesFile: aml_config/conda_dependencies.yml
# Docker details
  docker:
# Set True to perform this run inside a Docker container.
    enabled: false
# Base image used for Docker-based runs.
    baseImage: mcr.microsoft.com/azureml/base:0.2.4
# Set False if necessary to work around shared volume bugs.
    sharedVolumes: true
# Run with NVidia Docker extension to support GPUs.
    gpuSupport: false
# Extra arguments to the Docker run command.
    arguments: []
# Image registry that contains the base image.
    baseImageRegistry:
# DNS name or IP address of azure container registry(ACR)
      address:
# The username for ACR
      username:
# The password for ACR
      password:
# Spark details
  spark:
    repositories:
    - https://mmlspark.azureedge.net/maven
    packages: []
    precachePackages: true
history:
  outputCollection: true
  snapshotProject: true
spark:
  configuration:
    spark.app.name: Azure ML Experiment
    spark.yarn.maxAppAttempts: 1
hdi:
  yarnDeployMode: Cluster
tensorflow:
  workerCount: 1
  parameterServerCount: 1
mpi:
  processCountPerNode: 1
dataReferences: {}
sourceDirectoryDataStore:
amlcompute:
  vmSize:
  vmPriority:
  retainCluster: false
  name:
  clusterMaxNodeCount: 1
"""

V1_CONDA = """\
# The dependencies defined in this file will be automatically provisioned for runs with userManagedDependencies=False.
name: project_environment
dependencies:
  # The python interpreter version.
- python=3.11
- scikit-learn=1.3
- py-xgboost>=1.7
- mkl
- pip:
    # Required packages for AzureML execution, history, and data preparation.
  - azureml-defaults
  - six==1.16.0
channels:
- conda-forge
"""


def test_conda_packages_map_to_pypi():
    found = resolve(["python=3.10.4", "pytorch=2.1", "py-xgboost>=1.7", "scikit-learn==1.3.2", "mkl", "pip",
                     "conda-forge::pyyaml", "numpy 1.26.4 py311h64a7726_0"], ["azureml-core==1.61", "six"],
                    ["conda-forge"])
    assert found.pip == ("torch==2.1.*", "xgboost>=1.7", "scikit-learn==1.3.2", "PyYAML", "numpy==1.26.4", "six")
    assert found.python_version == "3.10"
    notes = " | ".join(found.notes)
    assert "channels conda-forge ignored" in notes and "mkl skipped" in notes and "azureml-core skipped" in notes
    assert "build string 'py311h64a7726_0'" in notes
    with pytest.raises(ValueError, match=r"r-base, nodejs have no known PyPI equivalent.*CONDA_TO_PYPI"):
        resolve(["r-base", "nodejs", "numpy"])
    with pytest.raises(ValueError, match="exact Python version"):
        resolve(["python>=3.8"])


def test_the_mapping_table_is_documented():
    text = DOCS.read_text()
    for conda, pypi in CONDA_TO_PYPI.items():
        assert re.search(rf"\| `{re.escape(conda)}` \| `{re.escape(pypi)}` \|", text), conda
    for name in list(SAME_NAME) + list(NATIVE):
        assert f"`{name}`" in text, name


def test_conda_dependencies_v1_methods(tmp_path):
    deps = CondaDependencies.create(pip_packages=["six", "requests>=2"], conda_packages=["scikit-learn"],
                                    python_version="3.11", pin_sdk_version=True)
    deps.add_conda_package("pytorch=2.1")
    deps.add_conda_package("scikit-learn=1.3")  # replaces by name
    deps.add_pip_package("six==1.16.0")
    deps.remove_pip_package("requests")
    deps.add_channel("conda-forge")
    deps.set_pip_option("--extra-index-url https://example.invalid/simple")
    assert deps.conda_packages == ["pytorch=2.1", "scikit-learn=1.3"] and deps.pip_packages == ["six==1.16.0"]
    assert deps.get_python_version() == "3.11" and deps.conda_channels == ["conda-forge"]
    deps.remove_conda_package("pytorch")
    assert deps.resolved_pip() == ["scikit-learn==1.3.*", "six==1.16.0",
                                   "--extra-index-url https://example.invalid/simple"]
    text = deps.serialize_to_string()
    assert "- python=3.11" in text and "- pip:" in text and "conda-forge" in text
    saved = Path(deps.save(tmp_path / "env.yml"))
    assert CondaDependencies(saved) == deps
    deps.set_python_version("3.10")
    assert deps.get_python_version() == "3.10"
    with pytest.raises(InvalidInput, match="exact Python version"):
        deps.set_python_version(">=3.8")
    deps.add_conda_package("r-base")
    with pytest.raises(InvalidInput, match="r-base has no known PyPI equivalent"):
        deps.resolved_pip()


def test_environment_from_conda_specification(tmp_path):
    (tmp_path / "env.yml").write_text(V1_CONDA)
    env = Environment.from_conda_specification("sk", tmp_path / "env.yml")
    spec = env.to_spec()
    assert spec["python"]["user_managed"] is False and spec["python_version"] == "3.11"
    py = parse_spec(spec)
    assert py.pip == ("scikit-learn==1.3.*", "xgboost>=1.7", "six==1.16.0") and py.python_version == "3.11"
    again = Environment.from_spec(spec)
    assert again.python.conda_dependencies == env.python.conda_dependencies
    assert environment_from_conda_file(tmp_path / "env.yml").python.conda_dependencies == env.python.conda_dependencies
    (tmp_path / "bad.yml").write_text("dependencies: [nodejs]\n")
    with pytest.raises(InvalidInput, match="nodejs has no known PyPI equivalent"):
        Environment.from_conda_specification("bad", tmp_path / "bad.yml")
    with pytest.raises(InvalidInput, match="cannot read conda file"):
        Environment.from_conda_specification("none", tmp_path / "missing.yml")
    both = Environment.from_conda_specification("both", tmp_path / "env.yml")
    both.python.python_version = "3.10"
    with pytest.raises(InvalidInput, match="give one Python version"):
        both.to_spec()


def test_save_to_directory_load_and_clone(tmp_path):
    env = Environment.from_conda_specification("saved", _conda(tmp_path))
    env.python.pip_packages.append("tqdm")
    env.environment_variables["MODE"] = "x"
    env.docker.enabled, env.docker.base_image, env.docker.shm_size = True, "python:3.11-slim", "1g"
    env.save_to_directory(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["azureml_environment.json",
                                                                    "conda_dependencies.yml"]
    with pytest.raises(Exception, match="not empty"):
        env.save_to_directory(tmp_path / "out")
    env.save_to_directory(tmp_path / "out", overwrite=True)
    loaded = Environment.load_from_directory(tmp_path / "out")
    assert parse_spec(loaded.to_spec()).pip == parse_spec(env.to_spec()).pip
    assert loaded.to_spec()["python_version"] == "3.11" and loaded.environment_variables == {"MODE": "x"}
    assert (loaded.docker.enabled, loaded.docker.base_image, loaded.docker.shm_size) == (True, "python:3.11-slim", "1g")
    twin = env.clone("twin")
    twin.python.pip_packages.append("rich")
    assert twin.name == "twin" and "rich" not in env.python.pip_packages


def test_docker_constructors_and_refusals(tmp_path):
    env = Environment.from_docker_image("img", "base:1", pip_requirements=_requirements(tmp_path))
    assert env.docker.base_image == "base:1" and env.python.pip_packages == ["six"]

    class Registry:
        address, username, password = "registry.local:5000", None, None

    assert Environment.from_docker_image("r", "base:1", container_registry=Registry()).docker.base_image == \
        "registry.local:5000/base:1"
    Registry.password = "secret"
    with pytest.raises(InvalidInput, match="credentials are not used"):
        Environment.from_docker_image("r", "base:1", container_registry=Registry())
    (tmp_path / "Dockerfile").write_text("FROM base:1\nENV X=1\n")
    built = Environment.from_dockerfile("df", tmp_path / "Dockerfile")
    assert built.docker.base_dockerfile == "FROM base:1\nENV X=1\n" and built.docker.base_image is None
    assert Environment.from_dockerfile("text", "FROM base:1\n").docker.base_dockerfile == "FROM base:1\n"
    with pytest.raises(InvalidInput, match="neither a file nor a Dockerfile"):
        Environment.from_dockerfile("none", tmp_path / "missing")
    src = ScriptRunConfig(".", "s.py", environment=built)
    with pytest.raises(InvalidInput, match="Docker is off"):
        src.run_config()
    assert ScriptRunConfig(".", "s.py", environment=built, docker_runtime_config=DockerConfiguration(
        use_docker=True)).run_config()["environment"]["docker_base_dockerfile"] == "FROM base:1\nENV X=1\n"
    built.docker.base_image = "other:2"
    with pytest.raises(InvalidInput, match="both set"):
        built.to_spec()
    gpu = Environment("gpu")
    gpu.docker.gpu_support = True
    with pytest.raises(InvalidInput, match="gpu_support"):
        gpu.to_spec()


def test_existing_conda_environment_needs_conda(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(InvalidInput, match="needs conda, which is not installed"):
        Environment.from_existing_conda_environment("mine", "myenv")


def test_runconfiguration_round_trip(tmp_path):
    rc = RunConfiguration(script="train.py", arguments=["--lr", 0.1])
    rc.target = "cpu-cluster"
    rc.max_run_duration_seconds = 120
    rc.environment = Environment.from_conda_specification("rt", _conda(tmp_path))
    rc.environment.docker.enabled = True
    rc.environment_variables["EXTRA"] = "1"
    written = Path(rc.save(tmp_path / "proj", "train"))
    assert written == tmp_path / "proj" / ".azureml" / "train.runconfig"
    loaded = RunConfiguration.load(tmp_path / "proj", "train")
    assert (loaded.script, loaded.arguments, loaded.target) == ("train.py", ["--lr", "0.1"], "cpu-cluster")
    assert loaded.max_run_duration_seconds == 120 and loaded.environment_variables == {"EXTRA": "1"}
    assert loaded.to_rest() == rc.to_rest()
    assert loaded.environment.docker.enabled and loaded.to_rest()["environment"]["docker_enabled"] is True
    split = Path(rc.save(tmp_path / "proj2", "train", separate_environment_yaml=True))
    assert (split.parent / "environment.yml").is_file()
    assert RunConfiguration.load(split).to_rest() == rc.to_rest()
    with pytest.raises(InvalidInput, match="not found"):
        RunConfiguration.load(tmp_path / "proj", "missing")


def test_a_hand_written_v1_runconfig_loads(tmp_path):
    (tmp_path / "aml_config").mkdir()
    (tmp_path / "aml_config" / "local.runconfig").write_text(V1_RUNCONFIG)
    (tmp_path / "aml_config" / "conda_dependencies.yml").write_text(V1_CONDA)
    rc = RunConfiguration.load(tmp_path, "local")
    assert (rc.script, rc.arguments, rc.target, rc.framework) == ("train.py", ["--alpha", "0.5"], "local", "Python")
    assert rc.max_run_duration_seconds == 600 and rc.node_count == 1
    env = rc.environment
    assert env.environment_variables == {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"} and not env.docker.enabled
    assert env.docker.base_image == "mcr.microsoft.com/azureml/base:0.2.4"
    body = ScriptRunConfig(str(tmp_path), run_config=rc).run_config()
    assert body["script"] == "train.py" and body["max_run_duration_seconds"] == 600
    assert parse_spec(body["environment"]).pip == ("scikit-learn==1.3.*", "xgboost>=1.7", "six==1.16.0")
    assert "spark" in rc._extra and "hdi" in rc._extra  # kept for a round trip, used by nothing here
    Path(rc.save(tmp_path, "again"))
    assert RunConfiguration.load(tmp_path, "again").to_rest() == rc.to_rest()


def test_the_shim_names_them_as_v1_does(monkeypatch):
    import importlib

    from jupyter_aml.envbuild.venv import SHIM_DIR

    monkeypatch.syspath_prepend(str(SHIM_DIR))
    for name in [m for m in sys.modules if m == "azureml" or m.startswith("azureml.")]:
        monkeypatch.delitem(sys.modules, name)
    core = importlib.import_module("azureml.core")
    assert core.RunConfiguration is RunConfiguration and core.Environment is Environment
    assert importlib.import_module("azureml.core.runconfig").RunConfiguration is RunConfiguration
    assert importlib.import_module("azureml.core.conda_dependencies").CondaDependencies is CondaDependencies
    environment = importlib.import_module("azureml.core.environment")
    assert environment.CondaDependencies is CondaDependencies and environment.DEFAULT_CPU_IMAGE
    with pytest.raises(AttributeError):
        environment.SparkSection  # noqa: B018


def test_script_run_config_keeps_v1s_run_config(tmp_path):
    rc = RunConfiguration()
    rc.target = "local"
    rc.environment = Environment("env-a")
    rc.max_run_duration_seconds = 30
    src = ScriptRunConfig(source_directory=".", script="train.py", arguments=["1"], run_config=rc,
                          compute_target="cpu")
    assert src.run_config is not rc and isinstance(src.run_config, RunConfiguration)
    assert (src.run_config.target, src.run_config.environment.name, src.run_config.script) == ("cpu", "env-a",
                                                                                                "train.py")
    assert src.compute_target == "cpu" and src.max_run_duration_seconds == 30 and rc.target == "local"
    src.run_config.environment = Environment("env-b")
    src.run_config.docker = DockerConfiguration(use_docker=True)
    body = src.run_config()
    assert body["environment"]["name"] == "env-b" and body["environment"]["docker_enabled"] is True
    cmd = ScriptRunConfig(".", command=["python", "train.py", "--x", 2])
    assert (cmd.script, cmd.arguments) == ("train.py", ["--x", "2"])


@pytest.mark.parametrize(("change", "message"), [
    (lambda rc: setattr(rc, "framework", "PySpark"), "framework 'PySpark' is not supported"),
    (lambda rc: setattr(rc, "node_count", 2), "needs a distributed job"),
    (lambda rc: setattr(rc, "communicator", "Horovod"), "not one of None, ParameterServer, OpenMpi"),
    (lambda rc: rc.history.__setattr__("output_collection", False), "output_collection=False"),
    (lambda rc: rc.data.update({"x": object()}), "run_config.data"),
    (lambda rc: setattr(rc.amlcompute, "vm_size", "STANDARD_D2"), "amlcompute"),
    (lambda rc: setattr(rc, "max_run_duration_seconds", 0), "at least 1"),
])
def test_what_cannot_be_honoured_is_refused(change, message):
    src = ScriptRunConfig(".", "train.py")
    change(src.run_config)
    with pytest.raises(InvalidInput, match=message):
        src.run_config()


def test_distributed_job_config_is_kept_not_dropped():
    class PyTorchLike:
        process_count = 2

    job = PyTorchLike()
    src = ScriptRunConfig(".", "train.py", distributed_job_config=job)
    assert src.distributed_job_config is job and src.run_config.distributed_job_config is job


def test_python_version_found_or_refused(tmp_path):
    assert find_interpreter(HERE)
    with pytest.raises(EnvBuildError, match=r"needs Python 3\.99, which is not installed"):
        find_interpreter("3.99")
    spec = {"python": {"user_managed": True}, "python_version": "3.99"}
    with pytest.raises(EnvBuildError, match=r"needs Python 3\.99"):
        prepare_environment(spec, tmp_path / "envs", log=lambda _: None)
    managed = {"python": {"user_managed": False, "pip": []}, "python_version": HERE}
    lines: list[str] = []
    prepared = prepare_environment(managed, tmp_path / "envs", log=lines.append)
    assert prepared.venv is not None and (prepared.venv / "bin" / "python").exists()


def _conda(tmp_path: Path) -> Path:
    file = tmp_path / "conda.yml"
    file.write_text(V1_CONDA)
    return file


def _requirements(tmp_path: Path) -> Path:
    file = tmp_path / "requirements.txt"
    file.write_text("six\n")
    return file


def test_a_new_environment_has_conda_dependencies_to_add_to_and_a_registry():
    """v1 code adds packages straight away (``env.python.conda_dependencies.add_pip_package``) and sets the base
    image's registry address (``env.docker.base_image_registry.address``)."""
    from jupyter_aml._shim.azureml.core.container_registry import ContainerRegistry

    env = Environment("fresh")
    assert isinstance(env.python.conda_dependencies, CondaDependencies)
    assert "conda_dependencies" not in env.to_spec()["python"]  # nothing added: no conda specification
    env.python.conda_dependencies.add_pip_package("six")
    assert env.to_spec()["python"]["conda_dependencies"]["pip"] == ["six"]
    env.docker.base_image = "trainer:1"
    env.docker.base_image_registry.address = "registry.example.com"
    assert env.to_spec()["docker_base_image"] == "registry.example.com/trainer:1"
    env.docker.base_image_registry = ContainerRegistry(address="registry.example.com", username="u", password="p")
    with pytest.raises(InvalidInput, match="container registry credentials are not used here"):
        env.to_spec()


def test_v1s_dataset_runtime_brings_what_reading_datasets_needs():
    """``azureml-dataset-runtime[pandas,fuse]`` (v1's datasets tutorial) is the shim here, and a run that reads
    ``run.input_datasets[...]`` needs pyarrow, fsspec and s3fs (and pandas for the extra) in its environment."""
    found = resolve(["scikit-learn"], ["azureml-sdk", "azureml-dataset-runtime[pandas,fuse]", "joblib"])
    assert found.pip == ("scikit-learn", "pyarrow", "fsspec", "s3fs", "pandas", "joblib")
    assert any("azureml-sdk skipped" in note for note in found.notes)
    assert resolve([], ["azureml-dataprep"]).pip == ("pyarrow", "fsspec", "s3fs")
