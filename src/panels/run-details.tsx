/** A run's page in the main area: overview, metrics, logs, outputs, snapshot and child runs. */
import { MainAreaWidget } from '@jupyterlab/apputils';
import React, { useEffect, useState } from 'react';

import { AMLService, IRun, isTerminal } from '../api';
import { runShortName } from '../format';
import { amlIcon } from '../icons';
import { useLiveRun, useLiveWorkspace } from '../live/hooks';
import { IAMLSettings } from '../tokens';
import { RunChildren } from './children';
import { ITab } from './components';
import {
  DetailPanel,
  DetailPending,
  DetailShell,
  detailWidget,
  ITabRequest,
  useDetailTab
} from './detail-shell';
import { RunOutputs, RunSnapshot } from './files';
import { RunLogs } from './logs';
import { RunMetrics } from './metrics';
import { RunOverview } from './overview';

export interface IRunDetailsOptions {
  service: AMLService;
  workspace: string;
  runId: string;
  settings: () => IAMLSettings;
  openRun: (workspace: string, runId: string) => void;
  /** Tab to show first: overview, metrics, logs, outputs, snapshot, children. */
  tab?: string;
}

export function runLabel(run: Pick<IRun, 'id' | 'number' | 'display_name'>): string {
  return `Run ${runShortName(run)}`;
}

function runTabs(props: IRunDetailsOptions, run: IRun): ITab[] {
  const { service, workspace, runId } = props;
  const settings = props.settings();
  return [
    {
      id: 'overview',
      label: 'Overview',
      render: () => <RunOverview run={run} onOpenRun={id => props.openRun(workspace, id)} />
    },
    {
      id: 'metrics',
      label: 'Metrics',
      render: () => (
        <RunMetrics
          service={service}
          workspace={workspace}
          runId={runId}
          status={run.status}
          maxPoints={settings.chartMaxPoints}
        />
      )
    },
    {
      id: 'logs',
      label: 'Logs',
      render: () => (
        <RunLogs
          service={service}
          workspace={workspace}
          runId={runId}
          runName={`run-${run.number}`}
        />
      )
    },
    {
      id: 'outputs',
      label: 'Outputs',
      render: () => <RunOutputs service={service} workspace={workspace} runId={runId} />
    },
    {
      id: 'snapshot',
      label: 'Snapshot',
      render: () => (
        <RunSnapshot service={service} workspace={workspace} snapshotId={run.snapshot_id} />
      )
    },
    {
      id: 'children',
      label: 'Child runs',
      render: () => (
        <RunChildren
          service={service}
          workspace={workspace}
          runId={runId}
          onOpenRun={id => props.openRun(workspace, id)}
        />
      )
    }
  ];
}

function RunDetailsView(
  props: IRunDetailsOptions & {
    onRun: (run: IRun) => void;
    tabRequest: ITabRequest | null;
  }
): JSX.Element {
  const { service, workspace, runId, onRun } = props;
  // The store's copy: loaded from REST, then replaced by the push channel's.
  const live = useLiveWorkspace(service, workspace);
  const loaded = useLiveRun(service, workspace, runId);
  const [tab, setTab] = useDetailTab(props.tab, props.tabRequest);
  const [cancelError, setCancelError] = useState<unknown>(undefined);
  const [now, setNow] = useState(Date.now());

  const run = loaded.data ?? null;
  useEffect(() => {
    if (run) {
      onRun(run);
    }
  }, [run, onRun]);

  // Tick the duration of a running run.
  const active = run !== null && !isTerminal(run.status);
  useEffect(() => {
    if (!active) {
      return;
    }
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [active]);

  if (!run) {
    return (
      <DetailPending
        error={loaded.error}
        onRetry={loaded.reload}
        context={`Run ${runId}`}
        label="Loading run…"
      />
    );
  }
  const cancel = async () => {
    setCancelError(undefined);
    try {
      live.putRun(await service.cancelRun(workspace, runId));
    } catch (reason) {
      setCancelError(reason);
    }
  };
  return (
    <DetailShell
      className="jp-aml-RunDetails"
      data={{ 'run-id': run.id, status: run.status, now }}
      title={runLabel(run)}
      status={run.status}
      meta={
        <>
          {workspace} / {run.experiment}
          {run.compute_target ? ` · ${run.compute_target}` : ''}
        </>
      }
      refreshLabel="Refresh run"
      onRefresh={loaded.reload}
      actions={
        active && (
          <button
            type="button"
            className="jp-mod-styled jp-mod-warn jp-aml-Button"
            onClick={() => void cancel()}
          >
            Cancel run
          </button>
        )
      }
      errors={[
        loaded.error !== undefined
          ? { error: loaded.error, onRetry: loaded.reload, context: 'Refresh' }
          : null,
        cancelError !== undefined ? { error: cancelError, context: 'Cancel' } : null
      ]}
      tabs={runTabs(props, run)}
      tab={tab}
      onTab={setTab}
    />
  );
}

/** The React content of a run page. */
export class RunDetailsPanel extends DetailPanel {
  constructor(
    readonly options: IRunDetailsOptions,
    private readonly _onRun: (run: IRun) => void
  ) {
    super();
    this.addClass('jp-aml-RunDetailsPanel');
  }

  get workspace(): string {
    return this.options.workspace;
  }

  get runId(): string {
    return this.options.runId;
  }

  protected render(): JSX.Element {
    return <RunDetailsView {...this.options} onRun={this._onRun} tabRequest={this.tabRequest} />;
  }
}

/** A run page: a MainAreaWidget whose title follows the run's name and status. */
export function createRunDetails(options: IRunDetailsOptions): MainAreaWidget<RunDetailsPanel> {
  let widget: MainAreaWidget<RunDetailsPanel> | null = null;
  const content = new RunDetailsPanel(options, run => {
    if (widget) {
      widget.title.label = `${runLabel(run)} · ${run.experiment}`;
      widget.title.caption = `${runLabel(run)} of ${run.experiment} (${run.status})\n${run.id}`;
    }
  });
  widget = detailWidget(content, {
    id: `jp-aml-run-${options.workspace}-${options.runId}`,
    label: `Run ${options.runId.slice(0, 8)}`,
    icon: amlIcon,
    className: 'jp-aml-RunDetailsWidget'
  });
  return widget;
}
