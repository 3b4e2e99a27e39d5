/**
 * What a run's page and an endpoint's page share in React: a header (title, status badge, a line
 * of context, a refresh button and the page's own actions), the errors of the last refresh and of
 * the last action, the tabs, and the pending state before the first load. Each page supplies only
 * what differs, so the two cannot drift apart. Their Lumino side is in ./detail-panel.ts.
 */
import { refreshIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { ErrorView, Loading, StatusBadge, Tabs } from './components';
import { ITabRequest } from './detail-panel';

/** An error shown under the header, e.g. of the last action. */
export interface IShellError {
  error: unknown;
  context: string;
}

/** The page's item as loaded: the last error, and how to load it again. */
export interface ILoadState {
  error: unknown;
  reload: () => void;
}

/** The selected tab: `initial` first, then whatever the user or a later `request` picks. */
function useSelectedTab(
  initial: string | undefined,
  request: ITabRequest | null
): [string, (tab: string) => void] {
  const [tab, setTab] = useState(initial ?? 'overview');
  useEffect(() => {
    // Every request is a new object: re-rendering with the same one keeps the user's choice.
    if (request) {
      setTab(request.tab);
    }
  }, [request]);
  return [tab, setTab];
}

/** Tell the page's panel about each new version of its item (the tab's title follows it). */
export function useItemReport<T>(item: T | null, report: (item: T) => void): void {
  useEffect(() => {
    if (item) {
      report(item);
    }
  }, [item, report]);
}

/** One action of the page (cancel, delete): busy while it runs, its error kept for the shell. */
export function useShellAction(context: string): {
  busy: boolean;
  error: IShellError | null;
  /** Run the action; a failure is kept (and handed to `onError`, e.g. for a toast). */
  perform: (action: () => Promise<void>, onError?: (reason: unknown) => void) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<IShellError | null>(null);
  const perform = async (action: () => Promise<void>, onError?: (reason: unknown) => void) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (reason) {
      setError({ error: reason, context });
      onError?.(reason);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, perform };
}

/** Before the first load: its error (with a retry) or a spinner. */
export function DetailPending(props: {
  loaded: ILoadState;
  context: string;
  label: string;
}): JSX.Element {
  const { loaded } = props;
  return loaded.error ? (
    <ErrorView error={loaded.error} onRetry={loaded.reload} context={props.context} />
  ) : (
    <Loading label={props.label} />
  );
}

export function DetailShell(props: {
  /** The page's root class, e.g. `jp-aml-RunDetails`. */
  className: string;
  /** `data-*` attributes of the root (tests and styles read the item's id and status). */
  data: Record<string, string | number>;
  title: string;
  status: string;
  meta: React.ReactNode;
  /** The refresh button reloads; a failed reload shows its error with a retry. */
  loaded: ILoadState;
  /** Accessible name of the refresh button, e.g. "Refresh run". */
  refreshLabel: string;
  /** The page's own buttons, after the refresh button. */
  actions?: React.ReactNode;
  actionError: IShellError | null;
  /** The tabs' ids and labels, in order; `renderTab` renders one (when first shown). */
  tabs: Readonly<Record<string, string>>;
  renderTab: (tab: string) => React.ReactNode;
  /** The tab shown first (default: overview), and one asked for later. */
  initialTab?: string;
  tabRequest: ITabRequest | null;
}): JSX.Element {
  const { title, loaded, actionError } = props;
  const [tab, setTab] = useSelectedTab(props.initialTab, props.tabRequest);
  const tabs = Object.entries(props.tabs).map(([id, label]) => ({
    id,
    label,
    render: () => props.renderTab(id)
  }));
  const data = Object.fromEntries(Object.entries(props.data).map(([k, v]) => [`data-${k}`, v]));
  return (
    <div className={props.className} {...data}>
      <header className="jp-aml-RunHeader" role="group" aria-label={`${title} summary`}>
        <div className="jp-aml-RunHeader-title">
          <h2>{title}</h2>
          <StatusBadge status={props.status} />
        </div>
        <div className="jp-aml-RunHeader-meta jp-aml-Muted">{props.meta}</div>
        <div className="jp-aml-RunHeader-actions">
          <button
            type="button"
            className="jp-mod-styled jp-aml-Button"
            onClick={loaded.reload}
            aria-label={props.refreshLabel}
            title="Refresh"
          >
            <refreshIcon.react tag="span" className="jp-aml-IconButton-icon" />
          </button>
          {props.actions}
        </div>
      </header>
      {loaded.error !== undefined && (
        <ErrorView error={loaded.error} onRetry={loaded.reload} context="Refresh" />
      )}
      {actionError && <ErrorView error={actionError.error} context={actionError.context} />}
      <Tabs label={`${title} sections`} selected={tab} onSelect={setTab} tabs={tabs} />
    </div>
  );
}
