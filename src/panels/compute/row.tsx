/**
 * One compute in the Compute section: a head (name, state, type and size, and for a cluster its nodes
 * as chips with "now / min–max"), the error of a Failed compute, and, expanded, its settings, nodes
 * with their runs, the queue with each run's reason, and its actions.
 */
import React from 'react';

import type { AMLService, ICompute } from '../../api';
import { StatusBadge } from '../components';
import { ComputeActions } from './actions';
import {
  isCluster,
  isManaged,
  isTransitional,
  plural,
  runsText,
  secondsText,
  sizeText
} from './format';
import { NodeBar, NodesTable, OpenRun, QueueList } from './nodes';

function Settings(props: { compute: ICompute }): JSX.Element {
  const { compute } = props;
  const rows: Array<[string, React.ReactNode]> = [['Type', compute.type]];
  const size = sizeText(compute);
  if (size) {
    rows.push(['Size', size]);
  }
  if (isCluster(compute)) {
    rows.push(['Nodes', `${compute.min_nodes ?? 0} to ${compute.max_nodes ?? 0}`]);
    if (typeof compute.idle_seconds_before_scaledown === 'number') {
      rows.push(['Scale down after', `${secondsText(compute.idle_seconds_before_scaledown)} idle`]);
    }
    if (compute.scheduler_address) {
      rows.push(['Dask scheduler', <code key="s">{compute.scheduler_address}</code>]);
    }
  } else {
    rows.push(['Runs at once', String(compute.max_concurrent_runs)]);
  }
  if (compute.type === 'ComputeInstance') {
    const minutes = compute.idle_time_before_shutdown_minutes;
    rows.push(['Shut down after', minutes ? `${minutes} min idle` : 'never (stop it yourself)']);
    if (compute.image) {
      rows.push(['Image', <code key="i">{compute.image}</code>]);
    }
  }
  if (compute.created_by) {
    const at = compute.created_at ? ` on ${new Date(compute.created_at).toLocaleString()}` : '';
    rows.push(['Created', `by ${compute.created_by}${at}`]);
  }
  if (!isManaged(compute)) {
    rows.push(['Origin', 'configured for the server (c.AMLExtension.computes): not changed here']);
  }
  return (
    <table className="jp-aml-Table jp-aml-KeyValue" aria-label={`Settings of ${compute.name}`}>
      <tbody>
        {rows.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Details(props: {
  service: AMLService;
  workspace: string;
  compute: ICompute;
  openRun: OpenRun;
  onChanged: () => void;
}): JSX.Element {
  const { compute, workspace, openRun } = props;
  const queued = compute.queue ?? [];
  return (
    <div className="jp-aml-ComputeDetails" role="group" aria-label={`Details of ${compute.name}`}>
      <Settings compute={compute} />
      <h4 className="jp-aml-ComputeDetails-heading">
        Nodes <span className="jp-aml-Muted">({(compute.nodes ?? []).length})</span>
      </h4>
      <NodesTable compute={compute} workspace={workspace} openRun={openRun} />
      <h4 className="jp-aml-ComputeDetails-heading">
        Queue <span className="jp-aml-Muted">({queued.length} waiting)</span>
      </h4>
      <QueueList compute={compute} openRun={openRun} />
      {isManaged(compute) && (
        <ComputeActions
          service={props.service}
          workspace={workspace}
          compute={compute}
          onChanged={props.onChanged}
        />
      )}
    </div>
  );
}

export function ComputeRow(props: {
  service: AMLService;
  workspace: string;
  compute: ICompute;
  isDefault: boolean;
  expanded: boolean;
  onToggle: () => void;
  openRun: OpenRun;
  onChanged: () => void;
}): JSX.Element {
  const { compute, expanded } = props;
  const state = compute.state ?? 'Running';
  const queued = compute.queue ?? [];
  const size = sizeText(compute);
  return (
    <li
      className="jp-aml-ListItem jp-aml-ComputeRow"
      aria-label={`Compute ${compute.name}`}
      data-compute={compute.name}
      data-state={state}
      data-type={compute.type}
    >
      <button
        type="button"
        className="jp-aml-ListItem-toggle jp-aml-ComputeRow-toggle"
        aria-expanded={expanded}
        aria-label={`Compute ${compute.name}`}
        onClick={props.onToggle}
      >
        <span className="jp-aml-Caret" aria-hidden="true" data-open={expanded} />
        <span className="jp-aml-ListItem-name">{compute.name}</span>
        {props.isDefault && (
          <span className="jp-aml-Tag" title="Default compute (settings: defaultCompute)">
            default
          </span>
        )}
        <span
          className={`jp-aml-ComputeState${isTransitional(state) ? ' jp-mod-transitional' : ''}`}
        >
          <StatusBadge status={state} />
        </span>
      </button>
      <div className="jp-aml-ComputeRow-body">
        <div className="jp-aml-ListItem-meta">
          {compute.type}
          {size ? ` · ${size}` : ''}
          {!isCluster(compute) ? ` · ${runsText(compute)}` : ''}
        </div>
        {isCluster(compute) && <NodeBar compute={compute} />}
        {queued.length > 0 && (
          <div className="jp-aml-ComputeRow-queue" title={queued[0].reason}>
            <strong>{plural(queued.length, 'run')} queued</strong>: {queued[0].reason}
          </div>
        )}
        {state === 'Failed' && (
          <div className="jp-aml-Error jp-aml-ComputeRow-error" role="alert">
            {compute.error || 'The compute failed (no reason given).'}
          </div>
        )}
      </div>
      {expanded && (
        <Details
          service={props.service}
          workspace={props.workspace}
          compute={compute}
          openRun={props.openRun}
          onChanged={props.onChanged}
        />
      )}
    </li>
  );
}
