/** Below the runs table: which rows are on screen of how many, and what to do with the selected runs. */
import React from 'react';

export function RunsCount(props: {
  /** Index of the first row on screen, the index after the last one, and the total; null before the first page. */
  counts: { first: number; last: number; total: number } | null;
  /** A later page is loading. */
  loading: boolean;
}): JSX.Element {
  const { counts } = props;
  return (
    <div className="jp-aml-Runs-footer">
      <span className="jp-aml-Runs-count" aria-live="polite">
        {counts && counts.total > 0
          ? `${(counts.first + 1).toLocaleString()}–${counts.last.toLocaleString()} of ${counts.total.toLocaleString()}`
          : ''}
      </span>
      {props.loading && <span className="jp-aml-Muted">Loading more runs…</span>}
    </div>
  );
}

/** Shown while runs are selected: compare them (two or more), or clear the selection. */
export function SelectionBar(props: {
  selected: string[];
  onCompare: () => void;
  onClear: () => void;
}): JSX.Element | null {
  const count = props.selected.length;
  if (count === 0) {
    return null;
  }
  return (
    <div className="jp-aml-Selection" role="group" aria-label="Selected runs">
      <span>{count} selected</span>
      <button
        type="button"
        className="jp-mod-styled jp-mod-accept jp-aml-Button"
        disabled={count < 2}
        onClick={props.onCompare}
        title={count < 2 ? 'Select at least two runs' : 'Compare the selected runs'}
      >
        Compare
      </button>
      <button type="button" className="jp-mod-styled jp-aml-Button" onClick={props.onClear}>
        Clear
      </button>
    </div>
  );
}
