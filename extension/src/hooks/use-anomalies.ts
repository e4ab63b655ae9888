import * as React from 'react';

import { AnomalyApiError, fetchAnomalies, isAbortError } from '../api/anomaly-client';
import type { Application } from '../argocd-types';
import type { AnomaliesResponse, ResourceRef } from '../api/types';
import { timeRangeEndingAt, type TimeRangeId } from '../model/time-range';

export type AnomaliesLoad =
  /** `previous` keeps the last answer on screen while refreshing (no layout shift). */
  | { status: 'loading'; previous?: AnomaliesResponse }
  | { status: 'ready'; data: AnomaliesResponse }
  | { status: 'error'; error: AnomalyApiError };

/**
 * Loads the anomalies of `resource` for the range ending now. A new range, resource or
 * `reloadToken` starts a new request and aborts the previous one; unmounting aborts too,
 * so a late answer never updates an unmounted tab.
 */
export function useAnomalies(
  application: Application,
  resource: ResourceRef,
  rangeId: TimeRangeId,
  reloadToken: number,
): AnomaliesLoad {
  const [load, setLoad] = React.useState<AnomaliesLoad>({ status: 'loading' });
  const { namespace: appNamespace, name: appName } = application.metadata;
  const project = application.spec.project;
  const { group, kind, namespace, name } = resource;

  React.useEffect(() => {
    const controller = new AbortController();
    setLoad((current) => ({
      status: 'loading',
      previous: current.status === 'ready' ? current.data : undefined,
    }));
    const range = timeRangeEndingAt(rangeId, Date.now() / 1000);
    fetchAnomalies(
      { metadata: { namespace: appNamespace, name: appName }, spec: { project } },
      { group, kind, namespace, name },
      range,
      { signal: controller.signal },
    ).then(
      (data) => {
        if (!controller.signal.aborted) setLoad({ status: 'ready', data });
      },
      (err: unknown) => {
        if (controller.signal.aborted || isAbortError(err)) return;
        const error =
          err instanceof AnomalyApiError
            ? err
            : new AnomalyApiError(0, undefined, err instanceof Error ? err.message : String(err));
        setLoad({ status: 'error', error });
      },
    );
    return () => controller.abort();
  }, [appNamespace, appName, project, group, kind, namespace, name, rangeId, reloadToken]);

  return load;
}
