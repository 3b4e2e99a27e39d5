/**
 * "Submit Folder as Run…": a dialog that collects experiment, script, arguments, compute target and
 * environment, validates them (in the browser, then on the server) and submits the folder through
 * `POST /workspaces/{ws}/runs/from-folder`. Errors stay in the dialog; nothing is submitted until
 * every field is valid.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { IRun } from '../api';
import { ISubmittingForm, SubmittingDialog } from '../submitting-dialog';
import { SubmitFormView } from './form';
import { ISubmitOptions } from './options';

export type { ISubmitOptions } from './options';

/** The dialog body. `submit()` is called by the dialog's Submit button. */
class SubmitForm extends ReactWidget implements ISubmittingForm<IRun> {
  constructor(private readonly _options: ISubmitOptions) {
    super();
    this.addClass('jp-aml-SubmitForm');
  }

  /** Validate and submit; resolves with the new run, rejects (keeping the dialog open) on error. */
  submit: () => Promise<IRun> = () => Promise.reject(new Error('The form is still loading.'));

  accepted: IRun | null = null;

  getValue(): IRun | null {
    return this.accepted;
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

/** Show the dialog; resolves with the submitted run, or null when cancelled. */
export async function submitFolder(options: ISubmitOptions): Promise<IRun | null> {
  return new SubmittingDialog(new SubmitForm(options), {
    title: 'Submit Folder as Run',
    okLabel: 'Submit',
    okAriaLabel: 'Submit run',
    className: 'jp-aml-SubmitDialog'
  }).ask();
}
