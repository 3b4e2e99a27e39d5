/**
 * Payloads of the sharing routes, as the REST contract defines them (docs/sharing.md). Written here
 * until the server's models are in the generated `api-types.ts`; then these become aliases of it.
 */
export interface IMember {
  user: string;
  role: string;
  added_by: string;
  added_at: string;
}

export interface IRole {
  name: string;
  builtin: boolean;
  actions: string[];
  description: string;
}

/** The caller's own access to a workspace. */
export interface IAccess {
  user: string;
  role: string | null;
  actions: string[];
}

export interface IActivity {
  id: string | number;
  time: string;
  user: string;
  action: string;
  target_kind: string;
  target: string;
  detail: unknown;
}

export interface IActivityPage {
  items: IActivity[];
  next_cursor: string | null;
}
