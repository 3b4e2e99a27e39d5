/** Command ids and their registration. Every command is in the palette under "AML". */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentWidget } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { refreshIcon } from '@jupyterlab/ui-components';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { AMLService } from './api';
import { amlIcon } from './icons';
import { createCompare } from './panels/compare';
import {
  createEndpointDetails,
  ENDPOINT_TABS,
  EndpointDetailsPanel
} from './panels/endpoint-details';
import { createRunDetails, RunDetailsPanel } from './panels/run-details';
import { AMLSidebar, ISidebarActions } from './panels/sidebar';
import { submitFolder } from './submit/dialog';

// eslint-disable-next-line @typescript-eslint/no-namespace -- JupyterLab's idiom for command ids
export namespace CommandIDs {
  export const openSidebar = 'aml:open-sidebar';
  export const refresh = 'aml:refresh';
  export const openRun = 'aml:open-run';
  export const compareRuns = 'aml:compare-runs';
  export const submitFolder = 'aml:submit-folder';
  export const submitNotebookFolder = 'aml:submit-notebook-folder';
  export const openEndpoint = 'aml:open-endpoint';
  export const showModel = 'aml:show-model';
}

/** Palette category of every AML command. */
export const PALETTE_CATEGORY = 'AML';

export interface ICommandContext {
  app: JupyterFrontEnd;
  service: AMLService;
  sidebar: AMLSidebar;
  palette: ICommandPalette | null;
  browser: IDefaultFileBrowser | null;
  runs: WidgetTracker<MainAreaWidget<RunDetailsPanel>>;
  endpoints: WidgetTracker<MainAreaWidget<EndpointDetailsPanel>>;
}

function isDocumentWidget(widget: unknown): widget is IDocumentWidget {
  return (
    typeof widget === 'object' &&
    widget !== null &&
    'context' in widget &&
    typeof (widget as IDocumentWidget).context?.path === 'string'
  );
}

function stringArg(args: ReadonlyPartialJSONObject, name: string): string | undefined {
  const value = args[name];
  return typeof value === 'string' && value ? value : undefined;
}

function positiveIntArg(args: ReadonlyPartialJSONObject, name: string): number | null {
  const value = Number(args[name]);
  return Number.isInteger(value) && value > 0 ? value : null;
}

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
      )
  };
}

export function registerCommands(context: ICommandContext): void {
  const { app, service, sidebar, palette, browser, runs, endpoints } = context;
  const { commands, shell } = app;
  const workspaceOf = (args: ReadonlyPartialJSONObject) =>
    stringArg(args, 'workspace') ?? sidebar.workspace ?? 'default';

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

  commands.addCommand(CommandIDs.openRun, {
    label: args =>
      typeof args.runId === 'string' && args.runId
        ? `Open Run ${args.runId.slice(0, 8)}`
        : 'Open Run…',
    caption: 'Open a run’s details (args: runId, workspace, tab)',
    icon: amlIcon,
    describedBy: {
      args: {
        type: 'object',
        properties: {
          runId: { type: 'string', description: 'The run id' },
          workspace: { type: 'string', description: 'Workspace name (default: the sidebar’s)' },
          tab: {
            type: 'string',
            enum: ['overview', 'metrics', 'logs', 'outputs', 'snapshot', 'children']
          }
        }
      }
    },
    execute: async args => {
      let runId = stringArg(args, 'runId');
      if (!runId) {
        const answer = await InputDialog.getText({ title: 'Open Run', label: 'Run ID' });
        runId = answer.button.accept ? (answer.value ?? '').trim() : '';
        if (!runId) {
          return null;
        }
      }
      const workspace = workspaceOf(args);
      const existing = runs.find(
        w => w.content.runId === runId && w.content.workspace === workspace
      );
      if (existing) {
        // A page restored from the saved layout may be tracked but not placed in the shell.
        if (!existing.isAttached) {
          shell.add(existing, 'main');
        }
        const tab = stringArg(args, 'tab');
        if (tab) {
          existing.content.showTab(tab);
        }
        shell.activateById(existing.id);
        return existing;
      }
      const widget = createRunDetails({
        service,
        workspace,
        runId,
        tab: stringArg(args, 'tab'),
        settings: () => sidebar.settings,
        openRun: (ws, id) => void commands.execute(CommandIDs.openRun, { workspace: ws, runId: id })
      });
      void runs.add(widget);
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      return widget;
    }
  });

  commands.addCommand(CommandIDs.openEndpoint, {
    label: args =>
      typeof args.name === 'string' && args.name ? `Open Endpoint ${args.name}` : 'Open Endpoint…',
    caption:
      'Open a web service’s page: overview, keys, test, logs, telemetry (args: name, workspace, tab)',
    icon: amlIcon,
    describedBy: {
      args: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'The web service (endpoint) name' },
          workspace: { type: 'string', description: 'Workspace name (default: the sidebar’s)' },
          tab: { type: 'string', enum: [...ENDPOINT_TABS] }
        }
      }
    },
    execute: async args => {
      let name = stringArg(args, 'name');
      if (!name) {
        const answer = await InputDialog.getText({
          title: 'Open Endpoint',
          label: 'Endpoint name'
        });
        name = answer.button.accept ? (answer.value ?? '').trim() : '';
        if (!name) {
          return null;
        }
      }
      const workspace = workspaceOf(args);
      const tab = stringArg(args, 'tab');
      const existing = endpoints.find(
        w => w.content.name === name && w.content.workspace === workspace
      );
      if (existing) {
        if (!existing.isAttached) {
          shell.add(existing, 'main');
        }
        if (tab) {
          existing.content.showTab(tab);
        }
        shell.activateById(existing.id);
        return existing;
      }
      const widget = createEndpointDetails({
        service,
        workspace,
        name,
        tab,
        actions: runActions(app)
      });
      void endpoints.add(widget);
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      return widget;
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
      let name = stringArg(args, 'name');
      if (!name) {
        const answer = await InputDialog.getText({ title: 'Show Model', label: 'Model name' });
        name = answer.button.accept ? (answer.value ?? '').trim() : '';
        if (!name) {
          return;
        }
      }
      shell.activateById(sidebar.id);
      sidebar.showModel(workspaceOf(args), name, positiveIntArg(args, 'version'));
    }
  });

  commands.addCommand(CommandIDs.compareRuns, {
    label: 'Compare Runs…',
    caption:
      'Overlay metric charts and diff parameters of two or more runs (args: runIds, workspace)',
    icon: amlIcon,
    execute: async args => {
      let runIds = Array.isArray(args.runIds) ? (args.runIds as string[]).filter(Boolean) : [];
      if (runIds.length < 2) {
        const answer = await InputDialog.getText({
          title: 'Compare Runs',
          label: 'Run IDs, separated by commas (or select runs in the AML sidebar)'
        });
        runIds = answer.button.accept
          ? (answer.value ?? '')
              .split(/[\s,]+/)
              .map(s => s.trim())
              .filter(Boolean)
          : [];
        if (runIds.length < 2) {
          return null;
        }
      }
      const widget = createCompare({
        service,
        workspace: workspaceOf(args),
        runIds,
        settings: () => sidebar.settings,
        openRun: (ws, id) => void commands.execute(CommandIDs.openRun, { workspace: ws, runId: id })
      });
      shell.add(widget, 'main');
      shell.activateById(widget.id);
      return widget;
    }
  });

  const submit = async (folder: string, script?: string) => {
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

  if (palette) {
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
      palette.addItem({ command, category: PALETTE_CATEGORY });
    }
  }
}
