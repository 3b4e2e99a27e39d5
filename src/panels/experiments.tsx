/** Experiments section: one row per experiment, each expanding to a runs table. */
import React, { useEffect, useState } from 'react';

import { AMLService, IExperiment } from '../api';
import { useLiveQuery } from '../live/hooks';
import { EmptyState, ErrorView, Loading, Section } from './components';
import { IRunActions, RunsTable } from './runs-table';

export interface IExperimentsSectionProps {
  service: AMLService;
  workspace: string;
  refreshKey: number;
  defaultExperiment: string;
  pageSize: number;
  actions: IRunActions;
}

export function ExperimentsSection(props: IExperimentsSectionProps): JSX.Element {
  const { service, workspace, refreshKey } = props;
  // Archived experiments (v1's Experiment.archive()) are hidden unless asked for, as Experiment.list does.
  const [showArchived, setShowArchived] = useState(false);
  // Top-level runs may mean a new experiment or new run counts: reload (at most every 2 s).
  const experiments = useLiveQuery(
    service,
    workspace,
    () => service.listExperiments(workspace, showArchived ? 'All' : undefined),
    [refreshKey, showArchived],
    { reloadOn: event => event.type === 'run' && event.run.parent_id === null, throttleMs: 2000 }
  );
  const archivedToggle = (
    <label className="jp-aml-Check jp-aml-ArchivedToggle">
      <input
        type="checkbox"
        checked={showArchived}
        onChange={e => setShowArchived(e.target.checked)}
      />
      Show archived
    </label>
  );
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
        {archivedToggle}
        <EmptyState>
          No experiments yet. Right-click a folder in the file browser and choose{' '}
          <em>Submit Folder as Run…</em>, or from Python use <code>Experiment(ws, "name")</code>{' '}
          then <code>exp.submit(...)</code> or <code>exp.start_logging()</code>.
        </EmptyState>
      </>
    );
  } else {
    body = (
      <>
        {experiments.error !== undefined && (
          <ErrorView error={experiments.error} onRetry={experiments.reload} context="Experiments" />
        )}
        {archivedToggle}
        <ul className="jp-aml-List" aria-label="Experiments">
          {experiments.data.map(exp => (
            <ExperimentItem
              key={exp.name}
              experiment={exp}
              expanded={expanded.has(exp.name)}
              onToggle={() => toggle(exp.name)}
              {...props}
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

/**
 * What the badge counts, in words: "3 runs (+5 child runs)". The numbers are the server's (the experiment's
 * run_count is its top-level runs, the rows of its table; child_run_count the runs under them), as
 * `aml experiment list` prints them.
 */
export function experimentCountLabel(runs: number, children: number): string {
  const plural = (n: number, what: string) => `${n.toLocaleString()} ${what}${n === 1 ? '' : 's'}`;
  return plural(runs, 'run') + (children > 0 ? ` (+${plural(children, 'child run')})` : '');
}

function ExperimentItem(
  props: IExperimentsSectionProps & {
    experiment: IExperiment;
    expanded: boolean;
    onToggle: () => void;
  }
): JSX.Element {
  const name = props.experiment.name;
  const count = props.experiment.run_count;
  const children = props.experiment.child_run_count ?? 0;
  const countLabel = experimentCountLabel(count, children);
  const archived = props.experiment.archived_time ?? null;
  return (
    <li
      className="jp-aml-ListItem jp-aml-Experiment"
      data-experiment={name}
      data-archived={archived !== null}
    >
      <button
        type="button"
        className="jp-aml-ListItem-toggle"
        aria-expanded={props.expanded}
        aria-label={`Experiment ${name}`}
        onClick={props.onToggle}
      >
        <span className="jp-aml-Caret" aria-hidden="true" data-open={props.expanded} />
        <span className="jp-aml-ListItem-name">{name}</span>
        {archived !== null && (
          <span className="jp-aml-Tag" title={`Archived ${archived}; reactivate() brings it back`}>
            archived
          </span>
        )}
        {typeof count === 'number' && (
          <span className="jp-aml-ListItem-count" title={countLabel} aria-label={countLabel}>
            {count.toLocaleString()}
            {children > 0 && (
              <span className="jp-aml-ListItem-childCount"> +{children.toLocaleString()}</span>
            )}
          </span>
        )}
      </button>
      {props.expanded && (
        <RunsTable
          service={props.service}
          workspace={props.workspace}
          experiment={name}
          refreshKey={props.refreshKey}
          pageSize={props.pageSize}
          actions={props.actions}
        />
      )}
    </li>
  );
}
