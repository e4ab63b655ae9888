import {
  ALERT_SCORE,
  DRIFT_EWMA_ALPHA,
  LONG_WINDOW_SECONDS,
  MIN_LOG_SIGMA,
  MIN_WINDOW_POINTS,
  SCORE_SCALE,
  SEASONAL_LAGS_SECONDS,
  SHORT_WINDOW_SECONDS,
  TOLERATED_FACTOR,
  TRAFFIC_FLOOR_MIN,
  TRAFFIC_FLOOR_RATIO,
  WEEKLY_PATTERN_LAGS_SECONDS,
} from './parameters';
import { medianOf, SlidingMedian } from './sliding-median';
import type { DetectionResult, ScorePoint, SeriesPoint } from './types';
import { findWindows, summarize } from './windows';

export interface DetectOptions {
  /** Seconds between points. Default: the median spacing of the input (60 if it has < 2 points). */
  step?: number;
}

/** Scale factor from a MAD to a standard deviation for normally distributed noise. */
const MAD_TO_SIGMA = 1.4826;

/** Largest grid the detector accepts (a year of 5-second points), to bound memory. */
const MAX_GRID_POINTS = 6_400_000;

const LOG_TOLERATED = Math.log(TOLERATED_FACTOR);

/**
 * Scores every point of one series and finds the anomalous windows. Pure: no I/O, no clock.
 *
 * Method (README.md has the reasoning):
 * 1. Put the points on a regular grid of `step` seconds; missing points and `null`s are gaps.
 * 2. Work on `log(value + floor)`: deviations become factors, and the minimum-traffic floor
 *    keeps tiny absolute changes at near-zero traffic from looking like huge factors.
 * 3. Seasonal reference: the median of the same time 1, 2, 3 days and 1, 2 weeks earlier,
 *    where the input has that history, read from a cleaned history in which points already
 *    judged anomalous are replaced by their baseline (last week's incident is not "normal").
 * 4. Short-term baseline: seasonal reference + median of the seasonal residuals over the
 *    trailing short window (without history: the median of the values); noise scale: MAD.
 * 5. Drift: an EWMA of the deviation from the same kind of baseline over a long window.
 * 6. z = (|deviation| − log TOLERATED_FACTOR) / noise scale, the larger of the two.
 * 7. Weekly pattern: where the raw (not cleaned) values 1 and 2 weeks earlier both exist and
 *    agree within TOLERATED_FACTOR, their mean is a second reference, scored by steps 4–6
 *    with its own trailing baselines; the point's z is the smaller of the two. A weekly
 *    batch job seen on two previous weeks is then normal; last week's one-off incident is
 *    not (the two weeks disagree, and only the daily path applies).
 *    score = 10·tanh(z / SCORE_SCALE).
 * 8. Windows: runs of points scoring ≥ ALERT_SCORE with a minimum number of points.
 */
export function detectAnomalies(
  points: readonly SeriesPoint[],
  options: DetectOptions = {},
): DetectionResult {
  const step = options.step ?? inferStep(points);
  if (!(step > 0) || !Number.isFinite(step)) throw new RangeError(`step must be > 0, got ${step}`);
  if (points.length === 0) {
    return { scores: [], windows: [], summary: summarize([], []), step };
  }
  const t0 = points[0][0];
  const gridLength = Math.round((points[points.length - 1][0] - t0) / step) + 1;
  if (gridLength > MAX_GRID_POINTS) {
    throw new RangeError(`range / step is ${gridLength} points, more than ${MAX_GRID_POINTS}`);
  }

  const logValues = toLogGrid(points, t0, step, gridLength);
  const gridScores = scoreGrid(logValues, step);

  const scores: ScorePoint[] = points.map(([t, v]) => {
    const score = v === null ? NaN : gridScores[Math.round((t - t0) / step)];
    return [t, Number.isNaN(score) ? null : Math.round(score * 100) / 100];
  });
  const windows = findWindows(gridScores, t0, step);
  return { scores, windows, summary: summarize(scores, windows), step };
}

/** The median spacing of consecutive timestamps; 60 when there are fewer than 2 points. */
export function inferStep(points: readonly SeriesPoint[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < points.length; i++) {
    const gap = points[i][0] - points[i - 1][0];
    if (gap > 0) gaps.push(gap);
  }
  return gaps.length === 0 ? 60 : medianOf(gaps);
}

function toLogGrid(
  points: readonly SeriesPoint[],
  t0: number,
  step: number,
  gridLength: number,
): Float64Array {
  const present = points
    .map(([, v]) => v)
    .filter((v): v is number => v !== null && Number.isFinite(v))
    .map((v) => Math.abs(v))
    .sort((a, b) => a - b);
  const typical = present.length === 0 ? 0 : present[Math.floor(0.95 * (present.length - 1))];
  const floor = Math.max(TRAFFIC_FLOOR_MIN, TRAFFIC_FLOOR_RATIO * typical);

  const grid = new Float64Array(gridLength).fill(NaN);
  for (const [t, v] of points) {
    if (v === null || !Number.isFinite(v)) continue;
    // Metrics are non-negative; a negative sample (a counter reset artefact) counts as 0.
    grid[Math.round((t - t0) / step)] = Math.log(Math.max(v, 0) + floor);
  }
  return grid;
}

/** One trailing baseline: plain values, and residuals from the seasonal reference. */
class TrailingBaseline {
  private readonly plain: SlidingMedian;
  private readonly seasonal: SlidingMedian;

  constructor(
    size: number,
    private readonly minCount: number,
    private readonly seasonalOnly: boolean,
  ) {
    this.plain = new SlidingMedian(size);
    this.seasonal = new SlidingMedian(size);
  }

  /**
   * Baseline and MAD for a point with seasonal reference `reference` (NaN if none), or
   * undefined while there is too little data. Seasonal residuals are only used when the
   * window holds enough of them, so the two kinds are never mixed in one median;
   * `seasonalOnly` baselines have no plain fallback.
   */
  estimate(reference: number): { baseline: number; mad: number } | undefined {
    if (!Number.isNaN(reference) && this.seasonal.count >= this.minCount) {
      return { baseline: reference + this.seasonal.median(), mad: this.seasonal.mad() };
    }
    if (!this.seasonalOnly && this.plain.count >= this.minCount) {
      return { baseline: this.plain.median(), mad: this.plain.mad() };
    }
    return undefined;
  }

  push(value: number, reference: number): void {
    this.plain.push(value);
    this.seasonal.push(value - reference);
  }
}

/**
 * Scores points against one seasonal reference: the short-term baseline (step 4 of the
 * method) and the EWMA drift detector (step 5). The detector runs two of these: one on the
 * daily reference and one on the weekly-pattern reference.
 */
class ReferencePath {
  private readonly short: TrailingBaseline;
  private readonly long: TrailingBaseline;
  private ewma = NaN;
  private seasonalEwma = NaN;

  /** `plainFallback`: without a reference, use the median of the trailing values. */
  constructor(shortSize: number, longSize: number, plainFallback: boolean) {
    this.short = new TrailingBaseline(shortSize, MIN_WINDOW_POINTS, !plainFallback);
    // Only seasonal residuals: a plain 12-hour median of a metric with a daily cycle is
    // far from every point, and the drift detector would flag each morning and evening.
    this.long = new TrailingBaseline(longSize, Math.max(MIN_WINDOW_POINTS, longSize >> 2), true);
  }

  /**
   * z of a present value with seasonal reference `reference` (NaN: none) and the baseline
   * it was measured from; undefined while this path has too little data to judge.
   * Advances the EWMAs: call once per present value, in order.
   */
  score(value: number, reference: number): { z: number; baseline: number } | undefined {
    const shortEstimate = this.short.estimate(reference);
    if (!shortEstimate) return undefined;
    const sigma = Math.max(MAD_TO_SIGMA * shortEstimate.mad, MIN_LOG_SIGMA);
    let z = excessDeviation(value - shortEstimate.baseline) / sigma;
    let baseline = shortEstimate.baseline;
    const longEstimate = this.long.estimate(reference);
    if (longEstimate) {
      const deviation = value - longEstimate.baseline;
      this.ewma = Number.isNaN(this.ewma) ? deviation : smooth(this.ewma, deviation);
      this.seasonalEwma = Number.isNaN(this.seasonalEwma)
        ? value - reference
        : smooth(this.seasonalEwma, value - reference);
      // A drift must stand out from the long-term level *and* from the same hours on
      // earlier days: after a long incident ends, the long-term median still holds the
      // incident's level, but the value is back where it usually is — not a new anomaly.
      const zDrift =
        Math.min(excessDeviation(this.ewma), excessDeviation(this.seasonalEwma)) / sigma;
      if (zDrift > z) {
        z = zDrift;
        baseline = longEstimate.baseline;
      }
    }
    return { z, baseline };
  }

  /** Adds a grid point (NaN value: a gap) to the trailing windows. */
  push(value: number, reference: number): void {
    this.short.push(value, reference);
    this.long.push(value, reference);
  }
}

function scoreGrid(y: Float64Array, step: number): Float64Array {
  const shortSize = Math.max(MIN_WINDOW_POINTS, Math.round(SHORT_WINDOW_SECONDS / step));
  const longSize = Math.max(shortSize, Math.round(LONG_WINDOW_SECONDS / step));
  const lags = SEASONAL_LAGS_SECONDS.map((s) => Math.round(s / step)).filter((l) => l >= shortSize);
  const weeklyLags = WEEKLY_PATTERN_LAGS_SECONDS.map((s) => Math.round(s / step));
  const daily = new ReferencePath(shortSize, longSize, true);
  const weekly = new ReferencePath(shortSize, longSize, false);

  const scores = new Float64Array(y.length).fill(NaN);
  // History for seasonal references: anomalous points are replaced by their baseline.
  const cleaned = new Float64Array(y.length).fill(NaN);

  for (let i = 0; i < y.length; i++) {
    const reference = seasonalReference(cleaned, i, lags);
    const weeklyReference = weeklyPatternReference(y, i, weeklyLags);
    const value = y[i];
    if (!Number.isNaN(value)) {
      const fromDaily = daily.score(value, reference);
      const fromWeekly = weekly.score(value, weeklyReference);
      // Anomalous only if anomalous against both references: the weekly pattern explains
      // what recurred at this hour on the two previous weeks.
      const best = fromDaily && fromWeekly && fromWeekly.z < fromDaily.z ? fromWeekly : fromDaily;
      if (best) scores[i] = 10 * Math.tanh(best.z / SCORE_SCALE);
      cleaned[i] = best && scores[i] >= ALERT_SCORE ? best.baseline : value;
    }
    daily.push(value, reference);
    weekly.push(value, weeklyReference);
  }
  return scores;
}

function smooth(previous: number, value: number): number {
  return DRIFT_EWMA_ALPHA * value + (1 - DRIFT_EWMA_ALPHA) * previous;
}

/** The part of a log deviation beyond the tolerated factor (0 inside it). */
function excessDeviation(logDeviation: number): number {
  return Math.max(0, Math.abs(logDeviation) - LOG_TOLERATED);
}

function seasonalReference(cleaned: Float64Array, i: number, lags: readonly number[]): number {
  const candidates: number[] = [];
  for (const lag of lags) {
    if (lag <= i && !Number.isNaN(cleaned[i - lag])) candidates.push(cleaned[i - lag]);
  }
  return candidates.length === 0 ? NaN : medianOf(candidates);
}

/**
 * The weekly-pattern reference: the mean of the *raw* values 1 and 2 weeks earlier when
 * both exist and agree within the tolerated factor, else NaN. Raw, not cleaned: a pattern
 * is exactly what the cleaned history has removed. Two agreeing weeks make a pattern; one
 * week alone (last week's outage) does not.
 */
function weeklyPatternReference(y: Float64Array, i: number, weeklyLags: readonly number[]): number {
  const [oneWeek, twoWeeks] = weeklyLags;
  if (twoWeeks > i) return NaN;
  const a = y[i - oneWeek];
  const b = y[i - twoWeeks];
  if (Number.isNaN(a) || Number.isNaN(b) || Math.abs(a - b) > LOG_TOLERATED) return NaN;
  return (a + b) / 2;
}
