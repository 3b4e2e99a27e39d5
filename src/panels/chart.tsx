/**
 * Line charts of scalar metrics, drawn with uPlot (a 50 kB canvas library that draws a million
 * points in a few milliseconds and needs no network: see docs/studio.md for the choice).
 *
 * Colours come from JupyterLab's CSS variables, read when the chart is built and again when the
 * theme changes, so light, dark and high-contrast themes all work.
 */
import React, { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';

import { formatNumber } from '../format';

export interface IChartSeries {
  /** Legend label, e.g. a run's name in a comparison. */
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number | null>;
}

export type XMode = 'step' | 'time';

/** Series colours, all JupyterLab theme variables. */
const PALETTE = [
  '--jp-brand-color1',
  '--jp-warn-color1',
  '--jp-success-color1',
  '--jp-error-color1',
  '--jp-info-color1',
  '--jp-brand-color3',
  '--jp-warn-color3',
  '--jp-success-color3',
  '--jp-ui-font-color2'
];

const STEP_INCREMENTS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500].concat(
  Array.from({ length: 12 }, (_, i) => [1, 2, 5].map(m => m * 10 ** (i + 3))).flat()
);

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

export function seriesColor(index: number): string {
  return cssVar(PALETTE[index % PALETTE.length], '#1976d2');
}

/** The CSS variable of a series colour (for legends drawn in HTML). */
export function seriesColorVar(index: number): string {
  return `var(${PALETTE[index % PALETTE.length]})`;
}

/** Re-render when JupyterLab switches theme (it sets data-jp-theme-name on <body>). */
export function useThemeName(): string {
  const [name, setName] = useState(() => document.body.dataset.jpThemeName ?? '');
  useEffect(() => {
    const observer = new MutationObserver(() => setName(document.body.dataset.jpThemeName ?? ''));
    observer.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light']
    });
    return () => observer.disconnect();
  }, []);
  return name;
}

function isSorted(x: ArrayLike<number>): boolean {
  for (let i = 1; i < x.length; i++) {
    if (x[i] < x[i - 1]) {
      return false;
    }
  }
  return true;
}

/** One `[x, y]` table with increasing x (uPlot's requirement). */
function table(series: IChartSeries): uPlot.AlignedData {
  if (isSorted(series.x)) {
    return [Array.from(series.x), Array.from(series.y)] as uPlot.AlignedData;
  }
  const order = Array.from(series.x, (_, i) => i).sort((a, b) => series.x[a] - series.x[b]);
  return [order.map(i => series.x[i]), order.map(i => series.y[i])] as uPlot.AlignedData;
}

function alignedData(series: IChartSeries[]): uPlot.AlignedData {
  if (series.length === 1) {
    return table(series[0]);
  }
  return uPlot.join(series.map(table));
}

function countPoints(series: IChartSeries[]): number {
  return series.reduce((sum, s) => sum + s.y.length, 0);
}

/** The last non-null value of a column, for the legend when the cursor is off the chart. */
function lastValue(column: ArrayLike<number | null | undefined> | undefined): number | null {
  for (let i = (column?.length ?? 0) - 1; i >= 0; i--) {
    const v = column![i];
    if (v !== null && v !== undefined) {
      return v;
    }
  }
  return null;
}

/**
 * Legend values: the hovered point's, and with the cursor off the chart each series' last value
 * (labelled "last"), never uPlot's `--`. A series without a value at the hovered x says so.
 */
function legendValue(xMode: XMode, isX: boolean) {
  const text = (v: number): string =>
    isX && xMode === 'time' ? new Date(v * 1000).toLocaleTimeString() : formatNumber(v);
  return (u: uPlot, raw: number | null, sidx: number, idx: number | null): string => {
    if (idx === null || idx === undefined) {
      const last = lastValue(u.data[sidx]);
      return last === null ? '—' : isX ? `last (${text(last)})` : text(last);
    }
    return raw === null || raw === undefined ? '—' : text(raw);
  };
}

function buildOptions(
  width: number,
  height: number,
  series: IChartSeries[],
  xMode: XMode,
  showPoints: boolean,
  spanGaps: boolean,
  xLabel?: string
): uPlot.Options {
  // Canvas fonts need absolute sizes (the theme's sizes are in em).
  const font = `11px ${cssVar('--jp-ui-font-family', 'sans-serif')}`;
  const text = cssVar('--jp-ui-font-color2', '#616161');
  const grid = cssVar('--jp-border-color2', '#e0e0e0');
  const axis: uPlot.Axis = {
    stroke: text,
    font,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 }
  };
  return {
    width,
    height,
    legend: { show: series.length > 1, live: true },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: xMode === 'time' } },
    axes: [
      {
        ...axis,
        label: xMode === 'time' ? undefined : (xLabel ?? 'step'),
        labelFont: font,
        labelSize: 14,
        // Steps are whole numbers: no ticks at 0.25.
        incrs: xMode === 'time' ? undefined : STEP_INCREMENTS
      },
      { ...axis, size: 56 }
    ],
    series: [
      { label: xMode === 'time' ? 'time' : (xLabel ?? 'step'), value: legendValue(xMode, true) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: seriesColor(i),
        width: 1.5,
        value: legendValue(xMode, false),
        spanGaps,
        // Without spanGaps a lone minute between gaps is a point, not a line: always draw points.
        points: { show: showPoints || !spanGaps, size: spanGaps ? 5 : 4, fill: seriesColor(i) }
      }))
    ]
  };
}

/**
 * A line chart. Exposes what it draws for assistive technology and tests: `role="img"`, an
 * `aria-label` with the point count, `data-points` (points drawn) / `data-total` (points the
 * server holds; larger when it downsampled), and `data-x-last` (the last x of the first series).
 * `spanGaps`: join points across nulls (a metric logged at some steps only, comparisons of runs
 * with different steps); false for series where a null means "nothing happened" (telemetry).
 */
export function LineChart(props: {
  title: string;
  series: IChartSeries[];
  xMode: XMode;
  height?: number;
  /** Points stored on the server (sum over series), when known. */
  total?: number;
  spanGaps?: boolean;
  /** The x axis' name in step mode (a logged row's x column), 'step' by default. */
  xLabel?: string;
}): JSX.Element {
  const { series, xMode, title } = props;
  const spanGaps = props.spanGaps ?? true;
  const height = props.height ?? 180;
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = useRef('');
  const theme = useThemeName();
  const points = countPoints(series);
  const maxPerSeries = series.reduce((m, s) => Math.max(m, s.y.length), 0);
  const showPoints = maxPerSeries <= 40;

  // Build (or rebuild when the shape changes), else just swap the data: live updates are cheap.
  useEffect(() => {
    const node = host.current;
    if (!node) {
      return;
    }
    const key = [
      theme,
      xMode,
      showPoints,
      height,
      spanGaps,
      props.xLabel,
      ...series.map(s => s.label)
    ].join('\u0000');
    const data = alignedData(series);
    if (plot.current && shape.current === key) {
      plot.current.setData(data);
      return;
    }
    plot.current?.destroy();
    const width = Math.max(200, node.clientWidth || 400);
    plot.current = new uPlot(
      buildOptions(width, height, series, xMode, showPoints, spanGaps, props.xLabel),
      data,
      node
    );
    shape.current = key;
  }, [series, xMode, theme, showPoints, height, spanGaps, props.xLabel]);

  useEffect(() => {
    const node = host.current;
    if (!node || typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => {
      const width = node.clientWidth;
      if (plot.current && width > 0 && Math.abs(plot.current.width - width) > 2) {
        plot.current.setSize({ width, height });
      }
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [height]);

  useEffect(
    () => () => {
      plot.current?.destroy();
      plot.current = null;
    },
    []
  );

  const runs = series.length > 1 ? `${series.length} series, ` : '';
  const label = `Chart of ${title}: ${runs}${points} point${points === 1 ? '' : 's'}${
    props.total !== undefined && props.total > points ? ` (downsampled from ${props.total})` : ''
  }`;
  return (
    <div
      className="jp-aml-Chart"
      role="img"
      aria-label={label}
      data-metric={title}
      data-points={points}
      data-total={props.total ?? points}
      data-x-last={series[0]?.x[series[0].x.length - 1]}
      data-span-gaps={spanGaps ? 'true' : 'false'}
      ref={host}
    />
  );
}
