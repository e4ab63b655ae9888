import {
  ALERT_SCORE,
  MAX_NORMAL_POINTS_IN_WINDOW,
  MIN_WINDOW_ANOMALOUS_POINTS,
} from './parameters';
import type { AnomalyWindow, DetectionSummary, ScorePoint } from './types';

/**
 * Groups anomalous grid points (score ≥ ALERT_SCORE) into windows. Gaps (NaN) neither
 * extend nor close a window; up to MAX_NORMAL_POINTS_IN_WINDOW normal points in a row are
 * absorbed; a window with fewer than MIN_WINDOW_ANOMALOUS_POINTS anomalous points is dropped.
 */
export function findWindows(scores: Float64Array, t0: number, step: number): AnomalyWindow[] {
  const windows: AnomalyWindow[] = [];
  let first = -1;
  let last = -1;
  let anomalous = 0;
  let peak = 0;
  let normalRun = 0;

  const close = (): void => {
    if (first >= 0 && anomalous >= MIN_WINDOW_ANOMALOUS_POINTS) {
      windows.push({
        start: t0 + first * step,
        end: t0 + (last + 1) * step,
        score: Math.round(peak * 10) / 10,
      });
    }
    first = -1;
    anomalous = 0;
    peak = 0;
    normalRun = 0;
  };

  for (let i = 0; i < scores.length; i++) {
    const score = scores[i];
    if (Number.isNaN(score)) continue;
    if (score >= ALERT_SCORE) {
      if (first < 0) first = i;
      last = i;
      anomalous++;
      peak = Math.max(peak, score);
      normalRun = 0;
    } else if (first >= 0 && ++normalRun > MAX_NORMAL_POINTS_IN_WINDOW) {
      close();
    }
  }
  close();
  return windows;
}

/** The summary of a scored range (see DetectionSummary). */
export function summarize(
  scores: readonly ScorePoint[],
  windows: readonly AnomalyWindow[],
): DetectionSummary {
  const known = scores.map(([, s]) => s).filter((s): s is number => s !== null);
  if (known.length === 0) {
    return { state: 'unknown', score: 0, maxScore: 0, anomalousWindows: 0 };
  }
  return {
    state: windows.length > 0 ? 'anomalous' : 'normal',
    score: known[known.length - 1],
    maxScore: known.reduce((a, b) => Math.max(a, b), 0),
    anomalousWindows: windows.length,
  };
}
