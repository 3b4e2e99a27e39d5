/**
 * What runs where on a compute: a bar of node chips (one per node, empty slots up to the maximum), the
 * nodes with their runs, and the queue of runs waiting with the reason each waits.
 */
import React from 'react';

import type { ICompute, IComputeNode, IQueuedRun } from '../../api';
import { nodeSummary, NODE_STATES, scaleText } from './format';

/** Open a run's page (the sidebar's action); without it run ids are plain text. */
export type OpenRun = ((workspace: string, runId: string) => void) | undefined;

export function RunLink(props: { workspace: string; runId: string; openRun: OpenRun }) {
  const { workspace, runId, openRun } = props;
  if (!openRun) {
    return (
      <code className="jp-aml-ComputeRun" title={runId}>
        {runId}
      </code>
    );
  }
  return (
    <button
      type="button"
      className="jp-aml-LinkButton jp-aml-ComputeRun"
      aria-label={`Open run ${runId}`}
      title={`Open run ${runId}`}
      onClick={() => openRun(workspace, runId)}
    >
      {runId}
    </button>
  );
}

/** Busy nodes first (then starting, idle, leaving, unusable), by name within a state. */
function sortedNodes(nodes: IComputeNode[]): IComputeNode[] {
  return [...nodes].sort(
    (a, b) =>
      NODE_STATES.indexOf(a.state) - NODE_STATES.indexOf(b.state) ||
      a.name.localeCompare(b.name, undefined, { numeric: true })
  );
}

/** Nodes as chips, busy first, then empty slots up to `max_nodes`; the counts in words beside it. */
export function NodeBar(props: { compute: ICompute }): JSX.Element {
  const { compute } = props;
  const nodes = sortedNodes(compute.nodes ?? []);
  // Never draw hundreds of slots: a large cluster shows its nodes and a count.
  const max = Math.min(compute.max_nodes ?? nodes.length, 24);
  const empty = Math.max(0, max - nodes.length);
  const summary = nodeSummary(nodes);
  return (
    <div className="jp-aml-NodeBar-row">
      <div
        className="jp-aml-NodeBar"
        role="img"
        aria-label={`Nodes of ${compute.name}: ${summary}`}
        data-nodes={nodes.length}
        data-busy={nodes.filter(n => n.state === 'busy').length}
      >
        {nodes.map(node => (
          <span
            key={node.name}
            className={`jp-aml-NodeChip jp-aml-node-${node.state}`}
            title={`${node.name}: ${node.state}${
              node.run_ids?.length ? ` (${node.run_ids.join(', ')})` : ''
            }`}
          />
        ))}
        {Array.from({ length: empty }, (_, i) => (
          <span key={`slot-${i}`} className="jp-aml-NodeChip jp-aml-node-slot" />
        ))}
      </div>
      <span className="jp-aml-NodeBar-scale" title="Nodes now / minimum–maximum">
        {scaleText(compute)}
      </span>
      <span className="jp-aml-NodeBar-summary">{nodes.length ? summary : ''}</span>
    </div>
  );
}

/** Each node, its state and the runs on it. */
export function NodesTable(props: {
  compute: ICompute;
  workspace: string;
  openRun: OpenRun;
}): JSX.Element {
  const { compute, workspace, openRun } = props;
  const nodes = sortedNodes(compute.nodes ?? []);
  if (nodes.length === 0) {
    return (
      <div className="jp-aml-Muted">
        No nodes
        {compute.type === 'AmlCompute' ? ': the cluster scales up when runs are queued.' : '.'}
      </div>
    );
  }
  return (
    <table className="jp-aml-Table jp-aml-ComputeNodes" aria-label={`Nodes of ${compute.name}`}>
      <thead>
        <tr>
          <th scope="col">Node</th>
          <th scope="col">State</th>
          <th scope="col">Runs</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map(node => (
          <tr key={node.name} data-node-state={node.state}>
            <td className="jp-aml-ComputeNodes-name" title={node.name}>
              {node.name}
            </td>
            <td>
              <span className={`jp-aml-NodeState jp-aml-node-${node.state}`}>
                <span className="jp-aml-NodeState-dot" aria-hidden="true" />
                {node.state}
              </span>
            </td>
            <td>
              {(node.run_ids ?? []).length === 0 ? (
                <span className="jp-aml-Muted">—</span>
              ) : (
                (node.run_ids ?? []).map(id => (
                  <RunLink key={id} workspace={workspace} runId={id} openRun={openRun} />
                ))
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The runs waiting for the compute, first in line first, each with why it waits. */
export function QueueList(props: { compute: ICompute; openRun: OpenRun }): JSX.Element {
  const { compute, openRun } = props;
  const queue: IQueuedRun[] = compute.queue ?? [];
  if (queue.length === 0) {
    return <div className="jp-aml-Muted">No runs waiting.</div>;
  }
  return (
    <ol className="jp-aml-ComputeQueue" aria-label={`Queue of ${compute.name}`}>
      {queue.map(entry => (
        <li key={entry.run_id} className="jp-aml-ComputeQueue-item">
          <span className="jp-aml-ComputeQueue-position">#{entry.position}</span>
          <RunLink workspace={entry.workspace} runId={entry.run_id} openRun={openRun} />
          <span className="jp-aml-ComputeQueue-reason">{entry.reason}</span>
        </li>
      ))}
    </ol>
  );
}
