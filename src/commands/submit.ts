/** Commands that submit a folder as a run: a folder of the file browser, or the current notebook's. */
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentWidget } from '@jupyterlab/docregistry';

import { IRun } from '../api';
import { amlIcon } from '../icons';
import { submitFolder } from '../submit/dialog';
import { ICommandContext } from './context';
import { CommandIDs } from './ids';

function isDocumentWidget(widget: unknown): widget is IDocumentWidget {
  return (
    typeof widget === 'object' &&
    widget !== null &&
    'context' in widget &&
    typeof (widget as IDocumentWidget).context?.path === 'string'
  );
}

export function addSubmitCommands(context: ICommandContext): void {
  const { app, service, sidebar, browser } = context;
  const { commands, shell } = app;

  // The dialog; then the new run's page.
  const submit = async (folder: string, script?: string): Promise<IRun | null> => {
    const run = await submitFolder({
      service,
      contents: app.serviceManager.contents,
      folder,
      script,
      workspace: sidebar.workspace,
      settings: sidebar.settings
    });
    if (run) {
      sidebar.refresh();
      await commands.execute(CommandIDs.openRun, { workspace: run.workspace, runId: run.id });
    }
    return run;
  };

  commands.addCommand(CommandIDs.submitFolder, {
    label: 'Submit Folder as Run…',
    caption:
      'Snapshot a folder and run one of its scripts on a compute target (args: path, relative to the Jupyter root)',
    icon: amlIcon,
    execute: async args => {
      let folder = typeof args.path === 'string' ? args.path : undefined;
      if (folder === undefined && browser) {
        const selected = Array.from(browser.selectedItems()).find(i => i.type === 'directory');
        folder = selected ? selected.path : browser.model.path;
      }
      // Drive prefixes ("RTC:") are not part of the server path.
      folder = (folder ?? '').replace(/^[^/:]+:/, '').replace(/^\/+|\/+$/g, '');
      return submit(folder);
    }
  });

  commands.addCommand(CommandIDs.submitNotebookFolder, {
    label: 'Submit Notebook Folder as Run…',
    caption:
      'Submit the folder of the current notebook as a run (the notebook, or a script of the folder)',
    icon: amlIcon,
    isEnabled: () => isDocumentWidget(shell.currentWidget),
    execute: async () => {
      const widget = shell.currentWidget;
      if (!isDocumentWidget(widget)) {
        return null;
      }
      const path = widget.context.localPath ?? widget.context.path;
      const folder = PathExt.dirname(path);
      return submit(folder === '.' ? '' : folder, PathExt.basename(path));
    }
  });
}
