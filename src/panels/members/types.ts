/**
 * Payloads of the sharing routes: aliases of the generated `api-types.ts` (from the server's
 * `core/sharing_models.py`), so a change of the REST contract breaks the build instead of the page.
 */
import type { components } from '../../api-types';

type Schemas = components['schemas'];

export type IMember = Schemas['Member'];
export type IRole = Schemas['Role'];
export type IRoleSet = Schemas['RoleSet'];
/** The caller's own access to a workspace (`admin`: a service administrator, acting as Owner). */
export type IAccess = Schemas['Access'];
export type IActivity = Schemas['Activity'];
export type IActivityPage = Schemas['ActivityPage'];
/** One action a role can allow, with what it lets one do. */
export type IActionInfo = Schemas['ActionInfo'];
