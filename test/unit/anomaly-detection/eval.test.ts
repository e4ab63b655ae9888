import { generateEvalSet } from '../../../backends/anomaly-detection/src/eval/eval-set';
import {
  formatReports,
  MAX_FALSE_POSITIVES_PER_CLEAN_DAY,
  runEval,
} from '../../../backends/anomaly-detection/src/eval/run-eval';
import { matches } from '../../../backends/anomaly-detection/src/eval/score-eval';

describe('evaluation set', () => {
  const standard = runEval('standard');
  const twoWeeks = runEval('two_weeks_history');

  it('is the same on every run (seeded)', () => {
    expect(generateEvalSet()[7].points.slice(0, 50)).toEqual(
      generateEvalSet()[7].points.slice(0, 50),
    );
  });

  it('meets the targets of issue 4, with and without two weeks of history', () => {
    const { failures } = formatReports({ standard, two_weeks_history: twoWeeks });
    expect(failures).toEqual([]);
  });

  it('does not flag a weekly job seen on the two previous weeks', () => {
    const weekly = generateEvalSet().filter((s) => s.family === 'weekly_job');
    expect(weekly).toHaveLength(10);
    for (const series of weekly) {
      expect(series.labels.filter((l) => l.type === 'incident')).toHaveLength(2);
      expect(series.recurrences).toHaveLength(1);
    }
    // Measured: 0 of 10 third occurrences flagged, 0 false positives per clean day (10 of
    // 10 and 0.083 without the weekly pattern). The bounds leave a little slack for noise.
    const weeklyFalsePositives = standard.falsePositivesPerDayByFamily.weekly_job ?? Infinity;
    expect(weeklyFalsePositives).toBeLessThanOrEqual(MAX_FALSE_POSITIVES_PER_CLEAN_DAY);
    expect(weeklyFalsePositives).toBeLessThan(0.02);
    expect(standard.recurrencesByFamily.weekly_job?.spans).toBe(10);
    expect(standard.recurrencesByFamily.weekly_job?.flagged).toBeLessThanOrEqual(1);
    // The first and second occurrences are still found, and so is last week's one-off
    // incident, which does not make the same hours this week normal.
    expect(standard.byType.find((s) => s.type === 'incident')).toMatchObject({
      labels: 30,
      found: 30,
    });
    expect(standard.recurrencesByFamily.past_incident?.flagged).toBe(0);
  });

  it('still flags drifts while under way when the weekly pattern is in play', () => {
    // The weekly path has its own drift detector; without it (a short baseline only) the
    // weekly reference would follow a slow ramp and hide it until its end (README.md).
    const drift = twoWeeks.byType.find((s) => s.type === 'drift')!;
    expect(drift.foundUnderWay / drift.labels).toBeGreaterThanOrEqual(0.4);
  });

  it('matches a window overlapping a label, or within an hour after it ends', () => {
    const label = { type: 'spike' as const, start: 1000, end: 2000 };
    expect(matches({ start: 1500, end: 1600, score: 9 }, label)).toBe(true);
    expect(matches({ start: 5500, end: 5600, score: 9 }, label)).toBe(true);
    expect(matches({ start: 5600, end: 5700, score: 9 }, label)).toBe(false);
    expect(matches({ start: 0, end: 1000, score: 9 }, label)).toBe(false);
  });
});
