"""Computes as workspace resources: create, list, update, start/stop/restart and delete, on real backends.

A create is checked first and stored only when it can work (a known size and type, an engine that answers);
the slow part (starting a cluster, building a container) runs in the background, with the state on the
record (Creating, then Running or Failed with the reason). Backends report state and node changes through
their change hook; each change is persisted, published as a ``compute`` event and wakes the run queue. The
configured targets (``c.AMLExtension.computes``, e.g. ``local``) are listed with ``origin: "config"`` and
cannot be changed here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jupyter_aml.compute.base import ComputeBackend
from jupyter_aml.compute.registry import backend_types
from jupyter_aml.core import compute_models as cm
from jupyter_aml.core.compute_records import ComputeRecord, ComputeRecords
from jupyter_aml.core.events import ComputeEvent, EventSink
from jupyter_aml.core.run_queue import CONFIGURED, TargetKey, TargetQueue
from jupyter_aml.core.scheduler import Scheduler
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.core.vm_sizes import resolve, size_table
from jupyter_aml.errors import Conflict, InvalidInput, NotFound, QuotaExceeded

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _cluster_settings(spec: cm.ComputeCreate, size: Mapping[str, Any]) -> dict[str, Any]:
    return {"min_nodes": spec.min_nodes, "max_nodes": spec.max_nodes,
            "idle_seconds_before_scaledown": spec.idle_seconds_before_scaledown,
            "scheduler_address": spec.scheduler_address, "cluster_class": spec.cluster_class,
            "cluster_kwargs": spec.cluster_kwargs, "memory_gb": size["memoryGB"], "vcpus": size["vCPUs"]}


def _instance_settings(spec: cm.ComputeCreate, size: Mapping[str, Any]) -> dict[str, Any]:
    return {"image": spec.image, "vcpus": size["vCPUs"], "memory_gb": size["memoryGB"],
            "max_concurrent_runs": spec.max_concurrent_runs,
            "idle_time_before_shutdown_minutes": spec.idle_time_before_shutdown_minutes,
            "when_stopped": spec.when_stopped}


# What each compute type's backend is constructed with, from the record's fields and its VM size.
BACKEND_SETTINGS: dict[str, Callable[[cm.ComputeCreate, Mapping[str, Any]], dict[str, Any]]] = {
    "AmlCompute": _cluster_settings,
    "ComputeInstance": _instance_settings,
}


class ComputeService:
    def __init__(self, records: ComputeRecords, scheduler: Scheduler, *, state_root: Path,
                 events: EventSink, vm_sizes: list[dict[str, Any]] | None = None,
                 target_defaults: dict[str, Any] | None = None, settings: ServiceSettings | None = None) -> None:
        self.records = records
        self.quota = settings or ServiceSettings()
        self.scheduler = scheduler
        self.state_root = state_root  # <root>/computes/<workspace>/<name>: cluster host files, never mounted
        self.sizes = size_table(vm_sizes or ())
        self.target_defaults = dict(target_defaults or {})  # the runner settings local runs get
        self._publish = events
        self._provisioning: dict[TargetKey, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        scheduler.on_queue_change = self._queue_changed

    # -- views -----------------------------------------------------------------------------------------------
    def vm_sizes(self) -> cm.VmSizeList:
        return cm.VmSizeList(items=[cm.VmSize(**row) for _, row in sorted(self.sizes.items())])

    def list(self, workspace: str) -> cm.ComputeList:
        records = {r.name: r for r in self.records.all(workspace)}
        return cm.ComputeList(items=[self._view(t, records.get(t.key[1]) if not t.configured else None)
                                     for t in self.scheduler.visible(workspace)])

    def get(self, workspace: str, name: str) -> cm.Compute:
        target = self.scheduler.find(workspace, name)
        if target is not None and target.configured:
            return self._view(target, None)
        record = self.records.get(workspace, name)  # NotFound names what exists
        target = self.scheduler.targets.get((workspace, name))
        if target is None:
            raise NotFound(f"compute target {name!r} is not loaded", hint="restart the service")
        return self._view(target, record)

    def _view(self, target: TargetQueue, record: ComputeRecord | None) -> cm.Compute:
        live = target.backend.describe()
        base: dict[str, Any] = {"name": target.key[1], "type": live["type"], "state": live["state"],
                                "error": live.get("error"), "max_concurrent_runs": target.backend.slots(),
                                "active_runs": len(target.running), "queued_runs": len(target.queue),
                                "nodes": live.get("nodes", []), "queue": target.waiting()}
        if record is None:
            return cm.Compute(origin="config", **base)
        spec = record.spec
        size = self.sizes.get(spec.vm_size.upper(), {})
        fields = spec.model_dump(include={"vm_size", "description", "tags", "vm_priority", "when_stopped"})
        if spec.type == "AmlCompute":
            fields.update(spec.model_dump(include={"min_nodes", "max_nodes", "idle_seconds_before_scaledown",
                                                   "scheduler_address", "cluster_class"}))
        else:
            fields.update(spec.model_dump(include={"idle_time_before_shutdown_minutes", "image", "environment"}))
        return cm.Compute(origin="workspace", vcpus=size.get("vCPUs"), memory_gb=size.get("memoryGB"),
                          created_by=record.created_by, created_at=record.created_at, **fields, **base)

    # -- lifecycle -------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Load every workspace's computes and bring each up again (a running cluster or container is found
        and adopted, so its runs can be reattached), before the run queue reconciles. Configured managed targets
        (an AmlCompute in ``c.AMLExtension.computes``) are brought up the same way."""
        for key, target in list(self.scheduler.targets.items()):
            if key[0] == CONFIGURED and target.backend.state() != "Running":
                target.backend.on_change(functools.partial(self.scheduler.kick, key))
                await self._provision(key, target.backend)
        for record in await asyncio.to_thread(self.records.all):
            try:
                backend = self._backend(record.workspace, record.spec)
            except Exception as exc:
                log.exception("compute %r of workspace %r cannot be loaded", record.name, record.workspace)
                await asyncio.to_thread(self.records.set_state, record.workspace, record.name, "Failed", str(exc))
                continue
            self._attach(record.workspace, backend)
            await self._provision((record.workspace, record.name), backend)

    async def create(self, workspace: str, spec: cm.ComputeCreate, *, created_by: str) -> cm.Compute:
        spec.check()
        spec = spec.model_copy(update={"vm_size": resolve(spec.vm_size, self.sizes)["name"]})  # v1's spelling
        configured = self.scheduler.targets.get((CONFIGURED, spec.name))
        if configured is not None:
            raise Conflict(f"compute target {spec.name!r} already exists (configured for every workspace)",
                           hint="pick another name")
        if (workspace, spec.name) in self.scheduler.targets:
            raise Conflict(f"compute target {spec.name!r} already exists in workspace {workspace!r}",
                           hint="use ComputeTarget(ws, name) to get it, or pick another name")
        self._check_quota(workspace, spec)
        backend = self._backend(workspace, spec)
        await backend.check()  # no engine, no record
        record = await asyncio.to_thread(self.records.create, workspace, spec, created_by=created_by)
        target = self._attach(workspace, backend)
        key = target.key
        self._provisioning[key] = asyncio.ensure_future(self._provision(key, backend))
        return self._view(target, record)

    def _check_quota(self, workspace: str, spec: cm.ComputeCreate, replacing: cm.ComputeCreate | None = None) -> None:
        own = [t.backend for k, t in self.scheduler.targets.items() if k[0] == workspace and k[1] != spec.name]
        if replacing is None and len(own) >= self.quota.max_computes_per_workspace:
            raise QuotaExceeded(f"workspace {workspace!r} holds {len(own)} computes, its quota",
                                hint="delete one, or raise the quota (ServiceSettings.max_computes_per_workspace)")
        if spec.type == "AmlCompute" and not spec.scheduler_address:
            local = sum(b.slots() for b in own
                        if b.type_name == "AmlCompute" and not getattr(b, "scheduler_address", None))
            if local + spec.max_nodes > self.quota.max_local_cluster_nodes:
                raise QuotaExceeded(
                    f"clusters on this machine may have {self.quota.max_local_cluster_nodes} nodes in all in workspace "
                    f"{workspace!r}; {local} are taken and {spec.name!r} asks for max_nodes {spec.max_nodes}",
                    hint="lower max_nodes, delete a cluster, give a scheduler_address of a larger Dask deployment, "
                    "or raise max_local_cluster_nodes")

    def _backend(self, workspace: str, spec: cm.ComputeCreate) -> ComputeBackend:
        types = backend_types()
        cls = types.get(spec.type)
        if cls is None:
            raise InvalidInput(f"compute type {spec.type!r} is not installed here",
                               hint="installed types: " + ", ".join(sorted(types)))
        size = resolve(spec.vm_size, self.sizes)
        state_dir = self.state_root / _UNSAFE.sub("_", workspace) / spec.name
        settings = BACKEND_SETTINGS[spec.type](spec, size)
        if spec.type == "ComputeInstance":
            settings.update(self._instance_extras(workspace, spec))
        try:
            return cls(spec.name, state_dir=str(state_dir), workspace=workspace, **self.target_defaults, **settings)
        except InvalidInput:
            raise
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"compute {spec.name!r} cannot be set up: {exc}",
                               hint="check its settings against docs/compute.md") from None

    def _instance_extras(self, workspace: str, spec: cm.ComputeCreate) -> dict[str, Any]:
        """An instance mounts the service's run folders and builds its image from a registered environment;
        each image it builds (or finds) is recorded in the workspace's image registry."""
        service = self.scheduler.service
        extras: dict[str, Any] = {"work_root": str(service.settings.work_root), "root": str(service.settings.root)}
        if spec.environment:
            name, _, version = spec.environment.partition(":")
            found = service.environments.get(workspace, name, int(version) if version else None)
            extras["environment"] = found.spec.model_dump(mode="json")

            def record(image: dict[str, Any]) -> None:
                service.images.record(workspace, content_hash=str(image["content_hash"]), tag=str(image["tag"]),
                                      docker_id=str(image["docker_id"]), base_image=str(image["base_image"]),
                                      environment=dict(image.get("environment") or {}), model_ids=[],
                                      snapshot_id=None, size=int(image.get("size") or 0))

            extras["on_image"] = record
        return extras

    def _attach(self, workspace: str, backend: ComputeBackend) -> TargetQueue:
        target = self.scheduler.add_target(workspace, backend)
        backend.on_change(lambda: self._changed(target.key))
        return target

    async def _provision(self, key: TargetKey, backend: ComputeBackend) -> None:
        try:
            await backend.provision()
        except Exception as exc:  # the backend set Failed; the record says why
            log.warning("compute %r of workspace %r failed to provision: %s", key[1], key[0], exc)
            if backend.state() != "Failed":
                backend.error = str(exc)
        finally:
            self._provisioning.pop(key, None)
            await self._persist(key)
            self.scheduler.kick(key)

    def _changed(self, key: TargetKey) -> None:
        """The backend's hook (on the loop): persist, publish, and let waiting runs start."""
        task = asyncio.ensure_future(self._persist(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.scheduler.kick(key)

    async def _persist(self, key: TargetKey) -> None:
        target = self.scheduler.targets.get(key)
        if target is None or key[0] == CONFIGURED:  # a configured target has no record
            return
        backend = target.backend
        try:
            await asyncio.to_thread(self.records.set_state, key[0], key[1], backend.state(), backend.error)
        except Exception:
            log.exception("could not store the state of compute %r", key[1])
        self._publish(key[0], ComputeEvent(action="changed", name=key[1]))

    def _queue_changed(self, key: TargetKey) -> None:
        if key[0] != CONFIGURED:
            self._publish(key[0], ComputeEvent(action="changed", name=key[1]))

    def _own(self, workspace: str, name: str) -> TargetQueue:
        target = self.scheduler.targets.get((workspace, name))
        if target is not None:
            return target
        if (CONFIGURED, name) in self.scheduler.targets:
            raise Conflict(f"compute target {name!r} is configured for the service (c.AMLExtension.computes)",
                               hint="change it in the server's configuration; only computes created in a workspace "
                               "change here")
        self.records.get(workspace, name)  # raises NotFound with the known names
        raise NotFound(f"compute target {name!r} is not loaded", hint="restart the service")

    async def update(self, workspace: str, name: str, change: cm.ComputeUpdate) -> cm.Compute:
        target = self._own(workspace, name)
        record = await asyncio.to_thread(self.records.get, workspace, name)
        merged = cm.ComputeCreate.model_validate(
            {**record.spec.model_dump(), **change.model_dump(exclude_unset=True, exclude_none=True)})
        merged.check()
        self._check_quota(workspace, merged, replacing=record.spec)
        counts = change.model_dump(include={"min_nodes", "max_nodes", "idle_seconds_before_scaledown"},
                                   exclude_none=True)
        if counts:
            await target.backend.update(**counts)
        record = await asyncio.to_thread(self.records.update, workspace, name, change)
        self.scheduler.kick(target.key)
        return self._view(target, record)

    async def action(self, workspace: str, name: str, verb: str) -> cm.Compute:
        """start, stop or restart (an instance; a cluster and the local target refuse with the reason)."""
        target = self._own(workspace, name)
        backend = target.backend
        if verb == "stop" and target.running and not await self._drained(target):
            raise Conflict(f"compute {name!r} has {len(target.running)} running run(s)",
                           hint="wait for them or cancel them before stopping it")
        operation = {"start": backend.start_compute, "stop": backend.stop_compute,
                     "restart": backend.restart_compute}[verb]
        await operation()
        await self._persist(target.key)
        self.scheduler.kick(target.key)
        return self.get(workspace, name)

    async def _drained(self, target: TargetQueue, grace: float = 5.0) -> bool:
        """Whether the runs holding the target's slots have all ended: a run that reported its final status holds
        its slot until its agent exits a moment later, and a stop right after ``wait_for_completion`` is fair."""
        runs = list(target.running)
        statuses = await asyncio.to_thread(
            lambda: [self.scheduler.service.runs.active_run(r) for r in runs])
        if any(active is not None for active in statuses):
            return False
        deadline = asyncio.get_running_loop().time() + grace
        while target.running and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return not target.running

    async def delete(self, workspace: str, name: str, *, force: bool) -> None:
        """Remove a compute; refused while runs are on it unless ``force``, which cancels them first."""
        target = self._own(workspace, name)
        runs = self.scheduler.runs_on(target.key)
        if runs and not force:
            raise Conflict(f"compute {name!r} has {len(runs)} queued or running run(s)",
                           hint="wait for them, or delete it with force to cancel them (REST ?force=true, "
                           "aml compute delete --force, ComputeTarget.delete(force=True))")
        for run_workspace, run_id in runs:
            run = await self.scheduler.cancel(run_workspace or workspace, run_id)
            if not run.status.terminal:
                log.warning("run %s on compute %r did not end on cancel (%s)", run_id, name, run.status)
        task = self._provisioning.pop(target.key, None)
        if task is not None:
            task.cancel()
        try:
            await target.backend.destroy()
        finally:
            self.scheduler.forget_target(target.key)
            await asyncio.to_thread(self.records.delete, workspace, name)

    async def shutdown(self) -> None:
        for task in list(self._provisioning.values()):
            task.cancel()

