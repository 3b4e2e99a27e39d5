/** Commands that open a page in the main area: a run, an endpoint, a comparison of runs. */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';

import { amlIcon } from '../icons';
import { createCompare } from '../panels/compare';
import { DetailPanel } from '../panels/detail-panel';
import { createEndpointDetails, ENDPOINT_TABS } from '../panels/endpoint-details';
import { createRunDetails, RUN_TABS } from '../panels/run-details';
import { askText, ICommandContext, stringArg, workspaceArg } from './context';
import { CommandIDs } from './ids';
import { runActions } from './actions';
import { hostsDetailPages, openInLab } from './lab-handoff';

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

/** A command that opens (or brings back) the page of one item: a run, an endpoint. */
interface IOpenPageCommand<T extends DetailPanel<{ workspace: string }>> {
  id: string;
  /** What the page shows, in labels: "Run", "Endpoint". */
  noun: string;
  caption: string;
  /** The argument that names the item, its description, and the prompt's label when it is missing. */
  itemArg: string;
  itemDescription: string;
  itemPrompt: string;
  /** The item's name in the command's label (a run id's first 8 characters). */
  short: (item: string) => string;
  tabs: Readonly<Record<string, string>>;
  tracker: WidgetTracker<MainAreaWidget<T>>;
  /** The item a tracked page shows. */
  itemOf: (panel: T) => string;
  create: (workspace: string, item: string, tab: string | undefined) => MainAreaWidget<T>;
}

function addOpenPage<T extends DetailPanel<{ workspace: string }>>(
  context: ICommandContext,
  spec: IOpenPageCommand<T>
): void {
  const { commands, shell } = context.app;
  commands.addCommand(spec.id, {
    label: args => {
      const item = args[spec.itemArg];
      return typeof item === 'string' && item
        ? `Open ${spec.noun} ${spec.short(item)}`
        : `Open ${spec.noun}…`;
    },
    caption: spec.caption,
    icon: amlIcon,
    describedBy: {
      args: {
        type: 'object',
        properties: {
          [spec.itemArg]: { type: 'string', description: spec.itemDescription },
          workspace: { type: 'string', description: 'Workspace name (default: the sidebar’s)' },
          tab: { type: 'string', enum: Object.keys(spec.tabs) }
        }
      }
    },
    execute: async args => {
      const item =
        stringArg(args, spec.itemArg) ?? (await askText(`Open ${spec.noun}`, spec.itemPrompt));
      if (!item) {
        return null;
      }
      const workspace = workspaceArg(context, args);
      const tab = stringArg(args, 'tab');
      if (!hostsDetailPages(context.app)) {
        return openInLab(spec.id, { [spec.itemArg]: item, workspace, ...(tab ? { tab } : {}) });
      }
      const existing = spec.tracker.find(
        w => spec.itemOf(w.content) === item && w.content.workspace === workspace
      );
      if (existing) {
        return showPage(shell, existing, tab);
      }
      const widget = spec.create(workspace, item, tab);
      void spec.tracker.add(widget);
      return addPage(shell, widget);
    }
  });
}

function addOpenRun(context: ICommandContext): void {
  const { app, service, sidebar } = context;
  const openRun = (workspace: string, runId: string) =>
    void app.commands.execute(CommandIDs.openRun, { workspace, runId });
  addOpenPage(context, {
    id: CommandIDs.openRun,
    noun: 'Run',
    caption: 'Open a run’s details (args: runId, workspace, tab)',
    itemArg: 'runId',
    itemDescription: 'The run id',
    itemPrompt: 'Run ID',
    short: runId => runId.slice(0, 8),
    tabs: RUN_TABS,
    tracker: context.runs,
    itemOf: panel => panel.runId,
    create: (workspace, runId, tab) =>
      createRunDetails({
        service,
        workspace,
        runId,
        tab,
        settings: () => sidebar.settings,
        openRun
      })
  });
}

function addOpenEndpoint(context: ICommandContext): void {
  const { app, service } = context;
  addOpenPage(context, {
    id: CommandIDs.openEndpoint,
    noun: 'Endpoint',
    caption:
      'Open a web service’s page: overview, keys, test, logs, telemetry (args: name, workspace, tab)',
    itemArg: 'name',
    itemDescription: 'The web service (endpoint) name',
    itemPrompt: 'Endpoint name',
    short: name => name,
    tabs: ENDPOINT_TABS,
    tracker: context.endpoints,
    itemOf: panel => panel.name,
    create: (workspace, name, tab) =>
      createEndpointDetails({ service, workspace, name, tab, actions: runActions(app) })
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
      if (!hostsDetailPages(app)) {
        return openInLab(CommandIDs.compareRuns, { runIds, workspace: workspaceArg(context, args) });
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
