"""examples/environments-v1.ipynb, v1 driver code for environments and run configuration, runs cell by cell in a
real kernel against a live service and shows what it should."""

from __future__ import annotations

from tests.kernel.test_examples import execute, outputs_of


def test_the_environments_notebook(kernel_env, examples_copy):
    nb = execute(examples_copy / "environments-v1.ipynb")  # raises CellExecutionError on any cell error
    text = outputs_of(nb)
    assert "- python=" in text and "- pyyaml" in text  # the conda file as v1 serializes it
    assert "notebook-env 1" in text or "notebook-env " in text
    assert (examples_copy / "env-demo" / ".azureml" / "train.runconfig").is_file()
    assert "local notebook-env 600" in text
    assert "Completed {'yaml_loaded': 1}" in text
    assert "['azureml_environment.json', 'conda_dependencies.yml']" in text
    assert "notebook-env ['pyyaml']" in text
    assert "AzureML-Minimal 1 ['AzureML-Minimal'," in text
    assert "refused: Environment.from_existing_conda_environment('base') needs conda" in text
    assert "refused: conda package nodejs has no known PyPI equivalent" in text
    assert "Canceled - the run exceeded its max_run_duration_seconds of 3 s" in text
