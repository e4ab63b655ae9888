import * as React from 'react';

import type { AnomalySummary } from '../api/types';
import { formatScore } from '../model/format';

const STATE_TEXT: Record<AnomalySummary['state'], { label: string; icon: string }> = {
  normal: { label: 'Normal', icon: 'fa fa-check-circle' },
  anomalous: { label: 'Anomalous', icon: 'fa fa-exclamation-triangle' },
  unknown: { label: 'Unknown: not enough data to judge', icon: 'fa fa-question-circle' },
};

export interface SummaryProps {
  /** Undefined while the first answer is loading: the row keeps its height. */
  summary: AnomalySummary | undefined;
}

/** The state at a glance: normal / anomalous / unknown, latest and highest score. */
export function Summary({ summary }: SummaryProps): React.ReactElement {
  // Without a summary the same rows render with dashes, so nothing moves when it arrives.
  const state = summary ? (STATE_TEXT[summary.state] ?? STATE_TEXT.unknown) : undefined;
  return (
    <dl
      className={`ae-summary${summary ? '' : ' ae-muted'}`}
      aria-label="Anomaly summary"
      aria-hidden={summary ? undefined : true}
    >
      <div>
        <dt className="ae-sr-only">State</dt>
        <dd className={`ae-state ae-state--${summary?.state ?? 'unknown'}`} style={{ margin: 0 }}>
          {state ? (
            <>
              <i className={state.icon} aria-hidden="true" /> {state.label}
            </>
          ) : (
            '—'
          )}
        </dd>
      </div>
      <div>
        <dt className="ae-muted">Current score</dt>
        <dd className="ae-figure" style={{ margin: 0 }}>
          {formatScore(summary?.score)}
          <span className="ae-muted"> / 10</span>
        </dd>
      </div>
      <div>
        <dt className="ae-muted">Highest in range</dt>
        <dd className="ae-figure" style={{ margin: 0 }}>
          {formatScore(summary?.maxScore)}
        </dd>
      </div>
      <div>
        <dt className="ae-muted">Anomalous windows</dt>
        <dd className="ae-figure" style={{ margin: 0 }}>
          {summary ? summary.anomalousWindows : '—'}
        </dd>
      </div>
    </dl>
  );
}
