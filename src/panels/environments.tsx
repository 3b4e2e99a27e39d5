/**
 * Environments section: the workspace's registered environments grouped by name (latest version,
 * version count), each expanding to its versions: Python version, pip requirements, environment
 * variables, docker base image and spec hash, with actions: build the version's cached venv now (so
 * the next run or local web service need not wait), copy an SDK snippet.
 * The server sends no push events for environments: the list reloads with the sidebar's refresh.
 */
import React, { useEffect, useState } from 'react';

import {
  AMLService,
  IEnvironmentBuild,
  IEnvironmentDefinition,
  IRegisteredEnvironment
} from '../api';
import { formatDateTime, formatDateTimeLong } from '../format';
import { AMLRequestError } from '../request';
import { EmptyState, ErrorView, Loading, Section } from './components';
import { useRequest } from './hooks';
import { groupVersions, IVersionGroup } from './version-groups';
import { CopyButton, notifyError, VersionGroupToggle } from './registry-common';

type IEnvironmentGroup = IVersionGroup<IRegisteredEnvironment>;

/** A build started from this section: running, or its outcome. Kept while the section lives. */
type IBuildState =
  | { status: 'running'; started: number }
  | { status: 'built'; result: IEnvironmentBuild }
  | { status: 'failed'; error: unknown };

/** The registered definition of a version (the server stores what was registered, plus `version`). */
export function environmentSpec(env: IRegisteredEnvironment): IEnvironmentDefinition {
  return env.spec;
}

/** The SDK line that gets this version back, e.g. `Environment.get(ws, "sklearn", version="2")`. */
export function environmentSnippet(env: Pick<IRegisteredEnvironment, 'name' | 'version'>): string {
  return `Environment.get(ws, ${JSON.stringify(env.name)}, version="${env.version}")`;
}

/** The build log lines a failed build's error carries (`details.log`), if any. */
export function failedBuildLog(error: unknown): string[] {
  if (error instanceof AMLRequestError) {
    const log = (error.details as { log?: unknown } | null | undefined)?.log;
    if (Array.isArray(log)) {
      return log.map(line => String(line));
    }
  }
  return [];
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
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  // By `name:version`. Held here, not in the version's row, so that collapsing a row (or the
  // section) keeps a running build and its outcome.
  const [builds, setBuilds] = useState<Readonly<Record<string, IBuildState>>>({});

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

  const groups = environments.data ? groupVersions(environments.data) : [];
  const query = filter.trim().toLowerCase();
  const shown = query ? groups.filter(g => g.name.toLowerCase().includes(query)) : groups;
  const listError = environments.error !== undefined && (
    <ErrorView error={environments.error} onRetry={environments.reload} context="Environments" />
  );

  let body: React.ReactNode;
  if (environments.data === undefined) {
    body = environments.error ? listError : <Loading label="Loading environments…" />;
  } else if (groups.length === 0) {
    body = (
      <>
        {listError}
        <EmptyState>
          No environments yet. Register one from Python with{' '}
          <code>Environment("name").add_pip_packages(["scikit-learn"]).register(ws)</code>, or from
          a terminal with <code>aml environment create --name NAME --pip PACKAGE</code>.
        </EmptyState>
      </>
    );
  } else {
    body = (
      <>
        {listError}
        <div className="jp-aml-Filters jp-aml-Models-filters">
          <input
            className="jp-mod-styled jp-aml-Filter"
            type="search"
            placeholder="name"
            aria-label="Filter environments by name"
            value={filter}
            onChange={e => setFilter(e.target.value)}
          />
        </div>
        {shown.length === 0 ? (
          <EmptyState>No environment matches “{filter.trim()}”.</EmptyState>
        ) : (
          <ul className="jp-aml-List" aria-label="Environments">
            {shown.map(group => (
              <EnvironmentItem
                key={group.name}
                group={group}
                expanded={expanded.has(group.name)}
                onToggle={() => toggle(group.name)}
                builds={builds}
                onBuild={env => void build(env)}
                onDismiss={ref => setBuild(ref, null)}
              />
            ))}
          </ul>
        )}
      </>
    );
  }

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

function EnvironmentItem(props: {
  group: IEnvironmentGroup;
  expanded: boolean;
  onToggle: () => void;
  builds: Readonly<Record<string, IBuildState>>;
  onBuild: (env: IRegisteredEnvironment) => void;
  onDismiss: (ref: string) => void;
}): JSX.Element {
  const { group } = props;
  const latest = group.versions[0];
  const count = group.versions.length;
  const building = group.versions.some(
    v => props.builds[`${v.name}:${v.version}`]?.status === 'running'
  );
  return (
    <li className="jp-aml-ListItem jp-aml-Environment" data-environment={group.name}>
      <VersionGroupToggle
        kind="Environment"
        name={group.name}
        latestVersion={latest.version}
        count={count}
        expanded={props.expanded}
        onToggle={props.onToggle}
        badge={
          building && (
            <span className="jp-aml-Tag" title="A version of this environment is being built">
              building
            </span>
          )
        }
      />
      {props.expanded && (
        <div className="jp-aml-ModelVersions">
          <ul className="jp-aml-List" aria-label={`Versions of environment ${group.name}`}>
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
          </ul>
        </div>
      )}
    </li>
  );
}

function EnvironmentVersion(props: {
  env: IRegisteredEnvironment;
  latest: boolean;
  build: IBuildState | null;
  onBuild: () => void;
  onDismiss: () => void;
}): JSX.Element {
  const { env, build } = props;
  const ref = `${env.name}:${env.version}`;
  const spec = environmentSpec(env);
  const python = spec.python ?? {};
  const pip = (python.pip ?? []).filter(p => p.trim() !== '');
  // As the builder decides: an explicit `user_managed` wins; without it, pip requirements make a venv.
  const userManaged = python.user_managed ?? pip.length === 0;
  const vars = Object.entries(spec.env_vars ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const running = build?.status === 'running';
  return (
    <li
      className="jp-aml-ModelVersion jp-aml-EnvironmentVersion"
      data-environment={env.name}
      data-version={env.version}
      aria-label={`${env.name} version ${env.version}`}
      aria-busy={running}
    >
      <div className="jp-aml-ModelVersion-head">
        <span className="jp-aml-ModelVersion-number">v{env.version}</span>
        {props.latest && <span className="jp-aml-Tag">latest</span>}
        <span className="jp-aml-Muted" title={formatDateTimeLong(env.created_at)}>
          {formatDateTime(env.created_at)}
        </span>
      </div>
      <dl className="jp-aml-Fields jp-aml-ModelVersion-fields">
        <dt>Python</dt>
        <dd>
          {spec.python_version ? (
            spec.python_version
          ) : (
            <span className="jp-aml-Muted">the server's Python</span>
          )}
          {python.interpreter_path && (
            <>
              {' '}
              <code>{python.interpreter_path}</code>
            </>
          )}
        </dd>
        <dt>Pip</dt>
        <dd>
          {pip.length > 0 ? (
            <>
              <ul className="jp-aml-PlainList" aria-label={`Pip requirements of ${ref}`}>
                {pip.map(req => (
                  <li key={req}>
                    <code>{req}</code>
                  </li>
                ))}
              </ul>
              {userManaged && (
                <span className="jp-aml-Muted">
                  not installed: the environment is user-managed (an existing interpreter)
                </span>
              )}
            </>
          ) : (
            <span className="jp-aml-Muted">
              {userManaged ? 'none: user-managed (an existing interpreter)' : 'no requirements'}
            </span>
          )}
        </dd>
        <dt>Variables</dt>
        <dd>
          {vars.length > 0 ? (
            <ul className="jp-aml-Chips" aria-label={`Environment variables of ${ref}`}>
              {vars.map(([key, value]) => (
                <li key={key} className="jp-aml-Chip" title={`${key}=${value}`}>
                  <span className="jp-aml-Chip-key">{key}</span>
                  {value !== '' && <span className="jp-aml-Chip-value">{value}</span>}
                </li>
              ))}
            </ul>
          ) : (
            <span className="jp-aml-Muted">none</span>
          )}
        </dd>
        <dt>Docker</dt>
        <dd>
          {spec.docker_base_image ? (
            <code title="Base image of Docker web services">{spec.docker_base_image}</code>
          ) : (
            <span className="jp-aml-Muted">no base image</span>
          )}
        </dd>
        <dt>Spec hash</dt>
        <dd>
          <code title={env.spec_hash}>{env.spec_hash.slice(0, 12)}</code>
        </dd>
      </dl>
      <div className="jp-aml-ModelVersion-actions" role="group" aria-label={`Actions on ${ref}`}>
        <button
          type="button"
          className="jp-mod-styled jp-aml-Button"
          aria-label={`Build ${ref}`}
          title={
            userManaged
              ? 'Check the interpreter this user-managed environment uses'
              : 'Build the virtual environment of these pip requirements now (cached: runs and local web services reuse it)'
          }
          disabled={running}
          onClick={props.onBuild}
        >
          {running ? 'Building…' : 'Build'}
        </button>
        <CopyButton text={environmentSnippet(env)} label={`Copy SDK snippet for ${ref}`}>
          Copy snippet
        </CopyButton>
      </div>
      {build && <BuildOutcome label={ref} build={build} onDismiss={props.onDismiss} />}
    </li>
  );
}

/** Seconds since `started`, ticking once a second. */
function Elapsed(props: { started: number }): JSX.Element {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  return <>{Math.max(0, Math.round((now - props.started) / 1000))} s</>;
}

function BuildLog(props: { label: string; lines: string[]; summary: string }): JSX.Element | null {
  if (props.lines.length === 0) {
    return null;
  }
  return (
    <details className="jp-aml-BuildLog">
      <summary>
        {props.summary} ({props.lines.length} line{props.lines.length === 1 ? '' : 's'})
      </summary>
      <pre className="jp-aml-Pre" aria-label={props.label} tabIndex={0}>
        {props.lines.join('\n')}
      </pre>
    </details>
  );
}

/**
 * A failed build: the server's message (its first line, then the installer's last lines, kept as
 * lines), the error code and the hint.
 */
function BuildFailure(props: { label: string; error: unknown }): JSX.Element {
  const { error } = props;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof AMLRequestError ? error.code : '';
  const hint = error instanceof AMLRequestError ? error.hint : null;
  const [first, ...rest] = message.split('\n');
  const reason = rest.map(line => line.trim()).filter(line => line !== '');
  return (
    <div className="jp-aml-Error" role="alert">
      <div className="jp-aml-Error-message">
        <span className="jp-aml-Error-context">Build {props.label}: </span>
        {first}
        {code && <span className="jp-aml-Error-code"> ({code})</span>}
      </div>
      {reason.length > 0 && (
        <pre className="jp-aml-EnvironmentBuild-reason" aria-label={`Why ${props.label} failed`}>
          {reason.join('\n')}
        </pre>
      )}
      {hint && <div className="jp-aml-Error-hint">{hint}</div>}
    </div>
  );
}

/** The interpreter's path, with line breaks allowed after each `/` (rather than anywhere). */
function PathText(props: { path: string }): JSX.Element {
  const parts = props.path.split('/');
  return (
    <code title={props.path}>
      {parts.map((part, i) => (
        <React.Fragment key={i}>
          {part}
          {i < parts.length - 1 && (
            <>
              /<wbr />
            </>
          )}
        </React.Fragment>
      ))}
    </code>
  );
}

function BuildOutcome(props: {
  label: string;
  build: IBuildState;
  onDismiss: () => void;
}): JSX.Element {
  const { build, label } = props;
  if (build.status === 'running') {
    return (
      <div className="jp-aml-Loading jp-aml-EnvironmentBuild" role="status" aria-live="polite">
        <span className="jp-aml-Spinner" aria-hidden="true" />
        <span>
          Building {label}… <Elapsed started={build.started} /> (installing pip requirements can
          take a minute)
        </span>
      </div>
    );
  }
  const dismiss = (
    <button type="button" className="jp-aml-LinkButton jp-aml-Dismiss" onClick={props.onDismiss}>
      Dismiss
    </button>
  );
  if (build.status === 'failed') {
    return (
      <div className="jp-aml-EnvironmentBuild jp-aml-EnvironmentBuild-failed">
        <BuildFailure label={label} error={build.error} />
        <BuildLog
          label={`Build log of ${label}`}
          lines={failedBuildLog(build.error)}
          summary="Installer output"
        />
        {dismiss}
      </div>
    );
  }
  const { result } = build;
  let outcome: string;
  if (result.venv_hash === null) {
    outcome = 'Nothing to build: a user-managed environment runs on an existing interpreter.';
  } else if (result.built) {
    outcome = `Built in ${result.seconds.toFixed(1)} s.`;
  } else {
    outcome = `Already built (cached venv ${result.venv_hash.slice(0, 12)}).`;
  }
  return (
    <div
      className="jp-aml-EnvironmentBuild jp-aml-EnvironmentBuild-done"
      role="group"
      aria-label={`Build of ${label}`}
    >
      <div className="jp-aml-EnvironmentBuild-outcome" role="status">
        {outcome}
      </div>
      <div className="jp-aml-EnvironmentBuild-python">
        <span className="jp-aml-Muted">Interpreter</span> <PathText path={result.python} />{' '}
        <CopyButton text={result.python} label={`Copy interpreter path of ${label}`}>
          Copy
        </CopyButton>
      </div>
      <BuildLog label={`Build log of ${label}`} lines={result.log} summary="Build log" />
      {dismiss}
    </div>
  );
}
