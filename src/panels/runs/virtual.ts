/**
 * Virtual scrolling for the runs table: rows have one fixed height, so the rows on screen follow from
 * the scroll offset; only those (plus an overscan) are in the DOM, and spacer rows above and below
 * keep the scrollbar the size of every row. 10,000 runs cost about 40 rows of DOM.
 */
import { RefObject, useCallback, useLayoutEffect, useRef, useState } from 'react';

/** Row height in px: matches `.jp-aml-RunsTable.jp-aml-mod-virtual tbody tr` in style/base.css. */
export const ROW_HEIGHT = 26;
const OVERSCAN = 10;

export interface IVirtualWindow {
  ref: RefObject<HTMLDivElement>;
  onScroll: () => void;
  /** Rows [start, end) are rendered; `top` / `bottom` px of spacer around them. */
  start: number;
  end: number;
  top: number;
  bottom: number;
  /** Rows [firstVisible, lastVisible) are on screen. */
  firstVisible: number;
  lastVisible: number;
  /** Scroll back to the first row (the query changed). */
  scrollToTop: () => void;
}

export function useVirtualRows(rowCount: number): IVirtualWindow {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  const [headerHeight, setHeaderHeight] = useState(ROW_HEIGHT);
  const [atEnd, setAtEnd] = useState(false);
  const frame = useRef(0);

  const onScroll = useCallback(() => {
    if (frame.current) {
      return;
    }
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const node = ref.current;
      if (node) {
        setScrollTop(node.scrollTop);
        setHeight(node.clientHeight || 400);
        setAtEnd(node.scrollTop + node.clientHeight >= node.scrollHeight - 2);
      }
    });
  }, []);

  useLayoutEffect(() => {
    const node = ref.current;
    if (!node) {
      return;
    }
    const measure = () => {
      setHeight(node.clientHeight || 400);
      setHeaderHeight(node.querySelector('thead')?.getBoundingClientRect().height || ROW_HEIGHT);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(measure);
    observer.observe(node);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => () => cancelAnimationFrame(frame.current), []);

  const scrollToTop = useCallback(() => {
    if (ref.current) {
      ref.current.scrollTop = 0;
    }
    setScrollTop(0);
    setAtEnd(false);
  }, []);

  const body = Math.max(0, scrollTop - headerHeight);
  const firstVisible = Math.min(rowCount, Math.floor(body / ROW_HEIGHT));
  // Scrolled to the bottom: the last row is on screen, whatever rounding the heights had.
  const lastVisible = atEnd
    ? rowCount
    : Math.min(rowCount, Math.ceil((scrollTop + height - headerHeight) / ROW_HEIGHT));
  const start = Math.max(0, firstVisible - OVERSCAN);
  const end = Math.min(rowCount, lastVisible + OVERSCAN);
  return {
    ref,
    onScroll,
    start,
    end,
    top: start * ROW_HEIGHT,
    bottom: (rowCount - end) * ROW_HEIGHT,
    firstVisible,
    lastVisible,
    scrollToTop
  };
}
