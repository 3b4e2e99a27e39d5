/**
 * The chrome that a run's page and an endpoint's page share: a header (title, status badge, a line
 * of context, a refresh button and the page's own actions), the errors of the last refresh or
 * action, and the tabs. Each page supplies only what differs, so the two cannot drift apart.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { LabIcon, ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { ErrorView, ITab, Loading, StatusBadge, Tabs } from './components';

/** A tab asked for by a command after the page opened (`n` changes with every request). */
export interface ITabRequest {
  tab: string;
  n: number;
}

/** An error shown under the header, e.g. of the last refresh (with a retry) or of an action. */
export interface IShellError {
  error: unknown;
  context: string;
  onRetry?: () => void;
}

/** The selected tab: `initial` first, then whatever the user or a later `request` picks. */
export function useDetailTab(
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

/** Before the first load: its error (with a retry) or a spinner. */
export function DetailPending(props: {
  error: unknown;
  onRetry: () => void;
  context: string;
  label: string;
}): JSX.Element {
  return props.error ? (
    <ErrorView error={props.error} onRetry={props.onRetry} context={props.context} />
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
  /** Accessible name of the refresh button, e.g. "Refresh run". */
  refreshLabel: string;
  onRefresh: () => void;
  /** The page's own buttons, after the refresh button. */
  actions?: React.ReactNode;
  errors: Array<IShellError | null>;
  tabs: ITab[];
  tab: string;
  onTab: (tab: string) => void;
}): JSX.Element {
  const { title } = props;
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
            onClick={props.onRefresh}
            aria-label={props.refreshLabel}
            title="Refresh"
          >
            <refreshIcon.react tag="span" className="jp-aml-IconButton-icon" />
          </button>
          {props.actions}
        </div>
      </header>
      {props.errors.map(
        shown =>
          shown && (
            <ErrorView
              key={shown.context}
              error={shown.error}
              onRetry={shown.onRetry}
              context={shown.context}
            />
          )
      )}
      <Tabs
        label={`${title} sections`}
        selected={props.tab}
        onSelect={props.onTab}
        tabs={props.tabs}
      />
    </div>
  );
}

/** The React content of a detail page: it can be asked to switch tabs after it opened. */
export abstract class DetailPanel extends ReactWidget {
  /** Switch to a tab (one of the page's tab ids). */
  showTab(tab: string): void {
    this.tabRequest = { tab, n: (this.tabRequest?.n ?? 0) + 1 };
    this.update();
  }

  protected tabRequest: ITabRequest | null = null;
}

/** Wrap a detail panel in a closable main-area tab with a stable id (one page per item). */
export function detailWidget<T extends DetailPanel>(
  content: T,
  options: { id: string; label: string; icon: LabIcon; className: string }
): MainAreaWidget<T> {
  const widget = new MainAreaWidget({ content });
  widget.id = options.id.replace(/[^\w-]/g, '_');
  widget.title.label = options.label;
  widget.title.icon = options.icon;
  widget.title.closable = true;
  widget.addClass(options.className);
  return widget;
}
