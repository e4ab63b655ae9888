import type { AnomalyWindow } from '../detector';
import type { AnomalyType, EvalSeries, Family, Span } from './eval-set';

/**
 * Slack after a label's end within which a detected window may still start and match it
 * (seconds). Default: 3600. Why: a window that starts more than an hour after a change
 * began is late, not a report of that change; within the hour it is the same event
 * (a spike's return to normal, the detector's confirmation of a step).
 */
export const MATCH_TOLERANCE_SECONDS = 3600;

/**
 * Longest a matching window may stay open past its label's end (seconds). Default: one
 * day. Why: a step is reported as one window that closes once the detector has
 * re-baselined; a window still open a day later is the "open for the rest of the range"
 * failure, and counts as false.
 */
export const MAX_OPEN_AFTER_LABEL_SECONDS = 86400;

/**
 * Matching rule: a detected window `[start, end)` matches a label `[start, end)` when
 * they overlap once the label is extended by MATCH_TOLERANCE_SECONDS after its end, and
 * the window ends at most MAX_OPEN_AFTER_LABEL_SECONDS after the label does. A label with
 * at least one matching window is found (recall); a detected window matching any label is
 * a true positive (precision), one matching none is a false positive.
 */
export function matches(window: AnomalyWindow, label: Span): boolean {
  return overlaps(window, label) && window.end <= label.end + MAX_OPEN_AFTER_LABEL_SECONDS;
}

/** Overlap with the span extended by MATCH_TOLERANCE_SECONDS after its end. */
function overlaps(window: AnomalyWindow, span: Span): boolean {
  return window.start < span.end + MATCH_TOLERANCE_SECONDS && window.end > span.start;
}

export interface TypeScore {
  type: AnomalyType;
  labels: number;
  found: number;
  /** Labels found by a window that starts before the label ends (not only after it). */
  foundUnderWay: number;
  detected: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface EvalReport {
  byType: TypeScore[];
  /** False-positive windows per day without a labelled anomaly, over every scored range. */
  falsePositivesPerCleanDay: number;
  /** The same restricted to each family. */
  falsePositivesPerDayByFamily: Partial<Record<Family, number>>;
  falsePositiveWindows: number;
  cleanDays: number;
  /**
   * Per family with recurrences (EvalSeries.recurrences): how many series have them and
   * in how many series a detected window overlaps one (an echo). Each is also a false
   * positive.
   */
  recurrencesByFamily: Partial<Record<Family, { series: number; flagged: number }>>;
  /** Longest time the detector took on one series (seconds), and which. */
  slowestSeries: { name: string; seconds: number };
}

export interface SeriesOutcome {
  series: EvalSeries;
  windows: AnomalyWindow[];
  /** Time the detector took on the series (seconds). */
  seconds: number;
}

const TYPES: AnomalyType[] = ['spike', 'level_shift', 'drift', 'burst'];

/** The windows that count: those reaching into the scored range. */
export function scoredWindows(series: EvalSeries, windows: readonly AnomalyWindow[]) {
  return windows.filter((w) => w.end > series.scoredFrom);
}

/**
 * Precision, recall and F1 per anomaly type. Each labelled series holds one type, so the
 * detected windows of a series count towards that type's precision.
 */
export function scoreOutcomes(outcomes: readonly SeriesOutcome[]): EvalReport {
  const scored = outcomes.map((o) => ({ ...o, windows: scoredWindows(o.series, o.windows) }));
  const byType = TYPES.map((type) => {
    let labels = 0;
    let found = 0;
    let foundUnderWay = 0;
    let detected = 0;
    let truePositives = 0;
    for (const { series, windows } of scored) {
      const own = series.labels.filter((l) => l.type === type);
      if (own.length === 0) continue;
      labels += own.length;
      found += own.filter((l) => windows.some((w) => matches(w, l))).length;
      foundUnderWay += own.filter((l) =>
        windows.some((w) => matches(w, l) && w.start < Math.max(l.end, l.start + 1800)),
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
  for (const { series, windows } of scored) {
    const fp = windows.filter((w) => !series.labels.some((l) => matches(w, l))).length;
    const last = series.points[series.points.length - 1][0] + series.step;
    const labelled = series.labels.reduce((sum, l) => sum + (l.end - l.start), 0);
    const clean = last - series.scoredFrom - labelled;
    falsePositiveWindows += fp;
    cleanSeconds += clean;
    const entry = perFamily.get(series.family) ?? { fp: 0, seconds: 0 };
    entry.fp += fp;
    entry.seconds += clean;
    perFamily.set(series.family, entry);
  }
  const falsePositivesPerDayByFamily: Partial<Record<Family, number>> = {};
  for (const [family, { fp, seconds }] of perFamily) {
    falsePositivesPerDayByFamily[family] = fp / (seconds / 86400);
  }
  const recurrencesByFamily: Partial<Record<Family, { series: number; flagged: number }>> = {};
  for (const { series, windows } of scored) {
    if (series.recurrences.length === 0) continue;
    const entry = (recurrencesByFamily[series.family] ??= { series: 0, flagged: 0 });
    entry.series++;
    if (series.recurrences.some((r) => windows.some((w) => overlaps(w, r)))) entry.flagged++;
  }
  const slowest = outcomes.reduce(
    (a, o) => (o.seconds > a.seconds ? { name: o.series.name, seconds: o.seconds } : a),
    { name: '-', seconds: 0 },
  );
  const cleanDays = cleanSeconds / 86400;
  return {
    byType,
    falsePositivesPerCleanDay: falsePositiveWindows / cleanDays,
    falsePositivesPerDayByFamily,
    falsePositiveWindows,
    cleanDays,
    recurrencesByFamily,
    slowestSeries: slowest,
  };
}
