/**
 * Pipelines section of the sidebar: the workspace's pipeline runs, newest first, each with its status,
 * how many of its steps completed ("3/4 steps", reused ones counted and named), and when it started.
 * Clicking one opens its run page (its Graph tab draws the steps). The list follows the push channel:
 * it loads again when a listed pipeline run or one of its steps changes, or a new pipeline run starts.
 * Its other tabs list the published pipelines, the pipeline endpoints with their versions and default,
 * and the schedules with their next fire times (published.tsx, schedules.tsx).
 */
import React, { useState } from 'react';

import { AMLService, IPipelineRunPage, IPipelineRunSummary } from '../../api';
import { formatDateTime, formatDateTimeLong, runShortName } from '../../format';
import { useLiveQuery } from '../../live/hooks';
import { EmptyState, ErrorView, Loading, RunLink, Section, StatusBadge, Tabs } from '../components';
import { IRequestState } from '../hooks';
import { IRunActions } from '../runs-table';
import { EndpointsList, PublishedList } from './published';
import { SchedulesList } from './schedules';

const PAGE_SIZE = 25;
const RUNSOURCE = 'azureml.PipelineRun'; // a pipeline run's azureml.runsource (core/pipelines.py)

/** "3/4 steps": completed (reused included) of all; the reused and failed ones said apart. */
export function stepCountText(counts: IPipelineRunSummary['steps']): string {
  const extra = [
    counts.reused ? `${counts.reused} reused` : '',
    counts.running ? `${counts.running} running` : '',
    counts.failed ? `${counts.failed} failed` : '',
    counts.skipped ? `${counts.skipped} skipped` : ''
  ].filter(Boolean);
  return `${counts.completed}/${counts.total} steps${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

/** Whether a run is a pipeline's parent run (it carries v1's runsource property). */
export function isPipelineRun(run: { properties?: Record<string, string> | null }): boolean {
  return run.properties?.['azureml.runsource'] === RUNSOURCE;
}

export function PipelinesSection(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
  actions: IRunActions;
}): JSX.Element {
  const { service, workspace, refreshKey, actions } = props;
  const [tab, setTab] = useState('runs');
  // Publishing sends no push event: the Published, Endpoints and Schedules tabs load again each time
  // one is chosen (and on the sidebar's refresh).
  const [selections, setSelections] = useState(0);
  const reloadKey = refreshKey + selections;
  const onSelect = (id: string) => {
    setTab(id);
    setSelections(n => n + 1);
  };
  // Page tokens of the pages before the one shown (the first page has none).
  const [tokens, setTokens] = useState<Array<string | null>>([null]);
  const token = tokens[tokens.length - 1];
  const runs: IRequestState<IPipelineRunPage> = useLiveQuery(
    service,
    workspace,
    () => service.listPipelineRuns(workspace, { pageSize: PAGE_SIZE, pageToken: token }),
    [refreshKey, token],
    {
      reloadOn: event => {
        if (event.type !== 'run') {
          return false;
        }
        const shown = runs.data?.items ?? [];
        const { id, parent_id: parent } = event.run;
        return (
          shown.some(i => i.run.id === id || i.run.id === parent) ||
          (parent === null && isPipelineRun(event.run))
        );
      }
    }
  );
  const onOpen = (runId: string) => actions.openRun(workspace, runId);

  let body: React.ReactNode;
  const error = runs.error !== undefined && (
    <ErrorView error={runs.error} onRetry={runs.reload} context="Pipelines" />
  );
  if (runs.data === undefined) {
    body = error || <Loading label="Loading pipeline runs…" />;
  } else if (runs.data.items.length === 0 && tokens.length === 1) {
    body = (
      <>
        {error}
        <EmptyState>
          No pipeline runs yet. Submit one from Python with{' '}
          <code>exp.submit(Pipeline(ws, steps=[...]))</code>, its steps made with{' '}
          <code>PythonScriptStep(...)</code>: each run is listed here, and its page draws the steps
          as a graph.
        </EmptyState>
      </>
    );
  } else {
    const next = runs.data.next_page_token;
    body = (
      <>
        {error}
        <ul className="jp-aml-List jp-aml-PipelineRuns" aria-label="Pipeline runs">
          {runs.data.items.map(({ run, steps }) => (
            <li
              key={run.id}
              className="jp-aml-ListItem jp-aml-PipelineRun"
              data-run-id={run.id}
              data-status={run.status}
            >
              <div className="jp-aml-PipelineRun-head">
                <RunLink
                  name={`${run.experiment} ${runShortName(run)}`}
                  runId={run.id}
                  onOpenRun={onOpen}
                />
                <StatusBadge status={run.status} />
              </div>
              <div className="jp-aml-ListItem-meta">
                <span className="jp-aml-PipelineRun-steps">{stepCountText(steps)}</span>
                {' · '}
                <span title={formatDateTimeLong(run.start_time ?? run.created_at)}>
                  {run.start_time ? 'started' : 'created'}{' '}
                  {formatDateTime(run.start_time ?? run.created_at)}
                </span>
              </div>
            </li>
          ))}
        </ul>
        {(tokens.length > 1 || next) && (
          <div className="jp-aml-Pager">
            <button
              type="button"
              className="jp-mod-styled jp-aml-Button"
              aria-label="Newer pipeline runs"
              disabled={tokens.length === 1}
              onClick={() => setTokens(tokens.slice(0, -1))}
            >
              ‹
            </button>
            <button
              type="button"
              className="jp-mod-styled jp-aml-Button"
              aria-label="Older pipeline runs"
              disabled={!next}
              onClick={() => next && setTokens([...tokens, next])}
            >
              ›
            </button>
          </div>
        )}
      </>
    );
  }

  return (
    <Section id="pipelines" title="Pipelines" badge={runs.data ? runs.data.total : undefined}>
      <Tabs
        label="Pipelines"
        selected={tab}
        onSelect={onSelect}
        tabs={[
          { id: 'runs', label: 'Runs', render: () => body },
          {
            id: 'published',
            label: 'Published',
            render: () => (
              <PublishedList service={service} workspace={workspace} refreshKey={reloadKey} />
            )
          },
          {
            id: 'endpoints',
            label: 'Endpoints',
            render: () => (
              <EndpointsList service={service} workspace={workspace} refreshKey={reloadKey} />
            )
          },
          {
            id: 'schedules',
            label: 'Schedules',
            render: () => (
              <SchedulesList
                service={service}
                workspace={workspace}
                refreshKey={reloadKey}
                onOpenRun={onOpen}
              />
            )
          }
        ]}
      />
    </Section>
  );
}
