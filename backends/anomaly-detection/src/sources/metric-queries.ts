import { readFileSync } from 'fs';
import { parse as parseYaml } from 'yaml';
import { escapePromqlString, quoteRegex } from './promql';

/** Resource kinds the service scores. Anything else is a 400. */
export const SUPPORTED_KINDS = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Pod',
  'Rollout',
  'Application',
] as const;
export type SupportedKind = (typeof SUPPORTED_KINDS)[number];

/** One metric of a kind: a PromQL template and how the UI labels it. */
export interface MetricDefinition {
  /** Stable id, reported as `series[].metric` and `windows[].metric`. Example: `cpu`. */
  metric: string;
  /** Human label. Example: `CPU`. */
  label: string;
  /** Unit of the values. Example: `cores`. */
  unit: string;
  /**
   * PromQL with placeholders: `{{namespace}}`, `{{name}}` (escaped for a double-quoted
   * string), `{{nameRegex}}` (regex-quoted, then escaped for a double-quoted string) and
   * `{{rateInterval}}` (e.g. `5m`, for `rate()`). The first three must sit inside "…".
   */
  query: string;
  /**
   * The workload may not expose it (request metrics): when the query returns no data the
   * series is left out instead of being reported as all gaps. Default: false.
   */
  optional?: boolean;
}

export type MetricQueries = Record<SupportedKind, MetricDefinition[]>;

/** The values a template is rendered with, before escaping. */
export interface QueryVariables {
  namespace: string;
  name: string;
  /** `rate()` range in seconds. */
  rateIntervalSeconds: number;
}

const PLACEHOLDER = /\{\{(\w+)\}\}/g;
/** Placeholders whose values come from the request and are only safe inside a string literal. */
const QUOTED_PLACEHOLDERS = new Set(['namespace', 'name', 'nameRegex']);
const KNOWN_PLACEHOLDERS = new Set([...QUOTED_PLACEHOLDERS, 'rateInterval']);

/**
 * Fills a template. SECURITY: request values are escaped (`escapePromqlString`, and
 * `quoteRegex` for `{{nameRegex}}`), never concatenated raw.
 */
export function renderQuery(template: string, vars: QueryVariables): string {
  const values: Record<string, string> = {
    namespace: escapePromqlString(vars.namespace),
    name: escapePromqlString(vars.name),
    nameRegex: escapePromqlString(quoteRegex(vars.name)),
    rateInterval: `${Math.max(1, Math.round(vars.rateIntervalSeconds))}s`,
  };
  return template.replace(PLACEHOLDER, (whole, key: string) => values[key] ?? whole);
}

/** The default metrics of a workload whose pod names match `podPattern`. */
function workload(podPattern: string): MetricDefinition[] {
  const pods = `namespace="{{namespace}}", pod=~"${podPattern}"`;
  return selectorQueries(pods, '');
}

/**
 * The default metrics of the pods that `owned` (a PromQL vector with `namespace` and `pod`
 * labels, from kube-state-metrics) lists. The filter is `and on (namespace, pod)`, applied
 * to what rate()/increase() return and before sum(): a range vector cannot be joined, and
 * once summed the `pod` label is gone. `and` keeps the left-hand values as they are and
 * accepts several right-hand series per pod (two kube-state-metrics replicas, a pod with
 * two owners), where `* on (namespace, pod) group_left ()` needs exactly one series whose
 * value is 1 (hence kube-prometheus' `max by`).
 */
function ownedQueries(owned: string): MetricDefinition[] {
  return selectorQueries('namespace="{{namespace}}"', ` and on (namespace, pod) (${owned})`);
}

/**
 * The default metrics for pods matched by `pods` (label matchers), optionally joined by
 * `join`, summed into one series, or into one series per value of the labels `by`.
 */
function selectorQueries(
  pods: string,
  join: string,
  by: readonly string[] = [],
): MetricDefinition[] {
  const http = `http_requests_total{${pods}}`;
  const sum = by.length === 0 ? 'sum' : `sum by (${by.join(', ')}) `;
  return [
    {
      metric: 'cpu',
      label: 'CPU',
      unit: 'cores',
      query: `${sum}(rate(container_cpu_usage_seconds_total{${pods}, container!=""}[{{rateInterval}}])${join})`,
    },
    {
      metric: 'memory',
      label: 'Memory',
      unit: 'bytes',
      query: `${sum}(container_memory_working_set_bytes{${pods}, container!=""}${join})`,
    },
    {
      metric: 'restarts',
      label: 'Restarts',
      unit: 'restarts',
      query: `${sum}(increase(kube_pod_container_status_restarts_total{${pods}}[{{rateInterval}}])${join})`,
    },
    {
      metric: 'requests',
      label: 'Request rate',
      unit: 'req/s',
      optional: true,
      query: `${sum}(rate(${http}[{{rateInterval}}])${join})`,
    },
    {
      metric: 'errors',
      label: 'Error rate',
      unit: 'req/s',
      optional: true,
      query: `${sum}(rate(http_requests_total{${pods}, code=~"5.."}[{{rateInterval}}])${join})`,
    },
    {
      metric: 'latency',
      label: 'Latency (p95)',
      unit: 'seconds',
      optional: true,
      query: `histogram_quantile(0.95, sum by (${['le', ...by].join(', ')}) (rate(http_request_duration_seconds_bucket{${pods}}[{{rateInterval}}])${join}))`,
    },
  ];
}

/**
 * A ReplicaSet's pods, by ownership: `kube_pod_owner` names the ReplicaSet, and
 * `kube_replicaset_owner` the Deployment or Rollout (`ownerKind`) that owns the ReplicaSet.
 * The join is evaluated at every point, so it also finds the pods of ReplicaSets that existed
 * only then (last week's, which the seasonal history needs), as kube-prometheus'
 * `namespace_workload_pod:kube_pod_owner:relabel` rules do.
 */
function replicaSetPods(ownerKind: 'Deployment' | 'Rollout'): string {
  return (
    'label_replace(kube_pod_owner{namespace="{{namespace}}", owner_kind="ReplicaSet"}, ' +
    '"replicaset", "$1", "owner_name", "(.*)") and on (namespace, replicaset) ' +
    `kube_replicaset_owner{namespace="{{namespace}}", owner_kind="${ownerKind}", owner_name="{{name}}"}`
  );
}

/** The pods a controller of kind `ownerKind` owns directly, by ownership. */
function directPods(ownerKind: 'StatefulSet' | 'DaemonSet' | 'ReplicaSet'): string {
  return `kube_pod_owner{namespace="{{namespace}}", owner_kind="${ownerKind}", owner_name="{{name}}"}`;
}

/**
 * Built-in queries: cAdvisor and kube-state-metrics metrics of the workload's pods, which
 * are found by ownership through kube-state-metrics (`kube_pod_owner`, and
 * `kube_replicaset_owner` for Deployments and Rollouts): a name pattern cannot tell a
 * Deployment `web`'s pods from a StatefulSet `web-db`'s (`web-db-0` looks like
 * `web-<hash>-<hash>`). A Pod is its name. Request metrics assume the common
 * `http_requests_total` / `http_request_duration_seconds` names. An Application's pods are
 * those labelled `app.kubernetes.io/instance=<name>` (Argo CD's default tracking label),
 * joined through kube-state-metrics' `kube_pod_labels`, in any namespace.
 * {@link NAME_PATTERN_FALLBACK} holds the queries for a Prometheus without kube-state-metrics.
 */
export const DEFAULT_QUERIES: MetricQueries = {
  Deployment: ownedQueries(replicaSetPods('Deployment')),
  Rollout: ownedQueries(replicaSetPods('Rollout')),
  StatefulSet: ownedQueries(directPods('StatefulSet')),
  DaemonSet: ownedQueries(directPods('DaemonSet')),
  ReplicaSet: ownedQueries(directPods('ReplicaSet')),
  Pod: workload('{{nameRegex}}'),
  Application: selectorQueries(
    'pod!=""',
    ' * on (namespace, pod) group_left () max by (namespace, pod) (kube_pod_labels{label_app_kubernetes_io_instance="{{name}}"})',
  ),
};

/** How the pods of a response were chosen; reported as the response's `podSelection`. */
export type PodSelection = 'kube-state-metrics' | 'name-pattern' | 'queries-file';

/**
 * For the kinds whose default queries select pods by ownership: `check`, a selector of the
 * workload's ownership series (the last link of the join, the one that names the workload),
 * and `queries`, the same metrics by pod-name pattern (`<name>-<hash>-<hash>` for
 * Deployment/Rollout, `<name>-<ordinal>` for StatefulSet, `<name>-<hash>` for
 * DaemonSet/ReplicaSet), used when Prometheus has no such series over the queried time (no
 * kube-state-metrics). A name pattern also matches other workloads' pods whose names extend
 * this one's, so it is only the fallback.
 */
export const NAME_PATTERN_FALLBACK: Partial<
  Record<SupportedKind, { check: string; queries: MetricDefinition[] }>
> = {
  Deployment: {
    check:
      'kube_replicaset_owner{namespace="{{namespace}}", owner_kind="Deployment", owner_name="{{name}}"}',
    queries: workload('{{nameRegex}}-[a-z0-9]+-[a-z0-9]+'),
  },
  Rollout: {
    check:
      'kube_replicaset_owner{namespace="{{namespace}}", owner_kind="Rollout", owner_name="{{name}}"}',
    queries: workload('{{nameRegex}}-[a-z0-9]+-[a-z0-9]+'),
  },
  StatefulSet: { check: directPods('StatefulSet'), queries: workload('{{nameRegex}}-[0-9]+') },
  DaemonSet: { check: directPods('DaemonSet'), queries: workload('{{nameRegex}}-[a-z0-9]+') },
  ReplicaSet: { check: directPods('ReplicaSet'), queries: workload('{{nameRegex}}-[a-z0-9]+') },
};

/**
 * The instant query that tells whether kube-state-metrics knew the workload's pods at any
 * time in the `lookbackSeconds` before the evaluation time: non-empty if so. One bounded
 * query over the few ownership series of one workload.
 */
export function ownershipCheckQuery(
  kind: SupportedKind,
  vars: QueryVariables,
  lookbackSeconds: number,
): string | undefined {
  const fallback = NAME_PATTERN_FALLBACK[kind];
  if (!fallback) return undefined;
  const seconds = Math.max(1, Math.ceil(lookbackSeconds));
  return `count(last_over_time(${renderQuery(fallback.check, vars)}[${seconds}s]))`;
}

/** A queries file is invalid; `problems` lists every problem with its dotted path. */
export class QueriesFileError extends Error {
  override readonly name = 'QueriesFileError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
  }
}

/**
 * Reads a JSON or YAML file mapping kinds to metric lists (same shape as
 * {@link DEFAULT_QUERIES}). A kind in the file replaces that kind's defaults; other kinds
 * keep theirs. Every problem is reported at once; nothing is half-applied.
 */
export function loadMetricQueries(file: string): MetricQueries {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new QueriesFileError(file, [(err as Error).message]);
  }
  return mergeMetricQueries(file, document);
}

/** Validates a parsed queries document and merges it over the defaults. */
export function mergeMetricQueries(file: string, document: unknown): MetricQueries {
  const problems: string[] = [];
  const merged: MetricQueries = { ...DEFAULT_QUERIES };
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new QueriesFileError(file, ['must be a mapping of kind to a list of metrics']);
  }
  for (const [kind, list] of Object.entries(document)) {
    if (!(SUPPORTED_KINDS as readonly string[]).includes(kind)) {
      problems.push(`${kind}: unsupported kind (supported: ${SUPPORTED_KINDS.join(', ')})`);
      continue;
    }
    if (!Array.isArray(list) || list.length === 0) {
      problems.push(`${kind} must be a non-empty list of metrics`);
      continue;
    }
    const definitions: MetricDefinition[] = [];
    const seen = new Set<string>();
    list.forEach((entry: unknown, i) => {
      const path = `${kind}[${i}]`;
      const before = problems.length;
      const item = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<
        string,
        unknown
      >;
      for (const field of ['metric', 'label', 'unit', 'query']) {
        if (typeof item[field] !== 'string' || item[field] === '') {
          problems.push(`${path}.${field} must be a non-empty string`);
        }
      }
      if (item.optional !== undefined && typeof item.optional !== 'boolean') {
        problems.push(`${path}.optional must be true or false`);
      }
      if (typeof item.metric === 'string') {
        if (seen.has(item.metric)) problems.push(`${path}.metric "${item.metric}" is repeated`);
        seen.add(item.metric);
      }
      if (typeof item.query === 'string') {
        problems.push(...checkTemplate(item.query).map((p) => `${path}.query ${p}`));
      }
      if (problems.length === before) definitions.push(item as unknown as MetricDefinition);
    });
    merged[kind as SupportedKind] = definitions;
  }
  if (problems.length > 0) throw new QueriesFileError(file, problems);
  return merged;
}

/**
 * Problems with a template's placeholders. SECURITY: request values are escaped for a
 * double-quoted string literal, so they are only inert inside one.
 */
export function checkTemplate(template: string): string[] {
  const problems: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const key = match[1];
    if (!KNOWN_PLACEHOLDERS.has(key)) {
      problems.push(`uses unknown placeholder {{${key}}}`);
    } else if (QUOTED_PLACEHOLDERS.has(key) && !isInsideDoubleQuotes(template, match.index)) {
      problems.push(`must put {{${key}}} inside a double-quoted string`);
    }
  }
  return problems;
}

function isInsideDoubleQuotes(text: string, index: number): boolean {
  let inside = false;
  for (let i = 0; i < index; i++) {
    if (inside && text[i] === '\\') i++;
    else if (text[i] === '"') inside = !inside;
  }
  return inside;
}

/** Kinds the application summary scores together: workloads whose pods kube-state-metrics knows. */
export const SUMMARY_KINDS = [
  'Deployment',
  'Rollout',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
] as const;
export type SummaryKind = (typeof SUMMARY_KINDS)[number];

/** The labels that tell the series of a {@link workloadSummaryQueries} query apart. */
export const WORKLOAD_LABELS = ['namespace', 'workload_kind', 'workload'] as const;

/** A workload of the summary. */
export interface WorkloadRef {
  kind: SummaryKind;
  namespace: string;
  name: string;
}

/**
 * The default metrics of all `workloads` at once: each query returns one series per
 * workload, labelled by {@link WORKLOAD_LABELS}, so the summary costs one query per metric
 * whatever the number of workloads. A series equals the workload's own default query (the
 * same pods, by ownership, summed the same way); `* on (namespace, pod) group_left` copies
 * the workload's labels onto each pod's series, which `and on` (used for one workload)
 * cannot.
 */
export function workloadSummaryQueries(workloads: readonly WorkloadRef[]): MetricDefinition[] {
  const namespaces = [...new Set(workloads.map((w) => w.namespace))].sort();
  const pods = `namespace=~"${escapePromqlString(namespaces.map(quoteRegex).join('|'))}"`;
  const join = ` * on (namespace, pod) group_left (workload_kind, workload) ${podWorkloads(workloads)}`;
  return selectorQueries(pods, join, WORKLOAD_LABELS);
}

/**
 * One series of value 1 per pod of `workloads`, labelled `namespace`, `pod`,
 * `workload_kind` and `workload`: kube-state-metrics' ownership series relabelled, through
 * the ReplicaSets for Deployments and Rollouts as {@link replicaSetPods} does. `max by`
 * keeps one series per pod when kube-state-metrics runs twice. SECURITY: every name is
 * regex-quoted and escaped.
 */
export function podWorkloads(workloads: readonly WorkloadRef[]): string {
  const owners = new Map<string, { kind: SummaryKind; namespace: string; names: string[] }>();
  for (const { kind, namespace, name } of workloads) {
    const key = `${kind}/${namespace}`;
    const entry = owners.get(key) ?? { kind, namespace, names: [] };
    entry.names.push(name);
    owners.set(key, entry);
  }
  const asWorkload = (vector: string) =>
    `label_replace(label_replace(${vector}, "workload", "$1", "owner_name", "(.*)"), "workload_kind", "$1", "owner_kind", "(.*)")`;
  const parts = [...owners.values()].map(({ kind, namespace, names }) => {
    const ns = escapePromqlString(namespace);
    const owned = `owner_kind="${kind}", owner_name=~"${escapePromqlString(names.map(quoteRegex).join('|'))}"`;
    if (kind === 'Deployment' || kind === 'Rollout') {
      return (
        `label_replace(kube_pod_owner{namespace="${ns}", owner_kind="ReplicaSet"}, "replicaset", "$1", "owner_name", "(.*)")` +
        ' * on (namespace, replicaset) group_left (workload_kind, workload) ' +
        `max by (namespace, replicaset, workload_kind, workload) (${asWorkload(`kube_replicaset_owner{namespace="${ns}", ${owned}}`)})`
      );
    }
    return asWorkload(`kube_pod_owner{namespace="${ns}", ${owned}}`);
  });
  return `max by (namespace, pod, workload_kind, workload) (${parts.join(' or ')})`;
}
