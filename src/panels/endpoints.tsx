/**
 * Endpoints section: the workspace's web services (real-time endpoints) with their state, compute
 * type, models and replicas. Clicking one opens its page in the main area (`aml:open-endpoint`).
 * The list follows the push channel's web-service events; it never polls on its own.
 */
import React from 'react';

import { AMLService, IWebservice } from '../api';
import { useLiveQuery } from '../live/hooks';
import { EmptyState, ErrorView, Loading, Section, StatusBadge } from './components';
import { IAssetActions } from './registry-common';

/** Replicas of the revision taking traffic that answer requests now, and how many were asked for. */
export function replicaCounts(service: IWebservice): { ready: number; wanted: number } {
  const replicas = service.replicas ?? [];
  const wanted = service.deployment_config.replicas ?? replicas.length;
  return { ready: replicas.filter(r => r.state === 'ready').length, wanted };
}

export function EndpointsSection(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
  actions: IAssetActions;
}): JSX.Element {
  const { service, workspace, refreshKey, actions } = props;
  const services = useLiveQuery(
    service,
    workspace,
    () => service.listWebservices(workspace),
    [refreshKey],
    { reloadOn: event => event.type === 'webservice', throttleMs: 500 }
  );

  let body: React.ReactNode;
  if (services.data === undefined) {
    body = services.error ? (
      <ErrorView error={services.error} onRetry={services.reload} context="Endpoints" />
    ) : (
      <Loading label="Loading endpoints…" />
    );
  } else if (services.data.length === 0) {
    body = (
      <>
        {services.error !== undefined && (
          <ErrorView error={services.error} onRetry={services.reload} context="Endpoints" />
        )}
        <EmptyState>
          No endpoints yet. Deploy a registered model with{' '}
          <code>Model.deploy(ws, name, [model], inference_config, deployment_config)</code>.
        </EmptyState>
      </>
    );
  } else {
    body = (
      <>
        {services.error !== undefined && (
          <ErrorView error={services.error} onRetry={services.reload} context="Endpoints" />
        )}
        <ul className="jp-aml-List" aria-label="Endpoints">
          {services.data.map(svc => {
            const { ready, wanted } = replicaCounts(svc);
            return (
              <li
                key={svc.name}
                className="jp-aml-ListItem jp-aml-Endpoint"
                data-endpoint={svc.name}
                data-state={svc.state}
              >
                <div className="jp-aml-Endpoint-head">
                  <button
                    type="button"
                    className="jp-aml-LinkButton jp-aml-ListItem-name"
                    aria-label={`Open endpoint ${svc.name}`}
                    title={svc.description || `Open endpoint ${svc.name}`}
                    onClick={() => actions.openEndpoint(workspace, svc.name)}
                  >
                    {svc.name}
                  </button>
                  <StatusBadge status={svc.state} />
                </div>
                <div className="jp-aml-ListItem-meta">
                  {svc.compute_type} · {svc.models.join(', ') || 'no model'}
                  {' · '}
                  <span title="Replicas of the revision taking traffic that are ready / asked for">
                    {ready}/{wanted} replica{wanted === 1 ? '' : 's'}
                  </span>
                  {svc.pending_models ? ' · updating' : ''}
                </div>
              </li>
            );
          })}
        </ul>
      </>
    );
  }

  return (
    <Section
      id="endpoints"
      title="Endpoints"
      badge={services.data ? services.data.length : undefined}
    >
      {body}
    </Section>
  );
}
