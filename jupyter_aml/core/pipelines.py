"""ML pipelines, driven inside the workspace service so they outlive the notebook that submitted them.

A pipeline run is a parent run (kind ``interactive``: it has no process of its own, property
``azureml.runsource=azureml.PipelineRun``) whose graph (the submitted steps, their data links, parameters and
options) is stored beside it (table ``pipeline_runs``). Submit checks everything first (core/pipelines_graph.py:
names, producers, cycles, parameters; then each step's compute target, script and data as a run submit
would), so a bad pipeline creates nothing.

This service then drives each active pipeline with one asyncio task, as HyperDrive drives sweeps: a *tick*
reads the parent and its children, derives each step's state (a step's run is the child whose
``azureml.pipeline.step`` property names it), starts every step whose dependencies have Completed (each a
child script run through the scheduler, on its own target, so independent steps run side by side as far as
each target's queue admits), or reuses an earlier run with the same key (core/pipelines_reuse.py), and ends
the parent: Completed, or Failed naming the failed step. A failed step skips its dependants; without
``continue_on_step_failure`` it also cancels the running steps and ends the pipeline at once. Cancelling the
parent cancels its running steps (the scheduler stops a cancelled run's script descendants). Ticks run when a
child's event arrives, and every few seconds regardless; everything a tick needs is stored, so after a
restart ``start`` resumes every active pipeline where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from jupyter_aml.core import dataset_models as dm
from jupyter_aml.core import models
from jupyter_aml.core import pipelines_models as pm
from jupyter_aml.core import pipelines_reuse as reuse
from jupyter_aml.core.models import RunStatus
from jupyter_aml.core.parent_runs import DrivenRun, ParentRunDriver
from jupyter_aml.core.pipelines_graph import dependencies, order, parameter_values, substitute
from jupyter_aml.core.run_queue import node_count
from jupyter_aml.core.run_views import ActiveRun
from jupyter_aml.core.runs import RunService
from jupyter_aml.core.workspaces import WorkspaceService, utcnow
from jupyter_aml.errors import AMLError, NotFound
from jupyter_aml.store.tables import PipelineRunRow, RunRow

log = logging.getLogger(__name__)
RUNSOURCE = "azureml.PipelineRun"  # v1's azureml.runsource of a pipeline run
STEP_RUNSOURCE = "azureml.StepRun"
STEP = "azureml.pipeline.step"  # a step run's property: its step's name
REUSE_KEY = "azureml.pipeline.reusekey"
REUSE_PARTS = "azureml.pipeline.reuseparts"
IS_REUSED = "azureml.isreused"  # v1's
REUSED_RUN_ID = "azureml.reusedrunid"  # v1's
NOT_STARTED, SKIPPED = "NotStarted", "Skipped"
_ENDED_BADLY = (RunStatus.FAILED.value, RunStatus.CANCELED.value)


@dataclass(kw_only=True)
class _Pipeline(DrivenRun):
    spec: pm.PipelineRunCreate
    values: dict[str, Any]


class PipelineService(ParentRunDriver[_Pipeline]):
    """Every active pipeline run of the service, each driven by its own task (core/parent_runs.py)."""

    label = "pipeline run"

    # -- submission ------------------------------------------------------------------------------------
    def check(self, workspace: str, spec: pm.PipelineRunCreate) -> tuple[list[str], dict[str, Any]]:
        """Everything that would make the pipeline fail before a step runs (blocking: store reads)."""
        self.service.workspaces.get(workspace)
        steps_in_order = order(spec)
        values = parameter_values(spec)
        for step in spec.steps:
            config = step.run_config
            target = self.scheduler.check_target(workspace, config.compute_target)
            if config.distributed is not None:
                config.distributed.check_layout()
            target.check_nodes(node_count(config))
            with self.service.db.read() as s:
                RunService._check_script(s, step.snapshot_id, config.script)
            probe = models.RunCreate(experiment=spec.experiment, kind="script", snapshot_id=step.snapshot_id,
                                     run_config=config)
            for check in self.scheduler.submit_checks:
                check(workspace, probe)
        return steps_in_order, values

    async def submit(self, workspace: str, spec: pm.PipelineRunCreate, *, submitter: str) -> pm.PipelineRunInfo:
        """Check the pipeline, create its parent run and graph together (or neither), and start driving it."""
        _, values = await asyncio.to_thread(self.check, workspace, spec)
        run = await asyncio.to_thread(self._create, workspace, spec, values, submitter)
        self._adopt(workspace, run.id, spec, values)
        return await asyncio.to_thread(self.info, workspace, run.id)

    def _create(self, workspace: str, spec: pm.PipelineRunCreate, values: dict[str, Any],
                submitter: str) -> models.Run:
        parent = models.RunCreate(
            experiment=spec.experiment, kind="interactive", display_name=spec.display_name,
            description=spec.description, tags=spec.tags,
            properties={"azureml.runsource": RUNSOURCE,
                        "azureml.continue_on_step_failure": str(spec.continue_on_step_failure)})
        run = self.service.runs.create(workspace, parent, submitter=submitter)
        try:
            with self.service.db.session() as s:
                ws = WorkspaceService.row(s, workspace)
                s.add(PipelineRunRow(run_id=run.id, workspace_id=ws.id, created_at=utcnow(),
                                     graph={"spec": spec.model_dump(mode="json"), "values": values}))
        except BaseException:
            with self.service.db.session() as s:  # no parent run without its graph
                row = s.get(RunRow, run.id)
                if row is not None:
                    s.delete(row)
            raise
        return run

    # -- reading ---------------------------------------------------------------------------------------
    def graph(self, workspace: str, run_id: str) -> tuple[pm.PipelineRunCreate, dict[str, Any]]:
        with self.service.db.read() as s:
            run = self.service.runs.row(s, workspace, run_id)
            row = s.get(PipelineRunRow, run.id)
            if row is None:
                raise NotFound(f"run {run_id!r} is not a pipeline run", hint="see its steps with run.get_children()")
            return pm.PipelineRunCreate.model_validate(row.graph["spec"]), dict(row.graph["values"])

    def info(self, workspace: str, run_id: str) -> pm.PipelineRunInfo:
        spec, values = self.graph(workspace, run_id)
        run = self.service.runs.get(workspace, run_id)
        steps = states(spec, self.service.runs.children(workspace, run_id))
        return pm.PipelineRunInfo(run=run, steps=steps, parameters=values,
                                  continue_on_step_failure=spec.continue_on_step_failure,
                                  regenerate_outputs=spec.regenerate_outputs)

    # -- driving (core/parent_runs.py runs the loop) ---------------------------------------------------------
    async def _resume(self, active: ActiveRun) -> None:
        try:
            spec, values = await asyncio.to_thread(self.graph, active.workspace, active.id)
        except NotFound:
            return
        self._adopt(active.workspace, active.id, spec, values)

    def _adopt(self, workspace: str, run_id: str, spec: pm.PipelineRunCreate, values: dict[str, Any]) -> None:
        self._drive_new(_Pipeline(workspace, run_id, spec=spec, values=values))

    async def _give_up(self, p: _Pipeline, exc: Exception) -> None:
        await self._end(p, RunStatus.FAILED, f"the pipeline could not go on: {exc}")

    async def _tick(self, p: _Pipeline, parent: models.Run, children: list[models.Run]) -> bool:
        """One look at the pipeline; True when it has ended."""
        runs = step_runs(children)
        deps = dependencies(p.spec)
        steps = {s.name: s for s in p.spec.steps}
        for name in order(p.spec):
            status = _status(name, runs, deps)
            if status == NOT_STARTED and all(_status(d, runs, deps) == RunStatus.COMPLETED.value for d in deps[name]):
                try:
                    runs[name] = await self._launch(p, parent, steps[name], runs)
                except AMLError as exc:
                    await self._end(p, RunStatus.FAILED, f"step {name!r} could not start: {exc}")
                    return True
        failed = [n for n in order(p.spec) if _status(n, runs, deps) in _ENDED_BADLY]
        if failed and not p.spec.continue_on_step_failure:
            await self._end(p, RunStatus.FAILED, _failure(failed, runs))
            return True
        pending = [n for n in steps if _status(n, runs, deps) not in (SKIPPED, *_ENDED_BADLY,
                                                                        RunStatus.COMPLETED.value)]
        if pending:
            return False
        await self._end(p, RunStatus.FAILED if failed else RunStatus.COMPLETED,
                        _failure(failed, runs) if failed else None)
        return True

    async def _launch(self, p: _Pipeline, parent: models.Run, step: pm.PipelineStepSpec,
                      runs: dict[str, models.Run]) -> models.Run:
        """Start one step (or reuse an earlier run of it); its dependencies have Completed."""
        ws = p.workspace
        made = {o.name: (s.name, o) for s in p.spec.steps for o in s.run_config.outputs}
        config = step.run_config
        used = {t.split(":", 1)[1]: p.values[t.split(":", 1)[1]]
                for t in [*config.arguments, *step.params.values()] if t.startswith(pm.PARAMETER_TOKEN)}
        env = config.environment.model_copy(update={"env_vars": {
            **config.environment.env_vars,
            **{f"AML_PARAMETER_{k}": substitute(v, p.values) for k, v in step.params.items()}}})
        filled = config.model_copy(update={"arguments": [substitute(a, p.values) for a in config.arguments],
                                           "environment": env})
        inputs, fingerprints = [], {}
        for item in step.inputs:
            producer, output = made[item.source]
            where = reuse.output_locations([output], effective_id(runs[producer]))[0]
            dataset = await asyncio.to_thread(self._register_input, ws, where)
            inputs.append(models.DataInput(name=item.name, dataset_id=dataset.id, mode=item.mode))
            fingerprints[item.name] = dataset.fingerprint
        for registered in config.inputs:
            fingerprints["dataset:" + registered.name] = (
                await asyncio.to_thread(self.service.datasets.get_by_id, ws, registered.dataset_id)).fingerprint
        parts = reuse.key_parts(step, filled, used, fingerprints)
        key = reuse.digest(parts)
        properties = {STEP: step.name, "azureml.runsource": STEP_RUNSOURCE, REUSE_KEY: key,
                      REUSE_PARTS: reuse.parts_property(parts)}
        earlier = None
        if step.allow_reuse and not p.spec.regenerate_outputs:
            earlier = await asyncio.to_thread(reuse.find_reusable, self.service.db, ws, key)
        if earlier is not None:
            return await asyncio.to_thread(self._reused, ws, parent, step, earlier, properties)
        spec = models.RunCreate(
            experiment=parent.experiment, kind="script", snapshot_id=step.snapshot_id,
            run_config=filled.model_copy(update={"inputs": [*filled.inputs, *inputs]}), display_name=step.name,
            properties={**properties, IS_REUSED: "false"}, git=None)
        child = await self.scheduler.submit(ws, spec, submitter=parent.submitter, parent_id=parent.id)
        await asyncio.to_thread(reuse.record, self.service.db, ws, key, child.id)
        return child

    def _register_input(self, workspace: str, where: pm.StepOutputLocation) -> dm.Dataset:
        """The upstream output as a file dataset version (its fingerprint is the input's content fingerprint)."""
        definition = dm.DatasetDefinition(kind="file", paths=[dm.DatasetPath(
            datastore=where.datastore, path=f"{where.path_on_datastore}/**", optional=True)])
        name = "pipeline-data-" + reuse.digest(definition.model_dump(mode="json"))[:16]
        return self.service.datasets.register(workspace, dm.DatasetCreate(
            name=name, definition=definition, create_new_version=True,
            description="a pipeline step's output, read by the next step"))

    def _reused(self, ws: str, parent: models.Run, step: pm.PipelineStepSpec, earlier: str,
                properties: dict[str, str]) -> models.Run:
        """A step run that did not run: Completed at once, pointing at the run whose outputs it stands for."""
        spec = models.RunCreate(
            experiment=parent.experiment, kind="interactive", display_name=step.name,
            description=f"reused from {earlier}",
            properties={**properties, IS_REUSED: "true", REUSED_RUN_ID: earlier})
        child = self.service.runs.create(ws, spec, submitter=parent.submitter, parent_id=parent.id)
        return self.service.runs.set_status(ws, child.id, models.StatusUpdate(status=RunStatus.COMPLETED))

    async def _end(self, p: _Pipeline, status: RunStatus, message: str | None) -> None:
        """End the pipeline; a failed one cancels its steps still running first."""
        if status != RunStatus.COMPLETED:
            await self._cancel_active(p.workspace, p.run_id, message)
        await self._finish(p.workspace, p.run_id, status, message)


def step_runs(children: list[models.Run]) -> dict[str, models.Run]:
    """Each step's run (the newest child naming it)."""
    out: dict[str, models.Run] = {}
    for child in sorted(children, key=lambda r: r.created_at):
        name = child.properties.get(STEP)
        if name:
            out[name] = child
    return out


def effective_id(run: models.Run) -> str:
    """The run whose outputs a step run has: a reused step's original run, else its own."""
    return run.properties.get(REUSED_RUN_ID) or run.id


def _status(name: str, runs: dict[str, models.Run], deps: dict[str, list[str]]) -> str:
    if name in runs:
        return runs[name].status.value
    if any(_status(d, runs, deps) in (SKIPPED, *_ENDED_BADLY) for d in deps[name]):
        return SKIPPED
    return NOT_STARTED


def _failure(failed: list[str], runs: dict[str, models.Run]) -> str:
    first = runs[failed[0]]
    why = first.error.message if first.error else first.status.value
    others = f" (and {', '.join(repr(n) for n in failed[1:])})" if failed[1:] else ""
    return f"step {failed[0]!r} {first.status.value.lower()}{others}: {why}"


def states(spec: pm.PipelineRunCreate, children: list[models.Run]) -> list[pm.PipelineStepState]:
    """Every step's state, in an order they may run."""
    runs = step_runs(children)
    deps = dependencies(spec)
    steps = {s.name: s for s in spec.steps}
    out = []
    for name in order(spec):
        run = runs.get(name)
        parts: dict[str, Any] = {}
        if run is not None and run.properties.get(REUSE_PARTS):
            with contextlib.suppress(ValueError):
                parts = json.loads(run.properties[REUSE_PARTS])
        out.append(pm.PipelineStepState(
            name=name, status=_status(name, runs, deps), run_id=run.id if run else None, depends_on=deps[name],
            compute_target=steps[name].run_config.compute_target, allow_reuse=steps[name].allow_reuse,
            reused_from=run.properties.get(REUSED_RUN_ID) if run else None,
            reuse_key=run.properties.get(REUSE_KEY) if run else None, reuse_parts=parts,
            outputs=reuse.output_locations(steps[name].run_config.outputs, effective_id(run)) if run else []))
    return out
