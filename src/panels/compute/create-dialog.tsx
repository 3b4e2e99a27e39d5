/**
 * "New compute…": a dialog for `ComputeTarget.create(ws, name, config)` with v1's two provisioning
 * configurations: an AmlCompute cluster (VM size, min / max nodes, idle seconds before scale-down) or a
 * ComputeInstance (VM size, idle minutes before shutdown, and here its Docker image). The name rule is
 * checked here; everything else the server refuses (unknown size, max < min, a name taken: 409, a quota,
 * an image the engine lacks) is shown in the dialog, which stays open until the server accepted it.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import React, { useEffect, useId, useState } from 'react';

import type { AMLService, ICompute, IComputeCreate, IVmSize } from '../../api';
import { ISubmittingForm, SubmittingDialog } from '../../submitting-dialog';
import { ErrorView } from '../components';
import { useRequest } from '../hooks';
import { nameProblem } from './format';

type ComputeType = IComputeCreate['type'];

interface IFormState {
  type: ComputeType;
  name: string;
  vmSize: string;
  minNodes: string;
  maxNodes: string;
  idleSeconds: string;
  shutdownMinutes: string;
  image: string;
}

const INITIAL: IFormState = {
  type: 'AmlCompute',
  name: '',
  vmSize: 'STANDARD_D2_V2',
  minNodes: '0',
  maxNodes: '4',
  idleSeconds: '1800',
  shutdownMinutes: '',
  image: ''
};

/** A whole number of at least `least`, or a message saying what is wrong. */
function wholeNumber(text: string, label: string, least: number): number | string {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < least) {
    return `${label} must be a whole number of at least ${least}.`;
  }
  return value;
}

/** The request body, or the problems the browser can already see. */
export function createRequest(state: IFormState): IComputeCreate | string[] {
  const problems: string[] = [];
  const name = state.name.trim();
  const bad = nameProblem(name);
  if (bad) {
    problems.push(bad);
  }
  const spec: IComputeCreate = { name, type: state.type, vm_size: state.vmSize };
  const field = (text: string, label: string, least: number): number => {
    const value = wholeNumber(text, label, least);
    if (typeof value === 'string') {
      problems.push(value);
      return least;
    }
    return value;
  };
  if (state.type === 'AmlCompute') {
    spec.min_nodes = field(state.minNodes, 'Min nodes', 0);
    spec.max_nodes = field(state.maxNodes, 'Max nodes', 1);
    spec.idle_seconds_before_scaledown = field(state.idleSeconds, 'Idle seconds', 0);
  } else {
    if (state.shutdownMinutes.trim() !== '') {
      spec.idle_time_before_shutdown_minutes = field(state.shutdownMinutes, 'Idle shutdown', 1);
    }
    if (state.image.trim() !== '') {
      spec.image = state.image.trim();
    }
  }
  return problems.length ? problems : spec;
}

function Row(props: { id: string; label: string; children: React.ReactNode }): JSX.Element {
  return (
    <div className="jp-aml-Form-row">
      <label htmlFor={props.id}>{props.label}</label>
      {props.children}
    </div>
  );
}

function sizeOption(size: IVmSize): string {
  const gpus = size.gpus ? `, ${size.gpus} GPU${size.gpus === 1 ? '' : 's'}` : '';
  return `${size.name} (${size.vCPUs} vCPU${size.vCPUs === 1 ? '' : 's'}, ${size.memoryGB} GB${gpus})`;
}

function CreateComputeView(props: {
  service: AMLService;
  workspace: string;
  register: (submit: () => Promise<ICompute>) => void;
}): JSX.Element {
  const { service, workspace, register } = props;
  const id = useId();
  const [state, setState] = useState<IFormState>(INITIAL);
  const [problems, setProblems] = useState<string[]>([]);
  const [serverError, setServerError] = useState<unknown>(undefined);
  const sizes = useRequest(() => service.listVmSizes(workspace), [service, workspace]);
  const set = (change: Partial<IFormState>) => setState(prev => ({ ...prev, ...change }));

  useEffect(() => {
    register(async () => {
      setServerError(undefined);
      const spec = createRequest(state);
      if (Array.isArray(spec)) {
        setProblems(spec);
        throw new Error(spec.join(' '));
      }
      setProblems([]);
      try {
        return await service.createCompute(workspace, spec);
      } catch (reason) {
        setServerError(reason);
        throw reason;
      }
    });
  }, [register, service, workspace, state]);

  const cluster = state.type === 'AmlCompute';
  const sizeList = sizes.data ?? [];
  return (
    <div className="jp-aml-Form jp-aml-ComputeForm">
      <Row id={`${id}-type`} label="Type">
        <select
          id={`${id}-type`}
          className="jp-mod-styled"
          value={state.type}
          onChange={e => set({ type: e.target.value as ComputeType })}
        >
          <option value="AmlCompute">AmlCompute (autoscaling cluster)</option>
          <option value="ComputeInstance">ComputeInstance (one machine)</option>
        </select>
      </Row>
      <Row id={`${id}-name`} label="Name">
        <input
          id={`${id}-name`}
          className="jp-mod-styled"
          value={state.name}
          placeholder={cluster ? 'cpu-cluster' : 'my-instance'}
          maxLength={32}
          spellCheck={false}
          aria-describedby={`${id}-name-rule`}
          onChange={e => set({ name: e.target.value })}
        />
      </Row>
      <div id={`${id}-name-rule`} className="jp-aml-Muted jp-aml-ComputeForm-note">
        A letter first, then letters, digits or hyphens; 2 to 32 characters.
      </div>
      <Row id={`${id}-size`} label="VM size">
        <select
          id={`${id}-size`}
          className="jp-mod-styled"
          value={state.vmSize}
          disabled={sizes.data === undefined}
          onChange={e => set({ vmSize: e.target.value })}
        >
          {!sizeList.some(s => s.name === state.vmSize) && (
            <option value={state.vmSize}>{state.vmSize}</option>
          )}
          {sizeList.map(size => (
            <option key={size.name} value={size.name}>
              {sizeOption(size)}
            </option>
          ))}
        </select>
      </Row>
      {sizes.error !== undefined && (
        <ErrorView error={sizes.error} onRetry={sizes.reload} context="VM sizes" />
      )}
      {cluster ? (
        <>
          <Row id={`${id}-min`} label="Min nodes">
            <input
              id={`${id}-min`}
              className="jp-mod-styled"
              type="number"
              min={0}
              value={state.minNodes}
              onChange={e => set({ minNodes: e.target.value })}
            />
          </Row>
          <Row id={`${id}-max`} label="Max nodes">
            <input
              id={`${id}-max`}
              className="jp-mod-styled"
              type="number"
              min={1}
              value={state.maxNodes}
              onChange={e => set({ maxNodes: e.target.value })}
            />
          </Row>
          <Row id={`${id}-idle`} label="Idle seconds before scale down">
            <input
              id={`${id}-idle`}
              className="jp-mod-styled"
              type="number"
              min={0}
              value={state.idleSeconds}
              onChange={e => set({ idleSeconds: e.target.value })}
            />
          </Row>
        </>
      ) : (
        <>
          <Row id={`${id}-shutdown`} label="Idle minutes before shutdown">
            <input
              id={`${id}-shutdown`}
              className="jp-mod-styled"
              type="number"
              min={1}
              placeholder="never"
              value={state.shutdownMinutes}
              onChange={e => set({ shutdownMinutes: e.target.value })}
            />
          </Row>
          <Row id={`${id}-image`} label="Docker image">
            <input
              id={`${id}-image`}
              className="jp-mod-styled"
              placeholder="the server's default"
              spellCheck={false}
              value={state.image}
              onChange={e => set({ image: e.target.value })}
            />
          </Row>
        </>
      )}
      {(problems.length > 0 || serverError !== undefined) && (
        <div className="jp-aml-Form-errors" role="alert" aria-label="Problems">
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

/** The dialog body; the dialog's Create button calls `submit()`. */
class CreateComputeForm extends ReactWidget implements ISubmittingForm<ICompute> {
  constructor(
    private readonly _service: AMLService,
    private readonly _workspace: string
  ) {
    super();
    this.addClass('jp-aml-CreateComputeForm');
  }

  submit: () => Promise<ICompute> = () => Promise.reject(new Error('The form is still loading.'));

  accepted: ICompute | null = null;

  getValue(): ICompute | null {
    return this.accepted;
  }

  protected render(): JSX.Element {
    return (
      <CreateComputeView
        service={this._service}
        workspace={this._workspace}
        register={this._register}
      />
    );
  }

  private readonly _register = (submit: () => Promise<ICompute>): void => {
    this.submit = submit;
  };
}

/** Show the dialog; resolves with the compute the server accepted (Creating), or null. */
export async function createComputeDialog(
  service: AMLService,
  workspace: string
): Promise<ICompute | null> {
  return new SubmittingDialog(new CreateComputeForm(service, workspace), {
    title: `New compute in ${workspace}`,
    okLabel: 'Create',
    okAriaLabel: 'Create compute',
    className: 'jp-aml-CreateComputeDialog'
  }).ask();
}
