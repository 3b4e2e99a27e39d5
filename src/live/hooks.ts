/**
 * React hooks onto the live store: what a panel shows, kept current by the store. Panels never
 * listen to the push channel themselves, and never handle its interruptions.
 */
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';

import type { AMLService, IMetricSummary, IRun } from '../api';
import { IRequestState, useRequest, useThrottled } from '../panels/hooks';
import type { IRunLogView } from './logs';
import type { IRunMetricsView } from './metrics';
import { LiveEvent, liveStore, LiveWorkspace } from './store';

/** The live state of a workspace, kept (push channel open) while the component is mounted. */
export function useLiveWorkspace(service: AMLService, workspace: string): LiveWorkspace {
  const live = liveStore(service).workspace(workspace);
  useEffect(() => live.retain(), [live]);
  return live;
}

function useKey<T>(live: LiveWorkspace, key: string, read: () => T): T {
  const subscribe = useCallback((changed: () => void) => live.listen(key, changed), [live, key]);
  return useSyncExternalStore(subscribe, read);
}

/** Bumped when the push channel came back after an interruption: what is shown loads again. */
export function useLiveEpoch(service: AMLService, workspace: string): number {
  const live = useLiveWorkspace(service, workspace);
  return useKey(live, 'epoch', () => live.epoch);
}

/**
 * Push events after the store applied them, while mounted (the listener may change on every
 * render). Interruptions never reach it: `useLiveEpoch` says when to load again.
 */
export function useLiveEvents(
  service: AMLService,
  workspace: string,
  listener: (event: LiveEvent) => void
): void {
  const live = useLiveWorkspace(service, workspace);
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => live.onEvent(event => ref.current(event)), [live]);
}

export interface ILiveQueryOptions {
  /** Which push events change the answer (it loads again, at most once per `throttleMs`). */
  reloadOn?: (event: LiveEvent) => boolean;
  throttleMs?: number;
}

/**
 * A REST answer that stays current: it loads again when `deps` change, when an event matching
 * `reloadOn` arrives, and after the push channel was interrupted.
 */
export function useLiveQuery<T>(
  service: AMLService,
  workspace: string,
  load: (live: LiveWorkspace) => Promise<T>,
  deps: ReadonlyArray<unknown>,
  options: ILiveQueryOptions = {}
): IRequestState<T> {
  const live = useLiveWorkspace(service, workspace);
  const epoch = useLiveEpoch(service, workspace);
  const result = useRequest(() => load(live), [live, epoch, ...deps]);
  const reloadSoon = useThrottled(result.reload, options.throttleMs ?? 1000);
  const { reloadOn } = options;
  useLiveEvents(service, workspace, event => {
    if (reloadOn?.(event)) {
      reloadSoon();
    }
  });
  return result;
}

/** One run, live: loaded from REST, then replaced by the push channel's copies. */
export function useLiveRun(
  service: AMLService,
  workspace: string,
  runId: string
): IRequestState<IRun> {
  const loaded = useLiveQuery(service, workspace, live => live.fetchRun(runId), [runId]);
  const live = useLiveWorkspace(service, workspace);
  const run = useKey(live, `run:${runId}`, () => live.run(runId));
  return { ...loaded, data: run ?? loaded.data };
}

/** Rows of a REST list mapped to the store's newest copies (`load` puts them in the store). */
export function useLiveRows(service: AMLService, workspace: string, rows: IRun[]): IRun[] {
  const live = useLiveWorkspace(service, workspace);
  const version = useKey(live, 'runs', () => live.runsVersion);
  return useMemo(
    () => rows.map(r => live.run(r.id) ?? r),
    // `version` changes whenever a run copy does: the rows read the store again.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `version` stands for the store's runs
    [live, rows, version]
  );
}

/** A run's metric summaries and the histories asked for with `ensureSeries`/`ensureHistory`. */
export function useRunMetrics(
  service: AMLService,
  workspace: string,
  runId: string
): IRunMetricsView & {
  ensureSeries: (name: string, maxPoints: number) => void;
  ensureHistory: (name: string, count: number) => void;
  reloadSummaries: () => void;
} {
  const live = useLiveWorkspace(service, workspace);
  const metrics = live.metrics(runId);
  const view = useKey(live, metrics.key, () => metrics.view);
  useEffect(() => metrics.ensureSummaries(), [metrics]);
  const actions = useMemo(
    () => ({
      ensureSeries: (name: string, maxPoints: number) => metrics.ensureSeries(name, maxPoints),
      ensureHistory: (name: string, count: number) => metrics.ensureHistory(name, count),
      reloadSummaries: () => metrics.loadSummaries()
    }),
    [metrics]
  );
  return { ...view, ...actions };
}

/**
 * The metrics of many runs (a table's metric column, a comparison), summaries loaded four runs at
 * a time when `enabled`, kept current by the push channel. Runs not loaded yet are missing.
 */
export function useManyRunMetrics(
  service: AMLService,
  workspace: string,
  runIds: string[],
  enabled: boolean
): {
  views: ReadonlyMap<string, IRunMetricsView>;
  ensureSeries: (runId: string, name: string, maxPoints: number) => void;
} {
  const live = useLiveWorkspace(service, workspace);
  const key = runIds.join(',');
  const subscribe = useCallback(
    (changed: () => void) => {
      const stops = splitIds(key).map(id => live.listen(`metrics:${id}`, changed));
      return () => stops.forEach(stop => stop());
    },
    [live, key]
  );
  const version = useSyncExternalStore(subscribe, () => live.metricsVersion);
  useEffect(() => {
    if (enabled) {
      splitIds(key).forEach(id => live.metrics(id).ensureSummaries());
    }
  }, [live, key, enabled]);
  const views = useMemo(
    () => new Map(splitIds(key).map(id => [id, live.metrics(id).view])),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `version` stands for the store's metrics
    [live, key, version]
  );
  const ensureSeries = useCallback(
    (runId: string, name: string, maxPoints: number) =>
      live.metrics(runId).ensureSeries(name, maxPoints),
    [live]
  );
  return { views, ensureSeries };
}

/** The metric summaries of many runs, by run id (see `useManyRunMetrics`). */
export function useMetricSummaries(
  service: AMLService,
  workspace: string,
  runIds: string[],
  enabled: boolean
): ReadonlyMap<string, IMetricSummary[]> {
  const { views } = useManyRunMetrics(service, workspace, runIds, enabled);
  return useMemo(() => {
    const map = new Map<string, IMetricSummary[]>();
    for (const [id, view] of views) {
      if (view.summaries) {
        map.set(id, view.summaries);
      }
    }
    return map;
  }, [views]);
}

function splitIds(key: string): string[] {
  return key ? key.split(',') : [];
}

/** A run's log tail, live; `retry` reads again after a failure. */
export function useRunLog(
  service: AMLService,
  workspace: string,
  runId: string
): IRunLogView & { retry: () => void } {
  const live = useLiveWorkspace(service, workspace);
  const log = live.log(runId);
  const view = useKey(live, log.key, () => log.view);
  useEffect(() => log.start(), [log]);
  return { ...view, retry: () => void log.catchUp() };
}
