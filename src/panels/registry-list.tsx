/**
 * The body of a registry section (Models, Environments): loading, the empty registry, a filter,
 * no match, or the list of names; the last error stays above whatever is shown.
 */
import React from 'react';

import { EmptyState, ErrorView, Loading } from './components';

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
