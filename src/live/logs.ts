/**
 * One run's log tail, live: pages read from REST after the last line seen, extended by push
 * events. Line ids order and deduplicate both, so lines that arrive during a read are applied after it.
 */
import type { ILogLine } from '../api';
import type { LiveWorkspace } from './store';

/** Lines fetched per request (the server allows up to 10,000). */
const PAGE = 5000;
/** Lines kept in the browser; older ones are dropped (the download has all of them). */
export const KEEP_LINES = 50000;

export interface IRunLogView {
  lines: ILogLine[];
  /** True until the first read answered. */
  loading: boolean;
  /** The last read's failure, cleared by the next success. */
  error: unknown;
}

export class RunLog {
  constructor(
    private readonly _live: LiveWorkspace,
    readonly runId: string
  ) {
    this.key = `log:${runId}`;
  }

  readonly key: string;

  view: IRunLogView = { lines: [], loading: true, error: undefined };

  /** A panel shows the log: read what was added since it was last read. */
  start(): void {
    this._started = true;
    void this.catchUp();
  }

  /** Read every line after the last one seen. */
  async catchUp(): Promise<void> {
    if (!this._started) {
      return;
    }
    if (this._fetching) {
      this._again = true; // lines may have been added after the read in flight passed them
      return;
    }
    this._fetching = true;
    try {
      for (;;) {
        const page = await this._live.service.getLogs(this._live.workspace, this.runId, {
          after: this._lastId,
          limit: PAGE
        });
        this._add(page.items);
        if (page.items.length < PAGE) {
          break;
        }
      }
      this._set({ error: undefined });
    } catch (reason) {
      this._set({ error: reason ?? new Error('Unknown error') });
    } finally {
      this._fetching = false;
      const buffered = this._pending.sort((a, b) => a.id - b.id);
      this._pending = [];
      this._add(buffered);
      this._set({ loading: false });
      if (this._again) {
        this._again = false;
        void this.catchUp();
      }
    }
  }

  /** Lines from a push event. */
  append(lines: ILogLine[]): void {
    if (this._fetching) {
      this._pending.push(...lines);
    } else if (this._started) {
      this._add(lines);
    }
  }

  private _add(incoming: ILogLine[]): void {
    const fresh = incoming.filter(l => l.id > this._lastId);
    if (fresh.length === 0) {
      return;
    }
    this._lastId = fresh[fresh.length - 1].id;
    const next = this.view.lines.concat(fresh);
    this._set({ lines: next.length > KEEP_LINES ? next.slice(next.length - KEEP_LINES) : next });
  }

  private _set(patch: Partial<IRunLogView>): void {
    this.view = { ...this.view, ...patch };
    this._live.emit(this.key);
  }

  private _started = false;
  private _fetching = false;
  private _again = false;
  private _lastId = 0;
  private _pending: ILogLine[] = [];
}
