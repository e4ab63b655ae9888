import { generateEvalSet } from '../../../backends/anomaly-detection/src/eval/eval-set';
import { formatReport, runEval } from '../../../backends/anomaly-detection/src/eval/run-eval';
import { matches } from '../../../backends/anomaly-detection/src/eval/score-eval';

describe('evaluation set', () => {
  it('is the same on every run (seeded)', () => {
    expect(generateEvalSet()[7].points.slice(0, 50)).toEqual(
      generateEvalSet()[7].points.slice(0, 50),
    );
  });

  it('meets the targets of issue 4', () => {
    const { failures } = formatReport(runEval());
    expect(failures).toEqual([]);
  });

  it('matches a window overlapping a label, or within an hour after it ends', () => {
    const label = { type: 'spike' as const, start: 1000, end: 2000 };
    expect(matches({ start: 1500, end: 1600, score: 9 }, label)).toBe(true);
    expect(matches({ start: 5500, end: 5600, score: 9 }, label)).toBe(true);
    expect(matches({ start: 5600, end: 5700, score: 9 }, label)).toBe(false);
    expect(matches({ start: 0, end: 1000, score: 9 }, label)).toBe(false);
  });
});
