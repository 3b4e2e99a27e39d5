/** Command ids and their registration. New panels add their commands here. */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { refreshIcon } from '@jupyterlab/ui-components';

import { amlIcon } from './icons';
import { AMLSidebar } from './panels/sidebar';

export namespace CommandIDs {
  export const openSidebar = 'aml:open-sidebar';
  export const refresh = 'aml:refresh';
}

/** Palette category of every AML command. */
export const PALETTE_CATEGORY = 'AML';

export function registerCommands(
  app: JupyterFrontEnd,
  sidebar: AMLSidebar,
  palette: ICommandPalette | null
): void {
  const { commands, shell } = app;

  commands.addCommand(CommandIDs.openSidebar, {
    label: 'Open AML Sidebar',
    caption: 'Show the machine learning workspace panel',
    icon: amlIcon,
    execute: () => {
      shell.activateById(sidebar.id);
    }
  });

  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh AML Workspace',
    caption: 'Reload workspaces, experiments, runs and computes',
    icon: refreshIcon,
    execute: () => {
      sidebar.refresh();
    }
  });

  if (palette) {
    for (const command of [CommandIDs.openSidebar, CommandIDs.refresh]) {
      palette.addItem({ command, category: PALETTE_CATEGORY });
    }
  }
}
