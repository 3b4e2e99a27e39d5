/** A model version's tags as chips (removable while editing), and the field that adds one. */
import React, { useState } from 'react';

import { IModel } from '../../api';

export function TagList(props: {
  model: IModel;
  editing: boolean;
  busy: boolean;
  onRemove: (key: string) => void;
}): JSX.Element | null {
  const tags = Object.entries(props.model.tags ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (tags.length === 0) {
    return props.editing ? <div className="jp-aml-Muted">No tags yet.</div> : null;
  }
  const ref = `${props.model.name}:${props.model.version}`;
  return (
    <ul className="jp-aml-Chips" aria-label={`Tags of ${ref}`}>
      {tags.map(([key, value]) => (
        <li key={key} className="jp-aml-Chip" title={`${key}=${value}`}>
          <span className="jp-aml-Chip-key">{key}</span>
          {value !== '' && <span className="jp-aml-Chip-value">{value}</span>}
          {props.editing && (
            <button
              type="button"
              className="jp-aml-Chip-remove"
              aria-label={`Remove tag ${key} from ${ref}`}
              title="Remove tag"
              disabled={props.busy}
              onClick={() => props.onRemove(key)}
            >
              ×
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}

export function TagAdder(props: {
  label: string;
  busy: boolean;
  onAdd: (key: string, value: string) => Promise<void>;
}): JSX.Element {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState('');
  const submit = async () => {
    const raw = text.trim();
    const at = raw.indexOf('=');
    const key = (at >= 0 ? raw.slice(0, at) : raw).trim();
    const value = at >= 0 ? raw.slice(at + 1).trim() : '';
    if (!key) {
      setProblem('Write a tag as key=value (or just key).');
      return;
    }
    setProblem('');
    await props.onAdd(key, value);
    setText('');
  };
  return (
    <form
      className="jp-aml-TagAdder"
      onSubmit={e => {
        e.preventDefault();
        void submit();
      }}
    >
      <input
        className="jp-mod-styled jp-aml-Filter"
        placeholder="key=value"
        aria-label={`New tag for ${props.label}`}
        value={text}
        onChange={e => setText(e.target.value)}
      />
      <button type="submit" className="jp-mod-styled jp-aml-Button" disabled={props.busy}>
        Add tag
      </button>
      {problem && (
        <div className="jp-aml-Muted" role="alert">
          {problem}
        </div>
      )}
    </form>
  );
}
