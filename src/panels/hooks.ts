import { useCallback, useEffect, useRef, useState } from 'react';

export interface IRequestState<T> {
  /** The last successfully loaded value (kept while reloading, so refreshes do not flash). */
  data: T | undefined;
  /** The last error, cleared by the next success. */
  error: unknown;
  /** True while a request is in flight. */
  loading: boolean;
  /** Load again now. */
  reload: () => void;
}

/**
 * Run `load` on mount and whenever `deps` change; ignore answers that arrive after a newer request
 * started or after unmount. Previous data stays visible while a new request runs.
 */
export function useRequest<T>(
  load: () => Promise<T>,
  deps: ReadonlyArray<unknown>
): IRequestState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    // Cleared when a newer effect run starts or the component unmounts: the answer is stale then.
    let current = true;
    setLoading(true);
    loadRef.current().then(
      value => {
        if (current) {
          setData(value);
          setError(undefined);
          setLoading(false);
        }
      },
      reason => {
        if (current) {
          setError(reason ?? new Error('Unknown error'));
          setLoading(false);
        }
      }
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `deps` are the caller's: what `load` reads
  }, [...deps, tick]);

  const reload = useCallback(() => setTick(t => t + 1), []);
  return { data, error, loading, reload };
}

/** Call `fn` at most once per `ms` (trailing), e.g. to coalesce reloads triggered by events. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const ref = useRef(fn);
  ref.current = fn;
  const timer = useRef<number | null>(null);
  useEffect(
    () => () => {
      if (timer.current !== null) {
        window.clearTimeout(timer.current);
      }
    },
    []
  );
  return useCallback(() => {
    if (timer.current === null) {
      timer.current = window.setTimeout(() => {
        timer.current = null;
        ref.current();
      }, ms);
    }
  }, [ms]);
}
