/**
 * One run's metrics, live: the summaries (one per metric), scalar histories as the charts draw
 * them, and the histories of non-scalar metrics. Push events extend them by the points' indices
 * in their series (`MetricEvent.total`), with the steps the server stored: no client renumbers.
 */
import type { IMetricHistory, IMetricSummary } from '../api';
import type { IMetricEvent } from '../events';
import type { LiveWorkspace } from './store';

/** A scalar history as the chart needs it. */
export interface IScalarSeries {
  steps: number[];
  /** What the chart draws: numbers (ints, floats, bools as 0/1); null for a gap (NaN, ±inf, text, None). */
  values: Array<number | null>;
  times: number[];
  /** Points stored on the server (more than drawn when downsampled). */
  total: number;
  downsampled: boolean;
}

/** The strings a metric answer uses for the floats JSON cannot carry (docs/runs-and-metrics.md). */
export const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity
};

/**
 * One scalar value of an answer as logged: `type` is its code from `types` (`f` int `i`, bool `b`,
 * None `n`, str `s`), or undefined when the series holds only floats.
 */
export function decodeScalar(value: unknown, type?: string | null): unknown {
  if ((type === undefined || type === null || type === 'f') && typeof value === 'string') {
    return NON_FINITE[value] ?? NaN;
  }
  return value;
}

/** A value inside a list, row, table or v1 shape whose answer marks it as holding non-finite floats. */
export function decodeNested(value: unknown): unknown {
  if (typeof value === 'string') {
    return value in NON_FINITE ? NON_FINITE[value] : value;
  }
  if (Array.isArray(value)) {
    return value.map(decodeNested);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeNested(v)]));
  }
  return value;
}

/** A history's values decoded (non-scalars: the ones its `nonfinite` names). */
export function decodedValues(history: IMetricHistory): unknown[] {
  if (history.kind === 'scalar') {
    const types = history.types ?? null;
    return history.values.map((v, i) => decodeScalar(v, types ? types[i] : null));
  }
  const marked = new Set(history.nonfinite ?? []);
  return history.values.map((v, i) => (marked.has(i) ? decodeNested(v) : v));
}

/** What a chart draws for a decoded scalar. */
function drawable(value: unknown): number | null {
  if (typeof value === 'boolean') {
    return value ? 1 : 0;
  }
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function chartValues(
  values: unknown[],
  types: ReadonlyArray<string> | null | undefined
): Array<number | null> {
  return values.map((v, i) => drawable(decodeScalar(v, types ? types[i] : null)));
}

export function toSeries(history: IMetricHistory): IScalarSeries {
  return {
    steps: history.steps ?? [],
    values: chartValues(history.values, history.types),
    times: history.times ?? [],
    total: history.total,
    downsampled: history.downsampled ?? false
  };
}

/**
 * A series extended by an event's points: those whose index in the series is `series.total` or
 * more (the rest were in the history already). `null` when points between them were missed.
 */
export function mergePoints(series: IScalarSeries, event: IMetricEvent): IScalarSeries | null {
  const first = event.total - event.steps.length;
  if (event.total <= series.total) {
    return series;
  }
  if (first > series.total) {
    return null;
  }
  const skip = series.total - first;
  return {
    steps: series.steps.concat(event.steps.slice(skip)),
    values: series.values.concat(chartValues(event.values, event.types).slice(skip)),
    times: series.times.concat(event.times.slice(skip)),
    total: event.total,
    downsampled: series.downsampled
  };
}

/** A summary after an event's points (count, last, min, max). */
function summarize(summary: IMetricSummary, event: IMetricEvent): IMetricSummary {
  if (event.total <= summary.count || event.steps.length === 0) {
    return summary;
  }
  const last = event.steps.length - 1;
  const types = event.types ?? null;
  const numeric = event.values.filter(
    (v, i): v is number =>
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (!types || types[i] === 'f' || types[i] === 'i')
  );
  const min = Math.min(summary.min ?? Infinity, ...numeric);
  const max = Math.max(summary.max ?? -Infinity, ...numeric);
  const lastType = types ? types[last] : 'f';
  const lastValue = event.values[last];
  const seen = new Set([...(types ?? ['f']), ...(summary.value_type ? [summary.value_type] : [])]);
  return {
    ...summary,
    count: event.total,
    last_step: event.steps[last],
    last_value:
      typeof lastValue === 'number' && (lastType === 'f' || lastType === 'i') ? lastValue : null,
    last: lastValue,
    last_type: lastType,
    value_type: seen.size > 1 ? 'mixed' : (Array.from(seen)[0] ?? null),
    min: Number.isFinite(min) ? min : summary.min,
    max: Number.isFinite(max) ? max : summary.max
  };
}

/** What a panel reads (a new object after every change). */
export interface IRunMetricsView {
  /** Undefined until first loaded. */
  summaries: IMetricSummary[] | undefined;
  summariesError: unknown;
  series: ReadonlyMap<string, IScalarSeries>;
  /** Histories of non-scalar metrics (lists, rows, tables, images). */
  others: ReadonlyMap<string, IMetricHistory>;
  /** The last failure loading a metric's history, by name. */
  errors: ReadonlyMap<string, unknown>;
}

/** Call `fn` at most once per `ms` (trailing). */
function throttle(fn: () => void, ms: number): () => void {
  let timer: number | null = null;
  return () => {
    if (timer === null) {
      timer = window.setTimeout(() => {
        timer = null;
        fn();
      }, ms);
    }
  };
}

export class RunMetrics {
  constructor(
    private readonly _live: LiveWorkspace,
    readonly runId: string
  ) {
    this.key = `metrics:${runId}`;
  }

  /** The listening key of this run's metrics. */
  readonly key: string;

  view: IRunMetricsView = {
    summaries: undefined,
    summariesError: undefined,
    series: new Map(),
    others: new Map(),
    errors: new Map()
  };

  /** Load the summaries unless they are loaded or loading. */
  ensureSummaries(): void {
    if (this._missed) {
      this._missed = false;
      this.refresh();
    } else if (this.view.summaries === undefined && !this._summariesLoading) {
      this.loadSummaries();
    }
  }

  /** Load the summaries again (through the workspace's load queue). */
  loadSummaries(): void {
    if (this._summariesLoading) {
      this._summariesAgain = true;
      return;
    }
    this._summariesLoading = true;
    this._live.queue.add(async () => {
      try {
        const summaries = await this._live.service.listMetrics(this._live.workspace, this.runId);
        this._set({ summaries, summariesError: undefined });
      } catch (reason) {
        this._set({ summariesError: reason ?? new Error('Unknown error') });
      } finally {
        this._summariesLoading = false;
        if (this._summariesAgain) {
          this._summariesAgain = false;
          this.loadSummaries();
        }
      }
    });
  }

  /** Load a scalar history downsampled to `maxPoints` unless it is loaded at that size. */
  ensureSeries(name: string, maxPoints: number): void {
    if (this._maxPoints.get(name) !== maxPoints) {
      this._maxPoints.set(name, maxPoints);
      void this._loadSeries(name);
    }
  }

  /** Load a non-scalar history unless it was loaded with `count` values. */
  ensureHistory(name: string, count: number): void {
    if (this._otherCounts.get(name) !== count) {
      this._otherCounts.set(name, count);
      void this._loadHistory(name);
    }
  }

  /** Read everything shown again (the run ended, or events may have been missed). */
  refresh(): void {
    if (!this._live.watched(this.key)) {
      this._missed = this.view.summaries !== undefined; // read again when shown again
      return;
    }
    this.loadSummaries();
    for (const name of this._maxPoints.keys()) {
      void this._loadSeries(name);
    }
    for (const name of this._otherCounts.keys()) {
      void this._loadHistory(name);
    }
  }

  applyEvent(event: IMetricEvent): void {
    if (this._loading.has(event.name)) {
      this._buffered.push(event); // applied once the history being read arrives
    } else {
      this._applySeries(event);
    }
    const summaries = this.view.summaries;
    const index = summaries?.findIndex(s => s.name === event.name) ?? -1;
    if (summaries && index >= 0) {
      const next = summarize(summaries[index], event);
      if (next !== summaries[index]) {
        this._set({ summaries: summaries.map((s, i) => (i === index ? next : s)) });
      }
    } else if (summaries && this._live.watched(this.key)) {
      this._summariesSoon(); // a new metric
    }
  }

  private _applySeries(event: IMetricEvent): void {
    const current = this.view.series.get(event.name);
    if (!current) {
      return;
    }
    const next = mergePoints(current, event);
    if (next === null) {
      this._reloadSoon(event.name); // points were missed
    } else if (next !== current) {
      this._set({ series: new Map(this.view.series).set(event.name, next) });
      if (next.values.length > 2 * (this._maxPoints.get(event.name) ?? Infinity)) {
        this._reloadSoon(event.name); // downsample again on the server
      }
    }
  }

  private async _loadSeries(name: string): Promise<void> {
    const maxPoints = this._maxPoints.get(name);
    // Only the newest read of a series counts: an older one answering later is stale.
    const mine = (this._seq.get(name) ?? 0) + 1;
    this._seq.set(name, mine);
    this._loading.set(name, (this._loading.get(name) ?? 0) + 1);
    try {
      const history = await this._live.service.getMetric(
        this._live.workspace,
        this.runId,
        name,
        maxPoints
      );
      if (this._seq.get(name) === mine) {
        this._set({
          series: new Map(this.view.series).set(name, toSeries(history)),
          errors: without(this.view.errors, name)
        });
      }
    } catch (reason) {
      if (this._seq.get(name) === mine) {
        this._set({ errors: new Map(this.view.errors).set(name, reason) });
      }
    } finally {
      const left = (this._loading.get(name) ?? 1) - 1;
      if (left > 0) {
        this._loading.set(name, left);
      } else {
        this._loading.delete(name);
        const buffered = this._buffered.filter(e => e.name === name);
        this._buffered = this._buffered.filter(e => e.name !== name);
        buffered.forEach(e => this._applySeries(e));
      }
    }
  }

  private async _loadHistory(name: string): Promise<void> {
    try {
      const history = await this._live.service.getMetric(this._live.workspace, this.runId, name);
      this._set({
        others: new Map(this.view.others).set(name, history),
        errors: without(this.view.errors, name)
      });
    } catch (reason) {
      this._set({ errors: new Map(this.view.errors).set(name, reason) });
    }
  }

  private _reloadSoon(name: string): void {
    this._stale.add(name);
    this._seriesSoon();
  }

  private _set(patch: Partial<IRunMetricsView>): void {
    this.view = { ...this.view, ...patch };
    this._live.emit(this.key);
  }

  private _summariesSoon = throttle(() => this.loadSummaries(), 2000);
  private _seriesSoon = throttle(() => {
    const names = Array.from(this._stale);
    this._stale.clear();
    names.forEach(name => void this._loadSeries(name));
  }, 3000);
  private _summariesLoading = false;
  private _missed = false;
  private _summariesAgain = false;
  private _maxPoints = new Map<string, number>();
  private _otherCounts = new Map<string, number>();
  /** Reads of each series in flight, and the number of the newest. */
  private _loading = new Map<string, number>();
  private _seq = new Map<string, number>();
  private _buffered: IMetricEvent[] = [];
  private _stale = new Set<string>();
}

function without<K, V>(map: ReadonlyMap<K, V>, key: K): ReadonlyMap<K, V> {
  if (!map.has(key)) {
    return map;
  }
  const next = new Map(map);
  next.delete(key);
  return next;
}
