/** The submit dialog's body: the form's fields, its problems and its progress. */
import React, { useId } from 'react';

import { IRun } from '../api';
import { ErrorView } from '../panels/components';
import {
  ComputeField,
  EnvironmentFields,
  ExperimentField,
  FolderRow,
  ScriptField,
  SubmitProblems,
  TextField,
  WorkspaceField
} from './fields';
import { ISubmitOptions } from './options';
import { useSubmitForm } from './use-submit-form';

export function SubmitFormView(props: {
  options: ISubmitOptions;
  /** Called on every render with the submit of the current values (the dialog's Submit calls it). */
  register: (submit: () => Promise<IRun>) => void;
}): JSX.Element {
  const { folder } = props.options;
  const id = useId();
  const form = useSubmitForm(props.options);
  const { state, set } = form;
  props.register(form.submit);

  if (form.loadError !== undefined) {
    return <ErrorView error={form.loadError} context={`Reading ${folder || 'the root folder'}`} />;
  }
  return (
    <form
      className="jp-aml-Form"
      aria-label="Submit folder as run"
      aria-busy={!form.loaded || form.busy}
      onSubmit={e => e.preventDefault()}
    >
      <FolderRow folder={folder} />
      <WorkspaceField form={form} id={id} />
      <ExperimentField form={form} id={id} />
      <ScriptField form={form} id={id} />
      <TextField
        id={`${id}-args`}
        label="Arguments"
        placeholder="--lr 0.01 --epochs 10"
        value={state.args}
        onChange={args => set({ args })}
      />
      <ComputeField form={form} id={id} />
      <EnvironmentFields form={form} id={id} />
      <TextField
        id={`${id}-name`}
        label="Display name"
        placeholder="optional"
        value={state.displayName}
        onChange={displayName => set({ displayName })}
      />
      <TextField
        id={`${id}-tags`}
        label="Tags"
        placeholder="team=vision, purpose=baseline"
        value={state.tags}
        onChange={tags => set({ tags })}
      />
      <SubmitProblems errors={form.errors} serverError={form.serverError} />
      {form.busy && (
        <div className="jp-aml-Muted" role="status">
          Snapshotting the folder and queueing the run…
        </div>
      )}
    </form>
  );
}
