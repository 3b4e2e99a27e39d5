/** Below the runs table: which rows of how many, the pager, and what to do with the selected runs. */
import React from 'react';

export function RunsPager(props: {
  experiment: string;
  /** Index of the first row shown, the rows shown, and the total; null before the first page. */
  counts: { first: number; shown: number; total: number } | null;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}): JSX.Element {
  const { counts } = props;
  return (
    <div className="jp-aml-Runs-footer">
      <span className="jp-aml-Runs-count" aria-live="polite">
        {counts && counts.total > 0
          ? `${(counts.first + 1).toLocaleString()}–${(counts.first + counts.shown).toLocaleString()} of ${counts.total.toLocaleString()}`
          : ''}
      </span>
      <span className="jp-aml-Pager">
        <button
          type="button"
          className="jp-mod-styled jp-aml-Button"
          onClick={props.onPrevious}
          disabled={!props.hasPrevious}
          aria-label={`Previous page of runs of ${props.experiment}`}
        >
          ‹
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-aml-Button"
          onClick={props.onNext}
          disabled={!props.hasNext}
          aria-label={`Next page of runs of ${props.experiment}`}
        >
          ›
        </button>
      </span>
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
