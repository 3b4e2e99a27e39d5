/**
 * The runs table of one experiment: server-side sorting, filtering and paging (so 10,000 runs cost
 * one page of rows), status badges kept live by the push channel, an optional metric column, and a
 * selection for comparing runs.
 */
import React, { useCallback, useId, useLayoutEffect, useRef, useState } from 'react';

import { AMLService, IRun, IRunPage, RUN_STATUSES, RunSort } from '../api';
import {
  displayName,
  formatDateTime,
  formatDateTimeLong,
  formatDuration,
  formatNumber,
  runDurationSeconds,
  runShortName
} from '../format';
import { useLiveQuery, useLiveRows, useMetricSummaries } from '../live/hooks';
import { EmptyState, ErrorView, Loading, StatusBadge } from './components';
import { IRequestState } from './hooks';

const NO_RUNS: IRun[] = [];

/** What the table asks its host to do (open a run's page, compare runs). */
export interface IRunActions {
  openRun(workspace: string, runId: string): void;
  compareRuns(workspace: string, runIds: string[]): void;
}

type Column = 'number' | 'status' | 'start_time' | 'duration' | 'metric';

const COLUMN_LABELS: Record<Column, string> = {
  number: 'Run',
  status: 'Status',
  start_time: 'Started',
  duration: 'Duration',
  metric: 'Metric'
};

function sortKey(sort: RunSort): string {
  return sort.replace(/^-/, '');
}

function columnSortKey(column: Column, metric: string): string {
  return column === 'metric' ? `metric:${metric}` : column;
}

export function RunsTable(props: {
  service: AMLService;
  workspace: string;
  experiment: string;
  refreshKey: number;
  pageSize: number;
  actions: IRunActions;
}): JSX.Element {
  const { service, workspace, experiment, refreshKey, pageSize, actions } = props;
  const ids = useId();
  const [sort, setSort] = useState<RunSort>('-created_at');
  const [status, setStatus] = useState('');
  const [tagInput, setTagInput] = useState('');
  const [tag, setTag] = useState('');
  const [metric, setMetric] = useState('');
  const [metricInput, setMetricInput] = useState('');
  // Tokens of the pages visited: tokens[i] opens page i (tokens[0] is null, the first page).
  const [tokens, setTokens] = useState<Array<string | null>>([null]);
  const [page, setPage] = useState(0);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [metricPicker, setMetricPicker] = useState(false);
  const responseAt = useRef(0);

  // Changing the query goes back to the first page.
  const resetPaging = () => {
    setTokens([null]);
    setPage(0);
  };

  const runs: IRequestState<IRunPage> = useLiveQuery(
    service,
    workspace,
    async (live): Promise<IRunPage> => {
      const result = await service.listRuns(workspace, {
        experiment,
        rootOnly: true,
        sort,
        status: status ? [status] : undefined,
        tag: tag ? [tag] : undefined,
        pageSize,
        pageToken: tokens[page]
      });
      result.items.forEach(run => live.putRun(run));
      responseAt.current = performance.now();
      return result;
    },
    [experiment, sort, status, tag, pageSize, page, refreshKey],
    {
      // A new top-level run belongs on the first page of the default (newest first) order; runs on
      // the page stay current through the store.
      reloadOn: event =>
        event.type === 'run' &&
        event.run.experiment === experiment &&
        event.run.parent_id === null &&
        page === 0 &&
        !runs.data?.items.some(r => r.id === event.run.id)
    }
  );

  // First paint after the response, for the benchmark (benchmarks/studio.md).
  useLayoutEffect(() => {
    if (runs.data && responseAt.current) {
      const start = responseAt.current;
      responseAt.current = 0;
      requestAnimationFrame(() => {
        try {
          performance.measure('aml:runs-first-paint', { start, end: performance.now() });
        } catch {
          // performance.measure with options is unsupported: no figure.
        }
      });
    }
  }, [runs.data]);

  const items = useLiveRows(service, workspace, runs.data?.items ?? NO_RUNS);
  const summaries = useMetricSummaries(
    service,
    workspace,
    items.map(r => r.id),
    metric !== '' || metricPicker
  );
  const metricNames = Array.from(
    new Set(
      Array.from(summaries.values())
        .flat()
        .filter(m => m.kind === 'scalar')
        .map(m => m.name)
    )
  ).sort();

  const onSort = (column: Column) => {
    const key = columnSortKey(column, metric);
    const current = sortKey(sort);
    // First click sorts descending (newest, longest, best first); the second ascending.
    const next = (current === key && sort.startsWith('-') ? key : `-${key}`) as RunSort;
    setSort(next);
    resetPaging();
  };

  const applyMetric = (name: string) => {
    const trimmed = name.trim();
    setMetric(trimmed);
    if (!trimmed && sortKey(sort).startsWith('metric:')) {
      setSort('-created_at');
      resetPaging();
    }
  };

  const toggleSelect = (id: string) =>
    setSelected(prev => {
      const next = new Set(prev);
      if (next.has(id)) {
        next.delete(id);
      } else {
        next.add(id);
      }
      return next;
    });

  const goTo = useCallback(
    (index: number) => {
      if (index > page) {
        const token = runs.data?.next_page_token;
        if (!token) {
          return;
        }
        setTokens(prev => [...prev.slice(0, page + 1), token]);
      }
      setPage(index);
    },
    [page, runs.data]
  );

  const columns: Column[] = ['number', 'status', 'start_time', 'duration'];
  if (metric) {
    columns.push('metric');
  }

  const header = (column: Column) => {
    const key = columnSortKey(column, metric);
    const active = sortKey(sort) === key;
    const direction = active ? (sort.startsWith('-') ? 'descending' : 'ascending') : 'none';
    const label = column === 'metric' ? metric : COLUMN_LABELS[column];
    return (
      <th scope="col" key={column} aria-sort={direction} className={`jp-aml-col-${column}`}>
        <button
          type="button"
          className="jp-aml-SortButton"
          onClick={() => onSort(column)}
          title={`Sort by ${label}`}
        >
          {label}
          <span className="jp-aml-SortIndicator" aria-hidden="true">
            {active ? (sort.startsWith('-') ? '▼' : '▲') : ''}
          </span>
        </button>
      </th>
    );
  };

  const metricValue = (run: IRun): string => {
    const list = summaries.get(run.id);
    if (!list) {
      return '…';
    }
    const found = list.find(m => m.name === metric);
    return found ? formatNumber(found.last_value) : '—';
  };

  const now = Date.now();
  const total = runs.data?.total ?? 0;
  const first = page * pageSize;
  const selectedIds = Array.from(selected);

  let table: React.ReactNode;
  if (!runs.data) {
    table = runs.error ? (
      <ErrorView error={runs.error} onRetry={runs.reload} context={`Runs of ${experiment}`} />
    ) : (
      <Loading label="Loading runs…" />
    );
  } else if (items.length === 0) {
    table = (
      <EmptyState>
        {status || tag ? 'No runs match these filters.' : 'No runs in this experiment yet.'}
      </EmptyState>
    );
  } else {
    table = (
      <div className="jp-aml-TableScroll">
        <table
          className={`jp-aml-Table jp-aml-RunsTable${metric ? ' jp-aml-mod-metric' : ''}`}
          aria-label={`Runs of experiment ${experiment}`}
        >
          <thead>
            <tr>
              <th scope="col" className="jp-aml-col-select">
                <span className="jp-aml-VisuallyHidden">Select</span>
              </th>
              {columns.map(header)}
            </tr>
          </thead>
          <tbody>
            {items.map(run => {
              const name = runShortName(run);
              return (
                <tr
                  key={run.id}
                  data-run-id={run.id}
                  data-status={run.status}
                  aria-selected={selected.has(run.id)}
                >
                  <td className="jp-aml-col-select">
                    <input
                      type="checkbox"
                      checked={selected.has(run.id)}
                      onChange={() => toggleSelect(run.id)}
                      aria-label={`Select run ${name}`}
                    />
                  </td>
                  <td className="jp-aml-Run-name" title={`${name} (${run.id})`}>
                    <button
                      type="button"
                      className="jp-aml-LinkButton"
                      onClick={() => actions.openRun(workspace, run.id)}
                      aria-label={`Open run ${name}`}
                    >
                      <span className="jp-aml-Run-number">#{run.number}</span>
                      {displayName(run) ? (
                        <span className="jp-aml-Run-displayName"> {displayName(run)}</span>
                      ) : null}
                    </button>
                  </td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td className="jp-aml-col-start_time" title={formatDateTimeLong(run.start_time)}>
                    {formatDateTime(run.start_time)}
                  </td>
                  <td>{formatDuration(runDurationSeconds(run, now))}</td>
                  {metric && <td className="jp-aml-col-metric">{metricValue(run)}</td>}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <div className="jp-aml-Runs" data-experiment={experiment}>
      <div className="jp-aml-Filters" role="group" aria-label={`Filters for runs of ${experiment}`}>
        <select
          className="jp-mod-styled jp-aml-Filter"
          aria-label="Filter runs by status"
          value={status}
          onChange={e => {
            setStatus(e.target.value);
            resetPaging();
          }}
        >
          <option value="">All statuses</option>
          {RUN_STATUSES.map(s => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <input
          className="jp-mod-styled jp-aml-Filter"
          type="search"
          placeholder="tag or tag=value"
          aria-label="Filter runs by tag"
          value={tagInput}
          onChange={e => setTagInput(e.target.value)}
          onKeyDown={e => {
            if (e.key === 'Enter') {
              setTag(tagInput.trim());
              resetPaging();
            }
          }}
          onBlur={() => {
            if (tagInput.trim() !== tag) {
              setTag(tagInput.trim());
              resetPaging();
            }
          }}
        />
        <input
          className="jp-mod-styled jp-aml-Filter"
          type="search"
          placeholder="metric column"
          aria-label="Metric column"
          list={`${ids}-metrics`}
          value={metricInput}
          onFocus={() => setMetricPicker(true)}
          onChange={e => {
            setMetricInput(e.target.value);
            if (metricNames.includes(e.target.value) || e.target.value === '') {
              applyMetric(e.target.value);
            }
          }}
          onKeyDown={e => {
            if (e.key === 'Enter') {
              applyMetric(metricInput);
            }
          }}
          onBlur={() => applyMetric(metricInput)}
        />
        <datalist id={`${ids}-metrics`}>
          {metricNames.map(n => (
            <option key={n} value={n} />
          ))}
        </datalist>
      </div>
      {runs.data && runs.error !== undefined && (
        <ErrorView error={runs.error} onRetry={runs.reload} context={`Runs of ${experiment}`} />
      )}
      {table}
      <div className="jp-aml-Runs-footer">
        <span className="jp-aml-Runs-count" aria-live="polite">
          {runs.data && total > 0
            ? `${(first + 1).toLocaleString()}–${(first + items.length).toLocaleString()} of ${total.toLocaleString()}`
            : ''}
        </span>
        <span className="jp-aml-Pager">
          <button
            type="button"
            className="jp-mod-styled jp-aml-Button"
            onClick={() => goTo(page - 1)}
            disabled={page === 0}
            aria-label={`Previous page of runs of ${experiment}`}
          >
            ‹
          </button>
          <button
            type="button"
            className="jp-mod-styled jp-aml-Button"
            onClick={() => goTo(page + 1)}
            disabled={!runs.data?.next_page_token}
            aria-label={`Next page of runs of ${experiment}`}
          >
            ›
          </button>
        </span>
      </div>
      {selectedIds.length > 0 && (
        <div className="jp-aml-Selection" role="group" aria-label="Selected runs">
          <span>{selectedIds.length} selected</span>
          <button
            type="button"
            className="jp-mod-styled jp-mod-accept jp-aml-Button"
            disabled={selectedIds.length < 2}
            onClick={() => actions.compareRuns(workspace, selectedIds)}
            title={
              selectedIds.length < 2 ? 'Select at least two runs' : 'Compare the selected runs'
            }
          >
            Compare
          </button>
          <button
            type="button"
            className="jp-mod-styled jp-aml-Button"
            onClick={() => setSelected(new Set())}
          >
            Clear
          </button>
        </div>
      )}
    </div>
  );
}
