/**
 * Run details, "Child runs" tab, live: a sortable table of the children with the metric columns the
 * user picks (./children-table.tsx), a HyperDrive sweep's parallel coordinates, and the tree of
 * descendants (children of children too).
 */
import React from 'react';

import { AMLService, IRun } from '../api';
import { formatDuration, runDurationSeconds, runShortName } from '../format';
import { useLiveQuery, useLiveRows, useLiveRun } from '../live/hooks';
import { EmptyState, ErrorView, Loading, RunLink, StatusBadge } from './components';
import { IRequestState } from './hooks';
import { ChildRunsTable } from './children-table';
import { hyperDriveMetric, ParallelCoordinates } from './parallel-coords';

const NO_RUNS: IRun[] = [];

function TreeNode(props: {
  run: IRun;
  byParent: Map<string, IRun[]>;
  level: number;
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  const { run, byParent } = props;
  const kids = byParent.get(run.id) ?? [];
  const name = runShortName(run);
  return (
    <li role="treeitem" aria-level={props.level} aria-expanded={kids.length ? true : undefined}>
      <div className="jp-aml-TreeRow">
        <RunLink name={name} runId={run.id} onOpenRun={props.onOpenRun} />
        <StatusBadge status={run.status} />
        <span className="jp-aml-Muted">{formatDuration(runDurationSeconds(run))}</span>
      </div>
      {kids.length > 0 && (
        <ul role="group">
          {kids.map(k => (
            <TreeNode key={k.id} {...props} run={k} level={props.level + 1} />
          ))}
        </ul>
      )}
    </li>
  );
}

export function RunChildren(props: {
  service: AMLService;
  workspace: string;
  runId: string;
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  const { service, workspace, runId } = props;
  const children: IRequestState<IRun[]> = useLiveQuery(
    service,
    workspace,
    async live => {
      const runs = await service.listChildren(workspace, runId, true);
      runs.forEach(run => live.putRun(run));
      return runs;
    },
    [runId],
    {
      // A new descendant (a known one stays current through the store).
      reloadOn: event =>
        event.type === 'run' &&
        !children.data?.some(r => r.id === event.run.id) &&
        (event.run.parent_id === runId ||
          event.run.root_id === runId ||
          !!children.data?.some(r => r.id === event.run.parent_id))
    }
  );
  const descendants = useLiveRows(service, workspace, children.data ?? NO_RUNS);
  const parent = useLiveRun(service, workspace, runId).data; // a HyperDrive run gets a chart of its children
  if (!children.data) {
    return children.error ? (
      <ErrorView error={children.error} onRetry={children.reload} context="Child runs" />
    ) : (
      <Loading label="Loading child runs…" />
    );
  }
  if (descendants.length === 0) {
    return (
      <EmptyState>
        No child runs. A script creates them with <code>run.child_run(...)</code>.
      </EmptyState>
    );
  }
  const byParent = new Map<string, IRun[]>();
  for (const r of descendants) {
    const parent = r.parent_id ?? runId;
    byParent.set(parent, [...(byParent.get(parent) ?? []), r]);
  }
  const direct = byParent.get(runId) ?? NO_RUNS;
  return (
    <>
      {parent && hyperDriveMetric(parent) && (
        <ParallelCoordinates
          service={service}
          workspace={workspace}
          parent={parent}
          runs={direct}
        />
      )}
      <ChildRunsTable
        service={service}
        workspace={workspace}
        parent={parent}
        parentId={runId}
        runs={direct}
        onOpenRun={props.onOpenRun}
      />
      <ul className="jp-aml-Tree" role="tree" aria-label="Child runs">
        {direct.map(r => (
          <TreeNode key={r.id} run={r} byParent={byParent} level={1} onOpenRun={props.onOpenRun} />
        ))}
      </ul>
    </>
  );
}
