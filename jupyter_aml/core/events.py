"""The push channel's schema: services publish these typed events; the server fans them out as SSE.

Every event is one model of the ``Event`` union, told apart by ``type``. The OpenAPI document lists them
(``AMLEvent``) so that every client gets generated types instead of hand-written ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, TypeAdapter

from jupyter_aml.core.models import LogLine, Run

METRIC_EVENT_POINTS = 1000  # live charts need the newest points, not every point of a big batch


def _type_required(schema: dict[str, Any]) -> None:
    """``type`` has a default for publishers, but every event on the wire carries it: clients switch on it."""
    required = schema.setdefault("required", [])
    if "type" not in required:
        required.insert(0, "type")


class _Event(BaseModel):
    model_config = ConfigDict(json_schema_extra=_type_required)


class RunEvent(_Event):
    """A run was created or changed (status, tags, display name...): the whole run, as GET returns it."""

    type: Literal["run"] = "run"
    run: Run


class LogEvent(_Event):
    type: Literal["log"] = "log"
    run_id: str
    lines: list[LogLine]


class MetricEvent(_Event):
    """Scalar points as stored: the same columns and steps as the metric's history.

    The points are the series' points with indices ``total - len(steps)`` .. ``total - 1``, so a client
    holding a history of ``H`` points appends exactly the ones it lacks.
    """

    type: Literal["metric"] = "metric"
    run_id: str
    name: str
    total: int = Field(ge=0, description="points in the series after this batch was stored")
    steps: list[float]
    # as in MetricHistory: numbers, "NaN"/"Infinity"/"-Infinity", and with ``types`` strings, bools, nulls
    values: list[Any]
    times: list[float]
    types: list[Literal["f", "i", "b", "n", "s"]] | None = None


class FilesEvent(_Event):
    type: Literal["files"] = "files"
    run_id: str
    paths: list[str]


class ModelEvent(_Event):
    """A model version was registered, updated (tags, properties, description) or deleted."""

    type: Literal["model"] = "model"
    action: Literal["registered", "updated", "deleted"]
    name: str
    version: int


class WebserviceEvent(_Event):
    """A web service changed (state, revision, replicas, settings) or was deleted."""

    type: Literal["webservice"] = "webservice"
    action: Literal["changed", "deleted"]
    name: str


class ComputeEvent(_Event):
    """A compute changed (state, nodes, queue, settings) or was deleted: clients fetch it again."""

    type: Literal["compute"] = "compute"
    action: Literal["changed", "deleted"]
    name: str


Event = RunEvent | LogEvent | MetricEvent | FilesEvent | ModelEvent | WebserviceEvent | ComputeEvent
EVENT_MODELS: tuple[type[BaseModel], ...] = (RunEvent, LogEvent, MetricEvent, FilesEvent, ModelEvent, WebserviceEvent,
                                             ComputeEvent)


class AMLEvent(RootModel[Annotated[Event, Field(discriminator="type")]]):
    """One ``data:`` line of GET /events."""


_ADAPTER: TypeAdapter[Event] = TypeAdapter(Annotated[Event, Field(discriminator="type")])

EventSink = Callable[[str, Event], None]  # (workspace name, event)


def parse_event(data: str | bytes) -> Event:
    """Validate one SSE data line into its event model (raises pydantic.ValidationError)."""
    return _ADAPTER.validate_json(data)


def discard(_workspace: str, _event: Event) -> None:
    """Default sink when nothing listens (e.g. the CLI talking to the store directly)."""
