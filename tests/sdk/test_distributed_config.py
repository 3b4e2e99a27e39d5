"""v1's distributed job configurations: their arguments, their REST payload, and what is refused with why."""

from __future__ import annotations

import pytest

from jupyter_aml.core.models import RunConfig
from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.config import ScriptRunConfig
from jupyter_aml.sdk.distributed import (
    MpiConfiguration,
    PyTorchConfiguration,
    TensorflowConfiguration,
    distributed_from_dict,
)
from jupyter_aml.sdk.run_configuration import RunConfiguration


def test_v1_defaults_and_payloads_which_the_service_accepts() -> None:
    torch = PyTorchConfiguration()
    assert (torch.communication_backend, torch.process_count, torch.node_count) == ("Nccl", None, 1)
    assert PyTorchConfiguration("gloo", 4, 2).to_dict() == {"framework": "PyTorch", "node_count": 2,
                                                          "process_count": 4, "communication_backend": "Gloo"}
    assert PyTorchConfiguration(node_count=3).to_dict()["process_count"] == 3  # one per node by default
    assert MpiConfiguration(2, 3).to_dict() == {"framework": "Mpi", "node_count": 3, "process_count": 6}
    tf = TensorflowConfiguration(worker_count=2, parameter_server_count=1)
    assert tf.to_dict() == {"framework": "TensorFlow", "node_count": 1, "process_count": 3, "worker_count": 2,
                            "parameter_server_count": 1}
    for config in (torch, PyTorchConfiguration("Gloo", 4, 2), MpiConfiguration(2, 3), tf):
        src = ScriptRunConfig(".", "train.py", distributed_job_config=config)
        assert src.distributed_job_config is config
        body = src.run_config()
        assert RunConfig.model_validate(body).distributed is not None  # the REST model takes it as it is
        assert distributed_from_dict(body["distributed"]) == config


def test_run_configuration_carries_it_and_spreads_tensorflow_over_its_nodes() -> None:
    rc = RunConfiguration()
    rc.node_count = 2
    src = ScriptRunConfig(".", "train.py", run_config=rc, distributed_job_config=TensorflowConfiguration(3, 1))
    assert src.run_config.distributed_job_config == TensorflowConfiguration(3, 1)
    assert src.run_config()["distributed"]["node_count"] == 2


@pytest.mark.parametrize(("make", "message"), [
    (lambda: PyTorchConfiguration("Horovod"), "communication_backend 'Horovod' is not one of Nccl, Gloo, Mpi"),
    (lambda: PyTorchConfiguration(process_count=3, node_count=2), "process_count 3 is not a multiple of node_count 2"),
    (lambda: PyTorchConfiguration(node_count=0), "node_count must be an integer of at least 1"),
    (lambda: MpiConfiguration(process_count_per_node=0), "process_count_per_node must be an integer of at least 1"),
    (lambda: TensorflowConfiguration(worker_count=True), "worker_count must be an integer"),
    (lambda: ScriptRunConfig(".", "t.py", distributed_job_config={"node_count": 2}).run_config(),
     "distributed_job_config must be a PyTorchConfiguration, MpiConfiguration or TensorflowConfiguration"),
])
def test_what_cannot_work_is_refused_with_why(make, message) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_the_service_refuses_an_inconsistent_payload() -> None:
    # schema-valid, but inconsistent: bad input (400) when submitted, not a schema error (the document holds)
    mpi = RunConfig.model_validate({"script": "t.py", "distributed": {"framework": "Mpi", "node_count": 3,
                                                                      "process_count": 2}})
    assert mpi.distributed is not None
    with pytest.raises(InvalidInput, match="every node runs at least one process"):
        mpi.distributed.check_layout()
    tf = RunConfig.model_validate({"script": "t.py", "distributed": {"framework": "TensorFlow", "process_count": 3,
                                                                     "worker_count": 1}})
    assert tf.distributed is not None
    with pytest.raises(InvalidInput, match="worker_count"):
        tf.distributed.check_layout()
    with pytest.raises(ValueError):
        RunConfig.model_validate({"script": "t.py", "distributed": {"framework": "Horovod"}})


def test_the_shim_names_them_in_azureml_core_runconfig() -> None:
    from azureml.core.runconfig import MpiConfiguration as Mpi
    from azureml.core.runconfig import PyTorchConfiguration as PyTorch
    from azureml.core.runconfig import TensorflowConfiguration as Tensorflow

    assert (PyTorch, Mpi, Tensorflow) == (PyTorchConfiguration, MpiConfiguration, TensorflowConfiguration)
