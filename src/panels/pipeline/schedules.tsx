/**
 * The Pipelines section's Schedules tab: each schedule's status, what it submits (a published pipeline,
 * or a pipeline endpoint's default version at each fire), when it fires next (a recurrence's next tick, or
 * a datastore schedule's next poll) and its last firing, with the run it started or why it could not.
 */
import React from 'react';

import { AMLService } from '../../api';
import { formatDateTime, formatDateTimeLong } from '../../format';
import { EmptyState, ErrorView, Loading, RunLink, StatusBadge } from '../components';
import { useRequest } from '../hooks';
import {
  ISchedule,
  listEndpoints,
  listPublished,
  listScheduleFires,
  listSchedules
} from './published-api';

interface IScheduleData {
  schedules: ISchedule[];
  /** Published pipeline and pipeline endpoint names by id, to name a schedule's target. */
  names: Map<string, string>;
}

async function loadSchedules(service: AMLService, workspace: string): Promise<IScheduleData> {
  const [schedules, published, endpoints] = await Promise.all([
    listSchedules(service, workspace),
    listPublished(service, workspace),
    listEndpoints(service, workspace)
  ]);
  const names = new Map<string, string>();
  published.forEach(p => names.set(p.id, p.version ? `${p.name} v${p.version}` : p.name));
  endpoints.forEach(e => names.set(e.id, e.name));
  return { schedules, names };
}

/** "pipeline nightly v1.0" / "endpoint scoring (default version)". */
export function targetText(schedule: ISchedule, names: Map<string, string>): string {
  if (schedule.pipeline_endpoint_id) {
    const name = names.get(schedule.pipeline_endpoint_id) ?? schedule.pipeline_endpoint_id;
    return `endpoint ${name} (default version)`;
  }
  const id = schedule.pipeline_id ?? '';
  return `pipeline ${names.get(id) ?? id}`;
}

/** How it fires: the cron its recurrence became, or the datastore path it polls. */
function triggerText(schedule: ISchedule): string {
  if (schedule.recurrence) {
    const { frequency, interval } = schedule.recurrence;
    return `every ${interval} ${frequency.toLowerCase()}${interval === 1 ? '' : 's'}`;
  }
  return `on changes in ${schedule.datastore_name ?? ''}/${schedule.path_on_datastore ?? ''}`;
}

function LastRun(props: {
  service: AMLService;
  workspace: string;
  schedule: ISchedule;
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  const { service, workspace, schedule } = props;
  const fires = useRequest(
    () => listScheduleFires(service, workspace, schedule.id),
    [workspace, schedule.id, schedule.last_fire_at]
  );
  if (!schedule.last_fire_at) {
    return <span className="jp-aml-ScheduleLast">never fired</span>;
  }
  const last = fires.data?.[0];
  return (
    <span className="jp-aml-ScheduleLast" title={formatDateTimeLong(schedule.last_fire_at)}>
      last fired {formatDateTime(schedule.last_fire_at)}
      {last?.run_id && (
        <>
          {': '}
          <RunLink
            name={`${schedule.experiment_name} run`}
            runId={last.run_id}
            onOpenRun={props.onOpenRun}
          />
        </>
      )}
      {last?.error && <span className="jp-aml-ScheduleError">: {last.error}</span>}
    </span>
  );
}

export function SchedulesList(props: {
  service: AMLService;
  workspace: string;
  refreshKey: number;
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  const { service, workspace, refreshKey } = props;
  const found = useRequest(() => loadSchedules(service, workspace), [workspace, refreshKey]);
  const error = found.error !== undefined && (
    <ErrorView error={found.error} onRetry={found.reload} context="Schedules" />
  );
  if (found.data === undefined) {
    return <>{error || <Loading label="Loading schedules…" />}</>;
  }
  const { schedules, names } = found.data;
  if (schedules.length === 0) {
    return (
      <>
        {error}
        <EmptyState>
          No schedules. Make one with{' '}
          <code>Schedule.create(ws, name, pipeline_id, experiment_name, recurrence=...)</code>: it
          is listed here with its next fire time.
        </EmptyState>
      </>
    );
  }
  return (
    <>
      {error}
      <ul className="jp-aml-List" aria-label="Schedules">
        {schedules.map(s => (
          <li
            key={s.id}
            className="jp-aml-ListItem jp-aml-Schedule"
            data-schedule-id={s.id}
            data-status={s.status}
            data-next-fire={s.next_fire_at ?? ''}
            aria-label={`Schedule ${s.name}`}
          >
            <div className="jp-aml-PipelineRun-head">
              <span className="jp-aml-PipelinePublished-name" title={s.description || s.name}>
                {s.name}
              </span>
              <StatusBadge status={s.status} />
            </div>
            <div className="jp-aml-ListItem-meta jp-aml-Schedule-target">
              {targetText(s, names)} → {s.experiment_name}
            </div>
            <div className="jp-aml-ListItem-meta">
              <span title={s.cron ? `cron: ${s.cron}` : undefined}>{triggerText(s)}</span>
              {' · '}
              <span className="jp-aml-ScheduleNext" title={formatDateTimeLong(s.next_fire_at)}>
                {s.next_fire_at ? `next ${formatDateTime(s.next_fire_at)}` : 'no next fire'}
              </span>
            </div>
            <div className="jp-aml-ListItem-meta">
              <LastRun
                service={service}
                workspace={workspace}
                schedule={s}
                onOpenRun={props.onOpenRun}
              />
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}
