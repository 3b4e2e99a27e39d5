/**
 * The runs table of one experiment: server-side sorting, filtering and paging (so 10,000 runs cost
 * one page of rows), status badges kept live by the push channel, an optional metric column, and a
 * selection for comparing runs. This module holds the query and its state; the filters, rows and
 * footer are in ./runs/.
 */
import React, { useRef, useState } from 'react';

import { AMLService, IRun, IRunPage, RunSort } from '../api';
import { useLiveQuery, useLiveRows, useMetricSummaries } from '../live/hooks';
import { EmptyState, ErrorView, Loading } from './components';
import { IRequestState } from './hooks';
import { RunFilters } from './runs/filters';
import { RunsPager, SelectionBar } from './runs/footer';
import { RunsGrid } from './runs/grid';
import { Column, nextSort, sortKey } from './runs/sort';
import { metricCell, scalarMetricNames, useFirstPaintMeasure, usePaging } from './runs/state';
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
  const { page, token, reset: resetPaging, goTo } = usePaging();
  const { items: selected, toggle: toggleSelect, setItems: setSelected } = useToggleSet();
  const [metricPicker, setMetricPicker] = useState(false);
  const responseAt = useRef(0);

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
        pageToken: token
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
  useFirstPaintMeasure(responseAt, runs.data);

  const items = useLiveRows(service, workspace, runs.data?.items ?? NO_RUNS);
  const summaries = useMetricSummaries(
    service,
    workspace,
    items.map(r => r.id),
    metric !== '' || metricPicker
  );
  const metricNames = scalarMetricNames(summaries);

  const onSort = (column: Column) => {
    setSort(nextSort(sort, column, metric));
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
        metric={metric}
        metricValue={run => metricCell(summaries, run.id, metric)}
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
        onStatus={value => {
          setStatus(value);
          resetPaging();
        }}
        tag={tag}
        onTag={value => {
          setTag(value);
          resetPaging();
        }}
        metricNames={metricNames}
        onMetric={applyMetric}
        onMetricFocus={() => setMetricPicker(true)}
      />
      {runs.data && runs.error !== undefined && (
        <ErrorView error={runs.error} onRetry={runs.reload} context={`Runs of ${experiment}`} />
      )}
      {table}
      <RunsPager
        experiment={experiment}
        counts={
          runs.data ? { first: page * pageSize, shown: items.length, total: runs.data.total } : null
        }
        hasPrevious={page > 0}
        hasNext={!!runs.data?.next_page_token}
        onPrevious={() => goTo(page - 1, runs.data?.next_page_token)}
        onNext={() => goTo(page + 1, runs.data?.next_page_token)}
      />
      <SelectionBar
        selected={selectedIds}
        onCompare={() => actions.compareRuns(workspace, selectedIds)}
        onClear={() => setSelected(new Set())}
      />
    </div>
  );
}
