/**
 * The Activity tab (Owners): the workspace's append-only log of who created, changed or deleted
 * what, role changes and secret reads, a page at a time ("Load more" follows the server's cursor).
 */
import React, { useEffect, useRef, useState } from 'react';

import { AMLService } from '../../api';
import { formatDateTime, formatDateTimeLong } from '../../format';
import { EmptyState, ErrorView, Loading } from '../components';
import { listActivity } from './api';
import { IActivity } from './types';

/** Entries asked for per page. */
export const ACTIVITY_PAGE_SIZE = 50;

/** What every entry's detail holds (the request that did it): shown on hover, not in the cell. */
const REQUEST_KEYS = new Set(['method', 'path', 'status']);

function entriesText(entries: [string, unknown][]): string {
  // A flat record reads as `role: Contributor`.
  return entries
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

/** The detail cell's text (what the action changed) and its title (everything, the request too). */
function detailText(detail: IActivity['detail']): { text: string; title: string } {
  const entries = Object.entries(detail ?? {});
  const own = entries.filter(([key]) => !REQUEST_KEYS.has(key));
  return { text: entriesText(own), title: entriesText(entries) };
}

interface IActivityState {
  items: IActivity[];
  cursor: string | null;
  /** True once the first page answered. */
  loaded: boolean;
}

/** The pages loaded so far; `reloadKey` starts over from the first page. */
function useActivityPages(
  service: AMLService,
  workspace: string,
  reloadKey: number
): {
  state: IActivityState;
  busy: boolean;
  error: unknown;
  more: () => void;
  retry: () => void;
} {
  const [state, setState] = useState<IActivityState>({ items: [], cursor: null, loaded: false });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [attempt, setAttempt] = useState(0);
  // Answers of a request started before the last restart are dropped.
  const generation = useRef(0);

  const load = async (after: string | null, append: boolean) => {
    const mine = generation.current;
    setBusy(true);
    setError(undefined);
    try {
      const page = await listActivity(service, workspace, { after, limit: ACTIVITY_PAGE_SIZE });
      if (mine === generation.current) {
        setState(prev => ({
          items: append ? [...prev.items, ...page.items] : page.items,
          cursor: page.next_cursor ?? null,
          loaded: true
        }));
      }
    } catch (reason) {
      if (mine === generation.current) {
        setError(reason);
      }
    } finally {
      if (mine === generation.current) {
        setBusy(false);
      }
    }
  };

  useEffect(() => {
    // A new first page: whatever an older request answers later is dropped.
    generation.current++;
    void load(null, false);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- restart only for a new workspace or reload
  }, [service, workspace, reloadKey, attempt]);

  return {
    state,
    busy,
    error,
    more: () => void load(state.cursor, true),
    retry: () => setAttempt(n => n + 1)
  };
}

export function ActivityTab(props: {
  service: AMLService;
  workspace: string;
  reloadKey: number;
}): JSX.Element {
  const { state, busy, error, more, retry } = useActivityPages(
    props.service,
    props.workspace,
    props.reloadKey
  );
  if (!state.loaded) {
    return error !== undefined ? (
      <ErrorView error={error} onRetry={retry} context="Activity" />
    ) : (
      <Loading label="Loading activity…" />
    );
  }
  return (
    <div className="jp-aml-Activity">
      {state.items.length === 0 ? (
        <EmptyState>No activity recorded yet.</EmptyState>
      ) : (
        <table className="jp-aml-Table jp-aml-ActivityTable" aria-label="Activity">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">User</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {state.items.map(entry => {
              const detail = detailText(entry.detail);
              return (
                <tr
                  key={String(entry.id)}
                  data-activity={String(entry.id)}
                  data-action={entry.action}
                  data-user={entry.user}
                >
                  <td className="jp-aml-Muted" title={formatDateTimeLong(entry.time)}>
                    {formatDateTime(entry.time)}
                  </td>
                  <td>{entry.user}</td>
                  <td>
                    <code>{entry.action}</code>
                  </td>
                  <td className="jp-aml-Activity-target" title={entry.target}>
                    {entry.target_kind && (
                      <span className="jp-aml-Muted">{entry.target_kind} </span>
                    )}
                    {entry.target}
                  </td>
                  <td className="jp-aml-Activity-detail" title={detail.title}>
                    {detail.text}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {error !== undefined && <ErrorView error={error} onRetry={more} context="More activity" />}
      <div className="jp-aml-Activity-footer">
        <span className="jp-aml-Muted">
          {state.items.length} entr{state.items.length === 1 ? 'y' : 'ies'}
          {state.cursor ? ' shown' : ''}
        </span>
        {state.cursor && (
          <button
            type="button"
            className="jp-mod-styled jp-aml-Button"
            disabled={busy}
            onClick={more}
          >
            {busy ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
    </div>
  );
}
