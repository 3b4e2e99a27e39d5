/** The "AML" left-sidebar panel: workspace switcher plus one section per asset type. */
import { ReactWidget, refreshIcon, usersIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import React, { useEffect, useId, useRef, useState } from 'react';

import { AMLService, IWorkspace } from '../api';
import { amlIcon } from '../icons';
import { DEFAULT_SETTINGS, IAMLSettings, SIDEBAR_ID } from '../tokens';
import { EmptyState, ErrorView, Loading } from './components';
import { ComputesSection } from './computes';
import { DatasetsSection } from './data/datasets';
import { DatastoresSection } from './data/datastores';
import { EndpointsSection } from './endpoints';
import { EnvironmentsSection } from './environments';
import { ExperimentsSection } from './experiments';
import { useRequest } from './hooks';
import { IMembersActions } from './members/page';
import { IModelFocus, ModelsSection } from './models';
import { PipelinesSection } from './pipeline/section';
import { PLACEHOLDER_SECTIONS, PlaceholderSection } from './placeholders';
import { IAssetActions } from './registry-common';
import { IRunActions } from './runs-table';

/** Everything the sidebar's sections ask their host to do (as commands). */
export type ISidebarActions = IRunActions & IAssetActions & IMembersActions;

export class AMLSidebar extends ReactWidget {
  constructor(options: { service: AMLService; settings?: IAMLSettings; actions: ISidebarActions }) {
    super();
    this._service = options.service;
    this._actions = options.actions;
    this._settings = options.settings ?? DEFAULT_SETTINGS;
    this.id = SIDEBAR_ID;
    this.title.icon = amlIcon;
    this.title.caption = 'AML workspace';
    this.addClass('jp-aml-Sidebar');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'AML workspace');
    this._restartTimer();
  }

  get settings(): IAMLSettings {
    return this._settings;
  }
  set settings(value: IAMLSettings) {
    this._settings = value;
    this._restartTimer();
    this.update();
  }

  /** The workspace shown (null until the list of workspaces loaded). */
  get workspace(): string | null {
    return this._workspace;
  }

  /** Reload everything shown (keeps the current data on screen while loading). */
  refresh(): void {
    this._refreshKey++;
    this.update();
  }

  /** Open the Models section at a model (its latest version unless `version` is given). */
  showModel(workspace: string, name: string, version: number | null = null): void {
    this._modelFocus = { workspace, name, version, n: (this._modelFocus?.n ?? 0) + 1 };
    this.update();
  }

  dispose(): void {
    if (this._timer !== null) {
      window.clearInterval(this._timer);
      this._timer = null;
    }
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Data may be stale after the panel was hidden with auto-refresh paused.
    this.refresh();
  }

  protected render(): JSX.Element {
    return (
      <SidebarView
        service={this._service}
        settings={this._settings}
        refreshKey={this._refreshKey}
        onRefresh={() => this.refresh()}
        actions={this._actions}
        modelFocus={this._modelFocus}
        onWorkspace={this._onWorkspace}
      />
    );
  }

  private _restartTimer(): void {
    if (this._timer !== null) {
      window.clearInterval(this._timer);
      this._timer = null;
    }
    const seconds = this._settings.refreshIntervalSeconds;
    if (seconds > 0) {
      this._timer = window.setInterval(() => {
        // Poll only while someone can see the panel.
        if (this.isVisible && document.visibilityState === 'visible') {
          this.refresh();
        }
      }, seconds * 1000);
    }
  }

  private _service: AMLService;
  private _actions: ISidebarActions;
  private _modelFocus: IModelFocus | null = null;
  /** One function for every render, so the view's effect that reports the workspace runs on change only. */
  private readonly _onWorkspace = (workspace: string | null): void => {
    this._workspace = workspace;
  };
  private _workspace: string | null = null;
  private _settings: IAMLSettings;
  private _refreshKey = 0;
  private _timer: number | null = null;
}

/** Pick the workspace shown first: the current one if it still exists, else `default`, else the first. */
function chooseWorkspace(items: IWorkspace[], current: string | null): string | null {
  if (current && items.some(w => w.name === current)) {
    return current;
  }
  if (items.some(w => w.name === 'default')) {
    return 'default';
  }
  return items.length > 0 ? items[0].name : null;
}

function SidebarView(props: {
  service: AMLService;
  settings: IAMLSettings;
  refreshKey: number;
  onRefresh: () => void;
  actions: ISidebarActions;
  modelFocus: IModelFocus | null;
  onWorkspace: (workspace: string | null) => void;
}): JSX.Element {
  const { service, settings, refreshKey } = props;
  const workspaces = useRequest(() => service.listWorkspaces(), [refreshKey]);
  const [selected, setSelected] = useState<string | null>(null);
  const selectId = useId();

  const items = workspaces.data;
  const workspace = items ? chooseWorkspace(items, selected) : null;
  // Revealing a model of another workspace switches to it (once per request).
  const focus = props.modelFocus;
  const switchedFor = useRef(0);
  useEffect(() => {
    if (!focus || !items || switchedFor.current === focus.n) {
      return;
    }
    switchedFor.current = focus.n;
    if (focus.workspace !== selected && items.some(w => w.name === focus.workspace)) {
      setSelected(focus.workspace);
    }
  }, [focus, items, selected]);
  const { onWorkspace } = props;
  useEffect(() => {
    if (workspace !== selected) {
      setSelected(workspace);
    }
    onWorkspace(workspace);
  }, [workspace, selected, onWorkspace]);

  let body: React.ReactNode;
  if (items === undefined) {
    body = workspaces.error ? (
      <ErrorView error={workspaces.error} onRetry={workspaces.reload} context="Workspaces" />
    ) : (
      <Loading label="Loading workspaces…" />
    );
  } else if (items.length === 0 || workspace === null) {
    body = (
      <>
        {workspaces.error !== undefined && (
          <ErrorView error={workspaces.error} onRetry={workspaces.reload} context="Workspaces" />
        )}
        <EmptyState>
          No workspaces yet. The Python SDK creates one the first time you use it, e.g.{' '}
          <code>Workspace.create(name="default")</code>.
        </EmptyState>
      </>
    );
  } else {
    body = (
      <>
        {workspaces.error !== undefined && (
          <ErrorView error={workspaces.error} onRetry={workspaces.reload} context="Workspaces" />
        )}
        <div className="jp-aml-WorkspaceSwitcher">
          <label htmlFor={selectId}>Workspace</label>
          <select
            id={selectId}
            className="jp-mod-styled"
            value={workspace}
            onChange={e => setSelected(e.target.value)}
          >
            {items.map(w => (
              <option key={w.name} value={w.name} title={w.description ?? undefined}>
                {w.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="jp-aml-IconButton jp-aml-MembersButton"
            aria-label={`Members of workspace ${workspace}`}
            title="Members, roles and activity of this workspace"
            onClick={() => props.actions.openMembers(workspace)}
          >
            <usersIcon.react tag="span" className="jp-aml-IconButton-icon" />
          </button>
        </div>
        {/* Keyed by workspace: switching resets every section's state. */}
        <WorkspaceView
          key={workspace}
          service={service}
          workspace={workspace}
          settings={settings}
          refreshKey={refreshKey}
          actions={props.actions}
          modelFocus={props.modelFocus}
        />
      </>
    );
  }

  return (
    <div className="jp-aml-SidebarView">
      <header className="jp-aml-Header">
        <h2 className="jp-aml-Header-title">AML</h2>
        <button
          type="button"
          className="jp-aml-IconButton"
          aria-label="Refresh AML workspace"
          title="Refresh"
          onClick={props.onRefresh}
        >
          <refreshIcon.react tag="span" className="jp-aml-IconButton-icon" />
        </button>
      </header>
      <div className="jp-aml-Body" aria-busy={workspaces.loading}>
        {body}
      </div>
    </div>
  );
}

function WorkspaceView(props: {
  service: AMLService;
  workspace: string;
  settings: IAMLSettings;
  refreshKey: number;
  actions: ISidebarActions;
  modelFocus: IModelFocus | null;
}): JSX.Element {
  const { service, workspace, settings, refreshKey } = props;
  return (
    <div className="jp-aml-Workspace" data-workspace={workspace}>
      <ExperimentsSection
        service={service}
        workspace={workspace}
        refreshKey={refreshKey}
        defaultExperiment={settings.defaultExperiment}
        pageSize={settings.runsPageSize}
        actions={props.actions}
      />
      <ModelsSection
        service={service}
        workspace={workspace}
        refreshKey={refreshKey}
        actions={props.actions}
        focus={props.modelFocus}
      />
      <EndpointsSection
        service={service}
        workspace={workspace}
        refreshKey={refreshKey}
        actions={props.actions}
      />
      <ComputesSection
        service={service}
        workspace={workspace}
        refreshKey={refreshKey}
        defaultCompute={settings.defaultCompute}
        actions={props.actions}
      />
      <EnvironmentsSection service={service} workspace={workspace} refreshKey={refreshKey} />
      <DatastoresSection service={service} workspace={workspace} refreshKey={refreshKey} />
      <DatasetsSection
        service={service}
        workspace={workspace}
        refreshKey={refreshKey}
        actions={props.actions}
      />
      <PipelinesSection
        service={service}
        workspace={workspace}
        refreshKey={refreshKey}
        actions={props.actions}
      />
      {PLACEHOLDER_SECTIONS.map(section => (
        <PlaceholderSection key={section.id} section={section} />
      ))}
    </div>
  );
}
