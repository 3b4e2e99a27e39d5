/**
 * An endpoint's Test tab: a request body (the swagger document's example to start from), sent
 * through the Jupyter server, which forwards it with the service's key; then the response's status,
 * timing and body.
 */
import React, { useId, useMemo, useState } from 'react';

import { AMLService, IEndpointTestResult, IWebservice } from '../../api';
import { formatNumber } from '../../format';
import { ErrorView } from '../components';
import { useRequest } from '../hooks';

type KeyChoice = 'primary' | 'secondary';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout'
};

/** The text pretty-printed when it is JSON, else as is. */
export function prettyBody(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Why the text is not JSON, or '' when it is. */
export function jsonProblem(text: string): string {
  try {
    JSON.parse(text);
    return '';
  } catch (reason) {
    return reason instanceof Error ? reason.message : String(reason);
  }
}

/** The example input of the service's swagger document (a model's sample_input), if it has one. */
function useSwaggerExample(
  service: AMLService,
  workspace: string,
  svc: IWebservice
): string | null {
  const swagger = useRequest(
    () => service.getWebserviceSwagger(workspace, svc.name),
    [workspace, svc.name, svc.revision]
  );
  return useMemo(() => {
    const definitions = (swagger.data?.definitions ?? {}) as Record<string, { example?: unknown }>;
    const value = definitions.ServiceInput?.example;
    return value === undefined ? null : JSON.stringify(value, null, 2);
  }, [swagger.data]);
}

function KeySelect(props: { value: KeyChoice; onChange: (key: KeyChoice) => void }): JSX.Element {
  return (
    <label className="jp-aml-Check">
      Key
      <select
        className="jp-mod-styled jp-aml-Filter"
        value={props.value}
        onChange={e => props.onChange(e.target.value as KeyChoice)}
      >
        <option value="primary">primary</option>
        <option value="secondary">secondary</option>
      </select>
    </label>
  );
}

function RequestEditor(props: {
  svc: IWebservice;
  text: string;
  onText: (text: string) => void;
  keyChoice: KeyChoice;
  onKey: (key: KeyChoice) => void;
  sending: boolean;
  onSend: () => void;
}): JSX.Element {
  const { svc, text } = props;
  const ids = useId();
  const problem = text.trim() ? jsonProblem(text) : 'the body is empty';
  return (
    <section className="jp-aml-Card" aria-label="Test request">
      <h3 className="jp-aml-Card-title">Request</h3>
      <p className="jp-aml-Muted">
        Sent as <code>POST {svc.scoring_uri ?? '/score'}</code> by the Jupyter server, with the
        endpoint's {svc.auth_enabled ? 'key' : 'settings (authentication is off)'}: the same request
        a client makes, counted in the telemetry.
      </p>
      <label htmlFor={`${ids}-body`} className="jp-aml-Form-label">
        Request body (JSON)
      </label>
      <textarea
        id={`${ids}-body`}
        className="jp-mod-styled jp-aml-Form-textarea jp-aml-TestBody"
        rows={8}
        spellCheck={false}
        value={text}
        onChange={e => props.onText(e.target.value)}
        onKeyDown={e => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            props.onSend();
          }
        }}
      />
      {problem && (
        <div className="jp-aml-Muted jp-aml-TestBody-problem">
          Not valid JSON ({problem}): it is sent as is, and the endpoint will likely answer 400.
        </div>
      )}
      <div className="jp-aml-Toolbar jp-aml-TestActions">
        <button
          type="button"
          className="jp-mod-styled jp-mod-accept jp-aml-Button"
          disabled={props.sending || !svc.scoring_uri}
          onClick={props.onSend}
          title="Send the request (Ctrl+Enter)"
        >
          {props.sending ? 'Sending…' : 'Send request'}
        </button>
        {!problem && (
          <button
            type="button"
            className="jp-mod-styled jp-aml-Button"
            onClick={() => props.onText(prettyBody(text))}
          >
            Format JSON
          </button>
        )}
        {svc.auth_enabled && <KeySelect value={props.keyChoice} onChange={props.onKey} />}
        {!svc.scoring_uri && (
          <span className="jp-aml-Muted">The endpoint is not listening yet.</span>
        )}
      </div>
    </section>
  );
}

function TestResponse(props: { result: IEndpointTestResult }): JSX.Element {
  const { result } = props;
  const ok = result.status >= 200 && result.status < 300;
  return (
    <section
      className="jp-aml-Card jp-aml-TestResult"
      aria-label="Test response"
      data-status={result.status}
    >
      <h3 className="jp-aml-Card-title">Response</h3>
      <div className="jp-aml-TestResult-status" role="status">
        <span className={`jp-aml-HttpStatus ${ok ? 'jp-mod-ok' : 'jp-mod-error'}`}>
          HTTP {result.status} {STATUS_TEXT[result.status] ?? ''}
        </span>
        <span className="jp-aml-Muted">
          {formatNumber(result.elapsed_ms)} ms
          {result.request_id ? ` · request id ${result.request_id}` : ''}
        </span>
      </div>
      {result.error && <div className="jp-aml-Error-hint">{result.error}</div>}
      {result.truncated && (
        <div className="jp-aml-Muted">
          The response was longer than 1 MB: only its start is shown.
        </div>
      )}
      <pre className="jp-aml-Pre jp-aml-TestResult-body" aria-label="Response body">
        {prettyBody(result.body) || '(empty body)'}
      </pre>
    </section>
  );
}

export function EndpointTest(props: {
  service: AMLService;
  workspace: string;
  svc: IWebservice;
  onSent: () => void;
}): JSX.Element {
  const { service, workspace, svc } = props;
  const [body, setBody] = useState<string | null>(null);
  const [key, setKey] = useState<KeyChoice>('primary');
  const [sending, setSending] = useState(false);
  const [result, setResult] = useState<IEndpointTestResult | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const example = useSwaggerExample(service, workspace, svc);
  const text = body ?? example ?? '{\n  "data": []\n}';

  const send = async () => {
    setSending(true);
    setError(undefined);
    try {
      setResult(await service.testWebservice(workspace, svc.name, text, key));
      props.onSent();
    } catch (reason) {
      setResult(null);
      setError(reason);
    } finally {
      setSending(false);
    }
  };

  return (
    <div className="jp-aml-EndpointTest">
      <RequestEditor
        svc={svc}
        text={text}
        onText={setBody}
        keyChoice={key}
        onKey={setKey}
        sending={sending}
        onSend={() => void send()}
      />
      {error !== undefined && <ErrorView error={error} context="Test request" />}
      {result && <TestResponse result={result} />}
    </div>
  );
}
