/**
 * The studio's one live model. REST answers and push events meet here once: runs (a REST copy and
 * the push channel's newer copies), metric summaries and histories, log tails, and queries that
 * reload when an event says their answer changed. When the push channel comes back after an
 * interruption, the store refetches what events may have been missed; panels never see it.
 */
import type { IDisposable } from '@lumino/disposable';

import type { AMLService, IRun } from '../api';
import type { AMLEvent } from '../events';
import { isTerminal } from '../statuses';
import { RunLog } from './logs';
import { RunMetrics } from './metrics';

/** A push event as panels see it: the store handles interruptions itself. */
export type LiveEvent = Exclude<AMLEvent, { type: 'reconnect' }>;

type Listener = () => void;

/** Milliseconds a workspace's live state is kept after its last user left (panels re-mount). */
const LINGER_MS = 5000;

/** Listeners by key: a change of one run or one run's metrics wakes only what shows it. */
class Listeners {
  add(key: string, listener: Listener): () => void {
    let set = this._byKey.get(key);
    if (!set) {
      set = new Set();
      this._byKey.set(key, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this._byKey.get(key) === set) {
        this._byKey.delete(key);
      }
    };
  }

  has(key: string): boolean {
    return this._byKey.has(key);
  }

  emit(key: string): void {
    for (const listener of Array.from(this._byKey.get(key) ?? [])) {
      listener();
    }
  }

  private _byKey = new Map<string, Set<Listener>>();
}

/** Runs at most `width` loads at a time (the browser has few connections per host). */
export class LoadQueue {
  constructor(private readonly _width: number) {}

  add(load: () => Promise<void>): void {
    this._todo.push(load);
    this._pump();
  }

  private _pump(): void {
    while (this._running < this._width && this._todo.length) {
      const load = this._todo.shift()!;
      this._running++;
      void load().finally(() => {
        this._running--;
        this._pump();
      });
    }
  }

  private _running = 0;
  private _todo: Array<() => Promise<void>> = [];
}

/** The live state of one workspace, kept while some panel uses it. */
export class LiveWorkspace {
  constructor(
    readonly service: AMLService,
    readonly workspace: string,
    private readonly _onIdle: (live: LiveWorkspace) => void
  ) {}

  /** Bumped when the push channel came back: every query loads again. */
  get epoch(): number {
    return this._epoch;
  }

  /** Bumped on every run change (lists map their rows to the live copies). */
  get runsVersion(): number {
    return this._runsVersion;
  }

  /** Bumped on every change of some run's metrics (tables of many runs). */
  get metricsVersion(): number {
    return this._metricsVersion;
  }

  readonly queue = new LoadQueue(4);

  /** Keep the push channel open until the returned function is called. */
  retain(): () => void {
    this._users++;
    if (this._lingerTimer !== null) {
      window.clearTimeout(this._lingerTimer);
      this._lingerTimer = null;
    }
    if (!this._handle) {
      this._handle = this.service.events.subscribe(this.workspace, event => this._onEvent(event));
    }
    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      if (--this._users === 0) {
        this._lingerTimer = window.setTimeout(() => {
          this._lingerTimer = null;
          if (this._users === 0) {
            this._handle?.dispose();
            this._handle = null;
            this._onIdle(this);
          }
        }, LINGER_MS);
      }
    };
  }

  /** Listen to one key: `run:<id>`, `metrics:<id>`, `log:<id>`, `runs`, `epoch`. */
  listen(key: string, listener: Listener): () => void {
    const stop = this._listeners.add(key, listener);
    return () => {
      stop();
      if (!this._listeners.has(key)) {
        this._forgetLater(key);
      }
    };
  }

  /** Listen to every push event after the store applied it. */
  onEvent(listener: (event: LiveEvent) => void): () => void {
    this._eventListeners.add(listener);
    return () => this._eventListeners.delete(listener);
  }

  /** Tell the listeners of `key` it changed (`metrics:<id>` and `log:<id>` also bump a version). */
  emit(key: string): void {
    if (key.startsWith('metrics:')) {
      this._metricsVersion++;
    }
    this._listeners.emit(key);
  }

  /** Whether some panel shows `key` now (nothing else is worth a request). */
  watched(key: string): boolean {
    return this._listeners.has(key);
  }

  // -- runs ------------------------------------------------------------------------------------------

  run(id: string): IRun | undefined {
    return this._runs.get(id);
  }

  /**
   * Take a copy of a run (a REST answer, a push event, a cancel's answer). Copies arrive out of
   * order (a list requested before an event can answer after it), and a run never leaves a terminal
   * status: a non-terminal copy does not replace a terminal one.
   */
  putRun(run: IRun): void {
    const previous = this._runs.get(run.id);
    if (previous === run || (previous && isTerminal(previous.status) && !isTerminal(run.status))) {
      return;
    }
    this._runs.set(run.id, run);
    this._runsVersion++;
    this._listeners.emit(`run:${run.id}`);
    this._listeners.emit('runs');
    if (previous && !isTerminal(previous.status) && isTerminal(run.status)) {
      // The run's histories are complete now, and downsampled on the server: read them again.
      this._metrics.get(run.id)?.refresh();
    }
  }

  /** Load a run from REST into the store. */
  async fetchRun(id: string): Promise<IRun> {
    const run = await this.service.getRun(this.workspace, id);
    this.putRun(run);
    return this._runs.get(id) ?? run;
  }

  // -- metrics and logs ----------------------------------------------------------------------------

  metrics(runId: string): RunMetrics {
    let metrics = this._metrics.get(runId);
    if (!metrics) {
      metrics = new RunMetrics(this, runId);
      this._metrics.set(runId, metrics);
    }
    return metrics;
  }

  log(runId: string): RunLog {
    let log = this._logs.get(runId);
    if (!log) {
      log = new RunLog(this, runId);
      this._logs.set(runId, log);
    }
    return log;
  }

  private _onEvent(event: AMLEvent): void {
    switch (event.type) {
      case 'reconnect':
        this._catchUp();
        return;
      case 'run':
        this.putRun(event.run);
        break;
      case 'metric':
        this._metrics.get(event.run_id)?.applyEvent(event);
        break;
      case 'log':
        this._logs.get(event.run_id)?.append(event.lines);
        break;
      default:
        break;
    }
    for (const listener of Array.from(this._eventListeners)) {
      try {
        listener(event);
      } catch (reason) {
        console.error('jupyter-aml: live listener failed', reason);
      }
    }
  }

  /** A run's metrics or log that no panel shows for a while are dropped (histories are large). */
  private _forgetLater(key: string): void {
    const [kind, runId] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    const models: Map<string, unknown> | null =
      kind === 'metrics' ? this._metrics : kind === 'log' ? this._logs : null;
    if (!models) {
      return;
    }
    window.setTimeout(() => {
      if (!this._listeners.has(key)) {
        models.delete(runId);
      }
    }, LINGER_MS);
  }

  /** Events may have been missed while the channel was down: load again what is shown. */
  private _catchUp(): void {
    this._epoch++;
    this._listeners.emit('epoch');
    for (const metrics of this._metrics.values()) {
      metrics.refresh();
    }
    for (const log of this._logs.values()) {
      if (this.watched(log.key)) {
        void log.catchUp();
      }
    }
  }

  private _handle: IDisposable | null = null;
  private _users = 0;
  private _lingerTimer: number | null = null;
  private _epoch = 0;
  private _runsVersion = 0;
  private _metricsVersion = 0;
  private _runs = new Map<string, IRun>();
  private _metrics = new Map<string, RunMetrics>();
  private _logs = new Map<string, RunLog>();
  private _listeners = new Listeners();
  private _eventListeners = new Set<(event: LiveEvent) => void>();
}

/** Live workspaces of one REST client. */
export class LiveStore {
  constructor(readonly service: AMLService) {}

  workspace(name: string): LiveWorkspace {
    let live = this._workspaces.get(name);
    if (!live) {
      live = new LiveWorkspace(this.service, name, idle => {
        if (this._workspaces.get(name) === idle) {
          this._workspaces.delete(name);
        }
      });
      this._workspaces.set(name, live);
    }
    return live;
  }

  private _workspaces = new Map<string, LiveWorkspace>();
}

const stores = new WeakMap<AMLService, LiveStore>();

/** The live store of a REST client (one per `AMLService`, made on first use). */
export function liveStore(service: AMLService): LiveStore {
  let store = stores.get(service);
  if (!store) {
    store = new LiveStore(service);
    stores.set(service, store);
  }
  return store;
}
