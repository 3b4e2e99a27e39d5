/** Computes section: the compute targets runs can be submitted to. */
import React from 'react';

import { AMLService } from '../api';
import { EmptyState, ErrorView, Loading, Section } from './components';
import { useRequest } from './hooks';

export function ComputesSection(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
  defaultCompute: string;
}): JSX.Element {
  const { service, workspace, refreshKey, defaultCompute } = props;
  const computes = useRequest(() => service.listComputes(workspace), [workspace, refreshKey]);

  let body: React.ReactNode;
  if (computes.data === undefined) {
    body = computes.error ? (
      <ErrorView error={computes.error} onRetry={computes.reload} context="Computes" />
    ) : (
      <Loading label="Loading computes…" />
    );
  } else if (computes.data.length === 0) {
    body = (
      <EmptyState>
        No compute targets yet. Attach one with <code>ComputeTarget.create(...)</code>.
      </EmptyState>
    );
  } else {
    body = (
      <>
        {computes.error !== undefined && (
          <ErrorView error={computes.error} onRetry={computes.reload} context="Computes" />
        )}
        <ul className="jp-aml-List" aria-label="Computes">
          {computes.data.map(c => (
            <li key={c.name} className="jp-aml-ListItem jp-aml-Compute" data-compute={c.name}>
              <span className="jp-aml-ListItem-name">{c.name}</span>
              {c.name === defaultCompute && (
                <span className="jp-aml-Tag" title="Default compute (settings: defaultCompute)">
                  default
                </span>
              )}
              <span className="jp-aml-ListItem-meta">
                {c.type}
                {typeof c.max_concurrent_runs === 'number'
                  ? ` · up to ${c.max_concurrent_runs} concurrent run${c.max_concurrent_runs === 1 ? '' : 's'}`
                  : ''}
              </span>
            </li>
          ))}
        </ul>
      </>
    );
  }
  return (
    <Section
      id="computes"
      title="Computes"
      badge={computes.data ? computes.data.length : undefined}
    >
      {body}
    </Section>
  );
}
