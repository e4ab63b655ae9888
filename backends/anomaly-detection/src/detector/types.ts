/** One sample: `[unixSeconds, value]`; `null` is a gap (a missed scrape), not a zero. */
export type SeriesPoint = [number, number | null];

/** A per-point score: `[unixSeconds, 0..10]`, `null` where the point cannot be judged. */
export type ScorePoint = [number, number | null];

/** A run of anomalous points. */
export interface AnomalyWindow {
  /** Timestamp of the first anomalous point (unix seconds). */
  start: number;
  /** Timestamp of the last anomalous point plus one step: the window is `[start, end)`. */
  end: number;
  /** Peak score in the window, 0–10, rounded to 0.1. */
  score: number;
}

/** What the whole range looks like. */
export interface DetectionSummary {
  /** `unknown` when no point could be scored (too little data), else whether any window was found. */
  state: 'normal' | 'anomalous' | 'unknown';
  /** Latest non-null score, 0–10 (0 when none). */
  score: number;
  /** Highest score in the range, 0–10. */
  maxScore: number;
  /** Number of anomalous windows. */
  anomalousWindows: number;
}

/** `[unixSeconds, low, high]`: the band of normal values at a point; `null`s where not judged. */
export type BandPoint = [number, number | null, number | null];

/**
 * What a point was judged against: `seasonal`, the shape of earlier days (of the same type,
 * weekday or weekend, when there are any) on the trailing level; `trend`, a robust line
 * through the trailing hour (less than a day of history, or no earlier day there).
 */
export type Baseline = 'seasonal' | 'trend';

/** Why a window is anomalous: its peak point, in the series' own units. */
export interface WindowExplanation {
  /** Timestamp of the window's highest-scoring point. */
  peak: number;
  direction: 'up' | 'down';
  /** The value at the peak. */
  observed: number | null;
  /** The value expected there (frozen at the change's onset while the window is open). */
  expected: number | null;
  /** The band of normal values there (see DetectionResult.band). */
  low: number | null;
  high: number | null;
  /** observed ÷ expected, 3 significant digits; `null` when expected is 0 or unknown. */
  factor: number | null;
  baseline: Baseline | null;
}

export interface DetectionResult {
  /** One score per input point, same timestamps, same order. */
  scores: ScorePoint[];
  windows: AnomalyWindow[];
  summary: DetectionSummary;
  /** The step used (seconds): the one given, else the median spacing of the input. */
  step: number;
  /**
   * One per input point: the value the point was judged against, in the series' own units
   * (4 significant digits); `null` where it was not judged.
   */
  expected: SeriesPoint[];
  /**
   * One per input point: the values a point could take there without its own score reaching
   * the alert score (expected ± BAND_SIGMAS σ, transformed back to the series' units).
   */
  band: BandPoint[];
  /** One per input point: the baseline it was judged against; `null` where not judged. */
  baselines: (Baseline | null)[];
  /** One per window, in the same order as `windows`. */
  explanations: WindowExplanation[];
}
