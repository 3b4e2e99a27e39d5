import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { AMLService } from './api';
import { registerCommands } from './commands';
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
    refreshIntervalSeconds: Math.max(0, Number(get('refreshIntervalSeconds')) || 0)
  };
}

/** The AML sidebar, its commands and settings (`schema/plugin.json`). */
const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Machine learning workspace sidebar.',
  autoStart: true,
  requires: [IAMLService],
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    service: AMLService,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const sidebar = new AMLSidebar({ service });
    app.shell.add(sidebar, 'left', { rank: 200 });
    if (restorer) {
      restorer.add(sidebar, sidebar.id);
    }
    registerCommands(app, sidebar, palette);

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
export { AMLRequestError, requestAPI } from './request';

const plugins: JupyterFrontEndPlugin<any>[] = [servicePlugin, sidebarPlugin];
export default plugins;
