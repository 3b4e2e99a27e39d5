"""What the studio shows of pipeline runs (src/panels/pipeline/): the workspace's pipeline runs with their step
counts, and a run's graph as edges between steps. Read-only views over what core/pipelines.py stores (the
submitted graph beside each parent run, the step runs as its children), so they add no state of their own.

The step states' ``depends_on`` merges data and ``run_after`` links; a graph needs to tell them apart (a data
edge names what flows along it), which only the stored spec says, hence :func:`edges`."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from jupyter_aml.core import models
from jupyter_aml.core.models import RunStatus
from jupyter_aml.core.pipelines import NOT_STARTED, RUNSOURCE, SKIPPED, PipelineService, states
from jupyter_aml.core.pipelines_graph import order, producers
from jupyter_aml.core.pipelines_models import PipelineRunCreate, PipelineStepState
from jupyter_aml.errors import NotFound
from jupyter_aml.statuses import TERMINAL_STATUSES

PIPELINE_PROPERTY = f"azureml.runsource={RUNSOURCE}"  # what marks a parent run as a pipeline's


class PipelineEdge(BaseModel):
    """``source`` runs before ``target``: it writes the data ``target`` reads (``data``: the PipelineData /
    OutputFileDatasetConfig names), or ``target`` was told to run after it (``run_after``), or both."""

    source: str
    target: str
    data: list[str] = Field(default_factory=list)
    run_after: bool = False


class PipelineGraph(BaseModel):
    """A pipeline run's steps (in an order they may run) and the edges between them. Static: the graph is
    fixed at submit; the steps' states are read from the pipeline run itself (``GET …/pipelines/runs/{id}``)."""

    run_id: str
    steps: list[str]
    edges: list[PipelineEdge]


class StepCounts(BaseModel):
    """How far a pipeline run got: ``completed`` includes ``reused`` steps, ``running`` those started, not ended."""

    total: int
    completed: int
    reused: int
    running: int
    failed: int
    not_started: int
    skipped: int


class PipelineRunSummary(BaseModel):
    run: models.Run
    steps: StepCounts


class PipelineRunPage(BaseModel):
    items: list[PipelineRunSummary]
    next_page_token: str | None
    total: int


def edges(spec: PipelineRunCreate) -> list[PipelineEdge]:
    """One edge per (producer, consumer) pair: the data it carries, and whether ``run_after`` names it too."""
    made = producers(spec)
    out: dict[tuple[str, str], PipelineEdge] = {}
    for step in spec.steps:
        for item in step.inputs:
            source = made[item.source][0]
            edge = out.setdefault((source, step.name), PipelineEdge(source=source, target=step.name))
            if item.source not in edge.data:
                edge.data.append(item.source)
        for other in step.run_after:
            out.setdefault((other, step.name), PipelineEdge(source=other, target=step.name)).run_after = True
    return list(out.values())


def counts(steps: Iterable[PipelineStepState]) -> StepCounts:
    listed = list(steps)
    done = [s for s in listed if s.status == RunStatus.COMPLETED.value]
    return StepCounts(
        total=len(listed), completed=len(done), reused=sum(1 for s in done if s.reused_from),
        running=sum(1 for s in listed if s.status not in (*TERMINAL_STATUSES, NOT_STARTED, SKIPPED)),
        failed=sum(1 for s in listed if s.status == RunStatus.FAILED.value),
        not_started=sum(1 for s in listed if s.status == NOT_STARTED),
        skipped=sum(1 for s in listed if s.status == SKIPPED))


def graph(pipelines: PipelineService, workspace: str, run_id: str) -> PipelineGraph:
    spec, _ = pipelines.graph(workspace, run_id)
    return PipelineGraph(run_id=run_id, steps=order(spec), edges=edges(spec))


def page(pipelines: PipelineService, workspace: str, *, experiment: str | None, statuses: list[str],
         page_size: int, page_token: str | None) -> PipelineRunPage:
    """A page of the workspace's pipeline runs, newest first, each with its step counts."""
    runs = pipelines.service.runs
    found = runs.find(workspace, experiment=experiment, statuses=statuses, properties=[PIPELINE_PROPERTY],
                      sort="-created_at", page_size=page_size, page_token=page_token)
    items = []
    for run in found.items:
        try:
            spec, _ = pipelines.graph(workspace, run.id)
        except NotFound:  # the property set by hand on a run that no pipeline made: no steps to count
            items.append(PipelineRunSummary(run=run, steps=counts([])))
            continue
        items.append(PipelineRunSummary(run=run, steps=counts(states(spec, runs.children(workspace, run.id)))))
    return PipelineRunPage(items=items, next_page_token=found.next_page_token, total=found.total)
