"""Pipeline steps and the data and parameters between them, with v1's names (``azureml.pipeline.core`` and
``azureml.pipeline.steps``): ``PipelineParameter``, ``PipelineData``, ``StepSequence``, ``PythonScriptStep``
and ``CommandStep``. A step turns into one step of the REST pipeline payload (core/pipelines_models.py): its
source folder's snapshot, its run configuration (built as a ``ScriptRunConfig`` would build it), its input
links to other steps' outputs, ``run_after`` and its parameters as tokens the service fills in."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.sdk.dataset_consumption import (
    INPUT_TOKEN,
    DatasetConsumptionConfig,
    OutputFileDatasetConfig,
    StepOutputInput,
)

if TYPE_CHECKING:
    from jupyter_aml.sdk.workspace import Workspace

PARAMETER_TOKEN = "PipelineParameter:"  # core/pipelines_models.py fills it in with the parameter's value
_TYPES = (bool, int, float, str)


class PipelineParameter:
    """A value chosen when the pipeline is submitted (``pipeline_parameters={name: value}``), else
    ``default_value``; its type is the default's. In a step's arguments or ``params`` it stands for the value."""

    def __init__(self, name: str, default_value: Any) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidInput(f"PipelineParameter name {name!r} must be a Python identifier")
        if not isinstance(default_value, _TYPES):
            raise InvalidInput(f"PipelineParameter {name!r}: default_value must be a bool, int, float or str, not "
                               f"{type(default_value).__name__}", hint="datasets as parameters are not supported here")
        self.name = name
        self.default_value = default_value

    def __str__(self) -> str:
        return PARAMETER_TOKEN + self.name

    def __repr__(self) -> str:
        return f"PipelineParameter(name={self.name!r}, default_value={self.default_value!r})"


class PipelineData(OutputFileDatasetConfig):
    """v1's intermediate data: a folder one step writes (listed in its ``outputs``) and later steps read
    (listed in their ``inputs``), kept on ``datastore`` at ``azureml/{run-id}/{output-name}``."""

    def __init__(self, name: str, datastore: Any = None, output_name: str | None = None, output_mode: str = "mount",
                 output_path_on_compute: str | None = None, output_overwrite: bool | None = None,
                 data_type: str | None = None, is_directory: bool | None = None,
                 pipeline_output_name: str | None = None, training_output: Any = None) -> None:
        for arg, value in (("output_path_on_compute", output_path_on_compute), ("data_type", data_type),
                           ("pipeline_output_name", pipeline_output_name), ("training_output", training_output)):
            if value is not None:
                raise InvalidInput(f"PipelineData({arg}=...) is not supported here", hint="leave it out")
        if output_mode not in ("mount", "upload"):
            raise InvalidInput(f"output_mode {output_mode!r} must be 'mount' or 'upload'")
        store = datastore if datastore is not None else "workspaceblobstore"
        super().__init__(name=output_name or name, destination=(store, "azureml/{run-id}/{output-name}"))
        if output_overwrite is not None:
            self._overwrite = bool(output_overwrite)
        self._input_mode = "mount"

    def as_mount(self, disable_metadata_cache: bool = False) -> PipelineData:
        """How a later step reads it: in a folder laid out before its script starts (v1's default)."""
        self._input_mode = "mount"
        return self

    def as_download(self, path_on_compute: str | None = None, overwrite: bool = False) -> PipelineData:
        self._input_mode = "download"
        return self

    def as_input(self, name: str | None = None) -> StepOutputInput:
        return StepOutputInput(name or self.name, self, self._input_mode)

    def __repr__(self) -> str:
        return f"PipelineData(name={self.name!r}, datastore={self.datastore!r})"


class PipelineStep:
    """What every step has: a name, inputs, outputs, a compute target, reuse, and the steps it runs after."""

    _kind = "python"

    def __init__(self, name: str, *, inputs: list[Any] | None, outputs: list[Any] | None, arguments: list[Any] | None,
                 compute_target: Any, runconfig: Any, params: dict[str, Any] | None, source_directory: str | None,
                 allow_reuse: bool, version: Any = None, runconfig_pipeline_params: Any = None) -> None:
        if runconfig_pipeline_params:
            raise InvalidInput("runconfig_pipeline_params is not supported here",
                               hint="set node counts in the step's runconfig")
        if not isinstance(allow_reuse, bool):
            raise InvalidInput("allow_reuse must be True or False")
        self.name = name
        self._inputs = list(inputs or [])
        self._outputs = list(outputs or [])
        self.arguments = list(arguments or [])
        # v1 also takes ('name', 'AmlCompute'): the target's name and type, to skip fetching it
        self.compute_target = compute_target[0] if isinstance(compute_target, tuple) and compute_target \
            else compute_target
        self.runconfig = runconfig
        self.params = dict(params or {})
        self.source_directory = str(source_directory) if source_directory is not None else None
        self.allow_reuse = allow_reuse
        self.version = version
        self._run_after: list[PipelineStep] = []
        for item in self._outputs + [a for a in self.arguments if _is_output(a, self._inputs)]:
            if not isinstance(item, OutputFileDatasetConfig):
                raise InvalidInput(f"step {name!r}: outputs are PipelineData or OutputFileDatasetConfig, not "
                                   f"{type(item).__name__}")
            item._producer = self  # type: ignore[attr-defined]
        for item in self._inputs:
            if not isinstance(item, (OutputFileDatasetConfig, DatasetConsumptionConfig)):
                raise InvalidInput(f"step {name!r}: inputs are PipelineData, output.as_input() or dataset inputs, "
                                   f"not {type(item).__name__}")

    def run_after(self, step: PipelineStep) -> None:
        """Run this step only once ``step`` has Completed, though it reads none of its data."""
        if not isinstance(step, PipelineStep):
            raise InvalidInput(f"run_after takes a step, not {type(step).__name__}")
        self._run_after.append(step)

    # -- the REST payload ---------------------------------------------------------------------------------
    def _producers(self) -> list[PipelineStep]:
        """The steps whose outputs this one reads, and those it runs after (for Pipeline's resolve_closure)."""
        found = []
        for item in [*self._inputs, *self._arguments_of()]:
            output = item.output if isinstance(item, StepOutputInput) else item
            producer = getattr(output, "_producer", None)
            if producer is not None and producer is not self and _is_input(item, self._inputs):
                found.append(producer)
        return found + self._run_after

    def _command(self) -> dict[str, Any]:
        raise NotImplementedError

    def _extra_files(self) -> dict[str, str]:
        """Files this kind of step adds to a copy of its source folder for its snapshot (a launcher, settings)."""
        return {}

    def _spec(self, workspace: Workspace, default_source: str | None, snapshots: dict[str, str],
              parameters: dict[str, PipelineParameter]) -> dict[str, Any]:
        extra = self._extra_files()
        if not extra:
            return self._spec_of(self.source_directory or default_source or ".", workspace, snapshots, parameters)
        staged = tempfile.mkdtemp(prefix="aml-step-")
        try:
            shutil.copytree(self.source_directory or default_source or ".", staged, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".git"), copy_function=_link_or_copy)
            for name, text in extra.items():
                with open(os.path.join(staged, name), "w", encoding="utf-8") as f:
                    f.write(text)
            return self._spec_of(staged, workspace, snapshots, parameters)
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def _spec_of(self, source: str, workspace: Workspace, snapshots: dict[str, str],
                 parameters: dict[str, PipelineParameter]) -> dict[str, Any]:
        from jupyter_aml.sdk.config import ScriptRunConfig
        from jupyter_aml.sdk.submit import upload_snapshot

        links: dict[str, dict[str, str]] = {}

        def link(item: Any) -> str:
            output = item.output if isinstance(item, StepOutputInput) else item
            mode = item.mode if isinstance(item, StepOutputInput) else getattr(item, "_input_mode", "mount")
            links.setdefault(item.name, {"name": item.name, "source": output.name, "mode": mode})
            return INPUT_TOKEN + str(item.name)

        def text(item: Any) -> Any:
            if isinstance(item, PipelineParameter):
                parameters.setdefault(item.name, item)
                return str(item)
            if _is_input(item, self._inputs):
                return link(item)
            return item

        args = [text(a) for a in self._arguments_of()]
        for item in self._inputs:
            if _is_input(item, self._inputs):
                link(item)
        src = ScriptRunConfig(source_directory=source, run_config=self.runconfig, compute_target=self.compute_target,
                              **self._command_args(args))
        for item in self._outputs:
            if item not in args:
                src.run_config.output_data[item.name] = item
        for item in self._inputs:
            if isinstance(item, DatasetConsumptionConfig) and not isinstance(item, StepOutputInput) \
                    and item not in args:
                src.run_config.data[item.name] = item
        key = os.path.realpath(source)
        if key not in snapshots:
            snapshots[key] = upload_snapshot(workspace._api, workspace.name, source, script=src.script,
                                             progress=False).snapshot_id
        params = {str(k): str(text(v)) for k, v in self.params.items()}
        return {"name": self.name, "kind": self._kind, "snapshot_id": snapshots[key],
                "run_config": src._rest_run_config(workspace), "inputs": list(links.values()),
                "run_after": [s.name for s in self._run_after], "allow_reuse": self.allow_reuse, "params": params}

    def _arguments_of(self) -> list[Any]:
        return self.arguments

    def _command_args(self, args: list[Any]) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _link_or_copy(src: str, dst: str) -> None:
    """A staged snapshot's file: a hard link where the file system allows (a big source folder costs no copy;
    the staged files are only read), else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _is_input(item: Any, inputs: list[Any]) -> bool:
    """A step reads ``item`` when it is another step's output taken as input, or listed in its inputs."""
    return isinstance(item, StepOutputInput) or (
        isinstance(item, OutputFileDatasetConfig) and any(item is i for i in inputs))


def _is_output(item: Any, inputs: list[Any]) -> bool:
    return isinstance(item, OutputFileDatasetConfig) and not any(item is i for i in inputs)


class PythonScriptStep(PipelineStep):
    """v1's step that runs a Python script of ``source_directory`` on ``compute_target``."""

    def __init__(self, script_name: str, name: str | None = None, arguments: list[Any] | None = None,
                 compute_target: Any = None, runconfig: Any = None, runconfig_pipeline_params: Any = None,
                 inputs: list[Any] | None = None, outputs: list[Any] | None = None,
                 params: dict[str, Any] | None = None, source_directory: str | os.PathLike[str] | None = None,
                 allow_reuse: bool = True, version: Any = None, hash_paths: Any = None) -> None:
        if hash_paths is not None:
            raise InvalidInput("hash_paths is not supported (v1 deprecated it): the whole source_directory snapshot "
                               "is hashed", hint="leave it out")
        if not script_name:
            raise InvalidInput("PythonScriptStep needs script_name")
        self.script_name = str(script_name)
        super().__init__(name or self.script_name, inputs=inputs, outputs=outputs, arguments=arguments,
                         compute_target=compute_target, runconfig=runconfig, params=params,
                         source_directory=str(source_directory) if source_directory is not None else None,
                         allow_reuse=allow_reuse, version=version, runconfig_pipeline_params=runconfig_pipeline_params)

    def _command_args(self, args: list[Any]) -> dict[str, Any]:
        return {"script": self.script_name, "arguments": args}


class CommandStep(PipelineStep):
    """v1's step that runs a command (``"python train.py --epochs 3"`` or a list of its parts)."""

    _kind = "command"

    def __init__(self, command: str | list[Any] | None = None, name: str | None = None, compute_target: Any = None,
                 runconfig: Any = None, runconfig_pipeline_params: Any = None, outputs: list[Any] | None = None,
                 inputs: list[Any] | None = None, params: dict[str, Any] | None = None,
                 source_directory: str | os.PathLike[str] | None = None, allow_reuse: bool = True,
                 version: Any = None) -> None:
        if not command:
            raise InvalidInput("CommandStep needs command", hint='e.g. CommandStep(command="python train.py")')
        self.command = command.split() if isinstance(command, str) else list(command)
        super().__init__(name or str(self.command[0]), inputs=inputs, outputs=outputs, arguments=None,
                         compute_target=compute_target, runconfig=runconfig, params=params,
                         source_directory=str(source_directory) if source_directory is not None else None,
                         allow_reuse=allow_reuse, version=version, runconfig_pipeline_params=runconfig_pipeline_params)
        for item in self.command:
            if isinstance(item, OutputFileDatasetConfig) and _is_output(item, self._inputs):
                item._producer = self  # type: ignore[attr-defined]

    def _arguments_of(self) -> list[Any]:
        return self.command

    def _command_args(self, args: list[Any]) -> dict[str, Any]:
        return {"command": [a if isinstance(a, (OutputFileDatasetConfig, DatasetConsumptionConfig)) else str(a)
                            for a in args]}


class StepSequence:
    """v1's ordered steps: each runs after the one before it."""

    def __init__(self, steps: list[Any] | None = None) -> None:
        self.steps = list(steps or [])
        flat = [s for s in _flatten(self.steps)]
        for before, after in zip(_lasts(self.steps), self.steps[1:], strict=False):
            for first in _flatten([after]):
                for prior in before:
                    if prior not in first._run_after:
                        first.run_after(prior)
        self._all = flat


def _flatten(items: list[Any]) -> list[PipelineStep]:
    out: list[PipelineStep] = []
    for item in items:
        if isinstance(item, StepSequence):
            out.extend(item._all)
        elif isinstance(item, (list, tuple)):
            out.extend(_flatten(list(item)))
        elif isinstance(item, PipelineStep):
            out.append(item)
        else:
            raise InvalidInput(f"a pipeline's steps are steps, lists of steps or StepSequences, not "
                               f"{type(item).__name__}")
    return out


def _lasts(items: list[Any]) -> list[list[PipelineStep]]:
    """For each item of a sequence, the steps that must end before the next item starts."""
    return [_flatten([item]) for item in items]
