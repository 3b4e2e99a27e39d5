/**
 * A workspace's Members page in the main area: its members and their roles, the roles themselves,
 * and (for Owners and administrators) the activity log. What the page offers follows the caller's
 * own access (`GET access`, the concrete actions their role grants): lists and controls a user could
 * not use are not shown, and the server decides anyway.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { refreshIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { AMLService } from '../../api';
import { ErrorView, Loading, Tabs } from '../components';
import { DetailPanel, detailWidget, ITabRequest } from '../detail-panel';
import { useRequest } from '../hooks';
import { ActivityTab } from './activity-tab';
import {
  ACTIVITY_READ,
  allows,
  deleteRole,
  getAccess,
  listActions,
  listMembers,
  listRoles,
  MEMBERS_READ,
  MEMBERS_WRITE,
  removeMember,
  ROLES_READ,
  ROLES_WRITE,
  setMember,
  setRole
} from './api';
import { MembersTab } from './members-tab';
import { RolesTab } from './roles-tab';
import { IAccess } from './types';

/** The page's tabs: ids (as the open-members command takes them) and labels. */
export const MEMBERS_TABS = {
  members: 'Members',
  roles: 'Roles',
  activity: 'Activity'
} as const;

/** What the sidebar asks its host for: a workspace's Members page (the open-members command). */
export interface IMembersActions {
  openMembers(workspace: string): void;
}

export interface IMembersPageOptions {
  service: AMLService;
  workspace: string;
  /** Tab to show first: members, roles, activity. */
  tab?: string;
}

/** What the caller may do here: their access lists the concrete actions it grants. */
interface IPermissions {
  readMembers: boolean;
  writeMembers: boolean;
  readRoles: boolean;
  writeRoles: boolean;
  readActivity: boolean;
}

function permissions(access: IAccess): IPermissions {
  const can = (action: string) => allows(access.actions, action);
  return {
    readMembers: can(MEMBERS_READ),
    writeMembers: can(MEMBERS_WRITE),
    readRoles: can(ROLES_READ),
    writeRoles: can(ROLES_WRITE),
    readActivity: can(ACTIVITY_READ)
  };
}

/** What a role without an action sees instead of a list: why it is not shown, and whom to ask. */
function NotAllowed(props: { action: string; role: string | null }): JSX.Element {
  return (
    <p className="jp-aml-Muted jp-aml-Members-note">
      Your role{props.role ? ` ${props.role}` : ''} does not allow <code>{props.action}</code>; an
      Owner of this workspace can give you a role that does.
    </p>
  );
}

function MembersView(props: IMembersPageOptions & { tabRequest: ITabRequest | null }): JSX.Element {
  const { service, workspace } = props;
  const [tick, setTick] = useState(0);
  const access = useRequest(() => getAccess(service, workspace), [workspace, tick]);
  const reload = () => setTick(t => t + 1);

  if (!access.data) {
    return access.error ? (
      <div className="jp-aml-MembersPage">
        <ErrorView error={access.error} onRetry={reload} context={`Workspace ${workspace}`} />
      </div>
    ) : (
      <Loading label="Loading members…" />
    );
  }
  return (
    <MembersBody
      {...props}
      me={access.data}
      accessError={access.error}
      tick={tick}
      reload={reload}
    />
  );
}

function MembersBody(
  props: IMembersPageOptions & {
    tabRequest: ITabRequest | null;
    me: IAccess;
    accessError: unknown;
    tick: number;
    reload: () => void;
  }
): JSX.Element {
  const { service, workspace, me, tick, reload } = props;
  const can = permissions(me);
  // Lists the caller's role does not allow are not asked for (the server would answer 403).
  const members = useRequest(
    () => (can.readMembers ? listMembers(service, workspace) : Promise.resolve([])),
    [workspace, tick, can.readMembers]
  );
  const roles = useRequest(
    () => (can.readRoles ? listRoles(service, workspace) : Promise.resolve([])),
    [workspace, tick, can.readRoles]
  );
  const actions = useRequest(() => listActions(service), [service]);
  const [tab, setTab] = useState<string>(props.tab ?? 'members');
  useEffect(() => {
    if (props.tabRequest) {
      setTab(props.tabRequest.tab);
    }
  }, [props.tabRequest]);

  const roleList = roles.data ?? [];
  const tabs = [
    {
      id: 'members',
      label: MEMBERS_TABS.members,
      badge: can.readMembers ? members.data?.length : undefined,
      render: () =>
        can.readMembers ? (
          <MembersTab
            members={members}
            roles={roleList}
            me={me.user}
            canWrite={can.writeMembers}
            onSet={async (user, role) => {
              await setMember(service, workspace, user, role);
              reload();
            }}
            onRemove={async user => {
              await removeMember(service, workspace, user);
              reload();
            }}
          />
        ) : (
          <NotAllowed action={MEMBERS_READ} role={me.role} />
        )
    },
    {
      id: 'roles',
      label: MEMBERS_TABS.roles,
      badge: can.readRoles ? roles.data?.length : undefined,
      render: () => {
        if (!can.readRoles) {
          return <NotAllowed action={ROLES_READ} role={me.role} />;
        }
        if (roles.error !== undefined && !roles.data) {
          return <ErrorView error={roles.error} onRetry={roles.reload} context="Roles" />;
        }
        return (
          <RolesTab
            roles={roleList}
            actions={actions.data ?? []}
            canWrite={can.writeRoles}
            onSet={async (name, spec) => {
              await setRole(service, workspace, name, spec);
              reload();
            }}
            onDelete={async name => {
              await deleteRole(service, workspace, name);
              reload();
            }}
          />
        );
      }
    },
    ...(can.readActivity
      ? [
          {
            id: 'activity',
            label: MEMBERS_TABS.activity,
            render: () => <ActivityTab service={service} workspace={workspace} reloadKey={tick} />
          }
        ]
      : [])
  ];
  const selected = tabs.some(t => t.id === tab) ? tab : 'members';
  return (
    <div
      className="jp-aml-MembersPage"
      data-workspace={workspace}
      data-role={me.role ?? ''}
      data-admin={me.admin ? 'true' : 'false'}
    >
      <header className="jp-aml-RunHeader" role="group" aria-label="Members summary">
        <div className="jp-aml-RunHeader-title">
          <h2>Members of {workspace}</h2>
        </div>
        <div className="jp-aml-RunHeader-meta jp-aml-Muted">
          You are <strong className="jp-aml-Members-me">{me.user}</strong>
          {me.role ? (
            <>
              {' '}
              · <span className="jp-aml-Members-myRole">{me.role}</span>
            </>
          ) : null}
          {me.admin && (
            <span
              className="jp-aml-Tag jp-aml-Members-admin"
              title="An administrator of this service: acts as Owner of every workspace"
            >
              administrator
            </span>
          )}
        </div>
        <div className="jp-aml-RunHeader-actions">
          <button
            type="button"
            className="jp-mod-styled jp-aml-Button"
            onClick={reload}
            aria-label="Refresh members"
            title="Refresh"
          >
            <refreshIcon.react tag="span" className="jp-aml-IconButton-icon" />
          </button>
        </div>
      </header>
      {props.accessError !== undefined && (
        <ErrorView error={props.accessError} onRetry={reload} context="Refresh" />
      )}
      <Tabs
        label={`Members of ${workspace} sections`}
        selected={selected}
        onSelect={setTab}
        tabs={tabs}
      />
    </div>
  );
}

/** The React content of a Members page. */
export class MembersPanel extends DetailPanel<IMembersPageOptions> {
  constructor(options: IMembersPageOptions) {
    super(options, 'jp-aml-MembersPanel', `Members · ${options.workspace}`);
    this.title.caption = `Members, roles and activity of workspace ${options.workspace}`;
  }

  protected render(): JSX.Element {
    return <MembersView {...this.options} tabRequest={this.tabRequest} />;
  }
}

/** A workspace's Members page in the main area (one per workspace). */
export function createMembersPage(options: IMembersPageOptions): MainAreaWidget<MembersPanel> {
  return detailWidget(new MembersPanel(options), {
    id: `jp-aml-members-${options.workspace}`,
    className: 'jp-aml-MembersWidget'
  });
}
