/** The runs table's own state: the metric column's values, the first-paint measure. */
import { MutableRefObject, useLayoutEffect } from 'react';

import { IMetricSummary } from '../../api';
import { formatNumber } from '../../format';

/** The scalar metrics logged by any of the runs, sorted (the metric column's choices). */
export function scalarMetricNames(summaries: ReadonlyMap<string, IMetricSummary[]>): string[] {
  return Array.from(
    new Set(
      Array.from(summaries.values())
        .flat()
        .filter(m => m.kind === 'scalar')
        .map(m => m.name)
    )
  ).sort();
}

/** A run's cell in the metric column: its last value, '—' without it, '…' while loading. */
export function metricCell(
  summaries: ReadonlyMap<string, IMetricSummary[]>,
  runId: string,
  metric: string
): string {
  const list = summaries.get(runId);
  if (!list) {
    return '…';
  }
  const found = list.find(m => m.name === metric);
  return found ? formatNumber(found.last_value) : '—';
}

/**
 * Measure the first paint after a response (`aml:runs-first-paint`, for benchmarks/studio.md):
 * the load sets `responseAt` when the response arrives; the measure follows the paint of `data`.
 */
export function useFirstPaintMeasure(responseAt: MutableRefObject<number>, data: unknown): void {
  useLayoutEffect(() => {
    if (data && responseAt.current) {
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
  }, [data, responseAt]);
}
