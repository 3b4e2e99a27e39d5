/**
 * Environments section: the workspace's registered environments grouped by name (latest version,
 * version count), each expanding to its versions (./environment/version.tsx) with their spec and a
 * Build action whose progress and outcome (./environment/build.tsx) outlive collapsing the row.
 * The server sends no push events for environments: the list reloads with the sidebar's refresh.
 */
import React, { useState } from 'react';

import { AMLService, IRegisteredEnvironment } from '../api';
import { Section } from './components';
import { IBuildState } from './environment/spec';
import { EnvironmentVersion } from './environment/version';
import { useRequest } from './hooks';
import { notifyError } from './registry-common';
import { RegistryList, VersionGroupItem } from './registry-list';
import { useToggleSet } from './toggle-set';
import { groupVersions, IVersionGroup } from './version-groups';

type IEnvironmentGroup = IVersionGroup<IRegisteredEnvironment>;
type IBuilds = Readonly<Record<string, IBuildState>>;

/**
 * Builds by `name:version`, held by the section rather than the version's row, so that collapsing a
 * row (or the section) keeps a running build and its outcome.
 */
function useBuilds(
  service: AMLService,
  workspace: string
): {
  builds: IBuilds;
  build: (env: IRegisteredEnvironment) => Promise<void>;
  dismiss: (ref: string) => void;
} {
  const [builds, setBuilds] = useState<IBuilds>({});
  const setBuild = (ref: string, state: IBuildState | null) =>
    setBuilds(prev => {
      const next = { ...prev };
      if (state) {
        next[ref] = state;
      } else {
        delete next[ref];
      }
      return next;
    });
  const build = async (env: IRegisteredEnvironment) => {
    const ref = `${env.name}:${env.version}`;
    setBuild(ref, { status: 'running', started: Date.now() });
    try {
      const result = await service.buildEnvironment(workspace, env.name, env.version);
      setBuild(ref, { status: 'built', result });
    } catch (error) {
      setBuild(ref, { status: 'failed', error });
      // The toast keeps to the first line; the version shows the installer's reason and output.
      const message = error instanceof Error ? error.message : String(error);
      notifyError(`Build ${ref}`, message.split('\n')[0]);
    }
  };
  return { builds, build, dismiss: ref => setBuild(ref, null) };
}

function EnvironmentItem(props: {
  group: IEnvironmentGroup;
  expanded: boolean;
  onToggle: () => void;
  builds: IBuilds;
  onBuild: (env: IRegisteredEnvironment) => void;
  onDismiss: (ref: string) => void;
}): JSX.Element {
  const { group } = props;
  const latest = group.versions[0];
  const building = group.versions.some(
    v => props.builds[`${v.name}:${v.version}`]?.status === 'running'
  );
  return (
    <VersionGroupItem
      kind="Environment"
      name={group.name}
      latestVersion={latest.version}
      count={group.versions.length}
      expanded={props.expanded}
      onToggle={props.onToggle}
      badge={
        building
          ? { text: 'building', title: 'A version of this environment is being built' }
          : null
      }
    >
      {group.versions.map(env => {
        const ref = `${env.name}:${env.version}`;
        return (
          <EnvironmentVersion
            key={env.version}
            env={env}
            latest={env.version === latest.version}
            build={props.builds[ref] ?? null}
            onBuild={() => props.onBuild(env)}
            onDismiss={() => props.onDismiss(ref)}
          />
        );
      })}
    </VersionGroupItem>
  );
}

export function EnvironmentsSection(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
}): JSX.Element {
  const { service, workspace, refreshKey } = props;
  const environments = useRequest(
    () => service.listEnvironments(workspace),
    [workspace, refreshKey]
  );
  const [filter, setFilter] = useState('');
  const { items: expanded, toggle } = useToggleSet();
  const { builds, build, dismiss } = useBuilds(service, workspace);

  const groups = environments.data ? groupVersions(environments.data) : [];
  const query = filter.trim().toLowerCase();
  const shown = query ? groups.filter(g => g.name.toLowerCase().includes(query)) : groups;
  const body = (
    <RegistryList
      loaded={environments}
      title="Environments"
      loadingLabel="Loading environments…"
      count={groups.length}
      empty={
        <>
          No environments yet. Register one from Python with{' '}
          <code>Environment("name").add_pip_packages(["scikit-learn"]).register(ws)</code>, or from
          a terminal with <code>aml environment create --name NAME --pip PACKAGE</code>.
        </>
      }
      filter={filter}
      onFilter={setFilter}
      filterPlaceholder="name"
      filterLabel="Filter environments by name"
      noun="environment"
    >
      {shown.map(group => (
        <EnvironmentItem
          key={group.name}
          group={group}
          expanded={expanded.has(group.name)}
          onToggle={() => toggle(group.name)}
          builds={builds}
          onBuild={env => void build(env)}
          onDismiss={dismiss}
        />
      ))}
    </RegistryList>
  );

  return (
    <Section
      id="environments"
      title="Environments"
      badge={environments.data ? groups.length : undefined}
    >
      {body}
    </Section>
  );
}
