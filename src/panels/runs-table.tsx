/**
 * The runs table of one experiment: server-side sorting and filtering, one scrolling list over the
 * server's pages (loaded as they scroll into view, and only the rows on screen in the DOM, so 10,000
 * runs cost a page of requests and a screenful of rows), status badges kept live by the push channel,
 * an optional metric column (its values come with the page: `metrics=NAME`), and a selection for
 * comparing runs. This module holds the query and its state; the filters, rows, paging and footer
 * are in ./runs/.
 */
import React, { useEffect, useMemo, useRef, useState } from 'react';

import { AMLService, IListRunsOptions, IRun, IRunPage, isTerminal, RunSort } from '../api';
import { formatNumber } from '../format';
import { useLiveQuery, useLiveRows, useMetricSummaries } from '../live/hooks';
import { EmptyState, ErrorView, Loading } from './components';
import { IRequestState } from './hooks';
import { RunFilters } from './runs/filters';
import { RunsCount, SelectionBar } from './runs/footer';
import { RunsGrid } from './runs/grid';
import { useMorePages } from './runs/pages';
import { Column, nextSort, sortKey } from './runs/sort';
import { metricCell, scalarMetricNames, useFirstPaintMeasure } from './runs/state';
import { useVirtualRows } from './runs/virtual';
import { useToggleSet } from './toggle-set';

const NO_RUNS: IRun[] = [];

/** What the table asks its host to do (open a run's page, compare runs). */
export interface IRunActions {
  openRun(workspace: string, runId: string): void;
  compareRuns(workspace: string, runIds: string[]): void;
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
  const [sort, setSort] = useState<RunSort>('-created_at');
  const [status, setStatus] = useState('');
  const [tag, setTag] = useState('');
  const [metric, setMetric] = useState('');
  const { items: selected, toggle: toggleSelect, setItems: setSelected } = useToggleSet();
  const [metricPicker, setMetricPicker] = useState(false);
  const responseAt = useRef(0);

  const query: IListRunsOptions = {
    experiment,
    rootOnly: true,
    sort,
    status: status ? [status] : undefined,
    tag: tag ? [tag] : undefined,
    metrics: metric ? [metric] : undefined
  };
  const queryKey = JSON.stringify([workspace, query, pageSize, refreshKey]);
  const scrolledPast = useRef(false);

  const runs: IRequestState<IRunPage> = useLiveQuery(
    service,
    workspace,
    async (live): Promise<IRunPage> => {
      const result = await service.listRuns(workspace, { ...query, pageSize, pageToken: null });
      result.items.forEach(run => live.putRun(run));
      responseAt.current = performance.now();
      return result;
    },
    [queryKey],
    {
      // A new top-level run belongs at the top of the default (newest first) order; runs on screen
      // stay current through the store. Not while later pages are loaded: their cursor follows the
      // first page's last row, which a reload would move.
      reloadOn: event =>
        event.type === 'run' &&
        event.run.experiment === experiment &&
        event.run.parent_id === null &&
        !scrolledPast.current &&
        !runs.data?.items.some(r => r.id === event.run.id)
    }
  );

  // First paint after the response, for the benchmark (benchmarks/studio.md).
  useFirstPaintMeasure(responseAt, runs.data);

  const more = useMorePages(
    service,
    workspace,
    query,
    queryKey,
    runs.data?.next_page_token,
    pageSize
  );
  scrolledPast.current = more.items.length > 0;
  const first = runs.data?.items ?? NO_RUNS;
  const loaded = useMemo(() => {
    if (!more.items.length) {
      return first;
    }
    const seen = new Set(first.map(r => r.id));
    return [...first, ...more.items.filter(r => !seen.has(r.id))];
  }, [first, more.items]);
  const items = useLiveRows(service, workspace, loaded);
  const total = runs.data ? Math.max(runs.data.total, items.length) : 0;
  const view = useVirtualRows(more.hasMore ? total : items.length);
  const { lastVisible, scrollToTop } = view;
  const { need } = more;
  useEffect(() => need(lastVisible + 20, items.length), [need, lastVisible, items.length]);
  useEffect(() => scrollToTop(), [queryKey, scrollToTop]);

  // The metric column's values: the store's live summaries where loaded, else the page's columns.
  const columns = useMemo(
    () => new Map(loaded.map(r => [r.id, r.metric_columns ?? null])),
    [loaded]
  );
  // Summaries are read for the rows on screen while picking a metric (the names offered), and then
  // only for runs still running, whose values change (the page's columns are as of its request).
  const onScreen = items.slice(view.start, view.end);
  const summaryIds = (metric ? onScreen.filter(r => !isTerminal(r.status)) : onScreen).map(
    r => r.id
  );
  const summaries = useMetricSummaries(
    service,
    workspace,
    summaryIds,
    metricPicker || metric !== ''
  );
  const metricNames = scalarMetricNames(summaries);
  const metricValue = (run: IRun): string => {
    if (summaries.has(run.id)) {
      return metricCell(summaries, run.id, metric);
    }
    const value = columns.get(run.id)?.[metric]?.last;
    return value === undefined || value === null ? '—' : formatNumber(value);
  };

  const onSort = (column: Column) => {
    setSort(nextSort(sort, column, metric));
  };

  const applyMetric = (name: string) => {
    const trimmed = name.trim();
    setMetric(trimmed);
    if (!trimmed && sortKey(sort).startsWith('metric:')) {
      setSort('-created_at');
    }
  };

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
      <RunsGrid
        experiment={experiment}
        runs={items}
        total={total}
        window={view}
        metric={metric}
        metricValue={metricValue}
        sort={sort}
        onSort={onSort}
        selected={selected}
        onSelect={toggleSelect}
        onOpen={runId => actions.openRun(workspace, runId)}
      />
    );
  }

  return (
    <div className="jp-aml-Runs" data-experiment={experiment}>
      <RunFilters
        experiment={experiment}
        status={status}
        onStatus={setStatus}
        tag={tag}
        onTag={setTag}
        metricNames={metricNames}
        onMetric={applyMetric}
        onMetricFocus={() => setMetricPicker(true)}
      />
      {runs.data && runs.error !== undefined && (
        <ErrorView error={runs.error} onRetry={runs.reload} context={`Runs of ${experiment}`} />
      )}
      {table}
      {more.error !== undefined && (
        <ErrorView error={more.error} onRetry={more.retry} context={`More runs of ${experiment}`} />
      )}
      <RunsCount
        counts={
          runs.data && items.length
            ? {
                first: Math.min(view.firstVisible, items.length - 1),
                last: Math.min(view.lastVisible, items.length),
                total
              }
            : null
        }
        loading={more.loading}
      />
      <SelectionBar
        selected={selectedIds}
        onCompare={() => actions.compareRuns(workspace, selectedIds)}
        onClear={() => setSelected(new Set())}
      />
    </div>
  );
}
