"""``Schedule`` and ``ScheduleRecurrence`` with v1's names (``azureml.pipeline.core``).

The service runs the schedules (core/schedules.py): a recurrence becomes a cron expression there and a
datastore trigger polls its path, so a schedule fires with no notebook open, survives a restart and never
fires one slot twice (docs/pipelines.md#schedules).
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import api_types as T

if TYPE_CHECKING:
    from jupyter_aml.sdk.pipeline import PipelineRun
    from jupyter_aml.sdk.workspace import Workspace

__all__ = ["Schedule", "ScheduleRecurrence", "TimeZone"]


class TimeZone:
    """Time zone names for ``ScheduleRecurrence(time_zone=...)``: IANA names here (v1's enum holds Windows
    names, which are not read); any IANA name may be passed as a string."""

    UTC = "UTC"
    PacificStandardTime = "America/Los_Angeles"
    EasternStandardTime = "America/New_York"
    CentralEuropeStandardTime = "Europe/Paris"
    GMTStandardTime = "Europe/London"
    IndiaStandardTime = "Asia/Kolkata"
    ChinaStandardTime = "Asia/Shanghai"
    TokyoStandardTime = "Asia/Tokyo"


class ScheduleRecurrence:
    """Every ``interval`` ``frequency`` ("Minute", "Hour", "Day", "Week", "Month") from ``start_time``;
    ``hours`` and ``minutes`` (or ``time_of_day`` "HH:MM") for Day and Week, ``week_days`` for Week. Checked by
    the service, which refuses one that can never fire, saying why."""

    def __init__(self, frequency: str, interval: int, start_time: datetime | str | None = None,
                 time_zone: str | None = None, hours: list[int] | None = None, minutes: list[int] | None = None,
                 week_days: list[str] | None = None, time_of_day: str | None = None) -> None:
        self.frequency = frequency
        self.interval = interval
        self.start_time = start_time
        self.time_zone = time_zone
        self.hours = hours
        self.minutes = minutes
        self.week_days = week_days
        self.time_of_day = time_of_day

    def validate(self) -> None:
        """The quick checks v1 makes here; the service checks the rest (an impossible recurrence)."""
        if self.frequency not in ("Minute", "Hour", "Day", "Week", "Month"):
            raise InvalidInput(f"frequency must be Minute, Hour, Day, Week or Month, not {self.frequency!r}")
        if not isinstance(self.interval, int) or isinstance(self.interval, bool) or self.interval < 1:
            raise InvalidInput(f"interval must be a whole number of at least 1, not {self.interval!r}")

    def _body(self) -> dict[str, Any]:
        self.validate()
        start = self.start_time.isoformat() if isinstance(self.start_time, datetime) else self.start_time
        body = {"frequency": self.frequency, "interval": self.interval, "start_time": start,
                "time_zone": self.time_zone, "hours": self.hours, "minutes": self.minutes,
                "week_days": self.week_days, "time_of_day": self.time_of_day}
        return {k: v for k, v in body.items() if v is not None}

    @staticmethod
    def _from(body: dict[str, Any] | None) -> ScheduleRecurrence | None:
        return None if not body else ScheduleRecurrence(**body)

    def __repr__(self) -> str:
        return f"ScheduleRecurrence(frequency={self.frequency!r}, interval={self.interval!r})"


def _datastore_name(datastore: Any) -> str | None:
    if datastore is None or isinstance(datastore, str):
        return datastore
    return str(datastore.name)


class Schedule:
    """A published pipeline (or pipeline endpoint) run on a recurrence or when a datastore path changes."""

    def __init__(self, workspace: Workspace, details: T.Schedule) -> None:
        self._workspace = workspace
        self._details = details

    id = property(lambda self: self._details["id"])
    name = property(lambda self: self._details["name"])
    description = property(lambda self: self._details["description"])
    status = property(lambda self: self._details["status"])
    pipeline_id = property(lambda self: self._details.get("pipeline_id"))
    pipeline_endpoint_id = property(lambda self: self._details.get("pipeline_endpoint_id"))
    datastore_name = property(lambda self: self._details.get("datastore_name"))
    path_on_datastore = property(lambda self: self._details.get("path_on_datastore"))
    polling_interval = property(lambda self: self._details["polling_interval"])
    continue_on_step_failure = property(lambda self: self._details.get("continue_on_step_failure"))
    cron = property(lambda self: self._details.get("cron"), doc="the cron expression the recurrence became")
    next_fire_at = property(lambda self: self._details.get("next_fire_at"), doc="when it fires (or polls) next")
    data_path_parameter_name = None  # not supported here: create() refuses it

    @property
    def recurrence(self) -> ScheduleRecurrence | None:
        return ScheduleRecurrence._from(cast(dict[str, Any] | None, self._details.get("recurrence")))

    @staticmethod
    def create(workspace: Workspace, name: str, experiment_name: str, pipeline_id: str | None = None,
               recurrence: ScheduleRecurrence | None = None, description: str | None = None,
               pipeline_parameters: dict[str, Any] | None = None, wait_for_provisioning: bool = False,
               wait_timeout: int = 3600, datastore: Any = None, polling_interval: float = 5,
               data_path_parameter_name: str | None = None, continue_on_step_failure: bool | None = None,
               path_on_datastore: str | None = None, _workflow_provenance: Any = None,
               _service_endpoint: Any = None, pipeline_endpoint_id: str | None = None) -> Schedule:
        """Schedule a published pipeline (``pipeline_id``) or a pipeline endpoint's default version; the
        schedule is active at once (``wait_for_provisioning`` has nothing to wait for here)."""
        if data_path_parameter_name is not None:
            raise InvalidInput("data_path_parameter_name is not supported here: a fired run is not told which "
                               "file changed", hint="read the watched path in the pipeline's first step")
        body: dict[str, Any] = {
            "name": name, "description": description or "", "experiment_name": experiment_name,
            "pipeline_id": pipeline_id, "pipeline_endpoint_id": pipeline_endpoint_id,
            "recurrence": recurrence._body() if recurrence is not None else None,
            "datastore": _datastore_name(datastore), "path_on_datastore": path_on_datastore,
            "polling_interval": polling_interval, "pipeline_parameters": dict(pipeline_parameters or {}),
            "continue_on_step_failure": continue_on_step_failure}
        made = workspace._api.create_schedule(workspace.name, cast(T.ScheduleCreate, {
            k: v for k, v in body.items() if v is not None}))
        return Schedule(workspace, made)

    @staticmethod
    def get(workspace: Workspace, id: str, _workflow_provenance: Any = None, _service_endpoint: Any = None) -> Schedule:
        return Schedule(workspace, workspace._api.get_schedule(workspace.name, id))

    @staticmethod
    def list(workspace: Workspace, active_only: bool = True, pipeline_id: str | None = None,
             pipeline_endpoint_id: str | None = None, _workflow_provenance: Any = None,
             _service_endpoint: Any = None) -> builtins.list[Schedule]:
        found = workspace._api.list_schedules(workspace.name, include_disabled=not active_only, pipeline_id=pipeline_id,
                                              pipeline_endpoint_id=pipeline_endpoint_id)
        return [Schedule(workspace, s) for s in found["items"]]

    @staticmethod
    def get_schedules_for_pipeline_id(workspace: Workspace, pipeline_id: str) -> builtins.list[Schedule]:
        return Schedule.list(workspace, active_only=False, pipeline_id=pipeline_id)

    @staticmethod
    def get_schedules_for_pipeline_endpoint_id(workspace: Workspace,
                                               pipeline_endpoint_id: str) -> builtins.list[Schedule]:
        return Schedule.list(workspace, active_only=False, pipeline_endpoint_id=pipeline_endpoint_id)

    def _update(self, body: dict[str, Any]) -> None:
        self._details = self._workspace._api.update_schedule(self._workspace.name, self.id,
                                                             cast(T.ScheduleUpdate, body))

    def disable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        self._update({"status": "Disabled"})

    def enable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Active again, from its next slot after now (the slots it missed while disabled do not fire)."""
        self._update({"status": "Active"})

    def update(self, name: str | None = None, description: str | None = None,
               recurrence: ScheduleRecurrence | None = None, pipeline_parameters: dict[str, Any] | None = None,
               status: str | None = None, wait_for_provisioning: bool = False, wait_timeout: int = 3600,
               datastore: Any = None, polling_interval: float | None = None,
               data_path_parameter_name: str | None = None, continue_on_step_failure: bool | None = None,
               path_on_datastore: str | None = None) -> None:
        if datastore is not None:
            raise InvalidInput("a schedule's datastore cannot change here", hint="create another schedule")
        if data_path_parameter_name is not None:
            raise InvalidInput("data_path_parameter_name is not supported here")
        body = {"name": name, "description": description,
                "recurrence": recurrence._body() if recurrence is not None else None,
                "pipeline_parameters": pipeline_parameters, "status": status, "polling_interval": polling_interval,
                "continue_on_step_failure": continue_on_step_failure, "path_on_datastore": path_on_datastore}
        self._update({k: v for k, v in body.items() if v is not None})

    def _fires(self) -> builtins.list[dict[str, Any]]:
        found = self._workspace._api.schedule_fires(self._workspace.name, self.id)
        return [dict(f) for f in found["items"]]

    def get_pipeline_runs(self) -> builtins.list[PipelineRun]:
        """The pipeline runs it started, newest first."""
        from jupyter_aml.sdk.experiment import Experiment
        from jupyter_aml.sdk.pipeline import PipelineRun

        experiment = Experiment(self._workspace, self._details["experiment_name"])
        return [PipelineRun(experiment, f["run_id"]) for f in self._fires() if f.get("run_id")]

    def get_last_pipeline_run(self) -> PipelineRun | None:
        runs = self.get_pipeline_runs()
        return runs[0] if runs else None

    def get_fires(self) -> builtins.list[dict[str, Any]]:
        """Every firing (not in v1): its slot, time, run, or why the run could not start."""
        return self._fires()

    def get_details(self) -> dict[str, Any]:
        """The service's record (not in v1): next fire time and the cron expression included."""
        return dict(self._details)

    def __repr__(self) -> str:
        return f"Schedule(name={self.name!r}, id={self.id!r}, status={self.status!r})"
