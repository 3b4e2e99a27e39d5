/**
 * One model version in the Models section: when and how it was made, its lineage (the run that
 * produced it), its files, the web services that use it, its tags, and its actions: edit tags, copy
 * an SDK snippet, delete (the server refuses while a web service uses it).
 */
import React, { useEffect, useRef, useState } from 'react';

import { AMLService, IModel, IModelUpdate } from '../../api';
import { formatBytes, runNumber } from '../../format';
import { ErrorView } from '../components';
import { confirmDanger, CopyButton, IAssetActions, notifyError } from '../registry-common';
import { VersionHead } from '../registry-list';
import { modelSnippet } from './filter';
import { ProfileResults } from './profile';
import { TagAdder, TagList } from './tags';

interface IActionError {
  context: string;
  error: unknown;
}

/** Run a change of this version: busy meanwhile, then reload the list, or keep the error. */
function useVersionChange(onChanged: () => void): {
  busy: boolean;
  error: IActionError | null;
  dismiss: () => void;
  change: (context: string, action: () => Promise<unknown>) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<IActionError | null>(null);
  const change = async (context: string, action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onChanged();
    } catch (reason) {
      setError({ context, error: reason });
      notifyError(context, reason);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, dismiss: () => setError(null), change };
}

/** Whether the user confirmed deleting this version (told which web services use it). */
function confirmDelete(ref: string, deployments: string[]): Promise<boolean> {
  return confirmDanger({
    title: `Delete model version ${ref}?`,
    body: (
      <>
        The registry entry of <code>{ref}</code> is deleted; its files stay in the workspace's blob
        store while other versions or runs use them.
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
}

function ModelVersionHead(props: { model: IModel; latest: boolean }): JSX.Element {
  const { model } = props;
  return (
    <VersionHead version={model.version} latest={props.latest} createdAt={model.created_at}>
      {model.framework && (
        <span className="jp-aml-Muted">
          {model.framework}
          {model.framework_version ? ` ${model.framework_version}` : ''}
        </span>
      )}
    </VersionHead>
  );
}

function RunLink(props: { model: IModel; workspace: string; actions: IAssetActions }): JSX.Element {
  const { model } = props;
  if (!model.run_id) {
    return <span className="jp-aml-Muted">registered from local files</span>;
  }
  const runId = model.run_id;
  // "train #4", as the runs table names it; the raw id is in the tooltip (and shown only for a run
  // the service no longer knows the number of)
  const shown = model.run_number
    ? runNumber({ number: 0, display_number: model.run_number })
    : runId;
  const label = model.experiment && model.run_number ? `${model.experiment} ${shown}` : shown;
  return (
    <button
      type="button"
      className="jp-aml-LinkButton jp-aml-ModelRun"
      title={`Open run ${runId}`}
      aria-label={`Open run ${runId}`}
      onClick={() => props.actions.openRun(props.workspace, runId)}
    >
      {label}
    </button>
  );
}

function EndpointLinks(props: {
  names: string[];
  workspace: string;
  actions: IAssetActions;
}): JSX.Element {
  return (
    <>
      {props.names.map((name, i) => (
        <React.Fragment key={name}>
          {i > 0 && ', '}
          <button
            type="button"
            className="jp-aml-LinkButton"
            aria-label={`Open endpoint ${name}`}
            onClick={() => props.actions.openEndpoint(props.workspace, name)}
          >
            {name}
          </button>
        </React.Fragment>
      ))}
    </>
  );
}

/** Where the version came from, what it holds, and who uses it. */
function VersionFields(props: {
  model: IModel;
  workspace: string;
  actions: IAssetActions;
}): JSX.Element {
  const { model } = props;
  const deployments = model.deployments ?? [];
  return (
    <dl className="jp-aml-Fields jp-aml-ModelVersion-fields">
      <dt>Run</dt>
      <dd>
        <RunLink {...props} />
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
            <EndpointLinks
              names={deployments}
              workspace={props.workspace}
              actions={props.actions}
            />
          </dd>
        </>
      )}
      <ProfileResults model={model} />
    </dl>
  );
}

function VersionActions(props: {
  model: IModel;
  editing: boolean;
  busy: boolean;
  onEdit: () => void;
  onDelete: () => void;
}): JSX.Element {
  const ref = `${props.model.name}:${props.model.version}`;
  return (
    <div className="jp-aml-ModelVersion-actions" role="group" aria-label={`Actions on ${ref}`}>
      <CopyButton text={modelSnippet(props.model)} label={`Copy SDK snippet for ${ref}`}>
        Copy snippet
      </CopyButton>
      <button
        type="button"
        className="jp-mod-styled jp-aml-Button"
        aria-pressed={props.editing}
        aria-label={`Edit tags of ${ref}`}
        onClick={props.onEdit}
      >
        {props.editing ? 'Done' : 'Edit tags'}
      </button>
      <button
        type="button"
        className="jp-mod-styled jp-mod-warn jp-aml-Button"
        aria-label={`Delete ${ref}`}
        disabled={props.busy}
        onClick={props.onDelete}
      >
        Delete
      </button>
    </div>
  );
}

/** Revealed from elsewhere (an endpoint's model link): scroll to it and mark it for a moment. */
function useHighlight(node: React.RefObject<HTMLElement>, focusN: number | null): boolean {
  const [highlight, setHighlight] = useState(false);
  useEffect(() => {
    if (focusN === null || !node.current) {
      setHighlight(false);
      return;
    }
    node.current.scrollIntoView({ block: 'nearest' });
    node.current.focus({ preventScroll: true });
    setHighlight(true);
  }, [focusN, node]);
  return highlight;
}

export function VersionItem(props: {
  service: AMLService;
  workspace: string;
  actions: IAssetActions;
  model: IModel;
  latest: boolean;
  /** Changes with every request to reveal this version; null when none is pending. */
  focusN: number | null;
  onChanged: () => void;
}): JSX.Element {
  const { service, workspace, model } = props;
  const ref = `${model.name}:${model.version}`;
  const [editing, setEditing] = useState(false);
  const { busy, error, dismiss, change } = useVersionChange(props.onChanged);
  const node = useRef<HTMLLIElement>(null);
  const highlight = useHighlight(node, props.focusN);

  const remove = async () => {
    if (await confirmDelete(ref, model.deployments ?? [])) {
      await change(`Delete ${ref}`, () =>
        service.deleteModel(workspace, model.name, model.version)
      );
    }
  };
  const update = (context: string, patch: IModelUpdate) =>
    change(context, () => service.updateModel(workspace, model.name, model.version, patch));

  return (
    <li
      ref={node}
      tabIndex={-1}
      className={`jp-aml-ModelVersion${highlight ? ' jp-mod-focused' : ''}`}
      data-model={model.name}
      data-version={model.version}
      aria-label={`${model.name} version ${model.version}`}
    >
      <ModelVersionHead model={model} latest={props.latest} />
      {model.description && (
        <div className="jp-aml-ModelVersion-description">{model.description}</div>
      )}
      <VersionFields model={model} workspace={workspace} actions={props.actions} />
      <TagList
        model={model}
        editing={editing}
        busy={busy}
        onRemove={key => void update(`Remove tag ${key} from ${ref}`, { remove_tags: [key] })}
      />
      {editing && (
        <TagAdder
          label={ref}
          busy={busy}
          onAdd={(key, value) => update(`Tag ${ref}`, { tags: { [key]: value } })}
        />
      )}
      <VersionActions
        model={model}
        editing={editing}
        busy={busy}
        onEdit={() => setEditing(!editing)}
        onDelete={() => void remove()}
      />
      {error && (
        <div className="jp-aml-ModelVersion-error">
          <ErrorView error={error.error} context={error.context} />
          <button type="button" className="jp-aml-LinkButton jp-aml-Dismiss" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
    </li>
  );
}
