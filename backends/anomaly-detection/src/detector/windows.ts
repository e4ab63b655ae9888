import type { AnomalyWindow, DetectionSummary, ScorePoint } from './types';

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
