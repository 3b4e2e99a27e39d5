"""``ParallelRunStep`` and ``ParallelRunConfig`` with v1's names and defaults (``azureml.pipeline.steps``).

The step is one run of the step's compute target laid out like a distributed job: ``node_count`` nodes with
``process_count_per_node`` processes each (a local target: one node). Every process runs the driver
(sdk/parallel_run_driver.py): rank 0 splits the input into mini-batches and hands them out over TCP, one at
a time to whichever process asks, so a slow mini-batch never holds the others up; each process calls the
entry script's ``init()`` once and ``run(mini_batch)`` per mini-batch. Rank 0 appends the returned rows to
the output (``append_row``), retries a failing mini-batch up to ``run_max_try`` times, counts the failed
items against ``error_threshold`` and fails the step once the count is exceeded.

The step's snapshot is a copy of ``source_directory`` with the driver's launcher and the step's settings
(``aml_parallel_run.py``, ``aml_parallel_run.json``) added (``PipelineStep._extra_files``), so a changed
setting is a changed snapshot and the step is not reused.
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.dataset_consumption import DatasetConsumptionConfig, OutputFileDatasetConfig, StepOutputInput
from jupyter_aml.sdk.pipeline_steps import PipelineParameter, PipelineStep

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace

__all__ = ["ParallelRunConfig", "ParallelRunStep"]
LAUNCHER = "aml_parallel_run.py"
SETTINGS = "aml_parallel_run.json"
_LAUNCHER_TEXT = ("# Added by jupyter-aml's ParallelRunStep: runs the entry script over mini-batches.\n"
                  "import sys\n\nfrom jupyter_aml.sdk.parallel_run_driver import main\n\n"
                  "sys.exit(main(sys.argv[1:]))\n")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?B)?\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}


def _count(value: Any, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInput(f"{what} {value!r} must be an integer of at least {low}")
    return value


def tabular_batch_bytes(value: Any) -> int:
    """A TabularDataset's mini_batch_size: bytes, as a number or ``"1MB"``, ``"500KB"`` (v1's default 1MB)."""
    if value is None:
        return 1 << 20
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise InvalidInput(f"mini_batch_size {value!r} of a TabularDataset is a size such as '1MB' or '500KB'")
    return max(1, int(float(match.group(1)) * _UNITS[(match.group(2) or "B").upper()]))


class ParallelRunConfig:
    """How a ``ParallelRunStep`` runs: the ``entry_script`` (with ``init()`` and ``run(mini_batch)``) of
    ``source_directory`` in ``environment`` on ``compute_target``, over ``node_count`` nodes with
    ``process_count_per_node`` processes each (default: the node's CPU count). ``mini_batch_size`` is a number
    of files for a FileDataset (default 10) or a size for a TabularDataset (default ``"1MB"``).
    ``error_threshold`` is how many failed files or rows are tolerated (-1: all); ``output_action`` is
    ``"append_row"`` (``run``'s results are appended to ``append_row_file_name``, default
    ``parallel_run_step.txt``, in the step's output) or ``"summary_only"``."""

    def __init__(self, environment: Any, entry_script: str, error_threshold: int, output_action: str,
                 compute_target: Any, node_count: int, process_count_per_node: int | None = None,
                 mini_batch_size: int | str | None = None, source_directory: str | os.PathLike[str] | None = None,
                 description: str | None = None, logging_level: str = "INFO", run_invocation_timeout: int = 60,
                 run_max_try: int = 3, append_row_file_name: str | None = None,
                 allowed_failed_count: int | None = None, allowed_failed_percent: float | None = None,
                 partition_keys: list[str] | None = None, environment_variables: dict[str, str] | None = None) -> None:
        if partition_keys:
            raise InvalidInput("partition_keys is not supported here: mini-batches are made by size",
                               hint="leave partition_keys out and group rows in run(mini_batch)")
        if not entry_script or not str(entry_script).endswith(".py"):
            raise InvalidInput(f"entry_script {entry_script!r} must name a .py file of source_directory")
        if output_action not in ("append_row", "summary_only"):
            raise InvalidInput(f"output_action {output_action!r} must be 'append_row' or 'summary_only'")
        if isinstance(error_threshold, bool) or not isinstance(error_threshold, int) or error_threshold < -1:
            raise InvalidInput(f"error_threshold {error_threshold!r} must be -1 (ignore every failure) or a count")
        if logging_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise InvalidInput(f"logging_level {logging_level!r} must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        if allowed_failed_count is not None:
            _count(allowed_failed_count, "allowed_failed_count", -1)
        if allowed_failed_percent is not None and (isinstance(allowed_failed_percent, bool)
                                                   or not isinstance(allowed_failed_percent, (int, float))
                                                   or not 0 <= allowed_failed_percent <= 100):
            raise InvalidInput(f"allowed_failed_percent {allowed_failed_percent!r} must be between 0 and 100")
        name = append_row_file_name or "parallel_run_step.txt"
        if "/" in name or "\\" in name or name in (".", ".."):
            raise InvalidInput(f"append_row_file_name {name!r} must be a file name, not a path")
        self.environment = environment
        self.entry_script = str(entry_script)
        self.error_threshold = error_threshold
        self.output_action = output_action
        self.compute_target = compute_target
        self.node_count = _count(node_count, "node_count", 1)
        self.process_count_per_node = _count(process_count_per_node, "process_count_per_node", 1) \
            if process_count_per_node is not None else max(1, os.cpu_count() or 1)
        self.mini_batch_size = mini_batch_size
        self.source_directory = str(source_directory) if source_directory is not None else None
        self.description = description
        self.logging_level = logging_level.upper()
        self.run_invocation_timeout = _count(run_invocation_timeout, "run_invocation_timeout", 1)
        self.run_max_try = _count(run_max_try, "run_max_try", 1)
        self.append_row_file_name = name
        self.allowed_failed_count = allowed_failed_count
        self.allowed_failed_percent = allowed_failed_percent
        self.environment_variables = {str(k): str(v) for k, v in (environment_variables or {}).items()}


class ParallelRunStep(PipelineStep):
    """v1's step that runs ``parallel_run_config.entry_script`` over the mini-batches of ``inputs`` (all
    FileDatasets or all TabularDatasets), writing to ``output``; ``side_inputs`` reach every process whole;
    ``arguments`` are the entry script's ``sys.argv[1:]``."""

    def __init__(self, name: str, parallel_run_config: ParallelRunConfig, inputs: list[Any],
                 output: Any = None, side_inputs: list[Any] | None = None, arguments: list[Any] | None = None,
                 allow_reuse: bool = True) -> None:
        if not isinstance(parallel_run_config, ParallelRunConfig):
            raise InvalidInput("ParallelRunStep needs parallel_run_config=ParallelRunConfig(...)")
        cfg = parallel_run_config
        if not inputs:
            raise InvalidInput(f"ParallelRunStep {name!r} needs inputs: the datasets split into mini-batches")
        if output is not None and not isinstance(output, OutputFileDatasetConfig):
            raise InvalidInput(f"ParallelRunStep {name!r}: output is a PipelineData or OutputFileDatasetConfig")
        if output is None and cfg.output_action == "append_row":
            raise InvalidInput(f"ParallelRunStep {name!r}: output_action='append_row' needs output=, where the "
                               "rows are appended", hint='output=PipelineData("scores")')
        kinds = {self._input_kind(i) for i in inputs}
        if len(kinds) > 1:
            raise InvalidInput(f"ParallelRunStep {name!r}: inputs are all FileDatasets or all TabularDatasets")
        self.parallel_run_config = cfg
        self.input_kind = kinds.pop()
        self.output = output
        self.side_inputs = list(side_inputs or [])
        self._split = [self._as_read(i) for i in inputs]
        self.batch_size = (_count(cfg.mini_batch_size if cfg.mini_batch_size is not None else 10,
                                  "mini_batch_size of a FileDataset", 1) if self.input_kind == "file"
                           else tabular_batch_bytes(cfg.mini_batch_size))
        super().__init__(name, inputs=[*self._split, *self.side_inputs], outputs=[output] if output else [],
                         arguments=arguments, compute_target=cfg.compute_target, runconfig=None, params=None,
                         source_directory=cfg.source_directory, allow_reuse=allow_reuse)

    @staticmethod
    def _input_kind(item: Any) -> str:
        if isinstance(item, (StepOutputInput, OutputFileDatasetConfig)):
            return "file"
        if isinstance(item, DatasetConsumptionConfig):
            return "tabular" if getattr(item.dataset, "_kind", None) == "tabular" else "file"
        raise InvalidInput("ParallelRunStep inputs are datasets (ds.as_named_input(name)), PipelineData or "
                           f"output.as_input(), not {type(item).__name__}")

    @staticmethod
    def _as_read(item: Any) -> Any:
        """A FileDataset read ``direct`` is downloaded: the driver hands its files out by path."""
        if isinstance(item, DatasetConsumptionConfig) and not isinstance(item, StepOutputInput) \
                and item.mode == "direct" and getattr(item.dataset, "_kind", None) != "tabular":
            return item.as_download()
        return item

    def _arguments_of(self) -> list[Any]:
        out: list[Any] = []
        for item in self._split:
            out += ["--aml-tabular", item.name] if self.input_kind == "tabular" else ["--aml-input", item]
        if self.output is not None:
            out += ["--aml-output", self.output]
        return [*out, "--", *self.arguments]

    def _command_args(self, args: list[Any]) -> dict[str, Any]:
        from jupyter_aml.sdk.distributed import PyTorchConfiguration

        cfg = self.parallel_run_config
        layout = PyTorchConfiguration(process_count=cfg.node_count * cfg.process_count_per_node,
                                      node_count=cfg.node_count)
        return {"script": LAUNCHER, "arguments": args, "environment": cfg.environment,
                "distributed_job_config": layout}

    def _settings(self) -> dict[str, Any]:
        cfg = self.parallel_run_config
        return {"entry_script": cfg.entry_script, "input_kind": self.input_kind, "mini_batch_size": self.batch_size,
                "error_threshold": cfg.error_threshold, "output_action": cfg.output_action,
                "append_row_file_name": cfg.append_row_file_name, "run_invocation_timeout": cfg.run_invocation_timeout,
                "run_max_try": cfg.run_max_try, "allowed_failed_count": cfg.allowed_failed_count,
                "allowed_failed_percent": cfg.allowed_failed_percent, "logging_level": cfg.logging_level,
                "environment_variables": cfg.environment_variables}

    def _extra_files(self) -> dict[str, str]:
        return {LAUNCHER: _LAUNCHER_TEXT, SETTINGS: json.dumps(self._settings(), indent=1, sort_keys=True)}

    def _spec(self, workspace: Workspace, default_source: str | None, snapshots: dict[str, str],
              parameters: dict[str, PipelineParameter]) -> dict[str, Any]:
        source = self.source_directory or default_source or "."
        if not os.path.isfile(os.path.join(source, self.parallel_run_config.entry_script)):
            raise InvalidInput(f"ParallelRunStep {self.name!r}: entry_script "
                               f"{self.parallel_run_config.entry_script!r} is not in {source!r}")
        return super()._spec(workspace, default_source, snapshots, parameters)
