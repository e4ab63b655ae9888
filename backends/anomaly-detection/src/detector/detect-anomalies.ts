import {
  ALERT_SCORE,
  COUNT_MAX_P95,
  CUSUM_ALLOWANCE,
  CUSUM_THRESHOLD,
  LAG_SMOOTHING_HALF_WIDTH,
  LEVEL_WINDOW_SECONDS,
  MAX_LAG_DAYS,
  MAX_SEASONAL_LAGS,
  MIN_COUNT_SIGMA,
  MIN_LOG_SIGMA,
  MIN_WINDOW_ANOMALOUS_POINTS,
  MIN_WINDOW_POINTS,
  NOISE_WINDOW_SECONDS,
  PATTERN_AGREEMENT_SIGMAS,
  REBASELINE_RECENT_SECONDS,
  REBASELINE_SECONDS,
  RETURN_POINTS,
  RETURN_Z,
  SCORE_SCALE,
  SPIKE_POINTS,
  SPIKE_SUM_THRESHOLD,
  TRAFFIC_FLOOR_MIN,
  TRAFFIC_FLOOR_RATIO,
  TREND_WINDOW_SECONDS,
  WEEKLY_PATTERN_LAGS_SECONDS,
} from './parameters';
import { medianOf, medianOfFirst, SlidingMedian } from './sliding-median';
import type {
  AnomalyWindow,
  Baseline,
  BandPoint,
  DetectionResult,
  ScorePoint,
  SeriesPoint,
  WindowExplanation,
} from './types';
import { summarize } from './windows';

export interface DetectOptions {
  /** Seconds between points. Default: the median spacing of the input (60 if it has < 2 points). */
  step?: number;
  /**
   * Only the points at or after this time (unix seconds) get per-point results (`scores`,
   * `expected`, `band`, `baselines`, and the `summary` of those scores); the points before
   * it are history, scored the same but not reported. Windows and their explanations are
   * all reported. Default: every point. The service reads up to 14.5 days of history for
   * a range of an hour: not building results for that history saves about a seventh of
   * the detector's time.
   */
  outputFrom?: number;
}

/** Scale factor from a MAD to a standard deviation for normally distributed noise. */
const MAD_TO_SIGMA = 1.4826;

/** Largest grid the detector accepts (a year of 5-second points), to bound memory. */
const MAX_GRID_POINTS = 6_400_000;

const DAY = 86400;

/**
 * Scores every point of one series and finds the anomalous windows. Pure: no I/O, no clock.
 *
 * Method (README.md, "Method", has the reasoning; no tolerated factor):
 * 1. Put the points on a regular grid of `step` seconds; missing points and `null`s are gaps.
 * 2. Transform: counts (non-negative integers, small) by Anscombe's 2·√(x + 3/8), where
 *    Poisson noise is σ ≈ 1; anything else by log(x + floor), where noise proportional
 *    to the level is constant.
 * 3. Seasonal shape: the median of the stored shapes (value − the level at the time) on up
 *    to 5 earlier days of the same type (weekday / weekend) at the same time of day;
 *    anomalous points store none. Without any earlier day: no shape.
 * 4. Level: with a shape, the median of (value − shape) over the trailing 12 hours, per day
 *    type (the line's while it has none); without, a robust line through the trailing
 *    hour. σ: 1.4826 × the median |value − expectation| of the normal points of the
 *    trailing day, per day type.
 * 5. A deviation that at least two earlier days or weeks show at the same time is a
 *    pattern (a weekly job, hard daily edges): the point is judged against it.
 * 6. z = (deviation − pattern) / σ feeds a two-sided CUSUM and a 3-point spike test. A
 *    window opens at the change's onset, with the expectation frozen; it closes when the
 *    values return, or, an hour after the onset, by re-baselining: the level becomes that of
 *    the last 15 minutes and the CUSUM restarts.
 */
export function detectAnomalies(
  points: readonly SeriesPoint[],
  options: DetectOptions = {},
): DetectionResult {
  const step = options.step ?? inferStep(points);
  if (!(step > 0) || !Number.isFinite(step)) throw new RangeError(`step must be > 0, got ${step}`);
  if (points.length === 0) {
    return {
      scores: [],
      windows: [],
      summary: summarize([], []),
      step,
      expected: [],
      band: [],
      baselines: [],
      explanations: [],
    };
  }
  const t0 = points[0][0];
  const gridLength = Math.round((points[points.length - 1][0] - t0) / step) + 1;
  if (gridLength > MAX_GRID_POINTS) {
    throw new RangeError(`range / step is ${gridLength} points, more than ${MAX_GRID_POINTS}`);
  }

  const { grid, count, floor } = transform(points, t0, step, gridLength);
  const scorer = new Scorer(grid, t0, step, count);
  const { scores: gridScores, windows, peaks } = scorer.run();
  // Back to the series' own units: the inverse of the transform, never below 0.
  const original = (y: number): number | null =>
    Number.isNaN(y)
      ? null
      : roundSignificant(Math.max(0, count ? (y / 2) ** 2 - 0.375 : Math.exp(y) - floor));
  const index = (t: number) => Math.round((t - t0) / step);

  let firstOutput = 0;
  if (options.outputFrom !== undefined) {
    while (firstOutput < points.length && points[firstOutput][0] < options.outputFrom) {
      firstOutput++;
    }
  }
  const output = firstOutput === 0 ? points : points.slice(firstOutput);
  const scores: ScorePoint[] = output.map(([t, v]) => {
    const score = v === null ? NaN : gridScores[index(t)];
    return [t, Number.isNaN(score) ? null : Math.round(score * 100) / 100];
  });
  const expected: SeriesPoint[] = output.map(([t]) => [t, original(scorer.expectedAt[index(t)])]);
  const band: BandPoint[] = output.map(([t]) => {
    const i = index(t);
    const sigma = scorer.sigmaAt[i];
    return [
      t,
      original(scorer.expectedAt[i] - BAND_SIGMAS * sigma),
      original(scorer.expectedAt[i] + BAND_SIGMAS * sigma),
    ];
  });
  const baselines: (Baseline | null)[] = output.map(([t]) => BASELINES[scorer.basisAt[index(t)]]);
  const values = new Map(points.map(([t, v]) => [t, v]));
  const explanations: WindowExplanation[] = peaks.map(({ at, direction }) => {
    const t = t0 + at * step;
    const observed = values.get(t) ?? null;
    const expect = original(scorer.expectedAt[at]);
    const sigma = scorer.sigmaAt[at];
    return {
      peak: t,
      direction: direction > 0 ? 'up' : 'down',
      observed,
      expected: expect,
      low: original(scorer.expectedAt[at] - BAND_SIGMAS * sigma),
      high: original(scorer.expectedAt[at] + BAND_SIGMAS * sigma),
      factor:
        observed === null || expect === null || expect === 0
          ? null
          : roundSignificant(observed / expect, 3),
      baseline: BASELINES[scorer.basisAt[at]],
    };
  });
  return {
    scores,
    windows,
    summary: summarize(scores, windows),
    step,
    expected,
    band,
    baselines,
    explanations,
  };
}

/**
 * Half-width of the reported band, in σ: the |z| at which a point's score reaches
 * ALERT_SCORE (10·tanh(|z| / SCORE_SCALE) = ALERT_SCORE), about 2.2 σ.
 */
export const BAND_SIGMAS = SCORE_SCALE * Math.atanh(ALERT_SCORE / 10);

/** The baseline kinds by their code in Scorer.basisAt (0: none). */
const BASELINES: readonly (Baseline | null)[] = [null, 'trend', 'seasonal'];

/** `value` to `digits` significant digits (the detector's noise floor is 2 %). */
function roundSignificant(value: number, digits = 4): number {
  return value === 0 || !Number.isFinite(value) ? value : Number(value.toPrecision(digits));
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

/** Whether a series is a count (Poisson model) rather than a level (log model). */
export function isCountSeries(values: readonly number[]): boolean {
  if (values.length === 0) return false;
  const sorted = [...values].sort((a, b) => a - b);
  const p95 = sorted[Math.floor(0.95 * (sorted.length - 1))];
  return p95 <= COUNT_MAX_P95 && values.every((v) => v >= 0 && Number.isInteger(v));
}

function transform(
  points: readonly SeriesPoint[],
  t0: number,
  step: number,
  gridLength: number,
): { grid: Float64Array; count: boolean; floor: number } {
  const present = points
    .map(([, v]) => v)
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const count = isCountSeries(present);
  const sorted = present.map((v) => Math.max(v, 0)).sort((a, b) => a - b);
  const typical = sorted.length === 0 ? 0 : sorted[Math.floor(0.95 * (sorted.length - 1))];
  const floor = Math.max(TRAFFIC_FLOOR_MIN, TRAFFIC_FLOOR_RATIO * typical);
  const grid = new Float64Array(gridLength).fill(NaN);
  for (const [t, v] of points) {
    if (v === null || !Number.isFinite(v)) continue;
    // Metrics are non-negative; a negative sample (a counter reset artefact) counts as 0.
    const x = Math.max(v, 0);
    grid[Math.round((t - t0) / step)] = count ? 2 * Math.sqrt(x + 0.375) : Math.log(x + floor);
  }
  return { grid, count, floor };
}

/** An open window: the change's onset, its direction and the frozen expectation. */
interface Alarm {
  onset: number;
  direction: 1 | -1;
  /** Level in force when the change began (the residual's level, or the line's). */
  level: number;
  /** Slope of the line per point (0 with a seasonal shape). */
  slope: number;
  /** Grid index the frozen level refers to. */
  at: number;
  seasonal: boolean;
  type: 0 | 1;
  lastAnomalous: number;
  recent: number[];
}

/**
 * The residual level, kept per day type (0: weekday, 1: weekend): the median of the
 * trailing residuals of that type, plus an offset. A weekend is judged against the last
 * weekend evening, not against Friday. What a stretch of one type changed in its level
 * (a lasting step, a drift; not the noise of re-baselining within it) carries over to the
 * other type when the type changes.
 */
class DayTypeLevels {
  private windows: [SlidingMedian, SlidingMedian];
  private readonly offsets: [number, number] = [0, 0];
  private current: 0 | 1 | -1 = -1;
  /** The current type's level when its stretch began (NaN: it had none of its own). */
  private stretchStart = NaN;

  constructor(
    private readonly size: number,
    private readonly minCount: number,
  ) {
    this.windows = [new SlidingMedian(size), new SlidingMedian(size)];
  }

  /** Whether the type has a level of its own (a re-baselined one has few points). */
  has(type: 0 | 1): boolean {
    return this.windows[type].count >= this.minCount;
  }

  /** The level for a point of `type` (the other type's without one of its own; NaN: none). */
  level(type: 0 | 1): number {
    const source = this.has(type) ? type : other(type);
    if (!this.has(source)) return NaN;
    return this.windows[source].median() + this.offsets[source];
  }

  /** Called for every point: a change of type carries the ended stretch's net change over. */
  enter(type: 0 | 1): void {
    if (type === this.current) return;
    if (this.current !== -1 && !Number.isNaN(this.stretchStart) && this.has(this.current)) {
      this.offsets[type] += this.level(this.current) - this.stretchStart;
    }
    this.current = type;
    this.stretchStart = this.has(type) ? this.level(type) : NaN;
  }

  push(type: 0 | 1, residual: number): void {
    this.windows[type].push(residual - this.offsets[type]);
  }

  /** Re-baselines `type` to the `recent` residuals. */
  rebaseline(type: 0 | 1, recent: readonly number[]): void {
    this.windows[type] = new SlidingMedian(this.size);
    this.offsets[type] = 0;
    for (const r of recent) if (!Number.isNaN(r)) this.windows[type].push(r);
  }
}

function other(type: 0 | 1): 0 | 1 {
  return type === 0 ? 1 : 0;
}

/** The stateful pass over the grid (steps 3–5 of the method). */
class Scorer {
  private readonly n: number;
  private readonly scores: Float64Array;
  private readonly windows: AnomalyWindow[] = [];
  /** Per window: its peak point and direction. */
  private readonly peaks: { at: number; direction: 1 | -1 }[] = [];
  /** What each point was judged against, in the transformed units (NaN: not judged). */
  readonly expectedAt: Float64Array;
  /** The noise scale σ each point was judged with (NaN: not judged). */
  readonly sigmaAt: Float64Array;
  /** The baseline each point was judged against: 0 none, 1 the trailing line, 2 seasonal. */
  readonly basisAt: Uint8Array;
  /**
   * The shape of each point: value − the level in force, with anomalous points (and the
   * part a recurring pattern explains) replaced by the expectation. Seasonal shapes are
   * medians of these.
   */
  private readonly shape: Float64Array;
  /**
   * The deviation of each point from what was expected before the latest change (while
   * it is recent): what a recurring pattern looks like. Compared with the current deviation.
   */
  private readonly deviation: Float64Array;
  /**
   * The expected shape of each point (the seasonal shape it was judged against, or its
   * measured shape when normal): the fallback where every earlier day was anomalous.
   */
  private readonly reference: Float64Array;
  private readonly lagPoints: number[];
  private readonly weeklyLags: readonly number[];
  private readonly halfWidth = LAG_SMOOTHING_HALF_WIDTH;
  /**
   * Scratch space of medianOverDays and smooth, which run for nearly every point: with an
   * array and a sorted copy per call they were a tenth of the detector's time and much of
   * its garbage (`node --cpu-prof`, a 1h range at 15 s).
   */
  private readonly daysScratch = new Float64Array(MAX_SEASONAL_LAGS);
  private readonly smoothScratch = new Float64Array(2 * LAG_SMOOTHING_HALF_WIDTH + 1);
  private readonly minSigma: number;

  private readonly trendHalf: number;
  private readonly recentSize: number;
  private readonly rebaselinePoints: number;
  private readonly shadowPoints: number;

  private readonly levels: DayTypeLevels;
  private type: 0 | 1 = 0;
  private trendA: SlidingMedian;
  private trendB: SlidingMedian;
  private readonly noise: SlidingMedian;
  /**
   * |value − expectation| of normal points, per day type: the model's own error, the scale
   * of z. A weekend's shape rests on fewer earlier days than a weekday's, so its error is
   * measured on weekends.
   */
  private readonly innovations: [SlidingMedian, SlidingMedian];
  /** Level of the shape store without a seasonal shape: the first level measured, constant. */
  private base = NaN;
  private sPos = 0;
  private sNeg = 0;
  private posStart = -1;
  private negStart = -1;
  private alarm: Alarm | undefined;
  /** The expectation's level before the latest change, while the change is recent (NaN: none). */
  private shadowLevel = NaN;
  private shadowSeasonal = false;
  private shadowSince = -1;
  private previousResidual = NaN;
  private previousSeasonal = false;
  private recentResiduals: number[] = [];
  /** z of the last scored normal points (the spike test). */
  private lastZ: number[] = [];
  private lastZIndex: number[] = [];
  private recentValues: number[] = [];

  constructor(
    private readonly y: Float64Array,
    private readonly t0: number,
    private readonly step: number,
    count: boolean,
  ) {
    this.n = y.length;
    this.scores = new Float64Array(this.n).fill(NaN);
    this.shape = new Float64Array(this.n).fill(NaN);
    this.deviation = new Float64Array(this.n).fill(NaN);
    this.reference = new Float64Array(this.n).fill(NaN);
    this.expectedAt = new Float64Array(this.n).fill(NaN);
    this.sigmaAt = new Float64Array(this.n).fill(NaN);
    this.basisAt = new Uint8Array(this.n);
    this.minSigma = count ? MIN_COUNT_SIGMA : MIN_LOG_SIGMA;
    this.lagPoints = [];
    for (let d = 1; d <= MAX_LAG_DAYS; d++) this.lagPoints.push(Math.round((d * DAY) / step));
    this.weeklyLags = WEEKLY_PATTERN_LAGS_SECONDS.map((s) => Math.round(s / step));
    const points = (seconds: number, min: number) => Math.max(min, Math.round(seconds / step));
    this.trendHalf = points(TREND_WINDOW_SECONDS / 2, MIN_WINDOW_POINTS / 2);
    this.recentSize = points(REBASELINE_RECENT_SECONDS, 5);
    this.rebaselinePoints = points(REBASELINE_SECONDS, 10);
    this.shadowPoints = points(DAY, 1);
    this.levels = new DayTypeLevels(
      points(LEVEL_WINDOW_SECONDS, MIN_WINDOW_POINTS),
      Math.min(MIN_WINDOW_POINTS, this.recentSize),
    );
    this.trendA = new SlidingMedian(this.trendHalf);
    this.trendB = new SlidingMedian(this.trendHalf);
    this.noise = new SlidingMedian(points(NOISE_WINDOW_SECONDS, MIN_WINDOW_POINTS));
    this.innovations = [
      new SlidingMedian(points(NOISE_WINDOW_SECONDS, MIN_WINDOW_POINTS)),
      new SlidingMedian(points(NOISE_WINDOW_SECONDS, MIN_WINDOW_POINTS)),
    ];
  }

  run(): {
    scores: Float64Array;
    windows: AnomalyWindow[];
    peaks: { at: number; direction: 1 | -1 }[];
  } {
    for (let i = 0; i < this.n; i++) this.visit(i);
    if (this.alarm) this.closeAlarm(this.alarm.lastAnomalous, false);
    return { scores: this.scores, windows: this.windows, peaks: this.peaks };
  }

  /** Records what point i was judged against (transformed units). */
  private judged(i: number, expected: number, sigma: number, seasonal: boolean): void {
    this.expectedAt[i] = expected;
    this.sigmaAt[i] = sigma;
    this.basisAt[i] = seasonal ? 2 : 1;
  }

  /**
   * The noise scale σ: 1.4826 × the median |value − expectation| of the normal points of the
   * trailing day (everything the model does not explain: noise, the shape's own error,
   * wander); until there are enough of those, from the differences of consecutive residuals.
   */
  private sigma(): number {
    for (const type of [this.type, other(this.type)]) {
      const errors = this.innovations[type];
      if (errors.count >= 4 * MIN_WINDOW_POINTS) {
        return Math.max(this.minSigma, MAD_TO_SIGMA * errors.median());
      }
    }
    if (this.noise.count < MIN_WINDOW_POINTS) return NaN;
    return Math.max(this.minSigma, (MAD_TO_SIGMA * this.noise.median()) / Math.SQRT2);
  }

  private visit(i: number): void {
    this.type = this.isWeekend(i) ? 1 : 0;
    this.levels.enter(this.type);
    const value = this.y[i];
    if (Number.isNaN(value)) {
      if (!this.alarm) this.pushNormal(NaN, NaN);
      return;
    }
    const shape = this.seasonalShape(i);
    const seasonal = !Number.isNaN(shape);
    const residual = seasonal ? value - shape : value;

    // Noise: differences of consecutive residuals of the same kind.
    if (!Number.isNaN(this.previousResidual) && this.previousSeasonal === seasonal) {
      this.noise.push(Math.abs(residual - this.previousResidual));
    }
    this.previousResidual = residual;
    this.previousSeasonal = seasonal;
    this.remember(residual, value);

    const sigma = this.sigma();
    if (this.alarm && (this.alarm.seasonal !== seasonal || Number.isNaN(sigma))) {
      // The kind of reference changed mid-window (seasonal history begins or has a gap):
      // the window cannot be judged any further; it ends at its last anomalous point.
      this.closeAlarm(this.alarm.lastAnomalous, false);
    }
    if (this.alarm) {
      this.duringAlarm(i, shape, residual, sigma);
      return;
    }
    const expected = this.expectedLevel(seasonal, shape);
    if (Number.isNaN(this.base) && !seasonal) this.base = expected;
    if (Number.isNaN(expected) || Number.isNaN(sigma)) {
      this.store(i, value, shape, seasonal, expected, 0);
      this.pushNormal(residual, value);
      return;
    }
    const deviation = residual - expected;
    // A deviation seen at this time on two earlier days (or weeks) is a pattern: judge
    // the point against the pattern, and keep the pattern out of the level.
    const pattern = this.patternAt(i, deviation, PATTERN_AGREEMENT_SIGMAS * sigma);
    const z = (deviation - pattern) / sigma;
    this.judged(i, value - deviation + pattern, sigma, seasonal);
    this.scores[i] = Math.min(ALERT_SCORE - 0.1, 10 * Math.tanh(Math.abs(z) / SCORE_SCALE));

    // Two-sided CUSUM; each side remembers where its current run began (the onset).
    if (this.sPos === 0) this.posStart = i;
    if (this.sNeg === 0) this.negStart = i;
    this.sPos = Math.max(0, this.sPos + z - CUSUM_ALLOWANCE);
    this.sNeg = Math.max(0, this.sNeg - z - CUSUM_ALLOWANCE);
    // Short spikes: the sum of the last SPIKE_POINTS z's, all on one side, against a
    // threshold of its own (the CUSUM's allowance costs a short spike too much).
    this.lastZ.push(z);
    this.lastZIndex.push(i);
    if (this.lastZ.length > SPIKE_POINTS) {
      this.lastZ.shift();
      this.lastZIndex.shift();
    }
    const spikeSum = this.lastZ.reduce((a, b) => a + b, 0);
    const spike =
      this.lastZ.length === SPIKE_POINTS &&
      Math.abs(spikeSum) >= SPIKE_SUM_THRESHOLD &&
      this.lastZ.every((x) => x * spikeSum > 0);
    if (this.sPos > CUSUM_THRESHOLD || this.sNeg > CUSUM_THRESHOLD || spike) {
      const direction = spike ? (spikeSum > 0 ? 1 : -1) : this.sPos > CUSUM_THRESHOLD ? 1 : -1;
      const cusum = this.sPos > CUSUM_THRESHOLD || this.sNeg > CUSUM_THRESHOLD;
      // The spike's onset: its first point beyond the allowance.
      const first = this.lastZ.findIndex((x) => x * direction > CUSUM_ALLOWANCE);
      const onset = cusum
        ? direction > 0
          ? this.posStart
          : this.negStart
        : this.lastZIndex[Math.max(0, first)];
      this.openAlarm(i, direction, onset, seasonal, shape);
      this.duringAlarm(i, shape, residual, sigma);
      return;
    }
    this.innovations[this.type].push(Math.abs(deviation - pattern));
    this.store(i, value, shape, seasonal, expected, pattern);
    this.pushNormal(residual - pattern, value - pattern);
    this.maybeEndShadow(i, sigma);
  }

  /** The level a normal point is judged against (NaN while too little data). */
  private expectedLevel(seasonal: boolean, shape = NaN): number {
    if (!seasonal) return this.line().level;
    const level = this.levels.level(this.type);
    // Seasonal history has just begun (a workload a day old): until the residuals give a
    // level, the trailing line does, in residual units, so the first day's events are
    // judged and remembered like any other.
    return Number.isNaN(level) ? this.line().level - shape : level;
  }

  /** The robust line through the trailing window, at the current point. */
  private line(): { level: number; slope: number } {
    const minHalf = MIN_WINDOW_POINTS >> 1;
    if (this.trendA.count >= minHalf && this.trendB.count >= minHalf) {
      const a = this.trendA.median();
      const slope = (a - this.trendB.median()) / this.trendHalf;
      return { level: a + (slope * (this.trendHalf + 1)) / 2, slope };
    }
    if (this.trendA.count >= MIN_WINDOW_POINTS) return { level: this.trendA.median(), slope: 0 };
    return { level: NaN, slope: 0 };
  }

  /**
   * The deviation this point repeats, or 0: the median of the deviations at the same time
   * on earlier days and weeks that agree with it, when at least two do.
   */
  private patternAt(i: number, deviation: number, agree: number): number {
    if (Math.abs(deviation) <= agree) return 0;
    const matching: number[] = [];
    const seen = new Set<number>();
    for (const lag of [...this.lagPoints, ...this.weeklyLags]) {
      const j = i - lag;
      if (j < this.halfWidth || seen.has(j)) continue;
      seen.add(j);
      // The closest of the three points around that time: an edge may fall a step apart.
      let earlier = NaN;
      for (let k = j - 1; k <= j + 1; k++) {
        const d = this.deviation[k];
        if (Number.isNaN(d)) continue;
        if (Number.isNaN(earlier) || Math.abs(d - deviation) < Math.abs(earlier - deviation)) {
          earlier = d;
        }
      }
      if (Math.abs(earlier - deviation) <= agree) matching.push(earlier);
    }
    return matching.length >= 2 ? medianOf(matching) : 0;
  }

  private openAlarm(
    i: number,
    direction: 1 | -1,
    onset: number,
    seasonal: boolean,
    shape: number,
  ): void {
    const line = this.line();
    const level = seasonal ? this.expectedLevel(true, shape) : line.level;
    // (Not when the level was borrowed from the other day type: a first weekend is not a
    // change of a known level.)
    if (Number.isNaN(this.shadowLevel) && (!seasonal || this.levels.has(this.type))) {
      this.shadowLevel = level;
      this.shadowSeasonal = seasonal;
      this.shadowSince = onset;
    }
    this.alarm = {
      onset,
      direction,
      level,
      slope: seasonal ? 0 : line.slope,
      at: i,
      seasonal,
      type: this.type,
      lastAnomalous: i,
      recent: [],
    };
    // The points since the onset were judged normal; they belong to the change.
    for (let j = onset; j < i; j++) {
      if (Number.isNaN(this.y[j])) continue;
      this.scores[j] = Math.max(ALERT_SCORE, this.scores[j]);
      this.shape[j] = NaN;
      // Its fallback shape becomes what was expected there (value − its deviation − level).
      if (!Number.isNaN(this.reference[j])) {
        this.reference[j] = seasonal ? this.y[j] - this.deviation[j] - level : level - this.base;
      }
    }
    this.sPos = 0;
    this.sNeg = 0;
    this.lastZ = [];
    this.lastZIndex = [];
  }

  private duringAlarm(i: number, shape: number, residual: number, sigma: number) {
    const alarm = this.alarm!;
    const expected = alarm.level + alarm.slope * (i - alarm.at);
    const z = (residual - expected) / sigma;
    this.judged(i, this.y[i] - residual + expected, sigma, alarm.seasonal);
    const along = z * alarm.direction;
    this.scores[i] = 10 * Math.tanh(Math.abs(z) / SCORE_SCALE);
    this.deviation[i] = residual - this.shadowExpectation(alarm.seasonal, expected);
    // Anomalous points leave no shape: the seasonal median takes other days there.
    this.shape[i] = NaN;
    this.reference[i] = alarm.seasonal ? shape : expected - this.base;
    alarm.recent.push(along);
    if (alarm.recent.length > RETURN_POINTS) alarm.recent.shift();
    if (along > CUSUM_ALLOWANCE) {
      alarm.lastAnomalous = i;
      this.scores[i] = Math.max(ALERT_SCORE, this.scores[i]);
    }
    if (alarm.recent.length === RETURN_POINTS && medianOf(alarm.recent) < RETURN_Z) {
      // Back to the level from before the change: the window ends at its last anomalous point.
      this.closeAlarm(alarm.lastAnomalous, false);
      return;
    }
    if (i - alarm.onset >= this.rebaselinePoints) {
      this.scores[i] = Math.max(ALERT_SCORE, this.scores[i]);
      this.closeAlarm(i, true);
    }
  }

  /** What was expected before the latest change (its frozen level while the change is recent). */
  private shadowExpectation(seasonal: boolean, expected: number): number {
    return !Number.isNaN(this.shadowLevel) && this.shadowSeasonal === seasonal
      ? this.shadowLevel
      : expected;
  }

  private closeAlarm(last: number, rebaseline: boolean): void {
    const alarm = this.alarm!;
    this.alarm = undefined;
    let present = 0;
    let peak = 0;
    let peakAt = alarm.onset;
    for (let j = alarm.onset; j <= last; j++) {
      if (Number.isNaN(this.y[j])) continue;
      present++;
      if (this.scores[j] > peak) {
        peak = this.scores[j];
        peakAt = j;
      }
    }
    if (present >= MIN_WINDOW_ANOMALOUS_POINTS) {
      this.peaks.push({ at: peakAt, direction: alarm.direction });
      this.windows.push({
        start: this.t0 + alarm.onset * this.step,
        end: this.t0 + (last + 1) * this.step,
        score: Math.round(peak * 10) / 10,
      });
    } else {
      for (let j = alarm.onset; j <= last; j++) {
        if (!Number.isNaN(this.scores[j])) {
          this.scores[j] = Math.min(this.scores[j], ALERT_SCORE - 0.1);
        }
      }
    }
    this.sPos = 0;
    this.sNeg = 0;
    if (!rebaseline) return;
    // The change stays: its level is the new normal. Restart the trailing windows from the
    // recent points.
    if (alarm.seasonal) this.levels.rebaseline(this.type, this.recentResiduals);
    // From its onset, the window's points are normal for the new level: their shapes count.
    const level = alarm.seasonal ? this.levels.level(alarm.type) : this.base;
    for (let j = alarm.onset; j <= last; j++) {
      if (Number.isNaN(this.y[j])) continue;
      this.shape[j] = this.y[j] - level;
      this.reference[j] = this.shape[j];
    }
    this.trendA = new SlidingMedian(this.trendHalf);
    this.trendB = new SlidingMedian(this.trendHalf);
    for (const v of this.recentValues) this.pushTrend(v);
  }

  /** Ends the shadow (the pre-change level) once the level is back near it, or after a day. */
  private maybeEndShadow(i: number, sigma: number): void {
    if (Number.isNaN(this.shadowLevel)) return;
    const level = this.expectedLevel(this.shadowSeasonal);
    if (
      i - this.shadowSince > this.shadowPoints ||
      Math.abs(level - this.shadowLevel) < 2 * sigma
    ) {
      this.shadowLevel = NaN;
    }
  }

  private remember(residual: number, value: number): void {
    this.recentResiduals.push(residual);
    this.recentValues.push(value);
    if (this.recentResiduals.length > this.recentSize) {
      this.recentResiduals.shift();
      this.recentValues.shift();
    }
  }

  private pushNormal(residual: number, value: number): void {
    if (!Number.isNaN(residual) && this.previousSeasonal) this.levels.push(this.type, residual);
    this.pushTrend(value);
  }

  /** The trailing half hour goes to trendA; what leaves it, to trendB (the half hour before). */
  private pushTrend(value: number): void {
    const dropped = this.trendA.push(value);
    if (dropped !== undefined) this.trendB.push(dropped);
  }

  /**
   * Records a normal point: its shape (value − pattern − the level in force) and its
   * deviation from what was expected before the latest change.
   */
  private store(
    i: number,
    value: number,
    shape: number,
    seasonal: boolean,
    expected: number,
    pattern: number,
  ): void {
    if (seasonal) {
      const level = Number.isNaN(expected) ? this.levels.level(this.type) : expected;
      this.shape[i] = value - pattern - level;
      this.reference[i] = this.shape[i];
      this.deviation[i] = value - shape - this.shadowExpectation(true, level);
    } else {
      this.shape[i] = value - pattern - this.base;
      this.reference[i] = this.shape[i];
      this.deviation[i] = Number.isNaN(expected)
        ? NaN
        : value - this.shadowExpectation(false, expected);
    }
  }

  /**
   * The seasonal shape at point i: the median shape on up to MAX_SEASONAL_LAGS earlier
   * days of the same type (weekday or weekend; any type if there is none), smoothed by a
   * running median; NaN without history.
   */
  private seasonalShape(i: number): number {
    const shape = this.medianOverDays(i, this.shape);
    return Number.isNaN(shape) ? this.medianOverDays(i, this.reference) : shape;
  }

  private medianOverDays(i: number, store: Float64Array): number {
    const weekend = this.isWeekend(i);
    const values = this.daysScratch;
    let count = 0;
    for (const lag of this.lagPoints) {
      const j = i - lag;
      if (j < this.halfWidth) break;
      if (this.isWeekend(j) !== weekend) continue;
      const v = this.smooth(store, j);
      if (!Number.isNaN(v)) values[count++] = v;
      if (count >= MAX_SEASONAL_LAGS) break;
    }
    if (count === 0) {
      for (const lag of this.lagPoints) {
        const j = i - lag;
        if (j < this.halfWidth) break;
        const v = this.smooth(store, j);
        if (!Number.isNaN(v)) values[count++] = v;
        if (count >= MAX_SEASONAL_LAGS) break;
      }
    }
    return medianOfFirst(values, count);
  }

  /** Running median of 5 (2·halfWidth + 1) around j, NaN if fewer than half are present. */
  private smooth(values: Float64Array, j: number): number {
    const window = this.smoothScratch;
    let count = 0;
    for (let k = j - this.halfWidth; k <= j + this.halfWidth; k++) {
      if (k >= 0 && k < this.n && !Number.isNaN(values[k])) window[count++] = values[k];
    }
    return count > this.halfWidth ? medianOfFirst(window, count) : NaN;
  }

  private isWeekend(i: number): boolean {
    const day = Math.floor((this.t0 + i * this.step) / DAY);
    const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
    return weekday === 0 || weekday === 6;
  }
}
