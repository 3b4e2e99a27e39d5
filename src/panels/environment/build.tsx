/** A build's progress (elapsed seconds) and outcome: the interpreter, the log, or why it failed. */
import React, { useEffect, useState } from 'react';

import { AMLRequestError } from '../../request';
import { CopyButton } from '../registry-common';
import { failedBuildLog, IBuildState } from './spec';

/** Seconds since `started`, ticking once a second. */
function Elapsed(props: { started: number }): JSX.Element {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  return <>{Math.max(0, Math.round((now - props.started) / 1000))} s</>;
}

function BuildLog(props: { label: string; lines: string[]; summary: string }): JSX.Element | null {
  if (props.lines.length === 0) {
    return null;
  }
  return (
    <details className="jp-aml-BuildLog">
      <summary>
        {props.summary} ({props.lines.length} line{props.lines.length === 1 ? '' : 's'})
      </summary>
      <pre className="jp-aml-Pre" aria-label={props.label} tabIndex={0}>
        {props.lines.join('\n')}
      </pre>
    </details>
  );
}

/**
 * A failed build: the server's message (its first line, then the installer's last lines, kept as
 * lines), the error code and the hint.
 */
function BuildFailure(props: { label: string; error: unknown }): JSX.Element {
  const { error } = props;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof AMLRequestError ? error.code : '';
  const hint = error instanceof AMLRequestError ? error.hint : null;
  const [first, ...rest] = message.split('\n');
  const reason = rest.map(line => line.trim()).filter(line => line !== '');
  return (
    <div className="jp-aml-Error" role="alert">
      <div className="jp-aml-Error-message">
        <span className="jp-aml-Error-context">Build {props.label}: </span>
        {first}
        {code && <span className="jp-aml-Error-code"> ({code})</span>}
      </div>
      {reason.length > 0 && (
        <pre className="jp-aml-EnvironmentBuild-reason" aria-label={`Why ${props.label} failed`}>
          {reason.join('\n')}
        </pre>
      )}
      {hint && <div className="jp-aml-Error-hint">{hint}</div>}
    </div>
  );
}

/** The interpreter's path, with line breaks allowed after each `/` (rather than anywhere). */
function PathText(props: { path: string }): JSX.Element {
  const parts = props.path.split('/');
  return (
    <code title={props.path}>
      {parts.map((part, i) => (
        <React.Fragment key={i}>
          {part}
          {i < parts.length - 1 && (
            <>
              /<wbr />
            </>
          )}
        </React.Fragment>
      ))}
    </code>
  );
}

export function BuildOutcome(props: {
  label: string;
  build: IBuildState;
  onDismiss: () => void;
}): JSX.Element {
  const { build, label } = props;
  if (build.status === 'running') {
    return (
      <div className="jp-aml-Loading jp-aml-EnvironmentBuild" role="status" aria-live="polite">
        <span className="jp-aml-Spinner" aria-hidden="true" />
        <span>
          Building {label}… <Elapsed started={build.started} /> (installing pip requirements can
          take a minute)
        </span>
      </div>
    );
  }
  const dismiss = (
    <button type="button" className="jp-aml-LinkButton jp-aml-Dismiss" onClick={props.onDismiss}>
      Dismiss
    </button>
  );
  if (build.status === 'failed') {
    return (
      <div className="jp-aml-EnvironmentBuild jp-aml-EnvironmentBuild-failed">
        <BuildFailure label={label} error={build.error} />
        <BuildLog
          label={`Build log of ${label}`}
          lines={failedBuildLog(build.error)}
          summary="Installer output"
        />
        {dismiss}
      </div>
    );
  }
  const { result } = build;
  let outcome: string;
  if (result.venv_hash === null) {
    outcome = 'Nothing to build: a user-managed environment runs on an existing interpreter.';
  } else if (result.built) {
    outcome = `Built in ${result.seconds.toFixed(1)} s.`;
  } else {
    outcome = `Already built (cached venv ${result.venv_hash.slice(0, 12)}).`;
  }
  return (
    <div
      className="jp-aml-EnvironmentBuild jp-aml-EnvironmentBuild-done"
      role="group"
      aria-label={`Build of ${label}`}
    >
      <div className="jp-aml-EnvironmentBuild-outcome" role="status">
        {outcome}
      </div>
      <div className="jp-aml-EnvironmentBuild-python">
        <span className="jp-aml-Muted">Interpreter</span> <PathText path={result.python} />{' '}
        <CopyButton text={result.python} label={`Copy interpreter path of ${label}`}>
          Copy
        </CopyButton>
      </div>
      <BuildLog label={`Build log of ${label}`} lines={result.log} summary="Build log" />
      {dismiss}
    </div>
  );
}
