import * as React from 'react';

import { AnomalyApiError, fetchApplications, isAbortError } from '../api/anomaly-client';
import type { ResourceRef, SummaryResponse } from '../api/types';
import type { Application } from '../argocd-types';
import { applicationWorkloads } from '../model/workloads';
import { cachedSummary } from './use-summary';

/** Summaries in flight at once: the backend and Prometheus see at most this many. */
export const OVERVIEW_CONCURRENCY = 4;
/** The table is redrawn at most this often while answers arrive (500 rows, 500 answers). */
const FLUSH_MS = 250;

export interface OverviewRow {
  application: Application;
  workloads: ResourceRef[];
  /** Absent until its summary is in (and for an application without workloads). */
  result?: { status: 'ready'; data: SummaryResponse } | { status: 'error'; error: AnomalyApiError };
}

export type OverviewLoad =
  | { phase: 'listing' }
  | { phase: 'failed'; error: AnomalyApiError }
  | {
      phase: 'scoring' | 'done';
      rows: OverviewRow[];
      /** Applications with workloads, and how many of them have an answer. */
      total: number;
      scored: number;
      /** A 401 or 403 stops the rest: every other request would get the same answer. */
      stopped?: AnomalyApiError;
    };

function asApiError(err: unknown): AnomalyApiError {
  return err instanceof AnomalyApiError
    ? err
    : new AnomalyApiError(0, undefined, err instanceof Error ? err.message : String(err));
}

/**
 * Lists the applications the user may see (Argo CD's API, with the session), then asks for
 * each one's summary through the sidecar with its own headers, {@link OVERVIEW_CONCURRENCY}
 * at a time, in list order. Answers come from the summary cache when the status panel (or
 * an earlier visit) asked in the last 30 s. Unmounting stops scheduling; the few requests
 * in flight finish into the cache.
 */
export function useOverview(): OverviewLoad {
  const [load, setLoad] = React.useState<OverviewLoad>({ phase: 'listing' });

  React.useEffect(() => {
    const controller = new AbortController();
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    void (async () => {
      let applications: Application[];
      try {
        applications = await fetchApplications({ signal: controller.signal });
      } catch (err) {
        if (live && !isAbortError(err)) setLoad({ phase: 'failed', error: asApiError(err) });
        return;
      }
      const rows: OverviewRow[] = applications.map((application) => ({
        application,
        workloads: applicationWorkloads(application),
      }));
      const queue = rows.filter((row) => row.workloads.length > 0);
      let scored = 0;
      let stopped: AnomalyApiError | undefined;
      const publish = () => {
        timer = undefined;
        if (!live) return;
        const done = scored === queue.length || stopped !== undefined;
        setLoad({
          phase: done ? 'done' : 'scoring',
          rows: [...rows],
          total: queue.length,
          scored,
          stopped,
        });
      };
      publish();
      let next = 0;
      const worker = async () => {
        while (live && !stopped && next < queue.length) {
          const row = queue[next++];
          try {
            row.result = {
              status: 'ready',
              data: await cachedSummary(row.application, row.workloads),
            };
          } catch (err) {
            const error = asApiError(err);
            row.result = { status: 'error', error };
            if (error.status === 401 || error.status === 403) stopped = error;
          }
          scored++;
          if (scored === queue.length || stopped) publish();
          else timer ??= setTimeout(publish, FLUSH_MS);
        }
      };
      await Promise.all(Array.from({ length: OVERVIEW_CONCURRENCY }, worker));
    })();
    return () => {
      live = false;
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, []);

  return load;
}
