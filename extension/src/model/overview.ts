import type { WorkloadSummary } from '../api/types';
import type { OverviewRow } from '../hooks/use-overview';
import { byConcern } from './workloads';

/** What the overview says of one application, derived from its row. */
export type RowState =
  | { kind: 'anomalous' | 'normal' | 'unknown'; maxScore: number; worst?: WorkloadSummary }
  | { kind: 'error'; message: string }
  | { kind: 'pending' }
  | { kind: 'no-workloads' };

export function rowState(row: OverviewRow): RowState {
  if (row.workloads.length === 0) return { kind: 'no-workloads' };
  if (!row.result) return { kind: 'pending' };
  if (row.result.status === 'error') return { kind: 'error', message: row.result.error.message };
  const { summary, workloads } = row.result.data;
  return {
    kind: summary.state,
    maxScore: summary.maxScore,
    worst: [...workloads].sort(byConcern)[0],
  };
}

const RANK: Record<RowState['kind'], number> = {
  anomalous: 0,
  normal: 1,
  unknown: 2,
  error: 3,
  pending: 4,
  'no-workloads': 5,
};

const scoreOf = (state: RowState) => ('maxScore' in state ? state.maxScore : 0);

/** `<namespace>/<name>`: applications in any namespace are told apart. */
export function applicationKey(row: OverviewRow): string {
  return `${row.application.metadata.namespace ?? ''}/${row.application.metadata.name ?? ''}`;
}

/**
 * The rows of `project` (all when undefined), most anomalous first: anomalous by highest
 * score, then normal, unknown, failed, not yet scored and without workloads; ties by name.
 */
export function sortedRows(rows: readonly OverviewRow[], project?: string): OverviewRow[] {
  return rows
    .filter((row) => project === undefined || row.application.spec.project === project)
    .map((row) => ({ row, state: rowState(row) }))
    .sort(
      (a, b) =>
        RANK[a.state.kind] - RANK[b.state.kind] ||
        scoreOf(b.state) - scoreOf(a.state) ||
        applicationKey(a.row).localeCompare(applicationKey(b.row)),
    )
    .map(({ row }) => row);
}

/** The projects of `rows`, sorted, each once. */
export function projectsOf(rows: readonly OverviewRow[]): string[] {
  return [...new Set(rows.map((row) => row.application.spec.project))].sort();
}
