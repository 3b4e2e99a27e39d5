"""Pydantic models of published pipelines, pipeline endpoints and schedules (core/pipeline_publish.py,
core/schedules.py): what the SDK sends, what the service answers, and v1's REST invoke body
(``{"ExperimentName": ..., "ParameterAssignments": {...}}``, answered with the new run's ``Id``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le  # item bounds before the JSON-int check, so the schema shows them
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, field_validator

from jupyter_aml.core.models import ExperimentName, Strict, StrMap, _check_str_map
from jupyter_aml.core.pipelines_models import PipelineParameterSpec, PipelineRunCreate

PublishedName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f]+$")]
# A pipeline endpoint's name is in its REST path (GET .../pipelines/endpoints/{name}): no '/'.
EndpointName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\- ]*$")]
ObjectId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]
Version = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
Description = Annotated[str, Field(max_length=5000)]
ACTIVE, DISABLED, ARCHIVED = "Active", "Disabled", "Archived"


# -- published pipelines -------------------------------------------------------------------------------------
class PublishedPipelineCreate(Strict):
    """Publish a pipeline: ``spec`` (what ``pipeline.publish`` sends: the submit body of the pipeline; its
    experiment and parameter assignments are not kept) or ``run_id`` (``pipeline_run.publish_pipeline``: the
    graph that pipeline run was submitted with). Exactly one of them."""

    name: PublishedName
    description: Description = ""
    version: Version | None = None
    continue_on_step_failure: StrictBool | None = None  # None: the spec's (a run's graph: as it ran)
    spec: PipelineRunCreate | None = None
    run_id: ObjectId | None = None


class PublishedPipelineUpdate(Strict):
    """``disable()`` / ``enable()``: a disabled pipeline keeps its id and URL and refuses to run (409)."""

    status: Literal["Active", "Disabled"]


class PublishedPipeline(BaseModel):
    """v1's ``PublishedPipeline``: an immutable copy of a pipeline (its steps, snapshots and parameters with
    their defaults), runnable by id over REST at ``endpoint``."""

    id: str
    name: str
    description: str
    version: str
    status: str
    endpoint: str  # absolute URL as this request reached the service
    endpoint_path: str  # the same, relative to the API root (``.../aml/api/v1``)
    graph_id: str  # the sha256 of the stored graph: two publishes of one pipeline share it
    total_run_steps: int
    continue_on_step_failure: bool
    parameters: list[PipelineParameterSpec]
    steps: list[str]
    source_run_id: str | None = None
    created_at: datetime
    created_by: str


class PublishedPipelineList(BaseModel):
    items: list[PublishedPipeline]


# -- v1's REST invoke ----------------------------------------------------------------------------------------
class PipelineSubmitRequest(BaseModel):
    """v1's REST body: POST it to a published pipeline's or pipeline endpoint's URL with the workspace's
    bearer token (as Azure Data Factory does). ``PipelineVersion`` picks an endpoint's version (default: its
    default version); a published pipeline takes none."""

    model_config = ConfigDict(extra="forbid")

    ExperimentName: ExperimentName
    ParameterAssignments: dict[str, StrictBool | StrictInt | StrictFloat | Annotated[str, Field(max_length=8192)]] = \
        Field(default_factory=dict, max_length=100)
    PipelineVersion: Version | None = None
    DisplayName: Annotated[str, Field(max_length=255)] = ""
    Description: Annotated[str, Field(max_length=5000)] | None = None
    Tags: StrMap = Field(default_factory=dict)

    _tags = field_validator("Tags")(_check_str_map)


class PipelineSubmitted(BaseModel):
    """v1's answer to a REST invoke: the new pipeline run, ``Id`` first."""

    Id: str
    Status: str
    ExperimentName: str
    PipelineId: str
    PipelineEndpointId: str | None = None
    PipelineVersion: str | None = None
    ScheduleId: str | None = None


# -- pipeline endpoints --------------------------------------------------------------------------------------
class PipelineEndpointCreate(Strict):
    """``PipelineEndpoint.publish(ws, name, description, pipeline)``: version "0" is ``pipeline_id``."""

    name: EndpointName
    description: Description = ""
    pipeline_id: ObjectId


class PipelineEndpointAdd(Strict):
    """``add(pipeline)`` / ``add_default(pipeline)``: the next version; adding a pipeline that is already a
    version answers that version (``add_default`` makes it the default)."""

    pipeline_id: ObjectId
    set_default: StrictBool = False


class PipelineEndpointUpdate(Strict):
    """``set_default_version``, ``disable`` / ``enable`` / ``archive``, or a new description."""

    default_version: Version | None = None
    status: Literal["Active", "Disabled", "Archived"] | None = None
    description: Description | None = None


class PipelineEndpointVersion(BaseModel):
    """v1's ``PipelineIdVersion``: which published pipeline a version of an endpoint is."""

    version: str
    pipeline_id: str
    pipeline_name: str
    pipeline_status: str
    is_default: bool
    added_at: datetime


class PipelineEndpoint(BaseModel):
    id: str
    name: str
    description: str
    status: str
    default_version: str
    endpoint: str
    endpoint_path: str
    versions: list[PipelineEndpointVersion]
    created_at: datetime
    updated_at: datetime
    created_by: str


class PipelineEndpointList(BaseModel):
    items: list[PipelineEndpoint]


# -- schedules -----------------------------------------------------------------------------------------------
def _json_int(value: Any) -> Any:
    """A JSON integer: ``3`` or ``3.0`` (JSON Schema's integer), never ``true`` or ``"3"``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be an integer, not {value!r}"[:80])
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"must be an integer, not {value!r}")
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_json_int)]
Frequency = Literal["Minute", "Hour", "Day", "Week", "Month"]
WeekDay = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class ScheduleRecurrenceSpec(BaseModel):
    """v1's ``ScheduleRecurrence``: every ``interval`` ``frequency`` from ``start_time`` (naive: in
    ``time_zone``; default now), at ``hours``:``minutes`` (Day, Week) on ``week_days`` (Week), or
    ``time_of_day`` ("HH:MM") instead of hours and minutes. core/schedules_recurrence.py turns it into a cron
    expression and refuses one that can never fire, saying why. Not ``Strict`` (its JSON-type check reads
    a list of ints as an int): the strict types here refuse coercion."""

    model_config = ConfigDict(extra="forbid")

    frequency: Frequency
    interval: JsonInt = Field(ge=1, le=1000)
    start_time: datetime | None = None
    time_zone: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    hours: list[Annotated[int, Ge(0), Le(23), BeforeValidator(_json_int)]] | None = Field(default=None, max_length=24)
    minutes: list[Annotated[int, Ge(0), Le(59), BeforeValidator(_json_int)]] | None = Field(default=None, max_length=60)
    week_days: list[WeekDay] | None = Field(default=None, max_length=7)
    time_of_day: Annotated[str, Field(pattern=r"^([01]?\d|2[0-3]):[0-5]\d$")] | None = None


class ScheduleCreate(Strict):
    """``Schedule.create``: a recurrence, or a datastore path that is polled for added or changed files
    (every ``polling_interval`` minutes; fractions allowed here). Exactly one of ``pipeline_id`` and
    ``pipeline_endpoint_id`` (an endpoint's default version at each fire)."""

    name: PublishedName
    description: Description = ""
    experiment_name: ExperimentName
    pipeline_id: ObjectId | None = None
    pipeline_endpoint_id: ObjectId | None = None
    recurrence: ScheduleRecurrenceSpec | None = None
    datastore: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    path_on_datastore: Annotated[str, Field(max_length=1024)] | None = None
    polling_interval: Annotated[float, Field(gt=0, le=100000)] = 5
    pipeline_parameters: dict[str, Any] = Field(default_factory=dict, max_length=100)
    continue_on_step_failure: StrictBool | None = None


class ScheduleUpdate(Strict):
    """``schedule.update(...)``, ``disable()``, ``enable()``: only the fields given change."""

    name: PublishedName | None = None
    description: Description | None = None
    status: Literal["Active", "Disabled"] | None = None
    recurrence: ScheduleRecurrenceSpec | None = None
    polling_interval: Annotated[float, Field(gt=0, le=100000)] | None = None
    pipeline_parameters: dict[str, Any] | None = Field(default=None, max_length=100)
    path_on_datastore: Annotated[str, Field(max_length=1024)] | None = None
    continue_on_step_failure: StrictBool | None = None


class Schedule(BaseModel):
    id: str
    name: str
    description: str
    status: str
    experiment_name: str
    pipeline_id: str | None
    pipeline_endpoint_id: str | None
    recurrence: ScheduleRecurrenceSpec | None
    cron: str | None  # the recurrence as the cron expression it was translated to
    datastore_name: str | None
    path_on_datastore: str | None
    polling_interval: float
    pipeline_parameters: dict[str, Any]
    continue_on_step_failure: bool | None
    next_fire_at: datetime | None  # the next tick (or datastore poll) while Active
    last_fire_at: datetime | None
    created_at: datetime
    created_by: str


class ScheduleList(BaseModel):
    items: list[Schedule]


class ScheduleFire(BaseModel):
    """One firing: the slot it was for (a tick, or a datastore change), and the run it started or why not."""

    slot: str
    fired_at: datetime
    run_id: str | None
    error: str | None


class ScheduleFireList(BaseModel):
    items: list[ScheduleFire]
