"""v1's ``RunConfiguration.communicator`` (with its ``mpi`` / ``tensorflow`` / ``pytorch`` sections and
``node_count``) is the distributed job it names: IntelMpi / OpenMpi an MpiConfiguration, ParameterServer a
TensorflowConfiguration, Nccl / Gloo a PyTorchConfiguration with that backend. What does not map exactly, or
says two different things, is refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_aml import Experiment, ScriptRunConfig
from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.distributed import MpiConfiguration, PyTorchConfiguration, TensorflowConfiguration
from jupyter_aml.sdk.run_configuration import RunConfiguration
from tests.e2e.conftest import write_script


def _payload(rc: RunConfiguration, **kwargs) -> dict | None:
    """The REST ``run_config.distributed`` a submission of ``rc`` sends (None: not a distributed job)."""
    return ScriptRunConfig(".", "train.py", run_config=rc, **kwargs).run_config().get("distributed")


@pytest.mark.parametrize("communicator", ["IntelMpi", "OpenMpi"])
def test_an_mpi_communicator_is_an_mpi_job(communicator: str) -> None:
    rc = RunConfiguration(communicator=communicator)
    rc.mpi.process_count_per_node = 3
    rc.node_count = 1
    assert _payload(rc) == MpiConfiguration(3, 1).to_dict() == {"framework": "Mpi", "node_count": 1,
                                                                 "process_count": 3}
    rc.node_count = 2
    assert _payload(rc) == MpiConfiguration(3, 2).to_dict()


def test_parameter_server_is_a_tensorflow_job() -> None:
    rc = RunConfiguration(framework="TensorFlow", communicator="ParameterServer")
    rc.tensorflow.worker_count, rc.tensorflow.parameter_server_count = 2, 1
    assert _payload(rc) == TensorflowConfiguration(2, 1).to_dict()
    rc.node_count = 3  # the tasks spread over the run's nodes, as distributed_job_config does
    assert _payload(rc) == {**TensorflowConfiguration(2, 1).to_dict(), "node_count": 3}


@pytest.mark.parametrize("backend", ["Nccl", "Gloo"])
def test_nccl_and_gloo_are_a_pytorch_job_with_that_backend(backend: str) -> None:
    rc = RunConfiguration(framework="PyTorch", communicator=backend)
    assert _payload(rc) == PyTorchConfiguration(backend, None, 1).to_dict()
    rc.node_count = 2
    rc.pytorch.process_count = 4
    assert _payload(rc) == {"framework": "PyTorch", "node_count": 2, "process_count": 4,
                            "communication_backend": backend}


def test_none_and_an_agreeing_distributed_job_config_change_nothing() -> None:
    assert _payload(RunConfiguration()) is None
    rc = RunConfiguration(communicator="Gloo")
    config = PyTorchConfiguration("Gloo", 2)
    assert _payload(rc, distributed_job_config=config) == config.to_dict()
    rc = RunConfiguration(communicator="IntelMpi")
    assert _payload(rc, distributed_job_config=MpiConfiguration(2)) == MpiConfiguration(2).to_dict()


@pytest.mark.parametrize(("make", "message"), [
    (lambda: RunConfiguration(framework="PyTorch", communicator="ParameterServer"),
     "'ParameterServer' is TensorFlow's parameter-server training: framework 'PyTorch' has no"),
    (lambda: RunConfiguration(framework="TensorFlow", communicator="Nccl"), "is a torch.distributed backend"),
    (lambda: RunConfiguration(communicator="Horovod"), "is not one of None, ParameterServer"),
    (lambda: _with(RunConfiguration(communicator="IntelMpi"), node_count=2, mpi=MpiConfiguration(1, 3)),
     "node_count=2 and mpi.node_count=3 disagree"),
    (lambda: _with(RunConfiguration(communicator="Gloo"), pytorch=PyTorchConfiguration("Mpi")),
     "communicator 'Gloo' and pytorch.communication_backend 'Mpi' disagree"),
    (lambda: _with(RunConfiguration(communicator="Gloo"), pytorch=PyTorchConfiguration("Gloo", 3), node_count=2),
     "process_count 3 is not a multiple of node_count 2"),
])
def test_what_does_not_map_exactly_is_refused(make, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        _payload(make())


@pytest.mark.parametrize(("communicator", "config", "message"), [
    ("ParameterServer", PyTorchConfiguration("Gloo", 2), "communicator 'ParameterServer' contradicts"),
    ("Nccl", PyTorchConfiguration("Gloo", 2), "communicator 'Nccl' contradicts"),
    ("Gloo", MpiConfiguration(2), "communicator 'Gloo' contradicts"),
])
def test_a_communicator_that_contradicts_distributed_job_config_is_refused(communicator, config, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        _payload(RunConfiguration(communicator=communicator), distributed_job_config=config)


def test_a_node_count_that_contradicts_distributed_job_config_is_refused() -> None:
    rc = RunConfiguration()
    rc.node_count = 3
    with pytest.raises(InvalidInput, match="node_count=3 contradicts"):
        _payload(rc, distributed_job_config=PyTorchConfiguration("Gloo", 2, node_count=2))


def test_the_sections_round_trip_through_a_runconfig_file(tmp_path) -> None:
    rc = RunConfiguration(framework="TensorFlow", communicator="ParameterServer")
    rc.script = "train.py"
    rc.tensorflow.worker_count, rc.tensorflow.parameter_server_count = 3, 2
    rc.mpi.process_count_per_node = 4
    rc.pytorch.process_count = 2
    path = rc.save(tmp_path, "tf")
    loaded = RunConfiguration.load(tmp_path, "tf")
    assert (loaded.tensorflow.worker_count, loaded.tensorflow.parameter_server_count) == (3, 2)
    assert loaded.mpi.process_count_per_node == 4 and loaded.pytorch.process_count == 2
    assert _payload(loaded) == TensorflowConfiguration(3, 2).to_dict()
    # a file v1 wrote (camelCase sections, a lower-case backend)
    (tmp_path / "v1.runconfig").write_text(
        "script: train.py\nframework: PyTorch\ncommunicator: Gloo\nnodeCount: 1\n"
        "pytorch:\n  communicationBackend: gloo\n  processCount: 2\n"
        "mpi:\n  processCountPerNode: 1\ntensorflow:\n  workerCount: 1\n  parameterServerCount: 1\n")
    assert _payload(RunConfiguration.load(tmp_path / "v1.runconfig")) == PyTorchConfiguration("Gloo", 2).to_dict()
    assert "tensorflow" in Path(path).read_text()


PROBE = """
import json, os
keys = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "PMI_RANK",
        "AZUREML_PYTORCH_BACKEND", "TF_CONFIG")
rank = os.environ.get("RANK") or os.environ.get("OMPI_COMM_WORLD_RANK") or "0"
os.makedirs("outputs", exist_ok=True)
with open(f"outputs/rank_{rank}.json", "w") as out:
    json.dump({k: os.environ.get(k) for k in keys}, out)
"""


def _ranks(run, tmp_path, count: int) -> list[dict]:
    run.wait_for_completion(raise_on_error=True)
    out = []
    for rank in range(count):
        target = run.download_file(f"outputs/rank_{rank}.json", tmp_path / f"{run.id}-{rank}.json")
        out.append(json.loads(target.read_text()))
    return out


def test_v1_communicators_run_as_distributed_jobs(service, tmp_path) -> None:
    ws = service.workspace("communicators")
    src = write_script(tmp_path / "proj", PROBE, "probe.py")
    mpi = RunConfiguration(communicator="IntelMpi")
    mpi.mpi.process_count_per_node = 2
    run = Experiment(ws, "mpi").submit(ScriptRunConfig(src, "probe.py", run_config=mpi), progress=False)
    ranks = _ranks(run, tmp_path, 2)
    assert [r["OMPI_COMM_WORLD_RANK"] for r in ranks] == ["0", "1"] and ranks[1]["PMI_RANK"] == "1"
    assert {r["OMPI_COMM_WORLD_SIZE"] for r in ranks} == {"2"}

    torch = RunConfiguration(framework="PyTorch", communicator="Gloo")
    torch.pytorch.process_count = 2
    run = Experiment(ws, "gloo").submit(ScriptRunConfig(src, "probe.py", run_config=torch), progress=False)
    ranks = _ranks(run, tmp_path, 2)
    assert [(r["RANK"], r["WORLD_SIZE"], r["AZUREML_PYTORCH_BACKEND"]) for r in ranks] == [
        ("0", "2", "gloo"), ("1", "2", "gloo")]


def _with(rc: RunConfiguration, **values) -> RunConfiguration:
    for key, value in values.items():
        setattr(rc, key, value)
    return rc
