/**
 * Typed client of the jupyter-aml REST API. The contract is docs/rest-api.md; this file only
 * covers what the frontend uses so far and grows with it.
 */
import { ServerConnection } from '@jupyterlab/services';

import { queryString, requestAPI } from './request';

/** Every run status the server can report, in lifecycle order. */
export const RUN_STATUSES = [
  'Queued',
  'Preparing',
  'Starting',
  'Running',
  'Finalizing',
  'Completed',
  'Failed',
  'Canceled',
  'NotResponding'
] as const;

export type RunStatus = (typeof RUN_STATUSES)[number];

/** Statuses after which a run never changes again. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['Completed', 'Failed', 'Canceled']);

export interface IWorkspace {
  name: string;
  description?: string | null;
  created_at?: string;
}

export interface IExperiment {
  name: string;
  id?: string;
  workspace?: string;
  created_at?: string;
}

export interface ICompute {
  name: string;
  type: string;
  max_concurrent_runs?: number | null;
  [key: string]: unknown;
}

export interface IRunError {
  message: string;
  details?: unknown;
}

export interface IRun {
  id: string;
  number: number;
  experiment: string;
  workspace: string;
  parent_id: string | null;
  root_id: string | null;
  display_name: string | null;
  description: string | null;
  kind: 'script' | 'interactive' | 'child';
  /** A RunStatus; typed as string so an unknown future status still renders. */
  status: RunStatus | string;
  created_at: string;
  start_time: string | null;
  end_time: string | null;
  duration_seconds: number | null;
  submitter?: string | null;
  compute_target?: string | null;
  tags: Record<string, string>;
  properties: Record<string, string>;
  error?: IRunError | null;
}

/** `{items: [...]}` list envelope. */
export interface IList<T> {
  items: T[];
}

/** Paged list envelope. */
export interface IPage<T> extends IList<T> {
  next_page_token: string | null;
  total?: number | null;
}

export type RunSort =
  | 'created_at'
  | '-created_at'
  | 'start_time'
  | '-start_time'
  | 'duration'
  | '-duration'
  | 'status'
  | `metric:${string}`
  | `-metric:${string}`;

export interface IListRunsOptions {
  experiment?: string;
  status?: string[];
  tag?: string[];
  parentId?: string;
  rootOnly?: boolean;
  sort?: RunSort;
  pageSize?: number;
  pageToken?: string | null;
}

const seg = encodeURIComponent;

/** The typed REST client. One instance is shared through the `IAMLService` token. */
export class AMLService {
  constructor(options: { serverSettings?: ServerConnection.ISettings } = {}) {
    this.serverSettings = options.serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /** Low-level escape hatch for routes not wrapped yet. */
  request<T>(path: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(path, init, this.serverSettings);
  }

  async listWorkspaces(): Promise<IWorkspace[]> {
    return (await this.request<IList<IWorkspace>>('workspaces')).items;
  }

  async listExperiments(workspace: string): Promise<IExperiment[]> {
    return (await this.request<IList<IExperiment>>(`workspaces/${seg(workspace)}/experiments`))
      .items;
  }

  async listComputes(workspace: string): Promise<ICompute[]> {
    return (await this.request<IList<ICompute>>(`workspaces/${seg(workspace)}/computes`)).items;
  }

  listRuns(workspace: string, options: IListRunsOptions = {}): Promise<IPage<IRun>> {
    const query = queryString({
      experiment: options.experiment,
      status: options.status,
      tag: options.tag,
      parent_id: options.parentId,
      root_only: options.rootOnly ? 'true' : undefined,
      sort: options.sort,
      page_size: options.pageSize,
      page_token: options.pageToken
    });
    return this.request<IPage<IRun>>(`workspaces/${seg(workspace)}/runs${query}`);
  }

  getRun(workspace: string, runId: string): Promise<IRun> {
    return this.request<IRun>(`workspaces/${seg(workspace)}/runs/${seg(runId)}`);
  }
}
