/**
 * An endpoint's scaling events: replicas added or removed by the autoscaler, and hung replicas the guard
 * replaced (the Telemetry tab shows them under the totals). The service keeps them while it runs; the
 * service log keeps them for good.
 */
import React from 'react';

import { ITelemetry } from '../../api';
import { formatDateTime } from '../../format';

type IScalingEvent = NonNullable<ITelemetry['events']>[number];

const KIND_LABEL: Record<IScalingEvent['kind'], string> = {
  scale_up: 'Scaled up',
  scale_down: 'Scaled down',
  replaced: 'Replica replaced'
};

export function ScalingEvents(props: { events: IScalingEvent[] | undefined }): JSX.Element {
  const events = [...(props.events ?? [])].reverse(); // newest first
  return (
    <section className="jp-aml-Card jp-aml-ScalingEvents" aria-label="Scaling">
      <h3 className="jp-aml-Card-title">
        Scaling <span className="jp-aml-Muted">({events.length} events)</span>
      </h3>
      {events.length === 0 ? (
        <div className="jp-aml-Muted">
          No scaling events. An autoscaled service (AksWebservice with autoscale_enabled) adds and
          removes replicas here as its load changes; a replica whose run() hangs is replaced here.
        </div>
      ) : (
        <table className="jp-aml-Table" aria-label="Scaling events">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Replicas</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e, i) => (
              <tr key={`${e.t}-${i}`} data-kind={e.kind}>
                <td title={e.t}>{formatDateTime(e.t)}</td>
                <td>{KIND_LABEL[e.kind]}</td>
                <td>
                  {e.from_replicas} → {e.to_replicas}
                </td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
