/**
 * The Roles tab: every role a member can hold, with what it allows. Built-in roles (Owner,
 * Contributor, Reader and Azure's Data Scientist and Compute Operator) are fixed; an Owner defines
 * custom roles as lists of allowed actions, picked from every action the server knows (`GET actions`).
 * Each role shows its patterns (allowed, and excluded ones) and the concrete actions they grant,
 * worked out the way the server does (`grantedActions`).
 */
import React, { useId, useState } from 'react';

import { ErrorView } from '../components';
import { confirmDanger, notifyError } from '../registry-common';
import { grantedActions } from './api';
import { IActionInfo, IRole, IRoleSet } from './types';

export interface IRolesTabProps {
  roles: IRole[];
  /** Every action a role can allow (empty until the server answered). */
  actions: IActionInfo[];
  canWrite: boolean;
  onSet: (name: string, spec: IRoleSet) => Promise<void>;
  onDelete: (name: string) => Promise<void>;
}

function RoleForm(props: { actions: IActionInfo[]; onSet: IRolesTabProps['onSet'] }): JSX.Element {
  const id = useId();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const toggle = (action: string) => {
    const next = new Set(chosen);
    if (next.has(action)) {
      next.delete(action);
    } else {
      next.add(action);
    }
    setChosen(next);
  };
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await props.onSet(name.trim(), {
        actions: [...chosen].sort(),
        not_actions: [],
        description: description.trim()
      });
      setName('');
      setDescription('');
      setChosen(new Set());
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="jp-aml-RoleForm"
      aria-label="Define a custom role"
      onSubmit={e => void submit(e)}
    >
      <h3>Custom role</h3>
      <div className="jp-aml-RoleForm-fields">
        <label htmlFor={`${id}-name`}>Name</label>
        <input
          id={`${id}-name`}
          className="jp-mod-styled"
          type="text"
          value={name}
          placeholder="e.g. Model Publisher"
          onChange={e => setName(e.target.value)}
        />
        <label htmlFor={`${id}-description`}>Description</label>
        <input
          id={`${id}-description`}
          className="jp-mod-styled"
          type="text"
          value={description}
          onChange={e => setDescription(e.target.value)}
        />
      </div>
      <fieldset className="jp-aml-RoleForm-actions">
        <legend>Allowed actions</legend>
        {props.actions.map(action => (
          <label key={action.name} className="jp-aml-RoleForm-action" title={action.description}>
            <input
              type="checkbox"
              checked={chosen.has(action.name)}
              onChange={() => toggle(action.name)}
            />
            <code>{action.name}</code>
          </label>
        ))}
      </fieldset>
      <button
        type="submit"
        className="jp-mod-styled jp-mod-accept jp-aml-Button"
        disabled={busy || !name.trim() || chosen.size === 0}
      >
        {busy ? 'Saving…' : 'Save role'}
      </button>
      {error !== undefined && <ErrorView error={error} context="Save role" />}
    </form>
  );
}

/** A list of action names or patterns, as chips. */
function ActionChips(props: { label: string; items: string[] }): JSX.Element {
  return (
    <ul className="jp-aml-Role-actions" aria-label={props.label}>
      {props.items.map(action => (
        <li key={action}>
          <code>{action}</code>
        </li>
      ))}
    </ul>
  );
}

function RoleItem(props: {
  role: IRole;
  known: IActionInfo[];
  canDelete: boolean;
  onDelete: () => Promise<void>;
}): JSX.Element {
  const { role } = props;
  const granted = grantedActions(role, props.known);
  const [busy, setBusy] = useState(false);
  const remove = async () => {
    const accepted = await confirmDanger({
      title: `Delete role ${role.name}?`,
      body: <>Members who hold it must be given another role first.</>,
      accept: 'Delete role'
    });
    if (!accepted) {
      return;
    }
    setBusy(true);
    try {
      await props.onDelete();
    } catch (reason) {
      notifyError(`Delete role ${role.name}`, reason);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="jp-aml-Role" data-role={role.name}>
      <div className="jp-aml-Role-head">
        <strong>{role.name}</strong>
        <span className="jp-aml-Tag">{role.builtin ? 'built-in' : 'custom'}</span>
        {props.canDelete && !role.builtin && (
          <button
            type="button"
            className="jp-mod-styled jp-mod-warn jp-aml-Button"
            aria-label={`Delete role ${role.name}`}
            disabled={busy}
            onClick={() => void remove()}
          >
            Delete
          </button>
        )}
      </div>
      {role.description && <div className="jp-aml-Muted">{role.description}</div>}
      <div className="jp-aml-Role-patterns">
        <span className="jp-aml-Muted">Allows</span>
        <ActionChips label={`Actions of ${role.name}`} items={role.actions} />
        {role.not_actions.length > 0 && (
          <>
            <span className="jp-aml-Muted">except</span>
            <ActionChips label={`Excluded actions of ${role.name}`} items={role.not_actions} />
          </>
        )}
      </div>
      {granted.length > 0 && (
        <details className="jp-aml-Role-granted">
          <summary>
            Grants {granted.length} of {props.known.length} actions
          </summary>
          <ul aria-label={`Actions granted by ${role.name}`}>
            {granted.map(action => (
              <li key={action.name}>
                <code>{action.name}</code>{' '}
                <span className="jp-aml-Muted">{action.description}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}

export function RolesTab(props: IRolesTabProps): JSX.Element {
  const { roles, canWrite } = props;
  return (
    <div className="jp-aml-Roles">
      <ul className="jp-aml-RoleList" aria-label="Roles">
        {roles.map(role => (
          <RoleItem
            key={role.name}
            role={role}
            known={props.actions}
            canDelete={canWrite}
            onDelete={() => props.onDelete(role.name)}
          />
        ))}
      </ul>
      {canWrite && <RoleForm actions={props.actions} onSet={props.onSet} />}
    </div>
  );
}
