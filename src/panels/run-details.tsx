/**
 * A run's page in the main area: overview, metrics, logs, outputs, snapshot and child runs, and a
 * Datasets tab for a run that read or wrote datasets.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import React, { useEffect, useState } from 'react';

import { AMLService, ILineageEntry, IRun, isTerminal } from '../api';
import { runShortName } from '../format';
import { useLiveRun, useLiveWorkspace } from '../live/hooks';
import { IAMLSettings } from '../tokens';
import { RunChildren } from './children';
import { DetailPanel, detailWidget, ITabRequest } from './detail-panel';
import { DetailPending, DetailShell, useItemReport, useShellAction } from './detail-shell';
import { RunOutputs, RunSnapshot } from './files';
import { RunLogs } from './logs';
import { RunMetrics } from './metrics';
import { useRequest } from './hooks';
import { RunOverview } from './overview';
import { PipelineGraph } from './pipeline/graph';
import { isPipelineRun } from './pipeline/section';
import { RunDatasets } from './runs/datasets';

export interface IRunDetailsOptions {
  service: AMLService;
  workspace: string;
  runId: string;
  settings: () => IAMLSettings;
  openRun: (workspace: string, runId: string) => void;
  /** Tab to show first: overview, metrics, logs, outputs, snapshot, children; graph for a pipeline run. */
  tab?: string;
}

export function runLabel(run: Pick<IRun, 'id' | 'number' | 'display_name'>): string {
  return `Run ${runShortName(run)}`;
}

/** The run page's tabs: ids (as the open-run command takes them) and labels. */
export const RUN_TABS = {
  overview: 'Overview',
  metrics: 'Metrics',
  logs: 'Logs',
  outputs: 'Outputs',
  snapshot: 'Snapshot',
  children: 'Child runs'
} as const;

/**
 * RUN_TABS with Datasets after Outputs, for a run that has lineage (no empty tab otherwise), and Graph
 * after Overview for a pipeline run.
 */
function runTabs(
  lineage: ILineageEntry[] | undefined,
  pipeline: boolean
): Readonly<Record<string, string>> {
  const { overview, metrics, logs, outputs, ...rest } = RUN_TABS;
  return {
    overview,
    ...(pipeline ? { graph: 'Graph' } : {}),
    metrics,
    logs,
    outputs,
    ...(lineage?.length ? { datasets: 'Datasets' } : {}),
    ...rest
  };
}

function renderRunTab(
  props: IRunDetailsOptions,
  run: IRun,
  tab: string,
  lineage: ILineageEntry[] | undefined
): React.ReactNode {
  const { service, workspace, runId } = props;
  if (tab === 'datasets') {
    return (
      <RunDatasets service={service} workspace={workspace} runId={runId} lineage={lineage ?? []} />
    );
  }
  // Every tab reads the same workspace through the same service.
  const scope = { service, workspace };
  const openRun = (id: string) => props.openRun(workspace, id);
  if (tab === 'graph') {
    return <PipelineGraph {...scope} runId={runId} onOpenRun={openRun} />;
  }
  // One renderer per tab (the compiler checks none is missing).
  const renderers: Record<keyof typeof RUN_TABS, () => React.ReactNode> = {
    overview: () => <RunOverview run={run} onOpenRun={openRun} />,
    metrics: () => (
      <RunMetrics
        {...scope}
        runId={runId}
        status={run.status}
        maxPoints={props.settings().chartMaxPoints}
      />
    ),
    logs: () => <RunLogs {...scope} runId={runId} runName={`run-${run.number}`} />,
    outputs: () => <RunOutputs {...scope} runId={runId} />,
    snapshot: () => <RunSnapshot {...scope} snapshotId={run.snapshot_id} />,
    children: () => <RunChildren {...scope} runId={runId} onOpenRun={openRun} />
  };
  return renderers[tab as keyof typeof RUN_TABS]();
}

/**
 * A failed run's headline under its title: the exception and its last frame when the agent found a
 * traceback ("ZeroDivisionError: division by zero at train.py:12 in main"), else the error's message.
 */
export function FailureHeadline(props: { run: IRun }): JSX.Element | null {
  const { error, status } = props.run;
  if (!error || status !== 'Failed') {
    return null;
  }
  const frame = error.frame;
  return (
    <div className="jp-aml-RunHeadline" role="alert" data-exception={error.exception_type ?? ''}>
      {error.exception_type ? (
        <>
          <strong className="jp-aml-RunHeadline-type">{error.exception_type}</strong>
          {error.exception_message ? `: ${error.exception_message}` : ''}
          {frame && (
            <span className="jp-aml-RunHeadline-frame">
              {' at '}
              <code>
                {frame.file}:{frame.line}
              </code>
              {` in ${frame.function}`}
            </span>
          )}
        </>
      ) : (
        error.message || 'The run failed.'
      )}
    </div>
  );
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
  const cancellation = useShellAction('Cancel');
  const [now, setNow] = useState(Date.now());

  const run = loaded.data ?? null;
  useItemReport(run, onRun);
  // Read again when the status changes: outputs are registered as the run ends.
  const lineage = useRequest(
    () => service.getRunLineage(workspace, runId),
    [service, workspace, runId, run?.status]
  );

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
    return <DetailPending loaded={loaded} context={`Run ${runId}`} label="Loading run…" />;
  }
  const cancel = () =>
    cancellation.perform(async () => live.putRun(await service.cancelRun(workspace, runId)));
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
          <FailureHeadline run={run} />
        </>
      }
      loaded={loaded}
      refreshLabel="Refresh run"
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
      actionError={cancellation.error}
      tabs={runTabs(lineage.data, isPipelineRun(run))}
      renderTab={tab => renderRunTab(props, run, tab, lineage.data)}
      initialTab={props.tab}
      tabRequest={props.tabRequest}
    />
  );
}

/** The React content of a run page; its title follows the run's name and status. */
export class RunDetailsPanel extends DetailPanel<IRunDetailsOptions> {
  constructor(options: IRunDetailsOptions) {
    super(options, 'jp-aml-RunDetailsPanel', `Run ${options.runId.slice(0, 8)}`);
  }

  get runId(): string {
    return this.options.runId;
  }

  protected render(): JSX.Element {
    return <RunDetailsView {...this.options} onRun={this._onRun} tabRequest={this.tabRequest} />;
  }

  private readonly _onRun = (run: IRun): void => {
    this.title.label = `${runLabel(run)} · ${run.experiment}`;
    this.title.caption = `${runLabel(run)} of ${run.experiment} (${run.status})\n${run.id}`;
  };
}

/** A run page in the main area. */
export function createRunDetails(options: IRunDetailsOptions): MainAreaWidget<RunDetailsPanel> {
  return detailWidget(new RunDetailsPanel(options), {
    id: `jp-aml-run-${options.workspace}-${options.runId}`,
    className: 'jp-aml-RunDetailsWidget'
  });
}
