"""examples/hyperdrive-v1.ipynb, v1 HyperDrive driver code, runs cell by cell in a real kernel against a live
service: three sweeps (random with a bandit policy, a grid, Bayesian), the best run and the live widget."""

from __future__ import annotations

from tests.kernel.test_examples import execute, outputs_of


def test_the_hyperdrive_notebook(kernel_env, examples_copy):
    nb = execute(examples_copy / "hyperdrive-v1.ipynb")  # raises CellExecutionError on any cell error
    text = outputs_of(nb)
    assert "True Completed 6" in text  # a HyperDriveRun with its 6 children
    assert "best: True" in text
    assert "metrics of 6 children; hyperparameters of 6" in text
    assert "grid children: 4" in text
    assert "bayesian: Completed 5" in text
    assert "refused: Grid sampling supports only choice: '--lr' is uniform" in text
    assert "refused: Bayesian sampling does not support early termination policies" in text
    assert "['randint', [10]]" in text
