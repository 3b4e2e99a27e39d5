/** Commands of the sidebar: show it, refresh it, reveal a model in it. */
import { refreshIcon } from '@jupyterlab/ui-components';

import { amlIcon } from '../icons';
import { askText, ICommandContext, positiveIntArg, stringArg, workspaceArg } from './context';
import { CommandIDs } from './ids';

export function addSidebarCommands(context: ICommandContext): void {
  const { app, sidebar } = context;
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
    caption: 'Reload workspaces, experiments, runs, models, endpoints and computes',
    icon: refreshIcon,
    execute: () => {
      sidebar.refresh();
    }
  });

  commands.addCommand(CommandIDs.showModel, {
    label: args =>
      typeof args.name === 'string' && args.name ? `Show Model ${args.name}` : 'Show Model…',
    caption:
      'Show a registered model in the AML sidebar’s Models section (args: name, version, workspace)',
    icon: amlIcon,
    describedBy: {
      args: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'The model name' },
          version: { type: 'integer', description: 'A version (default: the latest)' },
          workspace: { type: 'string', description: 'Workspace name (default: the sidebar’s)' }
        }
      }
    },
    execute: async args => {
      const name = stringArg(args, 'name') ?? (await askText('Show Model', 'Model name'));
      if (!name) {
        return;
      }
      shell.activateById(sidebar.id);
      sidebar.showModel(workspaceArg(context, args), name, positiveIntArg(args, 'version'));
    }
  });
}
