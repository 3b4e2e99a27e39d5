/**
 * An endpoint's Test tab: a request body (prefilled by ./test-prefill.ts: the model's sample_input,
 * the swagger example or the last good request), sent through the Jupyter server, which forwards it
 * with the service's key; then the response's status, timing and body. A 500 of the scoring script
 * shows its error id and the replica's log lines under it, with a link to the Logs tab filtered by it.
 */
import React, { useId, useState } from 'react';

import { AMLService, IEndpointTestResult, IWebservice } from '../../api';
import { formatNumber } from '../../format';
import { ErrorView } from '../components';
import { useRequest } from '../hooks';
import { IPrefill, rememberGoodRequest, useTestPrefill } from './test-prefill';

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
  prefill: IPrefill;
  text: string;
  onText: (text: string) => void;
  keyChoice: KeyChoice;
  onKey: (key: KeyChoice) => void;
  sending: boolean;
  onSend: () => void;
}): JSX.Element {
  const { svc, text } = props;
  const ids = useId();
  const problem = text.trim() ? jsonProblem(text) : '';
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
        placeholder={props.prefill.loading ? 'Looking for an example input…' : '{"data": ...}'}
        onChange={e => props.onText(e.target.value)}
        onKeyDown={e => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            props.onSend();
          }
        }}
      />
      {!props.prefill.loading && (
        <div className="jp-aml-Muted jp-aml-TestBody-source" data-source={props.prefill.source}>
          {props.prefill.label}
        </div>
      )}
      {problem && (
        <div className="jp-aml-Muted jp-aml-TestBody-problem">
          Not valid JSON ({problem}): it is sent as is, and the endpoint will likely answer 400.
        </div>
      )}
      <div className="jp-aml-Toolbar jp-aml-TestActions">
        <button
          type="button"
          className="jp-mod-styled jp-mod-accept jp-aml-Button"
          disabled={props.sending || !svc.scoring_uri || !text.trim()}
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

/** The error id of a scoring script's 500 (`{"error": {"error_id": ...}}`), if the body has one. */
export function scoringErrorId(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { error?: { error_id?: unknown } };
    const id = parsed?.error?.error_id;
    return typeof id === 'string' && id ? id : null;
  } catch {
    return null;
  }
}

/** The endpoint log's lines of one error id: the replica's line naming it and the traceback after it. */
export function errorLogLines(lines: string[], errorId: string): string[] {
  const at = lines.findIndex(line => line.includes(`error id ${errorId}`));
  if (at < 0) {
    return [];
  }
  const source = /\[([^\]]+)\]/.exec(lines[at])?.[0] ?? '';
  const out = [lines[at]];
  for (const line of lines.slice(at + 1, at + 40)) {
    if (!line.includes(source) || line.includes('[replica]')) {
      break; // another replica's line, or this replica's next message
    }
    out.push(line);
  }
  return out;
}

function ScoringError(props: {
  service: AMLService;
  workspace: string;
  name: string;
  errorId: string;
  onShowLogs: (query: string) => void;
}): JSX.Element {
  const { service, workspace, name, errorId } = props;
  // The replica writes its log line before it answers: it is there when the answer is.
  const logs = useRequest(
    () => service.getWebserviceLogs(workspace, name, 5000),
    [workspace, name, errorId]
  );
  const lines = logs.data ? errorLogLines(logs.data, errorId) : [];
  const replica = /\[([^\]]+)\]/.exec(lines[0] ?? '')?.[1];
  return (
    <div className="jp-aml-TestError" data-error-id={errorId}>
      <div className="jp-aml-Error-hint">
        The scoring script raised an exception: error id <code>{errorId}</code>
        {replica ? ` on ${replica}` : ''}.{' '}
        <button
          type="button"
          className="jp-aml-Link"
          onClick={() => props.onShowLogs(errorId)}
          title="Open the Logs tab, filtered by this error id"
        >
          Show in Logs
        </button>
      </div>
      {logs.data !== undefined &&
        (lines.length ? (
          <pre className="jp-aml-Pre jp-aml-TestError-log" aria-label="Log lines of this error">
            {lines.join('\n')}
          </pre>
        ) : (
          <div className="jp-aml-Muted">
            The log has no line with this error id (it may have rotated out).
          </div>
        ))}
    </div>
  );
}

function TestResponse(props: {
  result: IEndpointTestResult;
  service: AMLService;
  workspace: string;
  name: string;
  onShowLogs: (query: string) => void;
}): JSX.Element {
  const { result } = props;
  const errorId = result.status === 500 ? scoringErrorId(result.body) : null;
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
      {errorId && (
        <ScoringError
          service={props.service}
          workspace={props.workspace}
          name={props.name}
          errorId={errorId}
          onShowLogs={props.onShowLogs}
        />
      )}
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
  /** Open the Logs tab with this search. */
  onShowLogs: (query: string) => void;
}): JSX.Element {
  const { service, workspace, svc } = props;
  const [body, setBody] = useState<string | null>(null);
  const [key, setKey] = useState<KeyChoice>('primary');
  const [sending, setSending] = useState(false);
  const [result, setResult] = useState<IEndpointTestResult | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [good, setGood] = useState(0);
  const prefill = useTestPrefill(service, workspace, svc, good);
  const text = body ?? prefill.text;

  const send = async () => {
    setSending(true);
    setError(undefined);
    try {
      const answer = await service.testWebservice(workspace, svc.name, text, key);
      if (answer.status >= 200 && answer.status < 300) {
        rememberGoodRequest(workspace, svc.name, text);
        setGood(n => n + 1);
      }
      setResult(answer);
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
        prefill={prefill}
        text={text}
        onText={setBody}
        keyChoice={key}
        onKey={setKey}
        sending={sending}
        onSend={() => void send()}
      />
      {error !== undefined && <ErrorView error={error} context="Test request" />}
      {result && (
        <TestResponse
          result={result}
          service={service}
          workspace={workspace}
          name={svc.name}
          onShowLogs={props.onShowLogs}
        />
      )}
    </div>
  );
}
