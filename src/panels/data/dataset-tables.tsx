/**
 * What a dataset version shows as tables, each read by the service from the data where it is: the
 * first rows of a tabular version (with each column's type), its profile (row count, and per column
 * the type, missing values, min / max / mean; computed once per version by the service), and a
 * file version's files.
 */
import React from 'react';

import type { AMLService } from '../../api';
import { formatBytes, formatDateTime, formatDateTimeLong, formatValue } from '../../format';
import { ErrorView, Loading } from '../components';
import { useRequest } from '../hooks';
import { IDataset, previewDataset, profileDataset } from './api';

export const PREVIEW_ROWS = 20;
/** The most files the service lists in a preview (dataset_models.MAX_PREVIEW_ROWS). */
export const MAX_FILES_SHOWN = 1000;

function ref(dataset: IDataset): string {
  return `${dataset.name}:${dataset.version}`;
}

/** A cell of the preview or the profile: numbers shortened, missing values marked, long text cut. */
function Cell(props: { value: unknown }): JSX.Element {
  const { value } = props;
  if (value === null || value === undefined) {
    return <span className="jp-aml-Muted jp-aml-DataCell-missing">null</span>;
  }
  const text = formatValue(value);
  return <span title={text.length > 40 ? text : undefined}>{text}</span>;
}

/** The first rows of a tabular version, with each column's type under its name. */
export function DatasetPreviewTable(props: {
  service: AMLService;
  workspace: string;
  dataset: IDataset;
}): JSX.Element {
  const { service, workspace, dataset } = props;
  const preview = useRequest(
    () => previewDataset(service, workspace, dataset.name, dataset.version, PREVIEW_ROWS),
    [service, workspace, dataset.name, dataset.version]
  );
  if (preview.data === undefined) {
    return preview.error ? (
      <ErrorView error={preview.error} onRetry={preview.reload} context="Preview" />
    ) : (
      <Loading label="Reading the first rows…" />
    );
  }
  const { columns, rows } = preview.data;
  return (
    <div className="jp-aml-DataPreview">
      <div className="jp-aml-Muted jp-aml-DataPreview-note">
        First {rows.length} row{rows.length === 1 ? '' : 's'}, read from the data where it is.
      </div>
      <div className="jp-aml-TableScroll">
        <table className="jp-aml-Table jp-aml-DataTable" aria-label={`Preview of ${ref(dataset)}`}>
          <thead>
            <tr>
              {columns.map(c => (
                <th key={c.name} scope="col" title={`${c.name}: ${c.type}`}>
                  <span className="jp-aml-DataTable-column">{c.name}</span>
                  <span className="jp-aml-DataTable-type">{c.type}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={i}>
                {row.map((value, j) => (
                  <td key={j}>
                    <Cell value={value} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** A share of the rows, e.g. `2 (40%)`; none missing is quiet. */
function Missing(props: { missing: number; rows: number }): JSX.Element {
  const { missing, rows } = props;
  if (missing === 0) {
    return <span className="jp-aml-Muted">0</span>;
  }
  const share = rows > 0 ? ` (${Math.round((missing / rows) * 1000) / 10}%)` : '';
  return (
    <span className="jp-aml-DataProfile-missing">
      {missing}
      {share}
    </span>
  );
}

/** The version's profile: one row per column. */
export function DatasetProfileTable(props: {
  service: AMLService;
  workspace: string;
  dataset: IDataset;
}): JSX.Element {
  const { service, workspace, dataset } = props;
  const profile = useRequest(
    () => profileDataset(service, workspace, dataset.name, dataset.version),
    [service, workspace, dataset.name, dataset.version]
  );
  if (profile.data === undefined) {
    return profile.error ? (
      <ErrorView error={profile.error} onRetry={profile.reload} context="Profile" />
    ) : (
      <Loading label="Profiling (once per version)…" />
    );
  }
  const p = profile.data;
  return (
    <div className="jp-aml-DataProfile">
      <div className="jp-aml-DataPreview-note" aria-label={`Profile summary of ${ref(dataset)}`}>
        <strong>{p.row_count.toLocaleString()}</strong> row{p.row_count === 1 ? '' : 's'},{' '}
        <strong>{p.column_count}</strong> column{p.column_count === 1 ? '' : 's'}
        <span className="jp-aml-Muted" title={formatDateTimeLong(p.computed_at)}>
          {' '}
          · computed {formatDateTime(p.computed_at)}
        </span>
      </div>
      <div className="jp-aml-TableScroll">
        <table className="jp-aml-Table jp-aml-DataTable" aria-label={`Profile of ${ref(dataset)}`}>
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Type</th>
              <th scope="col">Missing</th>
              <th scope="col">Min</th>
              <th scope="col">Max</th>
              <th scope="col">Mean</th>
            </tr>
          </thead>
          <tbody>
            {p.columns.map(c => (
              <tr key={c.name}>
                <th scope="row">{c.name}</th>
                <td title={c.arrow_type}>{c.type}</td>
                <td>
                  <Missing missing={c.missing} rows={p.row_count} />
                </td>
                <td>
                  <Cell value={c.min} />
                </td>
                <td>
                  <Cell value={c.max} />
                </td>
                <td>
                  {c.mean === null || c.mean === undefined ? (
                    <span className="jp-aml-Muted">—</span>
                  ) : (
                    <Cell value={c.mean} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** A file version's files (path and size), as the service resolves its paths. */
export function DatasetFilesTable(props: {
  service: AMLService;
  workspace: string;
  dataset: IDataset;
}): JSX.Element {
  const { service, workspace, dataset } = props;
  const files = useRequest(
    () => previewDataset(service, workspace, dataset.name, dataset.version, MAX_FILES_SHOWN),
    [service, workspace, dataset.name, dataset.version]
  );
  if (files.data === undefined) {
    return files.error ? (
      <ErrorView error={files.error} onRetry={files.reload} context="Files" />
    ) : (
      <Loading label="Listing the files…" />
    );
  }
  const rows = files.data.rows;
  return (
    <div className="jp-aml-DataPreview">
      <div className="jp-aml-Muted jp-aml-DataPreview-note">
        {rows.length < dataset.file_count
          ? `The first ${rows.length} of ${dataset.file_count} files.`
          : `${rows.length} file${rows.length === 1 ? '' : 's'}, ${formatBytes(dataset.total_size)} at registration.`}
      </div>
      <div className="jp-aml-TableScroll">
        <table className="jp-aml-Table jp-aml-DataTable" aria-label={`Files of ${ref(dataset)}`}>
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([path, size], i) => (
              <tr key={i}>
                <td>
                  <code className="jp-aml-DataFiles-name">{String(path)}</code>
                </td>
                <td>{formatBytes(typeof size === 'number' ? size : null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
