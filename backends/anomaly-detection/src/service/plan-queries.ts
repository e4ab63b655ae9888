import { parameters } from '../detector';
import type { AnomalyRequest } from './parse-anomaly-request';

/** Step when the request gives none. */
export const DEFAULT_STEP_SECONDS = 60;
/**
 * Most points in one range query. Prometheus refuses a query of more than 11,000 points per
 * series (prometheus/web/api/v1/api.go), so a longer range is fetched in chunks of at most
 * this many points, at the step asked.
 */
export const MAX_POINTS = 11_000;
/**
 * Most points fetched per metric, history included (four full chunks). Only beyond this is
 * the step coarsened, so no request can make the backend fetch or score more than this
 * (a 31-day range at a 60 s step would be ~65,500 points with its history; it gets ~90 s).
 */
export const MAX_TOTAL_POINTS = 44_000;
/**
 * Continuous history fetched right before `from`: a day, so the detector's trailing
 * baselines are warm at `from` (README.md, "Method").
 */
export const RECENT_HISTORY_SECONDS = 86400;
/**
 * The detector's lags (same time 1, 2, 3 days and 1, 2 weeks earlier, and the weekly
 * pattern's 1 and 2 weeks). For each, the range shifted back by the lag is fetched, with
 * HISTORY_WARM_UP_SECONDS more before it so that the detector's trailing baselines are warm
 * there too: it scores those past points and cleans the anomalous ones out of the history
 * it compares with.
 */
export const HISTORY_LAGS_SECONDS: readonly number[] = [
  ...new Set([...parameters.SEASONAL_LAGS_SECONDS, ...parameters.WEEKLY_PATTERN_LAGS_SECONDS]),
].sort((a, b) => a - b);

/** One range query: `start`, `start + step`, … `end` (unix seconds, both on the grid). */
export interface QueryRange {
  start: number;
  end: number;
}

/** What to fetch for every metric of one request. */
export interface QueryPlan {
  /** The step of every query and of the response (seconds). */
  step: number;
  /**
   * Disjoint, ascending ranges on the grid `from + k·step`: merged segments, each split
   * into chunks of at most MAX_POINTS points. The last one ends at the last grid point ≤ `to`.
   */
  ranges: QueryRange[];
  /** Total points per metric: at most MAX_TOTAL_POINTS. */
  points: number;
}

/**
 * The ranges to fetch for `request`, at the step asked (or the default), coarsened only
 * when the total per metric would exceed MAX_TOTAL_POINTS.
 */
export function planQueries(request: Pick<AnomalyRequest, 'from' | 'to' | 'step'>): QueryPlan {
  let step = request.step ?? DEFAULT_STEP_SECONDS;
  for (;;) {
    const segments = historySegments(request, step);
    const points = segments.reduce((sum, [first, last]) => sum + last - first + 1, 0);
    if (points <= MAX_TOTAL_POINTS) {
      const ranges = segments
        .flatMap(([first, last]) => chunk(first, last))
        .map(([a, b]) => ({
          start: request.from + a * step,
          end: request.from + b * step,
        }));
      return { step, ranges, points };
    }
    // Points scale with 1/step; round up, and always make progress.
    step = Math.max(step + 1, Math.ceil((step * points) / MAX_TOTAL_POINTS));
  }
}

/** The step planQueries uses for `request`. */
export function chooseStep(request: AnomalyRequest): number {
  return planQueries(request).step;
}

/**
 * Grid index ranges `[first, last]` (point k is at `from + k·step`), merged where they
 * overlap or touch, ascending: `[from − a day, to]` and, per lag, the same range a lag
 * earlier with a long window before it.
 */
function historySegments(
  request: Pick<AnomalyRequest, 'from' | 'to'>,
  step: number,
): [number, number][] {
  const last = Math.floor((request.to - request.from) / step);
  const longLead = Math.ceil(parameters.HISTORY_WARM_UP_SECONDS / step);
  const segments: [number, number][] = [[-Math.ceil(RECENT_HISTORY_SECONDS / step), last]];
  for (const lagSeconds of HISTORY_LAGS_SECONDS) {
    // The detector rounds a lag to whole steps the same way.
    const lag = Math.round(lagSeconds / step);
    segments.push([-lag - longLead, last - lag]);
  }
  segments.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [first, end] of segments) {
    const previous = merged[merged.length - 1];
    if (previous && first <= previous[1] + 1) previous[1] = Math.max(previous[1], end);
    else merged.push([first, end]);
  }
  return merged;
}

/** Splits the grid indices `[first, last]` into pieces of at most MAX_POINTS points. */
export function chunk(first: number, last: number): [number, number][] {
  const pieces: [number, number][] = [];
  for (let start = first; start <= last; start += MAX_POINTS) {
    pieces.push([start, Math.min(last, start + MAX_POINTS - 1)]);
  }
  return pieces;
}
