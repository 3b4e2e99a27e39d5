/** An endpoint's Keys tab: both keys, hidden until asked for, with copy and regenerate. */
import React, { useState } from 'react';

import { ErrorView, Loading } from '../components';
import { useRequest } from '../hooks';
import { confirmDanger, CopyButton, notifyError } from '../registry-common';
import { IEndpointTabProps } from './tab-props';

type KeyKind = 'Primary' | 'Secondary';

function KeyRow(props: {
  kind: KeyKind;
  value: string;
  visible: boolean;
  busy: boolean;
  onToggle: () => void;
  onRegenerate: () => void;
}): JSX.Element {
  const { kind, value, visible } = props;
  return (
    <tr>
      <th scope="row">{kind} key</th>
      <td className="jp-aml-KeyValue-secret">
        <code aria-label={`${kind} key value`}>
          {visible ? value : '•'.repeat(Math.min(24, value.length))}
        </code>
      </td>
      <td className="jp-aml-KeyTable-actions">
        <button
          type="button"
          className="jp-mod-styled jp-aml-Button"
          aria-pressed={visible}
          aria-label={`${visible ? 'Hide' : 'Show'} ${kind.toLowerCase()} key`}
          onClick={props.onToggle}
        >
          {visible ? 'Hide' : 'Show'}
        </button>
        <CopyButton text={value} label={`Copy ${kind.toLowerCase()} key`} />
        <button
          type="button"
          className="jp-mod-styled jp-mod-warn jp-aml-Button"
          disabled={props.busy}
          onClick={props.onRegenerate}
        >
          Regenerate
        </button>
      </td>
    </tr>
  );
}

export function EndpointKeys(props: IEndpointTabProps & { authEnabled: boolean }): JSX.Element {
  const { service, workspace, name } = props;
  const keys = useRequest(() => service.getWebserviceKeys(workspace, name), [workspace, name]);
  const [shown, setShown] = useState<ReadonlySet<KeyKind>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  if (!keys.data) {
    return keys.error ? (
      <ErrorView error={keys.error} onRetry={keys.reload} context="Keys" />
    ) : (
      <Loading label="Loading keys…" />
    );
  }

  const regenerate = async (kind: KeyKind) => {
    const accepted = await confirmDanger({
      title: `Regenerate the ${kind.toLowerCase()} key of ${name}?`,
      body: (
        <>Callers that still send the old {kind.toLowerCase()} key get 401 Unauthorized at once.</>
      ),
      accept: `Regenerate ${kind.toLowerCase()} key`
    });
    if (!accepted) {
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await service.regenerateWebserviceKey(workspace, name, kind);
      keys.reload();
    } catch (reason) {
      setError(reason);
      notifyError(`Regenerate the ${kind.toLowerCase()} key`, reason);
    } finally {
      setBusy(false);
    }
  };

  const toggle = (kind: KeyKind) => {
    const next = new Set(shown);
    if (next.has(kind)) {
      next.delete(kind);
    } else {
      next.add(kind);
    }
    setShown(next);
  };

  const rows: Array<[KeyKind, string]> = [
    ['Primary', keys.data.primary_key],
    ['Secondary', keys.data.secondary_key]
  ];
  return (
    <section className="jp-aml-Card jp-aml-Keys" aria-label="Endpoint keys">
      <h3 className="jp-aml-Card-title">Keys</h3>
      <p className="jp-aml-Muted">
        {props.authEnabled
          ? 'Callers send one of these keys as Authorization: Bearer <key>. Either key works; regenerate one while callers use the other.'
          : 'Authentication is off for this endpoint: callers need no key. The keys still exist for when it is turned on.'}
      </p>
      {error !== undefined && <ErrorView error={error} context="Keys" />}
      <table className="jp-aml-Table jp-aml-KeyTable" aria-label="Keys">
        <tbody>
          {rows.map(([kind, value]) => (
            <KeyRow
              key={kind}
              kind={kind}
              value={value}
              visible={shown.has(kind)}
              busy={busy}
              onToggle={() => toggle(kind)}
              onRegenerate={() => void regenerate(kind)}
            />
          ))}
        </tbody>
      </table>
    </section>
  );
}
