/**
 * Compute section: every target runs of the workspace can be submitted to — the configured ones
 * (`local`) and the workspace's clusters and instances — with state, size, nodes and queue, a
 * "New compute…" dialog and each compute's actions (./compute/). The list follows the push
 * channel's compute events (state, nodes or queue changed, deleted); it never polls on its own.
 */
import React from 'react';

import { AMLService } from '../api';
import { useLiveQuery } from '../live/hooks';
import { EmptyState, ErrorView, Loading, Section } from './components';
import { createComputeDialog } from './compute/create-dialog';
import { ComputeRow } from './compute/row';
import { notifyError } from './registry-common';
import { IRunActions } from './runs-table';
import { useToggleSet } from './toggle-set';

export function ComputesSection(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
  defaultCompute: string;
  /** Run ids on nodes and in queues open the run's page; without it they are plain text. */
  actions?: Pick<IRunActions, 'openRun'>;
}): JSX.Element {
  const { service, workspace, refreshKey, defaultCompute, actions } = props;
  const computes = useLiveQuery(
    service,
    workspace,
    () => service.listComputes(workspace),
    [refreshKey],
    { reloadOn: event => event.type === 'compute', throttleMs: 300 }
  );
  const { items: expanded, toggle, setItems: setExpanded } = useToggleSet();
  const openRun = actions ? (ws: string, id: string) => actions.openRun(ws, id) : undefined;

  const create = async () => {
    try {
      const made = await createComputeDialog(service, workspace);
      if (made) {
        setExpanded(prev => new Set(prev).add(made.name));
        computes.reload();
      }
    } catch (reason) {
      notifyError('New compute', reason);
    }
  };

  let body: React.ReactNode;
  if (computes.data === undefined) {
    body = computes.error ? (
      <ErrorView error={computes.error} onRetry={computes.reload} context="Computes" />
    ) : (
      <Loading label="Loading computes…" />
    );
  } else {
    body = (
      <>
        {computes.error !== undefined && (
          <ErrorView error={computes.error} onRetry={computes.reload} context="Computes" />
        )}
        {computes.data.length === 0 ? (
          <EmptyState>
            No compute targets yet. Create one with <strong>New compute…</strong> or{' '}
            <code>ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(...))</code>.
          </EmptyState>
        ) : (
          <ul className="jp-aml-List jp-aml-ComputeList" aria-label="Computes">
            {computes.data.map(c => (
              <ComputeRow
                key={c.name}
                service={service}
                workspace={workspace}
                compute={c}
                isDefault={c.name === defaultCompute}
                expanded={expanded.has(c.name)}
                onToggle={() => toggle(c.name)}
                openRun={openRun}
                onChanged={computes.reload}
              />
            ))}
          </ul>
        )}
      </>
    );
  }
  return (
    <Section
      id="computes"
      title="Computes"
      badge={computes.data ? computes.data.length : undefined}
    >
      <div className="jp-aml-Computes-toolbar">
        <button
          type="button"
          className="jp-mod-styled jp-aml-Button"
          aria-label="New compute…"
          onClick={() => void create()}
        >
          New compute…
        </button>
      </div>
      {body}
    </Section>
  );
}
