/**
 * What a user can do to a compute of the workspace: start / stop / restart an instance, resize a
 * cluster (min / max nodes, idle time before scale-down), delete either (asking first; a compute with
 * runs on it is deleted only when the user also asks to cancel them). Configured targets such as
 * `local` get none of these: the server refuses to change them.
 */
import React, { useId, useState } from 'react';

import type { AMLService, ComputeVerb, ICompute, IComputeUpdate } from '../../api';
import { AMLRequestError } from '../../request';
import { ErrorView } from '../components';
import { confirmDanger, notifyError } from '../registry-common';
import { isCluster, isInstance, isTransitional } from './format';

/** The action under way (its label) and the last one's error, kept next to the buttons. */
function useComputeAction(): {
  busy: string | null;
  error: { context: string; error: unknown } | null;
  perform: (label: string, action: () => Promise<void>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<{ context: string; error: unknown } | null>(null);
  const perform = async (label: string, action: () => Promise<void>) => {
    setBusy(label);
    setError(null);
    try {
      await action();
      return true;
    } catch (reason) {
      setError({ context: label, error: reason });
      return false;
    } finally {
      setBusy(null);
    }
  };
  return { busy, error, perform };
}

/** An instance's verbs, what each says while it runs, and the states it applies in. */
const VERBS: ReadonlyArray<{
  verb: ComputeVerb;
  label: string;
  doing: string;
  when: ReadonlyArray<string>;
}> = [
  { verb: 'start', label: 'Start', doing: 'Starting…', when: ['Stopped', 'Failed'] },
  { verb: 'stop', label: 'Stop', doing: 'Stopping…', when: ['Running'] },
  { verb: 'restart', label: 'Restart', doing: 'Restarting…', when: ['Running', 'Failed'] }
];

function ConflictDelete(props: { name: string; reason: AMLRequestError }): JSX.Element {
  return (
    <>
      <p>{props.reason.message}.</p>
      <p>
        Deleting <code>{props.name}</code> now cancels those runs first (they end as Canceled), then
        deletes the compute.
      </p>
    </>
  );
}

/** Delete, asking first; on 409 (runs on it) offer to cancel them and delete (`force=true`). */
async function deleteCompute(service: AMLService, workspace: string, name: string) {
  const asked = await confirmDanger({
    title: `Delete compute ${name}?`,
    body: (
      <>
        The compute <code>{name}</code> and its nodes are removed; runs can no longer be submitted
        to it. Finished runs keep their logs and outputs.
      </>
    ),
    accept: 'Delete compute'
  });
  if (!asked) {
    return false;
  }
  try {
    await service.deleteCompute(workspace, name);
    return true;
  } catch (reason) {
    if (!(reason instanceof AMLRequestError && reason.status === 409)) {
      throw reason;
    }
    const force = await confirmDanger({
      title: `Compute ${name} has runs`,
      body: <ConflictDelete name={name} reason={reason} />,
      accept: 'Cancel its runs and delete'
    });
    if (!force) {
      return false;
    }
    await service.deleteCompute(workspace, name, true);
    return true;
  }
}

function numberOrNull(text: string): number | null {
  if (text.trim() === '') {
    return null;
  }
  const value = Number(text);
  return Number.isInteger(value) && value >= 0 ? value : NaN;
}

/** Min / max nodes and the idle time of a cluster, applied with PATCH. */
function ResizeForm(props: {
  compute: ICompute;
  onApply: (update: IComputeUpdate) => Promise<boolean>;
  onClose: () => void;
  busy: boolean;
}): JSX.Element {
  const { compute } = props;
  const id = useId();
  const [min, setMin] = useState(String(compute.min_nodes ?? 0));
  const [max, setMax] = useState(String(compute.max_nodes ?? 1));
  const [idle, setIdle] = useState(String(compute.idle_seconds_before_scaledown ?? 1800));
  const [problem, setProblem] = useState<string | null>(null);

  const apply = async () => {
    const values = { min: numberOrNull(min), max: numberOrNull(max), idle: numberOrNull(idle) };
    if (Object.values(values).some(v => v === null || Number.isNaN(v))) {
      setProblem('Node counts and the idle time are whole numbers, 0 or more.');
      return;
    }
    setProblem(null);
    const update: IComputeUpdate = {
      min_nodes: values.min,
      max_nodes: values.max,
      idle_seconds_before_scaledown: values.idle
    };
    if (await props.onApply(update)) {
      props.onClose();
    }
  };
  return (
    <form
      className="jp-aml-ComputeResize"
      aria-label={`Resize ${compute.name}`}
      onSubmit={e => {
        e.preventDefault();
        void apply();
      }}
    >
      <label htmlFor={`${id}-min`}>Min nodes</label>
      <input
        id={`${id}-min`}
        className="jp-mod-styled"
        type="number"
        min={0}
        value={min}
        onChange={e => setMin(e.target.value)}
      />
      <label htmlFor={`${id}-max`}>Max nodes</label>
      <input
        id={`${id}-max`}
        className="jp-mod-styled"
        type="number"
        min={1}
        value={max}
        onChange={e => setMax(e.target.value)}
      />
      <label htmlFor={`${id}-idle`}>Idle seconds before scale down</label>
      <input
        id={`${id}-idle`}
        className="jp-mod-styled"
        type="number"
        min={0}
        value={idle}
        onChange={e => setIdle(e.target.value)}
      />
      <div className="jp-aml-ComputeResize-buttons">
        <button
          type="submit"
          className="jp-mod-styled jp-mod-accept jp-aml-Button"
          disabled={props.busy}
        >
          {props.busy ? 'Applying…' : 'Apply'}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-mod-reject jp-aml-Button"
          onClick={props.onClose}
        >
          Cancel
        </button>
      </div>
      {problem && (
        <div className="jp-aml-Error" role="alert">
          {problem}
        </div>
      )}
    </form>
  );
}

/** The buttons of a compute of the workspace, and the error of the last action. */
export function ComputeActions(props: {
  service: AMLService;
  workspace: string;
  compute: ICompute;
  /** Called after an action changed the compute (the section reloads its list). */
  onChanged: () => void;
}): JSX.Element {
  const { service, workspace, compute, onChanged } = props;
  const { busy, error, perform } = useComputeAction();
  const [resizing, setResizing] = useState(false);
  const state = compute.state ?? 'Running';
  const name = compute.name;

  const verb = (v: ComputeVerb, label: string) =>
    void perform(`${label} ${name}`, async () => {
      await service.computeAction(workspace, name, v);
      onChanged();
    });
  const resize = (update: IComputeUpdate) =>
    perform(`Resize ${name}`, async () => {
      await service.updateCompute(workspace, name, update);
      onChanged();
    });
  const remove = () =>
    void perform(`Delete ${name}`, async () => {
      try {
        if (await deleteCompute(service, workspace, name)) {
          onChanged();
        }
      } catch (reason) {
        notifyError(`Delete compute ${name}`, reason);
        throw reason;
      }
    });

  return (
    <div className="jp-aml-ComputeActions">
      <div className="jp-aml-ComputeActions-buttons" role="group" aria-label={`Actions of ${name}`}>
        {isInstance(compute) &&
          VERBS.map(({ verb: v, label, doing, when }) => (
            <button
              key={v}
              type="button"
              className="jp-mod-styled jp-aml-Button"
              aria-label={`${label} ${name}`}
              disabled={busy !== null || !when.includes(state)}
              title={when.includes(state) ? `${label} the instance` : `Not while it is ${state}`}
              onClick={() => verb(v, label)}
            >
              {busy === `${label} ${name}` ? doing : label}
            </button>
          ))}
        {isCluster(compute) && (
          <button
            type="button"
            className="jp-mod-styled jp-aml-Button"
            aria-label={`Resize ${name}`}
            aria-expanded={resizing}
            disabled={busy !== null || isTransitional(state)}
            onClick={() => setResizing(!resizing)}
          >
            Resize…
          </button>
        )}
        <button
          type="button"
          className="jp-mod-styled jp-mod-warn jp-aml-Button"
          aria-label={`Delete ${name}`}
          disabled={busy !== null || state === 'Deleting'}
          onClick={remove}
        >
          {busy === `Delete ${name}` ? 'Deleting…' : 'Delete'}
        </button>
      </div>
      {resizing && isCluster(compute) && (
        <ResizeForm
          compute={compute}
          busy={busy === `Resize ${name}`}
          onApply={resize}
          onClose={() => setResizing(false)}
        />
      )}
      {error && <ErrorView error={error.error} context={error.context} />}
    </div>
  );
}
