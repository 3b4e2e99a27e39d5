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

export const PLACEHOLDER_SECTIONS: ReadonlyArray<IPlaceholder> = [
  {
    id: 'pipelines',
    title: 'Pipelines',
    empty: (
      <>
        This section does not list pipelines yet. Submit one from Python with{' '}
        <code>exp.submit(Pipeline(ws, steps=[...]))</code>, its steps made with{' '}
        <code>PythonScriptStep(...)</code>: the pipeline run and its steps (as child runs) appear
        under the experiment in Experiments.
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
