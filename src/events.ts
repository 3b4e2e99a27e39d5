/**
 * The push channel: one shared EventSource per workspace (`GET aml/api/v1/events?workspace=W`),
 * fanned out to every panel that listens. Browsers allow only a few HTTP/1.1 connections per host,
 * so panels never open their own streams.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';

import type { components } from './api-types';
import { API_PREFIX } from './request';

type Schemas = components['schemas'];

// The events' types are generated from the server's models (core/events.py) like the REST types.
export type IRunEvent = Schemas['RunEvent'];
export type ILogEvent = Schemas['LogEvent'];
/** Scalar points as stored: `steps`/`values`/`times` columns, the series' last `steps.length` of `total`. */
export type IMetricEvent = Schemas['MetricEvent'];
export type IFilesEvent = Schemas['FilesEvent'];
/** A model version was registered, updated (tags, properties, description) or deleted. */
export type IModelEvent = Schemas['ModelEvent'];
/** A web service changed (state, revision, replicas, settings) or was deleted. */
export type IWebserviceEvent = Schemas['WebserviceEvent'];
/** A compute changed (state, nodes, queue, settings) or was deleted: fetch it again. */
export type IComputeEvent = Schemas['ComputeEvent'];

/**
 * Not on the wire: sent to listeners when the stream came back after an interruption (events may be
 * missing).
 */
export interface IReconnectEvent {
  type: 'reconnect';
}

/** One event of the push channel, or the client's own `reconnect`. */
export type AMLEvent = Schemas['AMLEvent'] | IReconnectEvent;

export type AMLEventListener = (event: AMLEvent) => void;

/** Seconds a stream stays open after its last listener left (panels re-render and re-subscribe). */
const LINGER_MS = 5000;

class WorkspaceStream {
  constructor(
    readonly workspace: string,
    private readonly _url: string
  ) {
    this._open();
  }

  readonly listeners = new Set<AMLEventListener>();
  closeTimer: number | null = null;

  get connected(): boolean {
    return this._source?.readyState === EventSource.OPEN;
  }

  close(): void {
    this._source?.close();
    this._source = null;
  }

  private _open(): void {
    const source = new EventSource(this._url, { withCredentials: true });
    this._source = source;
    source.onopen = () => {
      if (this._hadError) {
        this._hadError = false;
        this._emit({ type: 'reconnect' });
      }
    };
    source.onerror = () => {
      this._hadError = true;
      // EventSource retries by itself unless the server refused the request (CLOSED).
      if (source.readyState === EventSource.CLOSED && this._source === source) {
        window.setTimeout(() => {
          if (this._source === source) {
            this._open();
          }
        }, 5000);
      }
    };
    source.onmessage = (message: MessageEvent<string>) => {
      let event: AMLEvent;
      try {
        event = JSON.parse(message.data) as AMLEvent;
      } catch {
        return;
      }
      this._emit(event);
    };
  }

  private _emit(event: AMLEvent): void {
    for (const listener of Array.from(this.listeners)) {
      try {
        listener(event);
      } catch (reason) {
        console.error('jupyter-aml: event listener failed', reason);
      }
    }
  }

  private _source: EventSource | null = null;
  private _hadError = false;
}

/** Shared, reference-counted push-channel connections. */
export class AMLEvents {
  constructor(serverSettings: ServerConnection.ISettings) {
    this._settings = serverSettings;
  }

  /** Listen to every event of a workspace until the returned handle is disposed. */
  subscribe(workspace: string, listener: AMLEventListener): IDisposable {
    if (typeof EventSource === 'undefined') {
      return { isDisposed: true, dispose: () => undefined };
    }
    let stream = this._streams.get(workspace);
    if (!stream) {
      stream = new WorkspaceStream(workspace, this._url(workspace));
      this._streams.set(workspace, stream);
    }
    if (stream.closeTimer !== null) {
      window.clearTimeout(stream.closeTimer);
      stream.closeTimer = null;
    }
    stream.listeners.add(listener);
    const owner = stream;
    let disposed = false;
    return {
      get isDisposed() {
        return disposed;
      },
      dispose: () => {
        if (disposed) {
          return;
        }
        disposed = true;
        owner.listeners.delete(listener);
        if (owner.listeners.size === 0 && owner.closeTimer === null) {
          owner.closeTimer = window.setTimeout(() => {
            owner.closeTimer = null;
            if (owner.listeners.size === 0) {
              owner.close();
              if (this._streams.get(workspace) === owner) {
                this._streams.delete(workspace);
              }
            }
          }, LINGER_MS);
        }
      }
    };
  }

  /** Close every stream (plugin teardown, tests). */
  dispose(): void {
    for (const stream of this._streams.values()) {
      stream.close();
    }
    this._streams.clear();
  }

  private _url(workspace: string): string {
    const params = new URLSearchParams({ workspace });
    // EventSource cannot send headers: Jupyter's login cookie authenticates it (same-origin GET). Like
    // JupyterLab's own websockets, the token goes in the URL only where settings ask for it.
    if (this._settings.token && this._settings.appendToken) {
      params.set('token', this._settings.token);
    }
    // JupyterHub's single-user servers accept a cookie login on such a request only with the XSRF value
    // (as a parameter, since EventSource sends no header); plain Jupyter ignores it.
    const xsrf = xsrfCookie();
    if (xsrf) {
      params.set('_xsrf', xsrf);
    }
    return URLExt.join(this._settings.baseUrl, API_PREFIX, 'events') + '?' + params.toString();
  }

  private _settings: ServerConnection.ISettings;
  private _streams = new Map<string, WorkspaceStream>();
}

/** The `_xsrf` cookie Jupyter (and JupyterHub) set for this origin, if any. */
function xsrfCookie(): string | undefined {
  if (typeof document === 'undefined') {
    return undefined;
  }
  const found = document.cookie.match('\\b_xsrf=([^;]*)\\b');
  return found ? decodeURIComponent(found[1]) : undefined;
}
