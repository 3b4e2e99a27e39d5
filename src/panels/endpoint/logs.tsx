/** An endpoint's Logs tab: the last lines of its replicas' output, searchable, newest at the end. */
import React, { useLayoutEffect, useRef, useState } from 'react';

import { EmptyState, ErrorView, Loading } from '../components';
import { useRequest } from '../hooks';
import { IReloadingTabProps } from './tab-props';

const LINE_COUNTS = [200, 1000, 5000, 20000];

function LogsToolbar(props: {
  lines: number;
  onLines: (lines: number) => void;
  query: string;
  onQuery: (query: string) => void;
  onRefresh: () => void;
  counts: { shown: number; total: number } | null;
}): JSX.Element {
  return (
    <div className="jp-aml-Toolbar">
      <label className="jp-aml-Check">
        Last
        <select
          className="jp-mod-styled jp-aml-Filter"
          aria-label="Log lines to show"
          value={props.lines}
          onChange={e => props.onLines(Number(e.target.value))}
        >
          {LINE_COUNTS.map(n => (
            <option key={n} value={n}>
              {n.toLocaleString()} lines
            </option>
          ))}
        </select>
      </label>
      <input
        className="jp-mod-styled jp-aml-Filter"
        type="search"
        placeholder="Search"
        aria-label="Search endpoint logs"
        value={props.query}
        onChange={e => props.onQuery(e.target.value)}
      />
      <button type="button" className="jp-mod-styled jp-aml-Button" onClick={props.onRefresh}>
        Refresh
      </button>
      <span className="jp-aml-Muted" aria-live="polite">
        {props.counts
          ? `${props.counts.shown.toLocaleString()} of ${props.counts.total.toLocaleString()} lines`
          : ''}
      </span>
    </div>
  );
}

export function EndpointLogs(
  props: IReloadingTabProps & {
    /** The search to start with (the Test tab's "Show in Logs" of an error id). */
    initialQuery?: string;
  }
): JSX.Element {
  const { service, workspace, name } = props;
  const [lines, setLines] = useState(1000);
  const [query, setQuery] = useState(props.initialQuery ?? '');
  const logs = useRequest(
    () => service.getWebserviceLogs(workspace, name, lines),
    [workspace, name, lines, props.reloadKey]
  );
  const view = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);

  // Stay at the end (the newest lines) unless the user scrolled up.
  useLayoutEffect(() => {
    const node = view.current;
    if (node && atEnd.current) {
      node.scrollTop = node.scrollHeight;
    }
  }, [logs.data, query]);

  const needle = query.trim().toLowerCase();
  const shown = (logs.data ?? []).filter(l => !needle || l.toLowerCase().includes(needle));
  return (
    <div className="jp-aml-EndpointLogs">
      <LogsToolbar
        lines={lines}
        onLines={setLines}
        query={query}
        onQuery={setQuery}
        onRefresh={logs.reload}
        counts={logs.data ? { shown: shown.length, total: logs.data.length } : null}
      />
      {logs.error !== undefined && (
        <ErrorView error={logs.error} onRetry={logs.reload} context="Logs" />
      )}
      {logs.data === undefined ? (
        logs.error === undefined && <Loading label="Loading logs…" />
      ) : logs.data.length === 0 ? (
        <EmptyState>The endpoint has not logged anything yet.</EmptyState>
      ) : (
        <div
          ref={view}
          className="jp-aml-LogView"
          role="log"
          aria-label={`Log of endpoint ${name}`}
          tabIndex={0}
          onScroll={e => {
            const node = e.currentTarget;
            atEnd.current = node.scrollHeight - node.scrollTop - node.clientHeight < 24;
          }}
        >
          {shown.map((line, i) => (
            <div key={i} className="jp-aml-LogLine">
              {line}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
