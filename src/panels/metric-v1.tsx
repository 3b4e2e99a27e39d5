/**
 * Azure ML v1's structured metrics, drawn as v1's studio drew them: a confusion-matrix heatmap with its
 * class labels, a calibration chart for regression predictions, a residual histogram, and the accuracy
 * table as an ROC chart with its threshold table. Plain SVG and HTML tables in the theme's colours, so
 * each figure is readable by role and label (and testable the same way).
 *
 * Values arrive decoded (`decodedValues` in ../live/metrics): NaN and ±inf as numbers.
 */
import React from 'react';

import { formatNumber } from '../format';
import { NON_FINITE } from '../live/metrics';

/** v1's `{schema_type, schema_version, data}` envelope. */
export interface IV1Value {
  schema_type: string;
  schema_version: string;
  data: Record<string, unknown>;
}

export const V1_KINDS = ['confusion_matrix', 'accuracy_table', 'predictions', 'residuals'];

/** A scalar metric's latest value as text: strings as themselves, bools, None, NaN and ±inf by name. */
export function formatMetricValue(value: unknown, type?: string | null): string {
  if (type === 's' && typeof value === 'string') {
    return value;
  }
  if (type === 'n' || value === null || value === undefined) {
    return type === 'n' ? 'None' : '—';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'string' && value in NON_FINITE) {
    return value === 'NaN' ? 'NaN' : value === 'Infinity' ? '∞' : '−∞';
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) {
      return 'NaN';
    }
    if (!Number.isFinite(value)) {
      return value > 0 ? '∞' : '−∞';
    }
    return formatNumber(value);
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function nums(value: unknown): number[] {
  return Array.isArray(value) ? value.map(v => (typeof v === 'number' ? v : NaN)) : [];
}

function finiteMax(values: number[]): number {
  return values.reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), 0);
}

const W = 360;
/** Charts keep their drawn size at most (the card is wider): the axes' text stays legible. */
const SVG_STYLE: React.CSSProperties = { width: '100%', maxWidth: 480, display: 'block' };
const H = 220;
const PAD = { left: 44, right: 12, top: 10, bottom: 30 };

function Axes(props: {
  xLabel: string;
  yLabel: string;
  xTicks: Array<[number, string]>;
  yTicks: Array<[number, string]>;
}): JSX.Element {
  const bottom = H - PAD.bottom;
  return (
    <g className="jp-aml-V1Chart-axes" fontSize="10" fill="var(--jp-ui-font-color2)">
      <line
        x1={PAD.left}
        y1={bottom}
        x2={W - PAD.right}
        y2={bottom}
        stroke="var(--jp-border-color1)"
      />
      <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={bottom} stroke="var(--jp-border-color1)" />
      {props.xTicks.map(([x, label], i) => (
        <text key={`x${i}`} x={x} y={bottom + 12} textAnchor="middle">
          {label}
        </text>
      ))}
      {props.yTicks.map(([y, label], i) => (
        <text key={`y${i}`} x={PAD.left - 4} y={y + 3} textAnchor="end">
          {label}
        </text>
      ))}
      <text x={(PAD.left + W - PAD.right) / 2} y={H - 4} textAnchor="middle">
        {props.xLabel}
      </text>
      <text
        x={10}
        y={(PAD.top + bottom) / 2}
        textAnchor="middle"
        transform={`rotate(-90 10 ${(PAD.top + bottom) / 2})`}
      >
        {props.yLabel}
      </text>
    </g>
  );
}

function scale(lo: number, hi: number, a: number, b: number): (v: number) => number {
  const span = hi - lo || 1;
  return v => a + ((v - lo) / span) * (b - a);
}

/** A confusion matrix: rows are the true labels, columns the predicted ones, shaded by the row's share. */
export function ConfusionMatrix(props: { name: string; value: IV1Value }): JSX.Element {
  const labels = (props.value.data.class_labels as unknown[]) ?? [];
  const matrix = ((props.value.data.matrix as unknown[]) ?? []).map(nums);
  return (
    <div className="jp-aml-TableScroll">
      <table
        className="jp-aml-Table jp-aml-ConfusionMatrix"
        aria-label={`Confusion matrix ${props.name}`}
      >
        <thead>
          <tr>
            <th scope="col">True \ Predicted</th>
            {labels.map((label, j) => (
              <th key={j} scope="col">
                {String(label)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => {
            const total = row.reduce((s, v) => (Number.isFinite(v) ? s + Math.abs(v) : s), 0);
            return (
              <tr key={i}>
                <th scope="row">{String(labels[i])}</th>
                {row.map((cell, j) => {
                  const share = total > 0 && Number.isFinite(cell) ? Math.abs(cell) / total : 0;
                  return (
                    <td
                      key={j}
                      aria-label={`${String(labels[i])} predicted as ${String(labels[j])}: ${formatMetricValue(cell)}`}
                      style={{
                        textAlign: 'center',
                        background: `color-mix(in srgb, var(--jp-brand-color1) ${Math.round(share * 85)}%, transparent)`,
                        color: share > 0.5 ? 'white' : undefined
                      }}
                    >
                      {formatMetricValue(cell)}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Regression predictions: each bin's average prediction (with its error bar) against the bin's centre. */
export function CalibrationChart(props: { name: string; value: IV1Value }): JSX.Element {
  const edges = nums(props.value.data.bin_edges);
  const averages = nums(props.value.data.bin_averages);
  const errors = nums(props.value.data.bin_errors);
  const centres = averages.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  const all = [
    ...edges,
    ...averages.map((a, i) => a + (errors[i] || 0)),
    ...averages.map((a, i) => a - (errors[i] || 0))
  ].filter(Number.isFinite);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const x = scale(lo, hi, PAD.left, W - PAD.right);
  const y = scale(lo, hi, H - PAD.bottom, PAD.top);
  const points = centres
    .map((c, i) => [c, averages[i], errors[i]] as const)
    .filter(([c, a]) => Number.isFinite(c) && Number.isFinite(a));
  return (
    <svg
      role="img"
      aria-label={`Calibration chart ${props.name}`}
      viewBox={`0 0 ${W} ${H}`}
      className="jp-aml-V1Chart"
      style={SVG_STYLE}
    >
      <Axes
        xLabel="true value (bin centre)"
        yLabel="mean prediction"
        xTicks={[lo, hi].map(v => [x(v), formatNumber(v)])}
        yTicks={[lo, hi].map(v => [y(v), formatNumber(v)])}
      />
      <line
        x1={x(lo)}
        y1={y(lo)}
        x2={x(hi)}
        y2={y(hi)}
        stroke="var(--jp-ui-font-color3)"
        strokeDasharray="4 3"
      >
        <title>ideal</title>
      </line>
      <polyline
        fill="none"
        stroke="var(--jp-brand-color1)"
        strokeWidth="2"
        points={points.map(([c, a]) => `${x(c)},${y(a)}`).join(' ')}
      />
      {points.map(([c, a, e], i) => (
        <g key={i}>
          {Number.isFinite(e) && (
            <line x1={x(c)} x2={x(c)} y1={y(a - e)} y2={y(a + e)} stroke="var(--jp-brand-color1)" />
          )}
          <circle cx={x(c)} cy={y(a)} r="3" fill="var(--jp-brand-color1)">
            <title>{`bin ${i + 1}: mean ${formatMetricValue(a)} ± ${formatMetricValue(e)}`}</title>
          </circle>
        </g>
      ))}
    </svg>
  );
}

/** Residuals (predicted − true): one bar per bin between its edges. */
export function ResidualHistogram(props: { name: string; value: IV1Value }): JSX.Element {
  const edges = nums(props.value.data.bin_edges);
  const counts = nums(props.value.data.bin_counts);
  const finiteEdges = edges.filter(Number.isFinite);
  const x = scale(Math.min(...finiteEdges), Math.max(...finiteEdges), PAD.left, W - PAD.right);
  const top = finiteMax(counts);
  const y = scale(0, top, H - PAD.bottom, PAD.top);
  return (
    <svg
      role="img"
      aria-label={`Residual histogram ${props.name}`}
      viewBox={`0 0 ${W} ${H}`}
      className="jp-aml-V1Chart"
      style={SVG_STYLE}
    >
      <Axes
        xLabel="residual"
        yLabel="count"
        xTicks={[edges[0], edges[edges.length - 1]]
          .filter(Number.isFinite)
          .map(v => [x(v), formatNumber(v)])}
        yTicks={[0, top].map(v => [y(v), formatNumber(v)])}
      />
      {counts.map((c, i) =>
        Number.isFinite(c) && Number.isFinite(edges[i]) && Number.isFinite(edges[i + 1]) ? (
          <rect
            key={i}
            x={x(edges[i]) + 1}
            width={Math.max(1, x(edges[i + 1]) - x(edges[i]) - 2)}
            y={y(c)}
            height={H - PAD.bottom - y(c)}
            fill="var(--jp-brand-color1)"
          >
            <title>{`${formatNumber(edges[i])} to ${formatNumber(edges[i + 1])}: ${formatNumber(c)}`}</title>
          </rect>
        ) : null
      )}
    </svg>
  );
}

/** The accuracy table: an ROC curve per class (from the probability tables) and its threshold table. */
export function AccuracyTable(props: { name: string; value: IV1Value }): JSX.Element {
  const labels = (props.value.data.class_labels as unknown[]) ?? [];
  const thresholds = nums(props.value.data.probability_thresholds);
  const tables = ((props.value.data.probability_tables as unknown[]) ?? []).map(t =>
    ((t as unknown[]) ?? []).map(nums)
  );
  const x = scale(0, 1, PAD.left, W - PAD.right);
  const y = scale(0, 1, H - PAD.bottom, PAD.top);
  const curves = tables.map(rows =>
    rows.map(([tp, fp, tn, fn]) => [fp / (fp + tn || 1), tp / (tp + fn || 1)] as const)
  );
  const colours = [
    '--jp-brand-color1',
    '--jp-warn-color1',
    '--jp-success-color1',
    '--jp-error-color1'
  ];
  return (
    <div>
      <svg
        role="img"
        aria-label={`ROC curve ${props.name}`}
        viewBox={`0 0 ${W} ${H}`}
        className="jp-aml-V1Chart"
        style={SVG_STYLE}
      >
        <Axes
          xLabel="false positive rate"
          yLabel="true positive rate"
          xTicks={[0, 1].map(v => [x(v), String(v)])}
          yTicks={[0, 1].map(v => [y(v), String(v)])}
        />
        <line
          x1={x(0)}
          y1={y(0)}
          x2={x(1)}
          y2={y(1)}
          stroke="var(--jp-ui-font-color3)"
          strokeDasharray="4 3"
        />
        {curves.map((curve, c) => (
          <polyline
            key={c}
            fill="none"
            strokeWidth="2"
            stroke={`var(${colours[c % colours.length]})`}
            points={curve
              .filter(([fpr, tpr]) => Number.isFinite(fpr) && Number.isFinite(tpr))
              .map(([fpr, tpr]) => `${x(fpr)},${y(tpr)}`)
              .join(' ')}
          >
            <title>{`class ${String(labels[c])}`}</title>
          </polyline>
        ))}
      </svg>
      <div className="jp-aml-TableScroll">
        <table
          className="jp-aml-Table jp-aml-DataTable"
          aria-label={`Accuracy table ${props.name}`}
        >
          <thead>
            <tr>
              <th scope="col">class</th>
              <th scope="col">threshold</th>
              <th scope="col">TP</th>
              <th scope="col">FP</th>
              <th scope="col">TN</th>
              <th scope="col">FN</th>
            </tr>
          </thead>
          <tbody>
            {tables.flatMap((rows, c) =>
              rows.slice(0, 50).map((row, t) => (
                <tr key={`${c}-${t}`}>
                  <td>{String(labels[c])}</td>
                  <td>{formatMetricValue(thresholds[t])}</td>
                  {row.map((v, k) => (
                    <td key={k}>{formatMetricValue(v)}</td>
                  ))}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** The figure for one v1 structured value (its latest), by its kind. */
export function V1Metric(props: { kind: string; name: string; value: unknown }): JSX.Element {
  const value = props.value as IV1Value | undefined;
  if (
    !value ||
    typeof value !== 'object' ||
    typeof value.data !== 'object' ||
    value.data === null
  ) {
    return <pre className="jp-aml-Pre">{JSON.stringify(props.value)}</pre>;
  }
  switch (props.kind) {
    case 'confusion_matrix':
      return <ConfusionMatrix name={props.name} value={value} />;
    case 'predictions':
      return <CalibrationChart name={props.name} value={value} />;
    case 'residuals':
      return <ResidualHistogram name={props.name} value={value} />;
    default:
      return <AccuracyTable name={props.name} value={value} />;
  }
}
