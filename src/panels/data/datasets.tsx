/**
 * Datasets section: the workspace's registered datasets (latest version, File or Tabular), each
 * expanding to one version (a picker over every version, newest first) in tabs: what it points at,
 * the first rows (tabular) or its files (file), the profile (tabular), and the versions. Everything is
 * read by the service where the data is: a dataset holds a definition and a fingerprint, never a copy.
 * Lineage lists the runs that read or wrote each version (lineage.tsx), each opening its run page.
 * The service sends no push events for datasets: the list reloads with the sidebar's refresh.
 */
import React, { useId, useState } from 'react';

import type { AMLService } from '../../api';
import { formatBytes, formatDateTime, formatDateTimeLong } from '../../format';
import { EmptyState, ErrorView, Loading, Section, Tabs } from '../components';
import { useRequest } from '../hooks';
import { confirmDanger, CopyButton, notifyError } from '../registry-common';
import { useToggleSet } from '../toggle-set';
import { IDataset, listDatasets, listDatasetVersions, unregisterDataset } from './api';
import { DatasetFilesTable, DatasetPreviewTable, DatasetProfileTable } from './dataset-tables';
import { DatasetLineageTable } from './lineage';

/** Opens a run's page (the sidebar's actions); without it, runs are listed as plain text. */
type OpenRun = (workspace: string, runId: string) => void;

/**
 * What these views read of a definition. The generated type is a union (the schema's per-kind rules
 * become extra members without paths), so the one member that has them is picked out here.
 */
type IDefinition = Extract<IDataset['definition'], { paths: unknown }>;
/** One path: a datastore and a glob, or a URL (the generated union, flattened). */
interface IPathView {
  datastore?: string | null;
  path?: string | null;
  url?: string | null;
}

function definitionOf(dataset: IDataset): IDefinition {
  return dataset.definition as IDefinition;
}

export function kindLabel(kind: IDataset['kind']): string {
  return kind === 'tabular' ? 'Tabular' : 'File';
}

/** One path of the definition as v1 writes it: `(datastore, 'glob')` or the URL. */
function pathText(path: IPathView): string {
  return path.url ?? `${path.datastore}:${path.path ?? ''}`;
}

function readerText(dataset: IDataset): string | null {
  const reader = definitionOf(dataset).reader;
  if (!reader) {
    return null;
  }
  if (reader.format === 'delimited' || reader.format === undefined) {
    const sep = reader.separator ?? ',';
    return `delimited (separator ${sep === '\t' ? 'tab' : `“${sep}”`}, ${(reader.header ?? 'ALL_FILES_HAVE_SAME_HEADERS').toLowerCase().replace(/_/g, ' ')})`;
  }
  return reader.format === 'json_lines' ? 'JSON lines' : 'Parquet';
}

function Overview(props: { dataset: IDataset }): JSX.Element {
  const { dataset } = props;
  const reader = readerText(dataset);
  const steps = definitionOf(dataset).transformations ?? [];
  const tags = Object.entries(dataset.tags ?? {});
  return (
    <dl
      className="jp-aml-Fields jp-aml-ModelVersion-fields"
      aria-label={`About ${dataset.name}:${dataset.version}`}
    >
      <dt>Kind</dt>
      <dd>{kindLabel(dataset.kind)}Dataset</dd>
      {dataset.description && (
        <>
          <dt>Description</dt>
          <dd>{dataset.description}</dd>
        </>
      )}
      <dt>Paths</dt>
      <dd>
        <ul className="jp-aml-PlainList" aria-label={`Paths of ${dataset.name}:${dataset.version}`}>
          {(definitionOf(dataset).paths as IPathView[]).map(p => (
            <li key={pathText(p)}>
              <code>{pathText(p)}</code>
            </li>
          ))}
        </ul>
      </dd>
      {reader && (
        <>
          <dt>Format</dt>
          <dd>{reader}</dd>
        </>
      )}
      {steps.length > 0 && (
        <>
          <dt>Steps</dt>
          <dd>
            {steps.map((s, i) => (
              <code key={i} className="jp-aml-DataStep">
                {typeof s.op === 'string' ? s.op : JSON.stringify(s)}
              </code>
            ))}
          </dd>
        </>
      )}
      <dt>Files</dt>
      <dd>
        {dataset.file_count} file{dataset.file_count === 1 ? '' : 's'},{' '}
        {formatBytes(dataset.total_size)} at registration
      </dd>
      <dt>Fingerprint</dt>
      <dd>
        <code title={dataset.fingerprint}>{dataset.fingerprint.slice(0, 12)}</code>
      </dd>
      <dt>Registered</dt>
      <dd title={formatDateTimeLong(dataset.created_at)}>
        {formatDateTime(dataset.created_at)}
        {dataset.created_by ? ` by ${dataset.created_by}` : ''}
      </dd>
      <dt>Id</dt>
      <dd>
        <code>{dataset.id}</code>
      </dd>
      {tags.length > 0 && (
        <>
          <dt>Tags</dt>
          <dd>
            <ul className="jp-aml-Chips" aria-label={`Tags of ${dataset.name}:${dataset.version}`}>
              {tags.map(([k, v]) => (
                <li key={k} className="jp-aml-Chip" title={`${k}=${v}`}>
                  <span className="jp-aml-Chip-key">{k}</span>
                  {v !== '' && <span className="jp-aml-Chip-value">{v}</span>}
                </li>
              ))}
            </ul>
          </dd>
        </>
      )}
    </dl>
  );
}

function VersionsTable(props: {
  name: string;
  versions: IDataset[];
  selected: number;
  onSelect: (version: number) => void;
}): JSX.Element {
  return (
    <div className="jp-aml-TableScroll">
      <table
        className="jp-aml-Table jp-aml-DataTable"
        aria-label={`Versions of dataset ${props.name}`}
      >
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Registered</th>
            <th scope="col">Files</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {props.versions.map(v => (
            <tr key={v.version} aria-selected={v.version === props.selected}>
              <td>
                <button
                  type="button"
                  className="jp-aml-LinkButton"
                  aria-label={`Show ${props.name} version ${v.version}`}
                  onClick={() => props.onSelect(v.version)}
                >
                  v{v.version}
                </button>
              </td>
              <td title={formatDateTimeLong(v.created_at)}>{formatDateTime(v.created_at)}</td>
              <td>
                {v.file_count} · {formatBytes(v.total_size)}
              </td>
              <td className="jp-aml-DataTable-text">{v.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Unregister every version (v1's `unregister_all_versions`), after asking; the data stays. */
function UnregisterButton(props: {
  service: AMLService;
  workspace: string;
  name: string;
  onDone: () => void;
}): JSX.Element {
  const { service, workspace, name } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async () => {
    const ok = await confirmDanger({
      title: `Unregister dataset ${name}?`,
      body: (
        <>
          Every version of {name} is unregistered from workspace {workspace}. The data stays where
          it is: a dataset only points at it.
        </>
      ),
      accept: 'Unregister'
    });
    if (!ok) {
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await unregisterDataset(service, workspace, name);
      props.onDone();
    } catch (reason) {
      setError(reason);
      notifyError(`Unregister ${name}`, reason);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className="jp-mod-styled jp-mod-warn jp-aml-Button"
        aria-label={`Unregister dataset ${name}`}
        title="Unregister every version (the data stays)"
        disabled={busy}
        onClick={() => void run()}
      >
        Unregister
      </button>
      {error !== undefined && <ErrorView error={error} context="Unregister" />}
    </>
  );
}

function DatasetDetail(props: {
  service: AMLService;
  workspace: string;
  latest: IDataset;
  refreshKey: number;
  onChanged: () => void;
  openRun?: OpenRun;
}): JSX.Element {
  const { service, workspace, latest } = props;
  const id = useId();
  const versions = useRequest(
    () => listDatasetVersions(service, workspace, latest.name),
    [service, workspace, latest.name, latest.version, props.refreshKey]
  );
  const [picked, setPicked] = useState<number | null>(null);
  const [tab, setTab] = useState('overview');
  const all = versions.data ?? [latest];
  const dataset = all.find(v => v.version === (picked ?? latest.version)) ?? latest;
  const ref = `${dataset.name}:${dataset.version}`;
  const tabular = dataset.kind === 'tabular';
  const tabs = [
    { id: 'overview', label: 'Overview', render: () => <Overview dataset={dataset} /> },
    tabular
      ? {
          id: 'preview',
          label: 'Preview',
          render: () => (
            <DatasetPreviewTable service={service} workspace={workspace} dataset={dataset} />
          )
        }
      : {
          id: 'files',
          label: 'Files',
          render: () => (
            <DatasetFilesTable service={service} workspace={workspace} dataset={dataset} />
          )
        },
    ...(tabular
      ? [
          {
            id: 'profile',
            label: 'Profile',
            render: () => (
              <DatasetProfileTable service={service} workspace={workspace} dataset={dataset} />
            )
          }
        ]
      : []),
    {
      id: 'lineage',
      label: 'Lineage',
      render: () => (
        <DatasetLineageTable
          service={service}
          workspace={workspace}
          name={dataset.name}
          selected={dataset.version}
          refreshKey={props.refreshKey}
          openRun={props.openRun}
        />
      )
    },
    {
      id: 'versions',
      label: 'Versions',
      badge: versions.data ? versions.data.length : undefined,
      render: () =>
        versions.data === undefined ? (
          <Loading label="Loading versions…" />
        ) : (
          <VersionsTable
            name={dataset.name}
            versions={versions.data}
            selected={dataset.version}
            onSelect={v => {
              setPicked(v);
              setTab('overview');
            }}
          />
        )
    }
  ];
  return (
    <div
      className="jp-aml-DataItem-body"
      role="group"
      aria-label={`Dataset ${latest.name} details`}
    >
      <div className="jp-aml-DataItem-bar">
        <label htmlFor={`${id}-version`}>Version</label>
        <select
          id={`${id}-version`}
          className="jp-mod-styled"
          value={dataset.version}
          onChange={e => setPicked(Number(e.target.value))}
        >
          {all.map(v => (
            <option key={v.version} value={v.version}>
              v{v.version}
              {v.version === latest.version ? ' (latest)' : ''}
            </option>
          ))}
        </select>
        <CopyButton
          text={`Dataset.get_by_name(ws, "${dataset.name}", version=${dataset.version})`}
          label={`Copy SDK snippet for ${ref}`}
        >
          Copy snippet
        </CopyButton>
        <UnregisterButton
          service={service}
          workspace={workspace}
          name={latest.name}
          onDone={props.onChanged}
        />
      </div>
      {versions.error !== undefined && (
        <ErrorView error={versions.error} onRetry={versions.reload} context="Versions" />
      )}
      {/* Keyed by version: another version's tabs load its own preview and profile. */}
      <Tabs
        key={dataset.version}
        label={`${ref} sections`}
        selected={tabs.some(t => t.id === tab) ? tab : 'overview'}
        onSelect={setTab}
        tabs={tabs}
      />
    </div>
  );
}

function DatasetItem(props: {
  service: AMLService;
  workspace: string;
  dataset: IDataset;
  expanded: boolean;
  onToggle: () => void;
  refreshKey: number;
  onChanged: () => void;
  openRun?: OpenRun;
}): JSX.Element {
  const { dataset } = props;
  return (
    <li className="jp-aml-ListItem jp-aml-Dataset" data-dataset={dataset.name}>
      <button
        type="button"
        className="jp-aml-ListItem-toggle"
        aria-expanded={props.expanded}
        aria-label={`Dataset ${dataset.name}`}
        onClick={props.onToggle}
      >
        <span className="jp-aml-Caret" aria-hidden="true" data-open={props.expanded} />
        <span className="jp-aml-ListItem-name">{dataset.name}</span>
        <span className="jp-aml-Tag" title={`A ${kindLabel(dataset.kind)}Dataset`}>
          {kindLabel(dataset.kind)}
        </span>
        <span className="jp-aml-ListItem-count" title={`Latest version ${dataset.version}`}>
          v{dataset.version}
        </span>
      </button>
      {props.expanded && (
        <DatasetDetail
          service={props.service}
          workspace={props.workspace}
          latest={dataset}
          refreshKey={props.refreshKey}
          onChanged={props.onChanged}
          openRun={props.openRun}
        />
      )}
    </li>
  );
}

export function DatasetsSection(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
  actions?: { openRun: OpenRun };
}): JSX.Element {
  const { service, workspace, refreshKey, actions } = props;
  const openRun = actions ? (ws: string, id: string) => actions.openRun(ws, id) : undefined;
  const datasets = useRequest(() => listDatasets(service, workspace), [workspace, refreshKey]);
  const { items: expanded, toggle } = useToggleSet();
  const [filter, setFilter] = useState('');

  const items = datasets.data;
  let body: React.ReactNode;
  if (items === undefined) {
    body = datasets.error ? (
      <ErrorView error={datasets.error} onRetry={datasets.reload} context="Datasets" />
    ) : (
      <Loading label="Loading datasets…" />
    );
  } else if (items.length === 0) {
    body = (
      <>
        {datasets.error !== undefined && (
          <ErrorView error={datasets.error} onRetry={datasets.reload} context="Datasets" />
        )}
        <EmptyState>
          No datasets yet. Register one with{' '}
          <code>
            Dataset.Tabular.from_delimited_files(path=[(datastore, "data/*.csv")]).register(ws,
            name)
          </code>{' '}
          or{' '}
          <code>Dataset.File.from_files(path=[(datastore, "images/**")]).register(ws, name)</code>.
        </EmptyState>
      </>
    );
  } else {
    const query = filter.trim().toLowerCase();
    const shown = [...items]
      .sort((a, b) => a.name.localeCompare(b.name))
      .filter(d => !query || d.name.toLowerCase().includes(query));
    body = (
      <>
        {datasets.error !== undefined && (
          <ErrorView error={datasets.error} onRetry={datasets.reload} context="Datasets" />
        )}
        <div className="jp-aml-Filters jp-aml-Models-filters">
          <input
            className="jp-mod-styled jp-aml-Filter"
            type="search"
            placeholder="name"
            aria-label="Filter datasets by name"
            value={filter}
            onChange={e => setFilter(e.target.value)}
          />
        </div>
        {shown.length === 0 ? (
          <EmptyState>No dataset matches “{filter.trim()}”.</EmptyState>
        ) : (
          <ul className="jp-aml-List" aria-label="Datasets">
            {shown.map(d => (
              <DatasetItem
                key={d.name}
                service={service}
                workspace={workspace}
                dataset={d}
                expanded={expanded.has(d.name)}
                onToggle={() => toggle(d.name)}
                refreshKey={refreshKey}
                onChanged={datasets.reload}
                openRun={openRun}
              />
            ))}
          </ul>
        )}
      </>
    );
  }
  return (
    <Section id="datasets" title="Datasets" badge={items ? items.length : undefined}>
      {body}
    </Section>
  );
}
