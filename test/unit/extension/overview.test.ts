import { AnomalyApiError } from '../../../extension/src/api/anomaly-client';
import type { SummaryResponse } from '../../../extension/src/api/types';
import type { OverviewRow } from '../../../extension/src/hooks/use-overview';
import { projectsOf, rowState, sortedRows } from '../../../extension/src/model/overview';

const web = { group: 'apps', kind: 'Deployment', namespace: 'ns', name: 'web' };

function summary(state: 'anomalous' | 'normal' | 'unknown', maxScore: number): SummaryResponse {
  return {
    range: { from: 0, to: 3600, step: 60 },
    source: 'prometheus',
    summary: { state, maxScore, anomalousWorkloads: state === 'anomalous' ? 1 : 0 },
    workloads: [
      { resource: web, state, score: maxScore, maxScore, anomalousWindows: 0, worst: null },
    ],
  };
}

function row(
  name: string,
  project: string,
  result?: OverviewRow['result'],
  workloads = [web],
): OverviewRow {
  return {
    application: { metadata: { namespace: 'argocd', name }, spec: { project } },
    workloads,
    result,
  };
}

const rows: OverviewRow[] = [
  row('quiet', 'a', { status: 'ready', data: summary('normal', 2) }),
  row('empty', 'b', undefined, []),
  row('waiting', 'a'),
  row('hot', 'b', { status: 'ready', data: summary('anomalous', 6) }),
  row('hotter', 'a', { status: 'ready', data: summary('anomalous', 9) }),
  row('failed', 'c', { status: 'error', error: new AnomalyApiError(502, undefined, 'down') }),
  row('blind', 'a', { status: 'ready', data: summary('unknown', 0) }),
  row('calm', 'b', { status: 'ready', data: summary('normal', 2) }),
];

describe('the overview’s rows', () => {
  it('sort most anomalous first, then normal, unknown, failed, waiting and without workloads', () => {
    expect(sortedRows(rows).map((r) => r.application.metadata.name)).toEqual([
      'hotter',
      'hot',
      'calm',
      'quiet',
      'blind',
      'failed',
      'waiting',
      'empty',
    ]);
  });

  it('filter by project, and list the projects once each', () => {
    expect(sortedRows(rows, 'b').map((r) => r.application.metadata.name)).toEqual([
      'hot',
      'calm',
      'empty',
    ]);
    expect(projectsOf(rows)).toEqual(['a', 'b', 'c']);
  });

  it('say what each application’s state is', () => {
    expect(rowState(rows[4])).toEqual({
      kind: 'anomalous',
      maxScore: 9,
      worst: summary('anomalous', 9).workloads[0],
    });
    expect(rowState(rows[5])).toEqual({ kind: 'error', message: 'down' });
    expect(rowState(rows[2])).toEqual({ kind: 'pending' });
    expect(rowState(rows[1])).toEqual({ kind: 'no-workloads' });
  });
});
