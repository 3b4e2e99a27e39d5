/**
 * Sections whose REST routes do not exist yet. They say so honestly (an empty state that tells the
 * user how the SDK creates such an item) and never show made-up data. When a backend lands, replace
 * the entry here with a real section like `computes.tsx`.
 */
import React from 'react';

import { EmptyState, Section } from './components';

interface IPlaceholder {
  id: string;
  title: string;
  empty: React.ReactNode;
}

export const PLACEHOLDER_SECTIONS: ReadonlyArray<IPlaceholder> = [
  {
    id: 'pipelines',
    title: 'Pipelines',
    empty: (
      <>
        No pipelines yet. Submit one with <code>exp.submit(Pipeline(ws, steps=[...]))</code>.
      </>
    )
  }
];

export function PlaceholderSection(props: { section: IPlaceholder }): JSX.Element {
  return (
    <Section id={props.section.id} title={props.section.title}>
      <EmptyState>{props.section.empty}</EmptyState>
    </Section>
  );
}
