/**
 * "Register datastore…": v1's `Datastore.register_local` / `register_s3` /
 * `register_azure_blob_container` as a dialog. The secret key is typed once into a password field:
 * it goes in the POST body only (never a URL, never the console), the service seals it in the
 * workspace's key vault, and no route or view shows it again. The service lists the store before it
 * registers it, so wrong credentials or a wrong folder register nothing; its refusal is shown in the
 * dialog as the service words it, and the dialog stays open until the service accepted.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import React, { useEffect, useId, useRef, useState } from 'react';

import type { AMLService } from '../../api';
import { ISubmittingForm, SubmittingDialog } from '../../submitting-dialog';
import { ErrorView } from '../components';
import { IDatastore, IDatastoreCreate, registerDatastore } from './api';

export type DatastoreKind = 'local' | 's3' | 'azure_blob';

interface IFormState {
  kind: DatastoreKind;
  name: string;
  description: string;
  path: string;
  createIfNotExists: boolean;
  bucket: string;
  prefix: string;
  endpointUrl: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  container: string;
  accountName: string;
  accountKey: string;
}

const INITIAL: IFormState = {
  kind: 'local',
  name: '',
  description: '',
  path: '',
  createIfNotExists: false,
  bucket: '',
  prefix: '',
  endpointUrl: '',
  region: '',
  accessKeyId: '',
  secretAccessKey: '',
  container: '',
  accountName: '',
  accountKey: ''
};

/** v1's rule (the service checks it too): letters, digits and underscores. */
const NAME_RULE = /^[A-Za-z0-9_]{1,100}$/;

/** Optional text: trimmed, or undefined when empty (the service's defaults apply). */
function optional(text: string): string | undefined {
  const value = text.trim();
  return value === '' ? undefined : value;
}

/** The request body, or the problems the browser can already see (the service checks the rest). */
export function registerRequest(state: IFormState): IDatastoreCreate | string[] {
  const problems: string[] = [];
  const name = state.name.trim();
  if (!NAME_RULE.test(name)) {
    problems.push('Name: letters, digits and underscores only (1 to 100 characters).');
  }
  const common = { name, description: state.description.trim() };
  if (state.kind === 'local') {
    const path = state.path.trim();
    if (!path) {
      problems.push("Folder: give the absolute path of a folder on the server's machine.");
    }
    return problems.length
      ? problems
      : { ...common, kind: 'local', path, create_if_not_exists: state.createIfNotExists };
  }
  if (state.kind === 's3') {
    if (!state.bucket.trim()) {
      problems.push("Bucket: give the bucket's name.");
    }
    const keyId = optional(state.accessKeyId);
    // A secret is taken exactly as typed: spaces may be part of it.
    const secret = state.secretAccessKey === '' ? undefined : state.secretAccessKey;
    if ((keyId === undefined) !== (secret === undefined)) {
      problems.push(
        'Give both the access key id and the secret access key, or neither (anonymous).'
      );
    }
    return problems.length
      ? problems
      : {
          ...common,
          kind: 's3',
          bucket_name: state.bucket.trim(),
          prefix: optional(state.prefix),
          endpoint_url: optional(state.endpointUrl),
          region: optional(state.region),
          access_key_id: keyId,
          secret_access_key: secret
        };
  }
  if (!state.container.trim() || !state.accountName.trim()) {
    problems.push("Give the container and the storage account's name.");
  }
  return problems.length
    ? problems
    : {
        ...common,
        kind: 'azure_blob',
        container_name: state.container.trim(),
        account_name: state.accountName.trim(),
        account_key: state.accountKey === '' ? undefined : state.accountKey
      };
}

function Row(props: { id: string; label: string; children: React.ReactNode }): JSX.Element {
  return (
    <div className="jp-aml-Form-row">
      <label htmlFor={props.id}>{props.label}</label>
      {props.children}
    </div>
  );
}

/** A text field of the form (`secret`: a password field the browser neither shows nor saves). */
function Field(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  secret?: boolean;
  describedBy?: string;
}): JSX.Element {
  return (
    <Row id={props.id} label={props.label}>
      <input
        id={props.id}
        className="jp-mod-styled"
        type={props.secret ? 'password' : 'text'}
        autoComplete={props.secret ? 'new-password' : 'off'}
        spellCheck={false}
        placeholder={props.placeholder}
        aria-describedby={props.describedBy}
        value={props.value}
        onChange={e => props.onChange(e.target.value)}
      />
    </Row>
  );
}

function KindFields(props: {
  id: string;
  state: IFormState;
  set: (change: Partial<IFormState>) => void;
}): JSX.Element {
  const { id, state, set } = props;
  if (state.kind === 'local') {
    return (
      <>
        <Field
          id={`${id}-path`}
          label="Folder"
          value={state.path}
          placeholder="/data/projects/images"
          describedBy={`${id}-path-note`}
          onChange={path => set({ path })}
        />
        <div id={`${id}-path-note`} className="jp-aml-Muted jp-aml-DataForm-note">
          An absolute folder on the server's machine (not the AML root). Its files stay there.
        </div>
        <label className="jp-aml-DataForm-check">
          <input
            type="checkbox"
            checked={state.createIfNotExists}
            onChange={e => set({ createIfNotExists: e.target.checked })}
          />
          Create the folder if it does not exist
        </label>
      </>
    );
  }
  if (state.kind === 's3') {
    return (
      <>
        <Field
          id={`${id}-bucket`}
          label="Bucket"
          value={state.bucket}
          placeholder="my-bucket"
          onChange={bucket => set({ bucket })}
        />
        <Field
          id={`${id}-prefix`}
          label="Prefix"
          value={state.prefix}
          placeholder="optional folder in the bucket"
          onChange={prefix => set({ prefix })}
        />
        <Field
          id={`${id}-endpoint`}
          label="Endpoint URL"
          value={state.endpointUrl}
          placeholder="AWS when empty; http://minio:9000"
          onChange={endpointUrl => set({ endpointUrl })}
        />
        <Field
          id={`${id}-region`}
          label="Region"
          value={state.region}
          placeholder="optional, e.g. eu-west-1"
          onChange={region => set({ region })}
        />
        <Field
          id={`${id}-key-id`}
          label="Access key id"
          value={state.accessKeyId}
          placeholder="empty: anonymous access"
          onChange={accessKeyId => set({ accessKeyId })}
        />
        <Field
          id={`${id}-secret`}
          label="Secret access key"
          value={state.secretAccessKey}
          secret
          describedBy={`${id}-secret-note`}
          onChange={secretAccessKey => set({ secretAccessKey })}
        />
        <div id={`${id}-secret-note`} className="jp-aml-Muted jp-aml-DataForm-note">
          Kept in the workspace's key vault, sealed. It is never shown again.
        </div>
      </>
    );
  }
  return (
    <>
      <Field
        id={`${id}-container`}
        label="Container"
        value={state.container}
        onChange={container => set({ container })}
      />
      <Field
        id={`${id}-account`}
        label="Account name"
        value={state.accountName}
        onChange={accountName => set({ accountName })}
      />
      <Field
        id={`${id}-account-key`}
        label="Account key"
        value={state.accountKey}
        secret
        describedBy={`${id}-account-key-note`}
        onChange={accountKey => set({ accountKey })}
      />
      <div id={`${id}-account-key-note`} className="jp-aml-Muted jp-aml-DataForm-note">
        Kept in the workspace's key vault, sealed. It is never shown again. Azure Blob needs the
        service's Azure support: if it is missing, the service says what to install.
      </div>
    </>
  );
}

function RegisterDatastoreView(props: {
  service: AMLService;
  workspace: string;
  register: (submit: () => Promise<IDatastore>) => void;
}): JSX.Element {
  const { service, workspace, register } = props;
  const id = useId();
  const [state, setState] = useState<IFormState>(INITIAL);
  const [problems, setProblems] = useState<string[]>([]);
  const [serverError, setServerError] = useState<unknown>(undefined);
  const set = (change: Partial<IFormState>) => setState(prev => ({ ...prev, ...change }));
  // The dialog's body scrolls: bring what went wrong into view, under the fields it is about.
  const errors = useRef<HTMLDivElement>(null);
  useEffect(() => {
    errors.current?.scrollIntoView({ block: 'nearest' });
  }, [problems, serverError]);

  useEffect(() => {
    register(async () => {
      setServerError(undefined);
      const spec = registerRequest(state);
      if (Array.isArray(spec)) {
        setProblems(spec);
        throw new Error(spec.join(' '));
      }
      setProblems([]);
      try {
        return await registerDatastore(service, workspace, spec);
      } catch (reason) {
        setServerError(reason);
        throw reason;
      }
    });
  }, [register, service, workspace, state]);

  return (
    <div className="jp-aml-Form jp-aml-DataForm">
      <Row id={`${id}-kind`} label="Kind">
        <select
          id={`${id}-kind`}
          className="jp-mod-styled"
          value={state.kind}
          onChange={e => set({ kind: e.target.value as DatastoreKind })}
        >
          <option value="local">Local folder</option>
          <option value="s3">S3-compatible bucket</option>
          <option value="azure_blob">Azure Blob container</option>
        </select>
      </Row>
      <Field
        id={`${id}-name`}
        label="Name"
        value={state.name}
        placeholder="my_datastore"
        describedBy={`${id}-name-rule`}
        onChange={name => set({ name })}
      />
      <div id={`${id}-name-rule`} className="jp-aml-Muted jp-aml-DataForm-note">
        Letters, digits and underscores; case-insensitive.
      </div>
      <Field
        id={`${id}-description`}
        label="Description"
        value={state.description}
        placeholder="optional"
        onChange={description => set({ description })}
      />
      <KindFields id={id} state={state} set={set} />
      {(problems.length > 0 || serverError !== undefined) && (
        <div className="jp-aml-Form-errors" role="alert" aria-label="Problems" ref={errors}>
          {problems.length > 0 && (
            <ul>
              {problems.map(p => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
          {serverError !== undefined && <ErrorView error={serverError} />}
        </div>
      )}
    </div>
  );
}

/** The dialog body; the dialog's Register button calls `submit()`. */
class RegisterDatastoreForm extends ReactWidget implements ISubmittingForm<IDatastore> {
  constructor(
    private readonly _service: AMLService,
    private readonly _workspace: string
  ) {
    super();
    this.addClass('jp-aml-RegisterDatastoreForm');
  }

  submit: () => Promise<IDatastore> = () => Promise.reject(new Error('The form is still loading.'));

  accepted: IDatastore | null = null;

  getValue(): IDatastore | null {
    return this.accepted;
  }

  protected render(): JSX.Element {
    return (
      <RegisterDatastoreView
        service={this._service}
        workspace={this._workspace}
        register={this._register}
      />
    );
  }

  private readonly _register = (submit: () => Promise<IDatastore>): void => {
    this.submit = submit;
  };
}

/** Show the dialog; resolves with the datastore the service registered, or null. */
export async function registerDatastoreDialog(
  service: AMLService,
  workspace: string
): Promise<IDatastore | null> {
  return new SubmittingDialog(new RegisterDatastoreForm(service, workspace), {
    title: `Register datastore in ${workspace}`,
    okLabel: 'Register',
    okAriaLabel: 'Register datastore',
    className: 'jp-aml-RegisterDatastoreDialog'
  }).ask();
}
