/**
 * The Members tab: who may use the workspace and with which role. An Owner (whoever holds
 * `members/write`) adds users, changes roles and removes members; everyone else sees the list only,
 * with no controls they could not use. The server keeps the last Owner (409) and says why.
 */
import React, { useId, useState } from 'react';

import { formatDateTime, formatDateTimeLong } from '../../format';
import { EmptyState, ErrorView, Loading } from '../components';
import { IRequestState } from '../hooks';
import { confirmDanger, notifyError } from '../registry-common';
import { IMember, IRole } from './types';

export interface IMembersTabProps {
  members: IRequestState<IMember[]>;
  roles: IRole[];
  /** The caller's user name (their row says "you"). */
  me: string;
  canWrite: boolean;
  onSet: (user: string, role: string) => Promise<void>;
  onRemove: (user: string) => Promise<void>;
}

/** The role choices: the built-in roles first (in the server's order), then custom ones by name. */
function roleOptions(roles: IRole[], current?: string): JSX.Element[] {
  const names = roles.map(r => r.name);
  if (current && !names.includes(current)) {
    names.push(current); // a role deleted since: still shown as the member's
  }
  return names.map(name => (
    <option key={name} value={name}>
      {name}
    </option>
  ));
}

function AddMemberForm(props: {
  roles: IRole[];
  members: IMember[];
  onSet: (user: string, role: string) => Promise<void>;
}): JSX.Element {
  const id = useId();
  const [user, setUser] = useState('');
  const [role, setRole] = useState('Reader');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const name = user.trim();
  const existing = props.members.find(m => m.user === name);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!name) {
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await props.onSet(name, role);
      setUser('');
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="jp-aml-MemberAdd" aria-label="Add a member" onSubmit={e => void submit(e)}>
      <label htmlFor={`${id}-user`}>User</label>
      <input
        id={`${id}-user`}
        className="jp-mod-styled"
        type="text"
        placeholder="user name"
        autoComplete="off"
        value={user}
        onChange={e => setUser(e.target.value)}
      />
      <label htmlFor={`${id}-role`}>Role</label>
      <select
        id={`${id}-role`}
        className="jp-mod-styled"
        value={role}
        onChange={e => setRole(e.target.value)}
      >
        {roleOptions(props.roles)}
      </select>
      <button
        type="submit"
        className="jp-mod-styled jp-mod-accept jp-aml-Button"
        disabled={busy || !name}
      >
        {busy ? 'Saving…' : existing ? 'Change role' : 'Add member'}
      </button>
      {existing && (
        <span className="jp-aml-Muted">
          {existing.user} is already a member ({existing.role}).
        </span>
      )}
      {error !== undefined && <ErrorView error={error} context={`Add ${name || 'member'}`} />}
    </form>
  );
}

function MemberRow(props: {
  member: IMember;
  roles: IRole[];
  me: boolean;
  canWrite: boolean;
  onSet: (role: string) => Promise<void>;
  onRemove: () => Promise<void>;
}): JSX.Element {
  const { member } = props;
  const [busy, setBusy] = useState(false);
  const act = async (label: string, action: () => Promise<void>) => {
    setBusy(true);
    try {
      await action();
    } catch (reason) {
      notifyError(label, reason);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    const accepted = await confirmDanger({
      title: props.me ? 'Leave this workspace?' : `Remove ${member.user}?`,
      body: props.me ? (
        <>You lose your access to this workspace until an Owner adds you again.</>
      ) : (
        <>
          <code>{member.user}</code> loses access to this workspace. Runs, models and other things
          they created stay.
        </>
      ),
      accept: props.me ? 'Leave' : 'Remove member'
    });
    if (accepted) {
      await act(`Remove ${member.user}`, props.onRemove);
    }
  };
  return (
    <tr data-member={member.user} data-role={member.role}>
      <th scope="row" className="jp-aml-Member-user">
        {member.user}
        {props.me && <span className="jp-aml-Tag">you</span>}
      </th>
      <td>
        {props.canWrite ? (
          <select
            className="jp-mod-styled jp-aml-Member-role"
            aria-label={`Role of ${member.user}`}
            value={member.role}
            disabled={busy}
            onChange={e => {
              const role = e.target.value;
              void act(`Change the role of ${member.user}`, () => props.onSet(role));
            }}
          >
            {roleOptions(props.roles, member.role)}
          </select>
        ) : (
          <span className="jp-aml-Member-role">{member.role}</span>
        )}
      </td>
      <td className="jp-aml-Muted">{member.added_by || '—'}</td>
      <td className="jp-aml-Muted" title={formatDateTimeLong(member.added_at)}>
        {formatDateTime(member.added_at)}
      </td>
      {props.canWrite && (
        <td className="jp-aml-Member-actions">
          <button
            type="button"
            className="jp-mod-styled jp-mod-warn jp-aml-Button"
            aria-label={`Remove ${member.user}`}
            disabled={busy}
            onClick={() => void remove()}
          >
            Remove
          </button>
        </td>
      )}
    </tr>
  );
}

export function MembersTab(props: IMembersTabProps): JSX.Element {
  const { members, canWrite } = props;
  if (members.data === undefined) {
    return members.error ? (
      <ErrorView error={members.error} onRetry={members.reload} context="Members" />
    ) : (
      <Loading label="Loading members…" />
    );
  }
  const items = [...members.data].sort((a, b) => a.user.localeCompare(b.user));
  return (
    <div className="jp-aml-Members">
      {members.error !== undefined && (
        <ErrorView error={members.error} onRetry={members.reload} context="Members" />
      )}
      {canWrite ? (
        <AddMemberForm roles={props.roles} members={items} onSet={props.onSet} />
      ) : (
        <p className="jp-aml-Muted jp-aml-Members-note">
          Only an Owner of this workspace adds, changes or removes members.
        </p>
      )}
      {items.length === 0 ? (
        <EmptyState>No members yet.</EmptyState>
      ) : (
        <table className="jp-aml-Table jp-aml-MembersTable" aria-label="Members">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Added by</th>
              <th scope="col">Added</th>
              {canWrite && (
                <th scope="col">
                  <span className="jp-aml-VisuallyHidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {items.map(member => (
              <MemberRow
                key={member.user}
                member={member}
                roles={props.roles}
                me={member.user === props.me}
                canWrite={canWrite}
                onSet={role => props.onSet(member.user, role)}
                onRemove={() => props.onRemove(member.user)}
              />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
