/**
 * "Submit Folder as Run…": a dialog that collects experiment, script, arguments, compute target and
 * environment, validates them (in the browser, then on the server) and submits the folder through
 * `POST /workspaces/{ws}/runs/from-folder`. Errors stay in the dialog; nothing is submitted until
 * every field is valid.
 */
import { Dialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { IRun } from '../api';
import { SubmitFormView } from './form';
import { ISubmitOptions } from './options';

export type { ISubmitOptions } from './options';

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
