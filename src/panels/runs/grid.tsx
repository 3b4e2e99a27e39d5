/**
 * The runs table's rows: sortable column headers, and one row per run with its selection box. Only
 * the rows on screen are rendered (./virtual.ts); rows not loaded yet show as placeholders.
 */
import React from 'react';

import { IRun, RunSort } from '../../api';
import {
  displayName,
  formatDateTime,
  formatDateTimeLong,
  formatDuration,
  runDurationSeconds,
  runNumber,
  runShortName
} from '../../format';
import { StatusBadge } from '../components';
import { Column, COLUMN_LABELS, columnSortKey, sortKey } from './sort';
import { IVirtualWindow } from './virtual';

function SortHeader(props: {
  column: Column;
  metric: string;
  sort: RunSort;
  onSort: (column: Column) => void;
}): JSX.Element {
  const { column, sort } = props;
  const active = sortKey(sort) === columnSortKey(column, props.metric);
  const descending = sort.startsWith('-');
  const direction = active ? (descending ? 'descending' : 'ascending') : 'none';
  const label = column === 'metric' ? props.metric : COLUMN_LABELS[column];
  return (
    <th scope="col" aria-sort={direction} className={`jp-aml-col-${column}`}>
      <button
        type="button"
        className="jp-aml-SortButton"
        onClick={() => props.onSort(column)}
        title={`Sort by ${label}`}
      >
        {label}
        <span className="jp-aml-SortIndicator" aria-hidden="true">
          {active ? (descending ? '▼' : '▲') : ''}
        </span>
      </button>
    </th>
  );
}

function RunRow(props: {
  run: IRun;
  selected: boolean;
  onSelect: () => void;
  onOpen: () => void;
  /** The metric column's text, or null without a metric column. */
  metricValue: string | null;
  now: number;
  index: number;
}): JSX.Element {
  const { run } = props;
  const name = runShortName(run);
  return (
    <tr
      data-run-id={run.id}
      data-status={run.status}
      aria-selected={props.selected}
      aria-rowindex={props.index + 2}
    >
      <td className="jp-aml-col-select">
        <input
          type="checkbox"
          checked={props.selected}
          onChange={props.onSelect}
          aria-label={`Select run ${name}`}
        />
      </td>
      <td className="jp-aml-Run-name" title={`${name} (${run.id})`}>
        <button
          type="button"
          className="jp-aml-LinkButton"
          onClick={props.onOpen}
          aria-label={`Open run ${name}`}
        >
          <span className="jp-aml-Run-number">{runNumber(run)}</span>
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
      <td className="jp-aml-col-duration">{formatDuration(runDurationSeconds(run, props.now))}</td>
      {props.metricValue !== null && <td className="jp-aml-col-metric">{props.metricValue}</td>}
    </tr>
  );
}

export function RunsGrid(props: {
  experiment: string;
  /** The rows loaded so far, in order; `total` rows exist. */
  runs: IRun[];
  total: number;
  window: IVirtualWindow;
  /** The metric column's name, or '' for none. */
  metric: string;
  metricValue: (run: IRun) => string;
  sort: RunSort;
  onSort: (column: Column) => void;
  selected: ReadonlySet<string>;
  onSelect: (runId: string) => void;
  onOpen: (runId: string) => void;
}): JSX.Element {
  const { metric, window: view } = props;
  const columns: Column[] = ['number', 'status', 'start_time', 'duration'];
  if (metric) {
    columns.push('metric');
  }
  const now = Date.now();
  const span = columns.length + 1;
  const rows: JSX.Element[] = [];
  for (let i = view.start; i < view.end; i++) {
    const run = props.runs[i];
    rows.push(
      run ? (
        <RunRow
          key={run.id}
          index={i}
          run={run}
          selected={props.selected.has(run.id)}
          onSelect={() => props.onSelect(run.id)}
          onOpen={() => props.onOpen(run.id)}
          metricValue={metric ? props.metricValue(run) : null}
          now={now}
        />
      ) : (
        <tr key={`pending-${i}`} className="jp-aml-mod-pending" aria-rowindex={i + 2}>
          <td colSpan={span} className="jp-aml-Muted">
            …
          </td>
        </tr>
      )
    );
  }
  return (
    <div
      className="jp-aml-TableScroll jp-aml-RunsScroll"
      ref={view.ref}
      onScroll={view.onScroll}
      tabIndex={0}
      role="region"
      aria-label={`Scrollable runs of experiment ${props.experiment}`}
    >
      <table
        className={`jp-aml-Table jp-aml-RunsTable jp-aml-mod-virtual${metric ? ' jp-aml-mod-metric' : ''}`}
        aria-label={`Runs of experiment ${props.experiment}`}
        aria-rowcount={props.total + 1}
      >
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col" className="jp-aml-col-select">
              <span className="jp-aml-VisuallyHidden">Select</span>
            </th>
            {columns.map(column => (
              <SortHeader
                key={column}
                column={column}
                metric={metric}
                sort={props.sort}
                onSort={props.onSort}
              />
            ))}
          </tr>
        </thead>
        <tbody>
          {view.top > 0 && (
            <tr className="jp-aml-Spacer" aria-hidden="true" style={{ height: view.top }} />
          )}
          {rows}
          {view.bottom > 0 && (
            <tr className="jp-aml-Spacer" aria-hidden="true" style={{ height: view.bottom }} />
          )}
        </tbody>
      </table>
    </div>
  );
}
