import type { AnomalyWindow } from '../detector';
import type { AnomalyType, EvalSeries, Family, Span } from './eval-set';

/**
 * Slack after a label's end within which a detected window still matches it (seconds).
 * Default: 3600. Why: when an anomaly ends, the return to normal is itself a sudden change
 * that a detector flags for a while; that is the same incident, not a false alarm.
 */
export const MATCH_TOLERANCE_SECONDS = 3600;

/**
 * Matching rule: a detected window `[start, end)` matches a label `[start, end)` when they
 * overlap once the label is extended by MATCH_TOLERANCE_SECONDS after its end. A label with
 * at least one matching window is found (recall); a detected window matching any label is
 * a true positive (precision), one matching none is a false positive.
 */
export function matches(window: AnomalyWindow, label: Span): boolean {
  return window.start < label.end + MATCH_TOLERANCE_SECONDS && window.end > label.start;
}

export interface TypeScore {
  type: AnomalyType;
  labels: number;
  found: number;
  /**
   * Labels found by a window that starts before the label ends: flagged while under way,
   * not only when it returns to normal (which the match tolerance also counts as found).
   */
  foundUnderWay: number;
  detected: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface EvalReport {
  byType: TypeScore[];
  /** False-positive windows per day without a labelled anomaly, over every series. */
  falsePositivesPerCleanDay: number;
  /** The same restricted to each family. */
  falsePositivesPerDayByFamily: Partial<Record<Family, number>>;
  falsePositiveWindows: number;
  cleanDays: number;
  /**
   * Per family with recurrences (EvalSeries.recurrences): how many there are and how many
   * a detected window matches (same rule as a label). Each of those is a false positive.
   */
  recurrencesByFamily: Partial<Record<Family, { spans: number; flagged: number }>>;
}

export interface SeriesOutcome {
  series: EvalSeries;
  windows: AnomalyWindow[];
}

const TYPES: AnomalyType[] = ['spike', 'level_shift', 'drift', 'incident'];

/**
 * Precision, recall and F1 per anomaly type. Each labelled series holds one type, so the
 * detected windows of a series count towards that type's precision.
 */
export function scoreOutcomes(outcomes: readonly SeriesOutcome[]): EvalReport {
  const byType = TYPES.map((type) => {
    let labels = 0;
    let found = 0;
    let foundUnderWay = 0;
    let detected = 0;
    let truePositives = 0;
    for (const { series, windows } of outcomes) {
      const own = series.labels.filter((l) => l.type === type);
      if (own.length === 0) continue;
      labels += own.length;
      found += own.filter((l) => windows.some((w) => matches(w, l))).length;
      foundUnderWay += own.filter((l) =>
        windows.some((w) => w.start < l.end && w.end > l.start),
      ).length;
      detected += windows.length;
      truePositives += windows.filter((w) => series.labels.some((l) => matches(w, l))).length;
    }
    const precision = detected === 0 ? 1 : truePositives / detected;
    const recall = labels === 0 ? 1 : found / labels;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { type, labels, found, foundUnderWay, detected, truePositives, precision, recall, f1 };
  });

  let falsePositiveWindows = 0;
  let cleanSeconds = 0;
  const perFamily = new Map<Family, { fp: number; seconds: number }>();
  for (const { series, windows } of outcomes) {
    const fp = windows.filter((w) => !series.labels.some((l) => matches(w, l))).length;
    const span = series.points[series.points.length - 1][0] - series.points[0][0] + series.step;
    const labelled = series.labels.reduce((sum, l) => sum + (l.end - l.start), 0);
    falsePositiveWindows += fp;
    cleanSeconds += span - labelled;
    const entry = perFamily.get(series.family) ?? { fp: 0, seconds: 0 };
    entry.fp += fp;
    entry.seconds += span - labelled;
    perFamily.set(series.family, entry);
  }
  const falsePositivesPerDayByFamily: Partial<Record<Family, number>> = {};
  for (const [family, { fp, seconds }] of perFamily) {
    falsePositivesPerDayByFamily[family] = fp / (seconds / 86400);
  }
  const recurrencesByFamily: Partial<Record<Family, { spans: number; flagged: number }>> = {};
  for (const { series, windows } of outcomes) {
    if (series.recurrences.length === 0) continue;
    const entry = (recurrencesByFamily[series.family] ??= { spans: 0, flagged: 0 });
    entry.spans += series.recurrences.length;
    entry.flagged += series.recurrences.filter((r) => windows.some((w) => matches(w, r))).length;
  }
  const cleanDays = cleanSeconds / 86400;
  return {
    byType,
    falsePositivesPerCleanDay: falsePositiveWindows / cleanDays,
    falsePositivesPerDayByFamily,
    falsePositiveWindows,
    cleanDays,
    recurrencesByFamily,
  };
}
