import { TIME_RANGES, timeRangeEndingAt } from '../../../extension/src/model/time-range';
import { extensionRange, neededSamples } from '../../../scripts/bench-lib/tab';
import { planQueries } from '../../../backends/anomaly-detection/src/service/plan-queries';

describe('npm run bench, the Anomalies tab section', () => {
  it('asks for the ranges the extension asks for (timeRangeEndingAt)', () => {
    for (const { id, seconds } of TIME_RANGES) {
      for (const now of [1795303440, 1795303440.5, 1795303441, 1795305555, 1796644799]) {
        expect(extensionRange(seconds, now)).toEqual(timeRangeEndingAt(id, now));
      }
    }
  });

  it('counts the samples needed as the backend plans them, merged where they overlap', () => {
    // The plan is the documented history, so the two counts agree per metric (+1: the
    // ownership check). Where a day is not a whole number of steps (7d: 2520 s) the plan
    // rounds each lag to whole steps: a point apart per metric at most.
    for (const { seconds } of TIME_RANGES) {
      const range = extensionRange(seconds, 1796644799);
      const plan = planQueries(range);
      const needed = neededSamples(range.from, range.to, range.step, 6);
      if (86400 % range.step === 0) expect(needed).toBe(6 * plan.points + 1);
      else expect(Math.abs(needed - (6 * plan.points + 1))).toBeLessThanOrEqual(6);
    }
    const hour = extensionRange(3600, 1796644799);
    expect(planQueries(hour).ranges).toHaveLength(5);
  });
});
