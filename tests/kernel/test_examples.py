"""Every example notebook runs headless against a live service, with no error in any cell."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.kernel.conftest import EXAMPLES

# These have a test module of their own, with assertions on what they print (each notebook runs once).
OWN_TESTS = {"distributed-v1.ipynb", "environments-v1.ipynb", "hyperdrive-v1.ipynb", "v1-driver.ipynb"}
NOTEBOOKS = sorted(p.name for p in EXAMPLES.glob("*.ipynb") if p.name not in OWN_TESTS)


def execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def outputs_of(nb: nbformat.NotebookNode) -> str:
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text.append(out.get("text", ""))
            text.append(str(out.get("data", {}).get("text/plain", "")))
            text.append(str(out.get("data", {}).get("text/html", "")))
    return "\n".join(text)


def test_examples_are_listed():
    assert {"quickstart.ipynb", "magics.ipynb", "train-notebook.ipynb"} <= set(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_example_notebook_runs_without_error(name, kernel_env, examples_copy):
    started = time.monotonic()
    nb = execute(examples_copy / name)  # raises CellExecutionError on any cell error
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = outputs_of(nb)
    widget_views = [o for c in nb.cells for o in c.get("outputs", [])
                    if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    if name == "quickstart.ipynb":
        assert len(widget_views) == 2  # the live view of the interactive sweep and of the submitted run
        assert "Completed - live thread running: False" in text
        assert "best child run: C=" in text
        assert "aml-runs-table" in text
    elif name == "magics.ipynb":
        assert "usage: %aml_submit" in text
        assert "outputs/train-notebook.ipynb" in text
        assert "aml-runs-table" in text
        assert len(widget_views) >= 4  # line, cell and notebook submissions, and %aml_show
        assert not list(examples_copy.glob("_aml_cell_*.py"))  # the cell's script did not stay behind
    assert time.monotonic() - started < 120
