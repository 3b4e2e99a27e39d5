/**
 * The runs table's filters: status (applied at once), tag (applied on Enter or leaving the field),
 * and the metric column (a known metric name applies as it is picked; any text on Enter or leave).
 */
import React, { useId, useState } from 'react';

import { RUN_STATUSES } from '../../api';

export function RunFilters(props: {
  experiment: string;
  status: string;
  onStatus: (status: string) => void;
  tag: string;
  onTag: (tag: string) => void;
  /** Scalar metrics of the runs shown, offered as metric columns. */
  metricNames: string[];
  onMetric: (name: string) => void;
  /** The metric field got focus: the metric names are worth loading now. */
  onMetricFocus: () => void;
}): JSX.Element {
  const ids = useId();
  const [tagInput, setTagInput] = useState('');
  const [metricInput, setMetricInput] = useState('');
  const applyTag = () => {
    if (tagInput.trim() !== props.tag) {
      props.onTag(tagInput.trim());
    }
  };
  return (
    <div
      className="jp-aml-Filters"
      role="group"
      aria-label={`Filters for runs of ${props.experiment}`}
    >
      <select
        className="jp-mod-styled jp-aml-Filter"
        aria-label="Filter runs by status"
        value={props.status}
        onChange={e => props.onStatus(e.target.value)}
      >
        <option value="">All statuses</option>
        {RUN_STATUSES.map(s => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
      <input
        className="jp-mod-styled jp-aml-Filter"
        type="search"
        placeholder="tag or tag=value"
        aria-label="Filter runs by tag"
        value={tagInput}
        onChange={e => setTagInput(e.target.value)}
        onKeyDown={e => {
          if (e.key === 'Enter') {
            props.onTag(tagInput.trim());
          }
        }}
        onBlur={applyTag}
      />
      <input
        className="jp-mod-styled jp-aml-Filter"
        type="search"
        placeholder="metric column"
        aria-label="Metric column"
        list={`${ids}-metrics`}
        value={metricInput}
        onFocus={props.onMetricFocus}
        onChange={e => {
          setMetricInput(e.target.value);
          if (props.metricNames.includes(e.target.value) || e.target.value === '') {
            props.onMetric(e.target.value);
          }
        }}
        onKeyDown={e => {
          if (e.key === 'Enter') {
            props.onMetric(metricInput);
          }
        }}
        onBlur={() => props.onMetric(metricInput)}
      />
      <datalist id={`${ids}-metrics`}>
        {props.metricNames.map(n => (
          <option key={n} value={n} />
        ))}
      </datalist>
    </div>
  );
}
