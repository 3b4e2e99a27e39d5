/**
 * An endpoint's page in the main area: overview (URIs, state, revision, models, replicas), keys,
 * a Test tab (a request sent through the Jupyter server, which forwards it with the service's key),
 * the service's log, and its telemetry (requests, errors and latency percentiles per minute).
 * The tabs live in ./endpoint/; this module holds the page: its loading, live updates and delete.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import React, { useEffect, useState } from 'react';

import { AMLService, IWebservice } from '../api';
import { useLiveEpoch, useLiveEvents } from '../live/hooks';
import { AMLRequestError } from '../request';
import { EmptyState } from './components';
import { DetailPanel, detailWidget, ITabRequest } from './detail-panel';
import { DetailPending, DetailShell, useItemReport, useShellAction } from './detail-shell';
import { EndpointKeys } from './endpoint/keys';
import { EndpointLogs } from './endpoint/logs';
import { EndpointOverview } from './endpoint/overview';
import { EndpointTelemetry } from './endpoint/telemetry';
import { EndpointTest } from './endpoint/test-request';
import { useRequest, useThrottled } from './hooks';
import { confirmDanger, IAssetActions, notifyError } from './registry-common';

/** The endpoint page's tabs: ids (as the open-endpoint command takes them) and labels. */
export const ENDPOINT_TABS = {
  overview: 'Overview',
  keys: 'Keys',
  test: 'Test',
  logs: 'Logs',
  telemetry: 'Telemetry'
} as const;

export interface IEndpointDetailsOptions {
  service: AMLService;
  workspace: string;
  name: string;
  actions: IAssetActions;
  /** Tab to show first: overview, keys, test, logs, telemetry. */
  tab?: string;
}

/** The page of an endpoint that was deleted (here or elsewhere) or never existed. */
function EndpointGone(props: {
  name: string;
  workspace: string;
  onCheck: () => void;
}): JSX.Element {
  return (
    <div className="jp-aml-EndpointDetails">
      <EmptyState>
        The endpoint <strong>{props.name}</strong> was deleted (or does not exist in workspace{' '}
        {props.workspace}). Close this tab, or deploy it again with <code>Model.deploy(...)</code>.
      </EmptyState>
      <button
        type="button"
        className="jp-mod-styled jp-aml-Button jp-aml-CheckAgain"
        onClick={props.onCheck}
      >
        Check again
      </button>
    </div>
  );
}

/** Whether the user confirmed deleting the endpoint. */
function confirmDelete(name: string): Promise<boolean> {
  return confirmDanger({
    title: `Delete endpoint ${name}?`,
    body: (
      <>
        The web service <code>{name}</code> stops taking requests: its replicas drain and stop, its
        keys and telemetry are deleted. The models it uses stay registered.
      </>
    ),
    accept: 'Delete endpoint'
  });
}

function renderEndpointTab(
  props: IEndpointDetailsOptions,
  svc: IWebservice,
  tab: string,
  /** Changes after every test request and web-service event: the logs and telemetry reload. */
  reloadKey: number,
  onSent: () => void,
  /** The Logs tab's search (set by the Test tab's "Show in Logs"), and how to go there with one. */
  logs: { query: string; n: number; show: (query: string) => void }
): React.ReactNode {
  const { service, workspace, name } = props;
  // Every tab reads the same workspace through the same service.
  const scope = { service, workspace };
  // One renderer per tab (the compiler checks none is missing).
  const renderers: Record<keyof typeof ENDPOINT_TABS, () => React.ReactNode> = {
    overview: () => (
      <EndpointOverview
        svc={svc}
        onShowModel={(model, version) => props.actions.showModel(workspace, model, version)}
      />
    ),
    keys: () => <EndpointKeys {...scope} name={name} authEnabled={svc.auth_enabled} />,
    test: () => <EndpointTest {...scope} svc={svc} onSent={onSent} onShowLogs={logs.show} />,
    logs: () => (
      <EndpointLogs
        key={logs.n}
        {...scope}
        name={name}
        reloadKey={reloadKey}
        initialQuery={logs.query}
      />
    ),
    telemetry: () => <EndpointTelemetry {...scope} name={name} reloadKey={reloadKey} />
  };
  return renderers[tab as keyof typeof ENDPOINT_TABS]();
}

function EndpointDetailsView(
  props: IEndpointDetailsOptions & {
    tabRequest: ITabRequest | null;
    onService: (service: IWebservice) => void;
    onDeleted: () => void;
  }
): JSX.Element {
  const { service, workspace, name, onService } = props;
  const [tick, setTick] = useState(0);
  // Bumped when the push channel came back: events may be missing, so everything loads again.
  const epoch = useLiveEpoch(service, workspace);
  const loaded = useRequest(
    () => service.getWebservice(workspace, name),
    [workspace, name, tick, epoch]
  );
  const [deleted, setDeleted] = useState(false);
  const deletion = useShellAction('Delete');
  // Bumped after every test request: the logs and telemetry tabs reload.
  const [tests, setTests] = useState(0);
  // Bumped on every web-service event of this endpoint.
  const [changes, setChanges] = useState(0);
  // The Logs tab's starting search, and tab switches asked for by the panel or by a tab.
  const [logSearch, setLogSearch] = useState({ query: '', n: 0 });
  const [tabAsk, setTabAsk] = useState<ITabRequest | null>(props.tabRequest);
  useEffect(() => setTabAsk(props.tabRequest), [props.tabRequest]);

  const reloadSoon = useThrottled(() => {
    setTick(t => t + 1);
    setChanges(c => c + 1);
  }, 300);
  useLiveEvents(service, workspace, event => {
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
  useItemReport(svc, onService);

  const gone =
    deleted || (loaded.error instanceof AMLRequestError && loaded.error.code === 'NotFound');
  if (gone) {
    const checkAgain = () => {
      setDeleted(false);
      setTick(t => t + 1);
    };
    return <EndpointGone name={name} workspace={workspace} onCheck={checkAgain} />;
  }
  if (!svc) {
    return <DetailPending loaded={loaded} context={`Endpoint ${name}`} label="Loading endpoint…" />;
  }

  const remove = async () => {
    if (!(await confirmDelete(name))) {
      return;
    }
    await deletion.perform(
      async () => {
        await service.deleteWebservice(workspace, name);
        setDeleted(true);
        props.onDeleted();
      },
      reason => notifyError(`Delete endpoint ${name}`, reason)
    );
  };

  const showLogs = (query: string) => {
    setLogSearch(search => ({ query, n: search.n + 1 }));
    setTabAsk({ tab: 'logs', n: (tabAsk?.n ?? 0) + 1 });
  };
  const onSent = () => {
    setTests(n => n + 1);
    setTick(t => t + 1); // replicas' served counts
  };
  return (
    <DetailShell
      className="jp-aml-EndpointDetails"
      data={{ endpoint: svc.name, state: svc.state }}
      title={`Endpoint ${svc.name}`}
      status={svc.state}
      meta={
        <>
          {workspace} · {svc.compute_type} · revision {svc.revision}
          {svc.pending_models ? ' · a new revision is rolling out' : ''}
        </>
      }
      loaded={loaded}
      refreshLabel="Refresh endpoint"
      actions={
        <button
          type="button"
          className="jp-mod-styled jp-mod-warn jp-aml-Button"
          disabled={deletion.busy}
          onClick={() => void remove()}
        >
          {deletion.busy ? 'Deleting…' : 'Delete endpoint'}
        </button>
      }
      actionError={deletion.error}
      tabs={ENDPOINT_TABS}
      renderTab={tab =>
        renderEndpointTab(props, svc, tab, tests + changes + epoch, onSent, {
          ...logSearch,
          show: showLogs
        })
      }
      initialTab={props.tab}
      tabRequest={tabAsk}
    />
  );
}

/** The React content of an endpoint page; its title follows the endpoint's state. */
export class EndpointDetailsPanel extends DetailPanel<IEndpointDetailsOptions> {
  constructor(options: IEndpointDetailsOptions) {
    super(options, 'jp-aml-EndpointDetailsPanel', `Endpoint ${options.name}`);
  }

  get name(): string {
    return this.options.name;
  }

  protected render(): JSX.Element {
    return (
      <EndpointDetailsView
        {...this.options}
        tabRequest={this.tabRequest}
        onService={this._onService}
        onDeleted={this._onDeleted}
      />
    );
  }

  private readonly _onService = (svc: IWebservice): void => {
    this.title.caption = `Endpoint ${svc.name} in ${svc.workspace} (${svc.state})\n${
      svc.scoring_uri ?? 'not listening yet'
    }`;
  };

  /** Deleted from this page: close it (a delete from elsewhere leaves it open, saying so). */
  private readonly _onDeleted = (): void => {
    window.setTimeout(() => this.dispose(), 0);
  };
}

/** An endpoint page in the main area. */
export function createEndpointDetails(
  options: IEndpointDetailsOptions
): MainAreaWidget<EndpointDetailsPanel> {
  return detailWidget(new EndpointDetailsPanel(options), {
    id: `jp-aml-endpoint-${options.workspace}-${options.name}`,
    className: 'jp-aml-EndpointDetailsWidget'
  });
}
