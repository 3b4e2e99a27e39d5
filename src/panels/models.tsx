/**
 * Models section: the workspace's registered models grouped by name (latest version, version count),
 * each expanding to its versions with their lineage (the run that produced them), tags, and actions:
 * edit tags, copy an SDK snippet, delete a version (the server refuses while a web service uses it).
 * The list follows the push channel's model and web-service events; it never polls on its own.
 */
import React, { useEffect, useRef, useState } from 'react';

import { AMLService, IModel } from '../api';
import { formatBytes, formatDateTime, formatDateTimeLong } from '../format';
import { EmptyState, ErrorView, Loading, Section } from './components';
import { useRequest, useThrottled, useWorkspaceEvents } from './hooks';
import {
  confirmDanger,
  CopyButton,
  IAssetActions,
  notifyError,
  VersionGroupToggle
} from './registry-common';

/** A request to reveal one model (and version) in the section; `n` changes with every request. */
export interface IModelFocus {
  workspace: string;
  name: string;
  version: number | null;
  n: number;
  /** Set by the section once it revealed the model, so that a remount (switching workspaces back
   * and forth) does not reveal it again. */
  handled?: boolean;
}

/** The versions of one registered name (a model, an environment), newest first. */
export interface IVersionGroup<T> {
  name: string;
  /** Newest first. */
  versions: T[];
}

type IModelGroup = IVersionGroup<IModel>;

/** Versions grouped by name, names in order, versions newest first (models and environments). */
export function groupVersions<T extends { name: string; version: number }>(
  items: T[]
): IVersionGroup<T>[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(item.name);
    if (list) {
      list.push(item);
    } else {
      groups.set(item.name, [item]);
    }
  }
  return Array.from(groups.entries())
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, versions]) => ({
      name,
      versions: versions.sort((a, b) => b.version - a.version)
    }));
}

/** Model versions grouped by model name, names in order, versions newest first. */
export function groupModels(models: IModel[]): IModelGroup[] {
  return groupVersions(models);
}

/**
 * Whether a version matches the filter text: part of its name, or of a tag's key or value;
 * `key=value` matches tags from the start (`stage=prod` finds `stage=production`).
 */
export function matchesFilter(model: IModel, text: string): boolean {
  const query = text.trim().toLowerCase();
  if (!query) {
    return true;
  }
  if (model.name.toLowerCase().includes(query)) {
    return true;
  }
  return Object.entries(model.tags ?? {}).some(([key, value]) => {
    if (query.includes('=')) {
      return `${key}=${value}`.toLowerCase().startsWith(query);
    }
    return key.toLowerCase().includes(query) || String(value).toLowerCase().includes(query);
  });
}

/** The SDK line that gets this version back, e.g. `Model(ws, "digits", version=3)`. */
export function modelSnippet(model: Pick<IModel, 'name' | 'version'>): string {
  return `Model(ws, ${JSON.stringify(model.name)}, version=${model.version})`;
}

export function ModelsSection(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
  actions: IAssetActions;
  focus: IModelFocus | null;
}): JSX.Element {
  const { service, workspace, refreshKey, focus } = props;
  const models = useRequest(() => service.listModels(workspace), [workspace, refreshKey]);
  const [filter, setFilter] = useState('');
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());

  // Registrations, tag edits and deletes come as model events; a deployment changes which versions
  // are in use (web-service events). Reload at most twice a second.
  const reloadSoon = useThrottled(models.reload, 500);
  useWorkspaceEvents(service, workspace, event => {
    if (event.type === 'reconnect' || event.type === 'model' || event.type === 'webservice') {
      reloadSoon();
    }
  });

  // A request to reveal a model: clear the filter and expand it (the section opens: see below);
  // the version is marked for a few seconds.
  const focusHere = focus !== null && focus.workspace === workspace ? focus : null;
  const revealing = focusHere !== null && !focusHere.handled;
  const [reveal, setReveal] = useState<IModelFocus | null>(null);
  useEffect(() => {
    if (!focusHere || focusHere.handled) {
      return;
    }
    focusHere.handled = true;
    setFilter('');
    setExpanded(prev => (prev.has(focusHere.name) ? prev : new Set(prev).add(focusHere.name)));
    setReveal(focusHere);
    const timer = window.setTimeout(() => setReveal(null), 3000);
    return () => window.clearTimeout(timer);
  }, [focusHere]);

  const toggle = (name: string) =>
    setExpanded(prev => {
      const next = new Set(prev);
      if (next.has(name)) {
        next.delete(name);
      } else {
        next.add(name);
      }
      return next;
    });

  const groups = models.data ? groupModels(models.data) : [];
  const shown = groups
    .map(g => ({ ...g, matching: g.versions.filter(v => matchesFilter(v, filter)) }))
    .filter(g => g.matching.length > 0);

  let body: React.ReactNode;
  if (models.data === undefined) {
    body = models.error ? (
      <ErrorView error={models.error} onRetry={models.reload} context="Models" />
    ) : (
      <Loading label="Loading models…" />
    );
  } else if (groups.length === 0) {
    body = (
      <>
        {models.error !== undefined && (
          <ErrorView error={models.error} onRetry={models.reload} context="Models" />
        )}
        <EmptyState>
          No models yet. Register one with <code>Model.register(ws, path, name)</code>, or from a
          run with <code>run.register_model(name, "outputs/model.pkl")</code>.
        </EmptyState>
      </>
    );
  } else {
    body = (
      <>
        {models.error !== undefined && (
          <ErrorView error={models.error} onRetry={models.reload} context="Models" />
        )}
        <div className="jp-aml-Filters jp-aml-Models-filters">
          <input
            className="jp-mod-styled jp-aml-Filter"
            type="search"
            placeholder="name, tag or tag=value"
            aria-label="Filter models by name or tag"
            value={filter}
            onChange={e => setFilter(e.target.value)}
          />
        </div>
        {shown.length === 0 ? (
          <EmptyState>No model matches “{filter.trim()}”.</EmptyState>
        ) : (
          <ul className="jp-aml-List" aria-label="Models">
            {shown.map(group => (
              <ModelItem
                key={group.name}
                service={service}
                workspace={workspace}
                actions={props.actions}
                group={group}
                matching={group.matching}
                filtered={filter.trim() !== ''}
                expanded={expanded.has(group.name)}
                onToggle={() => toggle(group.name)}
                focusVersion={
                  reveal && reveal.name === group.name
                    ? { version: reveal.version ?? group.versions[0].version, n: reveal.n }
                    : null
                }
                onChanged={models.reload}
              />
            ))}
          </ul>
        )}
      </>
    );
  }

  return (
    <Section
      // A reveal request re-creates the section open (its open state is its own).
      key={focusHere ? `focus-${focusHere.n}` : 'models'}
      id="models"
      title="Models"
      defaultOpen={revealing}
      badge={models.data ? groups.length : undefined}
    >
      {body}
    </Section>
  );
}

function ModelItem(props: {
  service: AMLService;
  workspace: string;
  actions: IAssetActions;
  group: IModelGroup;
  matching: IModel[];
  filtered: boolean;
  expanded: boolean;
  onToggle: () => void;
  focusVersion: { version: number; n: number } | null;
  onChanged: () => void;
}): JSX.Element {
  const { group } = props;
  const latest = group.versions[0];
  const count = group.versions.length;
  const inUse = group.versions.some(v => (v.deployments ?? []).length > 0);
  return (
    <li className="jp-aml-ListItem jp-aml-Model" data-model={group.name}>
      <VersionGroupToggle
        kind="Model"
        name={group.name}
        latestVersion={latest.version}
        count={count}
        expanded={props.expanded}
        onToggle={props.onToggle}
        badge={
          inUse && (
            <span className="jp-aml-Tag" title="A web service uses a version of this model">
              deployed
            </span>
          )
        }
      />
      {props.expanded && (
        <div className="jp-aml-ModelVersions">
          {props.filtered && props.matching.length < count && (
            <div className="jp-aml-Muted jp-aml-ModelVersions-note">
              {props.matching.length} of {count} versions match the filter.
            </div>
          )}
          <ul className="jp-aml-List" aria-label={`Versions of model ${group.name}`}>
            {props.matching.map(model => (
              <VersionItem
                key={model.version}
                service={props.service}
                workspace={props.workspace}
                actions={props.actions}
                model={model}
                latest={model.version === latest.version}
                focusN={
                  props.focusVersion && props.focusVersion.version === model.version
                    ? props.focusVersion.n
                    : null
                }
                onChanged={props.onChanged}
              />
            ))}
          </ul>
        </div>
      )}
    </li>
  );
}

function VersionItem(props: {
  service: AMLService;
  workspace: string;
  actions: IAssetActions;
  model: IModel;
  latest: boolean;
  focusN: number | null;
  onChanged: () => void;
}): JSX.Element {
  const { service, workspace, model, actions } = props;
  const ref = `${model.name}:${model.version}`;
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ context: string; error: unknown } | null>(null);
  const [highlight, setHighlight] = useState(false);
  const node = useRef<HTMLLIElement>(null);
  const deployments = model.deployments ?? [];

  // Revealed from elsewhere (an endpoint's model link): scroll to it and mark it for a moment.
  useEffect(() => {
    if (props.focusN === null || !node.current) {
      setHighlight(false);
      return;
    }
    node.current.scrollIntoView({ block: 'nearest' });
    node.current.focus({ preventScroll: true });
    setHighlight(true);
  }, [props.focusN]);

  const run = async (context: string, action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      props.onChanged();
    } catch (reason) {
      setError({ context, error: reason });
      notifyError(context, reason);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    const accepted = await confirmDanger({
      title: `Delete model version ${ref}?`,
      body: (
        <>
          The registry entry of <code>{ref}</code> is deleted; its files stay in the workspace's
          blob store while other versions or runs use them.
          {deployments.length > 0 && (
            <>
              {' '}
              The web service{deployments.length === 1 ? '' : 's'} {deployments.join(', ')} use it.
            </>
          )}
        </>
      ),
      accept: 'Delete'
    });
    if (accepted) {
      await run(`Delete ${ref}`, () => service.deleteModel(workspace, model.name, model.version));
    }
  };

  return (
    <li
      ref={node}
      tabIndex={-1}
      className={`jp-aml-ModelVersion${highlight ? ' jp-mod-focused' : ''}`}
      data-model={model.name}
      data-version={model.version}
      aria-label={`${model.name} version ${model.version}`}
    >
      <div className="jp-aml-ModelVersion-head">
        <span className="jp-aml-ModelVersion-number">v{model.version}</span>
        {props.latest && <span className="jp-aml-Tag">latest</span>}
        <span className="jp-aml-Muted" title={formatDateTimeLong(model.created_at)}>
          {formatDateTime(model.created_at)}
        </span>
        {model.framework && (
          <span className="jp-aml-Muted">
            {model.framework}
            {model.framework_version ? ` ${model.framework_version}` : ''}
          </span>
        )}
      </div>
      {model.description && (
        <div className="jp-aml-ModelVersion-description">{model.description}</div>
      )}
      <dl className="jp-aml-Fields jp-aml-ModelVersion-fields">
        <dt>Run</dt>
        <dd>
          {model.run_id ? (
            <button
              type="button"
              className="jp-aml-LinkButton"
              title={`Open run ${model.run_id}`}
              aria-label={`Open run ${model.run_id}`}
              onClick={() => actions.openRun(workspace, model.run_id as string)}
            >
              {/* Run ids usually start with their experiment's name: no need to say it twice. */}
              {model.experiment && !model.run_id.startsWith(model.experiment)
                ? `${model.experiment} · `
                : ''}
              {model.run_id}
            </button>
          ) : (
            <span className="jp-aml-Muted">registered from local files</span>
          )}
        </dd>
        <dt>Files</dt>
        <dd>
          <code>{model.path}</code>{' '}
          <span className="jp-aml-Muted">
            {model.file_count} file{model.file_count === 1 ? '' : 's'},{' '}
            {formatBytes(model.total_size)}
          </span>
        </dd>
        {deployments.length > 0 && (
          <>
            <dt>Used by</dt>
            <dd>
              {deployments.map((name, i) => (
                <React.Fragment key={name}>
                  {i > 0 && ', '}
                  <button
                    type="button"
                    className="jp-aml-LinkButton"
                    aria-label={`Open endpoint ${name}`}
                    onClick={() => actions.openEndpoint(workspace, name)}
                  >
                    {name}
                  </button>
                </React.Fragment>
              ))}
            </dd>
          </>
        )}
      </dl>
      <TagList
        model={model}
        editing={editing}
        busy={busy}
        onRemove={key =>
          void run(`Remove tag ${key} from ${ref}`, () =>
            service.updateModel(workspace, model.name, model.version, { remove_tags: [key] })
          )
        }
      />
      {editing && (
        <TagAdder
          label={ref}
          busy={busy}
          onAdd={(key, value) =>
            run(`Tag ${ref}`, () =>
              service.updateModel(workspace, model.name, model.version, { tags: { [key]: value } })
            )
          }
        />
      )}
      <div className="jp-aml-ModelVersion-actions" role="group" aria-label={`Actions on ${ref}`}>
        <CopyButton text={modelSnippet(model)} label={`Copy SDK snippet for ${ref}`}>
          Copy snippet
        </CopyButton>
        <button
          type="button"
          className="jp-mod-styled jp-aml-Button"
          aria-pressed={editing}
          aria-label={`Edit tags of ${ref}`}
          onClick={() => setEditing(!editing)}
        >
          {editing ? 'Done' : 'Edit tags'}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-mod-warn jp-aml-Button"
          aria-label={`Delete ${ref}`}
          disabled={busy}
          onClick={() => void remove()}
        >
          Delete
        </button>
      </div>
      {error && (
        <div className="jp-aml-ModelVersion-error">
          <ErrorView error={error.error} context={error.context} />
          <button
            type="button"
            className="jp-aml-LinkButton jp-aml-Dismiss"
            onClick={() => setError(null)}
          >
            Dismiss
          </button>
        </div>
      )}
    </li>
  );
}

function TagList(props: {
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

function TagAdder(props: {
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
