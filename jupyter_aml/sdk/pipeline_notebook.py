"""A pipeline step that runs a notebook with parameters, under v1's names (``azureml.contrib.notebook``):
``NotebookRunConfig``, ``NotebookRunnerStep``, ``AzureMLNotebookHandler`` and ``PapermillExecutionHandler``.

v1 kept this in a preview package rather than in ``azureml.pipeline.steps``; the names are kept so v1 code
imports unchanged. The step runs the notebook as a notebook run does (agent/notebook.py): with nbclient in
a kernel of the run's own interpreter, its parameters injected as papermill does (a cell tagged
``injected-parameters`` after the cell tagged ``parameters``), every cell's output in the step run's logs,
and the executed notebook (outputs included, also when a cell fails) kept as the run's file
``outputs/<name>.ipynb``. Its snapshot adds a launcher, ``aml_notebook_step.py`` (``run_step`` below), that
also names a failing cell's exception the way the run's error headline reads a script's traceback, so the
step fails with "ValueError: ... at train.ipynb:3 in cell 2", not "exited with code 1".
"""

from __future__ import annotations

import os
from typing import Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.dataset_consumption import DatasetConsumptionConfig, OutputFileDatasetConfig
from jupyter_aml.sdk.pipeline_steps import PipelineParameter, PipelineStep

__all__ = ["AzureMLNotebookHandler", "NotebookExecutionHandler", "NotebookRunConfig", "NotebookRunnerStep",
           "PapermillExecutionHandler"]
_LITERALS = (bool, int, float, str, type(None), list, dict, tuple)
LAUNCHER = "aml_notebook_step.py"
_LAUNCHER_TEXT = ("# Added by jupyter-aml's NotebookRunnerStep: runs the notebook and names a failing cell's error.\n"
                  "import sys\n\nfrom jupyter_aml.sdk.pipeline_notebook import run_step\n\n"
                  "sys.exit(run_step(sys.argv[1:]))\n")


class NotebookExecutionHandler:
    """How the notebook is executed: here always nbclient in the run's interpreter, with papermill's
    parameter cell. ``timeout`` is the seconds one cell may run (None: no limit)."""

    def __init__(self, timeout: float | None = None, progress_bar: bool = True, log_output: bool = True) -> None:
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or timeout <= 0):
            raise InvalidInput(f"timeout {timeout!r} must be a positive number of seconds, or None")
        if not log_output:
            raise InvalidInput("log_output=False is not supported here: every cell's output goes to the run's logs",
                               hint="leave log_output out")
        self.timeout = timeout
        self.progress_bar = bool(progress_bar)  # the logs show "[notebook] cell i/n" either way
        self.log_output = True


class AzureMLNotebookHandler(NotebookExecutionHandler):
    """v1's default handler (its own notebook executor there; nbclient here)."""


class PapermillExecutionHandler(NotebookExecutionHandler):
    """v1's papermill handler. Parameters are injected as papermill injects them; ``kernel_name`` is refused
    for a kernel other than Python: the notebook runs in the step run's Python environment."""

    def __init__(self, timeout: float | None = None, progress_bar: bool = True, log_output: bool = True,
                 kernel_name: str | None = None) -> None:
        if kernel_name not in (None, "python", "python3"):
            raise InvalidInput(f"kernel_name {kernel_name!r} is not supported here: the notebook runs in a Python "
                               "kernel of the run's environment", hint="leave kernel_name out")
        super().__init__(timeout=timeout, progress_bar=progress_bar, log_output=log_output)
        self.kernel_name = kernel_name


class NotebookRunConfig:
    """A notebook of ``source_directory`` and its ``parameters`` (values or ``PipelineParameter``s), run
    with ``run_config`` (its environment must hold nbclient, nbformat and ipykernel, as this service's own
    environment does); ``output_notebook`` is where the executed notebook is written in the run's working
    folder (default ``outputs/<notebook>``: kept with the run's files)."""

    def __init__(self, source_directory: str | os.PathLike[str] | None = None, notebook: str | None = None,
                 handler: NotebookExecutionHandler | None = None, parameters: dict[str, Any] | None = None,
                 run_config: Any = None, output_notebook: str | None = None) -> None:
        if not notebook or not str(notebook).endswith(".ipynb"):
            raise InvalidInput(f"notebook {notebook!r} must name a .ipynb file of source_directory",
                               hint='NotebookRunConfig(source_directory="nb", notebook="train.ipynb")')
        if handler is not None and not isinstance(handler, NotebookExecutionHandler):
            raise InvalidInput("handler is an AzureMLNotebookHandler or a PapermillExecutionHandler, not "
                               f"{type(handler).__name__}")
        if output_notebook is not None and not str(output_notebook).endswith(".ipynb"):
            raise InvalidInput(f"output_notebook {output_notebook!r} must end in .ipynb")
        for name, value in (parameters or {}).items():
            if not isinstance(name, str) or not name.isidentifier():
                raise InvalidInput(f"notebook parameter {name!r} must be a Python identifier")
            if not isinstance(value, (*_LITERALS, PipelineParameter, OutputFileDatasetConfig,
                                      DatasetConsumptionConfig)):
                raise InvalidInput(f"notebook parameter {name!r}: {type(value).__name__} is not a Python literal",
                                   hint="pass numbers, strings, booleans, lists, dicts or PipelineParameters")
        self.source_directory = str(source_directory) if source_directory is not None else None
        self.notebook = str(notebook)
        self.handler = handler or AzureMLNotebookHandler()
        self.parameters = dict(parameters or {})
        self.run_config = run_config
        self.output_notebook = output_notebook

    def _arguments(self) -> list[Any]:
        """The notebook runner's options after the notebook (agent/notebook.py): parameters, timeout, output."""
        out: list[Any] = []
        for name, value in self.parameters.items():
            out += ["-p", name, value if isinstance(value, (PipelineParameter, OutputFileDatasetConfig,
                                                            DatasetConsumptionConfig)) else repr(value)]
        if self.handler.timeout is not None:
            out += ["--cell-timeout", str(float(self.handler.timeout))]
        if self.output_notebook is not None:
            out += ["--output", self.output_notebook]
        return out

    def _submit(self, experiment: Any, tags: dict[str, Any] | None, **kwargs: Any) -> Any:
        """``Experiment.submit(NotebookRunConfig(...))``: the notebook as a run of its own (a ScriptRunConfig
        whose script is the notebook)."""
        from jupyter_aml.sdk.config import ScriptRunConfig

        for name, value in self.parameters.items():
            if not isinstance(value, _LITERALS):
                raise InvalidInput(f"notebook parameter {name!r}: a {type(value).__name__} belongs to a pipeline",
                                   hint="submit a NotebookRunnerStep in a Pipeline, or pass a value")
        config = ScriptRunConfig(source_directory=self.source_directory or ".", script=self.notebook,
                                 arguments=self._arguments(), run_config=self.run_config)
        return experiment.submit(config, tags, **kwargs)


class NotebookRunnerStep(PipelineStep):
    """v1's step that runs a notebook (``notebook_run_config``). Each of its inputs and outputs is also
    passed to the notebook as a parameter of the input's or output's name: the folder's path."""

    def __init__(self, name: str | None = None, notebook_run_config: NotebookRunConfig | None = None,
                 runconfig_pipeline_params: Any = None, compute_target: Any = None,
                 params: dict[str, Any] | None = None, inputs: list[Any] | None = None,
                 outputs: list[Any] | None = None, allow_reuse: bool = True, version: Any = None,
                 output_notebook_pipeline_data_name: str | None = None) -> None:
        if not isinstance(notebook_run_config, NotebookRunConfig):
            raise InvalidInput("NotebookRunnerStep needs notebook_run_config=NotebookRunConfig(...)")
        if output_notebook_pipeline_data_name is not None:
            raise InvalidInput("output_notebook_pipeline_data_name is not supported here: the executed notebook is "
                               "kept with the step run's files (outputs/<notebook>)",
                               hint="read it with step_run.download_file('outputs/<notebook>')")
        self.notebook_run_config = notebook_run_config
        cfg = notebook_run_config
        super().__init__(name or os.path.splitext(os.path.basename(cfg.notebook))[0], inputs=inputs,
                         outputs=outputs, arguments=None, compute_target=compute_target, runconfig=cfg.run_config,
                         params=params, source_directory=cfg.source_directory, allow_reuse=allow_reuse,
                         version=version, runconfig_pipeline_params=runconfig_pipeline_params)

    def _arguments_of(self) -> list[Any]:
        cfg = self.notebook_run_config
        out = cfg._arguments()
        for item in [*self._inputs, *self._outputs]:
            if not any(item is v for v in cfg.parameters.values()):
                out += ["-p", str(item.name), item]
        return out

    def _extra_files(self) -> dict[str, str]:
        return {LAUNCHER: _LAUNCHER_TEXT}

    def _command_args(self, args: list[Any]) -> dict[str, Any]:
        return {"script": LAUNCHER, "arguments": [self.notebook_run_config.notebook, *args]}


def run_step(argv: list[str]) -> int:
    """In the step's run: execute the notebook (agent/notebook.py's command line), which names a failing
    cell's exception for the run's error."""
    from jupyter_aml.agent.notebook import main

    return main(argv)
