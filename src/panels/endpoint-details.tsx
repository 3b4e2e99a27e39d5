/**
 * An endpoint's page in the main area: overview (URIs, state, revision, models, replicas), keys,
 * a Test tab (a request sent through the Jupyter server, which forwards it with the service's key),
 * the service's log, and its telemetry (requests, errors and latency percentiles per minute).
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'react';

import {
  AMLService,
  IEndpointTestResult,
  IOperationView,
  IReplicaView,
  ITelemetry,
  IWebservice
} from '../api';
import { formatDateTimeLong, formatNumber } from '../format';
import { amlIcon } from '../icons';
import { AMLRequestError } from '../request';
import { IChartSeries, LineChart } from './chart';
import { EmptyState, ErrorView, KeyValueTable, Loading, StatusBadge, Tabs } from './components';
import { useRequest, useThrottled, useWorkspaceEvents } from './hooks';
import { replicaCounts } from './endpoints';
import {
  confirmDanger,
  CopyButton,
  IAssetActions,
  notifyError,
  parseModelRef
} from './registry-common';

export const ENDPOINT_TABS = ['overview', 'keys', 'test', 'logs', 'telemetry'] as const;

export interface IEndpointDetailsOptions {
  service: AMLService;
  workspace: string;
  name: string;
  actions: IAssetActions;
  /** Tab to show first: overview, keys, test, logs, telemetry. */
  tab?: string;
}

function Field(props: { label: string; children: React.ReactNode }): JSX.Element {
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

function EndpointDetailsView(
  props: IEndpointDetailsOptions & {
    tabRequest: { tab: string; n: number } | null;
    onService: (service: IWebservice) => void;
    onDeleted: () => void;
  }
): JSX.Element {
  const { service, workspace, name } = props;
  const [tick, setTick] = useState(0);
  const loaded = useRequest(() => service.getWebservice(workspace, name), [workspace, name, tick]);
  const [tab, setTab] = useState(props.tab ?? 'overview');
  const [deleted, setDeleted] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(undefined);
  // Bumped after every test request: the logs and telemetry tabs reload.
  const [tests, setTests] = useState(0);
  // Bumped on every web-service event of this endpoint.
  const [changes, setChanges] = useState(0);

  useEffect(() => {
    if (props.tabRequest) {
      setTab(props.tabRequest.tab);
    }
  }, [props.tabRequest?.n]);

  const reloadSoon = useThrottled(() => {
    setTick(t => t + 1);
    setChanges(c => c + 1);
  }, 300);
  useWorkspaceEvents(service, workspace, event => {
    if (event.type === 'reconnect') {
      reloadSoon();
      return;
    }
    if (event.type === 'webservice' && event.name === name) {
      if (event.action === 'deleted') {
        setDeleted(true);
      } else {
        setDeleted(false); // deployed again under the same name
        reloadSoon();
      }
    }
  });

  const svc = loaded.data ?? null;
  useEffect(() => {
    if (svc) {
      props.onService(svc);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [svc]);

  const gone =
    deleted || (loaded.error instanceof AMLRequestError && loaded.error.code === 'NotFound');
  if (gone) {
    return (
      <div className="jp-aml-EndpointDetails">
        <EmptyState>
          The endpoint <strong>{name}</strong> was deleted (or does not exist in workspace{' '}
          {workspace}). Close this tab, or deploy it again with <code>Model.deploy(...)</code>.
        </EmptyState>
        <button
          type="button"
          className="jp-mod-styled jp-aml-Button jp-aml-CheckAgain"
          onClick={() => {
            setDeleted(false);
            setTick(t => t + 1);
          }}
        >
          Check again
        </button>
      </div>
    );
  }
  if (!svc) {
    return loaded.error ? (
      <ErrorView error={loaded.error} onRetry={loaded.reload} context={`Endpoint ${name}`} />
    ) : (
      <Loading label="Loading endpoint…" />
    );
  }

  const remove = async () => {
    const accepted = await confirmDanger({
      title: `Delete endpoint ${name}?`,
      body: (
        <>
          The web service <code>{name}</code> stops taking requests: its replicas drain and stop,
          its keys and telemetry are deleted. The models it uses stay registered.
        </>
      ),
      accept: 'Delete endpoint'
    });
    if (!accepted) {
      return;
    }
    setDeleting(true);
    setDeleteError(undefined);
    try {
      await service.deleteWebservice(workspace, name);
      setDeleted(true);
      props.onDeleted();
    } catch (reason) {
      setDeleteError(reason);
      notifyError(`Delete endpoint ${name}`, reason);
    } finally {
      setDeleting(false);
    }
  };

  const title = `Endpoint ${svc.name}`;
  return (
    <div className="jp-aml-EndpointDetails" data-endpoint={svc.name} data-state={svc.state}>
      <header className="jp-aml-RunHeader" role="group" aria-label={`${title} summary`}>
        <div className="jp-aml-RunHeader-title">
          <h2>{title}</h2>
          <StatusBadge status={svc.state} />
        </div>
        <div className="jp-aml-RunHeader-meta jp-aml-Muted">
          {workspace} · {svc.compute_type} · revision {svc.revision}
          {svc.pending_models ? ' · a new revision is rolling out' : ''}
        </div>
        <div className="jp-aml-RunHeader-actions">
          <button
            type="button"
            className="jp-mod-styled jp-aml-Button"
            onClick={() => setTick(t => t + 1)}
            aria-label="Refresh endpoint"
            title="Refresh"
          >
            <refreshIcon.react tag="span" className="jp-aml-IconButton-icon" />
          </button>
          <button
            type="button"
            className="jp-mod-styled jp-mod-warn jp-aml-Button"
            disabled={deleting}
            onClick={() => void remove()}
          >
            {deleting ? 'Deleting…' : 'Delete endpoint'}
          </button>
        </div>
      </header>
      {loaded.error !== undefined && (
        <ErrorView error={loaded.error} onRetry={loaded.reload} context="Refresh" />
      )}
      {deleteError !== undefined && <ErrorView error={deleteError} context="Delete" />}
      <Tabs
        label={`${title} sections`}
        selected={tab}
        onSelect={setTab}
        tabs={[
          {
            id: 'overview',
            label: 'Overview',
            render: () => (
              <EndpointOverview
                svc={svc}
                onShowModel={(model, version) => props.actions.showModel(workspace, model, version)}
              />
            )
          },
          {
            id: 'keys',
            label: 'Keys',
            render: () => (
              <EndpointKeys
                service={service}
                workspace={workspace}
                name={name}
                authEnabled={svc.auth_enabled}
              />
            )
          },
          {
            id: 'test',
            label: 'Test',
            render: () => (
              <EndpointTest
                service={service}
                workspace={workspace}
                svc={svc}
                onSent={() => {
                  setTests(n => n + 1);
                  setTick(t => t + 1); // replicas' served counts
                }}
              />
            )
          },
          {
            id: 'logs',
            label: 'Logs',
            render: () => (
              <EndpointLogs
                service={service}
                workspace={workspace}
                name={name}
                reloadKey={tests + changes}
              />
            )
          },
          {
            id: 'telemetry',
            label: 'Telemetry',
            render: () => (
              <EndpointTelemetry
                service={service}
                workspace={workspace}
                name={name}
                reloadKey={tests + changes}
              />
            )
          }
        ]}
      />
    </div>
  );
}

// -- overview --------------------------------------------------------------------------------------

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

function EndpointOverview(props: {
  svc: IWebservice;
  onShowModel: (name: string, version: number | null) => void;
}): JSX.Element {
  const { svc } = props;
  const operation = (svc.operation ?? null) as IOperationView | null;
  const error = (svc.error ?? null) as { message?: string; hint?: string } | null;
  const replicas = (svc.replicas ?? []) as unknown as IReplicaView[];
  const { ready, wanted } = replicaCounts(svc);
  const config = svc.deployment_config ?? {};
  const inference = (svc.inference_config ?? {}) as {
    entry_script?: string;
    environment_ref?: string | null;
  };
  const modelLinks = (refs: string[]) =>
    refs.map(ref => {
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
    });
  return (
    <div className="jp-aml-Overview">
      {error && (svc.state === 'Failed' || svc.state === 'Unhealthy') && (
        <div className="jp-aml-Error" role="alert">
          <div className="jp-aml-Error-message">
            {error.message ?? `The endpoint is ${svc.state}.`}
          </div>
          {error.hint && <div className="jp-aml-Error-hint">{error.hint}</div>}
          <div className="jp-aml-Error-hint">See the Logs tab for the replicas' output.</div>
        </div>
      )}
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
            <code>{inference.entry_script ?? '—'}</code>
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
      <div>
        <section aria-label="Endpoint models" className="jp-aml-Card">
          <h3 className="jp-aml-Card-title">Models</h3>
          <ul className="jp-aml-PlainList" aria-label="Models of the revision taking traffic">
            {modelLinks(svc.models)}
          </ul>
          {svc.pending_models && (
            <>
              <div className="jp-aml-Muted">Rolling out:</div>
              <ul className="jp-aml-PlainList" aria-label="Models being rolled out">
                {modelLinks(svc.pending_models)}
              </ul>
            </>
          )}
        </section>
        <section aria-label="Endpoint replicas" className="jp-aml-Card">
          <h3 className="jp-aml-Card-title">
            Replicas{' '}
            <span className="jp-aml-Muted">
              ({ready} of {wanted} ready)
            </span>
          </h3>
          {replicas.length === 0 ? (
            <div className="jp-aml-Muted">
              No replica is running (they start when the service is deployed or the server starts).
            </div>
          ) : (
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
                  <th scope="col" className="jp-aml-num">
                    Restarts
                  </th>
                  <th scope="col" className="jp-aml-num">
                    PID
                  </th>
                </tr>
              </thead>
              <tbody>
                {replicas.map(r => (
                  <tr key={`${r.revision}-${r.index}`} data-state={r.state}>
                    <td>{r.index}</td>
                    <td>
                      <StatusBadge status={r.state} />
                    </td>
                    <td className="jp-aml-num">{r.served}</td>
                    <td className="jp-aml-num">{r.inflight}</td>
                    <td className="jp-aml-num">{r.restarts}</td>
                    <td className="jp-aml-num">{r.pid ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-label="Endpoint settings" className="jp-aml-Card">
          <h3 className="jp-aml-Card-title">Settings</h3>
          <KeyValueTable
            label="Deployment configuration"
            entries={Object.fromEntries(
              Object.entries(config)
                .filter(([, v]) => v !== null && v !== undefined)
                .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])
            )}
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

// -- keys ------------------------------------------------------------------------------------------

function EndpointKeys(props: {
  service: AMLService;
  workspace: string;
  name: string;
  authEnabled: boolean;
}): JSX.Element {
  const { service, workspace, name } = props;
  const [tick, setTick] = useState(0);
  const keys = useRequest(
    () => service.getWebserviceKeys(workspace, name),
    [workspace, name, tick]
  );
  const [shown, setShown] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  if (!keys.data) {
    return keys.error ? (
      <ErrorView error={keys.error} onRetry={keys.reload} context="Keys" />
    ) : (
      <Loading label="Loading keys…" />
    );
  }

  const regenerate = async (kind: 'Primary' | 'Secondary') => {
    const accepted = await confirmDanger({
      title: `Regenerate the ${kind.toLowerCase()} key of ${name}?`,
      body: (
        <>Callers that still send the old {kind.toLowerCase()} key get 401 Unauthorized at once.</>
      ),
      accept: `Regenerate ${kind.toLowerCase()} key`
    });
    if (!accepted) {
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await service.regenerateWebserviceKey(workspace, name, kind);
      setTick(t => t + 1);
    } catch (reason) {
      setError(reason);
      notifyError(`Regenerate the ${kind.toLowerCase()} key`, reason);
    } finally {
      setBusy(false);
    }
  };

  const rows: Array<['Primary' | 'Secondary', string]> = [
    ['Primary', keys.data.primary_key],
    ['Secondary', keys.data.secondary_key]
  ];
  return (
    <section className="jp-aml-Card jp-aml-Keys" aria-label="Endpoint keys">
      <h3 className="jp-aml-Card-title">Keys</h3>
      <p className="jp-aml-Muted">
        {props.authEnabled
          ? 'Callers send one of these keys as Authorization: Bearer <key>. Either key works; regenerate one while callers use the other.'
          : 'Authentication is off for this endpoint: callers need no key. The keys still exist for when it is turned on.'}
      </p>
      {error !== undefined && <ErrorView error={error} context="Keys" />}
      <table className="jp-aml-Table jp-aml-KeyTable" aria-label="Keys">
        <tbody>
          {rows.map(([kind, value]) => {
            const visible = shown.has(kind);
            return (
              <tr key={kind}>
                <th scope="row">{kind} key</th>
                <td className="jp-aml-KeyValue-secret">
                  <code aria-label={`${kind} key value`}>
                    {visible ? value : '•'.repeat(Math.min(24, value.length))}
                  </code>
                </td>
                <td className="jp-aml-KeyTable-actions">
                  <button
                    type="button"
                    className="jp-mod-styled jp-aml-Button"
                    aria-pressed={visible}
                    aria-label={`${visible ? 'Hide' : 'Show'} ${kind.toLowerCase()} key`}
                    onClick={() => {
                      const next = new Set(shown);
                      if (visible) {
                        next.delete(kind);
                      } else {
                        next.add(kind);
                      }
                      setShown(next);
                    }}
                  >
                    {visible ? 'Hide' : 'Show'}
                  </button>
                  <CopyButton text={value} label={`Copy ${kind.toLowerCase()} key`} />
                  <button
                    type="button"
                    className="jp-mod-styled jp-mod-warn jp-aml-Button"
                    disabled={busy}
                    onClick={() => void regenerate(kind)}
                  >
                    Regenerate
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

// -- test --------------------------------------------------------------------------------------------

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout'
};

/** The response body, pretty-printed when it is JSON. */
function prettyBody(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function jsonProblem(text: string): string {
  try {
    JSON.parse(text);
    return '';
  } catch (reason) {
    return reason instanceof Error ? reason.message : String(reason);
  }
}

function EndpointTest(props: {
  service: AMLService;
  workspace: string;
  svc: IWebservice;
  onSent: () => void;
}): JSX.Element {
  const { service, workspace, svc } = props;
  const ids = useId();
  const [body, setBody] = useState<string | null>(null);
  const [key, setKey] = useState<'primary' | 'secondary'>('primary');
  const [sending, setSending] = useState(false);
  const [result, setResult] = useState<IEndpointTestResult | null>(null);
  const [error, setError] = useState<unknown>(undefined);

  // Start from the example of the swagger document (a model's sample_input), if there is one.
  const swagger = useRequest(
    () => service.getWebserviceSwagger(workspace, svc.name),
    [workspace, svc.name, svc.revision]
  );
  const example = useMemo(() => {
    const definitions = (swagger.data?.definitions ?? {}) as Record<string, { example?: unknown }>;
    const value = definitions.ServiceInput?.example;
    return value === undefined ? null : JSON.stringify(value, null, 2);
  }, [swagger.data]);
  const text = body ?? example ?? '{\n  "data": []\n}';
  const problem = text.trim() ? jsonProblem(text) : 'the body is empty';

  const send = async () => {
    setSending(true);
    setError(undefined);
    try {
      setResult(await service.testWebservice(workspace, svc.name, text, key));
      props.onSent();
    } catch (reason) {
      setResult(null);
      setError(reason);
    } finally {
      setSending(false);
    }
  };

  const ok = result !== null && result.status >= 200 && result.status < 300;
  return (
    <div className="jp-aml-EndpointTest">
      <section className="jp-aml-Card" aria-label="Test request">
        <h3 className="jp-aml-Card-title">Request</h3>
        <p className="jp-aml-Muted">
          Sent as <code>POST {svc.scoring_uri ?? '/score'}</code> by the Jupyter server, with the
          endpoint's {svc.auth_enabled ? 'key' : 'settings (authentication is off)'}: the same
          request a client makes, counted in the telemetry.
        </p>
        <label htmlFor={`${ids}-body`} className="jp-aml-Form-label">
          Request body (JSON)
        </label>
        <textarea
          id={`${ids}-body`}
          className="jp-mod-styled jp-aml-Form-textarea jp-aml-TestBody"
          rows={8}
          spellCheck={false}
          value={text}
          onChange={e => setBody(e.target.value)}
          onKeyDown={e => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void send();
            }
          }}
        />
        {problem && (
          <div className="jp-aml-Muted jp-aml-TestBody-problem">
            Not valid JSON ({problem}): it is sent as is, and the endpoint will likely answer 400.
          </div>
        )}
        <div className="jp-aml-Toolbar jp-aml-TestActions">
          <button
            type="button"
            className="jp-mod-styled jp-mod-accept jp-aml-Button"
            disabled={sending || !svc.scoring_uri}
            onClick={() => void send()}
            title="Send the request (Ctrl+Enter)"
          >
            {sending ? 'Sending…' : 'Send request'}
          </button>
          {!problem && (
            <button
              type="button"
              className="jp-mod-styled jp-aml-Button"
              onClick={() => setBody(prettyBody(text))}
            >
              Format JSON
            </button>
          )}
          {svc.auth_enabled && (
            <label className="jp-aml-Check">
              Key
              <select
                className="jp-mod-styled jp-aml-Filter"
                value={key}
                onChange={e => setKey(e.target.value as 'primary' | 'secondary')}
              >
                <option value="primary">primary</option>
                <option value="secondary">secondary</option>
              </select>
            </label>
          )}
          {!svc.scoring_uri && (
            <span className="jp-aml-Muted">The endpoint is not listening yet.</span>
          )}
        </div>
      </section>
      {error !== undefined && <ErrorView error={error} context="Test request" />}
      {result && (
        <section
          className="jp-aml-Card jp-aml-TestResult"
          aria-label="Test response"
          data-status={result.status}
        >
          <h3 className="jp-aml-Card-title">Response</h3>
          <div className="jp-aml-TestResult-status" role="status">
            <span className={`jp-aml-HttpStatus ${ok ? 'jp-mod-ok' : 'jp-mod-error'}`}>
              HTTP {result.status} {STATUS_TEXT[result.status] ?? ''}
            </span>
            <span className="jp-aml-Muted">
              {formatNumber(result.elapsed_ms)} ms
              {result.request_id ? ` · request id ${result.request_id}` : ''}
            </span>
          </div>
          {result.error && <div className="jp-aml-Error-hint">{result.error}</div>}
          {result.truncated && (
            <div className="jp-aml-Muted">
              The response was longer than 1 MB: only its start is shown.
            </div>
          )}
          <pre className="jp-aml-Pre jp-aml-TestResult-body" aria-label="Response body">
            {prettyBody(result.body) || '(empty body)'}
          </pre>
        </section>
      )}
    </div>
  );
}

// -- logs --------------------------------------------------------------------------------------------

function EndpointLogs(props: {
  service: AMLService;
  workspace: string;
  name: string;
  reloadKey: number;
}): JSX.Element {
  const { service, workspace, name } = props;
  const [lines, setLines] = useState(1000);
  const [tick, setTick] = useState(0);
  const [query, setQuery] = useState('');
  const logs = useRequest(
    () => service.getWebserviceLogs(workspace, name, lines),
    [workspace, name, lines, tick, props.reloadKey]
  );
  const view = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);

  // Stay at the end (the newest lines) unless the user scrolled up.
  useLayoutEffect(() => {
    const node = view.current;
    if (node && atEnd.current) {
      node.scrollTop = node.scrollHeight;
    }
  }, [logs.data, query]);

  const needle = query.trim().toLowerCase();
  const shown = (logs.data ?? []).filter(l => !needle || l.toLowerCase().includes(needle));
  return (
    <div className="jp-aml-EndpointLogs">
      <div className="jp-aml-Toolbar">
        <label className="jp-aml-Check">
          Last
          <select
            className="jp-mod-styled jp-aml-Filter"
            aria-label="Log lines to show"
            value={lines}
            onChange={e => setLines(Number(e.target.value))}
          >
            {[200, 1000, 5000, 20000].map(n => (
              <option key={n} value={n}>
                {n.toLocaleString()} lines
              </option>
            ))}
          </select>
        </label>
        <input
          className="jp-mod-styled jp-aml-Filter"
          type="search"
          placeholder="Search"
          aria-label="Search endpoint logs"
          value={query}
          onChange={e => setQuery(e.target.value)}
        />
        <button
          type="button"
          className="jp-mod-styled jp-aml-Button"
          onClick={() => setTick(t => t + 1)}
        >
          Refresh
        </button>
        <span className="jp-aml-Muted" aria-live="polite">
          {logs.data
            ? `${shown.length.toLocaleString()} of ${logs.data.length.toLocaleString()} lines`
            : ''}
        </span>
      </div>
      {logs.error !== undefined && (
        <ErrorView error={logs.error} onRetry={logs.reload} context="Logs" />
      )}
      {logs.data === undefined ? (
        logs.error === undefined && <Loading label="Loading logs…" />
      ) : logs.data.length === 0 ? (
        <EmptyState>The endpoint has not logged anything yet.</EmptyState>
      ) : (
        <div
          ref={view}
          className="jp-aml-LogView"
          role="log"
          aria-label={`Log of endpoint ${name}`}
          tabIndex={0}
          onScroll={e => {
            const node = e.currentTarget;
            atEnd.current = node.scrollHeight - node.scrollTop - node.clientHeight < 24;
          }}
        >
          {shown.map((line, i) => (
            <div key={i} className="jp-aml-LogLine">
              {line}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

// -- telemetry ---------------------------------------------------------------------------------------

const WINDOWS: Array<[number, string]> = [
  [15, 'last 15 minutes'],
  [60, 'last hour'],
  [360, 'last 6 hours'],
  [1440, 'last 24 hours']
];

/** One value per minute of the window (minutes without requests: 0 requests, no latency). */
function perMinute(telemetry: ITelemetry, minutes: number, now: number): IChartSeries[] {
  const last = Math.floor(now / 60000);
  const first = last - minutes + 1;
  const byMinute = new Map(telemetry.points.map(p => [Math.floor(Date.parse(p.t) / 60000), p]));
  const x: number[] = [];
  const requests: number[] = [];
  const errors: number[] = [];
  const p50: Array<number | null> = [];
  const p90: Array<number | null> = [];
  const p99: Array<number | null> = [];
  for (let m = first; m <= last; m++) {
    const p = byMinute.get(m);
    x.push(m * 60);
    requests.push(p ? p.requests : 0);
    errors.push(p ? p.errors_4xx + p.errors_5xx : 0);
    p50.push(p?.latency_ms_p50 ?? null);
    p90.push(p?.latency_ms_p90 ?? null);
    p99.push(p?.latency_ms_p99 ?? null);
  }
  return [
    { label: 'requests', x, y: requests },
    { label: 'errors (4xx + 5xx)', x, y: errors },
    { label: 'p50 ms', x, y: p50 },
    { label: 'p90 ms', x, y: p90 },
    { label: 'p99 ms', x, y: p99 }
  ];
}

function ms(value: number | null | undefined): string {
  return value === null || value === undefined
    ? '—'
    : `${formatNumber(Math.round(value * 10) / 10)} ms`;
}

function EndpointTelemetry(props: {
  service: AMLService;
  workspace: string;
  name: string;
  reloadKey: number;
}): JSX.Element {
  const { service, workspace, name } = props;
  const [minutes, setMinutes] = useState(60);
  const [tick, setTick] = useState(0);
  const telemetry = useRequest(async () => {
    const data = await service.getWebserviceTelemetry(workspace, name, minutes);
    return { data, at: Date.now() };
  }, [workspace, name, minutes, tick, props.reloadKey]);

  const series = useMemo(
    () => (telemetry.data ? perMinute(telemetry.data.data, minutes, telemetry.data.at) : null),
    [telemetry.data, minutes]
  );

  const toolbar = (
    <div className="jp-aml-Toolbar">
      <select
        className="jp-mod-styled jp-aml-Filter"
        aria-label="Telemetry window"
        value={minutes}
        onChange={e => setMinutes(Number(e.target.value))}
      >
        {WINDOWS.map(([m, label]) => (
          <option key={m} value={m}>
            {label}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="jp-mod-styled jp-aml-Button"
        onClick={() => setTick(t => t + 1)}
      >
        Refresh
      </button>
    </div>
  );
  if (!telemetry.data || !series) {
    return (
      <div className="jp-aml-EndpointTelemetry">
        {toolbar}
        {telemetry.error ? (
          <ErrorView error={telemetry.error} onRetry={telemetry.reload} context="Telemetry" />
        ) : (
          <Loading label="Loading telemetry…" />
        )}
      </div>
    );
  }
  const t = telemetry.data.data;
  const totals: Array<[string, string]> = [
    ['Requests', t.requests.toLocaleString()],
    ['Client errors (4xx)', t.errors_4xx.toLocaleString()],
    ['Server errors (5xx)', t.errors_5xx.toLocaleString()],
    ['Latency p50', ms(t.latency_ms_p50)],
    ['Latency p90', ms(t.latency_ms_p90)],
    ['Latency p99', ms(t.latency_ms_p99)]
  ];
  return (
    <div className="jp-aml-EndpointTelemetry" data-requests={t.requests}>
      {toolbar}
      {telemetry.error !== undefined && (
        <ErrorView error={telemetry.error} onRetry={telemetry.reload} context="Telemetry" />
      )}
      <section className="jp-aml-Card" aria-label="Telemetry totals">
        <h3 className="jp-aml-Card-title">
          Totals <span className="jp-aml-Muted">({WINDOWS.find(w => w[0] === minutes)?.[1]})</span>
        </h3>
        <table className="jp-aml-Table jp-aml-Totals" aria-label="Telemetry totals">
          <tbody>
            <tr>
              {totals.map(([label]) => (
                <th key={label} scope="col">
                  {label}
                </th>
              ))}
            </tr>
            <tr>
              {totals.map(([label, value]) => (
                <td key={label} data-label={label}>
                  {value}
                </td>
              ))}
            </tr>
          </tbody>
        </table>
        {t.requests === 0 && (
          <div className="jp-aml-Muted">
            No requests in this window. Send one from the Test tab, or call the scoring URI.
          </div>
        )}
      </section>
      <div className="jp-aml-ChartGrid">
        <section className="jp-aml-Card" aria-label="Requests per minute">
          <h3 className="jp-aml-Card-title">Requests per minute</h3>
          <LineChart title="requests per minute" series={series.slice(0, 2)} xMode="time" />
        </section>
        <section className="jp-aml-Card" aria-label="Latency per minute">
          <h3 className="jp-aml-Card-title">Latency (ms)</h3>
          <LineChart title="latency" series={series.slice(2)} xMode="time" />
        </section>
      </div>
    </div>
  );
}

// -- widget ------------------------------------------------------------------------------------------

/** The React content of an endpoint page. */
export class EndpointDetailsPanel extends ReactWidget {
  constructor(
    readonly options: IEndpointDetailsOptions,
    private readonly _onService: (service: IWebservice) => void,
    private readonly _onDeleted: () => void
  ) {
    super();
    this.addClass('jp-aml-EndpointDetailsPanel');
  }

  get workspace(): string {
    return this.options.workspace;
  }

  get name(): string {
    return this.options.name;
  }

  /** Switch to a tab: overview, keys, test, logs, telemetry. */
  showTab(tab: string): void {
    this._tabRequest = { tab, n: (this._tabRequest?.n ?? 0) + 1 };
    this.update();
  }

  protected render(): JSX.Element {
    return (
      <EndpointDetailsView
        {...this.options}
        tabRequest={this._tabRequest}
        onService={this._onService}
        onDeleted={this._onDeleted}
      />
    );
  }

  private _tabRequest: { tab: string; n: number } | null = null;
}

/** An endpoint page: a MainAreaWidget whose title follows the endpoint's state. */
export function createEndpointDetails(
  options: IEndpointDetailsOptions
): MainAreaWidget<EndpointDetailsPanel> {
  let widget: MainAreaWidget<EndpointDetailsPanel> | null = null;
  const content = new EndpointDetailsPanel(
    options,
    svc => {
      if (widget) {
        widget.title.caption = `Endpoint ${svc.name} in ${svc.workspace} (${svc.state})\n${
          svc.scoring_uri ?? 'not listening yet'
        }`;
      }
    },
    () => {
      // Deleted from this page: close it (a delete from elsewhere leaves it open, saying so).
      window.setTimeout(() => widget?.dispose(), 0);
    }
  );
  widget = new MainAreaWidget({ content });
  widget.id = `jp-aml-endpoint-${options.workspace}-${options.name}`.replace(/[^\w-]/g, '_');
  widget.title.label = `Endpoint ${options.name}`;
  widget.title.icon = amlIcon;
  widget.title.closable = true;
  widget.addClass('jp-aml-EndpointDetailsWidget');
  return widget;
}
