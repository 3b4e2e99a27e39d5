/**
 * An endpoint's page in the main area: overview (URIs, state, revision, models, replicas), keys,
 * a Test tab (a request sent through the Jupyter server, which forwards it with the service's key),
 * the service's log, and its telemetry (requests, errors and latency percentiles per minute).
 * The tabs live in ./endpoint/; this module holds the page: its loading, live updates and delete.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import React, { useEffect, useState } from 'react';

import { AMLService, IWebservice } from '../api';
import { amlIcon } from '../icons';
import { useLiveEpoch, useLiveEvents } from '../live/hooks';
import { AMLRequestError } from '../request';
import { ITab, EmptyState } from './components';
import {
  DetailPanel,
  DetailPending,
  DetailShell,
  detailWidget,
  ITabRequest,
  useDetailTab
} from './detail-shell';
import { EndpointKeys } from './endpoint/keys';
import { EndpointLogs } from './endpoint/logs';
import { EndpointOverview } from './endpoint/overview';
import { EndpointTelemetry } from './endpoint/telemetry';
import { EndpointTest } from './endpoint/test-request';
import { useRequest, useThrottled } from './hooks';
import { confirmDanger, IAssetActions, notifyError } from './registry-common';

export const ENDPOINT_TABS = ['overview', 'keys', 'test', 'logs', 'telemetry'] as const;

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

/** Ask, then delete the endpoint; tracks the request's progress and error. */
function useEndpointDelete(
  service: AMLService,
  workspace: string,
  name: string,
  onDeleted: () => void
): { deleting: boolean; error: unknown; remove: () => Promise<void> } {
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
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
    setError(undefined);
    try {
      await service.deleteWebservice(workspace, name);
      onDeleted();
    } catch (reason) {
      setError(reason);
      notifyError(`Delete endpoint ${name}`, reason);
    } finally {
      setDeleting(false);
    }
  };
  return { deleting, error, remove };
}

function endpointTabs(
  props: IEndpointDetailsOptions,
  svc: IWebservice,
  /** Changes after every test request and web-service event: the logs and telemetry reload. */
  reloadKey: number,
  onSent: () => void
): ITab[] {
  const { service, workspace, name } = props;
  return [
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
        <EndpointTest service={service} workspace={workspace} svc={svc} onSent={onSent} />
      )
    },
    {
      id: 'logs',
      label: 'Logs',
      render: () => (
        <EndpointLogs service={service} workspace={workspace} name={name} reloadKey={reloadKey} />
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
          reloadKey={reloadKey}
        />
      )
    }
  ];
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
  const [tab, setTab] = useDetailTab(props.tab, props.tabRequest);
  const [deleted, setDeleted] = useState(false);
  const deletion = useEndpointDelete(service, workspace, name, () => {
    setDeleted(true);
    props.onDeleted();
  });
  // Bumped after every test request: the logs and telemetry tabs reload.
  const [tests, setTests] = useState(0);
  // Bumped on every web-service event of this endpoint.
  const [changes, setChanges] = useState(0);

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
  useEffect(() => {
    if (svc) {
      onService(svc);
    }
  }, [svc, onService]);

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
    return (
      <DetailPending
        error={loaded.error}
        onRetry={loaded.reload}
        context={`Endpoint ${name}`}
        label="Loading endpoint…"
      />
    );
  }

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
      refreshLabel="Refresh endpoint"
      onRefresh={() => setTick(t => t + 1)}
      actions={
        <button
          type="button"
          className="jp-mod-styled jp-mod-warn jp-aml-Button"
          disabled={deletion.deleting}
          onClick={() => void deletion.remove()}
        >
          {deletion.deleting ? 'Deleting…' : 'Delete endpoint'}
        </button>
      }
      errors={[
        loaded.error !== undefined
          ? { error: loaded.error, onRetry: loaded.reload, context: 'Refresh' }
          : null,
        deletion.error !== undefined ? { error: deletion.error, context: 'Delete' } : null
      ]}
      tabs={endpointTabs(props, svc, tests + changes + epoch, onSent)}
      tab={tab}
      onTab={setTab}
    />
  );
}

/** The React content of an endpoint page. */
export class EndpointDetailsPanel extends DetailPanel {
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
  widget = detailWidget(content, {
    id: `jp-aml-endpoint-${options.workspace}-${options.name}`,
    label: `Endpoint ${options.name}`,
    icon: amlIcon,
    className: 'jp-aml-EndpointDetailsWidget'
  });
  return widget;
}
