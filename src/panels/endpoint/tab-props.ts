import { AMLService } from '../../api';

/** What every tab of an endpoint's page reads: the endpoint, by workspace and name. */
export interface IEndpointTabProps {
  service: AMLService;
  workspace: string;
  name: string;
}

/** A tab that reloads when `reloadKey` changes (after a test request or a web-service event). */
export interface IReloadingTabProps extends IEndpointTabProps {
  reloadKey: number;
}
