/**
 * A run page's Datasets tab (lineage, run -> datasets): the dataset versions the run read, with the
 * name its script knows them by and how they reached it (mount, download, direct), and the versions
 * it wrote and registered (`OutputFileDatasetConfig(...).register_on_complete(name)`). The tab exists
 * only for a run that has lineage: a run without datasets shows no empty tab.
 */
import React from 'react';

import type { AMLService, ILineageEntry } from '../../api';
import { ErrorView } from '../components';
import { useRequest } from '../hooks';

const MODES: Record<string, string> = {
  mount: 'mount (as_mount)',
  download: 'download (as_download)',
  direct: 'direct (the dataset object)'
};

function DatasetRef(props: { entry: ILineageEntry }): JSX.Element {
  const { entry } = props;
  return (
    <code title={entry.dataset_id}>
      {entry.dataset_name}:{entry.dataset_version}
    </code>
  );
}

export function RunDatasets(props: {
  service: AMLService;
  workspace: string;
  runId: string;
  lineage: ILineageEntry[];
}): JSX.Element {
  const { service, workspace, runId, lineage } = props;
  const inputs = lineage.filter(e => e.direction === 'input');
  const outputs = lineage.filter(e => e.direction === 'output');
  // Only the inputs route knows the mode; it is read only when the run has inputs.
  const details = useRequest(
    () => (inputs.length ? service.getRunInputs(workspace, runId) : Promise.resolve([])),
    [service, workspace, runId, inputs.length]
  );
  const modeOf = (name: string): string => {
    const input = details.data?.find(i => i.name === name);
    return input ? (MODES[input.mode] ?? input.mode) : details.data ? '—' : '…';
  };
  return (
    <div className="jp-aml-Overview jp-aml-RunDatasets">
      {inputs.length > 0 && (
        <section aria-label="Input datasets" className="jp-aml-Card">
          <h3 className="jp-aml-Card-title">Inputs</h3>
          {details.error !== undefined && (
            <ErrorView error={details.error} onRetry={details.reload} context="Inputs" />
          )}
          <div className="jp-aml-TableScroll">
            <table
              className="jp-aml-Table jp-aml-DataTable jp-aml-LineageTable"
              aria-label="Inputs of the run"
            >
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Dataset</th>
                  <th scope="col">Mode</th>
                </tr>
              </thead>
              <tbody>
                {inputs.map(e => (
                  <tr key={e.name}>
                    <td>
                      <code>{e.name}</code>
                    </td>
                    <td>
                      <DatasetRef entry={e} />
                    </td>
                    <td>{modeOf(e.name)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {outputs.length > 0 && (
        <section aria-label="Output datasets" className="jp-aml-Card">
          <h3 className="jp-aml-Card-title">Outputs</h3>
          <div className="jp-aml-TableScroll">
            <table
              className="jp-aml-Table jp-aml-DataTable jp-aml-LineageTable"
              aria-label="Outputs of the run"
            >
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Registered as</th>
                </tr>
              </thead>
              <tbody>
                {outputs.map(e => (
                  <tr key={e.name}>
                    <td>
                      <code>{e.name}</code>
                    </td>
                    <td>
                      <DatasetRef entry={e} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}
