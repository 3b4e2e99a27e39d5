"""Compute targets with Azure ML v1's names: ``ComputeTarget(ws, name)``, ``ComputeTarget.create``, ``AmlCompute``
(an autoscaling cluster, run on Dask) and ``ComputeInstance`` (a long-lived container), their provisioning
configurations, ``wait_for_completion``, ``get_status``, ``update``, ``delete`` and ``supported_vmsizes``.

Arguments that only mean something on Azure (virtual network, SSH and admin login, managed identity, location,
public IPs, assigned users) are accepted, so v1 code runs, but never silently: a value other than v1's default
warns (``UserWarning``, naming the argument and why it has no effect) and is dropped. Only what would change what
a run sees is refused (``setup_scripts_settings``: a script that never ran would leave the instance unlike what the
code expects). Errors are ``ComputeTargetException`` (v1's), which stay their own type too (a ``Conflict`` is both).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from jupyter_aml.errors import AMLError, NotFound
from jupyter_aml.runtime import api_types as T
from jupyter_aml.sdk.compute_status import (
    NODE_STATES,
    AmlComputeNodeStateCounts,
    AmlComputeProvisioningConfiguration,
    AmlComputeStatus,
    ComputeInstanceProvisioningConfiguration,
    ComputeInstanceStatus,
    ComputeTargetException,
    ComputeTargetProvisioningConfiguration,
    ComputeTargetStatus,
    Progress,
    ScaleSettings,
    compute_error,
    errors_of,
    instance_state,
    iso_minutes,
    not_found,
    poll,
    provisioning_state,
    warn_azure_only,
)

_T = TypeVar("_T", bound="ComputeTarget")

if TYPE_CHECKING:
    from jupyter_aml.runtime.api import Api
    from jupyter_aml.sdk.workspace import Workspace

__all__ = ["AmlCompute", "AmlComputeNodeStateCounts", "AmlComputeProvisioningConfiguration", "AmlComputeStatus",
           "ComputeInstance", "ComputeInstanceProvisioningConfiguration", "ComputeInstanceStatus", "ComputeTarget",
           "ComputeTargetException", "ComputeTargetProvisioningConfiguration", "ScaleSettings"]


@contextmanager
def _refusals(name: str | None = None) -> Iterator[None]:
    """The service's refusals as ``ComputeTargetException``; a missing ``name`` with v1's message."""
    try:
        yield
    except NotFound as exc:
        raise (not_found(name, exc) if name else compute_error(exc)) from None
    except AMLError as exc:
        raise compute_error(exc) from None


# -- targets ---------------------------------------------------------------------------------------------------
class ComputeTarget:
    """A compute target of a workspace. ``ComputeTarget(ws, name)`` returns the object of its type (``AmlCompute``,
    ``ComputeInstance``, or a plain ``ComputeTarget`` for the configured ``local`` one) and raises
    ``ComputeTargetException`` when there is none of that name."""

    _type: ClassVar[str | None] = None
    _by_type: ClassVar[dict[str, type[ComputeTarget]]] = {}
    workspace: Workspace
    _details: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._type:
            ComputeTarget._by_type[cls._type] = cls

    def __new__(cls: type[_T], workspace: Workspace | None = None, name: str | None = None) -> _T:
        if workspace is None or not name:
            raise ComputeTargetException(f"{cls.__name__}() needs a workspace and a name",
                                         hint=f"{cls.__name__}(workspace=ws, name='cpu-cluster')")
        with _refusals(name):
            details = cast(dict[str, Any], workspace._api.get_compute(workspace.name, name))
        kind = ComputeTarget._class_for(details)
        if cls is not ComputeTarget and kind is not cls:
            raise ComputeTargetException(
                f"compute target {name!r} is of type {details.get('type')!r}, not {cls._type!r}",
                hint=f"get it with ComputeTarget(ws, {name!r}) or {kind.__name__}(ws, {name!r})")
        return cast(_T, kind._bound(workspace, details))

    def __init__(self, workspace: Workspace | None = None, name: str | None = None) -> None:
        """Everything is set by ``__new__`` (which picks the class from the target's type)."""

    @staticmethod
    def _class_for(details: Mapping[str, Any]) -> type[ComputeTarget]:
        return ComputeTarget._by_type.get(str(details.get("type")), ComputeTarget)

    @classmethod
    def _bound(cls, workspace: Workspace, details: dict[str, Any]) -> ComputeTarget:
        target = object.__new__(cls)
        target.workspace, target._details = workspace, details
        return target

    @property
    def _api(self) -> Api:
        return self.workspace._api

    # -- v1's class methods ---------------------------------------------------------------------------------
    @staticmethod
    def create(workspace: Workspace, name: str,
               provisioning_configuration: ComputeTargetProvisioningConfiguration) -> ComputeTarget:
        """Create it and return at once (state Creating): ``wait_for_completion()`` waits for it to be ready."""
        if not isinstance(provisioning_configuration, ComputeTargetProvisioningConfiguration):
            raise ComputeTargetException(
                f"create() takes a provisioning configuration, not {type(provisioning_configuration).__name__}",
                hint="AmlCompute.provisioning_configuration(...) or ComputeInstance.provisioning_configuration(...)")
        provisioning_configuration.validate_configuration()
        body = cast(T.ComputeCreate, provisioning_configuration._body(name))
        with _refusals():
            details = cast(dict[str, Any], workspace._api.create_compute(workspace.name, body))
        return ComputeTarget._class_for(details)._bound(workspace, details)

    @staticmethod
    def list(workspace: Workspace) -> builtins.list[ComputeTarget]:
        """Every target of the workspace, the configured ones (``local``) first."""
        with _refusals():
            items = workspace._api.list_computes(workspace.name)["items"]
        return [ComputeTarget._class_for(d)._bound(workspace, cast(dict[str, Any], d)) for d in items]

    @staticmethod
    def deserialize(workspace: Workspace, object_dict: Mapping[str, Any]) -> ComputeTarget:
        """The object ``serialize()`` described, without asking the service (``refresh_state()`` does)."""
        details = {k: v for k, v in object_dict.items() if k != "workspace"}
        return ComputeTarget._class_for(details)._bound(workspace, details)

    # -- attributes ------------------------------------------------------------------------------------------
    name = property(lambda self: str(self._details["name"]))
    type = property(lambda self: str(self._details.get("type", "")))
    vm_size = property(lambda self: self._details.get("vm_size"))
    tags = property(lambda self: dict(self._details.get("tags") or {}))
    description = property(lambda self: self._details.get("description") or "")
    created_by = property(lambda self: self._details.get("created_by"))
    provisioning_state = property(lambda self: provisioning_state(self._details.get("state")))
    provisioning_errors = property(lambda self: errors_of(self._details))

    @property
    def state(self) -> str:
        """The service's own state (Creating, Running, Starting, Stopping, Stopped, Restarting, Failed, Deleting)."""
        return str(self._details.get("state", ""))

    @property
    def status(self) -> Any:
        """The status as last fetched (``get_status()`` fetches it again)."""
        return ComputeTargetStatus(self._details)

    def refresh_state(self) -> None:
        """Fetch the target's state and settings again, in place."""
        with _refusals(self.name):
            self._details = cast(dict[str, Any], self._api.get_compute(self.workspace.name, self.name))

    def get(self) -> ComputeTarget:
        """v1's ``get()``: this object, refreshed from the service."""
        self.refresh_state()
        return self

    def get_status(self) -> Any:
        self.refresh_state()
        return self.status

    def serialize(self) -> dict[str, Any]:
        return {"workspace": self.workspace.name, **self._details}

    # -- waiting and deleting -------------------------------------------------------------------------------------
    def _fetch(self) -> dict[str, Any]:
        self.refresh_state()
        return self._details

    def _wait_ready(self, show_output: bool, timeout_in_minutes: float, *, ready: Callable[[Mapping[str, Any]], bool]
                    | None = None, is_delete_operation: bool = False, what: str = "it to be ready") -> Progress:
        progress = Progress(show_output)
        if is_delete_operation:
            self._wait_deleted(progress, timeout_in_minutes)
            return progress
        poll(self._fetch, ready or (lambda d: d.get("state") in ("Running", "Stopped")),
             label=lambda d: provisioning_state(d.get("state")), progress=progress,
             timeout_s=timeout_in_minutes * 60, what=what)
        progress.line('Provisioning operation finished, operation "Succeeded"')
        return progress

    def _wait_deleted(self, progress: Progress, timeout_in_minutes: float) -> None:
        def fetch() -> Mapping[str, Any]:
            try:
                return self._fetch()
            except NotFound:
                return {"name": self.name, "state": "Deleted"}

        poll(fetch, lambda d: d["state"] == "Deleted", label=lambda d: str(d["state"]), progress=progress,
             timeout_s=timeout_in_minutes * 60, what="it to be deleted")
        progress.line("")

    def wait_for_completion(self, show_output: bool = False, is_delete_operation: bool = False,
                            timeout_in_minutes: float = 20) -> None:
        """Wait until the create (or start, restart) in progress ended; a Failed target raises
        ``ComputeTargetException`` with its error."""
        self._wait_ready(show_output, timeout_in_minutes, is_delete_operation=is_delete_operation)

    def delete(self, force: bool = False) -> None:
        """Delete it; returns once it is gone (v1 returned while Azure was still deleting). Refused while runs are
        queued or running on it, unless ``force=True`` (not in v1), which cancels them first."""
        with _refusals(self.name):
            self._api.delete_compute(self.workspace.name, self.name, force=force)
        self._details = {**self._details, "state": "Deleting", "nodes": [], "active_runs": 0, "queued_runs": 0}

    def detach(self) -> None:
        raise ComputeTargetException(f"compute target {self.name!r} was created here, not attached",
                                     hint="delete() removes it")

    @staticmethod
    def supported_vmsizes(workspace: Workspace, location: str | None = None) -> builtins.list[dict[str, Any]]:
        """v1's table of sizes: ``name``, ``vCPUs``, ``gpus``, ``memoryGB``, and ``maxResourceVolumeMB`` always
        0 (nodes have no temporary disk of their own here: runs write in their run folder)."""
        if location is not None:
            warn_azure_only({"location": location}, {"location": None})
        with _refusals():
            rows = workspace._api.vm_sizes(workspace.name)["items"]
        return [{"name": r["name"], "vCPUs": r["vCPUs"], "gpus": r.get("gpus", 0), "memoryGB": r["memoryGB"],
                 "maxResourceVolumeMB": 0} for r in rows]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(workspace={self.workspace.name!r}, name={self.name!r}, "
                f"type={self.type!r}, state={self.state!r})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComputeTarget) and (other.workspace.name, other.name) == (self.workspace.name,
                                                                                           self.name)

    def __hash__(self) -> int:
        return hash((self.workspace.name, self.name))

    def __reduce__(self) -> tuple[Any, ...]:
        """copy and pickle rebuild from the record (``__new__`` would ask the service)."""
        return ComputeTarget.deserialize, (self.workspace, dict(self._details))


class AmlCompute(ComputeTarget):
    """An autoscaling cluster: one node per run, between min_nodes and max_nodes."""

    _type = "AmlCompute"

    @staticmethod
    def provisioning_configuration(
        vm_size: str = "", vm_priority: str = "dedicated", min_nodes: int = 0, max_nodes: int | None = None,
        idle_seconds_before_scaledown: int | None = None, admin_username: str | None = None,
        admin_user_password: str | None = None, admin_user_ssh_key: str | None = None,
        vnet_resourcegroup_name: str | None = None, vnet_name: str | None = None, subnet_name: str | None = None,
        tags: dict[str, Any] | None = None, description: str | None = None,
        remote_login_port_public_access: str = "NotSpecified", identity_type: str | None = None,
        identity_id: builtins.list[str] | None = None, location: str | None = None, enable_node_public_ip: bool = True,
        *, scheduler_address: str | None = None, cluster_class: str | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
    ) -> AmlComputeProvisioningConfiguration:
        """An empty ``vm_size`` is the service's default, STANDARD_D2_V2 (``supported_vmsizes`` lists the others);
        the Azure-only arguments warn when given (see the module's docstring)."""
        warn_azure_only(
            {"admin_username": admin_username, "admin_user_password": admin_user_password,
             "admin_user_ssh_key": admin_user_ssh_key, "vnet_resourcegroup_name": vnet_resourcegroup_name,
             "vnet_name": vnet_name, "subnet_name": subnet_name,
             "remote_login_port_public_access": remote_login_port_public_access, "identity_type": identity_type,
             "identity_id": identity_id, "location": location, "enable_node_public_ip": enable_node_public_ip,
             "vm_priority": vm_priority},
            {"remote_login_port_public_access": "NotSpecified", "enable_node_public_ip": True,
             "vm_priority": "dedicated"})
        return AmlComputeProvisioningConfiguration(
            vm_size=vm_size, tags=tags, description=description, vm_priority=vm_priority, min_nodes=min_nodes,
            max_nodes=max_nodes, idle_seconds_before_scaledown=idle_seconds_before_scaledown,
            scheduler_address=scheduler_address, cluster_class=cluster_class, cluster_kwargs=cluster_kwargs)

    vm_priority = property(lambda self: self._details.get("vm_priority") or "dedicated")
    scheduler_address = property(lambda self: self._details.get("scheduler_address"))

    @property
    def scale_settings(self) -> ScaleSettings:
        d = self._details
        return ScaleSettings(int(d.get("min_nodes") or 0), int(d.get("max_nodes") or 0),
                             d.get("idle_seconds_before_scaledown"))

    @property
    def status(self) -> AmlComputeStatus:
        return AmlComputeStatus(self._details)

    def get_status(self) -> AmlComputeStatus:
        self.refresh_state()
        return self.status

    def list_nodes(self) -> builtins.list[dict[str, Any]]:
        """v1's node list: ``nodeId``, ``nodeState`` (idle, running, preparing, unusable, leaving), ``runId``."""
        self.refresh_state()
        return [{"nodeId": n["name"], "nodeState": NODE_STATES.get(n["state"], "unusable"),
                 "runId": (n.get("run_ids") or [None])[0]} for n in self._details.get("nodes") or []]

    def update(self, min_nodes: int | None = None, max_nodes: int | None = None,
               idle_seconds_before_scaledown: int | None = None) -> None:
        """Change the node counts or the idle time; unset ones stay. Takes effect at once (nodes above
        max_nodes leave when their runs end)."""
        body = {k: v for k, v in (("min_nodes", min_nodes), ("max_nodes", max_nodes),
                                  ("idle_seconds_before_scaledown", idle_seconds_before_scaledown)) if v is not None}
        with _refusals(self.name):
            self._details = cast(dict[str, Any], self._api.update_compute(
                self.workspace.name, self.name, cast(T.ComputeUpdate, body)))

    def wait_for_completion(self, show_output: bool = False, min_node_count: int | None = None,  # type: ignore[override]
                            timeout_in_minutes: float = 20, is_delete_operation: bool = False) -> None:
        """Wait until the cluster is Running and, with ``min_node_count``, has that many ready nodes (it cannot
        exceed min_nodes: idle nodes above it are removed, so the wait is refused rather than timed out)."""
        if is_delete_operation:
            self._wait_ready(show_output, timeout_in_minutes, is_delete_operation=True)
            return
        if min_node_count is not None and min_node_count > self.scale_settings.minimum_node_count:
            raise ComputeTargetException(
                f"min_node_count {min_node_count} is more than the cluster's min_nodes "
                f"({self.scale_settings.minimum_node_count}): that many nodes are kept only while runs use them",
                hint=f"cluster.update(min_nodes={min_node_count}) first, or wait for fewer nodes")
        wanted = min_node_count or 0

        def ready(d: Mapping[str, Any]) -> bool:
            up = sum(1 for n in d.get("nodes") or [] if n.get("state") in ("idle", "busy"))
            return d.get("state") == "Running" and up >= wanted

        progress = self._wait_ready(show_output, timeout_in_minutes, ready=ready,
                                    what=f"{wanted} ready node(s)" if wanted else "it to be ready")
        progress.line("AmlCompute wait for completion finished")
        if wanted:
            progress.line("Minimum number of nodes requested have been provisioned")


class ComputeInstance(ComputeTarget):
    """A long-lived container that runs several runs at once; it can be stopped, started and restarted."""

    _type = "ComputeInstance"

    @staticmethod
    def provisioning_configuration(
        vm_size: str = "", ssh_public_access: bool = False, admin_user_ssh_public_key: str | None = None,
        vnet_resourcegroup_name: str | None = None, vnet_name: str | None = None, subnet_name: str | None = None,
        tags: dict[str, Any] | None = None, description: str | None = None,
        assigned_user_object_id: str | None = None, assigned_user_tenant_id: str | None = None,
        idle_time_before_shutdown: str | None = None, idle_time_before_shutdown_minutes: int | None = None,
        enable_node_public_ip: bool = True, setup_scripts_settings: Any = None, *, image: str | None = None,
        max_concurrent_runs: int | None = None, when_stopped: str | None = None, environment: str | None = None,
    ) -> ComputeInstanceProvisioningConfiguration:
        """An empty ``vm_size`` is the service's default, STANDARD_D2_V2. The Azure-only arguments warn when given;
        ``setup_scripts_settings`` is refused (put the setup in the instance's ``image`` or the run's
        Environment)."""
        if setup_scripts_settings is not None:
            raise ComputeTargetException("setup scripts are not run on a ComputeInstance here",
                                         hint="put the setup in the instance's image= or in the run's Environment")
        warn_azure_only(
            {"ssh_public_access": ssh_public_access, "admin_user_ssh_public_key": admin_user_ssh_public_key,
             "vnet_resourcegroup_name": vnet_resourcegroup_name, "vnet_name": vnet_name, "subnet_name": subnet_name,
             "assigned_user_object_id": assigned_user_object_id, "assigned_user_tenant_id": assigned_user_tenant_id,
             "enable_node_public_ip": enable_node_public_ip},
            {"ssh_public_access": False, "enable_node_public_ip": True})
        if idle_time_before_shutdown is not None and idle_time_before_shutdown_minutes is None:
            idle_time_before_shutdown_minutes = iso_minutes(idle_time_before_shutdown)
        return ComputeInstanceProvisioningConfiguration(
            vm_size=vm_size, tags=tags, description=description,
            idle_time_before_shutdown_minutes=idle_time_before_shutdown_minutes, image=image,
            max_concurrent_runs=max_concurrent_runs, when_stopped=when_stopped, environment=environment)

    image = property(lambda self: self._details.get("image"))
    max_concurrent_runs = property(lambda self: self._details.get("max_concurrent_runs"))
    idle_time_before_shutdown_minutes = property(lambda self: self._details.get("idle_time_before_shutdown_minutes"))
    ssh_public_access = property(lambda self: False)

    @property
    def status(self) -> ComputeInstanceStatus:
        return ComputeInstanceStatus(self._details)

    def get_status(self) -> ComputeInstanceStatus:
        self.refresh_state()
        return self.status

    def wait_for_completion(self, show_output: bool = False, is_delete_operation: bool = False,
                            timeout_in_minutes: float = 20) -> None:
        self._wait_ready(show_output, timeout_in_minutes, is_delete_operation=is_delete_operation)

    def _operate(self, verb: str, until: str, wait_for_completion: bool, show_output: bool,
                 timeout_in_minutes: float) -> None:
        call = {"start": self._api.start_compute, "stop": self._api.stop_compute,
                "restart": self._api.restart_compute}[verb]
        with _refusals(self.name):
            self._details = cast(dict[str, Any], call(self.workspace.name, self.name))
        if not wait_for_completion:
            return
        progress = Progress(show_output)
        poll(self._fetch, lambda d: d.get("state") == until, label=lambda d: instance_state(d.get("state")),
             progress=progress, timeout_s=timeout_in_minutes * 60, what=f"it to be {until}")
        progress.line("")

    def start(self, wait_for_completion: bool = True, show_output: bool = True,
              timeout_in_minutes: float = 20) -> None:
        self._operate("start", "Running", wait_for_completion, show_output, timeout_in_minutes)

    def stop(self, wait_for_completion: bool = True, show_output: bool = True,
             timeout_in_minutes: float = 20) -> None:
        """Stop it (refused while runs are running on it)."""
        self._operate("stop", "Stopped", wait_for_completion, show_output, timeout_in_minutes)

    def restart(self, wait_for_completion: bool = True, show_output: bool = True,
                timeout_in_minutes: float = 20) -> None:
        self._operate("restart", "Running", wait_for_completion, show_output, timeout_in_minutes)
