/**
 * The workspace-sharing routes (members, roles, the caller's access, the activity log) over the shared
 * REST client. The payload types come from the generated `api-types.ts` once the server's models
 * exist there; `./types.ts` holds them until then.
 */
import { AMLService } from '../../api';
import { queryString } from '../../request';
import { IAccess, IActivityPage, IMember, IRole } from './types';

const seg = encodeURIComponent;

function wsPath(workspace: string, rest: string): string {
  return `workspaces/${seg(workspace)}/${rest}`;
}

/** Whether `actions` (exact names or `*` patterns such as `members/*`) allow `action`. */
export function allows(actions: ReadonlyArray<string>, action: string): boolean {
  return actions.some(granted => {
    if (granted === action || granted === '*') {
      return true;
    }
    if (!granted.includes('*')) {
      return false;
    }
    const pattern = granted.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
    return new RegExp(`^${pattern}$`).test(action);
  });
}

/** The actions the Members page asks about (the server's authorization table names them). */
export const MEMBERS_WRITE = 'members/write';
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

/** Create or replace a custom role. */
export function setRole(
  service: AMLService,
  workspace: string,
  name: string,
  actions: string[],
  description: string
): Promise<IRole> {
  return service.request<IRole>(wsPath(workspace, `roles/${seg(name)}`), {
    method: 'PUT',
    body: JSON.stringify({ actions, description })
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
