"""What is sent to create a compute target and what it reports, in Azure ML v1's shapes (``sdk.compute`` has the
targets): ``ComputeTargetException``, the provisioning configurations and the warnings for Azure-only arguments,
the provisioning state, ``AmlComputeStatus`` (node counts), ``ComputeInstanceStatus``, and a wait's progress.

The service gives one ``state`` (Creating, Running, Starting, Stopping, Stopped, Restarting, Failed, Deleting)
and a node list; the functions here map them to v1's names so v1 code that reads them keeps working.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from jupyter_aml.errors import AMLError, NotFound, UserError


class ComputeTargetException(AMLError):
    """Azure ML v1's error for anything a compute target call refused or that failed on the target."""

    code = "ComputeTargetError"


class ComputeTargetNotFound(ComputeTargetException, NotFound):
    code = "NotFound"


_AS_COMPUTE_ERROR: dict[type[AMLError], type[ComputeTargetException]] = {}


def compute_error(exc: AMLError) -> AMLError:
    """A refusal of the service (4xx) as a ``ComputeTargetException`` that is still its own type (a Conflict stays
    a Conflict), so v1 code catching the one and project code catching the other both work. A service that does
    not answer stays a ``ServiceUnavailable``: that is no fault of the target."""
    if not isinstance(exc, UserError) or isinstance(exc, ComputeTargetException):
        return exc
    cls = type(exc)
    both = _AS_COMPUTE_ERROR.get(cls)
    if both is None:
        both = _AS_COMPUTE_ERROR[cls] = type(f"ComputeTarget{cls.__name__}", (ComputeTargetException, cls),
                                             {"code": cls.code, "status": cls.status})
    return both(exc.message, hint=exc.hint, details=exc.details)


def not_found(name: str, exc: AMLError) -> ComputeTargetNotFound:
    """v1's message for a missing target, with the service's hint (which names the targets that exist)."""
    return ComputeTargetNotFound(
        f"ComputeTargetNotFound: Compute Target with name {name} not found in provided workspace",
        hint=exc.hint or exc.message, details=exc.details)


_NO_SSH = "nodes here have no SSH login (read a run's logs, or run interactively on a ComputeInstance)"
AZURE_ONLY = {
    "vnet_resourcegroup_name": "there is no Azure virtual network: nodes use this service's (or the Dask "
                               "scheduler's) network",
    "admin_username": _NO_SSH, "admin_user_password": _NO_SSH, "admin_user_ssh_key": _NO_SSH,
    "admin_user_ssh_public_key": _NO_SSH, "ssh_public_access": _NO_SSH, "remote_login_port_public_access": _NO_SSH,
    "identity_type": "there is no managed identity: a run reaches the workspace with its own run token",
    "location": "a self-hosted workspace has a single location",
    "enable_node_public_ip": "nodes get no public IP address here",
    "assigned_user_object_id": "an instance belongs to its workspace: who may use it is set by the workspace's roles",
    "vm_priority": "nodes are never preempted here: a low-priority cluster runs as a dedicated one (the value is "
                   "kept on the compute's record)",
}
for _same, _as in (("vnet_name", "vnet_resourcegroup_name"), ("subnet_name", "vnet_resourcegroup_name"),
                   ("identity_id", "identity_type"), ("assigned_user_tenant_id", "assigned_user_object_id")):
    AZURE_ONLY[_same] = AZURE_ONLY[_as]


def warn_azure_only(given: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """Warn for each Azure-only argument given a value other than v1's default (its value is never shown: it
    may be a password)."""
    for name, value in given.items():
        if value != defaults.get(name):
            warnings.warn(f"{name} has no effect on a self-hosted workspace and is ignored: {AZURE_ONLY[name]}",
                          UserWarning, stacklevel=3)



# -- provisioning configurations -------------------------------------------------------------------------------
@dataclass
class ComputeTargetProvisioningConfiguration:
    """What ``ComputeTarget.create`` sends. An empty ``vm_size`` is the service's default, STANDARD_D2_V2."""

    type: ClassVar[str] = ""
    vm_size: str = ""
    tags: dict[str, Any] | None = None
    description: str | None = None

    def validate_configuration(self) -> None:
        """Refuse what the service would refuse, before anything is sent (v1 checks here too)."""

    def _body(self, name: str) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "type": self.type}
        if self.vm_size:
            body["vm_size"] = self.vm_size
        if self.tags:
            body["tags"] = dict(self.tags)
        if self.description:
            body["description"] = self.description
        return body


@dataclass
class AmlComputeProvisioningConfiguration(ComputeTargetProvisioningConfiguration):
    """A cluster: ``min_nodes``..``max_nodes`` (None: the service's default, 4) nodes of ``vm_size``, idle nodes
    removed after ``idle_seconds_before_scaledown`` (None: 1800). Not in v1: ``scheduler_address`` runs the
    cluster on an existing Dask scheduler instead of one started on this machine; ``cluster_class`` (e.g.
    "dask_jobqueue.SLURMCluster") with ``cluster_kwargs`` has the service start that cluster manager
    (docs/compute.md)."""

    type: ClassVar[str] = "AmlCompute"
    vm_priority: str = "dedicated"
    min_nodes: int = 0
    max_nodes: int | None = None
    idle_seconds_before_scaledown: int | None = None
    scheduler_address: str | None = None
    cluster_class: str | None = None
    cluster_kwargs: dict[str, Any] | None = None

    def validate_configuration(self) -> None:
        problem = None
        if self.vm_priority not in ("dedicated", "lowpriority"):
            problem = f"vm_priority must be 'dedicated' or 'lowpriority', not {self.vm_priority!r}"
        elif self.min_nodes < 0:
            problem = f"min_nodes must be 0 or more, not {self.min_nodes}"
        elif self.max_nodes is not None and self.max_nodes < max(1, self.min_nodes):
            problem = f"max_nodes ({self.max_nodes}) must be at least 1 and at least min_nodes ({self.min_nodes})"
        if problem:
            raise ComputeTargetException(f"invalid AmlCompute provisioning configuration: {problem}",
                                         hint="fix the argument of AmlCompute.provisioning_configuration")

    def _body(self, name: str) -> dict[str, Any]:
        body = super()._body(name)
        body.update(vm_priority=self.vm_priority, min_nodes=self.min_nodes)
        for key in ("max_nodes", "idle_seconds_before_scaledown", "scheduler_address", "cluster_class",
                    "cluster_kwargs"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return body


@dataclass
class ComputeInstanceProvisioningConfiguration(ComputeTargetProvisioningConfiguration):
    """An instance: one container with ``vm_size``'s CPUs and memory, stopped after
    ``idle_time_before_shutdown_minutes`` without runs (None: never). Not in v1: ``image`` (its Docker base image),
    ``max_concurrent_runs`` (None: 2) and ``when_stopped`` ("start": a run submitted to a stopped instance starts
    it; "refuse": it is refused), ``environment`` (a registered environment, "NAME" or "NAME:VERSION", the
    instance's image is built from)."""

    type: ClassVar[str] = "ComputeInstance"
    idle_time_before_shutdown_minutes: int | None = None
    image: str | None = None
    environment: str | None = None
    max_concurrent_runs: int | None = None
    when_stopped: str | None = None

    def validate_configuration(self) -> None:
        if self.when_stopped not in (None, "start", "refuse"):
            raise ComputeTargetException(f"when_stopped must be 'start' or 'refuse', not {self.when_stopped!r}",
                                         hint="'start' starts a stopped instance for a run; 'refuse' refuses it")

    def _body(self, name: str) -> dict[str, Any]:
        body = super()._body(name)
        for key in ("idle_time_before_shutdown_minutes", "image", "max_concurrent_runs", "when_stopped",
                    "environment"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return body


_ISO_MINUTES = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")


def iso_minutes(value: str) -> int:
    """v1's older ``idle_time_before_shutdown`` is an ISO 8601 duration such as "PT30M"."""
    match = _ISO_MINUTES.match(value.strip().upper())
    if not match or not any(match.groups()):
        raise ComputeTargetException(f"idle_time_before_shutdown {value!r} is not a duration like 'PT30M'",
                                     hint="or give idle_time_before_shutdown_minutes=30")
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


# -- states --------------------------------------------------------------------------------------------------
def provisioning_state(state: str | None) -> str:
    """v1's ``provisioning_state``: Creating, Succeeded, Failed or Deleting. A created target that is stopped or
    restarting has still been provisioned: Succeeded."""
    return {"Creating": "Creating", "Failed": "Failed", "Deleting": "Deleting"}.get(state or "", "Succeeded")


INSTANCE_STATES = ("Creating", "Running", "Starting", "Stopping", "Stopped", "Restarting", "Failed", "Deleting")


def instance_state(state: str | None) -> str:
    """v1's ``ComputeInstanceStatus.state``: the service's names are v1's; anything else is v1's "Unknown"."""
    return state if state in INSTANCE_STATES else "Unknown"


def errors_of(details: Mapping[str, Any]) -> list[dict[str, str]]:
    """v1's ``errors``: a list of ``{"code", "message"}``, empty while the target is healthy."""
    error = details.get("error")
    return [{"code": "ComputeTargetError", "message": str(error)}] if error else []


@dataclass
class ScaleSettings:
    """An AmlCompute's node counts (v1's ``ScaleSettings``)."""

    minimum_node_count: int
    maximum_node_count: int
    idle_seconds_before_scaledown: int | None = None

    def serialize(self) -> dict[str, Any]:
        return {"minNodeCount": self.minimum_node_count, "maxNodeCount": self.maximum_node_count,
                "nodeIdleTimeBeforeScaleDown": self.idle_seconds_before_scaledown}


@dataclass
class AmlComputeNodeStateCounts:
    """How many nodes are in each of v1's node states. Nodes here are never preempted: that count stays 0."""

    idle_node_count: int = 0
    running_node_count: int = 0
    preparing_node_count: int = 0
    unusable_node_count: int = 0
    leaving_node_count: int = 0
    preempted_node_count: int = 0

    def serialize(self) -> dict[str, int]:
        return {"idleNodeCount": self.idle_node_count, "runningNodeCount": self.running_node_count,
                "preparingNodeCount": self.preparing_node_count, "unusableNodeCount": self.unusable_node_count,
                "leavingNodeCount": self.leaving_node_count, "preemptedNodeCount": self.preempted_node_count}


# The service's node states and v1's name for each.
NODE_STATES = {"idle": "idle", "busy": "running", "starting": "preparing", "unusable": "unusable",
               "leaving": "leaving"}


class AmlComputeStatus:
    """A cluster's state now (v1's ``AmlComputeStatus``). ``target_node_count`` is where autoscaling is heading:
    one node per active or queued run, the nodes that stay, within min_nodes..max_nodes; ``allocation_state``
    is "Resizing" while a node starts or leaves or the count differs from the target, else "Steady"."""

    def __init__(self, details: Mapping[str, Any]) -> None:
        nodes = list(details.get("nodes") or [])
        counts: dict[str, int] = {}
        for node in nodes:
            key = NODE_STATES.get(str(node.get("state")), "unusable")
            counts[key] = counts.get(key, 0) + 1
        self.node_state_counts = AmlComputeNodeStateCounts(**{f"{k}_node_count": v for k, v in counts.items()})
        self.current_node_count = len(nodes)
        staying = len(nodes) - counts.get("leaving", 0)
        demand = int(details.get("active_runs") or 0) + int(details.get("queued_runs") or 0)
        low, high = int(details.get("min_nodes") or 0), details.get("max_nodes")
        target = max(low, staying, demand)
        self.target_node_count = min(target, int(high)) if high is not None else target
        moving = counts.get("preparing", 0) + counts.get("leaving", 0)
        self.allocation_state = "Resizing" if moving or self.current_node_count != self.target_node_count \
            else "Steady"
        self.provisioning_state = provisioning_state(details.get("state"))
        self.errors = errors_of(details)
        self.vm_size = details.get("vm_size")
        self.vm_priority = details.get("vm_priority")
        self.creation_time = details.get("created_at")

    def serialize(self) -> dict[str, Any]:
        return {"currentNodeCount": self.current_node_count, "targetNodeCount": self.target_node_count,
                "nodeStateCounts": self.node_state_counts.serialize(), "allocationState": self.allocation_state,
                "provisioningState": self.provisioning_state, "errors": self.errors, "vmSize": self.vm_size,
                "vmPriority": self.vm_priority, "creationTime": self.creation_time}

    def __repr__(self) -> str:
        return f"AmlComputeStatus({self.serialize()!r})"


class ComputeInstanceStatus:
    """An instance's state now (v1's ``ComputeInstanceStatus``)."""

    def __init__(self, details: Mapping[str, Any]) -> None:
        self.state = instance_state(details.get("state"))
        self.errors = errors_of(details)
        self.vm_size = details.get("vm_size")
        self.created_by = details.get("created_by")
        self.creation_time = details.get("created_at")
        self.active_runs = int(details.get("active_runs") or 0)
        self.queued_runs = int(details.get("queued_runs") or 0)

    def serialize(self) -> dict[str, Any]:
        return {"state": self.state, "errors": self.errors, "vmSize": self.vm_size, "createdBy": self.created_by,
                "creationTime": self.creation_time, "activeRuns": self.active_runs, "queuedRuns": self.queued_runs}

    def __repr__(self) -> str:
        return f"ComputeInstanceStatus({self.serialize()!r})"


class ComputeTargetStatus:
    """A target with no lifecycle of its own (the configured ``local`` one): its state and errors."""

    def __init__(self, details: Mapping[str, Any]) -> None:
        self.state = str(details.get("state") or "Running")
        self.provisioning_state = provisioning_state(details.get("state"))
        self.errors = errors_of(details)

    def serialize(self) -> dict[str, Any]:
        return {"state": self.state, "provisioningState": self.provisioning_state, "errors": self.errors}


# -- waiting ---------------------------------------------------------------------------------------------------
class Progress:
    """v1's progress output: the state when it changes, a dot per poll in between, all on one line."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self.last: str | None = None

    def step(self, state: str) -> None:
        if self.show:
            print(state if state != self.last else ".", end="", flush=True)
        self.last = state

    def line(self, text: str) -> None:
        if self.show:
            print(text, flush=True)


def poll(fetch: Callable[[], Mapping[str, Any]], done: Callable[[Mapping[str, Any]], bool], *,
         label: Callable[[Mapping[str, Any]], str], progress: Progress, timeout_s: float,
         what: str, interval: float = 0.5) -> Mapping[str, Any]:
    """Fetch until ``done``; a Failed target raises ``ComputeTargetException`` with its error, the end of
    ``timeout_s`` raises it with the state it stayed in (v1 only printed that: a caller would go on with a target
    that is not ready)."""
    deadline = time.monotonic() + timeout_s
    while True:
        details = fetch()
        progress.step(label(details))
        if done(details):
            return details
        if details.get("state") == "Failed":
            progress.line("")
            raise ComputeTargetException(f"compute target {details.get('name')!r} failed: "
                                         f"{details.get('error') or 'no reason given'}",
                                         hint="fix the cause, delete it and create it again", details=dict(details))
        if time.monotonic() > deadline:
            progress.line("")
            raise ComputeTargetException(
                f"compute target {details.get('name')!r} is still {details.get('state')} after waiting "
                f"{timeout_s / 60:g} minutes for {what}", hint="wait again with a longer timeout_in_minutes, or "
                "look at target.get_status()")
        time.sleep(interval)
