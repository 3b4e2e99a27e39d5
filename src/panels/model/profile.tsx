/**
 * A model version's profiles (Model.profile, `aml model profile`): the SDK keeps each finished profile on
 * the profiled versions as the property `profile.<name>` (its get_details() as JSON); this shows the
 * recommendation and the load it came from, or why it failed.
 */
import React from 'react';

import { IModel } from '../../api';

const PREFIX = 'profile.';

interface IProfileDetails {
  state?: string;
  recommendedCpu?: number | null;
  recommendedMemoryInGB?: number | null;
  measuredQueriesPerSecond?: number | null;
  latencyPercentile50InMs?: number | null;
  latencyPercentile99InMs?: number | null;
  concurrency?: number;
  totalQueries?: number;
  errorLogs?: string;
  createdTime?: string;
}

/** The profiles kept on a version, by name (an unreadable property is skipped). */
export function modelProfiles(model: IModel): [string, IProfileDetails][] {
  const out: [string, IProfileDetails][] = [];
  for (const [key, value] of Object.entries(model.properties ?? {})) {
    if (!key.startsWith(PREFIX)) {
      continue;
    }
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === 'object') {
        out.push([key.slice(PREFIX.length), parsed]);
      }
    } catch {
      // not a profile's JSON: shown with the other properties, not here
    }
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

function num(value: number | null | undefined, unit: string): string {
  return value === null || value === undefined ? 'not measured' : `${value}${unit}`;
}

/** One line per profile: the recommended cpu and memory_in_gb, and the load they were measured under. */
export function ProfileResults(props: { model: IModel }): JSX.Element | null {
  const profiles = modelProfiles(props.model);
  if (profiles.length === 0) {
    return null;
  }
  return (
    <>
      <dt>Profile{profiles.length === 1 ? '' : 's'}</dt>
      <dd>
        <ul className="jp-aml-ModelProfiles" aria-label="Profiles">
          {profiles.map(([name, d]) => (
            <li key={name} className="jp-aml-ModelProfile" data-profile={name}>
              <strong>{name}</strong>{' '}
              {d.state === 'Succeeded' ? (
                <>
                  recommended cpu {num(d.recommendedCpu, '')}, memory_in_gb{' '}
                  {num(d.recommendedMemoryInGB, '')}{' '}
                  <span className="jp-aml-Muted">
                    ({num(d.measuredQueriesPerSecond, ' req/s')} at concurrency {d.concurrency ?? '?'},
                    p50 {num(d.latencyPercentile50InMs, ' ms')}, p99{' '}
                    {num(d.latencyPercentile99InMs, ' ms')}, {d.totalQueries ?? 0} requests)
                  </span>
                </>
              ) : (
                <span className="jp-aml-Muted" title={d.errorLogs ?? ''}>
                  {d.state ?? 'unknown'}
                  {d.errorLogs ? `: ${d.errorLogs.split('\n')[0]}` : ''}
                </span>
              )}
            </li>
          ))}
        </ul>
      </dd>
    </>
  );
}
