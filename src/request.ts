/**
 * Low-level HTTP helper for the jupyter-aml REST API (`{base_url}aml/api/v1`).
 *
 * Every call goes through Jupyter's own ServerConnection, so authentication (cookie/XSRF or token)
 * and the base URL are handled the same way as for JupyterLab's own requests.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { components } from './api-types';

/** Path prefix of the REST API, relative to the Jupyter server's base URL. */
export const API_PREFIX = 'aml/api/v1';

/** Every error answer of the REST API (docs/rest-api.md). */
type IErrorResponse = components['schemas']['ErrorResponse'];

/**
 * An error returned (or caused) by a request to the AML REST API.
 *
 * `code` is the server's machine-readable code (`NotFound`, `Conflict`, ...) or one of the client-side
 * codes `NetworkError`, `ApiUnavailable`, `InvalidResponse`.
 */
export class AMLRequestError extends Error {
  constructor(options: {
    code: string;
    message: string;
    hint?: string | null;
    status?: number;
    details?: unknown;
    url?: string;
  }) {
    super(options.message);
    this.name = 'AMLRequestError';
    this.code = options.code;
    this.hint = options.hint ?? null;
    this.status = options.status ?? 0;
    this.details = options.details;
    this.url = options.url ?? '';
  }

  /** Machine-readable error code. */
  readonly code: string;
  /** What the user can do next, if the server (or client) knows. */
  readonly hint: string | null;
  /** HTTP status, 0 when the request never got a response. */
  readonly status: number;
  /** Optional structured details from the server. */
  readonly details: unknown;
  /** The URL that was requested. */
  readonly url: string;
}

function isErrorBody(value: unknown): value is IErrorResponse {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const error = (value as { error?: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

/** Build a query string from a record, skipping undefined/null/'' values; arrays repeat the key. */
export function queryString(
  params: Record<string, string | number | boolean | null | undefined | Array<string | number>>
): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    if (Array.isArray(value)) {
      value.forEach(v => search.append(key, String(v)));
    } else {
      search.append(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The AMLRequestError for a non-2xx response (`data`: its parsed JSON body, if any). */
function responseError(response: Response, data: unknown, url: string): AMLRequestError {
  if (isErrorBody(data)) {
    const { code, message, hint, details } = data.error;
    return new AMLRequestError({
      code: code || `HTTP${response.status}`,
      message,
      hint,
      details,
      status: response.status,
      url
    });
  }
  // No structured error: most likely the server extension is not installed or not enabled
  // (Jupyter answers 404 with an HTML page), or a proxy in between failed.
  if (response.status === 404) {
    return new AMLRequestError({
      code: 'ApiUnavailable',
      message: `The AML REST API was not found at ${url} (HTTP 404).`,
      hint:
        'Is the jupyter_aml server extension installed and enabled? ' +
        'Check with `jupyter server extension list`, then restart JupyterLab.',
      status: 404,
      url
    });
  }
  return new AMLRequestError({
    code: `HTTP${response.status}`,
    message: `The server answered ${response.status} ${response.statusText || ''}`.trim() + '.',
    hint:
      response.status >= 500
        ? 'See the Jupyter server log for details.'
        : response.status === 401 || response.status === 403
          ? 'Your Jupyter session may have expired: reload the page and log in again.'
          : null,
    status: response.status,
    url
  });
}

async function fetchAPI(
  url: string,
  init: RequestInit,
  settings: ServerConnection.ISettings
): Promise<Response> {
  try {
    return await ServerConnection.makeRequest(url, init, settings);
  } catch (reason) {
    throw new AMLRequestError({
      code: 'NetworkError',
      message: `Could not reach the Jupyter server: ${
        reason instanceof Error ? reason.message : String(reason)
      }`,
      hint: 'Check that JupyterLab is still running and that your network connection works.',
      url
    });
  }
}

/**
 * Download raw bytes from the AML REST API (run files, blobs, snapshot zips), with the same
 * authentication and errors as `requestAPI`.
 */
export async function requestBlob(
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Blob> {
  const url = URLExt.join(settings.baseUrl, API_PREFIX, path);
  const response = await fetchAPI(url, {}, settings);
  if (!response.ok) {
    let data: unknown = undefined;
    try {
      data = JSON.parse(await response.text());
    } catch {
      // not JSON
    }
    throw responseError(response, data, url);
  }
  return response.blob();
}

/**
 * Call the AML REST API.
 *
 * @param path - path below `aml/api/v1`, e.g. `workspaces` or `workspaces/ws/runs?experiment=x`.
 *   Callers must URL-encode path segments (see `api.ts`).
 * @param init - fetch options; a JSON `body` string gets a JSON content type.
 * @param settings - server settings; defaults to `ServerConnection.makeSettings()`.
 * @returns the parsed JSON body (or `undefined` for an empty body).
 * @throws AMLRequestError on network failure or a non-2xx response.
 */
export async function requestAPI<T>(
  path = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_PREFIX, path);
  if (typeof init.body === 'string') {
    const headers = new Headers(init.headers);
    if (!headers.has('Content-Type')) {
      headers.set('Content-Type', 'application/json');
    }
    init = { ...init, headers };
  }

  const response = await fetchAPI(url, init, settings);

  const text = await response.text();
  let data: unknown = undefined;
  let parsed = true;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      parsed = false;
    }
  }

  if (!response.ok) {
    throw responseError(response, parsed ? data : undefined, url);
  }

  if (!parsed) {
    throw new AMLRequestError({
      code: 'InvalidResponse',
      message: `The server sent a response that is not JSON (${url}).`,
      hint: 'See the Jupyter server log for details.',
      status: response.status,
      url
    });
  }
  return data as T;
}
