/**
 * Compare runs: metric charts overlaid (one line per run) and a table of run details, properties
 * (parameters), tags and final metric values, with the rows that differ highlighted.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { AMLService, IMetricSummary, IRun } from '../api';
import { formatDateTimeLong, formatDuration, runDurationSeconds, runShortName } from '../format';
import { amlIcon } from '../icons';
import { IAMLSettings } from '../tokens';
import { LineChart, seriesColorVar, XMode } from './chart';
import { useLiveQuery, useLiveRows, useManyRunMetrics } from '../live/hooks';
import { ErrorView, Loading, StatusBadge } from './components';
import { formatMetricValue } from './metric-v1';
import { IScalarSeries, XAxisSwitch, xValues } from './metrics';

const NO_RUNS: IRun[] = [];

function splitNames(key: string): string[] {
  return key ? key.split('\n') : [];
}

export interface ICompareOptions {
  service: AMLService;
  workspace: string;
  runIds: string[];
  settings: () => IAMLSettings;
  openRun: (workspace: string, runId: string) => void;
}

interface IRow {
  section: string;
  key: string;
  values: string[];
}

function shortLabel(run: IRun): string {
  return runShortName(run);
}

function commandLine(run: IRun): string {
  const config = run.run_config;
  return config?.script ? [config.script, ...(config.arguments ?? [])].join(' ') : '—';
}

/** A run's final value of a scalar metric as it was logged: a number, a string, True / False, None, NaN. */
function finalValue(summary: IMetricSummary | undefined): string {
  if (!summary) {
    return '—';
  }
  return formatMetricValue(summary.last ?? summary.last_value, summary.last_type);
}

/** A series with numbers to draw: text, bool and None series are compared by their final value only. */
function isCharted(m: IMetricSummary): boolean {
  return (
    m.kind === 'scalar' &&
    m.count > 1 &&
    m.value_type !== 's' &&
    m.value_type !== 'b' &&
    m.value_type !== 'n'
  );
}

function buildRows(runs: IRun[], metrics: IMetricSummary[][]): IRow[] {
  const rows: IRow[] = [
    { section: 'Run', key: 'Status', values: runs.map(r => r.status) },
    { section: 'Run', key: 'Experiment', values: runs.map(r => r.experiment) },
    {
      section: 'Run',
      key: 'Started',
      values: runs.map(r => formatDateTimeLong(r.start_time) ?? '—')
    },
    {
      section: 'Run',
      key: 'Duration',
      values: runs.map(r => formatDuration(runDurationSeconds(r)))
    },
    { section: 'Run', key: 'Compute', values: runs.map(r => r.compute_target ?? '—') },
    { section: 'Run', key: 'Command', values: runs.map(commandLine) }
  ];
  const union = (maps: Array<Record<string, string>>) =>
    Array.from(new Set(maps.flatMap(m => Object.keys(m)))).sort();
  for (const key of union(runs.map(r => r.properties))) {
    rows.push({ section: 'Properties', key, values: runs.map(r => r.properties[key] ?? '—') });
  }
  for (const key of union(runs.map(r => r.tags))) {
    rows.push({ section: 'Tags', key, values: runs.map(r => r.tags[key] ?? '—') });
  }
  const scalarNames = Array.from(
    new Set(metrics.flatMap(list => list.filter(m => m.kind === 'scalar').map(m => m.name)))
  ).sort();
  for (const name of scalarNames) {
    rows.push({
      section: 'Metrics (final value)',
      key: name,
      values: metrics.map(list => finalValue(list.find(m => m.name === name)))
    });
  }
  return rows;
}

/** Rows that always differ and say nothing about the runs' setup. */
const NEVER_DIFFERS = new Set(['Run:Started']);

function differs(row: IRow): boolean {
  return !NEVER_DIFFERS.has(`${row.section}:${row.key}`) && new Set(row.values).size > 1;
}

function CompareView(props: ICompareOptions): JSX.Element {
  const { service, workspace, runIds } = props;
  const maxPoints = props.settings().chartMaxPoints;
  const [xMode, setXMode] = useState<XMode>('step');
  const [onlyDiff, setOnlyDiff] = useState(false);
  const key = runIds.join(',');
  const loaded = useLiveQuery(
    service,
    workspace,
    async live => {
      const runs = await Promise.all(runIds.map(id => service.getRun(workspace, id)));
      runs.forEach(run => live.putRun(run));
      return runs;
    },
    [key]
  );
  const runs = useLiveRows(service, workspace, loaded.data ?? NO_RUNS);
  const { views, ensureSeries } = useManyRunMetrics(service, workspace, runIds, true);
  const metrics = runIds.map(id => views.get(id)?.summaries);
  const metricsLoaded = metrics.every(list => list !== undefined);
  const metricsError = runIds.map(id => views.get(id)?.summariesError).find(e => e !== undefined);

  const chartNames = Array.from(
    new Set(metrics.flatMap(list => (list ?? []).filter(isCharted).map(m => m.name)))
  ).sort();
  const chartKey = chartNames.join('\n');

  // The store loads each run's history of each chart once and keeps it current.
  useEffect(() => {
    for (const name of splitNames(chartKey)) {
      for (const id of key.split(',')) {
        if (views.get(id)?.summaries?.some(m => m.name === name && m.kind === 'scalar')) {
          ensureSeries(id, name, maxPoints);
        }
      }
    }
  }, [chartKey, key, views, maxPoints, ensureSeries]);

  // series(name)[i]: the history of run i (undefined while loading, null if it has none).
  const seriesOf = (name: string): Array<IScalarSeries | null | undefined> =>
    runIds.map(id => {
      const view = views.get(id);
      if (!view?.summaries?.some(m => m.name === name && m.kind === 'scalar')) {
        return null;
      }
      return view.series.get(name) ?? (view.errors.has(name) ? null : undefined);
    });

  if (!loaded.data || !metricsLoaded) {
    const error = loaded.error ?? metricsError;
    return error ? (
      <ErrorView error={error} onRetry={loaded.reload} context="Compare runs" />
    ) : (
      <Loading label="Loading runs…" />
    );
  }
  const summaries = metrics.map(list => list ?? []);
  const rows = buildRows(runs, summaries);
  const differing = rows.filter(differs).length;
  const visible = onlyDiff ? rows.filter(differs) : rows;
  const sections = Array.from(new Set(visible.map(r => r.section)));

  return (
    <div className="jp-aml-Compare">
      <header className="jp-aml-RunHeader">
        <div className="jp-aml-RunHeader-title">
          <h2>Compare {runs.length} runs</h2>
        </div>
        <ul className="jp-aml-Legend" aria-label="Runs compared">
          {runs.map((r, i) => (
            <li key={r.id}>
              <span
                className="jp-aml-Legend-swatch"
                style={{ background: seriesColorVar(i) }}
                aria-hidden="true"
              />
              <button
                type="button"
                className="jp-aml-LinkButton"
                onClick={() => props.openRun(workspace, r.id)}
                aria-label={`Open run ${shortLabel(r)}`}
              >
                {shortLabel(r)}
              </button>
              <span className="jp-aml-Muted"> {r.experiment}</span>{' '}
              <StatusBadge status={r.status} />
            </li>
          ))}
        </ul>
      </header>
      <section className="jp-aml-Card" aria-label="Differences">
        <div className="jp-aml-Toolbar">
          <h3 className="jp-aml-Card-title">Parameters, tags and metrics</h3>
          <span className="jp-aml-Muted">
            {differing} of {rows.length} rows differ
          </span>
          <label className="jp-aml-Check">
            <input
              type="checkbox"
              checked={onlyDiff}
              onChange={e => setOnlyDiff(e.target.checked)}
            />
            Only differences
          </label>
        </div>
        <div className="jp-aml-TableScroll">
          <table className="jp-aml-Table jp-aml-CompareTable" aria-label="Run comparison">
            <thead>
              <tr>
                <th scope="col">Field</th>
                {runs.map((r, i) => (
                  <th scope="col" key={r.id}>
                    <span
                      className="jp-aml-Legend-swatch"
                      style={{ background: seriesColorVar(i) }}
                      aria-hidden="true"
                    />
                    {shortLabel(r)}
                  </th>
                ))}
              </tr>
            </thead>
            {sections.map(section => (
              <tbody key={section}>
                <tr className="jp-aml-CompareSection">
                  <th scope="colgroup" colSpan={runs.length + 1}>
                    {section}
                  </th>
                </tr>
                {visible
                  .filter(r => r.section === section)
                  .map(row => {
                    const diff = differs(row);
                    return (
                      <tr
                        key={`${section}:${row.key}`}
                        className={diff ? 'jp-aml-mod-differs' : undefined}
                        data-differs={diff}
                      >
                        <th scope="row">
                          {row.key}
                          {diff && (
                            <span className="jp-aml-DiffMark" title="Values differ">
                              {' '}
                              ≠<span className="jp-aml-VisuallyHidden"> (differs)</span>
                            </span>
                          )}
                        </th>
                        {row.values.map((v, i) => (
                          <td key={i}>{v}</td>
                        ))}
                      </tr>
                    );
                  })}
              </tbody>
            ))}
          </table>
        </div>
      </section>
      <div className="jp-aml-Toolbar">
        <XAxisSwitch value={xMode} onChange={setXMode} />
        <span className="jp-aml-Muted">
          {chartNames.length} metric{chartNames.length === 1 ? '' : 's'} with more than one value
        </span>
      </div>
      <div className="jp-aml-ChartGrid">
        {chartNames.map(name => {
          const list = seriesOf(name);
          const ready = list && list.every(s => s !== undefined);
          const lines = ready
            ? runs
                .map((r, i) => ({ run: r, s: list[i] }))
                .filter((x): x is { run: IRun; s: IScalarSeries } => !!x.s)
                .map(x => ({ label: shortLabel(x.run), x: xValues(x.s, xMode), y: x.s.values }))
            : [];
          return (
            <section
              key={name}
              className="jp-aml-Card jp-aml-MetricCard"
              aria-label={`Metric ${name}`}
            >
              <header className="jp-aml-MetricCard-header">
                <h3 className="jp-aml-Card-title">{name}</h3>
              </header>
              {ready ? (
                <LineChart
                  title={name}
                  series={lines}
                  xMode={xMode}
                  total={list.reduce((n, s) => n + (s?.total ?? 0), 0)}
                />
              ) : (
                <Loading label="Loading points…" />
              )}
            </section>
          );
        })}
      </div>
    </div>
  );
}

export class ComparePanel extends ReactWidget {
  constructor(readonly options: ICompareOptions) {
    super();
    this.addClass('jp-aml-ComparePanel');
  }

  protected render(): JSX.Element {
    return <CompareView {...this.options} />;
  }
}

export function createCompare(options: ICompareOptions): MainAreaWidget<ComparePanel> {
  const widget = new MainAreaWidget({ content: new ComparePanel(options) });
  widget.id = `jp-aml-compare-${Date.now()}`;
  widget.title.label = `Compare ${options.runIds.length} runs`;
  widget.title.caption = `Compare runs ${options.runIds.join(', ')}`;
  widget.title.icon = amlIcon;
  widget.title.closable = true;
  return widget;
}
