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

export interface DetectionResult {
  /** One score per input point, same timestamps, same order. */
  scores: ScorePoint[];
  windows: AnomalyWindow[];
  summary: DetectionSummary;
  /** The step used (seconds): the one given, else the median spacing of the input. */
  step: number;
}
