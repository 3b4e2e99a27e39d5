/**
 * Run details, "Child runs" tab of a HyperDrive run: a parallel-coordinates chart of its children, one
 * vertical axis per hyperparameter (each child's `hyperparameters` property) and a last one for the primary
 * metric (the parent's `primary_metric_config`), each child a line coloured by its best value.
 *
 * Drawn with uPlot, the studio's chart library (chart.tsx): the x scale is the axis index, every child a
 * series of its values scaled to [0, 1] per axis, and the axes' names, ranges and text ticks are drawn by a
 * draw hook. It follows the sweep live: a child's run or primary-metric event reloads the metrics (throttled).
 */
import React, { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';

import { AMLService, IMetricSummary, IRun } from '../api';
import { useLiveQuery } from '../live/hooks';
import { seriesColor, useThemeName } from './chart';

interface IAxis {
  label: string;
  /** Numeric axes: [min, max]; text axes: their sorted values. */
  range: [number, number] | null;
  ticks: string[] | null;
}

export interface IParallelData {
  metric: string;
  goal: 'maximize' | 'minimize';
  axes: IAxis[];
  /** One line per child: its values scaled to [0, 1] per axis, the metric last when known. */
  lines: { runId: string; values: number[]; score: number | null }[];
}

/** The primary metric of a HyperDrive run, or null for any other run. */
export function hyperDriveMetric(
  run: IRun
): { name: string; goal: 'maximize' | 'minimize' } | null {
  const props = run.properties ?? {};
  if (props['azureml.runsource'] !== 'hyperdrive') {
    return null;
  }
  try {
    const config = JSON.parse(props['primary_metric_config'] ?? '{}') as {
      name?: unknown;
      goal?: unknown;
    };
    return typeof config.name === 'string' && config.name
      ? { name: config.name, goal: config.goal === 'minimize' ? 'minimize' : 'maximize' }
      : null;
  } catch {
    return null;
  }
}

function hyperparameters(run: IRun): Record<string, unknown> | null {
  try {
    const value = JSON.parse(run.properties?.['hyperparameters'] ?? 'null') as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Axes and lines from the children and their metric summaries (pure: tested through the browser). */
export function parallelData(
  parent: IRun,
  children: IRun[],
  summaries: IMetricSummary[]
): IParallelData | null {
  const primary = hyperDriveMetric(parent);
  if (!primary) {
    return null;
  }
  const best = new Map<string, number>();
  for (const s of summaries) {
    const value = primary.goal === 'maximize' ? s.max : s.min;
    if (s.name === primary.name && finite(value)) {
      best.set(s.run_id, value);
    }
  }
  let rows = children
    .map(c => ({ run: c, params: hyperparameters(c), score: best.get(c.id) ?? null }))
    .filter(r => r.params !== null) as {
    run: IRun;
    params: Record<string, unknown>;
    score: number | null;
  }[];
  if (rows.some(r => r.score !== null)) {
    rows = rows.filter(r => r.score !== null);
  }
  if (rows.length === 0) {
    return null;
  }
  const names = [...new Set(rows.flatMap(r => Object.keys(r.params)))];
  const columns: unknown[][] = names.map(n => rows.map(r => r.params[n]));
  const labels = [...names];
  if (rows.some(r => r.score !== null)) {
    columns.push(rows.map(r => r.score));
    labels.push(primary.name);
  }
  const axes: IAxis[] = [];
  const scaled: number[][] = rows.map(() => []);
  columns.forEach((column, a) => {
    if (column.every(finite)) {
      const lo = Math.min(...column);
      const hi = Math.max(...column);
      axes.push({ label: labels[a], range: [lo, hi], ticks: null });
      column.forEach((v, i) => scaled[i].push(hi > lo ? (v - lo) / (hi - lo) : 0.5));
    } else {
      const ticks = [...new Set(column.map(v => String(v)))].sort();
      axes.push({ label: labels[a], range: null, ticks });
      column.forEach((v, i) =>
        scaled[i].push(ticks.length > 1 ? ticks.indexOf(String(v)) / (ticks.length - 1) : 0.5)
      );
    }
  });
  return {
    metric: primary.name,
    goal: primary.goal,
    axes,
    lines: rows.map((r, i) => ({ runId: r.run.id, values: scaled[i], score: r.score }))
  };
}

const fmt = (v: number): string =>
  Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3)
    ? v.toExponential(2)
    : String(+v.toPrecision(4));

/** A line's colour: low to high metric from the first to the third series colour (best drawn brightest). */
function lineColor(data: IParallelData, score: number | null): string {
  const scores = data.lines.map(l => l.score).filter(finite);
  if (score === null || scores.length < 2) {
    return seriesColor(0);
  }
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  let t = hi > lo ? (score - lo) / (hi - lo) : 1;
  if (data.goal === 'minimize') {
    t = 1 - t;
  }
  return t > 0.66 ? seriesColor(2) : t > 0.33 ? seriesColor(1) : seriesColor(3);
}

function drawAxes(u: uPlot, data: IParallelData): void {
  const ctx = u.ctx;
  const top = u.bbox.top;
  const bottom = u.bbox.top + u.bbox.height;
  const ratio = window.devicePixelRatio || 1;
  ctx.save();
  ctx.strokeStyle =
    getComputedStyle(document.body).getPropertyValue('--jp-border-color1').trim() || '#999';
  ctx.fillStyle =
    getComputedStyle(document.body).getPropertyValue('--jp-ui-font-color1').trim() || '#222';
  ctx.font = `${11 * ratio}px sans-serif`;
  ctx.textAlign = 'center';
  data.axes.forEach((axis, i) => {
    const x = u.valToPos(i, 'x', true);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, bottom);
    ctx.stroke();
    const [low, high] = axis.range
      ? axis.range.map(fmt)
      : [axis.ticks![0], axis.ticks![axis.ticks!.length - 1]];
    ctx.fillText(high, x, top - 4 * ratio);
    ctx.fillText(low, x, bottom + 12 * ratio);
    if (axis.ticks && axis.ticks.length > 2) {
      axis.ticks.slice(1, -1).forEach((t, k) => {
        const y = u.valToPos((k + 1) / (axis.ticks!.length - 1), 'y', true);
        ctx.fillText(t, x, y);
      });
    }
    ctx.fillText(axis.label, x, bottom + 26 * ratio);
  });
  ctx.restore();
}

function ParallelChart(props: { data: IParallelData }): JSX.Element {
  const { data } = props;
  const ref = useRef<HTMLDivElement>(null);
  const theme = useThemeName();
  useEffect(() => {
    const host = ref.current;
    if (!host) {
      return;
    }
    const xs = data.axes.map((_, i) => i);
    const aligned = [xs, ...data.lines.map(l => l.values)] as uPlot.AlignedData;
    const plot = new uPlot(
      {
        width: Math.max(320, Math.min(960, host.clientWidth || 640)),
        height: 300,
        padding: [18, 40, 36, 40],
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: false, range: [0, Math.max(1, xs.length - 1)] },
          y: { range: [0, 1] }
        },
        axes: [{ show: false }, { show: false }],
        series: [
          {},
          ...data.lines.map(l => ({
            label: l.runId,
            stroke: lineColor(data, l.score),
            width: 1.5,
            points: { show: false }
          }))
        ],
        hooks: { draw: [(u: uPlot) => drawAxes(u, data)] }
      },
      aligned,
      host
    );
    return () => plot.destroy();
  }, [data, theme]);
  const label =
    `Parallel coordinates of ${data.lines.length} child runs: ` +
    data.axes.map(a => a.label).join(', ');
  return (
    <figure
      className="jp-aml-ParallelCoords"
      role="img"
      aria-label={label}
      data-lines={data.lines.length}
    >
      <div ref={ref} />
      <figcaption className="jp-aml-Muted">
        Lines: child runs, coloured by their best {data.metric} (
        {data.goal === 'maximize' ? 'higher' : 'lower'} is better, brightest is best).
      </figcaption>
    </figure>
  );
}

export function ParallelCoordinates(props: {
  service: AMLService;
  workspace: string;
  parent: IRun;
  runs: IRun[];
}): JSX.Element | null {
  const { service, workspace, parent, runs } = props;
  const primary = hyperDriveMetric(parent);
  const ids = useMemo(() => new Set(runs.map(r => r.id)), [runs]);
  const summaries = useLiveQuery(
    service,
    workspace,
    async () =>
      (
        await service.request<{ items: IMetricSummary[] }>(
          `workspaces/${encodeURIComponent(workspace)}/runs/${encodeURIComponent(parent.id)}/metrics?recursive=true`
        )
      ).items,
    [parent.id],
    {
      reloadOn: event =>
        (event.type === 'metric' && event.name === primary?.name && ids.has(event.run_id)) ||
        (event.type === 'run' && event.run.parent_id === parent.id)
    }
  );
  const data = useMemo(
    () => parallelData(parent, runs, summaries.data ?? []),
    [parent, runs, summaries.data]
  );
  return data ? <ParallelChart data={data} /> : null;
}
