/**
 * A workspace's Members page in the main area: its members and their roles, the roles themselves,
 * and (for Owners) the activity log. What the page offers follows the caller's own access
 * (`GET access`): controls a user could not use are not shown, and the server decides anyway.
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
  listMembers,
  listRoles,
  MEMBERS_WRITE,
  removeMember,
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

/** What the caller may do here, from their access. */
function permissions(access: IAccess): {
  members: boolean;
  roles: boolean;
  activity: boolean;
} {
  const members = allows(access.actions, MEMBERS_WRITE);
  return {
    members,
    // Managing roles and reading the log are an Owner's, whatever names the server gives them.
    roles: allows(access.actions, ROLES_WRITE) || members,
    activity: allows(access.actions, ACTIVITY_READ) || access.role === 'Owner'
  };
}

function MembersView(props: IMembersPageOptions & { tabRequest: ITabRequest | null }): JSX.Element {
  const { service, workspace } = props;
  const [tick, setTick] = useState(0);
  const access = useRequest(() => getAccess(service, workspace), [workspace, tick]);
  const members = useRequest(() => listMembers(service, workspace), [workspace, tick]);
  const roles = useRequest(() => listRoles(service, workspace), [workspace, tick]);
  const [tab, setTab] = useState<string>(props.tab ?? 'members');
  useEffect(() => {
    if (props.tabRequest) {
      setTab(props.tabRequest.tab);
    }
  }, [props.tabRequest]);
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
  const me = access.data;
  const can = permissions(me);
  const roleList = roles.data ?? [];
  const tabs = [
    {
      id: 'members',
      label: MEMBERS_TABS.members,
      badge: members.data?.length,
      render: () => (
        <MembersTab
          members={members}
          roles={roleList}
          me={me.user}
          canWrite={can.members}
          onSet={async (user, role) => {
            await setMember(service, workspace, user, role);
            reload();
          }}
          onRemove={async user => {
            await removeMember(service, workspace, user);
            reload();
          }}
        />
      )
    },
    {
      id: 'roles',
      label: MEMBERS_TABS.roles,
      badge: roles.data?.length,
      render: () =>
        roles.error !== undefined && !roles.data ? (
          <ErrorView error={roles.error} onRetry={roles.reload} context="Roles" />
        ) : (
          <RolesTab
            roles={roleList}
            canWrite={can.roles}
            onSet={async (name, actions, description) => {
              await setRole(service, workspace, name, actions, description);
              reload();
            }}
            onDelete={async name => {
              await deleteRole(service, workspace, name);
              reload();
            }}
          />
        )
    },
    ...(can.activity
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
    <div className="jp-aml-MembersPage" data-workspace={workspace} data-role={me.role ?? ''}>
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
      {access.error !== undefined && (
        <ErrorView error={access.error} onRetry={reload} context="Refresh" />
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
