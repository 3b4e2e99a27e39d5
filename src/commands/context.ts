/** What every group of commands is registered with, and the helpers they share for their args. */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { AMLService } from '../api';
import { EndpointDetailsPanel } from '../panels/endpoint-details';
import { RunDetailsPanel } from '../panels/run-details';
import { AMLSidebar } from '../panels/sidebar';

export interface ICommandContext {
  app: JupyterFrontEnd;
  service: AMLService;
  sidebar: AMLSidebar;
  palette: ICommandPalette | null;
  browser: IDefaultFileBrowser | null;
  runs: WidgetTracker<MainAreaWidget<RunDetailsPanel>>;
  endpoints: WidgetTracker<MainAreaWidget<EndpointDetailsPanel>>;
}

/** A non-empty string argument, or undefined. */
export function stringArg(args: ReadonlyPartialJSONObject, name: string): string | undefined {
  const value = args[name];
  return typeof value === 'string' && value ? value : undefined;
}

/** A positive integer argument, or null. */
export function positiveIntArg(args: ReadonlyPartialJSONObject, name: string): number | null {
  const value = Number(args[name]);
  return Number.isInteger(value) && value > 0 ? value : null;
}

/** The `workspace` argument, else the sidebar's workspace, else "default". */
export function workspaceArg(context: ICommandContext, args: ReadonlyPartialJSONObject): string {
  return stringArg(args, 'workspace') ?? context.sidebar.workspace ?? 'default';
}

/** Ask for a missing argument; '' when the user cancels or answers nothing. */
export async function askText(title: string, label: string): Promise<string> {
  const answer = await InputDialog.getText({ title, label });
  return answer.button.accept ? (answer.value ?? '').trim() : '';
}
