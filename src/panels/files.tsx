/** Run details, "Outputs" and "Snapshot" tabs: file lists with downloads. */
import React from 'react';

import { AMLService, IRunFile } from '../api';
import { formatBytes } from '../format';
import { useLiveQuery } from '../live/hooks';
import { DownloadButton, EmptyState, ErrorView, Loading } from './components';
import { useRequest } from './hooks';

function basename(path: string): string {
  return path.split('/').pop() || path;
}

function FileTable(props: {
  label: string;
  files: Array<{ path: string; size: number; sha256: string }>;
  download: (file: { path: string; sha256: string }) => Promise<Blob>;
}): JSX.Element {
  return (
    <div className="jp-aml-TableScroll">
      <table className="jp-aml-Table jp-aml-FileTable" aria-label={props.label}>
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col" className="jp-aml-num">
              Size
            </th>
            <th scope="col">
              <span className="jp-aml-VisuallyHidden">Download</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.files.map(f => (
            <tr key={f.path}>
              <td title={`sha256 ${f.sha256}`}>{f.path}</td>
              <td className="jp-aml-num">{formatBytes(f.size)}</td>
              <td>
                <DownloadButton
                  label={`Download ${f.path}`}
                  filename={basename(f.path)}
                  load={() => props.download(f)}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Files registered for the run: `outputs/` (collected at the end), `logs/`, explicit uploads. */
export function RunOutputs(props: {
  service: AMLService;
  workspace: string;
  runId: string;
}): JSX.Element {
  const { service, workspace, runId } = props;
  const files = useLiveQuery(
    service,
    workspace,
    () => service.listRunFiles(workspace, runId),
    [runId],
    {
      reloadOn: event =>
        (event.type === 'files' && event.run_id === runId) ||
        (event.type === 'run' && event.run.id === runId && event.run.status === 'Completed')
    }
  );
  if (!files.data) {
    return files.error ? (
      <ErrorView error={files.error} onRetry={files.reload} context="Outputs" />
    ) : (
      <Loading label="Loading files…" />
    );
  }
  if (files.data.length === 0) {
    return (
      <EmptyState>
        No files yet. Files a script writes to <code>./outputs</code> are uploaded when it ends;{' '}
        <code>run.upload_file(...)</code> adds others.
      </EmptyState>
    );
  }
  const groups = new Map<string, IRunFile[]>();
  for (const f of files.data) {
    const top = f.path.includes('/') ? f.path.split('/')[0] + '/' : '(top level)';
    groups.set(top, [...(groups.get(top) ?? []), f]);
  }
  return (
    <div className="jp-aml-Files">
      {Array.from(groups.entries()).map(([group, list]) => (
        <section key={group} className="jp-aml-Card" aria-label={`Files in ${group}`}>
          <h3 className="jp-aml-Card-title">
            {group} <span className="jp-aml-Muted">({list.length})</span>
          </h3>
          <FileTable
            label={`Run files in ${group}`}
            files={list}
            download={f => service.download(service.runFileUrlPath(workspace, runId, f.path))}
          />
        </section>
      ))}
    </div>
  );
}

/** The snapshot of the submitted folder. */
export function RunSnapshot(props: {
  service: AMLService;
  workspace: string;
  snapshotId: string | null;
}): JSX.Element {
  const { service, workspace, snapshotId } = props;
  const snapshot = useRequest(
    async () => (snapshotId ? service.getSnapshot(workspace, snapshotId) : null),
    [workspace, snapshotId]
  );
  if (!snapshotId) {
    return (
      <EmptyState>
        This run has no snapshot (interactive runs started from a notebook do not upload a folder).
      </EmptyState>
    );
  }
  if (!snapshot.data) {
    return snapshot.error ? (
      <ErrorView error={snapshot.error} onRetry={snapshot.reload} context="Snapshot" />
    ) : (
      <Loading label="Loading snapshot…" />
    );
  }
  const files = snapshot.data.files ?? [];
  return (
    <div className="jp-aml-Files">
      <div className="jp-aml-Toolbar">
        <span className="jp-aml-Muted">
          {snapshot.data.file_count} files, {formatBytes(snapshot.data.total_size)} · id{' '}
          <code title={snapshotId}>{snapshotId.slice(0, 12)}</code>
        </span>
        <DownloadButton
          label="Download snapshot as zip"
          filename={`snapshot-${snapshotId.slice(0, 12)}.zip`}
          load={() => service.download(service.snapshotZipPath(workspace, snapshotId))}
        >
          Download zip
        </DownloadButton>
      </div>
      <FileTable
        label="Snapshot files"
        files={files}
        download={f => service.download(service.blobPath(workspace, f.sha256))}
      />
    </div>
  );
}
