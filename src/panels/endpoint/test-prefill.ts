/**
 * What the endpoint Test tab's body starts as, so the first Send has a chance of answering 200:
 * the deployed model's registered `sample_input`, else the example of the service's swagger
 * document (a scoring script decorated with inference-schema declares one), else the last request
 * that answered 2xx here (remembered per endpoint in localStorage). Never a made-up `{"data": []}`,
 * which no real scoring script accepts: with none of these, the body starts empty and says why.
 */
import { useMemo } from 'react';

import { AMLService, IWebservice } from '../../api';
import { useRequest } from '../hooks';

export type PrefillSource = 'model' | 'swagger' | 'last' | 'none';

export interface IPrefill {
  text: string;
  source: PrefillSource;
  /** Said under the body: where the text came from. */
  label: string;
  loading: boolean;
}

const STORAGE_PREFIX = 'jupyter-aml:endpoint-test:';

function storageKey(workspace: string, name: string): string {
  return `${STORAGE_PREFIX}${workspace}/${name}`;
}

/** The last body that answered 2xx for this endpoint, if this browser remembers one. */
export function lastGoodRequest(workspace: string, name: string): string | null {
  try {
    return window.localStorage.getItem(storageKey(workspace, name));
  } catch {
    return null; // storage disabled: nothing remembered
  }
}

/** Remember `body` as the endpoint's last good request (called after a 2xx answer). */
export function rememberGoodRequest(workspace: string, name: string, body: string): void {
  try {
    window.localStorage.setItem(storageKey(workspace, name), body);
  } catch {
    // storage full or disabled: the next visit starts from the model or swagger example
  }
}

/** `name:version` references of the revision taking traffic, as the web service lists them. */
function parseRefs(refs: string[]): { name: string; version: number }[] {
  return refs
    .map(ref => {
      const at = ref.lastIndexOf(':');
      return { name: ref.slice(0, at), version: Number(ref.slice(at + 1)) };
    })
    .filter(ref => ref.name && Number.isInteger(ref.version));
}

/** The swagger document's input example: ServiceInput's own, or one built from its properties'. */
export function swaggerExample(doc: Record<string, unknown> | undefined): unknown {
  const definitions = (doc?.definitions ?? {}) as Record<string, Record<string, unknown>>;
  const input = definitions.ServiceInput;
  if (!input) {
    return undefined;
  }
  if (input.example !== undefined) {
    return input.example;
  }
  const properties = (input.properties ?? {}) as Record<string, { example?: unknown }>;
  const entries = Object.entries(properties).filter(([, p]) => p.example !== undefined);
  return entries.length ? Object.fromEntries(entries.map(([k, p]) => [k, p.example])) : undefined;
}

/** The first `sample_input` among the deployed models (in the order the service lists them). */
function useModelSample(service: AMLService, workspace: string, svc: IWebservice) {
  const refs = svc.models.join(',');
  return useRequest(async () => {
    for (const ref of parseRefs(svc.models)) {
      const model = await service.getModel(workspace, ref.name, ref.version);
      if (model.sample_input !== undefined && model.sample_input !== null) {
        return { model: `${ref.name}:${ref.version}`, sample: model.sample_input };
      }
    }
    return null;
  }, [workspace, refs]);
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

export function useTestPrefill(
  service: AMLService,
  workspace: string,
  svc: IWebservice,
  /** Bumped after each good request, so "last good request" is read again. */
  goodRequests: number
): IPrefill {
  const model = useModelSample(service, workspace, svc);
  const swagger = useRequest(
    () => service.getWebserviceSwagger(workspace, svc.name),
    [workspace, svc.name, svc.revision]
  );
  return useMemo(() => {
    const loading = model.data === undefined && model.error === undefined;
    if (model.data) {
      return {
        text: asText(model.data.sample),
        source: 'model',
        label: `Prefilled from model ${model.data.model}'s sample_input.`,
        loading
      };
    }
    const example = swaggerExample(swagger.data);
    if (example !== undefined) {
      return {
        text: asText(example),
        source: 'swagger',
        label: "Prefilled from the example of the service's swagger document.",
        loading
      };
    }
    const last = lastGoodRequest(workspace, svc.name);
    if (last !== null) {
      return {
        text: last,
        source: 'last',
        label: 'Prefilled with the last request that answered 2xx here.',
        loading
      };
    }
    return {
      text: '',
      source: 'none',
      label:
        'No example to start from: register the model with sample_input=..., or decorate run() ' +
        'with inference-schema, and the body is prefilled.',
      loading: loading || (swagger.data === undefined && swagger.error === undefined)
    };
    // goodRequests: localStorage is read again after each good request
    // eslint-disable-next-line react-hooks/exhaustive-deps -- goodRequests is a read-again signal
  }, [model.data, model.error, swagger.data, swagger.error, workspace, svc.name, goodRequests]);
}
