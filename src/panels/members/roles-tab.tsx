/**
 * The Roles tab: every role a member can hold, with what it allows. Built-in roles (Owner,
 * Contributor, Reader and Azure's Data Scientist and Compute Operator) are fixed; an Owner defines
 * custom roles as lists of allowed actions, picked from the actions the built-in roles name.
 */
import React, { useId, useState } from 'react';

import { ErrorView } from '../components';
import { confirmDanger, notifyError } from '../registry-common';
import { IRole } from './types';

export interface IRolesTabProps {
  roles: IRole[];
  canWrite: boolean;
  onSet: (name: string, actions: string[], description: string) => Promise<void>;
  onDelete: (name: string) => Promise<void>;
}

/** Every action some role names, sorted: the choices of a custom role. */
function knownActions(roles: IRole[]): string[] {
  return [...new Set(roles.flatMap(r => r.actions))].sort();
}

function RoleForm(props: { actions: string[]; onSet: IRolesTabProps['onSet'] }): JSX.Element {
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
      await props.onSet(name.trim(), [...chosen].sort(), description.trim());
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
          <label key={action} className="jp-aml-RoleForm-action">
            <input type="checkbox" checked={chosen.has(action)} onChange={() => toggle(action)} />
            <code>{action}</code>
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

function RoleItem(props: {
  role: IRole;
  canDelete: boolean;
  onDelete: () => Promise<void>;
}): JSX.Element {
  const { role } = props;
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
      <ul className="jp-aml-Role-actions" aria-label={`Actions of ${role.name}`}>
        {role.actions.map(action => (
          <li key={action}>
            <code>{action}</code>
          </li>
        ))}
      </ul>
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
            canDelete={canWrite}
            onDelete={() => props.onDelete(role.name)}
          />
        ))}
      </ul>
      {canWrite && <RoleForm actions={knownActions(roles)} onSet={props.onSet} />}
    </div>
  );
}
