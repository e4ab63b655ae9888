import { detectAnomalies, type ScorePoint, type SeriesPoint } from '../detector';
import type { MetricDefinition, MetricQueries } from '../sources/metric-queries';
import { renderQuery } from '../sources/metric-queries';
import type { MetricSource } from '../sources/metric-source';
import type { AnomalyRequest } from './parse-anomaly-request';

/** Step when the request gives none. */
export const DEFAULT_STEP_SECONDS = 60;
/**
 * Most points fetched per series, history included. Prometheus refuses more than 11,000
 * points per series in a range query (prometheus/web/api/v1/api.go); a finer step is
 * coarsened to stay under it, so no request can make a query explode.
 */
export const MAX_POINTS = 11_000;
/**
 * History fetched before `from`: a day, so the detector has a warmed-up baseline at `from`
 * and its one-day seasonal lag (README.md, "Method").
 */
export const HISTORY_SECONDS = 86400;
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

/** The step used: the one asked (or the default), coarsened to stay within MAX_POINTS. */
export function chooseStep(request: AnomalyRequest): number {
  const asked = request.step ?? DEFAULT_STEP_SECONDS;
  const span = request.to - request.from + HISTORY_SECONDS;
  return Math.max(asked, Math.ceil(span / (MAX_POINTS - 1)));
}

/**
 * Queries every metric of the resource's kind, runs the detector on each, and combines
 * them: the score at a point is the highest of the metrics' scores there, and each window
 * names the metric that drove it. A failing query fails the whole report (502/504): a
 * partial answer could read as "normal".
 */
export async function analyzeResource(
  request: AnomalyRequest,
  source: MetricSource,
  queries: MetricQueries,
): Promise<AnomalyReport> {
  const step = chooseStep(request);
  const start = request.from - Math.ceil(HISTORY_SECONDS / step) * step;
  const grid: number[] = [];
  for (let t = start; t <= request.to; t += step) grid.push(t);
  const firstShown = grid.findIndex((t) => t >= request.from);
  const vars = {
    namespace: request.resource.namespace,
    name: request.resource.name,
    rateIntervalSeconds: Math.max(MIN_RATE_INTERVAL_SECONDS, 4 * step),
  };

  const fetched = await Promise.all(
    queries[request.resource.kind].map(async (definition) => {
      const query = renderQuery(definition.query, vars);
      const points = await source.queryRange(query, start, request.to, step);
      return { definition, points: placeOnGrid(points, grid) };
    }),
  );
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
