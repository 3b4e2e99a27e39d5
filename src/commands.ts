/**
 * Every AML command, registered in groups (src/commands/): the sidebar's, the main-area pages',
 * and the submit commands. Every command is in the palette under "AML".
 */
import { addPageCommands } from './commands/pages';
import { runLabHandoff } from './commands/lab-handoff';
import { ICommandContext } from './commands/context';
import { CommandIDs, PALETTE_CATEGORY } from './commands/ids';
import { addSidebarCommands } from './commands/sidebar';
import { addSubmitCommands } from './commands/submit';

export { runActions } from './commands/actions';
export type { ICommandContext } from './commands/context';
export { CommandIDs, PALETTE_CATEGORY } from './commands/ids';

export function registerCommands(context: ICommandContext): void {
  addSidebarCommands(context);
  addPageCommands(context);
  addSubmitCommands(context);
  runLabHandoff(context.app);
  if (context.palette) {
    for (const command of [
      CommandIDs.openSidebar,
      CommandIDs.refresh,
      CommandIDs.openRun,
      CommandIDs.compareRuns,
      CommandIDs.submitFolder,
      CommandIDs.submitNotebookFolder,
      CommandIDs.openEndpoint,
      CommandIDs.showModel
    ]) {
      context.palette.addItem({ command, category: PALETTE_CATEGORY });
    }
  }
}
