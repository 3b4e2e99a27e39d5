/**
 * A datastore's files, browsable one folder at a time: the service lists every file under the
 * folder (`GET …/datastores/{name}/files?pattern=folder`), and this view groups them into the
 * folder's subfolders (with their file counts and sizes) and its own files, each downloadable
 * through the service. A folder with no files is an empty state, not an error (the route answers
 * 404 "matches nothing" for it, which is right for a dataset's glob but not for browsing).
 */
import React, { useState } from 'react';

import type { AMLService } from '../../api';
import { formatBytes } from '../../format';
import { AMLRequestError } from '../../request';
import { DownloadButton, EmptyState, ErrorView, Loading } from '../components';
import { useRequest } from '../hooks';
import { downloadDatastoreFile, IDatastoreFile, listDatastoreFiles } from './api';

interface IFolderView {
  folders: { name: string; files: number; size: number }[];
  files: IDatastoreFile[];
}

/** The direct subfolders and files of `folder`, from every file under it. */
export function folderView(files: IDatastoreFile[], folder: string): IFolderView {
  const prefix = folder ? `${folder}/` : '';
  const folders = new Map<string, { files: number; size: number }>();
  const here: IDatastoreFile[] = [];
  for (const file of files) {
    if (!file.path.startsWith(prefix)) {
      continue;
    }
    const rest = file.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) {
      here.push(file);
    } else {
      const name = rest.slice(0, slash);
      const entry = folders.get(name) ?? { files: 0, size: 0 };
      entry.files += 1;
      entry.size += file.size;
      folders.set(name, entry);
    }
  }
  return {
    folders: Array.from(folders.entries())
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, entry]) => ({ name, ...entry })),
    files: here
  };
}

/** Whether the route's error only says that the folder holds no file. */
function isNothingThere(error: unknown): boolean {
  return (
    error instanceof AMLRequestError &&
    error.status === 404 &&
    error.message.includes('matches nothing')
  );
}

function Breadcrumbs(props: {
  datastore: string;
  folder: string;
  onOpen: (folder: string) => void;
}): JSX.Element {
  const parts = props.folder ? props.folder.split('/') : [];
  return (
    <nav className="jp-aml-DataFiles-crumbs" aria-label={`Folder in datastore ${props.datastore}`}>
      <button
        type="button"
        className="jp-aml-LinkButton"
        aria-label={`Root of datastore ${props.datastore}`}
        disabled={parts.length === 0}
        onClick={() => props.onOpen('')}
      >
        {props.datastore}
      </button>
      {parts.map((part, i) => {
        const path = parts.slice(0, i + 1).join('/');
        return (
          <React.Fragment key={path}>
            <span aria-hidden="true">/</span>
            <button
              type="button"
              className="jp-aml-LinkButton"
              disabled={i === parts.length - 1}
              onClick={() => props.onOpen(path)}
            >
              {part}
            </button>
          </React.Fragment>
        );
      })}
    </nav>
  );
}

export function DatastoreFiles(props: {
  service: AMLService;
  workspace: string;
  datastore: string;
  refreshKey: number;
}): JSX.Element {
  const { service, workspace, datastore, refreshKey } = props;
  const [folder, setFolder] = useState('');
  const listing = useRequest(
    () => listDatastoreFiles(service, workspace, datastore, folder),
    [service, workspace, datastore, folder, refreshKey]
  );
  const empty = listing.error !== undefined && isNothingThere(listing.error);

  let body: React.ReactNode;
  if (empty) {
    body = (
      <EmptyState>
        {folder ? 'No files in this folder.' : 'No files in this datastore yet.'} Upload some with{' '}
        <code>ds.upload(src_dir, target_path)</code>.
      </EmptyState>
    );
  } else if (listing.error !== undefined) {
    body = <ErrorView error={listing.error} onRetry={listing.reload} context="Files" />;
  } else if (listing.data === undefined) {
    body = <Loading label="Loading files…" />;
  } else {
    const view = folderView(listing.data, folder);
    const prefix = folder ? `${folder}/` : '';
    body = (
      <table className="jp-aml-Table jp-aml-DataFiles-table" aria-label={`Files of ${datastore}`}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Size</th>
            <th scope="col">
              <span className="jp-aml-VisuallyHidden">Download</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {view.folders.map(f => (
            <tr key={`d:${f.name}`}>
              <td>
                <button
                  type="button"
                  className="jp-aml-LinkButton jp-aml-DataFiles-folder"
                  aria-label={`Open folder ${f.name}`}
                  onClick={() => setFolder(prefix + f.name)}
                >
                  {f.name}/
                </button>
              </td>
              <td className="jp-aml-Muted" title={`${f.files} file${f.files === 1 ? '' : 's'}`}>
                {formatBytes(f.size)}
              </td>
              <td className="jp-aml-Muted">
                {f.files} file{f.files === 1 ? '' : 's'}
              </td>
            </tr>
          ))}
          {view.files.map(f => {
            const name = f.path.slice(prefix.length);
            return (
              <tr key={`f:${f.path}`}>
                <td>
                  <code className="jp-aml-DataFiles-name" title={f.path}>
                    {name}
                  </code>
                </td>
                <td>{formatBytes(f.size)}</td>
                <td>
                  <DownloadButton
                    load={() => downloadDatastoreFile(service, workspace, datastore, f.path)}
                    filename={name}
                    label={`Download ${f.path}`}
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    );
  }
  return (
    <div className="jp-aml-DataFiles" aria-busy={listing.loading}>
      <Breadcrumbs datastore={datastore} folder={folder} onOpen={setFolder} />
      <div className="jp-aml-TableScroll">{body}</div>
    </div>
  );
}
