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
        <div id={bodyId} className="jp-aml-Section-body">
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

/** A run named as the studio names it ("#4.1 name"), opening its page. */
export function RunLink(props: { name: string; runId: string; onOpenRun: (runId: string) => void }): JSX.Element {
  return (
    <button
      type="button"
      className="jp-aml-LinkButton"
      onClick={() => props.onOpenRun(props.runId)}
      aria-label={`Open run ${props.name}`}
    >
      {props.name}
    </button>
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

/** Save a downloaded Blob under a file name (the browser's download bar). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 30000);
}

/** A button that downloads a REST route's bytes, with its own busy and error state. */
export function DownloadButton(props: {
  load: () => Promise<Blob>;
  filename: string;
  label: string;
  children?: React.ReactNode;
}): JSX.Element {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const onClick = async () => {
    setBusy(true);
    setError(undefined);
    try {
      saveBlob(await props.load(), props.filename);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className="jp-mod-styled jp-aml-Button"
        aria-label={props.label}
        title={props.label}
        disabled={busy}
        onClick={() => void onClick()}
      >
        {busy ? 'Downloading…' : (props.children ?? 'Download')}
      </button>
      {error !== undefined && <ErrorView error={error} context="Download" />}
    </>
  );
}

/** Two-column key/value table (tags, properties). */
export function KeyValueTable(props: {
  label: string;
  entries: Record<string, string> | null | undefined;
  empty?: string;
}): JSX.Element {
  const entries = Object.entries(props.entries ?? {});
  if (entries.length === 0) {
    return <div className="jp-aml-Muted">{props.empty ?? 'None'}</div>;
  }
  return (
    <table className="jp-aml-Table jp-aml-KeyValue" aria-label={props.label}>
      <tbody>
        {entries
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, value]) => (
            <tr key={key}>
              <th scope="row">{key}</th>
              <td>{value}</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}

export interface ITab {
  id: string;
  label: string;
  /** Rendered once the tab was first shown, then kept mounted (live logs keep streaming). */
  render: () => React.ReactNode;
  badge?: React.ReactNode;
}

/** Accessible tabs (role tablist/tab/tabpanel, arrow keys move between tabs). */
export function Tabs(props: {
  label: string;
  tabs: ITab[];
  selected: string;
  onSelect: (id: string) => void;
}): JSX.Element {
  const base = useId();
  const [visited, setVisited] = useState<ReadonlySet<string>>(() => new Set([props.selected]));
  if (!visited.has(props.selected)) {
    setVisited(new Set(visited).add(props.selected));
  }
  const index = props.tabs.findIndex(t => t.id === props.selected);
  const onKeyDown = (e: React.KeyboardEvent) => {
    let next = -1;
    if (e.key === 'ArrowRight') {
      next = (index + 1) % props.tabs.length;
    } else if (e.key === 'ArrowLeft') {
      next = (index - 1 + props.tabs.length) % props.tabs.length;
    }
    if (next >= 0) {
      e.preventDefault();
      props.onSelect(props.tabs[next].id);
      document.getElementById(`${base}-tab-${props.tabs[next].id}`)?.focus();
    }
  };
  return (
    <div className="jp-aml-Tabs">
      <div className="jp-aml-TabList" role="tablist" aria-label={props.label} onKeyDown={onKeyDown}>
        {props.tabs.map(tab => (
          <button
            key={tab.id}
            id={`${base}-tab-${tab.id}`}
            type="button"
            role="tab"
            className="jp-aml-Tab"
            aria-selected={tab.id === props.selected}
            aria-controls={`${base}-panel-${tab.id}`}
            tabIndex={tab.id === props.selected ? 0 : -1}
            onClick={() => props.onSelect(tab.id)}
          >
            {tab.label}
            {tab.badge !== undefined && <span className="jp-aml-Tab-badge">{tab.badge}</span>}
          </button>
        ))}
      </div>
      {props.tabs.map(tab =>
        visited.has(tab.id) ? (
          <div
            key={tab.id}
            id={`${base}-panel-${tab.id}`}
            role="tabpanel"
            aria-labelledby={`${base}-tab-${tab.id}`}
            className="jp-aml-TabPanel"
            hidden={tab.id !== props.selected}
          >
            {tab.render()}
          </div>
        ) : null
      )}
    </div>
  );
}
