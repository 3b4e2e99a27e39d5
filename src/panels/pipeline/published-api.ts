/**
 * REST calls for the Pipelines section's published pipelines, pipeline endpoints and schedules
 * (jupyter_aml/server/routes/pipeline_endpoints.py). Kept beside their views rather than in the shared
 * api.ts: only this section reads them. The disabled ones are listed too, so a user sees what they disabled.
 */
import type { AMLService } from '../../api';
import type { components } from '../../api-types';

type Schemas = components['schemas'];
export type IPublishedPipeline = Schemas['PublishedPipeline'];
export type IPipelineEndpoint = Schemas['PipelineEndpoint'];
export type IPipelineEndpointVersion = Schemas['PipelineEndpointVersion'];
export type ISchedule = Schemas['Schedule'];
export type IScheduleFire = Schemas['ScheduleFire'];

function base(workspace: string): string {
  return `workspaces/${encodeURIComponent(workspace)}/pipelines`;
}

/** Every published pipeline, Active and Disabled, newest first. */
export async function listPublished(
  service: AMLService,
  workspace: string
): Promise<IPublishedPipeline[]> {
  const page = await service.request<Schemas['PublishedPipelineList']>(
    `${base(workspace)}/published?include_disabled=true`
  );
  return page.items;
}

/** Every pipeline endpoint (its versions and default), by name. */
export async function listEndpoints(
  service: AMLService,
  workspace: string
): Promise<IPipelineEndpoint[]> {
  const page = await service.request<Schemas['PipelineEndpointList']>(
    `${base(workspace)}/endpoints?include_disabled=true`
  );
  return page.items;
}

/** Every schedule, with its next fire time while Active. */
export async function listSchedules(service: AMLService, workspace: string): Promise<ISchedule[]> {
  const page = await service.request<Schemas['ScheduleList']>(
    `${base(workspace)}/schedules?include_disabled=true`
  );
  return page.items;
}

/** A schedule's firings, newest first. */
export async function listScheduleFires(
  service: AMLService,
  workspace: string,
  scheduleId: string
): Promise<IScheduleFire[]> {
  const page = await service.request<Schemas['ScheduleFireList']>(
    `${base(workspace)}/schedules/${encodeURIComponent(scheduleId)}/runs`
  );
  return page.items;
}
