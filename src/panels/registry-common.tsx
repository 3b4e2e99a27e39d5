/** Small pieces shared by the Models and Endpoints views: confirmations, copy buttons, action errors. */
import { Clipboard, Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import React, { useEffect, useRef, useState } from 'react';

import { AMLRequestError } from '../request';

/** What the Models and Endpoints views ask their host to do (commands, so they can be bound). */
export interface IAssetActions {
  openRun(workspace: string, runId: string): void;
  openEndpoint(workspace: string, name: string, tab?: string): void;
  showModel(workspace: string, name: string, version?: number | null): void;
}

/** Ask before something that cannot be undone; resolves true when the user accepted. */
export async function confirmDanger(options: {
  title: string;
  body: React.ReactNode;
  accept: string;
}): Promise<boolean> {
  const result = await showDialog({
    title: options.title,
    body: <div className="jp-aml-ConfirmBody">{options.body}</div>,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: options.accept })]
  });
  return result.button.accept;
}

/** The readable text of an error: the server's message, then its hint. */
export function errorText(error: unknown): string {
  if (error instanceof AMLRequestError) {
    if (!error.hint) {
      return error.message;
    }
    const stop = /[.!?:]$/.test(error.message) ? '' : '.';
    return `${error.message}${stop} ${error.hint.charAt(0).toUpperCase()}${error.hint.slice(1)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A toast for a failed action (the view also shows the error next to what failed). */
export function notifyError(context: string, error: unknown): void {
  Notification.error(`${context}: ${errorText(error)}`, { autoClose: 8000 });
}

/** Copies `text` to the clipboard; says "Copied" for a moment. */
export function CopyButton(props: {
  text: string;
  label: string;
  children?: React.ReactNode;
}): JSX.Element {
  const [copied, setCopied] = useState(false);
  const timer = useRef<number | null>(null);
  useEffect(
    () => () => {
      if (timer.current !== null) {
        window.clearTimeout(timer.current);
      }
    },
    []
  );
  return (
    <button
      type="button"
      className="jp-mod-styled jp-aml-Button"
      aria-label={props.label}
      title={props.label}
      onClick={() => {
        Clipboard.copyToSystem(props.text);
        setCopied(true);
        if (timer.current !== null) {
          window.clearTimeout(timer.current);
        }
        timer.current = window.setTimeout(() => setCopied(false), 1500);
      }}
    >
      <span aria-live="polite">{copied ? 'Copied' : (props.children ?? 'Copy')}</span>
    </button>
  );
}

/** `model:3` → `{name: 'model', version: 3}` (a web service's model references). */
export function parseModelRef(ref: string): { name: string; version: number | null } {
  const at = ref.lastIndexOf(':');
  if (at > 0) {
    const version = Number(ref.slice(at + 1));
    if (Number.isInteger(version) && version > 0) {
      return { name: ref.slice(0, at), version };
    }
  }
  return { name: ref, version: null };
}

/** The header row of a named, versioned asset (a model or an environment) that expands to its versions. */
export function VersionGroupToggle(props: {
  kind: string;
  name: string;
  latestVersion: number;
  count: number;
  expanded: boolean;
  onToggle: () => void;
  badge?: React.ReactNode;
}): JSX.Element {
  const versions = `${props.count} version${props.count === 1 ? '' : 's'}`;
  return (
    <button
      type="button"
      className="jp-aml-ListItem-toggle"
      aria-expanded={props.expanded}
      aria-label={`${props.kind} ${props.name}`}
      onClick={props.onToggle}
    >
      <span className="jp-aml-Caret" aria-hidden="true" data-open={props.expanded} />
      <span className="jp-aml-ListItem-name">{props.name}</span>
      {props.badge}
      <span
        className="jp-aml-ListItem-count"
        title={`Latest version ${props.latestVersion}; ${versions}`}
      >
        v{props.latestVersion} · {versions}
      </span>
    </button>
  );
}
