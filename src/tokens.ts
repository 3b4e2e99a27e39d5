/** Plugin ids, tokens and shared interfaces: import from here, not from implementation files. */
import { Token } from '@lumino/coreutils';

import type { AMLService } from './api';

/** Extension (npm package) name; also the prefix of every plugin id. */
export const EXTENSION_ID = 'jupyter-aml';

/** Plugin that owns the settings in `schema/plugin.json` and the sidebar. */
export const PLUGIN_ID = `${EXTENSION_ID}:plugin`;

/** Plugin that provides `IAMLService`. */
export const SERVICE_PLUGIN_ID = `${EXTENSION_ID}:service`;

/** DOM id of the left sidebar panel. */
export const SIDEBAR_ID = 'jupyter-aml-sidebar';

/** Settings of `schema/plugin.json`. */
export interface IAMLSettings {
  /** Experiment expanded by default in the sidebar ('' for none). */
  defaultExperiment: string;
  /** Compute target new runs go to; marked as default in the sidebar. */
  defaultCompute: string;
  /** Auto-refresh period of visible panels; 0 turns it off. */
  refreshIntervalSeconds: number;
  /** Runs per page in the sidebar's runs tables. */
  runsPageSize: number;
  /** Points per metric chart asked from the server (it downsamples, keeping minima and maxima). */
  chartMaxPoints: number;
}

export const DEFAULT_SETTINGS: IAMLSettings = {
  defaultExperiment: '',
  defaultCompute: 'local',
  refreshIntervalSeconds: 10,
  runsPageSize: 50,
  chartMaxPoints: 1000
};

/** The shared REST client and push channel, for other plugins. */
export const IAMLService = new Token<AMLService>(
  `${EXTENSION_ID}:IAMLService`,
  'Typed client of the jupyter-aml REST API.'
);
