"""The notebook step (azureml.contrib.notebook, v1's NotebookRunnerStep) in a real pipeline on a real service:
a PipelineParameter reaches the notebook's injected parameters cell, the executed notebook is kept with the
step run's files, and a notebook whose cell raises fails its step with that cell's error. Also v1's
Experiment.submit(NotebookRunConfig(...)): the notebook as a run of its own."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from azureml.contrib.notebook import NotebookRunConfig, NotebookRunnerStep, PapermillExecutionHandler
from azureml.core import Experiment
from azureml.pipeline.core import Pipeline, PipelineParameter

from jupyter_aml.errors import InvalidInput


def _notebook(path: Path, *cells: str, parameters: str | None = None) -> None:
    nb = nbformat.v4.new_notebook()
    if parameters is not None:
        nb.cells.append(nbformat.v4.new_code_cell(parameters))
        nb.cells[-1].metadata["tags"] = ["parameters"]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_a_notebook_step_runs_with_parameters_and_a_failing_cell_fails_its_step(service, tmp_path: Path) -> None:
    ws = service.workspace("notebooks")
    src = tmp_path / "nb"
    _notebook(src / "report.ipynb", "print('report', rows * 2, label)", parameters="rows = 1\nlabel = 'default'")
    _notebook(src / "broken.ipynb", "x = 41", "raise ValueError(f'bad cell {x + 1}')")
    rows = PipelineParameter("rows", 3)
    report = NotebookRunnerStep(name="report", compute_target="local", notebook_run_config=NotebookRunConfig(
        source_directory=str(src), notebook="report.ipynb", parameters={"rows": rows, "label": "from-pipeline"},
        handler=PapermillExecutionHandler(timeout=120)))
    broken = NotebookRunnerStep(name="broken", compute_target="local", notebook_run_config=NotebookRunConfig(
        source_directory=str(src), notebook="broken.ipynb"))
    run = Pipeline(ws, [report, broken]).submit("notebooks", pipeline_parameters={"rows": 21},
                                                continue_on_step_failure=True)
    alone = Experiment(ws, "notebooks").submit(NotebookRunConfig(  # v1's other use: a notebook as a run
        source_directory=str(src), notebook="report.ipynb", parameters={"rows": 5, "label": "alone"}))
    assert run.wait_for_completion(show_output=False, timeout_seconds=180, raise_on_error=False) == "Failed"
    assert run.get_step_states() == {"report": "Completed", "broken": "Failed"}
    alone.wait_for_completion(show_output=False)
    assert any("report 10 alone" in line["text"] for line in alone.get_logs())
    assert "outputs/report.ipynb" in alone.get_file_names()

    done = run.find_step_run("report")[0]
    assert any("report 42 from-pipeline" in line["text"] for line in done.get_logs())
    assert "outputs/report.ipynb" in done.get_file_names()
    executed = nbformat.read(done.download_file("outputs/report.ipynb", tmp_path / "out.ipynb"), as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "rows = 21" in injected[0].source and "'from-pipeline'" in injected[0].source
    assert "report 42 from-pipeline" in executed.cells[-1].outputs[0]["text"]

    failed = run.find_step_run("broken")[0]
    error = failed.get_details()["error"]["message"]
    assert error.startswith("ValueError: bad cell 42 at broken.ipynb:1 in cell 2"), error
    assert "step 'broken' failed" in run.get_details()["error"]["message"]
    kept = nbformat.read(failed.download_file("outputs/broken.ipynb", tmp_path / "b.ipynb"), as_version=4)
    assert kept.cells[-1].outputs[0]["ename"] == "ValueError"  # the failing cell's output is kept too


def test_what_the_notebook_step_refuses() -> None:
    with pytest.raises(InvalidInput, match=r"must name a \.ipynb"):
        NotebookRunConfig(source_directory=".", notebook="train.py")
    with pytest.raises(InvalidInput, match="not a Python literal"):
        NotebookRunConfig(notebook="a.ipynb", parameters={"x": object()})
    with pytest.raises(InvalidInput, match="belongs to a pipeline"):
        NotebookRunConfig(notebook="a.ipynb", parameters={"x": PipelineParameter("x", 1)})._submit(None, None)
    with pytest.raises(InvalidInput, match="kernel_name 'ir' is not supported"):
        PapermillExecutionHandler(kernel_name="ir")
    with pytest.raises(InvalidInput, match="output_notebook_pipeline_data_name is not supported"):
        NotebookRunnerStep(notebook_run_config=NotebookRunConfig(notebook="a.ipynb"),
                           output_notebook_pipeline_data_name="nb")
