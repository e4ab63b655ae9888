import * as React from 'react';

import type { WorkloadSummary } from '../api/types';
import type { StatusPanelComponentProps, StatusPanelFlyoutProps } from '../argocd-types';
import { describeError } from '../model/error-message';
import { formatScore, formatTime } from '../model/format';
import { applicationWorkloads, byConcern, resourceKey, resourceTabHref } from '../model/workloads';
import { SUMMARY_REFRESH_MS, useSummary } from '../hooks/use-summary';
import { ErrorNotice } from './error-notice';
import { ROOT_CLASS, ScopedStyles } from './scoped-styles';

/** argo-ui's $argo-color-gray-6, which the status panel's own section labels use. */
const LABEL_STYLE: React.CSSProperties = {
  display: 'flex',
  alignItems: 'flex-start',
  fontSize: '12px',
  fontWeight: 600,
  color: '#6d7f8b',
  minHeight: '18px',
};

function describeWorst(w: WorkloadSummary): string {
  return `${w.worst?.label ?? 'Anomaly'} in ${w.resource.kind} ${w.resource.name}`;
}

/**
 * The application's item in Argo CD's status panel: its worst anomaly of the last hour
 * (score, and the workload and metric behind it), or that all is normal. The button opens
 * the flyout with every workload.
 */
export function AnomalyStatusPanel({
  application,
  openFlyout,
}: StatusPanelComponentProps): React.ReactElement {
  const workloads = React.useMemo(() => applicationWorkloads(application), [application]);
  const load = useSummary(application, workloads, SUMMARY_REFRESH_MS);
  let value: React.ReactNode;
  let detail: string | undefined;
  if (workloads.length === 0) {
    value = <span className="ae-state--unknown">No workloads</span>;
    detail = 'Nothing here runs pods to score';
  } else if (load.status === 'loading') {
    value = <span className="ae-state--unknown">Loading…</span>;
  } else if (load.status === 'error') {
    value = <span className="ae-state--unknown">Unavailable</span>;
    detail = describeError(load.error).title;
  } else {
    const worst = [...load.data.workloads].sort(byConcern)[0];
    const { state, anomalousWorkloads } = load.data.summary;
    if (state === 'anomalous' && worst) {
      value = (
        <span className="ae-state--anomalous">
          <i className="fa fa-exclamation-triangle" aria-hidden="true" /> Score{' '}
          {formatScore(worst.maxScore)}
        </span>
      );
      detail =
        describeWorst(worst) + (anomalousWorkloads > 1 ? ` (+${anomalousWorkloads - 1} more)` : '');
    } else if (state === 'normal') {
      value = (
        <span className="ae-state--normal">
          <i className="fa fa-check-circle" aria-hidden="true" /> Normal
        </span>
      );
      detail = 'No anomaly in the last hour';
    } else {
      value = <span className="ae-state--unknown">No data</span>;
      detail = 'No metrics for these workloads';
    }
  }
  return (
    <div className={`application-status-panel__item ${ROOT_CLASS}`} data-anomaly-status="">
      <ScopedStyles />
      <div style={{ display: 'flex', alignItems: 'center' }}>
        <label style={LABEL_STYLE}>ANOMALIES</label>
        <button
          type="button"
          className="argo-button application-status-panel__more-button"
          aria-label="Show the anomalies of every workload"
          title="Show the anomalies of every workload"
          onClick={() => openFlyout()}
        >
          <i className="fa fa-ellipsis-h" aria-hidden="true" />
        </button>
      </div>
      <div className="application-status-panel__item-value" aria-live="polite">
        {value}
      </div>
      {detail && <div className="application-status-panel__item-name">{detail}</div>}
    </div>
  );
}

/**
 * The flyout: every workload of the application, anomalous first, strongest first, each
 * linking to its own Anomalies tab.
 */
export function AnomalyFlyout({ application }: StatusPanelFlyoutProps): React.ReactElement {
  const workloads = React.useMemo(() => applicationWorkloads(application), [application]);
  const load = useSummary(application, workloads);
  let body: React.ReactNode;
  if (workloads.length === 0) {
    body = <p>This application has no Deployments, StatefulSets, DaemonSets or Rollouts.</p>;
  } else if (load.status === 'loading') {
    body = <p aria-busy="true">Loading the last hour of {workloads.length} workloads…</p>;
  } else if (load.status === 'error') {
    body = <ErrorNotice error={load.error} />;
  } else {
    const { range } = load.data;
    const span = range.to - range.from;
    body = (
      <ol className="ae-workloads">
        {[...load.data.workloads].sort(byConcern).map((w) => (
          <li key={resourceKey(w.resource)} className={`ae-workload ae-workload--${w.state}`}>
            <a href={resourceTabHref(application, w.resource)}>
              {w.resource.kind} {w.resource.namespace}/{w.resource.name}
            </a>
            <span className={`ae-state--${w.state}`}>
              {w.state === 'anomalous'
                ? ` score ${formatScore(w.maxScore)}`
                : w.state === 'normal'
                  ? ' normal'
                  : ' no data'}
            </span>
            {w.worst && (
              <span className="ae-also">
                {w.worst.label}, {formatTime(w.worst.start, span)}–{formatTime(w.worst.end, span)}
                {w.anomalousWindows > 1 ? ` (${w.anomalousWindows} anomalies)` : ''}
              </span>
            )}
          </li>
        ))}
      </ol>
    );
  }
  return (
    <div className={ROOT_CLASS} data-anomaly-flyout="">
      <ScopedStyles />
      <div className="ae-toolbar">
        <h2>Anomalies in the last hour</h2>
      </div>
      {body}
    </div>
  );
}
