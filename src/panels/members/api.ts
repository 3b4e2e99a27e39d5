/**
 * The workspace-sharing routes (members, roles, the caller's access, the activity log, the actions a
 * role can allow) over the shared REST client; the payload types are the generated ones (`./types`).
 */
import { AMLService } from '../../api';
import { queryString } from '../../request';
import { IAccess, IActionInfo, IActivityPage, IMember, IRole, IRoleSet } from './types';

const seg = encodeURIComponent;

function wsPath(workspace: string, rest: string): string {
  return `workspaces/${seg(workspace)}/${rest}`;
}

/**
 * Whether a pattern names an action, as the server matches them (`fnmatchcase` in core/roles.py):
 * a star matches any run of characters, slashes included, so both `runs*` and a star followed by
 * `/read` name `runs/read`. The server accepts patterns of `a-z`, `/` and the star only; anything
 * else is matched literally.
 */
function matches(pattern: string, action: string): boolean {
  if (!pattern.includes('*')) {
    return pattern === action;
  }
  const source = pattern
    .split('*')
    .map(part => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(action);
}

/**
 * Whether a role of `actions` minus `notActions` (exact names or `*` patterns) allows `action`:
 * the server's rule, allowed patterns minus excluded ones (Azure's Actions and NotActions).
 */
export function allows(
  actions: ReadonlyArray<string>,
  action: string,
  notActions: ReadonlyArray<string> = []
): boolean {
  return (
    actions.some(granted => matches(granted, action)) &&
    !notActions.some(excluded => matches(excluded, action))
  );
}

/** The known actions a role grants, in the order of `known` (the server's `GET /actions`). */
export function grantedActions(
  role: Pick<IRole, 'actions' | 'not_actions'>,
  known: ReadonlyArray<IActionInfo>
): IActionInfo[] {
  return known.filter(a => allows(role.actions, a.name, role.not_actions));
}

/** The actions the Members page asks about (the server's authorization table names them). */
export const MEMBERS_READ = 'members/read';
export const MEMBERS_WRITE = 'members/write';
export const ROLES_READ = 'roles/read';
export const ROLES_WRITE = 'roles/write';
export const ACTIVITY_READ = 'activity/read';

export function getAccess(service: AMLService, workspace: string): Promise<IAccess> {
  return service.request<IAccess>(wsPath(workspace, 'access'));
}

export async function listMembers(service: AMLService, workspace: string): Promise<IMember[]> {
  return (await service.request<{ items: IMember[] }>(wsPath(workspace, 'members'))).items;
}

/** Add a member, or change a member's role (the same PUT). */
export function setMember(
  service: AMLService,
  workspace: string,
  user: string,
  role: string
): Promise<IMember> {
  return service.request<IMember>(wsPath(workspace, `members/${seg(user)}`), {
    method: 'PUT',
    body: JSON.stringify({ role })
  });
}

export async function removeMember(
  service: AMLService,
  workspace: string,
  user: string
): Promise<void> {
  await service.request<null>(wsPath(workspace, `members/${seg(user)}`), { method: 'DELETE' });
}

export async function listRoles(service: AMLService, workspace: string): Promise<IRole[]> {
  return (await service.request<{ items: IRole[] }>(wsPath(workspace, 'roles'))).items;
}

/** Create or replace a custom role: allowed action patterns minus excluded ones. */
export function setRole(
  service: AMLService,
  workspace: string,
  name: string,
  spec: IRoleSet
): Promise<IRole> {
  return service.request<IRole>(wsPath(workspace, `roles/${seg(name)}`), {
    method: 'PUT',
    body: JSON.stringify(spec)
  });
}

export async function deleteRole(
  service: AMLService,
  workspace: string,
  name: string
): Promise<void> {
  await service.request<null>(wsPath(workspace, `roles/${seg(name)}`), { method: 'DELETE' });
}

export function listActivity(
  service: AMLService,
  workspace: string,
  options: { after?: string | null; limit?: number } = {}
): Promise<IActivityPage> {
  const query = queryString({ after: options.after ?? undefined, limit: options.limit });
  return service.request<IActivityPage>(wsPath(workspace, `activity${query}`));
}

/** Every action a role can allow, with what each lets one do (not tied to a workspace). */
export async function listActions(service: AMLService): Promise<IActionInfo[]> {
  return (await service.request<{ items: IActionInfo[] }>('actions')).items;
}
