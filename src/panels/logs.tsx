/** Run details, "Logs" tab: the run's stdout/stderr, tailed live, with follow and search. */
import React, { useLayoutEffect, useRef, useState } from 'react';

import { AMLService } from '../api';
import { useRunLog } from '../live/hooks';
import { ErrorView, Loading, saveBlob } from './components';

/** Lines drawn at once; the rest are summarised (search narrows them). */
const SHOW = 3000;

function highlight(text: string, query: string): React.ReactNode {
  if (!query) {
    return text;
  }
  const parts: React.ReactNode[] = [];
  const lower = text.toLowerCase();
  let from = 0;
  let at = lower.indexOf(query, from);
  while (at !== -1) {
    parts.push(text.slice(from, at));
    parts.push(
      <mark key={at} className="jp-aml-Mark">
        {text.slice(at, at + query.length)}
      </mark>
    );
    from = at + query.length;
    at = lower.indexOf(query, from);
  }
  parts.push(text.slice(from));
  return parts;
}

export function RunLogs(props: {
  service: AMLService;
  workspace: string;
  runId: string;
  runName: string;
}): JSX.Element {
  const { service, workspace, runId } = props;
  const { lines, loading, error, retry } = useRunLog(service, workspace, runId);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [stream, setStream] = useState('');
  const view = useRef<HTMLDivElement>(null);

  const q = query.trim().toLowerCase();
  const streams = Array.from(new Set(lines.map(l => l.stream))).sort();
  const matching = lines.filter(
    l => (!stream || l.stream === stream) && (!q || l.text.toLowerCase().includes(q))
  );
  const shown = matching.length > SHOW ? matching.slice(matching.length - SHOW) : matching;

  useLayoutEffect(() => {
    if (follow && view.current) {
      view.current.scrollTop = view.current.scrollHeight;
    }
  });

  const download = () => {
    const text = lines.map(l => `${l.text}`).join('\n');
    saveBlob(new Blob([text], { type: 'text/plain' }), `${props.runName}-log.txt`);
  };

  return (
    <div className="jp-aml-Logs">
      <div className="jp-aml-Toolbar">
        <input
          type="search"
          className="jp-mod-styled jp-aml-Filter"
          placeholder="Search logs"
          aria-label="Search logs"
          value={query}
          onChange={e => setQuery(e.target.value)}
        />
        <select
          className="jp-mod-styled jp-aml-Filter"
          aria-label="Log stream"
          value={stream}
          onChange={e => setStream(e.target.value)}
        >
          <option value="">All streams</option>
          {streams.map(s => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <label className="jp-aml-Check">
          <input type="checkbox" checked={follow} onChange={e => setFollow(e.target.checked)} />
          Follow
        </label>
        <button type="button" className="jp-mod-styled jp-aml-Button" onClick={download}>
          Download log
        </button>
        <span className="jp-aml-Muted" aria-live="polite">
          {q || stream
            ? `${matching.length.toLocaleString()} of ${lines.length.toLocaleString()} lines`
            : `${lines.length.toLocaleString()} lines`}
        </span>
      </div>
      {error !== undefined && <ErrorView error={error} onRetry={retry} context="Logs" />}
      {loading && lines.length === 0 ? (
        <Loading label="Loading logs…" />
      ) : (
        <div
          className="jp-aml-LogView"
          ref={view}
          role="log"
          aria-label={`Log of ${props.runName}`}
          tabIndex={0}
          onScroll={e => {
            const node = e.currentTarget;
            const atBottom = node.scrollHeight - node.scrollTop - node.clientHeight < 8;
            if (!atBottom && follow) {
              setFollow(false);
            }
          }}
        >
          {matching.length > shown.length && (
            <div className="jp-aml-Muted">
              {(matching.length - shown.length).toLocaleString()} earlier lines hidden: search to
              narrow, or download the log.
            </div>
          )}
          {shown.length === 0 ? (
            <div className="jp-aml-Muted">
              {lines.length ? 'No line matches.' : 'No output yet.'}
            </div>
          ) : (
            shown.map(l => (
              <div key={l.id} className={`jp-aml-LogLine jp-aml-stream-${l.stream}`}>
                {highlight(l.text, q)}
              </div>
            ))
          )}
        </div>
      )}
    </div>
  );
}
