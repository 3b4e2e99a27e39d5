/** Words and numbers the Compute section shows about a compute (no React: shared by its views). */
import type { ComputeState, ICompute, IComputeNode } from '../../api';

/** Compute states in which something is under way (the badge pulses, actions wait). */
const TRANSITIONAL: ReadonlySet<ComputeState> = new Set([
  'Creating',
  'Starting',
  'Stopping',
  'Restarting',
  'Deleting'
]);

export function isTransitional(state: ComputeState): boolean {
  return TRANSITIONAL.has(state);
}

export function isCluster(compute: ICompute): boolean {
  return compute.type === 'AmlCompute';
}

export function isInstance(compute: ICompute): boolean {
  return compute.type === 'ComputeInstance';
}

/** Whether the compute can be changed through the API (configured targets such as local cannot). */
export function isManaged(compute: ICompute): boolean {
  return compute.origin !== 'config';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `STANDARD_D2_V2 (2 vCPUs, 7 GB)`, or what is known of it. */
export function sizeText(compute: ICompute): string {
  const parts: string[] = [];
  if (typeof compute.vcpus === 'number') {
    parts.push(`${compute.vcpus} vCPU${compute.vcpus === 1 ? '' : 's'}`);
  }
  if (typeof compute.memory_gb === 'number') {
    parts.push(`${compute.memory_gb} GB`);
  }
  const details = parts.length ? ` (${parts.join(', ')})` : '';
  return compute.vm_size ? `${compute.vm_size}${details}` : parts.join(', ');
}

/** The node states a bar shows, in the order it draws them. */
export const NODE_STATES = ['busy', 'starting', 'idle', 'leaving', 'unusable'] as const;

export type NodeState = IComputeNode['state'];

/** How many nodes are in each state. */
export function nodeCounts(nodes: IComputeNode[]): Record<NodeState, number> {
  const counts: Record<NodeState, number> = {
    busy: 0,
    starting: 0,
    idle: 0,
    leaving: 0,
    unusable: 0
  };
  for (const node of nodes) {
    counts[node.state] += 1;
  }
  return counts;
}

/** `2 busy, 1 starting` (states without nodes left out); `no nodes` for an empty cluster. */
export function nodeSummary(nodes: IComputeNode[]): string {
  if (nodes.length === 0) {
    return 'no nodes';
  }
  const counts = nodeCounts(nodes);
  return NODE_STATES.filter(s => counts[s] > 0)
    .map(s => `${counts[s]} ${s}`)
    .join(', ');
}

/** `2 / 0–4 nodes`: the nodes now, and the cluster's minimum and maximum. */
export function scaleText(compute: ICompute): string {
  const now = (compute.nodes ?? []).length;
  return `${now} / ${compute.min_nodes ?? 0}–${compute.max_nodes ?? now} node${
    (compute.max_nodes ?? now) === 1 ? '' : 's'
  }`;
}

/** `1 of 2 runs running` (instances and the configured targets). */
export function runsText(compute: ICompute): string {
  const active = compute.active_runs ?? 0;
  return `${active} of ${plural(compute.max_concurrent_runs, 'run')} running`;
}

/** `30 min`, `5 s`, `2 h 30 min` for an idle time in seconds. */
export function secondsText(seconds: number): string {
  if (seconds < 120) {
    return `${seconds} s`;
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) {
    return `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

/** v1's rule for a compute name (the server checks it too). */
export const COMPUTE_NAME_RULE = /^[A-Za-z][A-Za-z0-9-]{1,31}$/;

/** Why a name is refused, or null when it is fine. */
export function nameProblem(name: string): string | null {
  if (!name) {
    return 'Give the compute a name.';
  }
  if (COMPUTE_NAME_RULE.test(name)) {
    return null;
  }
  return (
    `"${name}" is not a valid compute name: it must start with a letter and have 2 to 32 ` +
    'letters, digits or hyphens.'
  );
}

export { plural };
