"""jupyter_aml/agent/notebook.py: parameter injection and its refusals (the full run is in test_magics.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from jupyter_aml.agent.notebook import inject_parameters, parameters_source, parse_value
from jupyter_aml.envbuild.venv import ensure_link_dir


def tags(nb):
    return [c.metadata.get("tags", []) for c in nb.cells]


def test_parameters_go_after_the_tagged_cell_or_on_top_and_replace_earlier_ones():
    nb = new_notebook(cells=[new_markdown_cell("# t"), new_code_cell("lr = 1"), new_code_cell("print(lr)")])
    nb.cells[1].metadata["tags"] = ["parameters"]
    assert inject_parameters(nb, {"lr": 0.5, "name": "x y", "layers": [1, 2], "flag": None}) == 2
    assert tags(nb) == [[], ["parameters"], ["injected-parameters"], []]
    namespace: dict = {}
    exec(nb.cells[2].source, namespace)
    assert {k: namespace[k] for k in ("lr", "name", "layers", "flag")} == \
        {"lr": 0.5, "name": "x y", "layers": [1, 2], "flag": None}
    assert inject_parameters(nb, {"lr": 2}) == 2  # an executed notebook run again: replaced, not stacked
    assert tags(nb).count(["injected-parameters"]) == 1 and "lr = 2" in nb.cells[2].source

    plain = new_notebook(cells=[new_code_cell("x = 1")])
    assert inject_parameters(plain, {"x": 3}) == 0 and tags(plain)[0] == ["injected-parameters"]
    assert inject_parameters(new_notebook(cells=[new_code_cell("x = 1")]), {}) is None


def test_values_follow_papermill_and_names_must_be_identifiers():
    assert [parse_value(v) for v in ("1", "0.5", "True", "None", "[1, 2]", "hello", "1e-3", "'quoted'")] == \
        [1, 0.5, True, None, [1, 2], "hello", 0.001, "quoted"]
    for bad in ("1x", "a-b", "class", "x y"):
        with pytest.raises(ValueError, match="not a Python identifier"):
            parameters_source({bad: 1})


def test_a_run_environment_without_nbclient_fails_with_a_clear_message(tmp_path):
    nbformat.write(new_notebook(cells=[new_code_cell("print(1)")]), tmp_path / "nb.ipynb")
    link = ensure_link_dir(tmp_path / "link")  # jupyter_aml alone, none of this venv's packages
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(link)}
    out = subprocess.run([sys.executable, "-S", "-m", "jupyter_aml.agent.notebook", "nb.ipynb", "-p", "a", "1"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "is missing; running a notebook needs nbclient, nbformat and ipykernel" in out.stderr
    assert not (tmp_path / "outputs").exists()

    bad = subprocess.run([sys.executable, "-m", "jupyter_aml.agent.notebook", "nb.ipynb", "-p", "not-a-name", "1"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not a Python identifier" in bad.stderr


def test_a_failing_cell_is_named_the_way_the_run_error_reads_a_traceback(tmp_path):
    from jupyter_aml.agent.tracebacks import last_exception

    cells = [new_code_cell("x = 1"), new_markdown_cell("a note"), new_code_cell("y = 2\nraise ValueError(f'bad {y}')")]
    nbformat.write(new_notebook(cells=cells), tmp_path / "nb.ipynb")
    out = subprocess.run([sys.executable, "-m", "jupyter_aml.agent.notebook", "nb.ipynb"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    found = last_exception(out.stderr.splitlines(), roots=[str(tmp_path)])
    assert found is not None and found.headline == "ValueError: bad 2 at nb.ipynb:2 in cell 2"
    assert (tmp_path / "outputs" / "nb.ipynb").is_file()  # the executed notebook, with the error, is kept
