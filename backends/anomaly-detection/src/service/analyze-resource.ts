import {
  type BandPoint,
  type Baseline,
  detectAnomalies,
  type ScorePoint,
  type SeriesPoint,
  type WindowExplanation,
} from '../detector';
import type { MetricDefinition, MetricQueries, PodSelection } from '../sources/metric-queries';
import {
  DEFAULT_QUERIES,
  NAME_PATTERN_FALLBACK,
  ownershipCheckQuery,
  renderQuery,
  type QueryVariables,
} from '../sources/metric-queries';
import type { MetricSource, QueryCounters, RangeSource } from '../sources/metric-source';
import type { AnomalyRequest } from './parse-anomaly-request';
import { planQueries, type QueryRange } from './plan-queries';
import { runBounded } from './run-bounded';

/**
 * Most range queries in flight per request, over all its metrics and chunks: a request
 * makes about 30 queries (6 metrics × 5 history segments), and Prometheus should not get
 * them all at once.
 */
export const MAX_CONCURRENT_QUERIES = 4;
/** Shortest `rate()` range: four 15 s scrapes and then some, as dashboards commonly use. */
const MIN_RATE_INTERVAL_SECONDS = 300;

/** One metric behind a window: what it did at the peak of its own overlapping window. */
export interface WindowDriver extends WindowExplanation {
  metric: string;
  label: string;
  unit: string;
  /** The peak score of that metric's own window. */
  score: number;
  /**
   * The PromQL the metric's series came from, rendered for this resource. With the sample
   * source no Prometheus ran it: the generated series is derived from this text.
   */
  query: string;
}

export interface AnomalyWindowReport {
  start: number;
  end: number;
  score: number;
  /** The metric whose detector found the window (`drivers[0].metric`). */
  metric: string;
  /**
   * The metrics whose own windows overlap this one: this window's metric first, then the
   * others, strongest first (added later; docs/anomaly-api.md).
   */
  drivers: WindowDriver[];
}

/** One metric of the report (docs/anomaly-api.md, `series`). */
export interface SeriesReport {
  metric: string;
  label: string;
  unit: string;
  query: string;
  points: SeriesPoint[];
  /** The metric's own scores (the report's `scores` are their per-point maximum). */
  scores: ScorePoint[];
  /** What each point was judged against, and the band of normal values around it. */
  expected: SeriesPoint[];
  band: BandPoint[];
  /** How much history the detector had, and which baselines it judged the range against. */
  history: HistoryReport;
  /** The same query and range in the operator's Prometheus or Grafana (`--explore-url`). */
  exploreUrl?: string;
}

export interface HistoryReport {
  /** First timestamp with data of everything read for the metric (null: none). */
  since: number | null;
  /** `from − since`: seconds of history before the range (0 when it starts inside it). */
  seconds: number;
  /** How many of the range's judged points each baseline judged. */
  baselines: Record<Baseline, number>;
}

/** The `200` body of `GET /api/v1/anomalies` (docs/anomaly-api.md). */
export interface AnomalyReport {
  resource: AnomalyRequest['resource'];
  range: { from: number; to: number; step: number };
  source: MetricSource['kind'];
  /**
   * How the resource's pods were found: by ownership through kube-state-metrics, by pod-name
   * pattern (no kube-state-metrics series for the workload; a Pod by its name), or by the
   * operator's `--queries` file.
   */
  podSelection: PodSelection;
  summary: {
    state: 'normal' | 'anomalous' | 'unknown';
    score: number;
    maxScore: number;
    anomalousWindows: number;
  };
  series: SeriesReport[];
  scores: ScorePoint[];
  windows: AnomalyWindowReport[];
}

/**
 * Queries every metric of the resource's kind over `[from, to]` and the history the
 * detector compares it with (plan-queries.ts), runs the detector on each, and combines
 * them: the score at a point is the highest of the metrics' scores there, and each window
 * names the metric that drove it. Only `[from, to]` is reported. A failing query fails the
 * whole report (502/504): a partial answer could read as "normal". `counters`, when given,
 * add up what the queries cost.
 */
export async function analyzeResource(
  request: AnomalyRequest,
  source: RangeSource,
  queries: MetricQueries,
  counters?: QueryCounters,
): Promise<AnomalyReport> {
  const { step, ranges } = planQueries(request);
  const grid = gridOf(ranges, step);
  const vars = queryVariables(request.resource, step);

  const { podSelection, definitions } = await choosePodSelection(
    request,
    source,
    queries,
    vars,
    // The check looks back over every fetched point, and the rate() range before the first.
    ranges[ranges.length - 1].end - ranges[0].start + vars.rateIntervalSeconds,
    ranges[ranges.length - 1].end,
    step,
    counters,
  );
  // One query per metric and range, metric by metric; a few at a time.
  const tasks = definitions.flatMap((definition) => {
    const query = renderQuery(definition.query, vars);
    return ranges.map(
      (range) => () => source.queryRange(query, range.start, range.end, step, counters),
    );
  });
  const chunks = await runBounded(tasks, MAX_CONCURRENT_QUERIES);
  const fetched = definitions.map((definition, m) => ({
    definition,
    query: renderQuery(definition.query, vars),
    points: placeOnGrid(chunks.slice(m * ranges.length, (m + 1) * ranges.length).flat(), grid),
  }));
  return buildReport(request, step, grid, fetched, podSelection, source.kind);
}

/** One metric's series of a resource, fetched and placed on the request's grid. */
export interface FetchedMetric {
  definition: MetricDefinition;
  /** The PromQL the series came from, rendered for the resource. */
  query: string;
  points: SeriesPoint[];
}

/**
 * The report of one resource from its fetched metrics: runs the detector on each and
 * combines them (see {@link analyzeResource}).
 */
export function buildReport(
  request: AnomalyRequest,
  step: number,
  grid: readonly number[],
  fetched: readonly FetchedMetric[],
  podSelection: PodSelection,
  sourceKind: MetricSource['kind'],
): AnomalyReport {
  const firstShown = grid.findIndex((t) => t >= request.from);
  const analysed = fetched
    .filter(({ definition, points }) => !definition.optional || points.some(([, v]) => v !== null))
    .map(({ definition, query, points }) =>
      analyse(definition, query, points, step, firstShown, request),
    );

  const scores = combineScores(analysed.map((a) => a.scores));
  const windows = explainWindows(analysed.map((a) => a.windows)).sort(
    (a, b) => a.start - b.start || b.score - a.score,
  );
  const known = scores.filter((p): p is [number, number] => p[1] !== null);
  return {
    resource: request.resource,
    range: { from: request.from, to: request.to, step },
    source: sourceKind,
    podSelection,
    summary: {
      state: windows.length > 0 ? 'anomalous' : known.length > 0 ? 'normal' : 'unknown',
      score: roundTenth(known.length > 0 ? known[known.length - 1][1] : 0),
      maxScore: roundTenth(known.reduce((max, [, s]) => Math.max(max, s), 0)),
      anomalousWindows: windows.length,
    },
    series: analysed.map((a) => a.series),
    scores,
    windows,
  };
}

/**
 * The queries for the request's kind, and how they find the pods. A kind from the operator's
 * queries file is used as written. A kind whose defaults select pods by ownership costs one
 * instant query first: if kube-state-metrics has no ownership series for the workload at any
 * time in the fetched span, the name-pattern queries are used instead, since ownership
 * queries would then return nothing at all. A failing check fails the request, as any
 * query does.
 */
async function choosePodSelection(
  request: AnomalyRequest,
  source: Pick<MetricSource, 'queryRange'>,
  queries: MetricQueries,
  vars: QueryVariables,
  lookbackSeconds: number,
  at: number,
  step: number,
  counters: QueryCounters | undefined,
): Promise<{ podSelection: PodSelection; definitions: MetricDefinition[] }> {
  const { kind } = request.resource;
  const definitions = queries[kind];
  // mergeMetricQueries keeps the default list itself for every kind the file does not name.
  if (definitions !== DEFAULT_QUERIES[kind]) return { podSelection: 'queries-file', definitions };
  const check = ownershipCheckQuery(kind, vars, lookbackSeconds);
  const fallback = NAME_PATTERN_FALLBACK[kind];
  if (check === undefined || fallback === undefined) {
    // A Pod is its name; an Application's pods are found by label through kube-state-metrics.
    return { podSelection: kind === 'Pod' ? 'name-pattern' : 'kube-state-metrics', definitions };
  }
  // A range query of one point is an instant query, with the same timeout and error
  // handling as every other query.
  const found = await source.queryRange(check, at, at, step, counters);
  return found.some(([, v]) => v !== null && v > 0)
    ? { podSelection: 'kube-state-metrics', definitions }
    : { podSelection: 'name-pattern', definitions: fallback.queries };
}

function analyse(
  definition: MetricDefinition,
  query: string,
  points: SeriesPoint[],
  step: number,
  firstShown: number,
  request: AnomalyRequest,
) {
  // Results for the shown points only: the history before them is scored, not reported.
  const result = detectAnomalies(points, { step, outputFrom: points[firstShown]?.[0] ?? Infinity });
  const since = points.find(([, v]) => v !== null)?.[0] ?? null;
  const baselines: Record<Baseline, number> = { seasonal: 0, trend: 0 };
  for (const baseline of result.baselines) {
    if (baseline !== null) baselines[baseline]++;
  }
  const scores = result.scores;
  return {
    series: {
      metric: definition.metric,
      label: definition.label,
      unit: definition.unit,
      query,
      points: points.slice(firstShown),
      scores,
      expected: result.expected,
      band: result.band,
      history: {
        since,
        seconds: since === null ? 0 : Math.max(0, request.from - since),
        baselines,
      },
    },
    scores,
    windows: result.windows
      .map((w, k) => ({
        ...w,
        driver: {
          metric: definition.metric,
          label: definition.label,
          unit: definition.unit,
          score: w.score,
          ...result.explanations[k],
          query,
        },
      }))
      .filter((w) => w.end > request.from && w.start <= request.to),
  };
}

/**
 * The report's windows: every metric's windows, each with its drivers: its own metric
 * first, then the other metrics with a window overlapping it, strongest first (each by its
 * strongest overlapping window).
 */
function explainWindows(
  perMetric: { start: number; end: number; score: number; driver: WindowDriver }[][],
): AnomalyWindowReport[] {
  return perMetric.flatMap((own, m) =>
    own.map(({ start, end, score, driver }) => {
      const others: WindowDriver[] = [];
      perMetric.forEach((windows, n) => {
        if (n === m) return;
        const overlapping = windows
          .filter((w) => w.start < end && w.end > start)
          .sort((a, b) => b.score - a.score);
        if (overlapping.length > 0) others.push(overlapping[0].driver);
      });
      others.sort((a, b) => b.score - a.score);
      return { start, end, score, metric: driver.metric, drivers: [driver, ...others] };
    }),
  );
}

/**
 * The sparse grid of a plan: every fetched timestamp. Between the ranges there is nothing,
 * which the detector treats as a gap.
 */
export function gridOf(ranges: readonly QueryRange[], step: number): number[] {
  const grid: number[] = [];
  for (const { start, end } of ranges) for (let t = start; t <= end; t += step) grid.push(t);
  return grid;
}

/**
 * What a resource's query templates are rendered with at `step`: its names, and a `rate()`
 * range of at least four steps and never under five minutes.
 */
export function queryVariables(
  resource: { namespace: string; name: string },
  step: number,
): QueryVariables {
  return {
    namespace: resource.namespace,
    name: resource.name,
    rateIntervalSeconds: Math.max(MIN_RATE_INTERVAL_SECONDS, 4 * step),
  };
}

/** One point per grid timestamp: the source's value there, else `null` (a gap). */
export function placeOnGrid(points: SeriesPoint[], grid: readonly number[]): SeriesPoint[] {
  const values = new Map(points.map(([t, v]) => [t, v]));
  return grid.map((t) => [t, values.get(t) ?? null]);
}

/** Per-point maximum over the metrics; `null` where no metric could be scored. */
export function combineScores(perMetric: ScorePoint[][]): ScorePoint[] {
  if (perMetric.length === 0) return [];
  return perMetric[0].map(([t], i) => {
    let max: number | null = null;
    for (const scores of perMetric) {
      const score = scores[i][1];
      if (score !== null && (max === null || score > max)) max = score;
    }
    return [t, max === null ? null : Math.round(max * 100) / 100];
  });
}

function roundTenth(value: number): number {
  return Math.round(value * 10) / 10;
}
