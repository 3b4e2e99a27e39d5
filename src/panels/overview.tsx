/** Run details, "Overview" tab: status, times, compute, environment, tags, properties, git. */
import React from 'react';

import { IRun, IRunConfig } from '../api';
import { formatDateTimeLong, formatDuration, runDurationSeconds, runNumber } from '../format';
import { KeyValueTable, StatusBadge } from './components';

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function environmentText(config: IRunConfig): string {
  const env = config.environment;
  if (!env) {
    return '—';
  }
  const name = `${env.name ?? 'default'}${env.version ? ` v${env.version}` : ''}`;
  const python = env.python;
  if (!python || python.user_managed !== false) {
    return `${name} (user-managed${python?.interpreter_path ? `: ${python.interpreter_path}` : ''})`;
  }
  const pip = python.pip ?? [];
  return `${name} (pip: ${pip.length ? pip.join(', ') : 'no packages'})`;
}

function Field(props: { label: string; children: React.ReactNode }): JSX.Element {
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

/** Run properties the service sets when it refused logged records it cannot store (docs/reliability.md). */
const REJECTED_COUNT = 'aml.journal.rejected';
const REJECTED_REASON = 'aml.journal.rejected_reason';

/** A one-line warning when some of the run's logged records were refused (the rest were stored). */
function RejectedRecords(props: { properties: { [key: string]: string } }): JSX.Element | null {
  const count = props.properties[REJECTED_COUNT];
  if (!count) {
    return null;
  }
  const reason = props.properties[REJECTED_REASON];
  return (
    <div
      className="jp-aml-Error jp-aml-RejectedRecords"
      role="status"
      style={{ borderLeftColor: 'var(--jp-warn-color1)' }}
    >
      {count} logged record(s) could not be stored and were dropped; everything else was kept.
      {reason && <div className="jp-aml-Error-hint">Last: {reason}</div>}
    </div>
  );
}

export function RunOverview(props: { run: IRun; onOpenRun: (runId: string) => void }): JSX.Element {
  const { run } = props;
  const { run_config: config, git, error } = run;
  return (
    <div className="jp-aml-Overview">
      <RejectedRecords properties={run.properties} />
      {error && (
        <div className="jp-aml-Error" role="alert">
          <div className="jp-aml-Error-message">{error.message || 'The run failed.'}</div>
          {error.details && (
            <details>
              <summary>Details</summary>
              <pre className="jp-aml-Pre">{error.details}</pre>
            </details>
          )}
        </div>
      )}
      <section aria-label="Run properties" className="jp-aml-Card">
        <h3 className="jp-aml-Card-title">Details</h3>
        <dl className="jp-aml-Fields">
          <Field label="Status">
            <StatusBadge status={run.status} />
            {run.exit_code !== null && run.exit_code !== undefined && (
              <span className="jp-aml-Muted"> exit code {run.exit_code}</span>
            )}
          </Field>
          <Field label="Run">{runNumber(run)}</Field>
          <Field label="Run ID">
            <code>{run.id}</code>
          </Field>
          <Field label="Experiment">{run.experiment}</Field>
          <Field label="Kind">{run.kind}</Field>
          {run.parent_id && (
            <Field label="Parent run">
              <button
                type="button"
                className="jp-aml-LinkButton"
                title={run.parent_id}
                onClick={() => run.parent_id && props.onOpenRun(run.parent_id)}
              >
                {parentNumber(run) ?? run.parent_id}
              </button>
            </Field>
          )}
          <Field label="Created">{formatDateTimeLong(run.created_at) ?? '—'}</Field>
          <Field label="Started">{formatDateTimeLong(run.start_time) ?? '—'}</Field>
          <Field label="Ended">{formatDateTimeLong(run.end_time) ?? '—'}</Field>
          <Field label="Duration">{formatDuration(runDurationSeconds(run))}</Field>
          <Field label="Compute target">{run.compute_target ?? 'none (interactive)'}</Field>
          {config && <Field label="Environment">{environmentText(config)}</Field>}
          <Field label="Submitted by">{run.submitter || '—'}</Field>
          {config?.script && (
            <Field label="Script">
              <code>{[config.script, ...(config.arguments ?? [])].map(quoteArg).join(' ')}</code>
            </Field>
          )}
          {run.description && <Field label="Description">{run.description}</Field>}
          {run.snapshot_id && (
            <Field label="Snapshot">
              <code title={run.snapshot_id}>{run.snapshot_id.slice(0, 12)}</code>
            </Field>
          )}
        </dl>
      </section>
      <section aria-label="Tags" className="jp-aml-Card">
        <h3 className="jp-aml-Card-title">Tags</h3>
        <KeyValueTable label="Tags" entries={run.tags} empty="No tags." />
      </section>
      <section aria-label="Properties" className="jp-aml-Card">
        <h3 className="jp-aml-Card-title">Properties</h3>
        <KeyValueTable label="Properties" entries={run.properties} empty="No properties." />
      </section>
      <section aria-label="Git" className="jp-aml-Card">
        <h3 className="jp-aml-Card-title">Git</h3>
        {git ? (
          <>
            <dl className="jp-aml-Fields">
              <Field label="Repository">{git.repository ?? '—'}</Field>
              <Field label="Branch">{git.branch ?? '—'}</Field>
              <Field label="Commit">
                <code>{git.commit ?? '—'}</code>
              </Field>
              <Field label="Working tree">
                {git.dirty ? (
                  <span className="jp-aml-Dirty">dirty (uncommitted changes)</span>
                ) : (
                  'clean'
                )}
              </Field>
              {git.untracked && git.untracked.length > 0 && (
                <Field label="Untracked">{git.untracked.join(', ')}</Field>
              )}
            </dl>
            {git.diff && (
              <details className="jp-aml-Diff">
                <summary>Uncommitted changes{git.diff_truncated ? ' (truncated)' : ''}</summary>
                <pre className="jp-aml-Pre" aria-label="Git diff">
                  {git.diff.split('\n').map((line, i) => (
                    <span
                      key={i}
                      className={
                        line.startsWith('+') && !line.startsWith('+++')
                          ? 'jp-aml-Diff-add'
                          : line.startsWith('-') && !line.startsWith('---')
                            ? 'jp-aml-Diff-del'
                            : line.startsWith('@@')
                              ? 'jp-aml-Diff-hunk'
                              : undefined
                      }
                    >
                      {line}
                      {'\n'}
                    </span>
                  ))}
                </pre>
              </details>
            )}
          </>
        ) : (
          <div className="jp-aml-Muted">
            {run.kind === 'script'
              ? 'The submitted folder was not in a git repository.'
              : 'No git information was recorded for this run.'}
          </div>
        )}
      </section>
    </div>
  );
}

/** The parent's "#4" read off a child's "4.1" (children are numbered under their parent). */
function parentNumber(run: IRun): string | null {
  const shown = run.display_number ?? '';
  const cut = shown.lastIndexOf('.');
  return cut > 0 ? `#${shown.slice(0, cut)}` : null;
}
