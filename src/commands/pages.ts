/** Commands that open a page in the main area: a run, an endpoint, a comparison of runs. */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';

import { amlIcon } from '../icons';
import { createCompare } from '../panels/compare';
import { DetailPanel } from '../panels/detail-panel';
import { createEndpointDetails, ENDPOINT_TABS } from '../panels/endpoint-details';
import { createRunDetails, RUN_TABS } from '../panels/run-details';
import { askText, ICommandContext, stringArg, workspaceArg } from './context';
import { CommandIDs } from './ids';
import { runActions } from './actions';

/** Bring an open page to the front, on the tab asked for. */
function showPage<T extends DetailPanel<{ workspace: string }>>(
  shell: JupyterFrontEnd.IShell,
  page: MainAreaWidget<T>,
  tab: string | undefined
): MainAreaWidget<T> {
  // A page restored from the saved layout may be tracked but not placed in the shell.
  if (!page.isAttached) {
    shell.add(page, 'main');
  }
  if (tab) {
    page.content.showTab(tab);
  }
  shell.activateById(page.id);
  return page;
}

/** Place a new page in the main area and bring it to the front. */
function addPage<T extends MainAreaWidget>(shell: JupyterFrontEnd.IShell, page: T): T {
  shell.add(page, 'main');
  shell.activateById(page.id);
  return page;
}

function addOpenRun(context: ICommandContext): void {
  const { app, service, sidebar, runs } = context;
  const { commands, shell } = app;
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
          tab: { type: 'string', enum: Object.keys(RUN_TABS) }
        }
      }
    },
    execute: async args => {
      const runId = stringArg(args, 'runId') ?? (await askText('Open Run', 'Run ID'));
      if (!runId) {
        return null;
      }
      const workspace = workspaceArg(context, args);
      const tab = stringArg(args, 'tab');
      const existing = runs.find(
        w => w.content.runId === runId && w.content.workspace === workspace
      );
      if (existing) {
        return showPage(shell, existing, tab);
      }
      const widget = createRunDetails({
        service,
        workspace,
        runId,
        tab,
        settings: () => sidebar.settings,
        openRun: (ws, id) => void commands.execute(CommandIDs.openRun, { workspace: ws, runId: id })
      });
      void runs.add(widget);
      return addPage(shell, widget);
    }
  });
}

function addOpenEndpoint(context: ICommandContext): void {
  const { app, service, endpoints } = context;
  const { commands, shell } = app;
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
          tab: { type: 'string', enum: Object.keys(ENDPOINT_TABS) }
        }
      }
    },
    execute: async args => {
      const name = stringArg(args, 'name') ?? (await askText('Open Endpoint', 'Endpoint name'));
      if (!name) {
        return null;
      }
      const workspace = workspaceArg(context, args);
      const tab = stringArg(args, 'tab');
      const existing = endpoints.find(
        w => w.content.name === name && w.content.workspace === workspace
      );
      if (existing) {
        return showPage(shell, existing, tab);
      }
      const widget = createEndpointDetails({
        service,
        workspace,
        name,
        tab,
        actions: runActions(app)
      });
      void endpoints.add(widget);
      return addPage(shell, widget);
    }
  });
}

function addCompareRuns(context: ICommandContext): void {
  const { app, service, sidebar } = context;
  const { commands, shell } = app;
  commands.addCommand(CommandIDs.compareRuns, {
    label: 'Compare Runs…',
    caption:
      'Overlay metric charts and diff parameters of two or more runs (args: runIds, workspace)',
    icon: amlIcon,
    execute: async args => {
      let runIds = Array.isArray(args.runIds) ? (args.runIds as string[]).filter(Boolean) : [];
      if (runIds.length < 2) {
        const answer = await askText(
          'Compare Runs',
          'Run IDs, separated by commas (or select runs in the AML sidebar)'
        );
        runIds = answer
          .split(/[\s,]+/)
          .map(s => s.trim())
          .filter(Boolean);
        if (runIds.length < 2) {
          return null;
        }
      }
      const widget = createCompare({
        service,
        workspace: workspaceArg(context, args),
        runIds,
        settings: () => sidebar.settings,
        openRun: (ws, id) => void commands.execute(CommandIDs.openRun, { workspace: ws, runId: id })
      });
      return addPage(shell, widget);
    }
  });
}

export function addPageCommands(context: ICommandContext): void {
  addOpenRun(context);
  addOpenEndpoint(context);
  addCompareRuns(context);
}
