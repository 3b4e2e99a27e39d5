/**
 * "Submit Folder as Run…": a dialog that collects experiment, script, arguments, compute target and
 * environment, validates them (in the browser, then on the server) and submits the folder through
 * `POST /workspaces/{ws}/runs/from-folder`. Errors stay in the dialog; nothing is submitted until
 * every field is valid.
 */
import { Dialog } from '@jupyterlab/apputils';
import { Contents } from '@jupyterlab/services';
import { ReactWidget } from '@jupyterlab/ui-components';
import React, { useEffect, useId, useState } from 'react';

import { AMLService, ICompute, IExperiment, IFolderRunCreate, IRun, IWorkspace } from './api';
import { ErrorView } from './panels/components';
import { AMLRequestError } from './request';
import { IAMLSettings } from './tokens';

const EXPERIMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

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

/** Python files of a folder and of its direct subfolders, via the Jupyter contents API. */
async function pythonFiles(
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

export interface ISubmitOptions {
  service: AMLService;
  contents: Contents.IManager;
  /** Folder relative to the Jupyter root ('' for the root). */
  folder: string;
  workspace: string | null;
  settings: IAMLSettings;
  /** Script to preselect (e.g. the notebook whose toolbar button opened the dialog). */
  script?: string;
}

interface IFormState {
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

interface ILoaded {
  workspaces: IWorkspace[];
  experiments: IExperiment[];
  computes: ICompute[];
  scripts: string[];
  requirements: string | null;
}

function folderName(folder: string): string {
  const name = folder.split('/').filter(Boolean).pop() ?? '';
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return cleaned || 'experiment';
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
  const pip = state.pip
    .split('\n')
    .map(l => l.replace(/#.*/, '').trim())
    .filter(Boolean);
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

/** The dialog body. `submit()` is called by the dialog's Submit button. */
class SubmitForm extends ReactWidget {
  constructor(private readonly _options: ISubmitOptions) {
    super();
    this.addClass('jp-aml-SubmitForm');
  }

  /** Validate and submit; resolves with the new run, rejects (keeping the dialog open) on error. */
  submit: () => Promise<IRun> = () => Promise.reject(new Error('The form is still loading.'));

  run: IRun | null = null;

  getValue(): IRun | null {
    return this.run;
  }

  protected render(): JSX.Element {
    return (
      <SubmitFormView
        options={this._options}
        register={fn => {
          this.submit = fn;
        }}
      />
    );
  }
}

function SubmitFormView(props: {
  options: ISubmitOptions;
  register: (submit: () => Promise<IRun>) => void;
}): JSX.Element {
  const { service, contents, folder, settings } = props.options;
  const id = useId();
  const [loaded, setLoaded] = useState<ILoaded | null>(null);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [errors, setErrors] = useState<string[]>([]);
  const [serverError, setServerError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [state, setState] = useState<IFormState>({
    workspace: props.options.workspace ?? 'default',
    experiment: settings.defaultExperiment || folderName(folder),
    script: '',
    args: '',
    compute: settings.defaultCompute || 'local',
    envMode: 'user',
    pip: '',
    displayName: '',
    tags: ''
  });
  const set = (patch: Partial<IFormState>) => setState(prev => ({ ...prev, ...patch }));

  // Workspaces, the folder's scripts, then the workspace's experiments and computes.
  useEffect(() => {
    let cancelled = false;
    void (async () => {
      try {
        const [workspaces, files] = await Promise.all([
          service.listWorkspaces(),
          pythonFiles(contents, folder)
        ]);
        const ws =
          workspaces.find(w => w.name === state.workspace)?.name ??
          workspaces.find(w => w.name === 'default')?.name ??
          workspaces[0]?.name ??
          'default';
        const exists = workspaces.some(w => w.name === ws);
        const [experiments, computes] = await Promise.all([
          exists ? service.listExperiments(ws).catch(() => [] as IExperiment[]) : [],
          // Computes are server-wide: any workspace name lists them.
          exists
            ? service.listComputes(ws).catch(() => [] as ICompute[])
            : [{ name: 'local', type: 'local', max_concurrent_runs: 1 }]
        ]);
        if (cancelled) {
          return;
        }
        setLoaded({ workspaces, experiments, computes, ...files });
        setState(prev => ({
          ...prev,
          workspace: ws,
          script:
            files.scripts.find(s => s === props.options.script) ??
            files.scripts.find(s => s === 'train.py') ??
            files.scripts.find(s => !s.includes('/')) ??
            files.scripts[0] ??
            '',
          compute: computes.some(c => c.name === prev.compute)
            ? prev.compute
            : (computes[0]?.name ?? prev.compute),
          pip: files.requirements ?? prev.pip
        }));
      } catch (reason) {
        if (!cancelled) {
          setLoadError(reason);
        }
      }
    })();
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Another workspace has other experiments and computes.
  const changeWorkspace = async (ws: string) => {
    set({ workspace: ws });
    if (!loaded) {
      return;
    }
    const [experiments, computes] = await Promise.all([
      service.listExperiments(ws).catch(() => [] as IExperiment[]),
      service.listComputes(ws).catch(() => [] as ICompute[])
    ]);
    setLoaded({ ...loaded, experiments, computes });
  };

  props.register(async () => {
    if (!loaded) {
      setErrors(['Still reading the folder and the compute targets: try again in a moment.']);
      throw new Error('still loading');
    }
    setServerError(undefined);
    const checked = validate(state, loaded, folder);
    if ('errors' in checked) {
      setErrors(checked.errors);
      throw new Error(checked.errors.join('\n'));
    }
    setErrors([]);
    setBusy(true);
    try {
      if (!loaded.workspaces.some(w => w.name === state.workspace)) {
        // A fresh install has no workspace yet: the first submit creates "default".
        await service.createWorkspace(state.workspace).catch(reason => {
          if (!(reason instanceof AMLRequestError && reason.status === 409)) {
            throw reason;
          }
        });
      }
      return await service.submitFolder(state.workspace, checked.spec);
    } catch (reason) {
      setServerError(reason);
      throw reason;
    } finally {
      setBusy(false);
    }
  });

  if (loadError !== undefined) {
    return <ErrorView error={loadError} context={`Reading ${folder || 'the root folder'}`} />;
  }
  const field = (name: string) => `${id}-${name}`;
  return (
    <form
      className="jp-aml-Form"
      aria-label="Submit folder as run"
      aria-busy={!loaded || busy}
      onSubmit={e => e.preventDefault()}
    >
      <div className="jp-aml-Form-row">
        <span className="jp-aml-Form-label">Folder</span>
        <code className="jp-aml-Form-value" aria-label="Folder">
          {folder ? `/${folder}` : '/ (Jupyter root)'}
        </code>
      </div>
      {loaded && loaded.workspaces.length > 1 && (
        <div className="jp-aml-Form-row">
          <label htmlFor={field('ws')}>Workspace</label>
          <select
            id={field('ws')}
            className="jp-mod-styled"
            value={state.workspace}
            onChange={e => void changeWorkspace(e.target.value)}
          >
            {loaded.workspaces.map(w => (
              <option key={w.name} value={w.name}>
                {w.name}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="jp-aml-Form-row">
        <label htmlFor={field('exp')}>Experiment</label>
        <input
          id={field('exp')}
          className="jp-mod-styled"
          value={state.experiment}
          list={field('exps')}
          onChange={e => set({ experiment: e.target.value })}
        />
        <datalist id={field('exps')}>
          {(loaded?.experiments ?? []).map(x => (
            <option key={x.name} value={x.name} />
          ))}
        </datalist>
      </div>
      <div className="jp-aml-Form-row">
        <label htmlFor={field('script')}>Script</label>
        <select
          id={field('script')}
          className="jp-mod-styled"
          value={state.script}
          disabled={!loaded}
          onChange={e => set({ script: e.target.value })}
        >
          {!loaded && <option value="">Loading…</option>}
          {loaded && loaded.scripts.length === 0 && (
            <option value="">No .py files or notebooks</option>
          )}
          {(loaded?.scripts ?? []).map(s => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <div className="jp-aml-Form-row">
        <label htmlFor={field('args')}>Arguments</label>
        <input
          id={field('args')}
          className="jp-mod-styled"
          placeholder="--lr 0.01 --epochs 10"
          value={state.args}
          onChange={e => set({ args: e.target.value })}
        />
      </div>
      <div className="jp-aml-Form-row">
        <label htmlFor={field('compute')}>Compute target</label>
        <select
          id={field('compute')}
          className="jp-mod-styled"
          value={state.compute}
          disabled={!loaded}
          onChange={e => set({ compute: e.target.value })}
        >
          {(loaded?.computes ?? [{ name: state.compute, type: '', max_concurrent_runs: 0 }]).map(
            c => (
              <option key={c.name} value={c.name}>
                {c.name}
                {c.type && c.type !== c.name ? ` (${c.type})` : ''}
              </option>
            )
          )}
        </select>
      </div>
      <fieldset className="jp-aml-Form-fieldset">
        <legend>Environment</legend>
        <label className="jp-aml-Check">
          <input
            type="radio"
            name={field('env')}
            checked={state.envMode === 'user'}
            onChange={() => set({ envMode: 'user' })}
          />
          User-managed (the compute's own Python)
        </label>
        <label className="jp-aml-Check">
          <input
            type="radio"
            name={field('env')}
            checked={state.envMode === 'pip'}
            onChange={() => set({ envMode: 'pip' })}
          />
          Pip requirements (a cached virtual environment)
        </label>
        {state.envMode === 'pip' && (
          <textarea
            className="jp-mod-styled jp-aml-Form-textarea"
            aria-label="Pip requirements, one per line"
            placeholder={'scikit-learn>=1.3\nnumpy'}
            rows={4}
            value={state.pip}
            onChange={e => set({ pip: e.target.value })}
          />
        )}
      </fieldset>
      <div className="jp-aml-Form-row">
        <label htmlFor={field('name')}>Display name</label>
        <input
          id={field('name')}
          className="jp-mod-styled"
          placeholder="optional"
          value={state.displayName}
          onChange={e => set({ displayName: e.target.value })}
        />
      </div>
      <div className="jp-aml-Form-row">
        <label htmlFor={field('tags')}>Tags</label>
        <input
          id={field('tags')}
          className="jp-mod-styled"
          placeholder="team=vision, purpose=baseline"
          value={state.tags}
          onChange={e => set({ tags: e.target.value })}
        />
      </div>
      {(errors.length > 0 || serverError !== undefined) && (
        <div className="jp-aml-Form-errors" role="alert" aria-label="Submission problems">
          {errors.length > 0 && (
            <ul>
              {errors.map(e => (
                <li key={e}>{e}</li>
              ))}
            </ul>
          )}
          {serverError !== undefined && (
            <ErrorView
              error={serverError}
              context={
                serverError instanceof AMLRequestError ? 'The server refused the run' : 'Submit'
              }
            />
          )}
        </div>
      )}
      {busy && (
        <div className="jp-aml-Muted" role="status">
          Snapshotting the folder and queueing the run…
        </div>
      )}
    </form>
  );
}

/** A Dialog whose Submit button validates and submits first, and stays open on errors. */
class SubmitDialog extends Dialog<IRun | null> {
  constructor(private readonly _form: SubmitForm) {
    super({
      title: 'Submit Folder as Run',
      body: _form,
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: 'Submit', ariaLabel: 'Submit run' })
      ],
      defaultButton: 1,
      focusNodeSelector: 'input'
    });
    this.addClass('jp-aml-SubmitDialog');
  }

  resolve(index?: number): void {
    const i = index ?? 1;
    if (i !== 1) {
      super.resolve(i);
      return;
    }
    if (this._pending) {
      return;
    }
    this._pending = true;
    this._form.submit().then(
      run => {
        this._pending = false;
        this._form.run = run;
        super.resolve(1);
      },
      () => {
        // The form shows what went wrong; the dialog stays open.
        this._pending = false;
      }
    );
  }

  private _pending = false;
}

/** Show the dialog; resolves with the submitted run, or null when cancelled. */
export async function submitFolder(options: ISubmitOptions): Promise<IRun | null> {
  const dialog = new SubmitDialog(new SubmitForm(options));
  const result = await dialog.launch();
  return result.button.accept ? result.value : null;
}
