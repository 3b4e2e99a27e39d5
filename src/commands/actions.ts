import { JupyterFrontEnd } from '@jupyterlab/application';

import { ISidebarActions } from '../panels/sidebar';
import { CommandIDs } from './ids';

/** Actions the sidebar's sections trigger, as commands (so they can be bound and logged). */
export function runActions(app: JupyterFrontEnd): ISidebarActions {
  return {
    openRun: (workspace, runId) =>
      void app.commands.execute(CommandIDs.openRun, { workspace, runId }),
    compareRuns: (workspace, runIds) =>
      void app.commands.execute(CommandIDs.compareRuns, { workspace, runIds }),
    openEndpoint: (workspace, name, tab) =>
      void app.commands.execute(
        CommandIDs.openEndpoint,
        tab ? { workspace, name, tab } : { workspace, name }
      ),
    showModel: (workspace, name, version) =>
      void app.commands.execute(
        CommandIDs.showModel,
        version ? { workspace, name, version } : { workspace, name }
      ),
    openMembers: workspace => void app.commands.execute(CommandIDs.openMembers, { workspace })
  };
}
