import { detectAnomalies, type ScorePoint, type SeriesPoint } from '../detector';
import type { MetricDefinition, MetricQueries } from '../sources/metric-queries';
import { renderQuery } from '../sources/metric-queries';
import type { MetricSource } from '../sources/metric-source';
import type { AnomalyRequest } from './parse-anomaly-request';
import { planQueries } from './plan-queries';
import { runBounded } from './run-bounded';

/**
 * Most range queries in flight per request, over all its metrics and chunks: a request
 * makes about 30 queries (6 metrics × 5 history segments), and Prometheus should not get
 * them all at once.
 */
export const MAX_CONCURRENT_QUERIES = 4;
/** Shortest `rate()` range: four 15 s scrapes and then some, as dashboards commonly use. */
const MIN_RATE_INTERVAL_SECONDS = 300;

export interface AnomalyWindowReport {
  start: number;
  end: number;
  score: number;
  /** The metric whose detector found the window. */
  metric: string;
}

/** The `200` body of `GET /api/v1/anomalies` (docs/anomaly-api.md). */
export interface AnomalyReport {
  resource: AnomalyRequest['resource'];
  range: { from: number; to: number; step: number };
  source: MetricSource['kind'];
  summary: {
    state: 'normal' | 'anomalous' | 'unknown';
    score: number;
    maxScore: number;
    anomalousWindows: number;
  };
  series: { metric: string; label: string; unit: string; points: SeriesPoint[] }[];
  scores: ScorePoint[];
  windows: AnomalyWindowReport[];
}

/**
 * Queries every metric of the resource's kind over `[from, to]` and the history the
 * detector compares it with (plan-queries.ts), runs the detector on each, and combines
 * them: the score at a point is the highest of the metrics' scores there, and each window
 * names the metric that drove it. Only `[from, to]` is reported. A failing query fails the
 * whole report (502/504): a partial answer could read as "normal".
 */
export async function analyzeResource(
  request: AnomalyRequest,
  source: MetricSource,
  queries: MetricQueries,
): Promise<AnomalyReport> {
  const { step, ranges } = planQueries(request);
  // The sparse grid: every fetched timestamp. Between the ranges there is nothing, which
  // the detector treats as a gap.
  const grid: number[] = [];
  for (const { start, end } of ranges) for (let t = start; t <= end; t += step) grid.push(t);
  const firstShown = grid.findIndex((t) => t >= request.from);
  const vars = {
    namespace: request.resource.namespace,
    name: request.resource.name,
    rateIntervalSeconds: Math.max(MIN_RATE_INTERVAL_SECONDS, 4 * step),
  };

  const definitions = queries[request.resource.kind];
  // One query per metric and range, metric by metric; a few at a time.
  const tasks = definitions.flatMap((definition) => {
    const query = renderQuery(definition.query, vars);
    return ranges.map((range) => () => source.queryRange(query, range.start, range.end, step));
  });
  const chunks = await runBounded(tasks, MAX_CONCURRENT_QUERIES);
  const fetched = definitions.map((definition, m) => ({
    definition,
    points: placeOnGrid(chunks.slice(m * ranges.length, (m + 1) * ranges.length).flat(), grid),
  }));
  const analysed = fetched
    .filter(({ definition, points }) => !definition.optional || points.some(([, v]) => v !== null))
    .map(({ definition, points }) => analyse(definition, points, step, firstShown, request));

  const scores = combineScores(analysed.map((a) => a.scores));
  const windows = analysed
    .flatMap((a) => a.windows)
    .sort((a, b) => a.start - b.start || b.score - a.score);
  const known = scores.filter((p): p is [number, number] => p[1] !== null);
  return {
    resource: request.resource,
    range: { from: request.from, to: request.to, step },
    source: source.kind,
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

function analyse(
  definition: MetricDefinition,
  points: SeriesPoint[],
  step: number,
  firstShown: number,
  request: AnomalyRequest,
) {
  const result = detectAnomalies(points, { step });
  return {
    series: {
      metric: definition.metric,
      label: definition.label,
      unit: definition.unit,
      points: points.slice(firstShown),
    },
    scores: result.scores.slice(firstShown),
    windows: result.windows
      .filter((w) => w.end > request.from && w.start <= request.to)
      .map((w) => ({ ...w, metric: definition.metric })),
  };
}

/** One point per grid timestamp: the source's value there, else `null` (a gap). */
function placeOnGrid(points: SeriesPoint[], grid: number[]): SeriesPoint[] {
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
