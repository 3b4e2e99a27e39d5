/** Small presentational building blocks shared by every AML panel. */
import React, { useId, useState } from 'react';

import { AMLRequestError } from '../request';

/** Collapsible sidebar section with an accessible header button. */
export function Section(props: {
  /** Stable id used in CSS class names and test ids, e.g. `experiments`. */
  id: string;
  title: string;
  defaultOpen?: boolean;
  /** Extra controls rendered at the right of the header (e.g. a count). */
  badge?: React.ReactNode;
  children: React.ReactNode;
}): JSX.Element {
  const [open, setOpen] = useState(props.defaultOpen ?? false);
  const reactId = useId();
  const headingId = `jp-aml-section-${props.id}-${reactId}`;
  const bodyId = `${headingId}-body`;
  return (
    <section
      className={`jp-aml-Section jp-aml-Section-${props.id}`}
      aria-labelledby={headingId}
      data-section={props.id}
    >
      <h3 className="jp-aml-Section-heading">
        <button
          id={headingId}
          type="button"
          className="jp-aml-Section-toggle"
          aria-expanded={open}
          aria-controls={bodyId}
          onClick={() => setOpen(!open)}
        >
          <span className="jp-aml-Caret" aria-hidden="true" data-open={open} />
          <span className="jp-aml-Section-title">{props.title}</span>
          {props.badge !== undefined && <span className="jp-aml-Section-badge">{props.badge}</span>}
        </button>
      </h3>
      {open && (
        <div id={bodyId} className="jp-aml-Section-body" role="region" aria-label={props.title}>
          {props.children}
        </div>
      )}
    </section>
  );
}

/** Colour-coded run status. The text is always shown, so colour is never the only signal. */
export function StatusBadge(props: { status: string }): JSX.Element {
  const status = props.status || 'Unknown';
  return (
    <span
      className={`jp-aml-StatusBadge jp-aml-status-${status.toLowerCase()}`}
      data-status={status}
      title={`Status: ${status}`}
    >
      <span className="jp-aml-StatusBadge-dot" aria-hidden="true" />
      {status}
    </span>
  );
}

export function Loading(props: { label?: string }): JSX.Element {
  return (
    <div className="jp-aml-Loading" role="status" aria-live="polite">
      <span className="jp-aml-Spinner" aria-hidden="true" />
      {props.label ?? 'Loading…'}
    </div>
  );
}

export function EmptyState(props: { children: React.ReactNode }): JSX.Element {
  return <div className="jp-aml-Empty">{props.children}</div>;
}

/** Readable error: the server's message, its hint, and a retry button when given. */
export function ErrorView(props: {
  error: unknown;
  onRetry?: () => void;
  context?: string;
}): JSX.Element {
  const { error } = props;
  let code = '';
  let message: string;
  let hint: string | null = null;
  if (error instanceof AMLRequestError) {
    code = error.code;
    message = error.message;
    hint = error.hint;
  } else if (error instanceof Error) {
    message = error.message;
  } else {
    message = String(error);
  }
  return (
    <div className="jp-aml-Error" role="alert">
      <div className="jp-aml-Error-message">
        {props.context && <span className="jp-aml-Error-context">{props.context}: </span>}
        {message}
        {code && <span className="jp-aml-Error-code"> ({code})</span>}
      </div>
      {hint && <div className="jp-aml-Error-hint">{hint}</div>}
      {props.onRetry && (
        <button
          type="button"
          className="jp-mod-styled jp-mod-reject jp-aml-Button"
          onClick={props.onRetry}
          aria-label={props.context ? `Retry: ${props.context}` : 'Retry'}
        >
          Retry
        </button>
      )}
    </div>
  );
}
