/**
 * Sections whose REST routes do not exist yet. They say so honestly (an empty state that tells the
 * user what they can do today, naming only calls that exist: tests/docs/test_empty_state_snippets.py
 * checks each snippet) and never show made-up data. When a backend lands, replace
 * the entry here with a real section like `computes.tsx`.
 */
import React from 'react';

import { EmptyState, Section } from './components';

interface IPlaceholder {
  id: string;
  title: string;
  empty: React.ReactNode;
}

/** None today: Pipelines became a real section (./pipeline/section.tsx). */
export const PLACEHOLDER_SECTIONS: ReadonlyArray<IPlaceholder> = [];

export function PlaceholderSection(props: { section: IPlaceholder }): JSX.Element {
  return (
    <Section id={props.section.id} title={props.section.title}>
      <EmptyState>{props.section.empty}</EmptyState>
    </Section>
  );
}
