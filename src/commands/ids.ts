/** Command ids: the names other extensions, key bindings and tests use. */

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
  export const openMembers = 'aml:open-members';
}

/** Palette category of every AML command. */
export const PALETTE_CATEGORY = 'AML';
