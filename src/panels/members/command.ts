/** The Open Members command: a workspace's Members page (members, roles, activity), one per workspace. */
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';

import { ICommandContext, stringArg, workspaceArg } from '../../commands/context';
import { CommandIDs, PALETTE_CATEGORY } from '../../commands/ids';
import { amlIcon } from '../../icons';
import { createMembersPage, MEMBERS_TABS, MembersPanel } from './page';

export function addMembersCommand(
  context: ICommandContext,
  tracker: WidgetTracker<MainAreaWidget<MembersPanel>>
): void {
  const { app, service } = context;
  const { commands, shell } = app;
  commands.addCommand(CommandIDs.openMembers, {
    label: args =>
      typeof args.workspace === 'string' && args.workspace
        ? `Open Members of ${args.workspace}`
        : 'Open Workspace Members',
    caption: 'Members, roles and the activity log of a workspace (args: workspace, tab)',
    icon: amlIcon,
    describedBy: {
      args: {
        type: 'object',
        properties: {
          workspace: { type: 'string', description: 'Workspace name (default: the sidebar’s)' },
          tab: { type: 'string', enum: Object.keys(MEMBERS_TABS) }
        }
      }
    },
    execute: args => {
      const workspace = workspaceArg(context, args);
      const tab = stringArg(args, 'tab');
      let page = tracker.find(w => w.content.workspace === workspace);
      if (!page) {
        page = createMembersPage({ service, workspace, tab });
        void tracker.add(page);
      } else if (tab) {
        page.content.showTab(tab);
      }
      // A page restored from the saved layout may be tracked but not placed in the shell.
      if (!page.isAttached) {
        shell.add(page, 'main');
      }
      shell.activateById(page.id);
      return page;
    }
  });
  context.palette?.addItem({ command: CommandIDs.openMembers, category: PALETTE_CATEGORY });
}
