/**
 * One environment version in the Environments section: Python version, pip requirements,
 * environment variables, docker base image and spec hash, with actions: build the version's cached
 * venv now (so the next run or local web service need not wait), copy an SDK snippet.
 */
import React from 'react';

import { IEnvironmentDefinition, IRegisteredEnvironment } from '../../api';
import { CopyButton } from '../registry-common';
import { VersionHead } from '../registry-list';
import { BuildOutcome } from './build';
import { environmentSnippet, environmentSpec, IBuildState } from './spec';

/** The pip requirements, and whether they are installed (a venv) or not (an existing interpreter). */
function PipRequirements(props: {
  label: string;
  pip: string[];
  userManaged: boolean;
}): JSX.Element {
  const { pip, userManaged } = props;
  if (pip.length === 0) {
    return (
      <span className="jp-aml-Muted">
        {userManaged ? 'none: user-managed (an existing interpreter)' : 'no requirements'}
      </span>
    );
  }
  return (
    <>
      <ul className="jp-aml-PlainList" aria-label={`Pip requirements of ${props.label}`}>
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
  );
}

function EnvironmentVariables(props: {
  label: string;
  vars: Record<string, string> | null | undefined;
}): JSX.Element {
  const vars = Object.entries(props.vars ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (vars.length === 0) {
    return <span className="jp-aml-Muted">none</span>;
  }
  return (
    <ul className="jp-aml-Chips" aria-label={`Environment variables of ${props.label}`}>
      {vars.map(([key, value]) => (
        <li key={key} className="jp-aml-Chip" title={`${key}=${value}`}>
          <span className="jp-aml-Chip-key">{key}</span>
          {value !== '' && <span className="jp-aml-Chip-value">{value}</span>}
        </li>
      ))}
    </ul>
  );
}

function SpecFields(props: {
  env: IRegisteredEnvironment;
  spec: IEnvironmentDefinition;
  pip: string[];
  userManaged: boolean;
}): JSX.Element {
  const { env, spec } = props;
  const ref = `${env.name}:${env.version}`;
  const python = spec.python ?? {};
  return (
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
        <PipRequirements label={ref} pip={props.pip} userManaged={props.userManaged} />
      </dd>
      <dt>Variables</dt>
      <dd>
        <EnvironmentVariables label={ref} vars={spec.env_vars} />
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
  );
}

export function EnvironmentVersion(props: {
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
  const running = build?.status === 'running';
  return (
    <li
      className="jp-aml-ModelVersion jp-aml-EnvironmentVersion"
      data-environment={env.name}
      data-version={env.version}
      aria-label={`${env.name} version ${env.version}`}
      aria-busy={running}
    >
      <VersionHead version={env.version} latest={props.latest} createdAt={env.created_at} />
      <SpecFields env={env} spec={spec} pip={pip} userManaged={userManaged} />
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
