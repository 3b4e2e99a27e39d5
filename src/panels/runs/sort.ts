/** The runs table's columns and how each maps to the server's sort keys (`-` = descending). */
import { RunSort } from '../../api';

export type Column = 'number' | 'status' | 'start_time' | 'duration' | 'metric';

export const COLUMN_LABELS: Record<Column, string> = {
  number: 'Run',
  status: 'Status',
  start_time: 'Started',
  duration: 'Duration',
  metric: 'Metric'
};

/** The sort's key without its direction. */
export function sortKey(sort: RunSort): string {
  return sort.replace(/^-/, '');
}

/** The server's sort key of a column (the metric column sorts by `metric:<name>`). */
export function columnSortKey(column: Column, metric: string): string {
  return column === 'metric' ? `metric:${metric}` : column;
}

/** The sort after a click on a column: descending first (newest, longest, best), then ascending. */
export function nextSort(sort: RunSort, column: Column, metric: string): RunSort {
  const key = columnSortKey(column, metric);
  return (sortKey(sort) === key && sort.startsWith('-') ? key : `-${key}`) as RunSort;
}
