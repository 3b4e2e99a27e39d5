/** Experiments section: one row per experiment, each expanding to a paged runs table. */
import React, { useCallback, useEffect, useRef, useState } from 'react';

import { AMLService, IExperiment, IRun } from '../api';
import { formatDateTime, formatDateTimeLong, formatDuration, runDurationSeconds } from '../format';
import { EmptyState, ErrorView, Loading, Section, StatusBadge } from './components';
import { useRequest } from './hooks';

/** Runs fetched per page (the server allows up to 500). */
export const RUNS_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

export interface IExperimentsSectionProps {
  service: AMLService;
  workspace: string;
  refreshKey: number;
  defaultExperiment: string;
}

export function ExperimentsSection(props: IExperimentsSectionProps): JSX.Element {
  const { service, workspace, refreshKey } = props;
  const experiments = useRequest(() => service.listExperiments(workspace), [workspace, refreshKey]);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(
    () => new Set(props.defaultExperiment ? [props.defaultExperiment] : [])
  );
  // Settings load after the panel first renders: expand the default experiment when it arrives.
  useEffect(() => {
    const name = props.defaultExperiment;
    if (name) {
      setExpanded(prev => (prev.has(name) ? prev : new Set(prev).add(name)));
    }
  }, [props.defaultExperiment]);
  const toggle = (name: string) =>
    setExpanded(prev => {
      const next = new Set(prev);
      if (next.has(name)) {
        next.delete(name);
      } else {
        next.add(name);
      }
      return next;
    });

  let body: React.ReactNode;
  if (experiments.data === undefined) {
    body = experiments.error ? (
      <ErrorView error={experiments.error} onRetry={experiments.reload} context="Experiments" />
    ) : (
      <Loading label="Loading experiments…" />
    );
  } else if (experiments.data.length === 0) {
    body = (
      <>
        {experiments.error !== undefined && (
          <ErrorView error={experiments.error} onRetry={experiments.reload} context="Experiments" />
        )}
        <EmptyState>
          No experiments yet. Create one from Python with <code>Experiment(ws, "name")</code>, then{' '}
          <code>exp.submit(...)</code> or <code>exp.start_logging()</code>.
        </EmptyState>
      </>
    );
  } else {
    body = (
      <>
        {experiments.error !== undefined && (
          <ErrorView error={experiments.error} onRetry={experiments.reload} context="Experiments" />
        )}
        <ul className="jp-aml-List" aria-label="Experiments">
          {experiments.data.map(exp => (
            <ExperimentItem
              key={exp.name}
              experiment={exp}
              expanded={expanded.has(exp.name)}
              onToggle={() => toggle(exp.name)}
              service={service}
              workspace={workspace}
              refreshKey={refreshKey}
            />
          ))}
        </ul>
      </>
    );
  }

  return (
    <Section
      id="experiments"
      title="Experiments"
      defaultOpen={true}
      badge={experiments.data ? experiments.data.length : undefined}
    >
      {body}
    </Section>
  );
}

function ExperimentItem(props: {
  experiment: IExperiment;
  expanded: boolean;
  onToggle: () => void;
  service: AMLService;
  workspace: string;
  refreshKey: number;
}): JSX.Element {
  const name = props.experiment.name;
  return (
    <li className="jp-aml-ListItem jp-aml-Experiment" data-experiment={name}>
      <button
        type="button"
        className="jp-aml-ListItem-toggle"
        aria-expanded={props.expanded}
        aria-label={`Experiment ${name}`}
        onClick={props.onToggle}
      >
        <span className="jp-aml-Caret" aria-hidden="true" data-open={props.expanded} />
        <span className="jp-aml-ListItem-name">{name}</span>
      </button>
      {props.expanded && (
        <RunsTable
          service={props.service}
          workspace={props.workspace}
          experiment={name}
          refreshKey={props.refreshKey}
        />
      )}
    </li>
  );
}

interface IRunsPage {
  items: IRun[];
  nextPageToken: string | null;
  total: number | null;
}

/** Runs of one experiment, newest first, with "load more". */
export function RunsTable(props: {
  service: AMLService;
  workspace: string;
  experiment: string;
  refreshKey: number;
}): JSX.Element {
  const { service, workspace, experiment, refreshKey } = props;
  // A refresh reloads as many runs as are shown, so "load more" results do not vanish.
  const shown = useRef(0);
  // Pages appended by "load more", valid only on top of the first page they were loaded after.
  const [extra, setExtra] = useState<{ base: IRunsPage; runs: IRunsPage } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(undefined);
  const [loadingMore, setLoadingMore] = useState(false);

  const first = useRequest(async (): Promise<IRunsPage> => {
    const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(RUNS_PAGE_SIZE, shown.current));
    const page = await service.listRuns(workspace, {
      experiment,
      pageSize,
      sort: '-created_at'
    });
    return { items: page.items, nextPageToken: page.next_page_token, total: page.total ?? null };
  }, [workspace, experiment, refreshKey]);

  const runs: IRunsPage | undefined =
    first.data && extra && extra.base === first.data ? extra.runs : first.data;
  shown.current = runs ? runs.items.length : 0;

  const loadMore = useCallback(async () => {
    if (!runs || !runs.nextPageToken) {
      return;
    }
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const page = await service.listRuns(workspace, {
        experiment,
        pageSize: RUNS_PAGE_SIZE,
        sort: '-created_at',
        pageToken: runs.nextPageToken
      });
      const seen = new Set(runs.items.map(r => r.id));
      if (first.data) {
        setExtra({
          base: first.data,
          runs: {
            items: [...runs.items, ...page.items.filter(r => !seen.has(r.id))],
            nextPageToken: page.next_page_token,
            total: page.total ?? runs.total
          }
        });
      }
    } catch (reason) {
      setMoreError(reason);
    } finally {
      setLoadingMore(false);
    }
  }, [runs, first.data, service, workspace, experiment]);

  if (!runs) {
    return first.error ? (
      <ErrorView error={first.error} onRetry={first.reload} context={`Runs of ${experiment}`} />
    ) : (
      <Loading label="Loading runs…" />
    );
  }
  const now = Date.now();
  return (
    <div className="jp-aml-Runs">
      {first.error !== undefined && (
        <ErrorView error={first.error} onRetry={first.reload} context={`Runs of ${experiment}`} />
      )}
      {runs.items.length === 0 ? (
        <EmptyState>No runs in this experiment yet.</EmptyState>
      ) : (
        <div className="jp-aml-TableScroll">
          <table className="jp-aml-Table" aria-label={`Runs of experiment ${experiment}`}>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.items.map(run => (
                <tr key={run.id} data-run-id={run.id}>
                  <td
                    className="jp-aml-Run-name"
                    title={run.display_name ? `${run.display_name} (${run.id})` : run.id}
                  >
                    <span className="jp-aml-Run-number">#{run.number}</span>
                    {run.display_name ? (
                      <span className="jp-aml-Run-displayName"> {run.display_name}</span>
                    ) : null}
                  </td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td title={formatDateTimeLong(run.start_time)}>
                    {formatDateTime(run.start_time)}
                  </td>
                  <td>{formatDuration(runDurationSeconds(run, now))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="jp-aml-Runs-footer">
        <span className="jp-aml-Runs-count">
          {runs.items.length === 0
            ? ''
            : runs.total !== null
              ? `${runs.items.length} of ${runs.total} runs`
              : `${runs.items.length} runs`}
        </span>
        {runs.nextPageToken && (
          <button
            type="button"
            className="jp-mod-styled jp-aml-Button"
            onClick={() => void loadMore()}
            disabled={loadingMore}
            aria-label={`Load more runs of ${experiment}`}
          >
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
      {moreError !== undefined && (
        <ErrorView error={moreError} onRetry={() => void loadMore()} context="Loading more runs" />
      )}
    </div>
  );
}
