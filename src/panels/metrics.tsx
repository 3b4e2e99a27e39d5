/**
 * Run details, "Metrics" tab: a chart per numeric scalar metric (downsampled by the server to a few
 * thousand points, extended live from the push channel), a table of the latest value of single values
 * and of text, bool and None metrics, lists, rows (charted when they hold numbers), tables (with
 * their row labels), images, and v1's structured metrics
 * (confusion matrix, accuracy table, predictions, residuals: ./metric-v1.tsx).
 */
import React, { useCallback, useEffect, useRef, useState } from 'react';

import { AMLService, IImageValue, IMetricHistory, IMetricSummary, isTerminal } from '../api';
import { formatValue } from '../format';
import { useRunMetrics } from '../live/hooks';
import { decodedValues, IScalarSeries } from '../live/metrics';
import { IChartSeries, LineChart, XMode } from './chart';
import { EmptyState, ErrorView, Loading } from './components';
import { formatMetricValue, V1_KINDS, V1Metric } from './metric-v1';

export { IScalarSeries, toSeries } from '../live/metrics';

/** X-axis switch shared by the metrics tab and the comparison view. */
export function XAxisSwitch(props: {
  value: XMode;
  onChange: (value: XMode) => void;
}): JSX.Element {
  return (
    <div className="jp-aml-Radio" role="radiogroup" aria-label="X axis">
      <span className="jp-aml-Radio-label" aria-hidden="true">
        X axis
      </span>
      {(['step', 'time'] as XMode[]).map(mode => (
        <label key={mode}>
          <input
            type="radio"
            name={`x-axis-${mode}`}
            checked={props.value === mode}
            onChange={() => props.onChange(mode)}
          />
          {mode === 'step' ? 'Step' : 'Time'}
        </label>
      ))}
    </div>
  );
}

export function xValues(series: IScalarSeries, mode: XMode): number[] {
  return mode === 'time' ? series.times : series.steps;
}

/**
 * Whether an element has come near the screen (200 px ahead): charts below the fold load and draw
 * when they scroll into view, so a run with 100 metrics opens with the few on screen.
 */
export function useSeen(ref: React.RefObject<Element>): boolean {
  const [seen, setSeen] = useState(() => typeof IntersectionObserver === 'undefined');
  useEffect(() => {
    const node = ref.current;
    if (seen || !node) {
      return;
    }
    const observer = new IntersectionObserver(
      entries => {
        if (entries.some(e => e.isIntersecting)) {
          setSeen(true);
          observer.disconnect();
        }
      },
      { rootMargin: '200px' }
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [ref, seen]);
  return seen;
}

function MetricCard(props: {
  summary: IMetricSummary;
  series: IScalarSeries | undefined;
  error: unknown;
  xMode: XMode;
  onSeen: (name: string) => void;
}): JSX.Element {
  const { summary, series, onSeen } = props;
  const card = useRef<HTMLElement>(null);
  const seen = useSeen(card);
  useEffect(() => {
    if (seen) {
      onSeen(summary.name);
    }
  }, [seen, onSeen, summary.name]);
  return (
    <section
      className="jp-aml-Card jp-aml-MetricCard"
      aria-label={`Metric ${summary.name}`}
      data-seen={seen}
      ref={card}
    >
      <header className="jp-aml-MetricCard-header">
        <h3 className="jp-aml-Card-title" title={summary.description || summary.name}>
          {summary.name}
        </h3>
        <span className="jp-aml-Muted">
          last {formatMetricValue(summary.last, summary.last_type)}
          {' · '}
          {(series?.total ?? summary.count).toLocaleString()} points
          {series?.downsampled ? ` (showing ${series.values.length.toLocaleString()})` : ''}
        </span>
      </header>
      {series ? (
        <LineChart
          title={summary.name}
          series={[{ label: summary.name, x: xValues(series, props.xMode), y: series.values }]}
          xMode={props.xMode}
          total={series.total}
        />
      ) : props.error !== undefined ? (
        <ErrorView error={props.error} context={summary.name} />
      ) : (
        <div className="jp-aml-LazyChart">{seen ? <Loading label="Loading points…" /> : null}</div>
      )}
    </section>
  );
}

/** A run file image (`logs/images/...`), fetched with the API's authentication. */
/** An image value that names its stored file (a record without one has nothing to show). */
type IStoredImage = IImageValue & { sha256: string };

function isStored(value: IImageValue): value is IStoredImage {
  return value.sha256 !== null;
}

export function RunImage(props: {
  service: AMLService;
  workspace: string;
  value: IStoredImage;
  name: string;
}): JSX.Element {
  const { service, workspace, value } = props;
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    let revoked = false;
    let objectUrl: string | null = null;
    service.download(service.blobPath(workspace, value.sha256)).then(
      blob => {
        if (!revoked) {
          objectUrl = URL.createObjectURL(blob);
          setUrl(objectUrl);
        }
      },
      reason => setError(reason)
    );
    return () => {
      revoked = true;
      if (objectUrl) {
        URL.revokeObjectURL(objectUrl);
      }
    };
  }, [service, workspace, value.sha256]);
  if (error !== undefined) {
    return <ErrorView error={error} context={props.name} />;
  }
  const caption = value.path ?? value.sha256.slice(0, 12);
  return (
    <figure className="jp-aml-Image">
      {url ? (
        <img src={url} alt={`${props.name} (${caption})`} />
      ) : (
        <Loading label="Loading image…" />
      )}
      <figcaption className="jp-aml-Muted">{caption}</figcaption>
    </figure>
  );
}

/** An image's step: the one it was logged with, else its place in the series (v1 numbers repeated logs). */
function imageStep(value: IImageValue, index: number): number {
  const step = (value as { step?: number | null }).step;
  return typeof step === 'number' ? step : index;
}

/**
 * The images of an image metric, one at a time, with a slider over the steps they were logged at
 * (`run.log_image(name, plot=...)` once per epoch gives one image per step). The slider follows the
 * newest image while it is at the end, as the run logs more.
 */
export function ImageSteps(props: {
  service: AMLService;
  workspace: string;
  name: string;
  values: IImageValue[];
}): JSX.Element {
  const steps = props.values
    .map((value, index) => ({ value, step: imageStep(value, index) }))
    .filter((x): x is { value: IStoredImage; step: number } => isStored(x.value));
  const [chosen, setChosen] = useState<number | null>(null); // null: the newest
  if (!steps.length) {
    return <EmptyState>No image file was stored for {props.name}.</EmptyState>;
  }
  const index = chosen === null ? steps.length - 1 : Math.min(chosen, steps.length - 1);
  const shown = steps[index];
  const label = `Step ${shown.step.toLocaleString()} (${index + 1} of ${steps.length})`;
  return (
    <div className="jp-aml-ImageSteps" data-step={shown.step}>
      {steps.length > 1 && (
        <div className="jp-aml-ImageSlider">
          <label htmlFor={`jp-aml-image-step-${props.name}`}>Step</label>
          <input
            id={`jp-aml-image-step-${props.name}`}
            type="range"
            min={0}
            max={steps.length - 1}
            step={1}
            value={index}
            aria-label={`Step of ${props.name}`}
            aria-valuetext={label}
            onChange={e => {
              const next = Number(e.target.value);
              setChosen(next >= steps.length - 1 ? null : next);
            }}
          />
          <output aria-live="polite">{label}</output>
        </div>
      )}
      <RunImage
        key={shown.value.sha256}
        service={props.service}
        workspace={props.workspace}
        value={shown.value}
        name={`${props.name} at step ${shown.step}`}
      />
    </div>
  );
}

/** Render a table metric `{col: [values]}` or a list of rows `[{col: value}]`. */
export function DataTable(props: {
  label: string;
  columns: string[];
  rows: unknown[][];
  maxRows?: number;
  /** A header cell per row (a confusion table's true labels), and the header of their column. */
  rowLabels?: string[];
  rowHeader?: string;
}): JSX.Element {
  const max = props.maxRows ?? 200;
  const labels = props.rowLabels;
  return (
    <div className="jp-aml-TableScroll">
      <table className="jp-aml-Table jp-aml-DataTable" aria-label={props.label}>
        <thead>
          <tr>
            {labels && <th scope="col">{props.rowHeader ?? ''}</th>}
            {props.columns.map(c => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.slice(0, max).map((row, i) => (
            <tr key={i}>
              {labels && <th scope="row">{labels[i] ?? ''}</th>}
              {row.map((cell, j) => (
                <td key={j}>{formatValue(cell)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {props.rows.length > max && (
        <div className="jp-aml-Muted">
          Showing {max} of {props.rows.length} rows.
        </div>
      )}
    </div>
  );
}

function columnsTable(value: Record<string, unknown[]>): { columns: string[]; rows: unknown[][] } {
  const columns = Object.keys(value);
  const length = columns.reduce((m, c) => Math.max(m, (value[c] ?? []).length), 0);
  const rows = Array.from({ length }, (_, i) => columns.map(c => (value[c] ?? [])[i]));
  return { columns, rows };
}

/**
 * The row labels of a table metric, so a table reads as it was meant: a first column of text is
 * the rows' header (`{"class": ["cat", "dog"], "f1": [...]}`); a square table of numbers whose
 * columns are labels is a confusion table, its rows labelled like its columns (v1's
 * `log_table("confusion", {"0": [...], "1": [...]})`, rows the true class, columns the predicted).
 */
export function tableRowLabels(t: { columns: string[]; rows: unknown[][] }): {
  columns: string[];
  rows: unknown[][];
  rowLabels?: string[];
  rowHeader?: string;
} {
  const { columns, rows } = t;
  if (columns.length > 1 && rows.length && rows.every(r => typeof r[0] === 'string')) {
    return {
      columns: columns.slice(1),
      rows: rows.map(r => r.slice(1)),
      rowLabels: rows.map(r => r[0] as string),
      rowHeader: columns[0]
    };
  }
  const numeric = rows.every(r => r.every(v => typeof v === 'number'));
  if (columns.length > 1 && rows.length === columns.length && numeric) {
    return { columns, rows, rowLabels: columns, rowHeader: 'row ╲ column' };
  }
  return t;
}

/** The numeric columns of logged rows as line series: against the first increasing column, or the row. */
export function rowSeries(t: { columns: string[]; rows: unknown[][] }): {
  xLabel: string;
  series: IChartSeries[];
} | null {
  if (t.rows.length < 2) {
    return null;
  }
  const numeric = t.columns
    .map((name, j) => ({ name, values: t.rows.map(r => r[j]) }))
    .filter(c => c.values.every(v => typeof v === 'number' && Number.isFinite(v)))
    .map(c => ({ name: c.name, values: c.values as number[] }));
  const increasing = (v: number[]) => v.every((x, i) => i === 0 || x > v[i - 1]);
  const xColumn = numeric.length > 1 ? numeric.find(c => increasing(c.values)) : undefined;
  const ys = numeric.filter(c => c !== xColumn);
  if (!ys.length) {
    return null;
  }
  const x = xColumn?.values ?? t.rows.map((_, i) => i);
  return {
    xLabel: xColumn?.name ?? 'row',
    series: ys.map(c => ({ label: c.name, x, y: c.values }))
  };
}

function rowsTable(rows: Array<Record<string, unknown>>): { columns: string[]; rows: unknown[][] } {
  const columns = Array.from(new Set(rows.flatMap(r => Object.keys(r ?? {}))));
  return { columns, rows: rows.map(r => columns.map(c => r?.[c])) };
}

function NonScalarMetric(props: {
  service: AMLService;
  workspace: string;
  summary: IMetricSummary;
  history: IMetricHistory | undefined;
}): JSX.Element {
  const { summary, history } = props;
  let body: React.ReactNode = <Loading />;
  if (history) {
    const values = decodedValues(history);
    if (V1_KINDS.includes(summary.kind)) {
      body = <V1Metric kind={summary.kind} name={summary.name} value={values[values.length - 1]} />;
    } else if (summary.kind === 'image') {
      body = (
        <ImageSteps
          service={props.service}
          workspace={props.workspace}
          name={summary.name}
          values={values as IImageValue[]}
        />
      );
    } else if (summary.kind === 'table') {
      const last = values[values.length - 1] as Record<string, unknown[]> | undefined;
      const t = tableRowLabels(columnsTable(last ?? {}));
      body = <DataTable label={`Table ${summary.name}`} {...t} />;
    } else if (summary.kind === 'row') {
      const t = rowsTable(values as Array<Record<string, unknown>>);
      const chart = rowSeries(t);
      body = (
        <>
          {chart && (
            <LineChart
              title={summary.name}
              series={chart.series}
              xMode="step"
              xLabel={chart.xLabel}
            />
          )}
          <details open={!chart}>
            <summary>Rows ({t.rows.length.toLocaleString()})</summary>
            <DataTable label={`Table ${summary.name}`} columns={t.columns} rows={t.rows} />
          </details>
        </>
      );
    } else if (summary.kind === 'list') {
      const last = (values[values.length - 1] ?? []) as unknown[];
      body = (
        <DataTable
          label={`List ${summary.name}`}
          columns={['index', 'value']}
          rows={last.map((v, i) => [i, v])}
        />
      );
    } else {
      body = <pre className="jp-aml-Pre">{JSON.stringify(values, null, 1)}</pre>;
    }
  }
  return (
    <section className="jp-aml-Card jp-aml-MetricCard" aria-label={`Metric ${summary.name}`}>
      <header className="jp-aml-MetricCard-header">
        <h3 className="jp-aml-Card-title" title={summary.description || summary.name}>
          {summary.name}
        </h3>
        <span className="jp-aml-Muted">{summary.kind}</span>
      </header>
      {body}
    </section>
  );
}

/** A scalar series that holds no numbers to draw (strings, bools, None). */
function isValueOnly(m: IMetricSummary): boolean {
  return m.value_type === 's' || m.value_type === 'b' || m.value_type === 'n';
}

export function RunMetrics(props: {
  service: AMLService;
  workspace: string;
  runId: string;
  status: string;
  maxPoints: number;
}): JSX.Element {
  const { service, workspace, runId, maxPoints, status } = props;
  const metrics = useRunMetrics(service, workspace, runId);
  const { series, errors, others, ensureSeries, ensureHistory } = metrics;
  const [xMode, setXMode] = useState<XMode>('step');
  const mountedAt = useRef(performance.now());
  const measured = useRef(false);
  // Charts that have come near the screen: only their points are loaded.
  const [seen, setSeen] = useState<ReadonlySet<string>>(() => new Set());
  const onSeen = useCallback(
    (name: string) => setSeen(prev => (prev.has(name) ? prev : new Set(prev).add(name))),
    []
  );

  const all = metrics.summaries;
  const scalars = (all ?? []).filter(m => m.kind === 'scalar');
  // text, bool and None series are values, not curves: the table shows their latest value
  const charts = scalars.filter(m => m.count > 1 && !isValueOnly(m));
  const singles = scalars.filter(m => m.count <= 1 || isValueOnly(m));
  const nonScalars = (all ?? []).filter(m => m.kind !== 'scalar');

  // The store loads each history once (again when max_points or a non-scalar's count changes)
  // and keeps the scalar ones current.
  useEffect(() => {
    for (const m of all ?? []) {
      if (m.kind !== 'scalar') {
        ensureHistory(m.name, m.count);
      } else if (m.count > 1 && !isValueOnly(m) && seen.has(m.name)) {
        ensureSeries(m.name, maxPoints);
      }
    }
  }, [all, maxPoints, ensureSeries, ensureHistory, seen]);

  // Time from opening the tab to every chart on screen drawn (benchmarks/studio.md).
  useEffect(() => {
    const shown = charts.filter(m => seen.has(m.name));
    if (!measured.current && all && shown.length && shown.every(m => series.has(m.name))) {
      measured.current = true;
      const start = mountedAt.current;
      requestAnimationFrame(() => {
        try {
          performance.measure('aml:run-charts-ready', { start, end: performance.now() });
        } catch {
          // no figure
        }
      });
    }
  });

  const terminal = isTerminal(status);
  const summaries = {
    data: all,
    error: metrics.summariesError,
    reload: metrics.reloadSummaries
  };
  if (!summaries.data) {
    return summaries.error ? (
      <ErrorView error={summaries.error} onRetry={summaries.reload} context="Metrics" />
    ) : (
      <Loading label="Loading metrics…" />
    );
  }
  if (summaries.data.length === 0) {
    return (
      <EmptyState>
        {terminal
          ? 'This run logged no metrics.'
          : 'No metrics yet. They appear here as the run logs them (run.log(...)).'}
      </EmptyState>
    );
  }
  return (
    <div className="jp-aml-Metrics">
      <div className="jp-aml-Toolbar">
        <XAxisSwitch value={xMode} onChange={setXMode} />
        <span className="jp-aml-Muted">
          {scalars.length} scalar{scalars.length === 1 ? '' : 's'}
          {nonScalars.length ? `, ${nonScalars.length} other` : ''}
        </span>
      </div>
      {singles.length > 0 && (
        <section className="jp-aml-Card" aria-label="Single values">
          <h3 className="jp-aml-Card-title">Single values</h3>
          <table className="jp-aml-Table jp-aml-KeyValue" aria-label="Single-value metrics">
            <tbody>
              {singles.map(m => (
                <tr key={m.name}>
                  <th scope="row" title={m.description || m.name}>
                    {m.name}
                  </th>
                  <td>{formatMetricValue(m.last ?? m.last_value, m.last_type)}</td>
                  <td className="jp-aml-Muted">
                    {m.count > 1 ? `${m.count.toLocaleString()} values` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <div className="jp-aml-ChartGrid">
        {charts.map(m => (
          <MetricCard
            key={m.name}
            summary={m}
            series={series.get(m.name)}
            error={errors.get(m.name)}
            xMode={xMode}
            onSeen={onSeen}
          />
        ))}
      </div>
      {nonScalars.length > 0 && (
        <div className="jp-aml-ChartGrid">
          {nonScalars.map(m => (
            <NonScalarMetric
              key={m.name}
              service={service}
              workspace={workspace}
              summary={m}
              history={others.get(m.name)}
            />
          ))}
        </div>
      )}
    </div>
  );
}
