/**
 * Run page, "Graph" tab of a pipeline run: its steps as nodes (name, live status colour, reused marker,
 * compute target, duration) laid out left to right in dependency layers (./layout.ts), and its edges:
 * data passed between steps (PipelineData / OutputFileDatasetConfig, solid, labelled with the data's
 * name) and `run_after` orderings (dashed). Clicking a step opens its run.
 *
 * Live: each step's run comes from the live store (the push channel's copies), and the pipeline's
 * step states (NotStarted, Skipped, which run a step got) load again when one of its runs changes.
 */
import React, { useEffect, useId, useMemo, useState } from 'react';

import { AMLService, IPipelineEdge, IPipelineStepState, IRun, isTerminal } from '../../api';
import { formatDuration, runDurationSeconds } from '../../format';
import { useLiveQuery, useLiveRows } from '../../live/hooks';
import { EmptyState, ErrorView, Loading, StatusBadge } from '../components';
import { useRequest } from '../hooks';
import { DEFAULT_SIZES, edgePath, layeredLayout } from './layout';

const NO_RUNS: IRun[] = [];

/** The status a step shows: its run's live one, else the pipeline's (NotStarted, Skipped). */
export function stepStatus(step: IPipelineStepState, run: IRun | undefined): string {
  return run?.status ?? step.status;
}

/** `data: a, b` / `run after` / `data: a · run after`: what an edge stands for, in words. */
export function edgeLabel(edge: IPipelineEdge): string {
  const parts = [];
  if (edge.data?.length) {
    parts.push(edge.data.join(', '));
  }
  if (edge.run_after) {
    parts.push('run after');
  }
  return parts.join(' · ');
}

function StepNode(props: {
  step: IPipelineStepState;
  run: IRun | undefined;
  x: number;
  y: number;
  now: number;
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  const { step, run } = props;
  const status = stepStatus(step, run);
  const reused = !!step.reused_from;
  const duration = run ? formatDuration(runDurationSeconds(run, props.now)) : '—';
  const runId = step.run_id;
  const label =
    `Step ${step.name}: ${status}${reused ? `, reused from ${step.reused_from}` : ''}` +
    `, on ${step.compute_target}${run ? `, ${duration}` : ''}`;
  return (
    <button
      type="button"
      className={`jp-aml-PipelineNode jp-aml-status-${status.toLowerCase()}`}
      style={{
        left: props.x,
        top: props.y,
        width: DEFAULT_SIZES.nodeWidth,
        height: DEFAULT_SIZES.nodeHeight
      }}
      data-step={step.name}
      data-status={status}
      data-reused={reused ? 'true' : 'false'}
      aria-label={runId ? `Open ${label}` : `${label} (no run yet)`}
      title={runId ? `Open the run of step ${step.name}` : `Step ${step.name} has no run yet`}
      disabled={!runId}
      onClick={() => runId && props.onOpenRun(runId)}
    >
      <span className="jp-aml-PipelineNode-name">{step.name}</span>
      <span className="jp-aml-PipelineNode-status">
        <StatusBadge status={status} />
        {reused && (
          <span className="jp-aml-PipelineNode-reused" title={`reused from ${step.reused_from}`}>
            reused
          </span>
        )}
      </span>
      <span className="jp-aml-PipelineNode-meta">
        <span className="jp-aml-PipelineNode-compute">{step.compute_target}</span>
        <span className="jp-aml-PipelineNode-duration">{duration}</span>
      </span>
    </button>
  );
}

export function PipelineGraph(props: {
  service: AMLService;
  workspace: string;
  runId: string;
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  const { service, workspace, runId } = props;
  const markerId = `jp-aml-arrow-${useId().replace(/[^A-Za-z0-9_-]/g, '')}`;
  // The graph is fixed at submit: read once.
  const graph = useRequest(
    () => service.getPipelineGraph(workspace, runId),
    [service, workspace, runId]
  );
  // Step states and their runs; the runs then stay current through the store.
  const steps = useLiveQuery(
    service,
    workspace,
    async live => {
      const [info, children] = await Promise.all([
        service.getPipelineRun(workspace, runId),
        service.listChildren(workspace, runId, false)
      ]);
      children.forEach(run => live.putRun(run));
      return { info, children };
    },
    [runId],
    { reloadOn: e => e.type === 'run' && (e.run.parent_id === runId || e.run.id === runId) }
  );
  const runs = useLiveRows(service, workspace, steps.data?.children ?? NO_RUNS);
  const byId = useMemo(() => new Map(runs.map(r => [r.id, r])), [runs]);
  const active = runs.some(r => !isTerminal(r.status));
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) {
      return;
    }
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [active]);

  const layout = useMemo(
    () => (graph.data ? layeredLayout(graph.data.steps, graph.data.edges) : null),
    [graph.data]
  );

  const failure = graph.error ?? (steps.data ? undefined : steps.error);
  if (failure !== undefined) {
    return (
      <ErrorView
        error={failure}
        onRetry={graph.error ? graph.reload : steps.reload}
        context="Pipeline graph"
      />
    );
  }
  if (!graph.data || !layout || !steps.data) {
    return <Loading label="Loading the pipeline graph…" />;
  }
  if (graph.data.steps.length === 0) {
    return <EmptyState>This pipeline has no steps.</EmptyState>;
  }
  const states = new Map(steps.data.info.steps.map(s => [s.name, s]));
  const statuses = graph.data.steps.map(name => {
    const step = states.get(name);
    return step ? stepStatus(step, step.run_id ? byId.get(step.run_id) : undefined) : 'NotStarted';
  });
  const completed = statuses.filter(s => s === 'Completed').length;
  const reused = steps.data.info.steps.filter(s => s.reused_from).length;
  const { nodeWidth, nodeHeight } = DEFAULT_SIZES;
  return (
    <div className="jp-aml-PipelineGraphTab">
      <div className="jp-aml-PipelineGraph-summary" role="status">
        {completed}/{graph.data.steps.length} steps completed
        {reused > 0 ? ` (${reused} reused)` : ''}
        <span className="jp-aml-PipelineGraph-legend" aria-hidden="true">
          <span className="jp-aml-PipelineGraph-key jp-mod-data">data</span>
          <span className="jp-aml-PipelineGraph-key jp-mod-after">run after</span>
        </span>
      </div>
      <div className="jp-aml-PipelineGraph-scroll">
        <div
          className="jp-aml-PipelineGraph"
          role="group"
          aria-label={`Graph of pipeline run ${runId}`}
          data-steps={graph.data.steps.length}
          data-edges={graph.data.edges.length}
          style={{ width: layout.width, height: layout.height }}
        >
          <svg
            className="jp-aml-PipelineGraph-edges"
            width={layout.width}
            height={layout.height}
            aria-hidden="true"
          >
            <defs>
              <marker
                id={markerId}
                viewBox="0 0 10 10"
                refX="10"
                refY="5"
                markerWidth="8"
                markerHeight="8"
                orient="auto-start-reverse"
              >
                <path d="M 0 0 L 10 5 L 0 10 z" className="jp-aml-PipelineGraph-arrow" />
              </marker>
            </defs>
            {graph.data.edges.map(edge => {
              const from = layout.nodes.get(edge.source);
              const to = layout.nodes.get(edge.target);
              if (!from || !to) {
                return null;
              }
              const data = !!edge.data?.length;
              const mx = (from.x + nodeWidth + to.x) / 2;
              const my = (from.y + to.y + nodeHeight) / 2;
              return (
                <g
                  key={`${edge.source}->${edge.target}`}
                  className={`jp-aml-PipelineEdge ${data ? 'jp-mod-data' : 'jp-mod-after'}`}
                  data-source={edge.source}
                  data-target={edge.target}
                  data-kind={data ? 'data' : 'run_after'}
                  data-label={edgeLabel(edge)}
                >
                  <path d={edgePath(from, to)} markerEnd={`url(#${markerId})`} />
                  <text x={mx} y={my - 6} textAnchor="middle">
                    {edgeLabel(edge)}
                  </text>
                </g>
              );
            })}
          </svg>
          {graph.data.steps.map(name => {
            const step = states.get(name);
            const at = layout.nodes.get(name);
            if (!step || !at) {
              return null;
            }
            return (
              <StepNode
                key={name}
                step={step}
                run={step.run_id ? byId.get(step.run_id) : undefined}
                x={at.x}
                y={at.y}
                now={now}
                onOpenRun={props.onOpenRun}
              />
            );
          })}
        </div>
      </div>
      {/* The edges in words, for screen readers and tests (the drawing is aria-hidden). */}
      <ul
        className="jp-aml-PipelineGraph-edgeList jp-aml-VisuallyHidden"
        aria-label="Edges of the pipeline graph"
      >
        {graph.data.edges.map(edge => (
          <li key={`${edge.source}->${edge.target}`}>
            {edge.source} → {edge.target}: {edgeLabel(edge)}
          </li>
        ))}
      </ul>
    </div>
  );
}
