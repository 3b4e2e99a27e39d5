"""REST payloads of computes: what a user creates (v1's provisioning configurations), changes and reads back.

A compute is a workspace resource. Its ``type`` is v1's: ``AmlCompute`` (an autoscaling cluster, run on Dask)
or ``ComputeInstance`` (a long-lived Docker container); targets configured with ``c.AMLExtension.computes``
(``origin: "config"``, e.g. ``local``) are listed in every workspace and cannot be changed through the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, field_validator

from jupyter_aml.core.models import STR_MAP_SCHEMA, Strict, StrMap, _check_str_map
from jupyter_aml.errors import InvalidInput

# v1's rule for a compute name: letters, digits and '-', starting with a letter (2 to 32 characters here).
COMPUTE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9-]{1,31}$"
ComputeName = Annotated[str, Field(pattern=COMPUTE_NAME_PATTERN)]
ComputeType = Literal["AmlCompute", "ComputeInstance"]
VmPriority = Literal["dedicated", "lowpriority"]
# A cluster-manager class as "module:Class" or "module.Class" (e.g. dask_jobqueue.SLURMCluster).
CLASS_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]*(?::[A-Za-z_][A-Za-z0-9_]*)?$"
# A Dask scheduler address: protocol://host:port (an IPv6 host in brackets), or inproc://.
ADDRESS_PATTERN = r"^(?:(?:tcp|tls|ws|wss|ucx)://(?:\[[0-9A-Fa-f:.]{2,60}\]|[A-Za-z0-9_.-]{1,200}):[0-9]{1,5}|inproc://\S{1,250})$"
SIZE_PATTERN = r"^[A-Za-z0-9_]{1,64}$"


class ComputeCreate(Strict):
    """``ComputeTarget.create(ws, name, config)``: the fields of v1's two provisioning configurations."""

    name: ComputeName
    type: ComputeType
    vm_size: str = Field(default="STANDARD_D2_V2", pattern=SIZE_PATTERN,
                         description="a name from GET /workspaces/{ws}/vm-sizes (case-insensitive)")
    description: str = Field(default="", max_length=5000)
    tags: StrMap = Field(default_factory=dict)
    # AmlCompute
    min_nodes: int = Field(default=0, ge=0, le=1000)
    max_nodes: int = Field(default=4, ge=1, le=1000)
    idle_seconds_before_scaledown: int = Field(default=1800, ge=0, le=7 * 24 * 3600)
    vm_priority: VmPriority = "dedicated"
    scheduler_address: str | None = Field(default=None, pattern=ADDRESS_PATTERN,
                                          description="an existing Dask scheduler to run on instead of a local one")
    cluster_class: str | None = Field(default=None, pattern=CLASS_PATTERN, max_length=255,
                                      description="a Dask cluster manager to start, e.g. dask_jobqueue.SLURMCluster")
    cluster_kwargs: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of cluster_class")
    # ComputeInstance
    idle_time_before_shutdown_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    image: str | None = Field(default=None, max_length=512, description="the instance's Docker base image")
    environment: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}(?::[0-9]{1,9})?$",
        description="a registered environment (NAME or NAME:VERSION) the instance's image is built from: its "
        "docker base image and pip requirements, cached by their hash in the workspace's image registry")
    max_concurrent_runs: int = Field(default=2, ge=1, le=64)
    when_stopped: Literal["start", "refuse"] = Field(
        default="start", description="what a run submitted to a Stopped instance does: start it, or be refused")

    _tags = field_validator("tags")(_check_str_map)

    def check(self) -> None:
        """The rules between fields, refused as InvalidInput (400) with the fix: a document cannot say them, so
        they are not schema errors (checked by the service on create, and on the merged record on update)."""
        problem = None
        if self.max_nodes < self.min_nodes:
            problem = (f"max_nodes ({self.max_nodes}) is less than min_nodes ({self.min_nodes})",
                       "give max_nodes >= min_nodes")
        elif self.type == "AmlCompute" and self.scheduler_address and self.cluster_class:
            problem = ("scheduler_address and cluster_class are both given", "give one of them, not both")
        elif self.cluster_kwargs and not self.cluster_class:
            problem = ("cluster_kwargs needs cluster_class", "name the cluster manager class, or drop cluster_kwargs")
        elif self.type == "AmlCompute" and self.environment:
            problem = ("an AmlCompute takes no environment", "runs name their environment; give it to the run")
        elif self.type == "ComputeInstance" and (self.scheduler_address or self.cluster_class):
            problem = ("a ComputeInstance takes no scheduler_address or cluster_class",
                       "an AmlCompute does: create one with type AmlCompute")
        if problem is not None:
            raise InvalidInput(f"compute {self.name!r}: {problem[0]}", hint=problem[1])


class ComputeUpdate(Strict):
    """``AmlCompute.update(min_nodes=, max_nodes=, idle_seconds_before_scaledown=)``; unset fields stay."""

    min_nodes: int | None = Field(default=None, ge=0, le=1000)
    max_nodes: int | None = Field(default=None, ge=1, le=1000)
    idle_seconds_before_scaledown: int | None = Field(default=None, ge=0, le=7 * 24 * 3600)
    description: str | None = Field(default=None, max_length=5000)
    tags: StrMap | None = None

    _tags = field_validator("tags")(_check_str_map)


class ComputeAction(Strict):
    """Body of DELETE with force, kept for clients that cannot send a query string."""

    force: StrictBool = False


class ComputeNode(BaseModel):
    name: str
    state: Literal["idle", "busy", "starting", "leaving", "unusable"]
    run_ids: list[str] = Field(default_factory=list)


class QueuedRun(BaseModel):
    run_id: str
    workspace: str
    position: int
    reason: str


class Compute(BaseModel):
    """A compute as listed: its record, merged with what its backend reports now."""

    name: str
    type: str
    origin: Literal["workspace", "config"] = "workspace"
    state: str = "Running"  # Creating, Running, Starting, Stopping, Stopped, Restarting, Failed, Deleting
    error: str | None = None
    vm_size: str | None = None
    vcpus: float | None = None
    memory_gb: float | None = None
    min_nodes: int | None = None
    max_nodes: int | None = None
    idle_seconds_before_scaledown: int | None = None
    idle_time_before_shutdown_minutes: int | None = None
    vm_priority: str | None = None
    scheduler_address: str | None = None
    cluster_class: str | None = None
    image: str | None = None
    environment: str | None = None
    when_stopped: str | None = None
    max_concurrent_runs: int
    active_runs: int = 0
    queued_runs: int = 0
    nodes: list[ComputeNode] = Field(default_factory=list)
    queue: list[QueuedRun] = Field(default_factory=list)
    description: str = ""
    tags: Annotated[dict[str, Any], Field(json_schema_extra=STR_MAP_SCHEMA)] = Field(default_factory=dict)
    created_by: str | None = None
    created_at: datetime | None = None


class ComputeList(BaseModel):
    items: list[Compute]


class VmSize(BaseModel):
    """One row of ``AmlCompute.supported_vmsizes(ws)``: v1's size name and the limits it sets per node."""

    name: str
    vCPUs: float  # v1 spells it so
    memoryGB: float  # v1 spells it so
    gpus: int = 0
    family: str = ""
    custom: bool = False


class VmSizeList(BaseModel):
    items: list[VmSize]
