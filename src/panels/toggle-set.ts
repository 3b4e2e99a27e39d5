/** A set of names that a click adds or removes (expanded rows, selected runs). */
import { Dispatch, SetStateAction, useCallback, useState } from 'react';

export function useToggleSet(): {
  items: ReadonlySet<string>;
  toggle: (name: string) => void;
  /** Replace the set, e.g. to expand a name from code or to clear a selection. */
  setItems: Dispatch<SetStateAction<ReadonlySet<string>>>;
} {
  const [items, setItems] = useState<ReadonlySet<string>>(new Set());
  const toggle = useCallback(
    (name: string) =>
      setItems(prev => {
        const next = new Set(prev);
        if (next.has(name)) {
          next.delete(name);
        } else {
          next.add(name);
        }
        return next;
      }),
    []
  );
  return { items, toggle, setItems };
}
