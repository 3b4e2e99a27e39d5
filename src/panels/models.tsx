/**
 * Models section: the workspace's registered models grouped by name (latest version, version count),
 * each expanding to its versions (./model/version.tsx) with their lineage, tags and actions.
 * The list follows the push channel's model and web-service events; it never polls on its own.
 */
import React, { useEffect, useRef, useState } from 'react';

import { AMLService, IModel } from '../api';
import { useLiveQuery } from '../live/hooks';
import { Section } from './components';
import { matchesFilter } from './model/filter';
import { VersionItem } from './model/version';
import { IAssetActions } from './registry-common';
import { RegistryList, VersionGroupItem } from './registry-list';
import { useToggleSet } from './toggle-set';
import { groupVersions, IVersionGroup } from './version-groups';

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

type IModelGroup = IVersionGroup<IModel>;

/**
 * Act on a request to reveal a model: clear the filter and expand it (the section opens: see
 * `ModelsSection`); the version stays marked for a few seconds.
 */
function useModelReveal(
  focus: IModelFocus | null,
  reveal: (name: string) => void
): IModelFocus | null {
  const [revealed, setRevealed] = useState<IModelFocus | null>(null);
  const revealRef = useRef(reveal);
  revealRef.current = reveal;
  useEffect(() => {
    if (!focus || focus.handled) {
      return;
    }
    focus.handled = true;
    revealRef.current(focus.name);
    setRevealed(focus);
    const timer = window.setTimeout(() => setRevealed(null), 3000);
    return () => window.clearTimeout(timer);
  }, [focus]);
  return revealed;
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
  const { group, matching, focusVersion } = props;
  const latest = group.versions[0];
  const count = group.versions.length;
  const inUse = group.versions.some(v => (v.deployments ?? []).length > 0);
  return (
    <VersionGroupItem
      kind="Model"
      name={group.name}
      latestVersion={latest.version}
      count={count}
      expanded={props.expanded}
      onToggle={props.onToggle}
      badge={
        inUse ? { text: 'deployed', title: 'A web service uses a version of this model' } : null
      }
      note={
        props.filtered &&
        matching.length < count && (
          <div className="jp-aml-Muted jp-aml-ModelVersions-note">
            {matching.length} of {count} versions match the filter.
          </div>
        )
      }
    >
      {matching.map(model => (
        <VersionItem
          key={model.version}
          service={props.service}
          workspace={props.workspace}
          actions={props.actions}
          model={model}
          latest={model.version === latest.version}
          focusN={focusVersion?.version === model.version ? focusVersion.n : null}
          onChanged={props.onChanged}
        />
      ))}
    </VersionGroupItem>
  );
}

export function ModelsSection(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
  actions: IAssetActions;
  focus: IModelFocus | null;
}): JSX.Element {
  const { service, workspace, refreshKey, focus } = props;
  // Registrations, tag edits and deletes come as model events; a deployment changes which versions
  // are in use (web-service events). Reload at most twice a second.
  const models = useLiveQuery(
    service,
    workspace,
    () => service.listModels(workspace),
    [refreshKey],
    {
      reloadOn: event => event.type === 'model' || event.type === 'webservice',
      throttleMs: 500
    }
  );
  const [filter, setFilter] = useState('');
  const { items: expanded, toggle, setItems: setExpanded } = useToggleSet();

  const focusHere = focus !== null && focus.workspace === workspace ? focus : null;
  const revealing = focusHere !== null && !focusHere.handled;
  const reveal = useModelReveal(focusHere, name => {
    setFilter('');
    setExpanded(prev => (prev.has(name) ? prev : new Set(prev).add(name)));
  });

  const groups = models.data ? groupVersions(models.data) : [];
  const shown = groups
    .map(g => ({ ...g, matching: g.versions.filter(v => matchesFilter(v, filter)) }))
    .filter(g => g.matching.length > 0);
  const body = (
    <RegistryList
      loaded={models}
      title="Models"
      loadingLabel="Loading models…"
      count={groups.length}
      empty={
        <>
          No models yet. Register one with <code>Model.register(ws, path, name)</code>, or from a
          run with <code>run.register_model(name, "outputs/model.pkl")</code>.
        </>
      }
      filter={filter}
      onFilter={setFilter}
      filterPlaceholder="name, tag or tag=value"
      filterLabel="Filter models by name or tag"
      noun="model"
    >
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
    </RegistryList>
  );

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
