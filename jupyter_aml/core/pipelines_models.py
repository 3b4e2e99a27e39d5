"""Pydantic models of the pipeline payloads (core/pipelines.py): a pipeline run as the SDK submits it (its
steps, the data between them, its parameters and options) and as the service answers it (each step's state,
its run, and why it was or was not reused)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, field_validator

from jupyter_aml.core.models import DataName, ExperimentName, Run, RunConfig, Sha256, Strict, StrMap, _check_str_map

StepName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f/]+$")]
ParameterValue = StrictBool | StrictInt | StrictFloat | Annotated[str, Field(max_length=8192)]
PARAMETER_TOKEN = "PipelineParameter:"  # an argument or params value that stands for a parameter's value
MAX_STEPS = 200
PARAM_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"  # a params name: AML_PARAMETER_<name> is an environment variable


class StepInput(Strict):
    """Data a step reads that another step of the pipeline writes: the output named ``source`` (a
    ``PipelineData`` or ``OutputFileDatasetConfig``), laid out in a folder before the script starts. The
    script's argument ``DatasetConsumptionConfig:<name>`` becomes that folder's path."""

    name: DataName
    source: DataName
    mode: Literal["mount", "download"] = "mount"


class PipelineStepSpec(Strict):
    """One step: a script run (``run_config`` says what runs where, with its own outputs and any registered
    datasets it reads) plus the pipeline's own links: ``inputs`` from other steps, ``run_after`` steps it waits
    for without reading their data, and ``params`` (v1's ``AML_PARAMETER_<name>`` environment variables)."""

    name: StepName
    kind: Literal["python", "command"] = "python"
    snapshot_id: Sha256
    run_config: RunConfig
    inputs: list[StepInput] = Field(default_factory=list, max_length=100)
    run_after: list[StepName] = Field(default_factory=list, max_length=MAX_STEPS)
    allow_reuse: StrictBool = True
    params: dict[str, Annotated[str, Field(max_length=8192)]] = Field(
        default_factory=dict, max_length=100, json_schema_extra={"propertyNames": {"pattern": PARAM_NAME}})

    @field_validator("params")
    @classmethod
    def _param_names(cls, value: dict[str, str]) -> dict[str, str]:
        """Each becomes the variable AML_PARAMETER_<name>: a name is a Python identifier."""
        for key in value:
            if not re.fullmatch(PARAM_NAME[1:-1], key):
                raise ValueError(f"params name {key!r} must be a Python identifier (64 characters at most)")
        return value


class PipelineParameterSpec(BaseModel):
    """v1's ``PipelineParameter(name, default_value)``: its type is the default's (bool, int, float or str).
    Not ``Strict``: its JSON-type check knows no union with str; the strict types here refuse coercion."""

    model_config = ConfigDict(extra="forbid")

    name: DataName
    default_value: ParameterValue


class PipelineRunCreate(Strict):
    """Submit a pipeline: create its parent run and its graph, then the service drives the steps."""

    experiment: ExperimentName
    steps: list[PipelineStepSpec] = Field(min_length=1, max_length=MAX_STEPS)
    parameters: list[PipelineParameterSpec] = Field(default_factory=list, max_length=100)
    parameter_assignments: dict[str, Any] = Field(default_factory=dict, max_length=100)
    continue_on_step_failure: StrictBool = False
    regenerate_outputs: StrictBool = False
    description: str = Field(default="", max_length=5000)
    display_name: str = Field(default="", max_length=255)
    tags: StrMap = Field(default_factory=dict)

    _tags = field_validator("tags")(_check_str_map)


class PipelineValidation(BaseModel):
    """What ``pipeline.validate()`` gets: the steps in the order they may run (nothing is created)."""

    order: list[str]


class StepOutputLocation(BaseModel):
    """Where a step's output is on its datastore (for ``StepRun.get_output_data``)."""

    name: str
    datastore: str
    path_on_datastore: str


class PipelineStepState(BaseModel):
    """One step of a pipeline run: NotStarted until its inputs are ready, Skipped when a step it depends on
    failed, else its run's status. A reused step has ``reused_from``; ``reuse_key`` and ``reuse_parts`` say what
    the key was made of, so a user can see why a step was or was not reused."""

    name: str
    status: str
    run_id: str | None
    depends_on: list[str]
    compute_target: str
    allow_reuse: bool
    reused_from: str | None = None
    reuse_key: str | None = None
    reuse_parts: dict[str, Any] = Field(default_factory=dict)
    outputs: list[StepOutputLocation] = Field(default_factory=list)


class PipelineRunInfo(BaseModel):
    run: Run
    steps: list[PipelineStepState]
    parameters: dict[str, Any]
    continue_on_step_failure: bool
    regenerate_outputs: bool
