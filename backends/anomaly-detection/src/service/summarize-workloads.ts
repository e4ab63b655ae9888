import type { MetricSource, QueryCounters, SeriesGroup } from '../sources/metric-source';
import {
  DEFAULT_QUERIES,
  type MetricQueries,
  type PodSelection,
  renderQuery,
  SUMMARY_KINDS,
  type SummaryKind,
  workloadSummaryQueries,
} from '../sources/metric-queries';
import {
  analyzeResource,
  type AnomalyReport,
  buildReport,
  gridOf,
  MAX_CONCURRENT_QUERIES,
  placeOnGrid,
  queryVariables,
} from './analyze-resource';
import { InputError } from './errors';
import {
  type AnomalyRequest,
  checkName,
  checkNamespace,
  KIND_GROUPS,
  parameterReader,
  parseRange,
} from './parse-anomaly-request';
import { planQueries } from './plan-queries';
import { runBounded } from './run-bounded';

/**
 * Most workloads in one summary request. The detector runs once per workload and metric, so
 * this bounds the CPU one request can take; a client with more workloads asks in batches.
 */
export const MAX_SUMMARY_WORKLOADS = 50;
/** Longest range a summary may ask for: a day ("what is wrong now", not a history). */
export const MAX_SUMMARY_RANGE_SECONDS = 86400;

/** A validated `GET /api/v1/anomalies/summary` request. */
export interface SummaryRequest {
  workloads: (AnomalyRequest['resource'] & { kind: SummaryKind })[];
  from: number;
  to: number;
  step?: number;
}

/** One workload of the summary (docs/anomaly-api.md). */
export interface WorkloadSummary {
  resource: AnomalyRequest['resource'];
  podSelection: PodSelection;
  state: AnomalyReport['summary']['state'];
  score: number;
  maxScore: number;
  anomalousWindows: number;
  /** The workload's strongest window in the range, and the metric that drove it. */
  worst: {
    start: number;
    end: number;
    score: number;
    metric: string;
    label: string;
    unit: string;
  } | null;
}

/** The `200` body of `GET /api/v1/anomalies/summary`. */
export interface SummaryReport {
  range: { from: number; to: number; step: number };
  source: MetricSource['kind'];
  summary: {
    state: AnomalyReport['summary']['state'];
    maxScore: number;
    anomalousWorkloads: number;
  };
  /** In the order asked. */
  workloads: WorkloadSummary[];
}

/**
 * Validates the query string: `workload` (repeated, `<group>/<kind>/<namespace>/<name>`, at
 * most {@link MAX_SUMMARY_WORKLOADS}, no repeats), `from`, `to` (at most a day apart) and
 * the optional `step`, as for a resource.
 */
export function parseSummaryRequest(query: URLSearchParams): SummaryRequest {
  const texts = query.getAll('workload');
  if (texts.length === 0) throw new InputError('workload', 'workload is required');
  if (texts.length > MAX_SUMMARY_WORKLOADS) {
    throw new InputError(
      'workload',
      `at most ${MAX_SUMMARY_WORKLOADS} workloads per request (got ${texts.length}); ask in batches`,
    );
  }
  if (new Set(texts).size !== texts.length) {
    throw new InputError('workload', 'a workload is given more than once');
  }
  const workloads = texts.map((text) => {
    const parts = text.split('/');
    if (parts.length !== 4) {
      throw new InputError('workload', 'workload must be <group>/<kind>/<namespace>/<name>');
    }
    const [group, kind, namespace, name] = parts;
    if (!(SUMMARY_KINDS as readonly string[]).includes(kind)) {
      throw new InputError(
        'workload',
        `kind ${JSON.stringify(kind)} is not summarised (supported: ${SUMMARY_KINDS.join(', ')})`,
      );
    }
    const summaryKind = kind as SummaryKind;
    if (group !== KIND_GROUPS[summaryKind]) {
      throw new InputError(
        'workload',
        `group of a ${kind} must be ${JSON.stringify(KIND_GROUPS[summaryKind])}`,
      );
    }
    checkNamespace('workload', namespace);
    checkName('workload', name);
    return { group, kind: summaryKind, namespace, name };
  });
  const range = parseRange(parameterReader(query));
  if (range.to - range.from > MAX_SUMMARY_RANGE_SECONDS) {
    throw new InputError(
      'from',
      `a summary's range must be at most ${MAX_SUMMARY_RANGE_SECONDS} seconds`,
    );
  }
  return { workloads, ...range };
}

/**
 * Scores every workload of `request` over its range, exactly as `GET /api/v1/anomalies`
 * scores each one (the same history, detector and report), at a bounded cost: the
 * workloads of kinds with the built-in queries are fetched together, one query per metric
 * and history range whatever their number (metric-queries.ts, workloadSummaryQueries).
 * Kinds the operator's queries file defines are analysed one by one, with its queries. A
 * workload kube-state-metrics does not know has no series here and is `unknown` (its tab
 * falls back to the pod-name pattern).
 */
export async function summarizeWorkloads(
  request: SummaryRequest,
  source: MetricSource,
  queries: MetricQueries,
  counters?: QueryCounters,
): Promise<SummaryReport> {
  const { step, ranges } = planQueries(request);
  const grid = gridOf(ranges, step);
  const perWorkload = request.workloads.map((resource) => ({
    resource,
    from: request.from,
    to: request.to,
    step: request.step,
  }));
  const builtIn = perWorkload.filter(
    ({ resource }) => queries[resource.kind] === DEFAULT_QUERIES[resource.kind],
  );
  const reports = new Map<AnomalyRequest, AnomalyReport>();

  if (builtIn.length > 0) {
    const together = workloadSummaryQueries(builtIn.map(({ resource }) => resource));
    // Each workload's own queries: what its series equals, reported as its `query`.
    const own = builtIn.map(({ resource }) =>
      DEFAULT_QUERIES[resource.kind].map((d) =>
        renderQuery(d.query, queryVariables(resource, step)),
      ),
    );
    const tasks = together.flatMap((definition, m) => {
      // Its names are written in already: only {{rateInterval}} is left to fill.
      const query = renderQuery(
        definition.query,
        queryVariables({ namespace: '', name: '' }, step),
      );
      const groups: SeriesGroup[] = builtIn.map(({ resource }, w) => ({
        labels: {
          namespace: resource.namespace,
          workload_kind: resource.kind,
          workload: resource.name,
        },
        query: own[w][m],
      }));
      return ranges.map(
        (range) => () =>
          source.queryRangeGrouped(query, range.start, range.end, step, groups, counters),
      );
    });
    const chunks = await runBounded(tasks, MAX_CONCURRENT_QUERIES);
    for (const [w, workload] of builtIn.entries()) {
      const fetched = DEFAULT_QUERIES[workload.resource.kind].map((definition, m) => ({
        definition,
        query: own[w][m],
        points: placeOnGrid(
          chunks.slice(m * ranges.length, (m + 1) * ranges.length).flatMap((chunk) => chunk[w]),
          grid,
        ),
      }));
      reports.set(
        workload,
        buildReport(workload, step, grid, fetched, 'kube-state-metrics', source.kind),
      );
      // The detector is CPU-bound: let other requests in between workloads.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  for (const workload of perWorkload) {
    if (!reports.has(workload))
      reports.set(workload, await analyzeResource(workload, source, queries, counters));
  }

  const workloads = perWorkload.map((workload) => summarize(reports.get(workload)!));
  const states = new Set(workloads.map((w) => w.state));
  return {
    range: { from: request.from, to: request.to, step },
    source: source.kind,
    summary: {
      state: states.has('anomalous') ? 'anomalous' : states.has('normal') ? 'normal' : 'unknown',
      maxScore: workloads.reduce((max, w) => Math.max(max, w.maxScore), 0),
      anomalousWorkloads: workloads.filter((w) => w.state === 'anomalous').length,
    },
    workloads,
  };
}

function summarize(report: AnomalyReport): WorkloadSummary {
  const strongest = report.windows.reduce<AnomalyReport['windows'][number] | undefined>(
    (best, w) => (best === undefined || w.score > best.score ? w : best),
    undefined,
  );
  const driver = strongest?.drivers[0];
  return {
    resource: report.resource,
    podSelection: report.podSelection,
    ...report.summary,
    worst:
      strongest && driver
        ? {
            start: strongest.start,
            end: strongest.end,
            score: strongest.score,
            metric: driver.metric,
            label: driver.label,
            unit: driver.unit,
          }
        : null,
  };
}
