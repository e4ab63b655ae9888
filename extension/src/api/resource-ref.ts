import type { State } from '../argocd-types';
import type { ResourceRef } from './types';

/**
 * The group of an `apiVersion`: `apps/v1` -> `apps`, `v1` -> `''` (the core group has no
 * group part, as in Kubernetes).
 */
export function groupOfApiVersion(apiVersion: string | undefined): string {
  if (!apiVersion) return '';
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Identifies the resource the tab shows, from the live manifest Argo CD passes. */
export function resourceRefOf(resource: State): ResourceRef {
  return {
    group: groupOfApiVersion(resource.apiVersion),
    kind: resource.kind ?? '',
    namespace: resource.metadata.namespace ?? '',
    name: resource.metadata.name ?? '',
  };
}
