/**
 * The runs after the first page, loaded as the table scrolls toward them. The server pages by keyset
 * cursor (`next_page_token`), so pages come in order: scrolling (or dragging the scrollbar) far down
 * loads the pages up to the rows on screen, larger ones the further it has to go.
 */
import { useCallback, useEffect, useRef, useState } from 'react';

import { AMLService, IListRunsOptions, IRun } from '../../api';
import { useLiveWorkspace } from '../../live/hooks';

const MAX_PAGE = 500; // the server's page_size limit

interface IMore {
  key: string;
  items: IRun[];
  /** The token of the next page to load; null: the last page is loaded; undefined: the first page's. */
  next: string | null | undefined;
  loading: boolean;
  error: unknown;
}

export function useMorePages(
  service: AMLService,
  workspace: string,
  query: IListRunsOptions,
  /** Changes whenever the query does (the rows loaded so far are dropped then). */
  key: string,
  firstNext: string | null | undefined,
  pageSize: number
): {
  items: IRun[];
  loading: boolean;
  error: unknown;
  hasMore: boolean;
  /** Load the next page if fewer than `wanted` rows are loaded (`loaded` of them are). */
  need: (wanted: number, loaded: number) => void;
  /** Forget a failed load, so that the next `need` tries again. */
  retry: () => void;
} {
  const live = useLiveWorkspace(service, workspace);
  const empty = (k: string): IMore => ({
    key: k,
    items: [],
    next: undefined,
    loading: false,
    error: undefined
  });
  const [more, setMore] = useState<IMore>(() => empty(key));
  const current = more.key === key ? more : empty(key);
  const state = useRef(current);
  state.current = current;
  const queryRef = useRef(query);
  queryRef.current = query;

  useEffect(() => {
    if (more.key !== key) {
      setMore(empty(key));
    }
  }, [key, more.key]);

  const token = current.next === undefined ? firstNext : current.next;
  const need = useCallback(
    (wanted: number, loaded: number) => {
      const now = state.current;
      const next = now.next === undefined ? firstNext : now.next;
      if (now.loading || !next || wanted <= loaded || now.error !== undefined) {
        return;
      }
      const size = Math.min(MAX_PAGE, Math.max(pageSize, wanted - loaded + pageSize));
      const started = now.key;
      setMore({ ...now, loading: true });
      service.listRuns(workspace, { ...queryRef.current, pageSize: size, pageToken: next }).then(
        page => {
          page.items.forEach(run => live.putRun(run));
          setMore(prev =>
            prev.key !== started
              ? prev
              : {
                  ...prev,
                  items: [...prev.items, ...page.items],
                  next: page.next_page_token ?? null,
                  loading: false
                }
          );
        },
        reason =>
          setMore(prev =>
            prev.key !== started ? prev : { ...prev, loading: false, error: reason }
          )
      );
    },
    [service, workspace, live, firstNext, pageSize]
  );

  const retry = useCallback(() => setMore(prev => ({ ...prev, error: undefined })), []);

  return {
    retry,
    items: current.items,
    loading: current.loading,
    error: current.error,
    hasMore: !!token,
    need
  };
}
