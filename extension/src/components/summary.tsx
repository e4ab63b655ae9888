import * as React from 'react';

import type { AnomaliesResponse } from '../api/types';
import { headerState, type HeaderState } from '../model/explain';
import { formatScore, formatTime } from '../model/format';

export interface SummaryProps {
  /** Undefined while the first answer is loading (or on an error): the row keeps its height. */
  data: AnomaliesResponse | undefined;
  /** "last 6 hours". */
  rangeDescription: string;
}

function stateText(
  state: HeaderState,
  data: AnomaliesResponse,
  rangeDescription: string,
): { label: string; note: string; icon: string; tone: 'normal' | 'anomalous' | 'unknown' } {
  const span = data.range.to - data.range.from;
  switch (state.kind) {
    case 'unknown':
      return {
        label: 'Unknown',
        note: 'not enough data to judge',
        icon: 'fa fa-question-circle',
        tone: 'unknown',
      };
    case 'anomalous-now':
      return {
        label: 'Anomalous now',
        note: state.since < data.range.to ? `since ${formatTime(state.since, span)}` : '',
        icon: 'fa fa-exclamation-triangle',
        tone: 'anomalous',
      };
    case 'normal-now':
      return {
        label: 'Normal now',
        note: `${state.windows} ${state.windows === 1 ? 'anomaly' : 'anomalies'} in the ${rangeDescription}`,
        icon: 'fa fa-check-circle',
        tone: 'normal',
      };
    default:
      return {
        label: 'Normal',
        note: `no anomalies in the ${rangeDescription}`,
        icon: 'fa fa-check-circle',
        tone: 'normal',
      };
  }
}

/**
 * The state at a glance. "Now" and "somewhere in the range" are different questions: the
 * label answers the first (anomalous now / normal now), the note the second.
 */
export function Summary({ data, rangeDescription }: SummaryProps): React.ReactElement {
  // Without data the same rows render with dashes, so nothing moves when it arrives.
  const text = data ? stateText(headerState(data), data, rangeDescription) : undefined;
  return (
    <dl
      className={`ae-summary${data ? '' : ' ae-muted'}`}
      aria-label="Anomaly summary"
      aria-hidden={data ? undefined : true}
    >
      <div>
        <dt className="ae-sr-only">State</dt>
        <dd className={`ae-state ae-state--${text?.tone ?? 'unknown'}`} style={{ margin: 0 }}>
          {text ? (
            <>
              <i className={text.icon} aria-hidden="true" /> {text.label}
            </>
          ) : (
            '—'
          )}
        </dd>
        <dd className="ae-state-note ae-muted" style={{ margin: 0 }}>
          {text?.note || '\u00a0'}
        </dd>
      </div>
      <div>
        <dt className="ae-muted">Current score</dt>
        <dd className="ae-figure" style={{ margin: 0 }}>
          {formatScore(data?.summary.score)}
          <span className="ae-muted"> / 10</span>
        </dd>
      </div>
      <div>
        <dt className="ae-muted">Highest in range</dt>
        <dd className="ae-figure" style={{ margin: 0 }}>
          {formatScore(data?.summary.maxScore)}
        </dd>
      </div>
    </dl>
  );
}
