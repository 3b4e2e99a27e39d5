/**
 * The Lumino side of a detail page (a run's, an endpoint's): the panel that holds the page's
 * options, owns its tab title and can be asked to switch tabs, and the main-area widget around it.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';

import { amlIcon } from '../icons';

/** A tab asked for by a command after the page opened (a new object for every request). */
export interface ITabRequest {
  tab: string;
  n: number;
}

/**
 * The Lumino content of a detail page: it holds the page's options, owns the tab's title (the
 * main-area widget mirrors it), and can be asked to switch tabs after it opened.
 */
export abstract class DetailPanel<O extends { workspace: string }> extends ReactWidget {
  constructor(
    readonly options: O,
    className: string,
    label: string
  ) {
    super();
    this.addClass(className);
    this.title.label = label;
    this.title.icon = amlIcon;
  }

  get workspace(): string {
    return this.options.workspace;
  }

  /** Switch to a tab (one of the page's tab ids). */
  showTab(tab: string): void {
    this.tabRequest = { tab, n: (this.tabRequest?.n ?? 0) + 1 };
    this.update();
  }

  protected tabRequest: ITabRequest | null = null;
}

/**
 * A closable main-area tab around a detail panel, with a stable id (one page per item). Disposing
 * the panel closes the tab.
 */
export function detailWidget<T extends DetailPanel<{ workspace: string }>>(
  content: T,
  options: { id: string; className: string }
): MainAreaWidget<T> {
  const widget = new MainAreaWidget({ content });
  widget.id = options.id.replace(/[^\w-]/g, '_');
  widget.title.closable = true;
  widget.addClass(options.className);
  return widget;
}
