/**
 * A dataset's Lineage tab: the runs that read (`input`) or wrote (`output`) each of its versions, as
 * the service recorded them when the run started (its `as_named_input(...)` inputs) and when its
 * `OutputFileDatasetConfig(...).register_on_complete(...)` outputs were registered. Each run opens its
 * page the way the other sidebar sections open runs.
 */
import React from 'react';

import type { AMLService, ILineageEntry } from '../../api';
import { runShortName } from '../../format';
import { EmptyState, ErrorView, Loading } from '../components';
import { useRequest } from '../hooks';

/** A run's number and display name (read once per run), its id until then or when it cannot be read. */
function RunName(props: { service: AMLService; workspace: string; runId: string }): JSX.Element {
  const run = useRequest(
    () => props.service.getRun(props.workspace, props.runId),
    [props.service, props.workspace, props.runId]
  );
  return <>{run.data ? runShortName(run.data) : props.runId}</>;
}

export function DatasetLineageTable(props: {
  service: AMLService;
  workspace: string;
  name: string;
  /** The version shown above the tabs: its rows are marked. */
  selected: number;
  refreshKey: number;
  openRun?: (workspace: string, runId: string) => void;
}): JSX.Element {
  const { service, workspace, name, openRun } = props;
  const lineage = useRequest(
    () => service.getDatasetLineage(workspace, name),
    [service, workspace, name, props.refreshKey]
  );
  if (lineage.data === undefined) {
    return lineage.error !== undefined ? (
      <ErrorView error={lineage.error} onRetry={lineage.reload} context="Lineage" />
    ) : (
      <Loading label="Loading lineage…" />
    );
  }
  if (lineage.data.length === 0) {
    return (
      <EmptyState>
        No run has read or written {name} yet. A run records its lineage when its script gets the
        dataset through <code>ds.as_named_input(&quot;{name}&quot;)</code> (<code>.as_mount()</code>
        , <code>.as_download()</code>, or directly), or registers it with{' '}
        <code>OutputFileDatasetConfig(...).register_on_complete(&quot;{name}&quot;)</code>.
      </EmptyState>
    );
  }
  const rows: ILineageEntry[] = [...lineage.data].sort(
    (a, b) => b.dataset_version - a.dataset_version || a.direction.localeCompare(b.direction)
  );
  return (
    <div className="jp-aml-TableScroll">
      <table
        className="jp-aml-Table jp-aml-DataTable jp-aml-LineageTable"
        aria-label={`Lineage of dataset ${name}`}
      >
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Run</th>
            <th scope="col">Direction</th>
            <th scope="col">Name in the run</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(e => (
            <tr
              key={`${e.run_id}:${e.direction}:${e.name}:${e.dataset_version}`}
              aria-selected={e.dataset_version === props.selected}
              data-run-id={e.run_id}
            >
              <td>v{e.dataset_version}</td>
              <td>
                {openRun ? (
                  <button
                    type="button"
                    className="jp-aml-LinkButton"
                    title={`Open run ${e.run_id}`}
                    aria-label={`Open run ${e.run_id}`}
                    onClick={() => openRun(workspace, e.run_id)}
                  >
                    <RunName service={service} workspace={workspace} runId={e.run_id} />
                  </button>
                ) : (
                  <RunName service={service} workspace={workspace} runId={e.run_id} />
                )}
              </td>
              <td>
                <span
                  className="jp-aml-Tag"
                  title={e.direction === 'input' ? 'The run read this version' : 'The run wrote it'}
                >
                  {e.direction === 'input' ? 'input (read)' : 'output (written)'}
                </span>
              </td>
              <td>
                <code>{e.name}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
