import { Contents } from '@jupyterlab/services';

import { AMLService } from '../api';
import { IAMLSettings } from '../tokens';

/** What the "Submit Folder as Run…" dialog is opened with. */
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
