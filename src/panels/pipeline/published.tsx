/**
 * The Pipelines section's Published and Endpoints tabs. A published pipeline is an immutable copy runnable
 * by id (its id is what Azure Data Factory and v1 clients call), so the id is shown and copyable; a
 * pipeline endpoint is one URL over numbered versions of published pipelines, one of them the default
 * that a call without `PipelineVersion` runs.
 */
import React from 'react';

import { AMLService } from '../../api';
import { formatDateTime, formatDateTimeLong } from '../../format';
import { EmptyState, ErrorView, Loading, StatusBadge } from '../components';
import { useRequest } from '../hooks';
import { CopyButton } from '../registry-common';
import {
  IPipelineEndpoint,
  IPublishedPipeline,
  listEndpoints,
  listPublished
} from './published-api';

/** "3 steps" / "1 step". */
export function stepsText(count: number): string {
  return `${count} step${count === 1 ? '' : 's'}`;
}

function PublishedItem(props: { item: IPublishedPipeline }): JSX.Element {
  const { item } = props;
  return (
    <li
      className="jp-aml-ListItem jp-aml-PipelinePublished"
      data-pipeline-id={item.id}
      data-status={item.status}
      aria-label={`Published pipeline ${item.name}`}
    >
      <div className="jp-aml-PipelineRun-head">
        <span className="jp-aml-PipelinePublished-name" title={item.description || item.name}>
          {item.name}
        </span>
        {item.version && <span className="jp-aml-PipelineVersion">v{item.version}</span>}
        <StatusBadge status={item.status} />
      </div>
      <div className="jp-aml-ListItem-meta">
        <span className="jp-aml-PipelinePublished-steps" title={item.steps.join(', ')}>
          {stepsText(item.total_run_steps)}
        </span>
        {' · '}
        <span title={formatDateTimeLong(item.created_at)}>
          published {formatDateTime(item.created_at)}
        </span>
      </div>
      <div className="jp-aml-PipelineId">
        <code title={item.endpoint}>{item.id}</code>
        <CopyButton text={item.id} label={`Copy the id of published pipeline ${item.name}`} />
      </div>
    </li>
  );
}

export function PublishedList(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
}): JSX.Element {
  const { service, workspace, refreshKey } = props;
  const found = useRequest(() => listPublished(service, workspace), [workspace, refreshKey]);
  const error = found.error !== undefined && (
    <ErrorView error={found.error} onRetry={found.reload} context="Published pipelines" />
  );
  if (found.data === undefined) {
    return <>{error || <Loading label="Loading published pipelines…" />}</>;
  }
  if (found.data.length === 0) {
    return (
      <>
        {error}
        <EmptyState>
          No published pipelines. Publish one from Python with{' '}
          <code>pipeline.publish(name, description, version)</code>: it is listed here with its id,
          which runs it over REST.
        </EmptyState>
      </>
    );
  }
  return (
    <>
      {error}
      <ul className="jp-aml-List" aria-label="Published pipelines">
        {found.data.map(item => (
          <PublishedItem key={item.id} item={item} />
        ))}
      </ul>
    </>
  );
}

function EndpointItem(props: {
  item: IPipelineEndpoint;
  versions: Map<string, string>;
}): JSX.Element {
  const { item, versions } = props;
  return (
    <li
      className="jp-aml-ListItem jp-aml-PipelineEndpoint"
      data-endpoint-id={item.id}
      data-status={item.status}
      data-default-version={item.default_version}
      aria-label={`Pipeline endpoint ${item.name}`}
    >
      <div className="jp-aml-PipelineRun-head">
        <span className="jp-aml-PipelinePublished-name" title={item.description || item.name}>
          {item.name}
        </span>
        <StatusBadge status={item.status} />
      </div>
      <div className="jp-aml-ListItem-meta">
        {item.versions.length} version{item.versions.length === 1 ? '' : 's'} · default{' '}
        <span className="jp-aml-PipelineVersion">{item.default_version}</span>
      </div>
      <ul className="jp-aml-PipelineEndpoint-versions" aria-label={`Versions of ${item.name}`}>
        {item.versions.map(v => (
          <li
            key={v.version}
            className="jp-aml-PipelineEndpoint-version"
            data-version={v.version}
            data-default={v.is_default}
            data-pipeline-id={v.pipeline_id}
          >
            <span className="jp-aml-PipelineVersion">{v.version}</span>
            <span className="jp-aml-PipelineEndpoint-pipeline" title={v.pipeline_id}>
              {v.pipeline_name}
              {versions.get(v.pipeline_id) ? ` v${versions.get(v.pipeline_id)}` : ''}
            </span>
            {v.is_default && <span className="jp-aml-PipelineDefault">default</span>}
            {v.pipeline_status !== 'Active' && <StatusBadge status={v.pipeline_status} />}
          </li>
        ))}
      </ul>
      <div className="jp-aml-PipelineId">
        <code title={item.endpoint}>{item.id}</code>
        <CopyButton
          text={item.endpoint}
          label={`Copy the REST URL of pipeline endpoint ${item.name}`}
        >
          Copy URL
        </CopyButton>
      </div>
    </li>
  );
}

export function EndpointsList(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
}): JSX.Element {
  const { service, workspace, refreshKey } = props;
  // The published pipelines too: a version row names its pipeline's own version ("nightly v2.0").
  const found = useRequest(
    () => Promise.all([listEndpoints(service, workspace), listPublished(service, workspace)]),
    [workspace, refreshKey]
  );
  const error = found.error !== undefined && (
    <ErrorView error={found.error} onRetry={found.reload} context="Pipeline endpoints" />
  );
  if (found.data === undefined) {
    return <>{error || <Loading label="Loading pipeline endpoints…" />}</>;
  }
  const [endpoints, published] = found.data;
  const versions = new Map(published.map(p => [p.id, p.version]));
  if (endpoints.length === 0) {
    return (
      <>
        {error}
        <EmptyState>
          No pipeline endpoints. Make one with{' '}
          <code>PipelineEndpoint.publish(ws, name, description, pipeline)</code>, then{' '}
          <code>endpoint.add(published)</code> for each new version.
        </EmptyState>
      </>
    );
  }
  return (
    <>
      {error}
      <ul className="jp-aml-List" aria-label="Pipeline endpoints">
        {endpoints.map(item => (
          <EndpointItem key={item.id} item={item} versions={versions} />
        ))}
      </ul>
    </>
  );
}
