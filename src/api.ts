/**
 * Typed client of the jupyter-aml REST API (docs/rest-api.md).
 *
 * Payload types come from `api-types.ts`, which `jlpm gen:api` generates from the server's OpenAPI
 * document (itself generated from the pydantic models): no REST type is written twice.
 */
import { ServerConnection } from '@jupyterlab/services';

import type { components } from './api-types';
import { AMLEvents } from './events';
import { queryString, requestAPI, requestBlob } from './request';

export { isTerminal, RUN_STATUSES, TERMINAL_STATUSES } from './statuses';

type Schemas = components['schemas'];

export type IWorkspace = Schemas['Workspace'];
export type IRun = Schemas['Run'];
export type IRunPage = Schemas['RunPage'];
export type RunStatus = Schemas['RunStatus'];
export type IMetricSummary = Schemas['MetricSummary'];
export type IMetricHistory = Schemas['MetricHistory'];
export type ILogLine = Schemas['LogLine'];
export type ILogPage = Schemas['LogPage'];
export type IRunFile = Schemas['RunFile'];
export type ISnapshot = Schemas['Snapshot'];
export type ISnapshotFile = Schemas['SnapshotFile'];
export type IFolderRunCreate = Schemas['FolderRunCreate'];
export type IRunConfig = Schemas['RunConfig'];
export type IEnvironmentSpec = Schemas['EnvironmentSpec'];
export type IGitInfo = Schemas['GitInfo'];
export type IErrorBody = Schemas['ErrorBody'];
/** A dataset version a run read (`input`) or wrote (`output`), under the run's name for it. */
export type ILineageEntry = Schemas['LineageEntry'];
export type IRunInput = Schemas['RunInput'];

export type IExperiment = Schemas['Experiment'];
export type ICompute = Schemas['Compute'];
export type IComputeCreate = Schemas['ComputeCreate'];
export type IComputeUpdate = Schemas['ComputeUpdate'];
export type IComputeNode = Schemas['ComputeNode'];
export type IQueuedRun = Schemas['QueuedRun'];
export type IVmSize = Schemas['VmSize'];
/** Creating, Running, Starting, Stopping, Stopped, Restarting, Failed, Deleting. */
export type ComputeState = NonNullable<ICompute['state']>;
/** What an instance can be asked to do (`POST …/computes/{name}/{verb}`). */
export type ComputeVerb = 'start' | 'stop' | 'restart';

export type IModel = Schemas['Model'];
export type IModelUpdate = Schemas['ModelUpdate'];
export type IWebservice = Schemas['Webservice'];
export type IServiceKeys = Schemas['ServiceKeys'];
export type ITelemetry = Schemas['Telemetry'];
export type ITelemetryPoint = Schemas['TelemetryPoint'];
export type IEndpointTestRequest = Schemas['EndpointTestRequest'];
export type IEndpointTestResult = Schemas['EndpointTestResult'];

/** Pipeline runs (docs/pipelines.md): a parent run whose steps are child runs. */
export type IPipelineRunInfo = Schemas['PipelineRunInfo'];
export type IPipelineStepState = Schemas['PipelineStepState'];
export type IPipelineRunSummary = Schemas['PipelineRunSummary'];
export type IPipelineRunPage = Schemas['PipelineRunPage'];
export type IPipelineGraph = Schemas['PipelineGraph'];
export type IPipelineEdge = Schemas['PipelineEdge'];

export type IRegisteredEnvironment = Schemas['RegisteredEnvironment'];
export type IEnvironmentDefinition = Schemas['EnvironmentDefinition'];
export type IEnvironmentBuild = Schemas['EnvironmentBuild'];

export type IReplicaView = Schemas['ReplicaView'];
export type IOperation = Schemas['Operation'];
export type IServiceError = Schemas['ServiceError'];
export type IRunError = Schemas['RunError'];
export type IDeploymentConfig = Schemas['DeploymentConfigSpec'];
export type IInferenceConfig = Schemas['InferenceConfig'];
export type WebserviceState = IWebservice['state'];

/** Web service states (`Webservice.state`), as in Azure ML v1; a new state fails to compile here. */
export const WEBSERVICE_STATES = Object.keys({
  Transitioning: true,
  Healthy: true,
  Unhealthy: true,
  Failed: true
} satisfies Record<WebserviceState, true>) as ReadonlyArray<WebserviceState>;

export interface IListModelsOptions {
  name?: string;
  /** `key` or `key=value`; every one must match. */
  tag?: string[];
  runId?: string;
  latest?: boolean;
}

/** An image metric's value (a run file under `logs/images/`); a history's `values` hold these for images. */
export type IImageValue = Schemas['ImageValue'];

export type RunSortKey =
  'created_at' | 'start_time' | 'duration' | 'status' | 'number' | `metric:${string}`;
export type RunSort = RunSortKey | `-${RunSortKey}`;

export interface IListRunsOptions {
  experiment?: string;
  status?: string[];
  tag?: string[];
  parentId?: string;
  rootOnly?: boolean;
  sort?: RunSort;
  pageSize?: number;
  pageToken?: string | null;
  /** Metrics returned on each run as `metric_columns` (last, min, max): one request for a metric column. */
  metrics?: string[];
}

const seg = encodeURIComponent;

/** The typed REST client. One instance is shared through the `IAMLService` token. */
export class AMLService {
  constructor(options: { serverSettings?: ServerConnection.ISettings } = {}) {
    this.serverSettings = options.serverSettings ?? ServerConnection.makeSettings();
    this.events = new AMLEvents(this.serverSettings);
  }

  readonly serverSettings: ServerConnection.ISettings;

  /** The shared push channel (runs, log lines, metric points, run files, models, web services). */
  readonly events: AMLEvents;

  /** Low-level escape hatch for routes not wrapped yet. */
  request<T>(path: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(path, init, this.serverSettings);
  }

  /** Raw bytes of a download route (run file, blob, snapshot zip). */
  download(path: string): Promise<Blob> {
    return requestBlob(path, this.serverSettings);
  }

  async listWorkspaces(): Promise<IWorkspace[]> {
    return (await this.request<Schemas['WorkspaceList']>('workspaces')).items;
  }

  createWorkspace(name: string, description = ''): Promise<IWorkspace> {
    return this.request<IWorkspace>('workspaces', {
      method: 'POST',
      body: JSON.stringify({ name, description })
    });
  }

  /** The experiments, archived ones hidden unless `viewType` asks for them (v1's ViewType). */
  async listExperiments(
    workspace: string,
    viewType?: 'ActiveOnly' | 'ArchivedOnly' | 'All'
  ): Promise<IExperiment[]> {
    const query = queryString({ view_type: viewType });
    return (
      await this.request<Schemas['ExperimentList']>(
        `workspaces/${seg(workspace)}/experiments${query}`
      )
    ).items;
  }

  // -- compute targets ------------------------------------------------------------------------------

  /** The configured targets (`origin: "config"`, e.g. local) and the workspace's own computes. */
  async listComputes(workspace: string): Promise<ICompute[]> {
    return (await this.request<Schemas['ComputeList']>(computesPath(workspace))).items;
  }

  /** One compute: settings, state, nodes and the runs waiting for it. */
  getCompute(workspace: string, name: string): Promise<ICompute> {
    return this.request<ICompute>(computePath(workspace, name));
  }

  /** Create a cluster or an instance; it answers at once (202, Creating) and provisions in the background. */
  createCompute(workspace: string, spec: IComputeCreate): Promise<ICompute> {
    return this.request<ICompute>(computesPath(workspace), {
      method: 'POST',
      body: JSON.stringify(spec)
    });
  }

  /** Change a cluster's node counts or idle time (unset fields stay). */
  updateCompute(workspace: string, name: string, update: IComputeUpdate): Promise<ICompute> {
    return this.request<ICompute>(computePath(workspace, name), {
      method: 'PATCH',
      body: JSON.stringify(update)
    });
  }

  /** Delete a compute; 409 while runs are on it unless `force`, which cancels them first. */
  async deleteCompute(workspace: string, name: string, force = false): Promise<void> {
    const query = queryString({ force: force ? 'true' : undefined });
    await this.request<unknown>(`${computePath(workspace, name)}${query}`, { method: 'DELETE' });
  }

  /** Start, stop (409 while runs are on it) or restart an instance. */
  computeAction(workspace: string, name: string, verb: ComputeVerb): Promise<ICompute> {
    return this.request<ICompute>(`${computePath(workspace, name)}/${verb}`, {
      method: 'POST',
      body: '{}'
    });
  }

  /** The VM sizes a compute may have (v1's names), with the CPUs and memory each gives a node. */
  async listVmSizes(workspace: string): Promise<IVmSize[]> {
    return (await this.request<Schemas['VmSizeList']>(`workspaces/${seg(workspace)}/vm-sizes`))
      .items;
  }

  listRuns(workspace: string, options: IListRunsOptions = {}): Promise<IRunPage> {
    const query = queryString({
      experiment: options.experiment,
      status: options.status,
      tag: options.tag,
      parent_id: options.parentId,
      root_only: options.rootOnly ? 'true' : undefined,
      sort: options.sort,
      page_size: options.pageSize,
      page_token: options.pageToken,
      metrics: options.metrics?.length ? options.metrics.join(',') : undefined
    });
    return this.request<IRunPage>(`${runsPath(workspace)}${query}`);
  }

  getRun(workspace: string, runId: string): Promise<IRun> {
    return this.request<IRun>(runPath(workspace, runId));
  }

  cancelRun(workspace: string, runId: string): Promise<IRun> {
    return this.request<IRun>(`${runPath(workspace, runId)}/cancel`, {
      method: 'POST',
      body: '{}'
    });
  }

  async listChildren(workspace: string, runId: string, recursive = true): Promise<IRun[]> {
    const query = queryString({ recursive: recursive ? 'true' : undefined });
    return (await this.request<Schemas['RunList']>(`${runPath(workspace, runId)}/children${query}`))
      .items;
  }

  /** The dataset versions a run read and wrote (lineage, run -> datasets). */
  async getRunLineage(workspace: string, runId: string): Promise<ILineageEntry[]> {
    return (await this.request<Schemas['LineageList']>(`${runPath(workspace, runId)}/lineage`))
      .items;
  }

  /** A run's input datasets: each version and how the script gets it (mount, download, direct). */
  async getRunInputs(workspace: string, runId: string): Promise<IRunInput[]> {
    return (await this.request<Schemas['RunInputList']>(`${runPath(workspace, runId)}/inputs`))
      .items;
  }

  /** The runs that read or wrote any version of a dataset (lineage, dataset -> runs). */
  async getDatasetLineage(workspace: string, name: string): Promise<ILineageEntry[]> {
    return (
      await this.request<Schemas['LineageList']>(
        `workspaces/${seg(workspace)}/datasets/${seg(name)}/lineage`
      )
    ).items;
  }

  async listMetrics(workspace: string, runId: string): Promise<IMetricSummary[]> {
    return (
      await this.request<Schemas['MetricSummaryList']>(`${runPath(workspace, runId)}/metrics`)
    ).items;
  }

  getMetric(
    workspace: string,
    runId: string,
    name: string,
    maxPoints?: number
  ): Promise<IMetricHistory> {
    const query = queryString({ max_points: maxPoints });
    return this.request<IMetricHistory>(
      `${runPath(workspace, runId)}/metrics/${seg(name)}${query}`
    );
  }

  getLogs(
    workspace: string,
    runId: string,
    options: { after?: number; limit?: number; stream?: string } = {}
  ): Promise<ILogPage> {
    const query = queryString({
      after: options.after,
      limit: options.limit,
      stream: options.stream
    });
    return this.request<ILogPage>(`${runPath(workspace, runId)}/logs${query}`);
  }

  async listRunFiles(workspace: string, runId: string, prefix?: string): Promise<IRunFile[]> {
    const query = queryString({ prefix });
    return (
      await this.request<Schemas['RunFileList']>(`${runPath(workspace, runId)}/files${query}`)
    ).items;
  }

  runFileUrlPath(workspace: string, runId: string, path: string): string {
    return `${runPath(workspace, runId)}/files/content${queryString({ path })}`;
  }

  getSnapshot(workspace: string, snapshotId: string): Promise<ISnapshot> {
    return this.request<ISnapshot>(`workspaces/${seg(workspace)}/snapshots/${seg(snapshotId)}`);
  }

  snapshotZipPath(workspace: string, snapshotId: string): string {
    return `workspaces/${seg(workspace)}/snapshots/${seg(snapshotId)}/zip`;
  }

  blobPath(workspace: string, sha256: string): string {
    return `workspaces/${seg(workspace)}/blobs/${seg(sha256)}`;
  }

  // -- model registry ------------------------------------------------------------------------------

  /** Every version of every model (newest version first within a name), or those matching. */
  async listModels(workspace: string, options: IListModelsOptions = {}): Promise<IModel[]> {
    const query = queryString({
      name: options.name,
      tag: options.tag,
      run_id: options.runId,
      latest: options.latest ? 'true' : undefined
    });
    return (await this.request<Schemas['ModelList']>(`${modelsPath(workspace)}${query}`)).items;
  }

  getModel(workspace: string, name: string, version: number): Promise<IModel> {
    return this.request<IModel>(modelVersionPath(workspace, name, version));
  }

  /** Set tags (`tags`), remove tags (`remove_tags`), add properties, set the description. */
  updateModel(
    workspace: string,
    name: string,
    version: number,
    update: IModelUpdate
  ): Promise<IModel> {
    return this.request<IModel>(modelVersionPath(workspace, name, version), {
      method: 'PATCH',
      body: JSON.stringify(update)
    });
  }

  /** Delete one version; the server refuses (409 Conflict) while a web service uses it. */
  async deleteModel(workspace: string, name: string, version: number): Promise<void> {
    await this.request<unknown>(modelVersionPath(workspace, name, version), { method: 'DELETE' });
  }

  async listModelFiles(workspace: string, name: string, version: number): Promise<IRunFile[]> {
    return (
      await this.request<Schemas['ModelFileList']>(
        `${modelVersionPath(workspace, name, version)}/files`
      )
    ).items;
  }

  // -- web services (real-time endpoints) -----------------------------------------------------------

  async listWebservices(workspace: string): Promise<IWebservice[]> {
    return (await this.request<Schemas['WebserviceList']>(endpointsPath(workspace))).items;
  }

  getWebservice(workspace: string, name: string): Promise<IWebservice> {
    return this.request<IWebservice>(endpointPath(workspace, name));
  }

  /** Delete a web service: its replicas drain and stop. */
  async deleteWebservice(workspace: string, name: string): Promise<void> {
    await this.request<unknown>(endpointPath(workspace, name), { method: 'DELETE' });
  }

  async getWebserviceLogs(workspace: string, name: string, lines = 1000): Promise<string[]> {
    const query = queryString({ lines });
    return (
      await this.request<Schemas['ServiceLogs']>(`${endpointPath(workspace, name)}/logs${query}`)
    ).lines;
  }

  getWebserviceKeys(workspace: string, name: string): Promise<IServiceKeys> {
    return this.request<IServiceKeys>(`${endpointPath(workspace, name)}/keys`);
  }

  /** A new random primary or secondary key; the old one stops working at once. */
  regenerateWebserviceKey(
    workspace: string,
    name: string,
    keyType: 'Primary' | 'Secondary'
  ): Promise<IServiceKeys> {
    return this.request<IServiceKeys>(`${endpointPath(workspace, name)}/keys/regenerate`, {
      method: 'POST',
      body: JSON.stringify({ key_type: keyType })
    });
  }

  /** Requests, errors and latency percentiles per minute over the last `minutes`. */
  getWebserviceTelemetry(workspace: string, name: string, minutes = 60): Promise<ITelemetry> {
    const query = queryString({ minutes });
    return this.request<ITelemetry>(`${endpointPath(workspace, name)}/telemetry${query}`);
  }

  /** The swagger (OpenAPI 2.0) document of the revision taking traffic (no schema in OpenAPI). */
  getWebserviceSwagger(workspace: string, name: string): Promise<Record<string, unknown>> {
    return this.request<Record<string, unknown>>(`${endpointPath(workspace, name)}/swagger`);
  }

  /**
   * Send `body` to the service's scoring URI through the Jupyter server (the browser cannot call
   * another port). The service's own errors come back as data: check `status`.
   */
  testWebservice(
    workspace: string,
    name: string,
    body: string,
    key: IEndpointTestRequest['key'] = 'primary'
  ): Promise<IEndpointTestResult> {
    const request: IEndpointTestRequest = { body, key };
    return this.request<IEndpointTestResult>(`${endpointPath(workspace, name)}/test`, {
      method: 'POST',
      body: JSON.stringify(request)
    });
  }

  // -- environment registry ------------------------------------------------------------------------

  /** Every version of every environment (by name, newest version first), or those matching. */
  async listEnvironments(
    workspace: string,
    options: { name?: string; latest?: boolean } = {}
  ): Promise<IRegisteredEnvironment[]> {
    const query = queryString({
      name: options.name,
      latest: options.latest ? 'true' : undefined
    });
    return (
      await this.request<Schemas['EnvironmentList']>(`${environmentsPath(workspace)}${query}`)
    ).items;
  }

  /** One version of an environment, or its latest version without `version`. */
  getEnvironment(
    workspace: string,
    name: string,
    version?: number
  ): Promise<IRegisteredEnvironment> {
    const path =
      version === undefined
        ? environmentPath(workspace, name)
        : `${environmentPath(workspace, name)}/versions/${seg(String(version))}`;
    return this.request<IRegisteredEnvironment>(path);
  }

  /** Register a definition; an unchanged one returns the latest version instead of a new one. */
  registerEnvironment(
    workspace: string,
    definition: IEnvironmentDefinition
  ): Promise<IRegisteredEnvironment> {
    return this.request<IRegisteredEnvironment>(environmentsPath(workspace), {
      method: 'POST',
      body: JSON.stringify(definition)
    });
  }

  /**
   * Build the version's cached venv now (or find it built), as runs and local web services would.
   * Can take minutes; a failing build is a 400 whose `details.log` holds the installer's output.
   */
  buildEnvironment(workspace: string, name: string, version: number): Promise<IEnvironmentBuild> {
    return this.request<IEnvironmentBuild>(
      `${environmentPath(workspace, name)}/versions/${seg(String(version))}/build`,
      { method: 'POST', body: '{}' }
    );
  }

  /** Submit a folder of the Jupyter root as a script run. */
  submitFolder(workspace: string, spec: IFolderRunCreate): Promise<IRun> {
    return this.request<IRun>(`${runsPath(workspace)}/from-folder`, {
      method: 'POST',
      body: JSON.stringify(spec)
    });
  }

  /** The workspace's pipeline runs, newest first, each with its step counts. */
  listPipelineRuns(
    workspace: string,
    options: { pageSize?: number; pageToken?: string | null } = {}
  ): Promise<IPipelineRunPage> {
    const query = queryString({ page_size: options.pageSize, page_token: options.pageToken });
    return this.request<IPipelineRunPage>(`${pipelineRunsPath(workspace)}${query}`);
  }

  /** A pipeline run: its parent run and each step's state, run and reuse. */
  getPipelineRun(workspace: string, runId: string): Promise<IPipelineRunInfo> {
    return this.request<IPipelineRunInfo>(`${pipelineRunsPath(workspace)}/${seg(runId)}`);
  }

  /** A pipeline run's steps and the edges between them (fixed at submit). */
  getPipelineGraph(workspace: string, runId: string): Promise<IPipelineGraph> {
    return this.request<IPipelineGraph>(`${pipelineRunsPath(workspace)}/${seg(runId)}/graph`);
  }
}

function pipelineRunsPath(workspace: string): string {
  return `workspaces/${seg(workspace)}/pipelines/runs`;
}

function runsPath(workspace: string): string {
  return `workspaces/${seg(workspace)}/runs`;
}

function runPath(workspace: string, runId: string): string {
  return `${runsPath(workspace)}/${seg(runId)}`;
}

function modelsPath(workspace: string): string {
  return `workspaces/${seg(workspace)}/models`;
}

function modelVersionPath(workspace: string, name: string, version: number): string {
  return `${modelsPath(workspace)}/${seg(name)}/versions/${seg(String(version))}`;
}

function endpointsPath(workspace: string): string {
  return `workspaces/${seg(workspace)}/endpoints`;
}

function endpointPath(workspace: string, name: string): string {
  return `${endpointsPath(workspace)}/${seg(name)}`;
}

function computesPath(workspace: string): string {
  return `workspaces/${seg(workspace)}/computes`;
}

function computePath(workspace: string, name: string): string {
  return `${computesPath(workspace)}/${seg(name)}`;
}

function environmentsPath(workspace: string): string {
  return `workspaces/${seg(workspace)}/environments`;
}

function environmentPath(workspace: string, name: string): string {
  return `${environmentsPath(workspace)}/${seg(name)}`;
}
