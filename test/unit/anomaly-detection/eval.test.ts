import { generateEvalSet } from '../../../backends/anomaly-detection/src/eval/eval-set';
import {
  formatReport,
  MAX_FALSE_POSITIVES_PER_CLEAN_DAY,
  MAX_FLAGGED_RECURRENCES,
  runEval,
} from '../../../backends/anomaly-detection/src/eval/run-eval';
import { matches, scoreOutcomes } from '../../../backends/anomaly-detection/src/eval/score-eval';

describe('evaluation set', () => {
  const report = runEval();

  it('is the same on every run (seeded)', () => {
    expect(generateEvalSet()[7].points.slice(0, 50)).toEqual(
      generateEvalSet()[7].points.slice(0, 50),
    );
  });

  it('has every family, at 60 s and 300 s steps', () => {
    const set = generateEvalSet();
    const families = new Set(set.map((s) => s.family));
    for (const family of [
      'spike',
      'level_shift',
      'factor_change',
      'drift',
      'clean',
      'past_incident',
      'weekly_job',
      'sparse_counter',
      'daily_edges',
      'short_history',
    ]) {
      expect(families.has(family as never)).toBe(true);
    }
    expect(new Set(set.map((s) => s.step))).toEqual(new Set([60, 300]));
    // A sparse counter is mostly 0 with occasional small counts.
    const sparse = set.find((s) => s.family === 'sparse_counter')!;
    const values = sparse.points.map(([, v]) => v).filter((v): v is number => v !== null);
    expect(values.every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    expect(values.filter((v) => v === 0).length / values.length).toBeGreaterThan(0.7);
    // A new workload: a few hours of history before the scored range.
    const young = set.find((s) => s.family === 'short_history')!;
    const history = young.scoredFrom - young.points[0][0];
    expect(history).toBeGreaterThanOrEqual(2 * 3600);
    expect(history).toBeLessThanOrEqual(6 * 3600);
    // factor_change (a ×1.5 release) is labelled as a level shift at its onset.
    const release = set.find((s) => s.family === 'factor_change')!;
    expect(release.labels).toHaveLength(1);
    expect(release.labels[0].type).toBe('level_shift');
  });

  it('meets every target of the evaluation', () => {
    const { failures } = formatReport(report);
    expect(failures).toEqual([]);
  });

  it('does not echo last week’s incident nor flag a weekly job seen twice before', () => {
    expect(report.recurrencesByFamily.past_incident?.series).toBe(12);
    expect(report.recurrencesByFamily.past_incident?.flagged).toBeLessThanOrEqual(
      MAX_FLAGGED_RECURRENCES,
    );
    expect(report.recurrencesByFamily.weekly_job?.series).toBe(12);
    expect(report.recurrencesByFamily.weekly_job?.flagged).toBeLessThanOrEqual(
      MAX_FLAGGED_RECURRENCES,
    );
    for (const family of ['clean', 'sparse_counter', 'daily_edges', 'short_history'] as const) {
      expect(report.falsePositivesPerDayByFamily[family]).toBeLessThanOrEqual(
        MAX_FALSE_POSITIVES_PER_CLEAN_DAY,
      );
    }
  });

  it('matches a window starting within an hour after a label, open at most a day past it', () => {
    const label = { type: 'spike' as const, start: 1000, end: 2000 };
    expect(matches({ start: 1500, end: 1600, score: 9 }, label)).toBe(true);
    expect(matches({ start: 5500, end: 5600, score: 9 }, label)).toBe(true);
    expect(matches({ start: 5600, end: 5700, score: 9 }, label)).toBe(false);
    expect(matches({ start: 0, end: 1000, score: 9 }, label)).toBe(false);
    // A step's window that never closes is not a report of the step.
    expect(matches({ start: 1000, end: 2000 + 86400, score: 9 }, label)).toBe(true);
    expect(matches({ start: 1000, end: 2000 + 86400 + 60, score: 9 }, label)).toBe(false);
  });

  it('counts only windows reaching into the scored range', () => {
    const [series] = generateEvalSet().filter((s) => s.family === 'clean');
    const before = { start: series.scoredFrom - 7200, end: series.scoredFrom - 3600, score: 9 };
    const inside = { start: series.scoredFrom + 3600, end: series.scoredFrom + 7200, score: 9 };
    const scored = scoreOutcomes([{ series, windows: [before, inside], seconds: 0 }]);
    expect(scored.falsePositiveWindows).toBe(1);
  });
});
