/**
 * Run statuses, written once for the frontend (like `jupyter_aml/statuses.py` for Python): a leaf
 * module with no runtime imports, so the live store can be tested outside a browser.
 */
import type { RunStatus } from './api';

/**
 * Whether each status the server can report is terminal (the run never changes again), in
 * lifecycle order. Exhaustive over the generated `RunStatus`: a new status fails to compile here.
 */
const RUN_STATUS_TERMINAL = {
  Queued: false,
  Preparing: false,
  Starting: false,
  Running: false,
  Finalizing: false,
  Completed: true,
  Failed: true,
  Canceled: true,
  NotResponding: false
} as const satisfies Record<RunStatus, boolean>;

/** Every run status the server can report, in lifecycle order. */
export const RUN_STATUSES = Object.keys(RUN_STATUS_TERMINAL) as ReadonlyArray<RunStatus>;

/** Statuses after which a run never changes again. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(
  RUN_STATUSES.filter(status => RUN_STATUS_TERMINAL[status])
);

export function isTerminal(status: string): boolean {
  return TERMINAL_STATUSES.has(status);
}
