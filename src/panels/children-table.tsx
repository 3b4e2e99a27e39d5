/**
 * The Child runs tab's table: one row per child run with its status, duration and the latest value of
 * the metrics the user picks as columns (a sweep's trials side by side), sortable by any column.
 * The values are the parent's recursive metric summaries (`GET .../metrics?recursive=true`, one
 * request for every child), reloaded live as children log.
 */
import React, { useMemo, useState } from 'react';

import { AMLService, IMetricSummary, IRun } from '../api';
import { formatDuration, runDurationSeconds, runShortName } from '../format';
import { useLiveQuery } from '../live/hooks';
import { RunLink, StatusBadge } from './components';
import { formatMetricValue } from './metric-v1';
import { hyperDriveMetric } from './parallel-coords';

type SortKey = { column: string; descending: boolean };

/** Each child's latest value per scalar metric: run id -> metric -> summary. */
export function metricsByRun(
  summaries: IMetricSummary[]
): Map<string, Map<string, IMetricSummary>> {
  const out = new Map<string, Map<string, IMetricSummary>>();
  for (const s of summaries) {
    if (s.kind !== 'scalar') {
      continue;
    }
    const row = out.get(s.run_id) ?? new Map<string, IMetricSummary>();
    row.set(s.name, s);
    out.set(s.run_id, row);
  }
  return out;
}

function sortValue(run: IRun, column: string, metrics: Map<string, IMetricSummary> | undefined) {
  if (column === 'run') {
    return run.number;
  }
  if (column === 'status') {
    return run.status;
  }
  if (column === 'duration') {
    return runDurationSeconds(run) ?? -1;
  }
  const s = metrics?.get(column);
  const v = s?.last ?? s?.last_value;
  return typeof v === 'number' ? v : typeof v === 'string' ? v : null;
}

/** The children sorted by a column; runs without a value go last either way. */
export function sortRuns(
  runs: IRun[],
  sort: SortKey,
  byRun: Map<string, Map<string, IMetricSummary>>
): IRun[] {
  const keyed = runs.map(r => ({ r, v: sortValue(r, sort.column, byRun.get(r.id)) }));
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) {
      return a.v === null ? (b.v === null ? 0 : 1) : -1;
    }
    const order = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
    return sort.descending ? -order : order;
  });
  return keyed.map(k => k.r);
}

function SortHeader(props: {
  column: string;
  label: string;
  sort: SortKey;
  onSort: (sort: SortKey) => void;
}): JSX.Element {
  const { column, sort } = props;
  const active = sort.column === column;
  return (
    <th
      scope="col"
      aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}
      data-column={column}
    >
      <button
        type="button"
        className="jp-aml-SortButton"
        onClick={() =>
          props.onSort({ column, descending: active ? !sort.descending : column !== 'run' })
        }
        title={`Sort by ${props.label}`}
        aria-label={`Sort by ${props.label}`}
      >
        {props.label}
      </button>
    </th>
  );
}

function ColumnPicker(props: {
  names: string[];
  chosen: string[];
  onChange: (chosen: string[]) => void;
}): JSX.Element {
  return (
    <details className="jp-aml-ColumnPicker">
      <summary>Metric columns ({props.chosen.length})</summary>
      <div role="group" aria-label="Metric columns">
        {props.names.map(name => (
          <label key={name} className="jp-aml-Check">
            <input
              type="checkbox"
              checked={props.chosen.includes(name)}
              onChange={e =>
                props.onChange(
                  e.target.checked
                    ? props.names.filter(n => n === name || props.chosen.includes(n))
                    : props.chosen.filter(n => n !== name)
                )
              }
            />
            {name}
          </label>
        ))}
      </div>
    </details>
  );
}

export function ChildRunsTable(props: {
  service: AMLService;
  workspace: string;
  parent: IRun | undefined;
  parentId: string;
  runs: IRun[];
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  const { service, workspace, parentId, runs } = props;
  const ids = useMemo(() => new Set(runs.map(r => r.id)), [runs]);
  const summaries = useLiveQuery(
    service,
    workspace,
    async () =>
      (
        await service.request<{ items: IMetricSummary[] }>(
          `workspaces/${encodeURIComponent(workspace)}/runs/${encodeURIComponent(parentId)}/metrics?recursive=true`
        )
      ).items,
    [parentId],
    {
      reloadOn: event =>
        (event.type === 'metric' && ids.has(event.run_id)) ||
        (event.type === 'run' && event.run.parent_id === parentId)
    }
  );
  const byRun = useMemo(() => metricsByRun(summaries.data ?? []), [summaries.data]);
  // Metric names any child logged, the sweep's primary metric first.
  const primary = props.parent ? hyperDriveMetric(props.parent)?.name : undefined;
  const names = useMemo(() => {
    const all = new Set<string>();
    for (const r of runs) {
      byRun.get(r.id)?.forEach((_, name) => all.add(name));
    }
    return Array.from(all).sort((a, b) =>
      a === primary ? -1 : b === primary ? 1 : a.localeCompare(b)
    );
  }, [runs, byRun, primary]);
  const [picked, setPicked] = useState<string[] | null>(null);
  const chosen = picked ?? names.slice(0, 4); // until the user picks: the first few
  const [sort, setSort] = useState<SortKey>({ column: 'run', descending: false });
  const sorted = sortRuns(runs, sort, byRun);
  const columns: Array<[string, string]> = [
    ['run', 'Run'],
    ['status', 'Status'],
    ['duration', 'Duration'],
    ...chosen.map(n => [n, n] as [string, string])
  ];
  return (
    <section className="jp-aml-Card jp-aml-ChildRuns" aria-label="Child runs with metrics">
      <div className="jp-aml-Toolbar">
        <span className="jp-aml-Muted">
          {runs.length} child run{runs.length === 1 ? '' : 's'}
        </span>
        {names.length > 0 && <ColumnPicker names={names} chosen={chosen} onChange={setPicked} />}
      </div>
      <div className="jp-aml-TableScroll">
        <table className="jp-aml-Table" aria-label="Child runs metrics">
          <thead>
            <tr>
              {columns.map(([column, label]) => (
                <SortHeader
                  key={column}
                  column={column}
                  label={label}
                  sort={sort}
                  onSort={setSort}
                />
              ))}
            </tr>
          </thead>
          <tbody>
            {sorted.map(run => {
              const metrics = byRun.get(run.id);
              const name = runShortName(run);
              return (
                <tr key={run.id} data-run-id={run.id}>
                  <td>
                    <RunLink name={name} runId={run.id} onOpenRun={props.onOpenRun} />
                  </td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>{formatDuration(runDurationSeconds(run))}</td>
                  {chosen.map(metric => {
                    const s = metrics?.get(metric);
                    return (
                      <td key={metric} data-metric={metric} className="jp-aml-Num">
                        {s ? formatMetricValue(s.last ?? s.last_value, s.last_type) : '—'}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
