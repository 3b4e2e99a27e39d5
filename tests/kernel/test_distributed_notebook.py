"""examples/distributed-v1.ipynb, v1 driver code for distributed jobs, runs cell by cell in a real kernel against a
live service: a gloo all-reduce over 2 processes on local compute and over 2 nodes of a cluster, MPI's and
TensorFlow's variables."""

from __future__ import annotations

from tests.kernel.test_examples import execute, outputs_of


def test_the_distributed_notebook(kernel_env, examples_copy):
    nb = execute(examples_copy / "distributed-v1.ipynb")  # raises CellExecutionError on any cell error
    text = outputs_of(nb)
    assert "Completed [3.0, 3.0]" in text
    assert "['azureml-logs/70_driver_log_0.txt', 'azureml-logs/70_driver_log_1.txt']" in text
    assert "mpi Completed ['0', '1']" in text
    assert "tf Completed [('ps', 0), ('worker', 0), ('worker', 1)]" in text
    assert "cluster Completed [3.0, 3.0]" in text
