/**
 * What the submit form offers, read once when it opens: the folder's scripts and notebooks (via the
 * Jupyter contents API), its requirements.txt, and the server's workspaces, and the chosen workspace's
 * experiments and compute targets (the configured ones and the workspace's own).
 */
import { Contents } from '@jupyterlab/services';

import { AMLService, ICompute, IExperiment } from '../api';
import { ILoaded } from './request';

/** Python files of a folder and of its direct subfolders, then its notebooks; its requirements.txt. */
export async function pythonFiles(
  contents: Contents.IManager,
  folder: string
): Promise<{
  scripts: string[];
  requirements: string | null;
}> {
  const listing = await contents.get(folder, { content: true });
  const items = (listing.content ?? []) as Contents.IModel[];
  const scripts = items.filter(i => i.type === 'file' && i.name.endsWith('.py')).map(i => i.name);
  // Notebooks run too (the agent executes them with nbclient and keeps the executed copy).
  const notebooks = items
    .filter(i => i.type === 'file' && i.name.endsWith('.ipynb'))
    .map(i => i.name);
  const subfolders = items
    .filter(i => i.type === 'directory' && !i.name.startsWith('.'))
    .slice(0, 20);
  const nested = await Promise.all(
    subfolders.map(async dir => {
      try {
        const sub = await contents.get(dir.path, { content: true });
        return ((sub.content ?? []) as Contents.IModel[])
          .filter(i => i.type === 'file' && i.name.endsWith('.py'))
          .map(i => `${dir.name}/${i.name}`);
      } catch {
        return [];
      }
    })
  );
  let requirements: string | null = null;
  if (items.some(i => i.type === 'file' && i.name === 'requirements.txt')) {
    try {
      const file = await contents.get(folder ? `${folder}/requirements.txt` : 'requirements.txt', {
        content: true,
        format: 'text'
      });
      requirements = String(file.content ?? '');
    } catch {
      requirements = null;
    }
  }
  return {
    scripts: [...scripts.sort(), ...nested.flat().sort(), ...notebooks.sort()],
    requirements
  };
}

/** The target every server configures unless told otherwise (`c.AMLExtension.computes`). */
const LOCAL_FALLBACK: ICompute = {
  name: 'local',
  type: 'local',
  origin: 'config',
  max_concurrent_runs: 1
};

/** A workspace's experiments and computes (an unreadable list is empty: the server checks again). */
export async function workspaceChoices(
  service: AMLService,
  workspace: string
): Promise<{ experiments: IExperiment[]; computes: ICompute[] }> {
  const [experiments, computes] = await Promise.all([
    service.listExperiments(workspace).catch(() => [] as IExperiment[]),
    service.listComputes(workspace).catch(() => [] as ICompute[])
  ]);
  return { experiments, computes };
}

/**
 * Everything the form offers, and the workspace to start in: the one asked for, else "default",
 * else the first. A fresh install has none yet: then the first submit creates it.
 */
export async function loadChoices(
  service: AMLService,
  contents: Contents.IManager,
  folder: string,
  workspace: string
): Promise<{ loaded: ILoaded; workspace: string }> {
  const [workspaces, files] = await Promise.all([
    service.listWorkspaces(),
    pythonFiles(contents, folder)
  ]);
  const ws =
    workspaces.find(w => w.name === workspace)?.name ??
    workspaces.find(w => w.name === 'default')?.name ??
    workspaces[0]?.name ??
    'default';
  // Each workspace lists the server's configured targets (e.g. local) and its own clusters and
  // instances. A workspace that does not exist yet has none of its own, and cannot be asked: offer
  // the configured `local`, which the first submit (creating the workspace) can use.
  const { experiments, computes } = workspaces.some(w => w.name === ws)
    ? await workspaceChoices(service, ws)
    : { experiments: [], computes: [LOCAL_FALLBACK] };
  return { loaded: { workspaces, experiments, computes, ...files }, workspace: ws };
}

/** The script to preselect: the one asked for, else train.py, else a top-level one, else the first. */
export function defaultScript(scripts: string[], wanted: string | undefined): string {
  return (
    scripts.find(s => s === wanted) ??
    scripts.find(s => s === 'train.py') ??
    scripts.find(s => !s.includes('/')) ??
    scripts[0] ??
    ''
  );
}
