/**
 * An endpoint's Telemetry tab: requests, errors and latency percentiles, in total and per minute, and its
 * scaling events (autoscaling, hung replicas replaced).
 */
import React, { useMemo, useState } from 'react';

import { ITelemetry } from '../../api';
import { formatNumber } from '../../format';
import { IChartSeries, LineChart } from '../chart';
import { ErrorView, Loading } from '../components';
import { useRequest } from '../hooks';
import { ScalingEvents } from './scaling';
import { IReloadingTabProps } from './tab-props';

const WINDOWS: Array<[number, string]> = [
  [15, 'last 15 minutes'],
  [60, 'last hour'],
  [360, 'last 6 hours'],
  [1440, 'last 24 hours']
];

/**
 * One value per minute of the window. A minute without requests is 0 requests and a null latency:
 * the latency charts are drawn with spanGaps off, so no line joins points across minutes with no
 * traffic (a line through them would suggest latencies nobody measured).
 */
export function perMinute(telemetry: ITelemetry, minutes: number, now: number): IChartSeries[] {
  const last = Math.floor(now / 60000);
  const first = last - minutes + 1;
  const byMinute = new Map(telemetry.points.map(p => [Math.floor(Date.parse(p.t) / 60000), p]));
  const x: number[] = [];
  const requests: number[] = [];
  const errors: number[] = [];
  const p50: Array<number | null> = [];
  const p90: Array<number | null> = [];
  const p99: Array<number | null> = [];
  for (let m = first; m <= last; m++) {
    const p = byMinute.get(m);
    x.push(m * 60);
    requests.push(p ? p.requests : 0);
    errors.push(p ? p.errors_4xx + p.errors_5xx : 0);
    p50.push(p?.latency_ms_p50 ?? null);
    p90.push(p?.latency_ms_p90 ?? null);
    p99.push(p?.latency_ms_p99 ?? null);
  }
  return [
    { label: 'requests', x, y: requests },
    { label: 'errors (4xx + 5xx)', x, y: errors },
    { label: 'p50 ms', x, y: p50 },
    { label: 'p90 ms', x, y: p90 },
    { label: 'p99 ms', x, y: p99 }
  ];
}

function ms(value: number | null | undefined): string {
  return value === null || value === undefined
    ? '—'
    : `${formatNumber(Math.round(value * 10) / 10)} ms`;
}

function TelemetryToolbar(props: {
  minutes: number;
  onMinutes: (minutes: number) => void;
  onRefresh: () => void;
}): JSX.Element {
  return (
    <div className="jp-aml-Toolbar">
      <select
        className="jp-mod-styled jp-aml-Filter"
        aria-label="Telemetry window"
        value={props.minutes}
        onChange={e => props.onMinutes(Number(e.target.value))}
      >
        {WINDOWS.map(([m, label]) => (
          <option key={m} value={m}>
            {label}
          </option>
        ))}
      </select>
      <button type="button" className="jp-mod-styled jp-aml-Button" onClick={props.onRefresh}>
        Refresh
      </button>
    </div>
  );
}

function TelemetryTotals(props: { telemetry: ITelemetry; minutes: number }): JSX.Element {
  const t = props.telemetry;
  const totals: Array<[string, string]> = [
    ['Requests', t.requests.toLocaleString()],
    ['Client errors (4xx)', t.errors_4xx.toLocaleString()],
    ['Server errors (5xx)', t.errors_5xx.toLocaleString()],
    ['Latency p50', ms(t.latency_ms_p50)],
    ['Latency p90', ms(t.latency_ms_p90)],
    ['Latency p99', ms(t.latency_ms_p99)]
  ];
  return (
    <section className="jp-aml-Card" aria-label="Telemetry totals">
      <h3 className="jp-aml-Card-title">
        Totals{' '}
        <span className="jp-aml-Muted">({WINDOWS.find(w => w[0] === props.minutes)?.[1]})</span>
      </h3>
      <table className="jp-aml-Table jp-aml-Totals" aria-label="Telemetry totals">
        <tbody>
          <tr>
            {totals.map(([label]) => (
              <th key={label} scope="col">
                {label}
              </th>
            ))}
          </tr>
          <tr>
            {totals.map(([label, value]) => (
              <td key={label} data-label={label}>
                {value}
              </td>
            ))}
          </tr>
        </tbody>
      </table>
      {t.requests === 0 && (
        <div className="jp-aml-Muted">
          No requests in this window. Send one from the Test tab, or call the scoring URI.
        </div>
      )}
    </section>
  );
}

export function EndpointTelemetry(props: IReloadingTabProps): JSX.Element {
  const { service, workspace, name } = props;
  const [minutes, setMinutes] = useState(60);
  const telemetry = useRequest(async () => {
    const data = await service.getWebserviceTelemetry(workspace, name, minutes);
    return { data, at: Date.now() };
  }, [workspace, name, minutes, props.reloadKey]);

  const series = useMemo(
    () => (telemetry.data ? perMinute(telemetry.data.data, minutes, telemetry.data.at) : null),
    [telemetry.data, minutes]
  );

  const toolbar = (
    <TelemetryToolbar minutes={minutes} onMinutes={setMinutes} onRefresh={telemetry.reload} />
  );
  const error = telemetry.error !== undefined && (
    <ErrorView error={telemetry.error} onRetry={telemetry.reload} context="Telemetry" />
  );
  if (!telemetry.data || !series) {
    return (
      <div className="jp-aml-EndpointTelemetry">
        {toolbar}
        {telemetry.error ? error : <Loading label="Loading telemetry…" />}
      </div>
    );
  }
  const t = telemetry.data.data;
  return (
    <div className="jp-aml-EndpointTelemetry" data-requests={t.requests}>
      {toolbar}
      {error}
      <TelemetryTotals telemetry={t} minutes={minutes} />
      <ScalingEvents events={t.events} />
      <div className="jp-aml-ChartGrid">
        <section className="jp-aml-Card" aria-label="Requests per minute">
          <h3 className="jp-aml-Card-title">Requests per minute</h3>
          <LineChart
            title="requests per minute"
            series={series.slice(0, 2)}
            xMode="time"
            spanGaps={false}
          />
        </section>
        <section className="jp-aml-Card" aria-label="Latency per minute">
          <h3 className="jp-aml-Card-title">Latency (ms)</h3>
          <LineChart title="latency" series={series.slice(2)} xMode="time" spanGaps={false} />
        </section>
      </div>
    </div>
  );
}
