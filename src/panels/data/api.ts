/**
 * The datastore and dataset routes (server/routes/datastores.py, datasets.py) over the shared REST
 * client. Payload types are aliases of the generated `api-types.ts`, so a change of the REST contract
 * breaks the build instead of the page. No function here reads a credential: the `location` route
 * (which hands out keys) is deliberately not wrapped, and a registration's key travels only in the
 * POST body, never in a URL.
 */
import { AMLService } from '../../api';
import type { components } from '../../api-types';
import { queryString } from '../../request';

type Schemas = components['schemas'];

export type IDatastore = Schemas['Datastore'];
export type IDatastoreList = Schemas['DatastoreList'];
export type IDatastoreCreate = Schemas['DatastoreCreate'];
export type ILocalDatastoreCreate = Schemas['LocalDatastoreCreate'];
export type IS3DatastoreCreate = Schemas['S3DatastoreCreate'];
export type IAzureBlobDatastoreCreate = Schemas['AzureBlobDatastoreCreate'];
export type IDatastoreFile = Schemas['DatastoreFile'];

export type IDataset = Schemas['Dataset'];
export type IDatasetPreview = Schemas['DatasetPreview'];
export type IDatasetProfile = Schemas['DatasetProfile'];
export type IColumnProfile = Schemas['ColumnProfile'];

const seg = encodeURIComponent;

function datastorePath(workspace: string, name: string): string {
  return `workspaces/${seg(workspace)}/datastores/${seg(name)}`;
}

function datasetPath(workspace: string, name: string): string {
  return `workspaces/${seg(workspace)}/datasets/${seg(name)}`;
}

function versionPath(workspace: string, name: string, version: number): string {
  return `${datasetPath(workspace, name)}/versions/${seg(String(version))}`;
}

// -- datastores -----------------------------------------------------------------------------------

/** Every datastore (workspaceblobstore is made on first use) and the default's name. */
export function listDatastores(service: AMLService, workspace: string): Promise<IDatastoreList> {
  return service.request<IDatastoreList>(`workspaces/${seg(workspace)}/datastores`);
}

/**
 * Register a datastore. The service lists the store first, so wrong credentials register nothing;
 * its refusal (naming the store, never the key) is the thrown AMLRequestError.
 */
export function registerDatastore(
  service: AMLService,
  workspace: string,
  spec: IDatastoreCreate
): Promise<IDatastore> {
  return service.request<IDatastore>(`workspaces/${seg(workspace)}/datastores`, {
    method: 'POST',
    body: JSON.stringify(spec)
  });
}

export function setDefaultDatastore(
  service: AMLService,
  workspace: string,
  name: string
): Promise<IDatastore> {
  return service.request<IDatastore>(`${datastorePath(workspace, name)}/default`, {
    method: 'POST',
    body: '{}'
  });
}

/** Unregister: the record and its credentials go, the files stay. */
export async function unregisterDatastore(
  service: AMLService,
  workspace: string,
  name: string
): Promise<void> {
  await service.request<unknown>(datastorePath(workspace, name), { method: 'DELETE' });
}

/** Every file under `folder` ('' = the whole datastore); the route answers 404 when there is none. */
export async function listDatastoreFiles(
  service: AMLService,
  workspace: string,
  name: string,
  folder: string
): Promise<IDatastoreFile[]> {
  const query = queryString({ pattern: folder });
  return (
    await service.request<Schemas['DatastoreFileList']>(
      `${datastorePath(workspace, name)}/files${query}`
    )
  ).items;
}

export function downloadDatastoreFile(
  service: AMLService,
  workspace: string,
  name: string,
  path: string
): Promise<Blob> {
  return service.download(`${datastorePath(workspace, name)}/file${queryString({ path })}`);
}

// -- datasets -------------------------------------------------------------------------------------

/** The latest version of every registered dataset. */
export async function listDatasets(service: AMLService, workspace: string): Promise<IDataset[]> {
  return (await service.request<Schemas['DatasetList']>(`workspaces/${seg(workspace)}/datasets`))
    .items;
}

/** Every version of a dataset, newest first. */
export async function listDatasetVersions(
  service: AMLService,
  workspace: string,
  name: string
): Promise<IDataset[]> {
  return (await service.request<Schemas['DatasetList']>(`${datasetPath(workspace, name)}/versions`))
    .items;
}

/** The first rows of a version, read by the service (a file dataset: its first files). */
export function previewDataset(
  service: AMLService,
  workspace: string,
  name: string,
  version: number,
  rows = 20
): Promise<IDatasetPreview> {
  return service.request<IDatasetPreview>(
    `${versionPath(workspace, name, version)}/preview${queryString({ rows })}`
  );
}

/** A tabular version's profile (computed once by the service, then kept). */
export function profileDataset(
  service: AMLService,
  workspace: string,
  name: string,
  version: number
): Promise<IDatasetProfile> {
  return service.request<IDatasetProfile>(`${versionPath(workspace, name, version)}/profile`);
}

/** Unregister every version (v1's unregister_all_versions): the data stays where it is. */
export async function unregisterDataset(
  service: AMLService,
  workspace: string,
  name: string
): Promise<void> {
  await service.request<unknown>(datasetPath(workspace, name), { method: 'DELETE' });
}
