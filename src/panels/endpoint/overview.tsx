/**
 * An endpoint's Overview tab: its properties (state, URIs, authentication, revision, last operation,
 * entry script), the models of the revision taking traffic and of one rolling out, its replicas,
 * deployment settings and tags.
 */
import React from 'react';

import { IWebservice } from '../../api';
import { formatDateTimeLong } from '../../format';
import { KeyValueTable, StatusBadge } from '../components';
import { replicaCounts } from '../endpoints';
import { CopyButton, parseModelRef } from '../registry-common';

function Field(props: { label: string; children: React.ReactNode }): JSX.Element {
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

function UriField(props: { label: string; uri: string | null }): JSX.Element {
  return (
    <Field label={props.label}>
      {props.uri ? (
        <span className="jp-aml-Uri">
          <code>{props.uri}</code>
          <CopyButton text={props.uri} label={`Copy ${props.label.toLowerCase()}`} />
        </span>
      ) : (
        <span className="jp-aml-Muted">not listening yet</span>
      )}
    </Field>
  );
}

/** Why a Failed or Unhealthy endpoint is so. */
function EndpointFailure(props: { svc: IWebservice }): JSX.Element | null {
  const { svc } = props;
  const { error } = svc;
  if (!error || (svc.state !== 'Failed' && svc.state !== 'Unhealthy')) {
    return null;
  }
  return (
    <div className="jp-aml-Error" role="alert">
      <div className="jp-aml-Error-message">{error.message || `The endpoint is ${svc.state}.`}</div>
      {error.hint && <div className="jp-aml-Error-hint">{error.hint}</div>}
      <div className="jp-aml-Error-hint">See the Logs tab for the replicas' output.</div>
    </div>
  );
}

function EndpointProperties(props: { svc: IWebservice }): JSX.Element {
  const { svc } = props;
  const { operation, inference_config: inference } = svc;
  return (
    <section aria-label="Endpoint properties" className="jp-aml-Card">
      <h3 className="jp-aml-Card-title">Details</h3>
      <dl className="jp-aml-Fields">
        <Field label="State">
          <StatusBadge status={svc.state} />
        </Field>
        <UriField label="Scoring URI" uri={svc.scoring_uri} />
        <UriField label="Swagger URI" uri={svc.swagger_uri} />
        <Field label="Authentication">
          {svc.auth_enabled ? 'key (Authorization: Bearer <key>)' : 'none'}
        </Field>
        <Field label="Compute type">{svc.compute_type}</Field>
        <Field label="Revision">{svc.revision}</Field>
        {operation && (
          <Field label="Last operation">
            {operation.kind} of revision {operation.revision}: {operation.status}
            {operation.error?.message ? ` (${operation.error.message})` : ''}
          </Field>
        )}
        <Field label="Entry script">
          <code>{inference.entry_script || '—'}</code>
        </Field>
        {inference.environment_ref && (
          <Field label="Environment">
            <code>{inference.environment_ref}</code>
          </Field>
        )}
        <Field label="Created">
          {formatDateTimeLong(svc.created_at) ?? '—'}
          {svc.created_by ? ` by ${svc.created_by}` : ''}
        </Field>
        <Field label="Updated">{formatDateTimeLong(svc.updated_at) ?? '—'}</Field>
        {svc.description && <Field label="Description">{svc.description}</Field>}
      </dl>
    </section>
  );
}

/** Model references (`name:version`) as links to the sidebar's Models section. */
function ModelLinks(props: {
  label: string;
  refs: string[];
  onShowModel: (name: string, version: number | null) => void;
}): JSX.Element {
  return (
    <ul className="jp-aml-PlainList" aria-label={props.label}>
      {props.refs.map(ref => {
        const { name, version } = parseModelRef(ref);
        return (
          <li key={ref}>
            <button
              type="button"
              className="jp-aml-LinkButton"
              aria-label={`Show model ${ref}`}
              title="Show this model version in the sidebar's Models section"
              onClick={() => props.onShowModel(name, version)}
            >
              {ref}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function EndpointModels(props: {
  svc: IWebservice;
  onShowModel: (name: string, version: number | null) => void;
}): JSX.Element {
  const { svc } = props;
  return (
    <section aria-label="Endpoint models" className="jp-aml-Card">
      <h3 className="jp-aml-Card-title">Models</h3>
      <ModelLinks
        label="Models of the revision taking traffic"
        refs={svc.models}
        onShowModel={props.onShowModel}
      />
      {svc.pending_models && (
        <>
          <div className="jp-aml-Muted">Rolling out:</div>
          <ModelLinks
            label="Models being rolled out"
            refs={svc.pending_models}
            onShowModel={props.onShowModel}
          />
        </>
      )}
    </section>
  );
}

/** One replica process of a revision (the service's `replicas`). */
type IReplica = NonNullable<IWebservice['replicas']>[number];

function ReplicasTable(props: { replicas: IReplica[] }): JSX.Element {
  return (
    <table className="jp-aml-Table" aria-label="Replicas">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">State</th>
          <th scope="col" className="jp-aml-num">
            Served
          </th>
          <th scope="col" className="jp-aml-num">
            In flight
          </th>
          <th
            scope="col"
            className="jp-aml-num"
            title="Requests whose run() overran the scoring timeout and still runs: the replica gets no request until it returns, and is replaced after replica_overrun_limit_seconds"
          >
            Overdue
          </th>
          <th scope="col" className="jp-aml-num">
            Restarts
          </th>
          <th scope="col" className="jp-aml-num">
            PID
          </th>
        </tr>
      </thead>
      <tbody>
        {props.replicas.map(r => (
          <tr key={`${r.revision}-${r.index}`} data-state={r.state}>
            <td>{r.index}</td>
            <td>
              <StatusBadge status={r.state} />
            </td>
            <td className="jp-aml-num">{r.served}</td>
            <td className="jp-aml-num">{r.inflight}</td>
            <td className="jp-aml-num" data-overdue={r.overdue ?? 0}>
              {r.overdue ? r.overdue : '—'}
            </td>
            <td className="jp-aml-num">{r.restarts}</td>
            <td className="jp-aml-num">{r.pid ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EndpointReplicas(props: { svc: IWebservice }): JSX.Element {
  const replicas = props.svc.replicas ?? [];
  const { ready, wanted } = replicaCounts(props.svc);
  const c = props.svc.deployment_config;
  return (
    <section aria-label="Endpoint replicas" className="jp-aml-Card">
      <h3 className="jp-aml-Card-title">
        Replicas{' '}
        <span className="jp-aml-Muted">
          {c.autoscale_enabled
            ? `(${ready} ready; autoscaling ${c.autoscale_min_replicas ?? 1}–${
                c.autoscale_max_replicas ?? 10
              } at ${c.autoscale_target_utilization ?? 70}% target)`
            : `(${ready} of ${wanted} ready)`}
        </span>
      </h3>
      {replicas.length === 0 ? (
        <div className="jp-aml-Muted">
          No replica is running (they start when the service is deployed or the server starts).
        </div>
      ) : (
        <ReplicasTable replicas={replicas} />
      )}
    </section>
  );
}

/** The deployment configuration's set values, as text. */
function settingEntries(config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])
  );
}

export function EndpointOverview(props: {
  svc: IWebservice;
  onShowModel: (name: string, version: number | null) => void;
}): JSX.Element {
  const { svc } = props;
  return (
    <div className="jp-aml-Overview">
      <EndpointFailure svc={svc} />
      <EndpointProperties svc={svc} />
      <div>
        <EndpointModels svc={svc} onShowModel={props.onShowModel} />
        <EndpointReplicas svc={svc} />
        <section aria-label="Endpoint settings" className="jp-aml-Card">
          <h3 className="jp-aml-Card-title">Settings</h3>
          <KeyValueTable
            label="Deployment configuration"
            entries={settingEntries(svc.deployment_config)}
          />
        </section>
        <section aria-label="Endpoint tags" className="jp-aml-Card">
          <h3 className="jp-aml-Card-title">Tags</h3>
          <KeyValueTable label="Tags" entries={svc.tags} empty="No tags" />
        </section>
      </div>
    </div>
  );
}
