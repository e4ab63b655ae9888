import { SUPPORTED_KINDS, type SupportedKind } from '../sources/metric-queries';
import { InputError } from './errors';

/** A validated `GET /api/v1/anomalies` request. */
export interface AnomalyRequest {
  resource: { group: string; kind: SupportedKind; namespace: string; name: string };
  from: number;
  to: number;
  /** Seconds between points as asked (the service may coarsen it); undefined: the default. */
  step?: number;
}

/** Longest range a request may ask for: 31 days. */
export const MAX_RANGE_SECONDS = 31 * 86400;
/** Smallest step a request may ask for. */
export const MIN_STEP_SECONDS = 1;
/** Largest step a request may ask for: a day. */
export const MAX_STEP_SECONDS = 86400;

/** The API group of each kind; a request naming another group is a 400. */
export const KIND_GROUPS: Record<SupportedKind, string> = {
  Deployment: 'apps',
  StatefulSet: 'apps',
  DaemonSet: 'apps',
  ReplicaSet: 'apps',
  Pod: '',
  Rollout: 'argoproj.io',
  Application: 'argoproj.io',
};

/** Kubernetes object names: DNS subdomains (RFC 1123), at most 253 characters. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** Kubernetes namespaces: DNS labels (RFC 1123), at most 63 characters. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Validates the query string per docs/anomaly-api.md. Throws an {@link InputError} naming
 * the first bad parameter. Names are checked against Kubernetes' syntax as well as escaped
 * later (defence in depth: SECURITY, see sources/promql.ts).
 */
export function parseAnomalyRequest(query: URLSearchParams): AnomalyRequest {
  const get = parameterReader(query);
  const kind = get('kind') as string;
  if (!(SUPPORTED_KINDS as readonly string[]).includes(kind)) {
    throw new InputError(
      'kind',
      `kind ${JSON.stringify(kind)} is not supported (supported: ${SUPPORTED_KINDS.join(', ')})`,
    );
  }
  const supportedKind = kind as SupportedKind;
  const group = get('group') as string;
  if (group !== KIND_GROUPS[supportedKind]) {
    throw new InputError(
      'group',
      `group of a ${kind} must be ${JSON.stringify(KIND_GROUPS[supportedKind])}`,
    );
  }
  const namespace = get('namespace') as string;
  checkNamespace('namespace', namespace);
  const name = get('name') as string;
  checkName('name', name);
  return { resource: { group, kind: supportedKind, namespace, name }, ...parseRange(get) };
}

/** Reads one parameter: a 400 when it is repeated, or missing and `required`. */
export type ParameterReader = (parameter: string, required?: boolean) => string | undefined;

export function parameterReader(query: URLSearchParams): ParameterReader {
  return (parameter, required = true) => {
    const values = query.getAll(parameter);
    if (values.length > 1) throw new InputError(parameter, `${parameter} is given more than once`);
    if (values.length === 0 && required) {
      throw new InputError(parameter, `${parameter} is required`);
    }
    return values[0];
  };
}

export function checkNamespace(parameter: string, namespace: string): void {
  if (namespace.length > 63 || !NAMESPACE_NAME.test(namespace)) {
    throw new InputError(parameter, `${parameter} must be a Kubernetes namespace name`);
  }
}

export function checkName(parameter: string, name: string): void {
  if (name.length > 253 || !OBJECT_NAME.test(name)) {
    throw new InputError(parameter, `${parameter} must be a Kubernetes object name`);
  }
}

/** `from`, `to` and the optional `step`, validated. */
export function parseRange(get: ParameterReader): Pick<AnomalyRequest, 'from' | 'to' | 'step'> {
  const from = parseSeconds('from', get('from') as string);
  const to = parseSeconds('to', get('to') as string);
  if (from >= to) throw new InputError('from', 'from must be before to');
  if (to - from > MAX_RANGE_SECONDS) {
    throw new InputError('from', `range must be at most ${MAX_RANGE_SECONDS} seconds`);
  }
  const stepText = get('step', false);
  let step: number | undefined;
  if (stepText !== undefined) {
    step = parseSeconds('step', stepText);
    if (step < MIN_STEP_SECONDS || step > MAX_STEP_SECONDS) {
      throw new InputError(
        'step',
        `step must be between ${MIN_STEP_SECONDS} and ${MAX_STEP_SECONDS} seconds`,
      );
    }
  }
  return { from, to, step };
}

/** A non-negative integer number of seconds. */
function parseSeconds(parameter: string, text: string): number {
  if (!/^\d{1,12}$/.test(text)) {
    throw new InputError(parameter, `${parameter} must be a whole number of seconds`);
  }
  return Number(text);
}
