/**
 * The submit form's state: its values, the choices it offers (loaded once, and again for another
 * workspace), and the submission itself (browser checks, then the server's answer).
 */
import { Dispatch, SetStateAction, useEffect, useState } from 'react';

import { IRun } from '../api';
import { AMLRequestError } from '../request';
import { defaultScript, loadChoices, workspaceChoices } from './choices';
import { ISubmitOptions } from './options';
import { folderName, IFormState, ILoaded, validate } from './request';

export interface ISubmitForm {
  state: IFormState;
  set: (patch: Partial<IFormState>) => void;
  /** Null until the folder and the server's lists are read. */
  loaded: ILoaded | null;
  loadError: unknown;
  changeWorkspace: (workspace: string) => Promise<void>;
  /** The browser's own checks that failed at the last submit. */
  errors: string[];
  serverError: unknown;
  busy: boolean;
  /** Validate and submit; resolves with the new run, rejects (the form shows why) on error. */
  submit: () => Promise<IRun>;
}

function initialState(options: ISubmitOptions): IFormState {
  const { settings } = options;
  return {
    workspace: options.workspace ?? 'default',
    experiment: settings.defaultExperiment || folderName(options.folder),
    script: '',
    args: '',
    compute: settings.defaultCompute || 'local',
    envMode: 'user',
    pip: '',
    displayName: '',
    tags: ''
  };
}

/** Read the choices once; then preselect the workspace, script, compute and pip requirements. */
function useChoices(
  options: ISubmitOptions,
  state: IFormState,
  setState: Dispatch<SetStateAction<IFormState>>
): [ILoaded | null, (loaded: ILoaded) => void, unknown] {
  const { service, contents, folder } = options;
  const [loaded, setLoaded] = useState<ILoaded | null>(null);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  useEffect(() => {
    let cancelled = false;
    void (async () => {
      try {
        const choices = await loadChoices(service, contents, folder, state.workspace);
        if (cancelled) {
          return;
        }
        const { scripts, computes, requirements } = choices.loaded;
        setLoaded(choices.loaded);
        setState(prev => ({
          ...prev,
          workspace: choices.workspace,
          script: defaultScript(scripts, options.script),
          compute: computes.some(c => c.name === prev.compute)
            ? prev.compute
            : (computes[0]?.name ?? prev.compute),
          pip: requirements ?? prev.pip
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
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once, when the dialog opens: later edits of the form must not reload what it offers
  }, []);
  return [loaded, setLoaded, loadError];
}

export function useSubmitForm(options: ISubmitOptions): ISubmitForm {
  const { service, folder } = options;
  const [state, setState] = useState<IFormState>(() => initialState(options));
  const [loaded, setLoaded, loadError] = useChoices(options, state, setState);
  const [errors, setErrors] = useState<string[]>([]);
  const [serverError, setServerError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<IFormState>) => setState(prev => ({ ...prev, ...patch }));

  // Another workspace has other experiments and computes.
  const changeWorkspace = async (ws: string) => {
    set({ workspace: ws });
    if (!loaded) {
      return;
    }
    setLoaded({ ...loaded, ...(await workspaceChoices(service, ws)) });
  };

  const submit = async () => {
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
  };

  return { state, set, loaded, loadError, changeWorkspace, errors, serverError, busy, submit };
}
