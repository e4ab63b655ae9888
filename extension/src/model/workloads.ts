import type { ResourceRef, WorkloadSummary } from '../api/types';
import type { Application } from '../argocd-types';

/** The kinds the backend's summary scores (its SUMMARY_KINDS): workloads that run pods. */
export const SUMMARY_KINDS: readonly { group: string; kind: string }[] = [
  { group: 'apps', kind: 'Deployment' },
  { group: 'apps', kind: 'StatefulSet' },
  { group: 'apps', kind: 'DaemonSet' },
  { group: 'apps', kind: 'ReplicaSet' },
  { group: 'argoproj.io', kind: 'Rollout' },
];

/**
 * The application's workloads: the objects of `status.resources` (what Argo CD manages for
 * it, the same list its resource table shows) of a summarised kind, each once, in order.
 */
export function applicationWorkloads(application: Application): ResourceRef[] {
  const seen = new Set<string>();
  const workloads: ResourceRef[] = [];
  for (const r of application.status?.resources ?? []) {
    const group = r.group ?? '';
    if (!SUMMARY_KINDS.some((k) => k.group === group && k.kind === r.kind)) continue;
    if (!r.namespace || !r.name) continue;
    const ref = { group, kind: r.kind, namespace: r.namespace, name: r.name };
    const key = resourceKey(ref);
    if (seen.has(key)) continue;
    seen.add(key);
    workloads.push(ref);
  }
  return workloads;
}

/** `group/kind/namespace/name`, Argo CD's node key (ui utils.tsx nodeKey). */
export function resourceKey(ref: ResourceRef): string {
  return [ref.group, ref.kind, ref.namespace, ref.name].join('/');
}

const STATE_ORDER = { anomalous: 0, normal: 1, unknown: 2 } as const;

/** Anomalous first, strongest first; then normal, then unknown; ties by name. */
export function byConcern(a: WorkloadSummary, b: WorkloadSummary): number {
  return (
    STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
    b.maxScore - a.maxScore ||
    resourceKey(a.resource).localeCompare(resourceKey(b.resource))
  );
}

/**
 * The link to a resource's Anomalies tab on the application page, relative to the page's
 * base: Argo CD's `?node=<group>/<kind>/<namespace>/<name>/0&tab=extension-<i>`, where `i`
 * is the tab's place among the resource extensions of that kind, sorted by title
 * (extensions-service.ts getResourceTabs). "Anomalies" is taken to be the first; with an
 * extension titled before it on the same kind, the link opens that extension's tab.
 */
export function resourceTabHref(application: Application, resource: ResourceRef): string {
  const query = new URLSearchParams({ node: `${resourceKey(resource)}/0`, tab: 'extension-0' });
  const { namespace, name } = application.metadata;
  return `applications/${encodeURIComponent(namespace ?? '')}/${encodeURIComponent(name ?? '')}?${query.toString()}`;
}
