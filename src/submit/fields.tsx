/** The fields of the submit form, each bound to the form's state. */
import React from 'react';

import { ErrorView } from '../panels/components';
import { AMLRequestError } from '../request';
import { ISubmitForm } from './use-submit-form';

/** A field's props: the form, and the id prefix its labels point at. */
interface IFieldProps {
  form: ISubmitForm;
  id: string;
}

export function FolderRow(props: { folder: string }): JSX.Element {
  return (
    <div className="jp-aml-Form-row">
      <span className="jp-aml-Form-label">Folder</span>
      <code className="jp-aml-Form-value" aria-label="Folder">
        {props.folder ? `/${props.folder}` : '/ (Jupyter root)'}
      </code>
    </div>
  );
}

/** A labelled choice; `blank` is a first option with no value (a state to say, not to pick). */
function SelectField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: Array<{ value: string; text: string }>;
  disabled?: boolean;
  blank?: string | null;
}): JSX.Element {
  return (
    <div className="jp-aml-Form-row">
      <label htmlFor={props.id}>{props.label}</label>
      <select
        id={props.id}
        className="jp-mod-styled"
        value={props.value}
        disabled={props.disabled}
        onChange={e => props.onChange(e.target.value)}
      >
        {props.blank && <option value="">{props.blank}</option>}
        {props.options.map(o => (
          <option key={o.value} value={o.value}>
            {o.text}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Shown only when there is a choice (more than one workspace). */
export function WorkspaceField({ form, id }: IFieldProps): JSX.Element | null {
  if (!form.loaded || form.loaded.workspaces.length <= 1) {
    return null;
  }
  return (
    <SelectField
      id={`${id}-ws`}
      label="Workspace"
      value={form.state.workspace}
      onChange={ws => void form.changeWorkspace(ws)}
      options={form.loaded.workspaces.map(w => ({ value: w.name, text: w.name }))}
    />
  );
}

/** Any name, with the workspace's experiments as suggestions. */
export function ExperimentField({ form, id }: IFieldProps): JSX.Element {
  return (
    <div className="jp-aml-Form-row">
      <label htmlFor={`${id}-exp`}>Experiment</label>
      <input
        id={`${id}-exp`}
        className="jp-mod-styled"
        value={form.state.experiment}
        list={`${id}-exps`}
        onChange={e => form.set({ experiment: e.target.value })}
      />
      <datalist id={`${id}-exps`}>
        {(form.loaded?.experiments ?? []).map(x => (
          <option key={x.name} value={x.name} />
        ))}
      </datalist>
    </div>
  );
}

export function ScriptField({ form, id }: IFieldProps): JSX.Element {
  const { loaded } = form;
  let blank: string | null = null;
  if (!loaded) {
    blank = 'Loading…';
  } else if (loaded.scripts.length === 0) {
    blank = 'No .py files or notebooks';
  }
  return (
    <SelectField
      id={`${id}-script`}
      label="Script"
      value={form.state.script}
      onChange={script => form.set({ script })}
      options={(loaded?.scripts ?? []).map(s => ({ value: s, text: s }))}
      disabled={!loaded}
      blank={blank}
    />
  );
}

export function ComputeField({ form, id }: IFieldProps): JSX.Element {
  const { loaded, state } = form;
  // Until the list is loaded, the preselected name is the only option.
  const computes = loaded?.computes ?? [{ name: state.compute, type: '', max_concurrent_runs: 0 }];
  return (
    <SelectField
      id={`${id}-compute`}
      label="Compute target"
      value={state.compute}
      onChange={compute => form.set({ compute })}
      options={computes.map(c => ({
        value: c.name,
        text: c.type && c.type !== c.name ? `${c.name} (${c.type})` : c.name
      }))}
      disabled={!loaded}
    />
  );
}

/** User-managed (the compute's Python) or pip requirements (a cached venv). */
export function EnvironmentFields({ form, id }: IFieldProps): JSX.Element {
  const { state } = form;
  return (
    <fieldset className="jp-aml-Form-fieldset">
      <legend>Environment</legend>
      <label className="jp-aml-Check">
        <input
          type="radio"
          name={`${id}-env`}
          checked={state.envMode === 'user'}
          onChange={() => form.set({ envMode: 'user' })}
        />
        User-managed (the compute's own Python)
      </label>
      <label className="jp-aml-Check">
        <input
          type="radio"
          name={`${id}-env`}
          checked={state.envMode === 'pip'}
          onChange={() => form.set({ envMode: 'pip' })}
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
          onChange={e => form.set({ pip: e.target.value })}
        />
      )}
    </fieldset>
  );
}

/** A one-line text field with a label. */
export function TextField(props: {
  id: string;
  label: string;
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <div className="jp-aml-Form-row">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        className="jp-mod-styled"
        placeholder={props.placeholder}
        value={props.value}
        onChange={e => props.onChange(e.target.value)}
      />
    </div>
  );
}

/** What stopped the last submit: the browser's checks, or the server's refusal. */
export function SubmitProblems(props: {
  errors: string[];
  serverError: unknown;
}): JSX.Element | null {
  const { errors, serverError } = props;
  if (errors.length === 0 && serverError === undefined) {
    return null;
  }
  return (
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
          context={serverError instanceof AMLRequestError ? 'The server refused the run' : 'Submit'}
        />
      )}
    </div>
  );
}
