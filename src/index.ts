import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { AMLService } from './api';
import { CommandIDs, registerCommands, runActions } from './commands';
import { EndpointDetailsPanel } from './panels/endpoint-details';
import { addMembersCommand } from './panels/members/command';
import { MembersPanel } from './panels/members/page';
import { RunDetailsPanel } from './panels/run-details';
import { AMLSidebar } from './panels/sidebar';
import {
  DEFAULT_SETTINGS,
  IAMLService,
  IAMLSettings,
  PLUGIN_ID,
  SERVICE_PLUGIN_ID
} from './tokens';

/** Provides the shared REST client. */
const servicePlugin: JupyterFrontEndPlugin<AMLService> = {
  id: SERVICE_PLUGIN_ID,
  description: 'Typed client of the jupyter-aml REST API.',
  autoStart: true,
  provides: IAMLService,
  activate: (app: JupyterFrontEnd): AMLService =>
    new AMLService({ serverSettings: app.serviceManager.serverSettings })
};

function readSettings(settings: ISettingRegistry.ISettings): IAMLSettings {
  const get = <K extends keyof IAMLSettings>(key: K): IAMLSettings[K] => {
    const value = settings.get(key).composite;
    return (
      value === undefined || value === null ? DEFAULT_SETTINGS[key] : value
    ) as IAMLSettings[K];
  };
  return {
    defaultExperiment: get('defaultExperiment'),
    defaultCompute: get('defaultCompute'),
    refreshIntervalSeconds: Math.max(0, Number(get('refreshIntervalSeconds')) || 0),
    runsPageSize: Math.min(500, Math.max(10, Number(get('runsPageSize')) || 50)),
    chartMaxPoints: Math.min(20000, Math.max(100, Number(get('chartMaxPoints')) || 1000))
  };
}

/** The AML sidebar, its commands and settings (`schema/plugin.json`). */
const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Machine learning workspace sidebar.',
  autoStart: true,
  requires: [IAMLService],
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    service: AMLService,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    browser: IDefaultFileBrowser | null
  ): void => {
    const sidebar = new AMLSidebar({ service, actions: runActions(app) });
    app.shell.add(sidebar, 'left', { rank: 200 });
    const runs = new WidgetTracker<MainAreaWidget<RunDetailsPanel>>({ namespace: 'aml-run' });
    const endpoints = new WidgetTracker<MainAreaWidget<EndpointDetailsPanel>>({
      namespace: 'aml-endpoint'
    });
    const members = new WidgetTracker<MainAreaWidget<MembersPanel>>({ namespace: 'aml-members' });
    if (restorer) {
      restorer.add(sidebar, sidebar.id);
      void restorer.restore(runs, {
        command: CommandIDs.openRun,
        args: widget => ({ runId: widget.content.runId, workspace: widget.content.workspace }),
        name: widget => `${widget.content.workspace}:${widget.content.runId}`
      });
      void restorer.restore(endpoints, {
        command: CommandIDs.openEndpoint,
        args: widget => ({ name: widget.content.name, workspace: widget.content.workspace }),
        name: widget => `${widget.content.workspace}:${widget.content.name}`
      });
      void restorer.restore(members, {
        command: CommandIDs.openMembers,
        args: widget => ({ workspace: widget.content.workspace }),
        name: widget => widget.content.workspace
      });
    }
    const commandContext = { app, service, sidebar, palette, browser, runs, endpoints };
    registerCommands(commandContext);
    addMembersCommand(commandContext, members);

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          sidebar.settings = readSettings(settings);
          settings.changed.connect(() => {
            sidebar.settings = readSettings(settings);
          });
        })
        .catch(reason => {
          console.error(`${PLUGIN_ID}: failed to load settings, using defaults.`, reason);
        });
    }
  }
};

export * from './tokens';
export { AMLService } from './api';
export { CommandIDs } from './commands';
export { AMLRequestError, requestAPI } from './request';

const plugins: JupyterFrontEndPlugin<unknown>[] = [servicePlugin, sidebarPlugin];
export default plugins;
