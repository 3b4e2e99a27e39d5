/**
 * The submit form's values and how they become a `POST /workspaces/{ws}/runs/from-folder` body:
 * argument splitting like a POSIX shell, `k=v` tags, and every check the browser can make before
 * the server makes its own.
 */
import { ICompute, IExperiment, IFolderRunCreate, IWorkspace } from '../api';

const EXPERIMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

/** What the user typed and chose. */
export interface IFormState {
  workspace: string;
  experiment: string;
  script: string;
  args: string;
  compute: string;
  envMode: 'user' | 'pip';
  pip: string;
  displayName: string;
  tags: string;
}

/** What the form offers: the server's workspaces, experiments and computes, the folder's scripts. */
export interface ILoaded {
  workspaces: IWorkspace[];
  experiments: IExperiment[];
  computes: ICompute[];
  scripts: string[];
  /** The folder's requirements.txt, if it has one (the pip requirements to start from). */
  requirements: string | null;
}

/** Split a command line like a POSIX shell does (quotes and backslashes); throws on bad quoting. */
export function splitArguments(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") {
        quote = null;
      } else {
        current += c;
      }
    } else if (quote === '"') {
      if (c === '"') {
        quote = null;
      } else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) {
        current += text[++i];
      } else {
        current += c;
      }
    } else if (c === "'" || c === '"') {
      quote = c;
      inArg = true;
    } else if (c === '\\') {
      if (i + 1 >= text.length) {
        throw new Error('The arguments end with a lone backslash.');
      }
      current += text[++i];
      inArg = true;
    } else if (/\s/.test(c)) {
      if (inArg) {
        args.push(current);
        current = '';
        inArg = false;
      }
    } else {
      current += c;
      inArg = true;
    }
  }
  if (quote) {
    throw new Error(`The arguments have an unclosed ${quote === '"' ? 'double' : 'single'} quote.`);
  }
  if (inArg) {
    args.push(current);
  }
  return args;
}

/** `k=v, k2=v2` → `{k: v, k2: v2}`. */
export function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of text.split(',')) {
    const item = part.trim();
    if (!item) {
      continue;
    }
    const eq = item.indexOf('=');
    const key = (eq === -1 ? item : item.slice(0, eq)).trim();
    if (!key) {
      throw new Error(`Tag "${item}" has no name: use name=value.`);
    }
    tags[key] = eq === -1 ? '' : item.slice(eq + 1).trim();
  }
  return tags;
}

/** A valid experiment name made from a folder's name (the form's first suggestion). */
export function folderName(folder: string): string {
  const name = folder.split('/').filter(Boolean).pop() ?? '';
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return cleaned || 'experiment';
}

/** The pip requirements of the text area: one a line, comments and blank lines dropped. */
function pipLines(text: string): string[] {
  return text
    .split('\n')
    .map(l => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/** Check the form; returns the request body or the list of problems. */
export function validate(
  state: IFormState,
  loaded: ILoaded,
  folder: string
): { spec: IFolderRunCreate } | { errors: string[] } {
  const errors: string[] = [];
  if (!EXPERIMENT_PATTERN.test(state.experiment)) {
    errors.push(
      'Experiment name: start with a letter or digit, then letters, digits, "_", "." or "-".'
    );
  }
  if (!state.script) {
    errors.push(
      loaded.scripts.length === 0
        ? 'This folder has no Python script (.py) or notebook to run.'
        : 'Choose the script to run.'
    );
  } else if (!loaded.scripts.includes(state.script)) {
    errors.push(`Script "${state.script}" is not in the folder.`);
  }
  let args: string[] = [];
  try {
    args = splitArguments(state.args);
  } catch (reason) {
    errors.push(`Arguments: ${(reason as Error).message}`);
  }
  if (!loaded.computes.some(c => c.name === state.compute)) {
    errors.push(`Compute target "${state.compute}" does not exist in this workspace.`);
  }
  const pip = pipLines(state.pip);
  if (state.envMode === 'pip' && pip.length === 0) {
    errors.push('List at least one pip requirement, or choose a user-managed environment.');
  }
  let tags: Record<string, string> = {};
  try {
    tags = parseTags(state.tags);
  } catch (reason) {
    errors.push((reason as Error).message);
  }
  if (errors.length) {
    return { errors };
  }
  return {
    spec: {
      folder,
      experiment: state.experiment,
      display_name: state.displayName.trim(),
      tags,
      run_config: {
        script: state.script,
        arguments: args,
        compute_target: state.compute,
        environment:
          state.envMode === 'pip'
            ? { name: `${state.experiment}-env`, python: { user_managed: false, pip } }
            : { name: 'default', python: { user_managed: true, pip: [] } }
      }
    }
  };
}
