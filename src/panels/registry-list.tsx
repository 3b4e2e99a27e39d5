/**
 * What the registry sections (Models, Environments) share: their body (loading, the empty
 * registry, a filter, no match, or the list of names, with the last error above whatever is
 * shown) and one name's item that expands to its versions.
 */
import React from 'react';

import { formatDateTime, formatDateTimeLong } from '../format';

import { EmptyState, ErrorView, Loading } from './components';
import { VersionGroupToggle } from './registry-common';

export function RegistryList(props: {
  /** The section's list as loaded: `data` stays undefined until the first answer. */
  loaded: { data: unknown; error: unknown; reload: () => void };
  /** The section's name, e.g. "Models": the error's context and the list's accessible name. */
  title: string;
  loadingLabel: string;
  /** How many names the registry holds (0: `empty` is shown instead of the filter). */
  count: number;
  empty: React.ReactNode;
  filter: string;
  onFilter: (text: string) => void;
  filterPlaceholder: string;
  filterLabel: string;
  /** E.g. "model", in "No model matches …". */
  noun: string;
  /** The names that match the filter. */
  children: React.ReactNode[];
}): JSX.Element {
  const { loaded, title } = props;
  const listError = loaded.error !== undefined && (
    <ErrorView error={loaded.error} onRetry={loaded.reload} context={title} />
  );
  if (loaded.data === undefined) {
    return loaded.error ? <>{listError}</> : <Loading label={props.loadingLabel} />;
  }
  if (props.count === 0) {
    return (
      <>
        {listError}
        <EmptyState>{props.empty}</EmptyState>
      </>
    );
  }
  return (
    <>
      {listError}
      <div className="jp-aml-Filters jp-aml-Models-filters">
        <input
          className="jp-mod-styled jp-aml-Filter"
          type="search"
          placeholder={props.filterPlaceholder}
          aria-label={props.filterLabel}
          value={props.filter}
          onChange={e => props.onFilter(e.target.value)}
        />
      </div>
      {props.children.length === 0 ? (
        <EmptyState>
          No {props.noun} matches “{props.filter.trim()}”.
        </EmptyState>
      ) : (
        <ul className="jp-aml-List" aria-label={title}>
          {props.children}
        </ul>
      )}
    </>
  );
}

/**
 * One name of a registry section: its header (latest version, version count, a badge such as
 * "deployed"), expanding to its versions.
 */
export function VersionGroupItem(props: {
  kind: 'Model' | 'Environment';
  name: string;
  latestVersion: number;
  count: number;
  expanded: boolean;
  onToggle: () => void;
  /** A tag after the name, with its explanation, or null. */
  badge: { text: string; title: string } | null;
  /** A line above the versions (e.g. how many match the filter). */
  note?: React.ReactNode;
  /** The versions shown, newest first. */
  children: React.ReactNode;
}): JSX.Element {
  const { kind, name, badge } = props;
  const lower = kind.toLowerCase();
  return (
    <li className={`jp-aml-ListItem jp-aml-${kind}`} {...{ [`data-${lower}`]: name }}>
      <VersionGroupToggle
        kind={kind}
        name={name}
        latestVersion={props.latestVersion}
        count={props.count}
        expanded={props.expanded}
        onToggle={props.onToggle}
        badge={
          badge && (
            <span className="jp-aml-Tag" title={badge.title}>
              {badge.text}
            </span>
          )
        }
      />
      {props.expanded && (
        <div className="jp-aml-ModelVersions">
          {props.note}
          <ul className="jp-aml-List" aria-label={`Versions of ${lower} ${name}`}>
            {props.children}
          </ul>
        </div>
      )}
    </li>
  );
}

/** The first line of a version: its number, whether it is the latest, when it was registered. */
export function VersionHead(props: {
  version: number;
  latest: boolean;
  createdAt: string;
  /** More about the version on the same line (e.g. a model's framework). */
  children?: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-aml-ModelVersion-head">
      <span className="jp-aml-ModelVersion-number">v{props.version}</span>
      {props.latest && <span className="jp-aml-Tag">latest</span>}
      <span className="jp-aml-Muted" title={formatDateTimeLong(props.createdAt)}>
        {formatDateTime(props.createdAt)}
      </span>
      {props.children}
    </div>
  );
}
