/**
 * Detail pages in Notebook 7. Its shell has one main widget per page (a notebook, or the file
 * browser on /tree), so a run, endpoint or comparison page cannot sit beside it. As Notebook 7
 * opens documents in new browser tabs, such a page opens in JupyterLab (`/lab`) in a new tab:
 * the URL carries the command, and the JupyterLab side runs it once the layout is restored.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { CommandIDs } from './ids';

const COMMAND_PARAM = 'aml-command';
const ARGS_PARAM = 'aml-args';

/** The commands a URL may ask for: the page openers, nothing that changes data. */
const HANDOFF_COMMANDS: ReadonlySet<string> = new Set([
  CommandIDs.openRun,
  CommandIDs.openEndpoint,
  CommandIDs.compareRuns
]);

/** Whether the shell can hold a detail page next to what it shows (JupyterLab's can). */
export function hostsDetailPages(app: JupyterFrontEnd): boolean {
  return app.name === 'JupyterLab';
}

/** The `/lab` URL that opens `command` with `args` (what a Notebook 7 page opens in a new tab). */
export function labHandoffUrl(command: string, args: ReadonlyPartialJSONObject): string {
  const query = URLExt.objectToQueryString({
    [COMMAND_PARAM]: command,
    [ARGS_PARAM]: JSON.stringify(args)
  });
  return URLExt.join(PageConfig.getBaseUrl(), 'lab') + query;
}

/** Open the page in JupyterLab, in a new browser tab. */
export function openInLab(command: string, args: ReadonlyPartialJSONObject): null {
  window.open(labHandoffUrl(command, args), '_blank');
  return null;
}

/**
 * In JupyterLab: run the page command a Notebook 7 tab asked for in the URL, then drop the
 * parameters so a reload does not open the page again.
 */
export function runLabHandoff(app: JupyterFrontEnd): void {
  if (!hostsDetailPages(app)) {
    return;
  }
  const url = new URL(window.location.href);
  const command = url.searchParams.get(COMMAND_PARAM);
  if (!command || !HANDOFF_COMMANDS.has(command)) {
    return;
  }
  let args: ReadonlyPartialJSONObject = {};
  try {
    const parsed: unknown = JSON.parse(url.searchParams.get(ARGS_PARAM) ?? '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      args = parsed as ReadonlyPartialJSONObject;
    }
  } catch (error) {
    console.warn(`AML: ignoring the unreadable ${ARGS_PARAM} in the URL`, error);
  }
  url.searchParams.delete(COMMAND_PARAM);
  url.searchParams.delete(ARGS_PARAM);
  window.history.replaceState(window.history.state, '', url.toString());
  void app.restored.then(() => app.commands.execute(command, args));
}
