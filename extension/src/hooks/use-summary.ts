import * as React from 'react';

import { AnomalyApiError, fetchSummary, isAbortError } from '../api/anomaly-client';
import type { ResourceRef, SummaryResponse } from '../api/types';
import type { Application } from '../argocd-types';
import { resourceKey } from '../model/workloads';

/** What the badge and its flyout judge ("the last hour" in their text), at the backend's default step. */
export const SUMMARY_RANGE_SECONDS = 3600;
/**
 * An answer is reused this long: the badge and its flyout share one request, and moving
 * between applications does not ask again for the one just seen.
 */
export const SUMMARY_CACHE_MS = 30_000;
/** The badge asks again this often while it is on screen. */
export const SUMMARY_REFRESH_MS = 60_000;
const CACHE_ENTRIES = 100;

export type SummaryLoad =
  | { status: 'loading' }
  | { status: 'ready'; data: SummaryResponse }
  | { status: 'error'; error: AnomalyApiError };

interface Cached {
  at: number;
  answer: Promise<SummaryResponse>;
}
const cache = new Map<string, Cached>();

/**
 * The summary of `workloads` over the last hour, from a request made in the last
 * {@link SUMMARY_CACHE_MS} when there is one (a failed one is not kept). Not aborted when a
 * caller goes away: another may be waiting for the same answer.
 */
export function cachedSummary(
  application: Application,
  workloads: readonly ResourceRef[],
  now = Date.now(),
): Promise<SummaryResponse> {
  const { namespace, name } = application.metadata;
  const key = JSON.stringify([
    namespace,
    name,
    application.spec.project,
    workloads.map(resourceKey),
  ]);
  const hit = cache.get(key);
  if (hit && now - hit.at < SUMMARY_CACHE_MS) return hit.answer;
  const to = Math.floor(now / 1000);
  const answer = fetchSummary(application, workloads, { from: to - SUMMARY_RANGE_SECONDS, to });
  cache.delete(key);
  cache.set(key, { at: now, answer });
  while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  answer.catch(() => {
    if (cache.get(key)?.answer === answer) cache.delete(key);
  });
  return answer;
}

/**
 * Loads the summary of `workloads` and, with `refreshMs`, again at that interval while
 * mounted. Nothing is asked for an application without workloads.
 */
export function useSummary(
  application: Application,
  workloads: readonly ResourceRef[],
  refreshMs?: number,
): SummaryLoad {
  const [load, setLoad] = React.useState<SummaryLoad>({ status: 'loading' });
  const [tick, setTick] = React.useState(0);
  const { namespace, name } = application.metadata;
  const project = application.spec.project;
  const keys = workloads.map(resourceKey).join(' ');

  React.useEffect(() => {
    if (refreshMs === undefined) return undefined;
    const timer = setInterval(() => setTick((n) => n + 1), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);

  React.useEffect(() => {
    if (keys === '') return undefined;
    let current = true;
    const refs = keys.split(' ').map((key) => {
      const [group, kind, ns, n] = key.split('/');
      return { group, kind, namespace: ns, name: n };
    });
    cachedSummary({ metadata: { namespace, name }, spec: { project } }, refs).then(
      (data) => {
        if (current) setLoad({ status: 'ready', data });
      },
      (err: unknown) => {
        if (!current || isAbortError(err)) return;
        const error =
          err instanceof AnomalyApiError
            ? err
            : new AnomalyApiError(0, undefined, err instanceof Error ? err.message : String(err));
        setLoad({ status: 'error', error });
      },
    );
    return () => {
      current = false;
    };
  }, [namespace, name, project, keys, tick]);

  return load;
}
