/**
 * A dialog whose OK button submits its form first: it closes with what the server accepted, and stays
 * open (the form showing what went wrong) when the submit fails. Used by "Submit Folder as Run…" and
 * "New compute…".
 */
import { Dialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

/** A dialog body that can submit itself and hold what was accepted. */
export interface ISubmittingForm<T> extends Widget {
  /** Validate and send; resolves with the accepted value, rejects (after showing why) on error. */
  submit(): Promise<T>;
  accepted: T | null;
  getValue(): T | null;
}

export class SubmittingDialog<T> extends Dialog<T | null> {
  constructor(
    private readonly _form: ISubmittingForm<T>,
    options: { title: string; okLabel: string; okAriaLabel: string; className: string }
  ) {
    super({
      title: options.title,
      body: _form,
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: options.okLabel, ariaLabel: options.okAriaLabel })
      ],
      defaultButton: 1,
      focusNodeSelector: 'input'
    });
    this.addClass(options.className);
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
      value => {
        this._pending = false;
        this._form.accepted = value;
        super.resolve(1);
      },
      () => {
        // The form shows what went wrong; the dialog stays open.
        this._pending = false;
      }
    );
  }

  /** Show the dialog; resolves with the accepted value, or null when cancelled. */
  async ask(): Promise<T | null> {
    const result = await this.launch();
    return result.button.accept ? result.value : null;
  }

  private _pending = false;
}
