/**
 * Datastores section: the workspace's datastores (name, kind, the default marked), each expanding to
 * where it is (folder, bucket, prefix, endpoint: never a credential; the service's answers hold none)
 * and its files (./datastore-files.tsx), with Set as default and Unregister. "Register datastore…"
 * opens ./register-dialog.tsx. The service sends no push events for datastores: the list reloads
 * after each action here and with the sidebar's refresh.
 */
import React, { useState } from 'react';

import type { AMLService } from '../../api';
import { formatDateTime, formatDateTimeLong } from '../../format';
import { EmptyState, ErrorView, Loading, Section } from '../components';
import { useRequest } from '../hooks';
import { confirmDanger, notifyError } from '../registry-common';
import { useToggleSet } from '../toggle-set';
import { IDatastore, listDatastores, setDefaultDatastore, unregisterDatastore } from './api';
import { DatastoreFiles } from './datastore-files';
import { registerDatastoreDialog } from './register-dialog';

/** What a person calls each kind. */
export const KIND_LABELS: Readonly<Record<string, string>> = {
  workspaceblobstore: 'Workspace storage',
  local: 'Local folder',
  s3: 'S3-compatible',
  azure_blob: 'Azure Blob'
};

/** The same, short enough for the list's rows at the sidebar's default width. */
const SHORT_KIND_LABELS: Readonly<Record<string, string>> = {
  workspaceblobstore: 'workspace',
  local: 'folder',
  s3: 'S3',
  azure_blob: 'Azure Blob'
};

function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

/** Where the datastore is, field by field, as the service reports it (never a credential). */
function LocationFields(props: { store: IDatastore }): JSX.Element {
  const { store } = props;
  const rows: [string, React.ReactNode][] = [
    ['Kind', `${kindLabel(store.kind)} (${store.datastore_type})`],
    ['Location', <code key="loc">{store.location}</code>]
  ];
  const optional: [string, string | null | undefined][] = [
    ['Bucket', store.bucket_name],
    ['Prefix', store.prefix],
    ['Endpoint', store.endpoint_url ?? store.endpoint],
    ['Region', store.region],
    ['Container', store.container_name],
    ['Account', store.account_name]
  ];
  for (const [label, value] of optional) {
    if (value) {
      rows.push([label, <code key={label}>{value}</code>]);
    }
  }
  if (store.kind !== 'workspaceblobstore' && store.kind !== 'local') {
    rows.push([
      'Credentials',
      store.has_credentials ? (
        <span>in the workspace's key vault (never shown)</span>
      ) : (
        <span className="jp-aml-Muted">none: anonymous access</span>
      )
    ]);
  }
  if (store.description) {
    rows.push(['Description', store.description]);
  }
  rows.push([
    'Registered',
    <span key="at" title={formatDateTimeLong(store.created_at)}>
      {formatDateTime(store.created_at)}
      {store.created_by ? ` by ${store.created_by}` : ''}
    </span>
  ]);
  return (
    <dl className="jp-aml-Fields jp-aml-ModelVersion-fields" aria-label={`About ${store.name}`}>
      {rows.map(([label, value]) => (
        <React.Fragment key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </React.Fragment>
      ))}
    </dl>
  );
}

function DatastoreItem(props: {
  service: AMLService;
  workspace: string;
  store: IDatastore;
  expanded: boolean;
  onToggle: () => void;
  refreshKey: number;
  onChanged: () => void;
}): JSX.Element {
  const { service, workspace, store } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ error: unknown; context: string } | null>(null);
  const act = async (context: string, action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      props.onChanged();
    } catch (reason) {
      setError({ error: reason, context });
      notifyError(`${context} ${store.name}`, reason);
    } finally {
      setBusy(false);
    }
  };
  const unregister = async () => {
    const ok = await confirmDanger({
      title: `Unregister datastore ${store.name}?`,
      body: (
        <>
          The datastore's record and its credentials are removed from workspace {workspace}. Its
          files stay where they are. Datasets that read from it stop working until a datastore of
          this name is registered again.
        </>
      ),
      accept: 'Unregister'
    });
    if (ok) {
      await act('Unregister', () => unregisterDatastore(service, workspace, store.name));
    }
  };
  return (
    <li className="jp-aml-ListItem jp-aml-Datastore" data-datastore={store.name}>
      <button
        type="button"
        className="jp-aml-ListItem-toggle"
        aria-expanded={props.expanded}
        aria-label={`Datastore ${store.name}`}
        onClick={props.onToggle}
      >
        <span className="jp-aml-Caret" aria-hidden="true" data-open={props.expanded} />
        <span className="jp-aml-ListItem-name" title={store.name}>
          {store.name}
        </span>
        {store.is_default && (
          <span className="jp-aml-Tag" title="The workspace's default datastore">
            default
          </span>
        )}
        <span className="jp-aml-ListItem-count" title={kindLabel(store.kind)}>
          {SHORT_KIND_LABELS[store.kind] ?? store.kind}
        </span>
      </button>
      {props.expanded && (
        <div
          className="jp-aml-DataItem-body"
          role="group"
          aria-label={`Datastore ${store.name} details`}
        >
          <LocationFields store={store} />
          <div
            className="jp-aml-ModelVersion-actions"
            role="group"
            aria-label={`Actions on ${store.name}`}
          >
            <button
              type="button"
              className="jp-mod-styled jp-aml-Button"
              aria-label={`Set ${store.name} as default`}
              title="Make this the datastore ws.get_default_datastore() returns"
              disabled={busy || store.is_default}
              onClick={() =>
                void act('Set default', async () => {
                  await setDefaultDatastore(service, workspace, store.name);
                })
              }
            >
              {store.is_default ? 'Default' : 'Set as default'}
            </button>
            <button
              type="button"
              className="jp-mod-styled jp-mod-warn jp-aml-Button"
              aria-label={`Unregister ${store.name}`}
              disabled={busy}
              onClick={() => void unregister()}
            >
              Unregister
            </button>
          </div>
          {error && (
            <div className="jp-aml-ModelVersion-error">
              <ErrorView error={error.error} context={error.context} />
            </div>
          )}
          <h4 className="jp-aml-DataItem-heading">Files</h4>
          <DatastoreFiles
            service={service}
            workspace={workspace}
            datastore={store.name}
            refreshKey={props.refreshKey}
          />
        </div>
      )}
    </li>
  );
}

export function DatastoresSection(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
}): JSX.Element {
  const { service, workspace, refreshKey } = props;
  const stores = useRequest(() => listDatastores(service, workspace), [workspace, refreshKey]);
  const { items: expanded, toggle, setItems: setExpanded } = useToggleSet();

  const register = async () => {
    try {
      const made = await registerDatastoreDialog(service, workspace);
      if (made) {
        setExpanded(prev => new Set(prev).add(made.name));
        stores.reload();
      }
    } catch (reason) {
      notifyError('Register datastore', reason);
    }
  };

  const items = stores.data?.items;
  let body: React.ReactNode;
  if (items === undefined) {
    body = stores.error ? (
      <ErrorView error={stores.error} onRetry={stores.reload} context="Datastores" />
    ) : (
      <Loading label="Loading datastores…" />
    );
  } else {
    body = (
      <>
        {stores.error !== undefined && (
          <ErrorView error={stores.error} onRetry={stores.reload} context="Datastores" />
        )}
        {items.length === 0 ? (
          <EmptyState>
            No datastores yet. Register one with <strong>Register datastore…</strong> or{' '}
            <code>Datastore.register_local(ws, name, path)</code>.
          </EmptyState>
        ) : (
          <ul className="jp-aml-List" aria-label="Datastores">
            {items.map(store => (
              <DatastoreItem
                key={store.name}
                service={service}
                workspace={workspace}
                store={store}
                expanded={expanded.has(store.name)}
                onToggle={() => toggle(store.name)}
                refreshKey={refreshKey}
                onChanged={stores.reload}
              />
            ))}
          </ul>
        )}
      </>
    );
  }
  return (
    <Section id="datastores" title="Datastores" badge={items ? items.length : undefined}>
      <div className="jp-aml-Computes-toolbar">
        <button
          type="button"
          className="jp-mod-styled jp-aml-Button"
          aria-label="Register datastore…"
          onClick={() => void register()}
        >
          Register datastore…
        </button>
      </div>
      {body}
    </Section>
  );
}
